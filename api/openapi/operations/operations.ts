// GET /metrics, GET /healthz and GET /readyz: for operators, Prometheus and orchestrators.
import { z } from 'zod';
import { HealthSchema, ReadinessSchema } from '../../routes/operations/schema';
import { COMMON } from '../errors';
import type { ErrorDoc, OperationDoc } from '../types';

const METRICS_EXAMPLE = [
  '# HELP linkflow_http_requests_total HTTP requests the API answered, by method, route pattern and status.',
  '# TYPE linkflow_http_requests_total counter',
  'linkflow_http_requests_total{method="GET",route="/v1/connections/:id",status="200"} 12',
  '# HELP linkflow_connections Running connection workflows by state.',
  '# TYPE linkflow_connections gauge',
  'linkflow_connections{state="active"} 3',
  '',
].join('\n');

const CHECKS = {
  temporal: { status: 'ok', duration_ms: 3 },
  store: { status: 'ok', duration_ms: 1 },
  'provider:oxlin': { status: 'ok', duration_ms: 8 },
};

const notReady: ErrorDoc = {
  status: 503,
  code: 'not_ready',
  when: 'A dependency did not answer within 2 s: `details.failing` names the checks that failed, `details.checks` has each one.',
  message: 'Not ready: store failed.',
  details: { failing: ['store'], checks: { ...CHECKS, store: { status: 'failed', reason: 'ECONNREFUSED', duration_ms: 2 } } },
};

const metricsUnauthorized: ErrorDoc = {
  status: 401,
  code: 'unauthorized',
  when: 'LINKFLOW_METRICS_KEY is set and the request does not carry it (with `WWW-Authenticate: Bearer`).',
  message: 'Metrics need the metrics key as "Authorization: Bearer <key>".',
};

/** The operations routes (api/routes/operations/operations.ts). */
export const operationsOperations: OperationDoc[] = [
  {
    operationId: 'getMetrics',
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics',
    description:
      "Linkflow's metrics in the Prometheus text format: HTTP requests and their durations by route pattern and status, " +
      'webhook deliveries and failures, provider calls (durations and errors) by provider, and running connections by ' +
      'state (counted from Temporal visibility at scrape time, cached 5 s). Public unless LINKFLOW_METRICS_KEY is set: then ' +
      'send it as `Authorization: Bearer <key>`. The Temporal SDK\'s own worker metrics are on the worker\'s ' +
      'LINKFLOW_TEMPORAL_METRICS_PORT, not here.',
    tags: ['Operations'],
    security: 'none',
    responses: [{ status: 200, description: 'The metrics (text/plain; version=0.0.4).', contentType: 'text/plain', schema: z.string() }],
    errors: [metricsUnauthorized, ...COMMON],
    requestExamples: [{ name: 'scrape', summary: 'What Prometheus asks' }],
    responseExamples: [{ name: 'metrics', summary: 'Abridged', body: METRICS_EXAMPLE }],
  },
  {
    operationId: 'getHealth',
    method: 'get',
    path: '/healthz',
    summary: 'Liveness',
    description: 'Answers 200 while the process runs, whatever its dependencies do (for a liveness probe: restart when it stops answering).',
    tags: ['Operations'],
    security: 'none',
    responses: [{ status: 200, description: 'The process is alive.', schema: HealthSchema }],
    errors: [...COMMON],
    requestExamples: [{ name: 'probe', summary: 'A liveness probe' }],
    responseExamples: [{ name: 'alive', summary: 'Alive', body: { status: 'alive' } }],
  },
  {
    operationId: 'getReadiness',
    method: 'get',
    path: '/readyz',
    summary: 'Readiness',
    description:
      'Checks, each within 2 s and all at once: `temporal` (the Temporal frontend answers GetSystemInfo), `store` ' +
      '(the database answers a query) and `provider:<name>` for each configured provider (its base URL answers over HTTP). ' +
      '200 when all pass; 503 `not_ready` naming the failing ones otherwise (for a readiness probe: send no traffic meanwhile).',
    tags: ['Operations'],
    security: 'none',
    responses: [{ status: 200, description: 'Every dependency answered.', schema: ReadinessSchema }],
    errors: [notReady, ...COMMON],
    requestExamples: [{ name: 'probe', summary: 'A readiness probe' }],
    responseExamples: [{ name: 'ready', summary: 'Ready', body: { status: 'ready', checks: CHECKS } }],
  },
];
