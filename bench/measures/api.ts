// Issue 16, API overhead: the p50 latency of a read and of an update through Linkflow's HTTP API
// (auth, rate limiter, validation, presenter, JSON) against the raw Temporal client call the route
// makes, from the same process, on the same connections of the same Linkflow.
//
// - api-get: `GET /v1/connections/:id` of an active connection vs `handle.query(stateQuery)`.
// - api-update: the `openAuthorization` update. No /v1 route has an update that can be repeated
//   on one connection (consent, credentials, challenge and renewal each move the state; POST
//   …/sync is a signal), so this is `GET /connect/links/:link` — the browser's link open, which
//   runs the update (a provider call minting a fresh URL, no state change) — vs
//   `handle.executeUpdate(openAuthorizationUpdate)`. The link route allows LINK_OPENS.burst opens
//   per connection in a window, so each side spreads its requests over fresh connections awaiting
//   the redirect, that many each; creating them is not timed.
import assert from 'node:assert/strict';
import { type ConnectionView, openAuthorizationUpdate, stateQuery, workflowIdFor } from '../../contract/messages';
import { LINK_OPENS } from '../../api/limits';
import { type Linkflow, startLinkflow } from '../../test/helpers/linkflow';
import { type BenchContext, type Measure, type Side, type Sides, percentile } from '../measure';
import { BENCH_RATE_LIMIT } from './lifecycle';

const requestsFor = (size: BenchContext['size']): number => (size === 'full' ? 1000 : 200);

/** Times `n` sequential calls of `one(i)` (ms each); notes the p95, answers the p50. */
async function p50Of(n: number, one: (i: number) => Promise<void>, note: (fact: string) => void, label: string): Promise<number> {
  const latencies: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    await one(i);
    latencies.push(performance.now() - start);
  }
  note(`${label} p95 ${percentile(latencies, 95).toFixed(2)} ms`);
  return percentile(latencies, 50);
}

async function bootWithActive(): Promise<{ lf: Linkflow; view: ConnectionView }> {
  const lf = await startLinkflow({ rateLimitPerMinute: BENCH_RATE_LIMIT });
  try {
    return { lf, view: await lf.activeRedirectConnection() };
  } catch (err) {
    await lf.stop();
    throw err;
  }
}

export const apiGet: Measure = {
  id: 'api-get',
  title: (size) => `GET /v1/connections/:id, p50 of ${requestsFor(size)} sequential requests`,
  baseline: 'raw client.workflow.getHandle(id).query(stateQuery), same process, same connection',
  unit: 'ms',
  target: { kind: 'max', ratio: 1.15 },
  async setup(ctx): Promise<Sides> {
    const { lf, view } = await bootWithActive();
    const n = requestsFor(ctx.size);
    const handle = lf.env.client.workflow.getHandle(workflowIdFor(view.id));
    const linkflow: Side = (note) =>
      p50Of(
        n,
        async () => {
          const got = await lf.call('GET', `/v1/connections/${view.id}`);
          assert.equal(got.status, 200, JSON.stringify(got.body));
        },
        note,
        'Linkflow',
      );
    const baseline: Side = (note) =>
      p50Of(
        n,
        async () => {
          const got = await handle.query(stateQuery);
          assert.equal(got.id, view.id);
        },
        note,
        'raw query',
      );
    return { linkflow, baseline, close: () => lf.stop() };
  },
};

export const apiUpdate: Measure = {
  id: 'api-update',
  title: (size) => `openAuthorization update via GET /connect/links/:link, p50 of ${requestsFor(size)} sequential requests`,
  baseline: `raw handle.executeUpdate(openAuthorizationUpdate), same process; both sides on fresh connections awaiting the redirect, ${LINK_OPENS.burst} calls each`,
  unit: 'ms',
  target: { kind: 'max', ratio: 1.15 },
  async setup(ctx): Promise<Sides> {
    const lf = await startLinkflow({ rateLimitPerMinute: BENCH_RATE_LIMIT });
    const n = requestsFor(ctx.size);
    const perConnection = LINK_OPENS.burst;

    /** `count` new connections awaiting the redirect: their ids and Linkflow links (not timed). */
    async function awaitingRedirect(count: number): Promise<{ id: string; link: string }[]> {
      const made: { id: string; link: string }[] = [];
      while (made.length < count) {
        const batch = await Promise.all(
          Array.from({ length: Math.min(5, count - made.length) }, () =>
            lf.call('POST', '/v1/connections', { provider: 'oxlin', institution_id: '87', redirect_url: 'https://client.example/linked' }),
          ),
        );
        for (const created of batch) {
          assert.equal(created.status, 201, JSON.stringify(created.body));
          assert.equal(created.body.state, 'awaiting_redirect');
          made.push({ id: created.body.id, link: created.body.next_action.url });
        }
      }
      return made;
    }

    const side =
      (label: string, one: (c: { id: string; link: string }) => Promise<void>): Side =>
      async (note) => {
        const connections = await awaitingRedirect(Math.ceil(n / perConnection));
        return p50Of(n, (i) => one(connections[Math.floor(i / perConnection)]!), note, label);
      };
    const linkflow = side('Linkflow', async ({ link }) => {
      const opened = await fetch(link, { redirect: 'manual' });
      const body = await opened.text();
      assert.equal(opened.status, 303, body);
    });
    const baseline = side('raw update', async ({ id }) => {
      const { url } = await lf.env.client.workflow.getHandle(workflowIdFor(id)).executeUpdate(openAuthorizationUpdate);
      assert.ok(url.startsWith('http'));
    });
    return { linkflow, baseline, close: () => lf.stop() };
  },
};
