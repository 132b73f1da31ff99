// The cheapest authenticated API route while the embedded store is busy with an import (issue 16,
// "Embedded store on the API's event loop"): p50 of GET /v1/keys/credentials (authenticated: one
// store query for the API key, then a constant answer) over sequential requests while a big
// sandbox user's first import runs, against the same route with the same
// Linkflow idle. Both sides run on one Linkflow (test/helpers/linkflow.ts: the embedded composition
// root, PGlite as `npm start` runs it, the Temporal dev server, the sandboxes) in this process.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { ConnectionView } from '../../contract/messages';
import { type Linkflow, startLinkflow } from '../../test/helpers/linkflow';
import { approveAtBank } from '../../test/helpers/oxlin';
import { type BenchSize, type Measure, percentile } from '../measure';
import { BENCH_RATE_LIMIT } from './lifecycle';

/** Sequential requests per sample. */
const REQUESTS: Record<BenchSize, number> = { small: 200, full: 400 };

/** The Oxlin test user whose first import loads the store (2 accounts of 50,000 transactions). */
const BIG_USER = 'user_huge';

/** Pause between two requests (sequential still): the 200 spread over ~10 s of the import, not only its first second. */
const PACE_MS = 50;

/** Store round trips (`SELECT 1` through Database.query) timed after the requests, to tell waiting on the store from a busy event loop. */
const STORE_PROBES = 50;

/** The cheapest authenticated route: the API key checked against the store, then a constant body. */
const ROUTE = '/v1/keys/credentials';

async function timedGet(lf: Linkflow): Promise<number> {
  const started = performance.now();
  const answer = await lf.call('GET', ROUTE);
  const ms = performance.now() - started;
  if (answer.status !== 200) throw new Error(`GET ${ROUTE}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return ms;
}

/** Waits (polling every `everyMs`, up to `timeoutMs`) until connection `id` is `done`. */
async function waitFor(lf: Linkflow, id: string, done: (v: ConnectionView) => boolean, everyMs = 100, timeoutMs = 600_000): Promise<ConnectionView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const view = (await lf.call('GET', `/v1/connections/${id}`)).body as ConnectionView;
    if (done(view)) return view;
    if (Date.now() > deadline) throw new Error(`connection ${id} is ${view.state}, not done after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Connects BIG_USER at Oxlin up to `awaiting_consent`; answers the connection's id and its consent body. */
async function bigUserAwaitingConsent(lf: Linkflow): Promise<{ id: string; consents: unknown }> {
  const created = await lf.call('POST', '/v1/connections', { provider: 'oxlin', institution_id: '87', redirect_url: 'https://client.example/linked' });
  if (created.status !== 201) throw new Error(`POST /v1/connections: ${created.status} ${JSON.stringify(created.body)}`);
  const view = created.body as ConnectionView;
  const bank = await lf.openLink(view.next_action?.type === 'redirect' ? view.next_action.url : undefined);
  const callback = await approveAtBank(bank, 'approve', BIG_USER);
  await fetch(callback, { redirect: 'manual' });
  const waiting = await waitFor(lf, view.id, (v) => v.state === 'awaiting_consent');
  const accounts = waiting.next_action?.type === 'consent' ? waiting.next_action.accounts : [];
  return { id: view.id, consents: { consents: accounts.map((a) => ({ account_id: a.id, consent: true })) } };
}

export const storeLoop: Measure = {
  id: 'api-during-import',
  title: (size) => `GET ${ROUTE} p50 over ${REQUESTS[size]} sequential requests (${PACE_MS} ms apart) during an Oxlin ${BIG_USER} import (embedded PGlite)`,
  baseline: 'the same route, same Linkflow, idle',
  unit: 'ms',
  target: { kind: 'max', ratio: 1.15 },
  async setup(ctx) {
    const requests = REQUESTS[ctx.size];
    const lf = await startLinkflow({ rateLimitPerMinute: BENCH_RATE_LIMIT });

    const sampleP50 = async (note: (fact: string) => void, label: string, busy?: () => boolean): Promise<number> => {
      const latencies: number[] = [];
      let whileBusy = 0;
      const loop = monitorEventLoopDelay({ resolution: 1 });
      loop.enable();
      for (let i = 0; i < requests; i += 1) {
        latencies.push(await timedGet(lf));
        if (busy?.()) whileBusy += 1;
        await new Promise((r) => setTimeout(r, PACE_MS));
      }
      loop.disable();
      const store: number[] = [];
      for (let i = 0; i < STORE_PROBES; i += 1) {
        const started = performance.now();
        await lf.db.query('SELECT 1');
        store.push(performance.now() - started);
      }
      const ms = (ns: number) => (ns / 1e6).toFixed(1);
      const busyPart = busy ? `, ${whileBusy}/${requests} answered while importing` : '';
      note(
        `${label}: p95 ${percentile(latencies, 95).toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms${busyPart}; ` +
          `event-loop delay p50 ${ms(loop.percentile(50))} / p99 ${ms(loop.percentile(99))} ms; store SELECT 1 p50 ${percentile(store, 50).toFixed(2)} ms`,
      );
      return percentile(latencies, 50);
    };

    return {
      linkflow: async (note) => {
        const { id, consents } = await bigUserAwaitingConsent(lf);
        const given = await lf.call('PUT', `/v1/connections/${id}/consents`, consents);
        if (given.status !== 200) throw new Error(`PUT consents: ${given.status} ${JSON.stringify(given.body)}`);
        let importing = true;
        const started = performance.now();
        // Polled once a second: a light load of its own next to the import's.
        const imported = waitFor(lf, id, (v) => v.state === 'active' && v.last_sync !== null, 1000).finally(() => (importing = false));
        const p50 = await sampleP50(note, 'during import', () => importing);
        await imported;
        note(`import to active ${((performance.now() - started) / 1000).toFixed(0)} s`);
        return p50;
      },
      baseline: (note) => sampleP50(note, 'idle'),
      close: () => lf.stop(),
    };
  },
};
