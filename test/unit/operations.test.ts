// GET /readyz, /healthz and /metrics against real parts where it matters: PGlite as the store, a
// Temporal address that refuses connections, providers that answer, refuse or never answer; the
// worker's metrics server; the Temporal SDK's Prometheus exporter in a process of its own.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import Koa from 'koa';
import { type OperationsDeps, httpMetrics, operationsRoutes } from '../../api/routes/operations/operations';
import { errorMiddleware } from '../../api/errors';
import { startMetricsServer } from '../../app/metrics-server';
import { readinessChecks } from '../../app/operations';
import { createLogger } from '../../logger';
import { openDatabase } from '../../store/db';

const logger = createLogger('operations-test', () => undefined);

/** A port nothing listens on (taken from the OS, then freed). */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** The operations routes alone, as createApp mounts them (metrics middleware, error middleware). */
async function serve(deps: Omit<OperationsDeps, 'logger'>): Promise<{ url: string; close(): void }> {
  const app = new Koa();
  app.silent = true;
  app.use(httpMetrics());
  app.use(errorMiddleware(logger));
  app.use(operationsRoutes({ ...deps, logger }).routes());
  const server = createServer(app.callback());
  const url = await listen(server);
  return { url, close: () => server.close() };
}

describe('GET /readyz', () => {
  const closers: (() => unknown)[] = [];
  after(async () => {
    for (const close of closers.reverse()) await close();
  });

  it('names each failing check: Temporal refusing, a provider that never answers, the store once closed', async () => {
    const db = await openDatabase({});
    closers.push(() => db.close().catch(() => undefined));
    // A provider that answers (any status counts as reachable), and one that never does.
    const answering = createServer((_req, res) => res.writeHead(404).end());
    const silent = createServer(() => undefined);
    const answeringUrl = await listen(answering);
    const silentUrl = await listen(silent);
    closers.push(() => answering.close(), () => silent.closeAllConnections(), () => silent.close());
    const temporal = Connection.lazy({ address: `127.0.0.1:${await closedPort()}` });
    closers.push(() => temporal.close());

    const api = await serve({
      readiness: readinessChecks(temporal, db, { oxlin: answeringUrl, flinks: silentUrl }),
      readinessTimeoutMs: 1_000,
    });
    closers.push(api.close);
    const started = Date.now();
    const response = await fetch(`${api.url}/readyz`);
    assert.ok(Date.now() - started < 5_000, 'each check is cut short by its timeout');
    assert.equal(response.status, 503);
    const body = (await response.json()) as { error: { code: string; message: string; details: { failing: string[]; checks: Record<string, { status: string; reason?: string }> } } };
    assert.equal(body.error.code, 'not_ready');
    assert.deepEqual(body.error.details.failing.sort(), ['provider:flinks', 'temporal']);
    assert.match(body.error.message, /temporal/);
    assert.equal(body.error.details.checks.store?.status, 'ok');
    assert.equal(body.error.details.checks['provider:oxlin']?.status, 'ok');
    assert.equal(body.error.details.checks['provider:flinks']?.reason, 'timeout');
    // No host, port or URL in what a public probe reads.
    assert.ok(!JSON.stringify(body).includes('127.0.0.1'), JSON.stringify(body));

    await db.close();
    const down = (await (await fetch(`${api.url}/readyz`)).json()) as typeof body;
    assert.ok(down.error.details.failing.includes('store'), JSON.stringify(down));
    assert.equal(down.error.details.checks.store?.status, 'failed');
  });

  it('probes arriving together share one run of the checks: a flood of /readyz is no flood of calls to the providers', async () => {
    let calls = 0;
    const api = await serve({ readiness: [{ name: 'provider:oxlin', check: async () => void (calls++, await new Promise((r) => setTimeout(r, 200))) }] });
    closers.push(api.close);
    const answers = await Promise.all(Array.from({ length: 50 }, () => fetch(`${api.url}/readyz`)));
    assert.ok(answers.every((a) => a.status === 200));
    assert.equal(calls, 1);
    // A probe after that run has ended gets a run of its own: never a stale answer.
    assert.equal((await fetch(`${api.url}/readyz`)).status, 200);
    assert.equal(calls, 2);
  });

  it('answers 200 naming every check when all pass; /healthz is 200 regardless', async () => {
    const db = await openDatabase({});
    closers.push(() => db.close());
    const api = await serve({
      readiness: [
        { name: 'store', check: async () => void (await db.query('select 1')) },
        { name: 'temporal', check: async () => undefined },
      ],
    });
    closers.push(api.close);
    const response = await fetch(`${api.url}/readyz`);
    assert.equal(response.status, 200);
    const body = (await response.json()) as { status: string; checks: Record<string, { status: string; duration_ms: number }> };
    assert.equal(body.status, 'ready');
    assert.deepEqual(Object.keys(body.checks).sort(), ['store', 'temporal']);
    assert.ok(Object.values(body.checks).every((c) => c.status === 'ok' && Number.isInteger(c.duration_ms)));
    const health = await fetch(`${api.url}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'alive' });
  });
});

describe('GET /metrics', () => {
  it('is public without LINKFLOW_METRICS_KEY; with one, only its bearer reads it', async () => {
    const open = await serve({});
    const key = 'metrics-key-metrics-key-metrics-key-0123';
    const closed = await serve({ metricsKey: key });
    try {
      const response = await fetch(`${open.url}/metrics`);
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
      assert.match(await response.text(), /^# TYPE linkflow_http_requests_total counter$/m);

      for (const authorization of [undefined, 'Bearer wrong', `Basic ${key}`]) {
        const refused = await fetch(`${closed.url}/metrics`, { headers: authorization ? { authorization } : {} });
        assert.equal(refused.status, 401, String(authorization));
        assert.equal(refused.headers.get('www-authenticate'), 'Bearer');
        assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'unauthorized');
      }
      const allowed = await fetch(`${closed.url}/metrics`, { headers: { authorization: `Bearer ${key}` } });
      assert.equal(allowed.status, 200);
      // The key guards /metrics only: probes stay open.
      assert.equal((await fetch(`${closed.url}/healthz`)).status, 200);
    } finally {
      open.close();
      closed.close();
    }
  });

  it('counts by route pattern, never the raw path; connections by state at scrape time', async () => {
    let counted = 0;
    const api = await serve({
      connectionStates: async () => {
        counted++;
        return { active: 2, awaiting_consent: 1 };
      },
    });
    try {
      const secret = 'tok_9f8e7d6c5b4a39281706f5e4d3c2b1a0';
      assert.equal((await fetch(`${api.url}/nowhere/${secret}`)).status, 404);
      const text = await (await fetch(`${api.url}/metrics`)).text();
      assert.ok(!text.includes(secret), 'a raw path in a label');
      assert.match(text, /^linkflow_http_requests_total\{method="GET",route="unmatched",status="404"\} \d+$/m);
      assert.match(text, /^linkflow_connections\{state="active"\} 2$/m);
      assert.match(text, /^linkflow_connections\{state="awaiting_consent"\} 1$/m);
      assert.match(text, /^linkflow_connections\{state="failed"\} 0$/m);
      // Cached: a second scrape at once does not count again.
      await fetch(`${api.url}/metrics`);
      assert.equal(counted, 1);
      assert.match(await (await fetch(`${api.url}/metrics`)).text(), /^linkflow_http_requests_total\{method="GET",route="\/metrics",status="200"\} \d+$/m);
    } finally {
      api.close();
    }
  });

  it('leaves the connections gauge out of a scrape when Temporal does not answer, and still answers 200', async () => {
    const api = await serve({ connectionStates: async () => Promise.reject(new Error('UNAVAILABLE: no connection')) });
    try {
      const response = await fetch(`${api.url}/metrics`);
      assert.equal(response.status, 200);
      assert.doesNotMatch(await response.text(), /^linkflow_connections\{/m);
    } finally {
      api.close();
    }
  });
});

describe('worker metrics', () => {
  it("the worker's own server: GET /metrics, 404 elsewhere, 405 for other methods", async () => {
    const server = await startMetricsServer(await closedPort(), '127.0.0.1');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const response = await fetch(`${url}/metrics`);
      assert.equal(response.status, 200);
      const text = await response.text();
      for (const name of ['linkflow_provider_request_duration_seconds', 'linkflow_provider_request_errors_total', 'linkflow_webhook_deliveries_total']) {
        assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'));
      }
      assert.equal((await fetch(`${url}/other`)).status, 404);
      assert.equal((await fetch(`${url}/metrics`, { method: 'POST' })).status, 405);
    } finally {
      server.close();
    }
  });

  it("the Temporal SDK's Prometheus exporter serves temporal_* metrics on LINKFLOW_TEMPORAL_METRICS_PORT", { timeout: 60_000 }, async () => {
    // A process of its own: the runtime is installed once per process, and this one's is the tests'.
    const port = await closedPort();
    const script = [
      "const { installTemporalLogging, QUIET_LOG_LEVELS } = require('./worker/logging');",
      "const { Runtime } = require('@temporalio/worker');",
      `installTemporalLogging(QUIET_LOG_LEVELS, undefined, '127.0.0.1:${port}');`,
      'Runtime.instance();',
      `(async () => { for (let i = 0; i < 100; i++) { try { const r = await fetch('http://127.0.0.1:${port}/metrics'); process.stdout.write(String(r.status) + '\\n' + (await r.text())); process.exit(0); } catch { await new Promise((s) => setTimeout(s, 100)); } } process.exit(2); })();`,
    ].join('\n');
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '-e', script], { cwd: join(__dirname, '..', '..'), timeout: 50_000 });
    assert.match(stdout, /^200\n/);
  });
});
