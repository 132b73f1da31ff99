// Adversarial review of issue 14 (operating Linkflow: the payload codec and its endpoint, logs,
// metrics): requests an outsider can send against a real Linkflow (embedded: dev server, worker,
// sandboxes, API on loopback), and what must hold. Each test states it.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { type Linkflow, startLinkflow } from '../helpers/linkflow';

const UI = 'http://localhost:8233';

/** Every .ts file under `dir`, recursively. */
const sources = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));

describe('issue 14 under attack', () => {
  let lf: Linkflow;
  const send = (method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}) =>
    fetch(`${lf.api}${path}`, { method, headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers }, body });

  before(async () => {
    lf = await startLinkflow({ uiOrigin: UI });
  });
  after(async () => {
    await lf?.stop();
  });

  it('a path in other letter case is no way around a guard: no codec without the admin key, no tenant without it, no 5xx', async () => {
    const empty = JSON.stringify({ payloads: [] });
    // @koa/router ran /CODEC/decode's route but not the router's admin guard (router.use matched case-sensitively).
    for (const path of ['/CODEC/decode', '/CODEC/encode', '/Codec/decode', '/codec/DECODE']) {
      for (const headers of <Record<string, string>[]>[{}, { origin: 'null' }, { authorization: `Bearer ${lf.apiKey}` }]) {
        const answer = await send('POST', path, empty, headers);
        assert.equal(answer.status, 404, `${path} ${JSON.stringify(headers)}: ${await answer.text()}`);
      }
    }
    // The codec exists at exactly its two paths (what app.ts exempts from the global body parser and gives CORS).
    const slash = await send('POST', '/codec/decode/', empty, { authorization: `Bearer ${lf.adminKey}` });
    assert.equal(slash.status, 404, await slash.text());
    // The admin routes: a tenant and its API key for anyone.
    for (const path of ['/V1/ADMIN/tenants', '/v1/Admin/tenants', '/V1/admin/tenants']) {
      const answer = await send('POST', path, JSON.stringify({ name: 'intruder' }));
      assert.equal(answer.status, 404, `${path}: ${await answer.text()}`);
    }
    const [intruders] = await lf.db.query<{ n: number }>(`select count(*)::int as n from tenants where name = 'intruder'`);
    assert.equal(intruders?.n, 0);
    // Tenant routes without their tenant: a 404, not a 500 from a handler that ran without auth.
    for (const path of ['/V1/connections', '/V1/WEBHOOK-ENDPOINTS', '/V1/INSTITUTIONS']) {
      const answer = await send('GET', path);
      assert.equal(answer.status, 404, `${path}: ${await answer.text()}`);
    }
    // The real paths still answer as before.
    assert.equal((await send('POST', '/codec/decode', empty)).status, 401);
    assert.equal((await send('POST', '/codec/decode', empty, { authorization: `Bearer ${lf.adminKey}` })).status, 200);
    assert.equal((await send('POST', '/v1/admin/tenants', JSON.stringify({ name: 'x' }))).status, 401);
  });

  it('every router of the API is case-sensitive (the guard and its routes match alike)', () => {
    for (const file of sources('api')) {
      for (const [call] of readFileSync(file, 'utf8').matchAll(/new Router\([^)]*\)/g)) {
        assert.match(call, /sensitive: true/, `${file}: ${call}`);
      }
    }
  });

  it('a body that is not the brotli it claims is a 400, not a 500, on the codec endpoint and elsewhere', async () => {
    const body = JSON.stringify({ payloads: [] });
    for (const [path, headers] of [
      ['/codec/decode', { authorization: `Bearer ${lf.adminKey}` }],
      ['/v1/webhook-endpoints', { authorization: `Bearer ${lf.apiKey}` }],
      ['/v1/webhook-endpoints', {}],
    ] as const) {
      const answer = await send('POST', path, body, { 'content-encoding': 'br', ...headers });
      const text = await answer.text();
      assert.equal(answer.status, 400, `${path}: ${text}`);
      assert.equal(JSON.parse(text).error.code, 'malformed_request');
    }
    assert.deepEqual(lf.logs.filter((line) => /"level":"error"/.test(line)), []);
  });

  it('a body refused before it is read (too large once inflated, too large, unauthorized) ends its connection: the next request on a kept-alive socket is answered, not stalled and reset', async () => {
    const { hostname, port } = new URL(lf.api);
    // One socket, kept alive, as an SDK's HTTP client has it.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const call = (method: string, path: string, headers: Record<string, string | number> = {}, body?: Buffer) =>
      new Promise<{ status: number; ms: number }>((resolve) => {
        const started = performance.now();
        const done = (status: number) => resolve({ status, ms: Math.round(performance.now() - started) });
        const req = request({ host: hostname, port, method, path, headers, agent }, (res) => res.resume().on('end', () => done(res.statusCode ?? 0)));
        req.on('error', () => done(-1));
        req.end(body);
      });
    try {
      // ~200 kB on the wire, 200 MB inflated: more than the socket buffers hold, so the refusal leaves bytes unread.
      const bomb = gzipSync(Buffer.alloc(200 * 1024 * 1024, 0x20));
      const large = Buffer.alloc(5 * 1024 * 1024, 0x20);
      const json = { 'content-type': 'application/json' };
      const refusals: [string, Record<string, string | number>, Buffer, number][] = [
        ['/v1/webhook-endpoints', { ...json, 'content-encoding': 'gzip', authorization: `Bearer ${lf.apiKey}` }, bomb, 413],
        ['/codec/decode', { ...json, 'content-encoding': 'gzip', authorization: `Bearer ${lf.adminKey}` }, bomb, 413],
        ['/v1/webhook-endpoints', { ...json, authorization: `Bearer ${lf.apiKey}` }, large, 413],
        ['/codec/decode', json, large, 401],
      ];
      for (const [path, headers, body, status] of refusals) {
        assert.equal((await call('POST', path, { ...headers, 'content-length': body.length }, body)).status, status, path);
        const next = await call('GET', '/healthz');
        assert.equal(next.status, 200, `after ${path} ${status}: ${JSON.stringify(next)}`);
        assert.ok(next.ms < 2_000, `after ${path} ${status}: ${next.ms} ms`);
      }
    } finally {
      agent.destroy();
    }
  });

  it("a Connect token or link in a path no route matches stays out of the access log, whatever its letter case or slashes", async () => {
    for (const path of ['/CONNECT/T/tok-S3CRET-1', '//connect/t/tok-S3CRET-2', '/Connect/Links/lnk.S3CRET-3.sig', '/connect//t/tok-S3CRET-4/x']) {
      const answer = await send('GET', path);
      assert.equal(answer.status, 404, path);
    }
    const lines = lf.logs.filter((line) => line.includes('"msg":"request"'));
    assert.ok(lines.some((line) => line.includes('/connect/t/…')));
    assert.deepEqual(lines.filter((line) => line.includes('S3CRET')), []);
  });
});
