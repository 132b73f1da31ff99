// What operators and orchestrators ask of the API itself: GET /metrics (Prometheus text format),
// GET /healthz (the process is alive) and GET /readyz (what it depends on answers). Public, no
// tenant key and no rate limit; /metrics takes LINKFLOW_METRICS_KEY as a bearer token when one is set.
import { createHash, timingSafeEqual } from 'node:crypto';
import Router from '@koa/router';
import type { Middleware } from 'koa';
import { type Registry, Gauge, Registry as PromRegistry } from 'prom-client';
import { CONNECTION_STATES, type ConnectionState } from '../../../contract/messages';
import { httpRequestDuration, httpRequests, metricsRegistry } from '../../../metrics';
import type { Logger } from '../../../logger';
import { ApiError, errorBody } from '../../errors';

/** One dependency /readyz asks: resolves when it answers, rejects (or outlasts `signal`) when not. */
export interface ReadinessCheck {
  /** `temporal`, `store`, `provider:oxlin`, …: the key in /readyz's body. */
  name: string;
  /** `signal` aborts at `deadline` (epoch ms); a check stops its own work by then (a gRPC deadline, fetch's signal). */
  check(signal: AbortSignal, deadline: number): Promise<void>;
}

/** Running connection workflows per state (Temporal visibility), for `linkflow_connections{state}`. */
export type ConnectionStateCounts = () => Promise<Partial<Record<ConnectionState, number>>>;

export interface OperationsDeps {
  /** LINKFLOW_METRICS_KEY: GET /metrics then needs it as `Authorization: Bearer <key>`; unset, /metrics is public. */
  metricsKey?: string;
  /** What /readyz checks (none: always ready). */
  readiness?: readonly ReadinessCheck[];
  /** Longest one readiness check may take, in ms (default 2000). */
  readinessTimeoutMs?: number;
  /** Counted at scrape time; without it the `linkflow_connections` gauge is not exported. */
  connectionStates?: ConnectionStateCounts;
  logger: Logger;
}

/** The status of one check in /readyz's body: `ok`, or `failed` with a short reason (an error code, `timeout`). */
export interface CheckResult {
  status: 'ok' | 'failed';
  reason?: string;
  duration_ms: number;
}

/**
 * Counts every request in `linkflow_http_requests_total` and `linkflow_http_request_duration_seconds`
 * under the route pattern the router matched (`/v1/connections/:id`), never the raw path (ids and
 * Connect tokens stay out of labels); `unmatched` when no route did. Mounted first, so the status is
 * the one the client got, errors included.
 */
export function httpMetrics(): Middleware {
  return async (ctx, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      const matched = (ctx as { _matchedRoute?: unknown })._matchedRoute;
      const labels = { method: ctx.method, route: typeof matched === 'string' ? matched : 'unmatched', status: String(ctx.status) };
      httpRequests.inc(labels);
      httpRequestDuration.observe(labels, (performance.now() - started) / 1000);
    }
  };
}

/** `linkflow_connections{state}` in a registry of its own, counted by `counts` at most every `cacheMs`. */
function connectionGauge(counts: ConnectionStateCounts, logger: Logger, cacheMs = 5_000): Registry {
  const registry = new PromRegistry();
  let cached: { at: number; values: Promise<Partial<Record<ConnectionState, number>>> } | undefined;
  new Gauge({
    name: 'linkflow_connections',
    help: 'Running connection workflows by state (Temporal visibility, counted at scrape time, cached 5 s).',
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      if (!cached || performance.now() - cached.at > cacheMs) cached = { at: performance.now(), values: counts() };
      this.reset();
      try {
        const values = await cached.values;
        for (const state of CONNECTION_STATES) this.set({ state }, values[state] ?? 0);
      } catch (err) {
        cached = undefined;
        // Temporal unreachable: the gauge is left out of this scrape rather than failing it.
        logger.warn('connections by state could not be counted', { error: String(err) });
      }
    },
  });
  return registry;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest();

/** Resolves to `check`'s result, or a failure once `timeoutMs` has passed. */
async function runCheck(check: ReadinessCheck, timeoutMs: number): Promise<CheckResult> {
  const started = performance.now();
  const deadline = Date.now() + timeoutMs;
  const signal = AbortSignal.timeout(timeoutMs);
  const elapsed = () => Math.round(performance.now() - started);
  const timedOut = new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(new Error('timeout')), { once: true }));
  try {
    await Promise.race([check.check(signal, deadline), timedOut]);
    return { status: 'ok', duration_ms: elapsed() };
  } catch (err) {
    return { status: 'failed', reason: failureReason(err, signal), duration_ms: elapsed() };
  }
}

/** A short reason that names no host or credential: `timeout`, an error code (`ECONNREFUSED`), or `error`. */
function failureReason(err: unknown, signal: AbortSignal): string {
  if (signal.aborted) return 'timeout';
  const code = (err as { code?: unknown; cause?: { code?: unknown } }).code ?? (err as { cause?: { code?: unknown } }).cause?.code;
  if (typeof code === 'string' && /^[A-Z0-9_]{2,40}$/.test(code)) return code;
  if (err instanceof Error && /^[a-z][a-z _]{2,40}$/.test(err.message)) return err.message;
  return 'error';
}

/** GET /metrics, GET /healthz, GET /readyz. */
export function operationsRoutes(deps: OperationsDeps): Router {
  const router = new Router({ sensitive: true });
  const registries: Registry[] = [metricsRegistry];
  if (deps.connectionStates) registries.push(connectionGauge(deps.connectionStates, deps.logger));
  const registry = registries.length === 1 ? metricsRegistry : PromRegistry.merge(registries);
  const expectedKey = deps.metricsKey ? sha256(deps.metricsKey) : null;

  router.get('/metrics', async (ctx) => {
    if (expectedKey) {
      const key = /^Bearer\s+(\S+)$/i.exec(ctx.get('authorization'))?.[1];
      if (!key || !timingSafeEqual(sha256(key), expectedKey)) {
        ctx.set('www-authenticate', 'Bearer');
        throw new ApiError(401, 'unauthorized', 'Metrics need the metrics key as "Authorization: Bearer <key>".');
      }
    }
    ctx.type = registry.contentType;
    ctx.body = await registry.metrics();
  });

  router.get('/healthz', (ctx) => {
    ctx.set('cache-control', 'no-store');
    ctx.body = { status: 'alive' };
  });

  // /readyz is public and each run calls every provider: probes arriving while a run is under way
  // share its results, so a flood of probes is not a flood of calls to the providers (one at a time).
  const checks = deps.readiness ?? [];
  let running: Promise<CheckResult[]> | undefined;
  const runChecks = (): Promise<CheckResult[]> =>
    (running ??= Promise.all(checks.map((c) => runCheck(c, deps.readinessTimeoutMs ?? 2_000))).finally(() => {
      running = undefined;
    }));

  router.get('/readyz', async (ctx) => {
    const results = await runChecks();
    const byName = Object.fromEntries(checks.map((c, i) => [c.name, results[i]!]));
    const failing = checks.filter((_, i) => results[i]!.status === 'failed').map((c) => c.name);
    ctx.set('cache-control', 'no-store');
    if (failing.length === 0) {
      ctx.body = { status: 'ready', checks: byName };
      return;
    }
    // Answered here rather than thrown: a probe that fails is no error of the API's to log every few seconds.
    const error = new ApiError(503, 'not_ready', `Not ready: ${failing.join(', ')} failed.`, { failing, checks: byName });
    ctx.status = error.status;
    ctx.body = errorBody(error, ctx.response.get('x-request-id') || undefined);
  });
  return router;
}
