/**
 * Exactly once at the edges (DESIGN.md, Trust rules): an inbound event — a provider webhook, a
 * redirect state — is claimed in the store, atomically, before it is signalled, and only the
 * claimant signals. Claiming is one `INSERT … ON CONFLICT … RETURNING`: PostgreSQL (and PGlite)
 * decide the winner however many deliveries arrive at once, on any number of API replicas.
 *
 * A claim is not yet "applied": the signal can still fail (Temporal unreachable) or the process
 * can die between the two. So a claim records `signalled_at` once the signal went through, and
 * - a claimant whose signal failed releases its claim (deletes it), so the provider's redelivery
 *   (it got a 5xx) is claimed afresh rather than answered `duplicate` and lost;
 * - a claim still unsignalled after CLAIM_LEASE_MS is presumed dead (its process crashed, or its
 *   release failed) and the next delivery takes it over and signals again.
 * Signalling twice is the lesser evil and is safe: the workflow drops a provider event whose id it
 * has seen, and a redirect whose nonce it has consumed. The lease only has to outlast a live
 * claimant's signal (bounded by the API's signal deadline) so that the normal case signals once.
 */
export type Claim =
  /** Yours: signal, then `markSignalled`; `release` with this token if the signal failed. */
  | { outcome: 'claimed'; token: string }
  /** Already signalled (or spent): a duplicate. */
  | { outcome: 'signalled' }
  /** Another delivery holds a fresh claim and has not signalled yet: it may still fail. */
  | { outcome: 'pending' };

/** How long an unsignalled claim keeps other deliveries out. Longer than the API's signal deadline. */
export const CLAIM_LEASE_MS = 10_000;
