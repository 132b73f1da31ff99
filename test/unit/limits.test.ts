// Rate limit and request deadline, on a real HTTP server, with the API's own error middleware.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import Koa from 'koa';
import { errorMiddleware } from '../../api/errors';
import { deadline, rateLimit } from '../../api/limits';
import { createLogger } from '../../logger';

describe('rate limit and deadline', () => {
  let server: ReturnType<Koa['listen']>;
  let url: string;
  let clock = 0;
  before(async () => {
    const app = new Koa();
    app.silent = true;
    app.use(errorMiddleware(createLogger('test', () => undefined)));
    app.use(deadline(200));
    app.use(async (ctx, next) => {
      ctx.state.tenant = { id: ctx.get('x-tenant'), name: 't' };
      await next();
    });
    app.use(rateLimit(3, () => clock));
    app.use(async (ctx) => {
      if (ctx.path === '/slow') await new Promise((r) => setTimeout(r, 1_000));
      ctx.body = { ok: true };
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server?.close();
  });

  const get = (path: string, tenant: string) => fetch(url + path, { headers: { 'x-tenant': tenant } });

  it('answers 429 with Retry-After past the limit, per tenant, and refills over time', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await get('/', 'a')).status, 200);
    const limited = await get('/', 'a');
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('retry-after'), '20');
    assert.deepEqual(await limited.json(), {
      error: { code: 'rate_limited', message: 'Too many requests: at most 3 a minute. Retry after 20 s.' },
    });
    assert.equal((await get('/', 'b')).status, 200, 'another tenant has its own bucket');
    clock += 20_000;
    assert.equal((await get('/', 'a')).status, 200, 'a token came back after 20 s');
  });

  it('answers 504 when a handler overruns the deadline', async () => {
    const slow = await get('/slow', 'c');
    assert.equal(slow.status, 504);
    const body = (await slow.json()) as { error: { code: string; request_id: string } };
    assert.equal(body.error.code, 'timeout');
    assert.equal(body.error.request_id, slow.headers.get('x-request-id'));
  });
});
