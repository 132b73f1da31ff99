// Rate limits and request deadline, on real HTTP servers, with the API's own error middleware and
// the limiters the composition root builds (apiLimiters): in this process's memory (PGlite's
// embedded mode, always), and on PostgreSQL when TEST_DATABASE_URL names one, where two "replicas"
// (two Koa apps, each with its own pool and limiters, as two API processes have) share one budget.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it, mock } from 'node:test';
import type { Client } from '@temporalio/client';
import Koa from 'koa';
import { ApiError, errorMiddleware } from '../../api/errors';
import { type ApiLimiters, LINK_OPENS, apiLimiters, deadline, rateLimit } from '../../api/limits';
import { createAuthorizationUrls } from '../../api/routes/links/links';
import { createLogger } from '../../logger';
import { type Database, migrate, openDatabase } from '../../store';

/** A Koa app as createApp orders it: errors, deadline, the tenant (from x-tenant here), the rate limit. */
async function serve(limiters: ApiLimiters): Promise<{ url: string; close: () => void }> {
  const app = new Koa();
  app.silent = true;
  app.use(errorMiddleware(createLogger('test', () => undefined)));
  app.use(deadline(200));
  app.use(async (ctx, next) => {
    ctx.state.tenant = { id: ctx.get('x-tenant'), name: 't' };
    await next();
  });
  app.use(rateLimit(limiters.requests));
  app.use(async (ctx) => {
    if (ctx.path === '/slow') await new Promise((r) => setTimeout(r, 1_000));
    ctx.body = { ok: true };
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}

const get = (url: string, tenant: string) => fetch(url, { headers: { 'x-tenant': tenant } });

/** Each variant: how one API process's limiters are made (`replica()` once per process). */
const variants: [name: string, setup: () => Promise<{ replica: (perMinute: number) => Promise<ApiLimiters>; close: () => Promise<void> }>][] = [
  [
    'memory (PGlite, one process)',
    async () => {
      // One process: its limiters are built once (the composition root), whatever serves them.
      const made = new Map<number, ApiLimiters>();
      return {
        replica: async (perMinute) => made.get(perMinute) ?? made.set(perMinute, apiLimiters(null, { perMinute })).get(perMinute)!,
        close: async () => undefined,
      };
    },
  ],
];
const pgUrl = process.env.TEST_DATABASE_URL;
if (pgUrl) {
  variants.push([
    'PostgreSQL (one pool per replica)',
    async () => {
      const dbs: Database[] = [];
      return {
        replica: async (perMinute) => {
          const db = await openDatabase({ databaseUrl: pgUrl });
          dbs.push(db);
          await migrate(db);
          return apiLimiters(db, { perMinute });
        },
        close: async () => {
          await Promise.all(dbs.map((db) => db.close()));
        },
      };
    },
  ]);
} else {
  it('rate limits on PostgreSQL: skipped, TEST_DATABASE_URL is not set (CI sets it)', { skip: 'TEST_DATABASE_URL is not set' }, () => undefined);
}

for (const [name, setup] of variants) {
  describe(`rate limits, ${name}`, () => {
    let store: Awaited<ReturnType<typeof setup>>;
    const servers: { close: () => void }[] = [];
    before(async () => {
      store = await setup();
    });
    after(async () => {
      for (const s of servers) s.close();
      await store?.close();
    });
    const replica = async (perMinute: number) => {
      const s = await serve(await store.replica(perMinute));
      servers.push(s);
      return s.url;
    };

    it('answers 429 with Retry-After past the limit, per tenant, and refills when the minute is over', async () => {
      // The library reads Date.now(): the clock is mocked (timers stay real for HTTP and pg).
      mock.timers.enable({ apis: ['Date'], now: Date.now() });
      try {
        const url = await replica(3);
        const [a, b] = [randomUUID(), randomUUID()];
        for (let i = 0; i < 3; i++) assert.equal((await get(url, a)).status, 200);
        const limited = await get(url, a);
        assert.equal(limited.status, 429);
        assert.equal(limited.headers.get('retry-after'), '60');
        assert.deepEqual(await limited.json(), {
          error: { code: 'rate_limited', message: 'Too many requests: at most 3 a minute. Retry after 60 s.' },
        });
        assert.equal((await get(url, b)).status, 200, 'another tenant has its own budget');
        mock.timers.tick(20_000);
        const later = await get(url, a);
        assert.equal(later.status, 429, 'still within the minute');
        assert.equal(later.headers.get('retry-after'), '40');
        mock.timers.tick(40_000);
        assert.equal((await get(url, a)).status, 200, 'a new minute, a new budget');
      } finally {
        mock.timers.reset();
      }
    });

    it('two API replicas share one budget per tenant: the request that crosses it is refused, on either', async () => {
      const [first, second] = [await replica(5), await replica(5)];
      const tenant = randomUUID();
      for (let i = 0; i < 3; i++) assert.equal((await get(first, tenant)).status, 200, `request ${i + 1} through A`);
      for (let i = 0; i < 2; i++) assert.equal((await get(second, tenant)).status, 200, `request ${i + 4} through B`);
      const crossing = await get(second, tenant);
      assert.equal(crossing.status, 429, 'the 6th request, through B, is over the 5 a minute spent through A and B');
      assert.ok(Number(crossing.headers.get('retry-after')) > 0);
      assert.equal((await get(first, tenant)).status, 429, 'and A refuses too');
      assert.equal((await get(first, randomUUID())).status, 200, 'another tenant is untouched');
    });

    it('two API replicas share the link-open throttle of a connection (LINK_OPENS)', async () => {
      // No Temporal behind: an id that is not a connection's is a 404 once past the throttle, a 429 before it.
      const client = {} as Client;
      const [a, b] = [createAuthorizationUrls(client, (await store.replica(5)).linkOpens), createAuthorizationUrls(client, (await store.replica(5)).linkOpens)];
      const key = `not-a-connection-${randomUUID()}`;
      const outcome = (p: Promise<string>) =>
        p.then(
          () => 'url',
          (err: unknown) => (err instanceof ApiError ? `${err.status} ${err.code}` : String(err)),
        );
      const answers: string[] = [];
      for (let i = 0; i < LINK_OPENS.burst; i++) answers.push(await outcome((i % 2 === 0 ? a : b).fresh(key)));
      assert.deepEqual(answers, Array(LINK_OPENS.burst).fill('404 not_found'), 'within the burst: through to the (absent) connection');
      const refused = await b.fresh(key).catch((err: unknown) => err);
      assert.ok(refused instanceof ApiError && refused.status === 429 && refused.code === 'too_many_opens', String(refused));
      const { retry_after_seconds } = refused.details as { retry_after_seconds: number };
      const window = (LINK_OPENS.burst / LINK_OPENS.perHour) * 3600;
      assert.ok(retry_after_seconds > window - 60 && retry_after_seconds <= window, String(retry_after_seconds));
      assert.equal(await outcome(a.fresh(key)), '429 too_many_opens', 'on the other replica too');
    });
  });
}

describe('deadline', () => {
  let server: { url: string; close: () => void };
  before(async () => {
    server = await serve(apiLimiters(null, { perMinute: 100 }));
  });
  after(() => server?.close());

  it('answers 504 when a handler overruns the deadline', async () => {
    const slow = await fetch(`${server.url}/slow`, { headers: { 'x-tenant': 'c' } });
    assert.equal(slow.status, 504);
    const body = (await slow.json()) as { error: { code: string; request_id: string } };
    assert.equal(body.error.code, 'timeout');
    assert.equal(body.error.request_id, slow.headers.get('x-request-id'));
  });
});
