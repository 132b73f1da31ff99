import { randomUUID } from 'node:crypto';
import { type Claim, CLAIM_LEASE_MS } from './claims';
import type { Queryable } from './db';

/**
 * Redirect states, claimed by their nonce before the redirect is signalled: a state is single-use
 * even when the browser (or an attacker) replays the callback before the workflow has acted on
 * the first one. See claims.ts for why a claim is signalled, released or taken over.
 */
export function createRedirectClaims(db: Queryable, leaseMs: number = CLAIM_LEASE_MS) {
  return {
    /** Claims the nonce: `claimed` for exactly one of any number of concurrent calls. */
    async claim(nonce: string, connectionId: string): Promise<Claim> {
      const token = randomUUID();
      // One statement: a new row, or a stale unsignalled one taken over; a row lock decides races.
      const won = await db.query(
        `INSERT INTO redirect_claims AS r (nonce, connection_id, claim_token, claimed_at, signalled_at)
         VALUES ($1, $2, $3, now(), NULL)
         ON CONFLICT (nonce) DO UPDATE SET claim_token = EXCLUDED.claim_token, claimed_at = now()
           WHERE r.signalled_at IS NULL AND r.claimed_at < now() - $4::int * interval '1 millisecond'
         RETURNING 1`,
        [nonce, connectionId, token, leaseMs],
      );
      if (won.length === 1) return { outcome: 'claimed', token };
      const [row] = await db.query<{ signalled: boolean }>('SELECT signalled_at IS NOT NULL AS signalled FROM redirect_claims WHERE nonce = $1', [
        nonce,
      ]);
      return row?.signalled ? { outcome: 'signalled' } : { outcome: 'pending' };
    },

    /** The redirect was signalled (or needed no signal): the state is spent for good. */
    async markSignalled(nonce: string, connectionId: string): Promise<void> {
      await db.query(
        `INSERT INTO redirect_claims AS r (nonce, connection_id, signalled_at) VALUES ($1, $2, now())
         ON CONFLICT (nonce) DO UPDATE SET signalled_at = now() WHERE r.signalled_at IS NULL`,
        [nonce, connectionId],
      );
    },

    /** The signal failed: the state may be used again (the browser's retry). Only the claimant's own token releases it. */
    async release(nonce: string, token: string): Promise<void> {
      await db.query('DELETE FROM redirect_claims WHERE nonce = $1 AND claim_token = $2 AND signalled_at IS NULL', [nonce, token]);
    },
  };
}

export type RedirectClaims = ReturnType<typeof createRedirectClaims>;
