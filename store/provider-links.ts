import type { Queryable } from './db';

/**
 * Which Linkflow connection a provider connection belongs to. Provider webhooks name only theirs,
 * and a provider id that arrives from a browser or a webhook is accepted only for the connection
 * it is linked to (DESIGN.md, trust rule "Nothing from a browser chooses data").
 */
export function createProviderLinks(db: Queryable) {
  return {
    /** Idempotent: the first link of a provider connection wins. */
    async link(provider: string, providerConnectionId: string, connectionId: string): Promise<void> {
      await db.query(
        `INSERT INTO provider_connections (provider, provider_connection_id, connection_id) VALUES ($1, $2, $3)
         ON CONFLICT (provider, provider_connection_id) DO NOTHING`,
        [provider, providerConnectionId, connectionId],
      );
    },

    /**
     * Links the provider connection to `connectionId` unless another connection holds it, in one
     * statement (of two connections claiming one id at once, exactly one wins). Returns the
     * connection that holds it afterwards: `connectionId` itself when claimed (or claimed before).
     */
    async claim(provider: string, providerConnectionId: string, connectionId: string): Promise<string> {
      const [row] = await db.query<{ connection_id: string }>(
        `INSERT INTO provider_connections AS p (provider, provider_connection_id, connection_id) VALUES ($1, $2, $3)
         ON CONFLICT (provider, provider_connection_id) DO UPDATE SET connection_id = p.connection_id
         RETURNING connection_id`,
        [provider, providerConnectionId, connectionId],
      );
      return row?.connection_id ?? connectionId;
    },

    /** The Linkflow connection linked to `providerConnectionId`; null when none is (a NUL byte: none can be, PostgreSQL text cannot hold it). */
    async connectionFor(provider: string, providerConnectionId: string): Promise<string | null> {
      if (providerConnectionId.includes('\u0000')) return null;
      const [row] = await db.query<{ connection_id: string }>(
        'SELECT connection_id FROM provider_connections WHERE provider = $1 AND provider_connection_id = $2',
        [provider, providerConnectionId],
      );
      return row?.connection_id ?? null;
    },

    /**
     * Forgets a provider connection once it is deleted at the provider (the client's DELETE): the
     * same bank login may then be connected again, by this end user or another connection. Idempotent.
     */
    async release(provider: string, providerConnectionId: string): Promise<void> {
      await db.query('DELETE FROM provider_connections WHERE provider = $1 AND provider_connection_id = $2', [provider, providerConnectionId]);
    },

    /** The provider connection ids linked to a Linkflow connection (one, once authorized; none before). */
    async providerConnectionsOf(provider: string, connectionId: string): Promise<string[]> {
      const rows = await db.query<{ provider_connection_id: string }>(
        'SELECT provider_connection_id FROM provider_connections WHERE provider = $1 AND connection_id = $2',
        [provider, connectionId],
      );
      return rows.map((r) => r.provider_connection_id);
    },
  };
}

export type ProviderLinks = ReturnType<typeof createProviderLinks>;
