import type { Middleware } from 'koa';
import { tenantOf } from './auth';
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Database } from '../store';
import { createRateLimiter } from '../store/rate-limits';
import { ApiError } from './errors';

/**
 * How often one connection's redirect may be opened (a link, or the Connect page's bank button):
 * `burst` opens in each fixed window of burst/perHour hours (apiLimiters), so `perHour` an hour and
 * up to 2 × `burst` in a row where two windows meet. Each open is a workflow update (events in
 * its history) and a provider call: anyone holding a link could otherwise grow the workflow's
 * history until Temporal refuses its updates (2,000 a run) or ends it (history size limit), and
 * spend Linkflow's quota at the provider.
 */
export const LINK_OPENS = { burst: 10, perHour: 30 } as const;

/** The API's rate limiters, built once per process (app/linkflow.ts) from the store: apiLimiters. */
export interface ApiLimiters {
  /** Per tenant: every /v1 request (rateLimit). */
  requests: RateLimiterAbstract;
  /** Per connection: each open of its redirect, by link or by the Connect page (routes/links). */
  linkOpens: RateLimiterAbstract;
}

/**
 * The API's limiters on `db` (store/rate-limits.ts: shared by every replica on PostgreSQL, in
 * this process on PGlite or with `db` null): `perMinute` requests per tenant in each minute (a
 * fixed window from the tenant's first request), and LINK_OPENS per connection — `burst` opens in
 * each window of burst/perHour hours (`perHour` an hour).
 */
export function apiLimiters(db: Pick<Database, 'kind' | 'pool'> | null, { perMinute }: { perMinute: number }): ApiLimiters {
  return {
    requests: createRateLimiter(db, { name: 'api', points: perMinute, durationSeconds: 60 }),
    linkOpens: createRateLimiter(db, {
      name: 'link-opens',
      points: LINK_OPENS.burst,
      durationSeconds: Math.round((LINK_OPENS.burst / LINK_OPENS.perHour) * 3600),
    }),
  };
}

/**
 * Consumes one point of `key` from `limiter`; past its budget, the seconds until the window ends
 * (at least 1). Errors other than the library's refusal (a store failure without insurance) are thrown.
 */
export async function consumeOrRetryAfter(limiter: RateLimiterAbstract, key: string): Promise<number | null> {
  try {
    await limiter.consume(key);
    return null;
  } catch (refused) {
    if (!(refused instanceof RateLimiterRes)) throw refused;
    return Math.max(1, Math.ceil(refused.msBeforeNext / 1000));
  }
}

/**
 * The per-tenant request limit: `limiter` (ApiLimiters.requests) consumed once per request, keyed
 * by the tenant; past its `points` a 429 `rate_limited` with Retry-After (seconds until the
 * tenant's window ends). With the store on PostgreSQL every API replica spends the same budget.
 */
export function rateLimit(limiter: RateLimiterAbstract): Middleware {
  return async (ctx, next) => {
    const retryAfter = await consumeOrRetryAfter(limiter, tenantOf(ctx).id);
    if (retryAfter !== null) {
      ctx.set('retry-after', String(retryAfter));
      throw new ApiError(429, 'rate_limited', `Too many requests: at most ${limiter.points} a minute. Retry after ${retryAfter} s.`);
    }
    await next();
  };
}

/**
 * Answers 504 when a handler takes longer than `ms` (a Temporal call that hangs, say). The work
 * it started may still finish: updates and signals are safe to retry with the same input.
 */
export function deadline(ms: number): Middleware {
  return async (ctx, next) => {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ApiError(504, 'timeout', `The request took longer than ${ms / 1000} s.`)), ms);
    });
    try {
      await Promise.race([next(), expired]);
    } finally {
      clearTimeout(timer);
    }
  };
}
