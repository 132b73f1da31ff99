import type { Queryable } from './db';

export function createRedirectClaims(db: Queryable) {
  return {
    /** True for the first claim of a redirect state's nonce, false ever after. */
    async claim(nonce: string, connectionId: string): Promise<boolean> {
      const rows = await db.query(
        'INSERT INTO redirect_claims (nonce, connection_id) VALUES ($1, $2) ON CONFLICT (nonce) DO NOTHING RETURNING nonce',
        [nonce, connectionId],
      );
      return rows.length === 1;
    },
  };
}

export type RedirectClaims = ReturnType<typeof createRedirectClaims>;
