import type { Middleware } from 'koa';
import { tenantOf } from './auth';
import { ApiError } from './errors';

/**
 * A token bucket per tenant: `perMinute` requests a minute, in bursts of up to as many. Kept in
 * this process's memory — with several API replicas each enforces its own share.
 */
export function rateLimit(perMinute: number, now: () => number = Date.now): Middleware {
  const buckets = new Map<string, { tokens: number; at: number }>();
  const perMs = perMinute / 60_000;
  return async (ctx, next) => {
    const tenant = tenantOf(ctx).id;
    const t = now();
    const bucket = buckets.get(tenant) ?? { tokens: perMinute, at: t };
    bucket.tokens = Math.min(perMinute, bucket.tokens + (t - bucket.at) * perMs);
    bucket.at = t;
    buckets.set(tenant, bucket);
    if (bucket.tokens < 1) {
      const retryAfter = Math.ceil((1 - bucket.tokens) / perMs / 1000);
      ctx.set('retry-after', String(retryAfter));
      throw new ApiError(429, 'rate_limited', `Too many requests: at most ${perMinute} a minute. Retry after ${retryAfter} s.`);
    }
    bucket.tokens -= 1;
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
