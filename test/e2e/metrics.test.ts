// Metrics and health of the whole Linkflow (test/helpers/linkflow.ts: dev server, worker, sandboxes,
// PGlite, API): after one lifecycle through the API the counters moved, the connection is counted
// in its state, no label holds an id or a token; /readyz names every check and fails naming the
// store once the store is down.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { type Linkflow, startLinkflow } from '../helpers/linkflow';
import { startWebhookReceiver } from '../helpers/webhooks';

/** One sample of the Prometheus text format: name, labels, value. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(match, `not a sample line: ${line}`);
    const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    samples.push({ name: match[1]!, labels: labels as Record<string, string>, value: Number(match[3]) });
  }
  return samples;
}

/** The sum of every sample of `name` whose labels include `labels`. */
const sum = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((total, s) => total + s.value, 0);

describe('metrics and health, end to end', () => {
  let lf: Linkflow;
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
  before(async () => {
    lf = await startLinkflow();
    receiver = await startWebhookReceiver();
  });
  after(async () => {
    receiver?.close();
    await lf?.stop();
  });

  const scrape = async () => {
    const response = await fetch(`${lf.api}/metrics`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    return { text, samples: parseMetrics(text) };
  };

  it('GET /healthz: 200 while the process runs', async () => {
    const response = await fetch(`${lf.api}/healthz`);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { status: 'alive' });
  });

  it('GET /readyz: 200 naming Temporal, the store and each configured provider', async () => {
    const response = await fetch(`${lf.api}/readyz`);
    const body = (await response.json()) as { status: string; checks: Record<string, { status: string }> };
    assert.equal(response.status, 200, JSON.stringify(body));
    assert.equal(body.status, 'ready');
    assert.deepEqual(Object.keys(body.checks).sort(), ['provider:flinks', 'provider:lnkfi', 'provider:oxlin', 'provider:powens', 'store', 'temporal']);
    for (const [name, check] of Object.entries(body.checks)) assert.equal(check.status, 'ok', name);
  });

  it('after one lifecycle the counters moved, the connection is counted as active, and no label holds an id or a token', async () => {
    const endpoint = await lf.call('POST', '/v1/webhook-endpoints', { url: receiver.url });
    assert.equal(endpoint.status, 201, JSON.stringify(endpoint.body));
    const before = (await scrape()).samples;

    const connection = await lf.activeRedirectConnection('metrics-user');
    // A request for a connection that is not there: counted under the pattern, not the id.
    const missing = randomUUID();
    const notThere = await lf.call('GET', `/v1/connections/${missing}`);
    assert.equal(notThere.status, 404, JSON.stringify(notThere.body));
    // A path no route has, carrying something secret-looking.
    const secret = 'lf_secretsecretsecretsecret';
    assert.equal((await fetch(`${lf.api}/nowhere/${secret}`)).status, 404);
    // The webhook events of the lifecycle reach the receiver (delivered by the worker's activity).
    for (let i = 0; i < 200 && receiver.received.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(receiver.received.length > 0, 'a webhook was delivered');

    // Visibility is eventually consistent and the gauge cached 5 s: poll until the connection shows.
    let after = (await scrape()).samples;
    for (let i = 0; i < 40 && sum(after, 'linkflow_connections', { state: 'active' }) < 1; i++) {
      await new Promise((r) => setTimeout(r, 500));
      after = (await scrape()).samples;
    }
    const moved = (name: string, labels: Record<string, string>) => sum(after, name, labels) - sum(before, name, labels);

    assert.equal(sum(after, 'linkflow_connections', { state: 'active' }), 1, `the one active connection of this Linkflow: ${lf.logs.filter((l) => l.includes('by state')).slice(0, 2).join(' | ')} ${JSON.stringify(after.filter((s) => s.name === 'linkflow_connections'))}`);
    assert.ok(moved('linkflow_http_requests_total', { method: 'POST', route: '/v1/connections', status: '201' }) >= 1);
    assert.ok(moved('linkflow_http_requests_total', { method: 'GET', route: '/v1/connections/:id', status: '200' }) >= 1);
    assert.ok(moved('linkflow_http_requests_total', { method: 'GET', route: '/v1/connections/:id', status: '404' }) >= 1);
    assert.ok(moved('linkflow_http_requests_total', { method: 'PUT', route: '/v1/connections/:id/consents', status: '200' }) >= 1);
    assert.ok(moved('linkflow_http_requests_total', { method: 'GET', route: '/connect/links/:link', status: '303' }) >= 1);
    assert.ok(moved('linkflow_http_requests_total', { method: 'GET', route: '/callbacks/:provider', status: '303' }) >= 1);
    assert.ok(moved('linkflow_http_requests_total', { route: 'unmatched', status: '404' }) >= 1);
    assert.ok(moved('linkflow_http_request_duration_seconds_count', { method: 'POST', route: '/v1/connections', status: '201' }) >= 1);
    assert.ok(moved('linkflow_provider_request_duration_seconds_count', { provider: 'oxlin', outcome: '2xx' }) >= 3, 'token, connection, accounts calls');
    assert.ok(moved('linkflow_webhook_deliveries_total', { result: 'delivered' }) >= 1);

    // Every label value: no connection id, no Connect token, no API key, no raw path.
    const session = await lf.call('POST', '/v1/connect-sessions', { redirect_url: 'https://client.example/linked' });
    assert.equal(session.status, 201, JSON.stringify(session.body));
    const connectToken = new URL(String(session.body.connect_url)).pathname.split('/').pop() ?? assert.fail('no token');
    assert.equal((await fetch(String(session.body.connect_url), { redirect: 'manual' })).status < 500, true);
    const { text } = await scrape();
    for (const leak of [connection.id, missing, secret, lf.apiKey, connectToken]) {
      assert.ok(!text.includes(leak), `/metrics holds ${leak}`);
    }
    const labelValues = new Set(parseMetrics(text).flatMap((s) => Object.values(s.labels)));
    for (const value of labelValues) assert.doesNotMatch(value, /[0-9a-f]{8}-[0-9a-f]{4}-|con_|lf_|whe_/, `label value ${value}`);
    const routes = new Set(parseMetrics(text).filter((s) => s.name === 'linkflow_http_requests_total').map((s) => s.labels.route));
    for (const route of routes) assert.match(String(route), /^(unmatched|(\/(:?[a-z][a-z_.-]*|v1))+)$/, `route ${route}`);
  });

  it('GET /readyz: 503 naming the store when the store is down; /healthz still 200', async () => {
    // Last: the store stays closed (stop() logs that closing it again failed).
    await lf.db.close();
    const response = await fetch(`${lf.api}/readyz`);
    assert.equal(response.status, 503);
    const body = (await response.json()) as { error: { code: string; message: string; details: { failing: string[] } } };
    assert.equal(body.error.code, 'not_ready');
    assert.deepEqual(body.error.details.failing, ['store']);
    assert.match(body.error.message, /store/);
    assert.equal((await fetch(`${lf.api}/healthz`)).status, 200);
  });
});
