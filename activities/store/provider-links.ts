import type { Queryable } from './db';

/** Which Linkflow connection a provider connection belongs to (provider webhooks name only theirs). */
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

    /** The Linkflow connection linked to `providerConnectionId`; null when none is (a NUL byte: none can be, PostgreSQL text cannot hold it). */
    async connectionFor(provider: string, providerConnectionId: string): Promise<string | null> {
      if (providerConnectionId.includes('\u0000')) return null;
      const [row] = await db.query<{ connection_id: string }>(
        'SELECT connection_id FROM provider_connections WHERE provider = $1 AND provider_connection_id = $2',
        [provider, providerConnectionId],
      );
      return row?.connection_id ?? null;
    },
  };
}

export type ProviderLinks = ReturnType<typeof createProviderLinks>;
