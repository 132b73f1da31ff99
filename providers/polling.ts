/** First wait of a poll (ms): most sandbox and many real jobs settle within a few hundred ms. */
export const FIRST_POLL_MS = 100;
/** The longest wait between two reads of a provider job when nothing configures it (ms). */
export const DEFAULT_POLL_INTERVAL_MS = 1_000;

/**
 * The waits (ms) between reads of a provider job that has not settled: FIRST_POLL_MS, doubling up
 * to `intervalMs` (the adapter's `pollIntervalMs`, OXLIN_POLL_INTERVAL_MS / POWENS_POLL_INTERVAL_MS,
 * default 1 s), then `intervalMs` for good. A job that ends at once costs ~100 ms instead of a
 * whole interval; a long one is read no more often than the interval allows. Endless: the caller
 * stops reading when the job settles (or Temporal cancels the activity on its heartbeat).
 */
export function* pollDelays(intervalMs: number = DEFAULT_POLL_INTERVAL_MS): Generator<number, never> {
  let wait = Math.min(FIRST_POLL_MS, intervalMs);
  for (;;) {
    yield wait;
    wait = Math.min(wait * 2, intervalMs);
  }
}
