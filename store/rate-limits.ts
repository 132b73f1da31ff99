import { RateLimiterMemory, RateLimiterPostgres, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Database } from './db';

/** The table migration 017 creates for rate-limiter-flexible (the library's own shape). */
const TABLE = 'rate_limits';

/** One limit: at most `points` consumptions per key in each window of `durationSeconds` (a fixed window from the key's first use). */
export interface RateLimitSpec {
  /** Prefixes every key (`name:key`): limits sharing the table never share a budget. */
  name: string;
  points: number;
  durationSeconds: number;
}

/**
 * A rate limiter (rate-limiter-flexible) for `spec`, shared by every process on the store:
 * - on PostgreSQL, RateLimiterPostgres on the store's pool and the `rate_limits` table: every API
 *   replica consumes from the same budget (one atomic upsert per consumption). A key past its
 *   budget is then refused from this process's memory until its window ends, without a query. If
 *   PostgreSQL fails, an in-memory limiter with the same spec stands in (each process then
 *   enforces its own share) rather than the request failing;
 * - on PGlite (embedded: one process holds the store), RateLimiterMemory, in this process.
 * Construct once per process (the composition root): each instance keeps its in-memory part.
 * `consume(key)` resolves while within budget and rejects with a RateLimiterRes (its
 * `msBeforeNext`: until the window ends) past it; with no store behind, it never rejects with an Error.
 */
export function createRateLimiter(db: Pick<Database, 'kind' | 'pool'> | null, spec: RateLimitSpec): RateLimiterAbstract {
  const options = { keyPrefix: spec.name, points: spec.points, duration: spec.durationSeconds };
  if (db?.kind !== 'postgres' || !db.pool) return new RateLimiterMemory(options);
  return new RateLimiterPostgres({
    ...options,
    storeClient: db.pool,
    storeType: 'pool',
    tableName: TABLE,
    tableCreated: true,
    inMemoryBlockOnConsumed: spec.points + 1,
    insuranceLimiter: new RateLimiterMemory(options),
  });
}
