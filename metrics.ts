// Linkflow's own Prometheus metrics (prom-client), one registry per process: the API records its
// HTTP requests here, the worker's activities their provider calls and webhook deliveries. The API
// serves it at GET /metrics (with the connections by state, counted at scrape time), a worker
// process at LINKFLOW_WORKER_METRICS_PORT. The Temporal SDK's own worker metrics are the runtime's
// Prometheus exporter (LINKFLOW_TEMPORAL_METRICS_PORT, worker/logging.ts), not this registry.
// No label ever holds an id, a token or a raw path: routes are the router's patterns.
import { Counter, Histogram, Registry } from 'prom-client';

/** This process's registry: every metric below, nothing else. */
export const metricsRegistry = new Registry();

/** Seconds; from 5 ms (a cached answer) to 30 s (LINKFLOW_REQUEST_TIMEOUT_MS's default). */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** `linkflow_http_requests_total{method,route,status}`: API requests answered. */
export const httpRequests = new Counter({
  name: 'linkflow_http_requests_total',
  help: 'HTTP requests the API answered, by method, route pattern (e.g. /v1/connections/:id; "unmatched" when no route matched) and status.',
  labelNames: ['method', 'route', 'status'] as const,
  registers: [metricsRegistry],
});

/** `linkflow_http_request_duration_seconds{method,route,status}`: time to answer, in seconds. */
export const httpRequestDuration = new Histogram({
  name: 'linkflow_http_request_duration_seconds',
  help: 'Time the API took to answer, in seconds, by method, route pattern and status.',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: DURATION_BUCKETS,
  registers: [metricsRegistry],
});

/** What one attempt to deliver a webhook came to (activities/webhooks.ts). */
export type WebhookDeliveryResult = 'delivered' | 'endpoint_gone' | 'unavailable' | 'rejected' | 'forbidden';

/** `linkflow_webhook_deliveries_total{result}`: delivery attempts; every result but `delivered` and `endpoint_gone` is a failure. */
export const webhookDeliveries = new Counter({
  name: 'linkflow_webhook_deliveries_total',
  help: 'Attempts to deliver a webhook event to a client endpoint, by result: delivered (2xx), unavailable (5xx, 408, 429, timeout, refused: retried), rejected (3xx/4xx: not retried), forbidden (address not allowed), endpoint_gone (deleted or disabled).',
  labelNames: ['result'] as const,
  registers: [metricsRegistry],
});

/** `linkflow_webhook_delivery_failures_total{reason}`: the failed attempts alone. */
export const webhookDeliveryFailures = new Counter({
  name: 'linkflow_webhook_delivery_failures_total',
  help: 'Failed attempts to deliver a webhook event, by reason (unavailable, rejected, forbidden).',
  labelNames: ['reason'] as const,
  registers: [metricsRegistry],
});

/** Records one delivery attempt in both webhook counters. */
export function countWebhookDelivery(result: WebhookDeliveryResult): void {
  webhookDeliveries.inc({ result });
  if (result !== 'delivered' && result !== 'endpoint_gone') webhookDeliveryFailures.inc({ reason: result });
}

/** `linkflow_provider_request_duration_seconds{provider,method,outcome}`: calls to an aggregator's API. */
export const providerRequestDuration = new Histogram({
  name: 'linkflow_provider_request_duration_seconds',
  help: "Time a call to a provider's API took, in seconds, by provider, method and outcome (the status class 2xx/3xx/4xx/5xx, or timeout/network when no answer came).",
  labelNames: ['provider', 'method', 'outcome'] as const,
  buckets: DURATION_BUCKETS,
  registers: [metricsRegistry],
});

/** `linkflow_provider_request_errors_total{provider,reason}`: calls that got no answer or a 5xx. */
export const providerRequestErrors = new Counter({
  name: 'linkflow_provider_request_errors_total',
  help: "Calls to a provider's API that failed on the provider's side, by provider and reason: timeout, network (no answer) or 5xx.",
  labelNames: ['provider', 'reason'] as const,
  registers: [metricsRegistry],
});

/**
 * Records one provider call: `status` the answer's HTTP status, or the error fetch threw (a
 * TimeoutError is `timeout`, anything else `network`). `started` is `performance.now()` before it.
 */
export function observeProviderCall(provider: string, method: string, started: number, answer: { status: number } | { error: unknown }): void {
  const seconds = (performance.now() - started) / 1000;
  const timedOut = 'error' in answer && answer.error instanceof Error && answer.error.name === 'TimeoutError';
  const outcome = 'status' in answer ? `${Math.floor(answer.status / 100)}xx` : timedOut ? 'timeout' : 'network';
  providerRequestDuration.observe({ provider, method: method.toUpperCase(), outcome }, seconds);
  if (outcome === 'timeout' || outcome === 'network' || outcome === '5xx') providerRequestErrors.inc({ provider, reason: outcome });
}
