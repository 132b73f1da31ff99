import { createHash, randomUUID } from 'node:crypto';
import { type Claim, CLAIM_LEASE_MS } from './claims';
import type { Queryable } from './db';

/** Longest event id (UTF-8 bytes) stored as it is: the primary key's btree holds at most 2704 bytes a row. */
const MAX_STORED_ID_BYTES = 1024;

/**
 * The key an event is claimed under: its id, or for one PostgreSQL cannot index or hold (too long,
 * or with a NUL byte; the provider's signature covers it all the same) its SHA-256, so that such
 * an event is claimed and signalled like any other instead of failing every delivery with a 500.
 */
function claimKey(eventId: string): string {
  if (Buffer.byteLength(eventId) <= MAX_STORED_ID_BYTES && !eventId.includes('\u0000')) return eventId;
  return `sha256:${createHash('sha256').update(eventId).digest('hex')}`;
}

/**
 * Provider webhook events, claimed by (provider, event id) before they are signalled: see
 * claims.ts for why a claim is signalled, released or taken over. The event id must be one the
 * provider's signature covers (each provider's webhook.ts says which); the provider column keeps
 * two providers' ids apart.
 */
export function createWebhookClaims(db: Queryable, leaseMs: number = CLAIM_LEASE_MS) {
  return {
    /** Claims the event: `claimed` for exactly one of any number of concurrent calls. */
    async claim(provider: string, id: string): Promise<Claim> {
      const eventId = claimKey(id);
      const token = randomUUID();
      // One statement: a new row, or a stale unsignalled one taken over; a row lock decides races.
      const won = await db.query(
        `INSERT INTO provider_webhook_events AS e (provider, event_id, claim_token, claimed_at, signalled_at)
         VALUES ($1, $2, $3, now(), NULL)
         ON CONFLICT (provider, event_id) DO UPDATE SET claim_token = EXCLUDED.claim_token, claimed_at = now()
           WHERE e.signalled_at IS NULL AND e.claimed_at < now() - $4::int * interval '1 millisecond'
         RETURNING 1`,
        [provider, eventId, token, leaseMs],
      );
      if (won.length === 1) return { outcome: 'claimed', token };
      const [row] = await db.query<{ signalled: boolean }>(
        'SELECT signalled_at IS NOT NULL AS signalled FROM provider_webhook_events WHERE provider = $1 AND event_id = $2',
        [provider, eventId],
      );
      // No row: released since the INSERT; `pending` sends the caller round again.
      return row?.signalled ? { outcome: 'signalled' } : { outcome: 'pending' };
    },

    /** The signal went through. An upsert: a claimant overtaken and then released still records it. */
    async markSignalled(provider: string, id: string): Promise<void> {
      const eventId = claimKey(id);
      await db.query(
        `INSERT INTO provider_webhook_events AS e (provider, event_id, signalled_at) VALUES ($1, $2, now())
         ON CONFLICT (provider, event_id) DO UPDATE SET signalled_at = now() WHERE e.signalled_at IS NULL`,
        [provider, eventId],
      );
    },

    /** The signal failed: the claim goes, so a redelivery is claimed afresh. Only the claimant's own token releases it. */
    async release(provider: string, id: string, token: string): Promise<void> {
      const eventId = claimKey(id);
      await db.query(
        'DELETE FROM provider_webhook_events WHERE provider = $1 AND event_id = $2 AND claim_token = $3 AND signalled_at IS NULL',
        [provider, eventId, token],
      );
    },
  };
}

export type WebhookClaims = ReturnType<typeof createWebhookClaims>;
