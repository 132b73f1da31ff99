// The production topology (scripts/cluster: PostgreSQL, the Temporal server on it, two workers, two
// API replicas behind a balancer, the sandboxes), each a process of its own, under what production
// does to it: 30 connections across the four providers, started round robin through both API
// replicas and driven to `active` while one worker is killed (SIGKILL) in the middle of the imports
// and started again, the other is restarted by SIGTERM (a rolling deploy), one API replica is
// restarted and the Temporal server is restarted. Then nothing may be lost or doubled: every
// connection active, every transaction count the provider's, every webhook event delivered in
// order, and the per-tenant rate limit held across both replicas. Prints its figures.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { type Cluster, startCluster } from '../../scripts/cluster/cluster';
import { connectAtFlinks } from '../../sandbox/flinks/end-user';
import { authorizeAtXero } from '../../sandbox/lnkfi/browser';
import type { ConnectionView, ProviderName } from '../../contract/messages';
import { approveAtBank } from '../helpers/oxlin';
import { approveInWebview } from '../helpers/powens';
import { startWebhookReceiver } from '../helpers/webhooks';

/** Where the processes' logs go when the test fails (test-artifacts/, git-ignored). Not from helpers/browser: that module installs the Temporal runtime, which would keep this process alive. */
const ARTIFACTS_DIR = join(__dirname, '..', '..', 'test-artifacts');
const CONNECTIONS = Number(process.env.LINKFLOW_CHAOS_CONNECTIONS ?? 30);
/** The per-tenant limit of the cluster's APIs: low, so the shared budget is measurable. */
const RATE_LIMIT = 600;
const ROUND: ProviderName[] = ['oxlin', 'flinks', 'powens', 'lnkfi'];
const INSTITUTION: Record<ProviderName, string> = { oxlin: '87', flinks: 'FlinksCapital', powens: '61', lnkfi: 'xero' };

interface Answer {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON bodies read field by field
  body: any;
}

describe('the production topology: crashes, a rolling deploy, an API restart and a Temporal restart lose nothing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'linkflow-chaos-'));
  const lines: string[] = [];
  let cluster: Cluster;
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
  let failed = false;
  // Stopped when the test fails or ends: every wait below then throws, so no driver, restart or
  // poll outlives the test (and keeps its process, or a restarted part of the cluster, alive).
  const stop = new AbortController();
  const pause = (ms: number): Promise<void> => {
    if (stop.signal.aborted) return Promise.reject(new Error('the chaos test has stopped'));
    return delay(ms, undefined, { signal: stop.signal });
  };

  before(async () => {
    receiver = await startWebhookReceiver();
    cluster = await startCluster({
      dir,
      ports: 'free',
      log: (line) => lines.push(line),
      env: { LINKFLOW_WEBHOOK_ALLOW_PRIVATE: 'true', LINKFLOW_RATE_LIMIT_PER_MINUTE: String(RATE_LIMIT) },
    });
  });
  after(async () => {
    stop.abort();
    await cluster?.stop();
    receiver?.close();
    // The processes' logs, for a person to read when something failed.
    if (failed) cpSync(join(dir, 'logs'), join(ARTIFACTS_DIR, 'cluster-logs'), { recursive: true });
    await rm(dir, { recursive: true, force: true });
  });

  /**
   * One API call, retried while the part it needs restarts (connection refused, 502–504): safe,
   * because every call here is idempotent (POSTs carry an Idempotency-Key, updates are retryable).
   */
  async function call(base: string, method: string, path: string, key: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
    for (let attempt = 0; ; attempt++) {
      try {
        const response = await fetch(base + path, {
          method,
          headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
          body: body === undefined ? undefined : JSON.stringify(body),
          redirect: 'manual',
          signal: AbortSignal.timeout(60_000),
        });
        const text = await response.text();
        if ([502, 503, 504].includes(response.status) && attempt < 120) {
          await pause(500);
          continue;
        }
        return { status: response.status, body: text ? JSON.parse(text) : undefined };
      } catch (err) {
        if (attempt >= 120) throw err;
        // The replica is restarting: the next attempt goes through the balancer.
        base = cluster.publicUrl;
        await pause(500);
      }
    }
  }

  /** A browser request (a Linkflow link or callback), retried while the API or Temporal restarts; the 303's Location. */
  async function browse(url: string): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      const response = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(60_000) }).catch(() => null);
      if (response?.status === 303) return response.headers.get('location') ?? assert.fail('no Location');
      if (attempt >= 120) assert.fail(`${url}: ${response?.status} ${await response?.text()}`);
      await pause(500);
    }
  }

  it(`${CONNECTIONS} connections to active through both replicas while workers, an API and Temporal restart`, async () => {
    try {
      await scenario();
    } catch (err) {
      failed = true;
      stop.abort();
      throw err;
    }
  });

  async function scenario(): Promise<void> {
    const started = Date.now();
    const admin = JSON.parse(readFileSync(join(dir, 'secrets.json'), 'utf8')).LINKFLOW_ADMIN_KEY as string;
    const tenant = await call(cluster.publicUrl, 'POST', '/v1/admin/tenants', admin, { name: 'chaos' });
    assert.equal(tenant.status, 201, JSON.stringify(tenant.body));
    const key = tenant.body.api_key.key as string;
    const endpoint = await call(cluster.publicUrl, 'POST', '/v1/webhook-endpoints', key, { url: receiver.url });
    assert.equal(endpoint.status, 201, JSON.stringify(endpoint.body));

    // Which connections have their consent given (their import runs from then on).
    let consented = 0;
    const whenConsented = async (count: number) => {
      while (consented < Math.min(count, CONNECTIONS)) await pause(100);
    };
    const restarts: string[] = [];
    const chaos = (async () => {
      await whenConsented(Math.round(CONNECTIONS * 0.25));
      await cluster.workers[0]!.restart('SIGKILL');
      restarts.push('worker-1 SIGKILL');
      await whenConsented(Math.round(CONNECTIONS * 0.5));
      await cluster.workers[1]!.restart('SIGTERM');
      restarts.push('worker-2 SIGTERM');
      await whenConsented(Math.round(CONNECTIONS * 0.7));
      await cluster.apis[0]!.restart('SIGTERM');
      restarts.push('api-1 SIGTERM');
      await whenConsented(Math.round(CONNECTIONS * 0.85));
      await cluster.temporal.restart('SIGTERM');
      restarts.push('temporal SIGTERM');
    })();
    // Awaited below once the connections are driven; if driving fails first, the stop ends it quietly.
    chaos.catch(() => undefined);

    const drive = async (i: number): Promise<string> => {
      const provider = ROUND[i % ROUND.length] as ProviderName;
      const api = cluster.apiUrls[i % cluster.apiUrls.length] as string;
      const created = await call(api, 'POST', '/v1/connections', key, { provider, institution_id: INSTITUTION[provider], redirect_url: 'https://client.example/linked', user_ref: `chaos-${i}` }, { 'idempotency-key': randomUUID() });
      // 202: the first next action took longer than LINKFLOW_FIRST_ACTION_WAIT_MS (a worker restarting):
      // the answer is the started connection, still authorizing, and its id is all the client needs.
      assert.ok(created.status === 201 || created.status === 202, `${created.status} ${JSON.stringify(created.body)}`);
      if (created.status === 202) assert.equal((created.body as ConnectionView).state, 'authorizing');
      const id = created.body.id as string;
      // Under load (or after a 202) the first answer may come before the workflow's first action: then ask again.
      const first = (created.body as ConnectionView).next_action ? (created.body as ConnectionView) : await until(api, key, id, (v) => v.next_action?.type === 'redirect');
      const bank = await browse(first.next_action?.type === 'redirect' ? first.next_action.url : assert.fail(`${id}: ${JSON.stringify(first)}`));
      const back =
        provider === 'oxlin' ? await approveAtBank(bank, 'approve', 'user_many')
        : provider === 'flinks' ? await connectAtFlinks(bank, { username: `test_history+${i}` })
        : provider === 'powens' ? await approveInWebview(bank, 'user_many')
        : await authorizeAtXero(bank, 'approve', 'long_history@example.com');
      await browse(back.toString());
      const waiting = await until(api, key, id, (v) => v.state === 'awaiting_consent');
      const accounts = waiting.next_action?.type === 'consent' ? waiting.next_action.accounts : [];
      const consent = await call(api, 'PUT', `/v1/connections/${id}/consents`, key, { consents: accounts.map((a) => ({ account_id: a.id, consent: true })) });
      assert.equal(consent.status, 200, JSON.stringify(consent.body));
      consented++;
      return id;
    };
    const ids = await pool(CONNECTIONS, 6, drive);
    await chaos;
    // One list call every 2 s (the tenant's budget is shared with what follows), then each view once.
    const active = new Set<string>();
    await waitFor(async () => {
      const page = await call(cluster.publicUrl, 'GET', '/v1/connections?state=active&limit=100', key);
      for (const c of (page.body?.data ?? []) as { id: string }[]) active.add(c.id);
      return ids.every((id) => active.has(id));
    }, 300_000, 'every connection active', 2_000);
    const views = await Promise.all(ids.map((id) => until(cluster.publicUrl, key, id, (v) => v.state === 'active' && v.last_sync !== null)));
    const wall = Date.now() - started;

    // Every transaction the store holds, once, per connection.
    const db = new pg.Client({ connectionString: cluster.databaseUrl });
    await db.connect();
    try {
      const { rows } = await db.query<{ connection_id: string; n: string; distinct_ids: string }>(
        'SELECT connection_id, count(*) AS n, count(DISTINCT provider_transaction_id) AS distinct_ids FROM transactions WHERE connection_id = ANY($1) GROUP BY connection_id',
        [ids],
      );
      const stored = new Map(rows.map((r) => [r.connection_id, Number(r.n)]));
      for (const r of rows) assert.equal(r.n, r.distinct_ids, `no duplicate rows for ${r.connection_id}`);
      for (const view of views) assert.ok((stored.get(view.id) ?? 0) > 0, `${view.id} (${view.provider}) has transactions`);
      const rowsTotal = [...stored.values()].reduce((a, b) => a + b, 0);

      // The provider's own count (its sandbox's control route) for each connection: nothing lost, nothing doubled.
      const links = await db.query<{ connection_id: string; provider_connection_id: string }>(
        'SELECT connection_id, provider_connection_id FROM provider_connections WHERE connection_id = ANY($1)',
        [ids],
      );
      const providerIds = new Map(links.rows.map((r) => [r.connection_id, r.provider_connection_id]));
      for (const view of views) {
        const truth = await providerCount(view.provider, providerIds.get(view.id) ?? assert.fail(`${view.id} has a provider connection`));
        assert.equal(stored.get(view.id), truth, `${view.id} (${view.provider}): the store holds the provider's ${truth} transactions`);
      }

      // Every webhook event, de-duplicated by id, arrived in order per connection and without a gap.
      await waitFor(() => ids.every((id) => receivedFor(id).some((e) => e.type === 'connection.synced')), 120_000, 'a connection.synced event for every connection');
      for (const id of ids) {
        const sequence = receivedFor(id).map((e) => Number(e.id.split('_').pop()));
        assert.deepEqual(sequence, Array.from({ length: sequence.length }, (_, k) => k + 1), `the events of ${id} in order, none missing`);
      }
      const deliveries = receiver.received.length;

      // The rate limit is one budget per tenant across both replicas, not one per process.
      const limited = await call(cluster.publicUrl, 'POST', '/v1/admin/tenants', admin, { name: 'limited' });
      const limitedKey = limited.body.api_key.key as string;
      const burstStarted = Date.now();
      // A cheap route (the store only), alternating replicas, as fast as 8 clients go.
      const statuses = await pool(RATE_LIMIT + 60, 8, async (i) => [i % 2, (await fetch(`${cluster.apiUrls[i % 2]}/v1/webhook-endpoints`, { headers: { authorization: `Bearer ${limitedKey}` } })).status] as const);
      const burstMs = Date.now() - burstStarted;
      const ok = statuses.filter(([, s]) => s === 200).length;
      assert.ok(statuses.every(([, s]) => s === 200 || s === 429), `200 or 429 only: ${[...new Set(statuses.map(([, s]) => s))].join(', ')}`);
      // One fixed window of a minute from the tenant's first request: within it, exactly the budget, whichever replica answers.
      assert.ok(burstMs < 60_000, `the burst fits in one window (${burstMs} ms)`);
      assert.equal(ok, RATE_LIMIT, `${ok} of ${statuses.length} answered across both replicas`);
      for (const replica of [0, 1]) assert.ok(statuses.some(([r, s]) => r === replica && s === 429), `replica ${replica + 1} refuses past the shared budget`);
      console.log(
        `# chaos: ${ids.length} connections active (${ROUND.map((p) => `${p} ${views.filter((v) => v.provider === p).length}`).join(', ')}), ` +
          `${rowsTotal} transaction rows, ${deliveries} webhook deliveries, restarts survived: ${restarts.join(', ')}; ` +
          `rate limit: ${ok}/${statuses.length} answered in ${burstMs} ms; wall time ${(wall / 1000).toFixed(1)} s`,
      );
      assert.equal(restarts.length, 4);
    } finally {
      await db.end();
    }
  }

  /** How many transactions the provider serves for a connection (sandbox/<provider>: GET …/transaction-count). */
  async function providerCount(provider: ProviderName, providerConnectionId: string): Promise<number> {
    const base = cluster.env[`${provider.toUpperCase()}_BASE_URL`] as string;
    const path =
      provider === 'flinks'
        ? `/sandbox/logins/${providerConnectionId}/transaction-count?DaysOfTransactions=Days365`
        : `/sandbox/connections/${providerConnectionId}/transaction-count`;
    const response = await fetch(base + path);
    assert.equal(response.status, 200, `${provider} ${path}`);
    return ((await response.json()) as { total: number }).total;
  }

  /** Client webhook events received for a connection, first receipt of each id, in arrival order. */
  function receivedFor(connectionId: string): { id: string; type: string }[] {
    const seen = new Set<string>();
    return receiver.received
      .map((r) => JSON.parse(r.body) as { id: string; type: string; connection_id: string })
      .filter((e) => e.connection_id === connectionId && !seen.has(e.id) && seen.add(e.id));
  }

  async function until(base: string, key: string, id: string, done: (v: ConnectionView) => boolean, timeoutMs = 180_000): Promise<ConnectionView> {
    const deadline = Date.now() + timeoutMs;
    let last: Answer | undefined;
    while (Date.now() < deadline) {
      last = await call(base, 'GET', `/v1/connections/${id}`, key);
      if (last.status === 200 && done(last.body as ConnectionView)) return last.body as ConnectionView;
      if (last.status === 429) await pause(2_000);
      await pause(1_500);
    }
    return assert.fail(`connection ${id}: ${JSON.stringify(last?.body)}`);
  }

  /** Polls `check` every `everyMs` until it holds; fails naming `what` after `timeoutMs`. */
  async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string, everyMs = 200): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
      await pause(everyMs);
    }
  }
});

/** `fn(0…count-1)`, at most `concurrency` at a time, results in order. */
async function pool<T>(count: number, concurrency: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        results[i] = await fn(i);
      }
    }),
  );
  return results;
}
