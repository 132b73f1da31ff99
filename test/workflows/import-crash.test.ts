// A worker process killed (SIGKILL) in the middle of an incremental import of user_huge's 100,000
// transactions (2 accounts of 50,000, pages of 500): early in the first account, at the boundary
// between the accounts, and mid-way through the second one. Another worker process resumes the
// import from the last page the dead one committed, whatever heartbeat Temporal holds, with the
// plan the import began with: the store ends with every transaction the provider has, once, and
// the sync counts each once. On PGlite, and on PostgreSQL when TEST_DATABASE_URL is set.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { type Database, openDatabase } from '../../store';
import { type OxlinSandbox, startOxlinSandbox } from '../../sandbox/oxlin/server';
import { type ConnectionView, giveConsentUpdate, stateQuery } from '../../contract/messages';
import type { PageAsked } from '../helpers/import-worker';
import { approveAtBank, issueToken } from '../helpers/oxlin';
import { returnFromProvider, startConnection } from '../helpers/real-activities';
import { stopQuietly, timeSkippingEnv, uniqueTaskQueue, workflowBundle } from '../helpers/temporal';

/** The Oxlin adapter's page size, and user_huge's pages per account. */
const PAGE_SIZE = 500;
const PAGES_PER_ACCOUNT = 100;

/** Where each case kills the worker: before it asks for page `cursor` (an offset) of account `account`. */
const KILL_POINTS = [
  { name: 'early, 20 pages into the first account', account: 0, cursor: '10000' },
  { name: "at the boundary: the first account stored, before the second one's first page", account: 1, cursor: null },
  { name: 'mid-way through the second account, 53,000 rows stored', account: 1, cursor: '3000' },
] as const;

const pagesBefore = (point: { account: number; cursor: string | null }): number =>
  point.account * PAGES_PER_ACCOUNT + (point.cursor === null ? 0 : Number(point.cursor) / PAGE_SIZE);

/** A store the worker processes and this test share: where each opens it. */
interface SharedStore {
  open(): Promise<Database>;
  /** What a worker process needs to open it. */
  childEnv: Record<string, string>;
  dispose(): Promise<void>;
}

/** The stores the cases run on: a PGlite directory per case, and PostgreSQL when TEST_DATABASE_URL names one. */
function sharedStores(): [name: string, create: () => Promise<SharedStore>][] {
  const stores: [string, () => Promise<SharedStore>][] = [
    [
      'PGlite',
      async () => {
        // PGlite is one process's at a time: each process opens the directory only while it alone runs.
        const dataDir = await mkdtemp(join(tmpdir(), 'linkflow-crash-'));
        return { open: () => openDatabase({ dataDir }), childEnv: { PGLITE_DIR: dataDir }, dispose: () => rm(dataDir, { recursive: true, force: true }) };
      },
    ],
  ];
  const url = process.env.TEST_DATABASE_URL;
  if (url) stores.push(['PostgreSQL', async () => ({ open: () => openDatabase({ databaseUrl: url }), childEnv: { DATABASE_URL: url }, dispose: async () => undefined })]);
  return stores;
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });

/** A worker process (test/helpers/import-worker.ts), with the pages importData asked it for. */
interface WorkerProcess {
  child: ChildProcess;
  ready: Promise<void>;
  exited: Promise<NodeJS.Signals | number | null>;
  pages: PageAsked[];
  killedAt: PageAsked | undefined;
}

function spawnWorker(env: Record<string, string>): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, '../helpers/import-worker.ts')], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
  const worker: WorkerProcess = { child, exited, pages: [], killedAt: undefined, ready: Promise.resolve() };
  worker.ready = new Promise((resolve, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      const [word, json] = [line.split(' ', 1)[0], line.slice(line.indexOf(' ') + 1)];
      if (word === 'ready') resolve();
      else if (word === 'page') worker.pages.push(JSON.parse(json) as PageAsked);
      else if (word === 'killed') worker.killedAt = JSON.parse(json) as PageAsked;
    });
    void exited.then((how) => reject(new Error(`the worker exited (${how}) before it was ready`)));
  });
  return worker;
}

/** The connection's view once `done` holds, polled for up to `seconds` (a heartbeat timeout is a real minute here). */
async function waitFor(handle: WorkflowHandle, done: (v: ConnectionView) => boolean, seconds: number): Promise<ConnectionView> {
  const deadline = Date.now() + seconds * 1000;
  let view = await handle.query(stateQuery);
  while (!done(view) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    view = await handle.query(stateQuery);
  }
  assert.ok(done(view), `gave up waiting; connection is ${view.state} (${view.reason ?? 'no reason'})`);
  return view;
}

/** What the import's pending activity last heartbeated to Temporal, as the Web UI shows it (for failure messages). */
async function heartbeatHeld(handle: WorkflowHandle): Promise<string> {
  const pending = (await handle.describe()).raw.pendingActivities ?? [];
  const data = pending.find((a) => a.activityType?.name === 'importData')?.heartbeatDetails?.payloads?.[0]?.data;
  return data ? Buffer.from(data).toString('utf8') : 'none';
}

// All cases at once: each waits a real minute for the dead worker's heartbeat timeout (the test
// server skips no time while an activity is out), and those minutes overlap.
describe('a worker process killed (SIGKILL) in the middle of an incremental import', { concurrency: true }, () => {
  let env: TestWorkflowEnvironment;
  let sandbox: OxlinSandbox;
  let port: number;
  let bundleDir: string;
  let bundlePath: string;

  before(async () => {
    port = await freePort();
    env = await timeSkippingEnv({ port });
    const clock = await env.currentTimeMs();
    sandbox = await startOxlinSandbox({ now: () => clock, listDelayMs: 20, syncDelayMs: 20 });
    bundleDir = await mkdtemp(join(tmpdir(), 'linkflow-bundle-'));
    bundlePath = join(bundleDir, 'workflows.js');
    await writeFile(bundlePath, (await workflowBundle()).code);
  });
  after(async () => {
    await sandbox?.close();
    await env?.teardown();
    await rm(bundleDir, { recursive: true, force: true });
  });

  /** What the provider holds for `accountId`, by its own count (x-total-count). */
  async function providerTotal(accountId: string): Promise<number> {
    const response = await fetch(`${sandbox.url}/v2.1/transactions?account_id=${accountId}&limit=1`, {
      headers: { authorization: `Bearer ${await issueToken(sandbox)}` },
    });
    assert.equal(response.status, 200);
    return Number(response.headers.get('x-total-count'));
  }

  for (const [store, createStore] of sharedStores()) {
    for (const point of KILL_POINTS) {
      it(`${store}: killed ${point.name}; resumed after the last stored page, every transaction once`, async () => {
        const shared = await createStore();
        const connectionId = randomUUID();
        const taskQueue = uniqueTaskQueue();
        const workerEnv = { TEMPORAL_ADDRESS: `127.0.0.1:${port}`, TASK_QUEUE: taskQueue, OXLIN_URL: sandbox.url, WORKFLOW_BUNDLE: bundlePath, ...shared.childEnv };
        const stored = pagesBefore(point);
        const workers: WorkerProcess[] = [];
        try {
          // A worker process runs the connection: authorization (user_huge), listing, consent, and the
          // import (incremental: the default), and kills itself instead of asking for page `stored` + 1.
          const doomed = spawnWorker({ ...workerEnv, KILL_AFTER_PAGES: String(stored) });
          workers.push(doomed);
          await doomed.ready;
          const handle = await startConnection(env, taskQueue, { connectionId, provider: 'oxlin', institutionId: '87', mode: 'redirect' });
          const waiting = await waitFor(handle, (v) => v.state === 'awaiting_redirect', 60);
          assert.equal(waiting.next_action?.type, 'redirect');
          await returnFromProvider(handle, connectionId, 'oxlin', await approveAtBank(waiting.next_action.url, 'approve', 'user_huge'));
          const listed = await waitFor(handle, (v) => v.state === 'awaiting_consent', 60);
          const accountIds = listed.accounts.map((a) => a.id).sort((a, b) => a.localeCompare(b));
          assert.equal(accountIds.length, 2);
          await handle.executeUpdate(giveConsentUpdate, { args: [{ consents: accountIds.map((id) => ({ account_id: id, consent: true })) }] });

          assert.equal(await doomed.exited, 'SIGKILL');
          const killedAt: PageAsked = { accountId: accountIds[point.account] as string, cursor: point.cursor, since: null };
          assert.deepEqual(doomed.killedAt, killedAt, 'killed where the case says');
          assert.equal(doomed.pages.length, stored);
          const held = await heartbeatHeld(handle);
          let db = await shared.open();
          try {
            assert.equal((await storedRows(db, connectionId)).all, stored * PAGE_SIZE, 'every page asked for before the kill is stored');
          } finally {
            await db.close();
          }

          // Another worker process on the same store: the dead worker's attempt times out (a real
          // minute: the test server skips no time while an activity is out), and is retried there.
          const heir = spawnWorker(workerEnv);
          workers.push(heir);
          await heir.ready;
          const view = await waitFor(handle, (v) => v.state === 'active' || v.state === 'failed', 300);
          assert.equal(view.state, 'active', `the import did not finish: ${view.state} (${view.reason})`);
          const totals = await Promise.all(accountIds.map(providerTotal));
          const total = totals.reduce((a, b) => a + b, 0);
          assert.equal(total, 100_000, "user_huge's history, by the provider's count");

          // Every transaction counted once across both workers; then resumed with the page the dead
          // worker never asked for, in the window planned at the start (the whole history: nothing
          // was stored before), and nothing stored was read again.
          const context = `Temporal held heartbeat ${held}; the heir first asked for ${JSON.stringify(heir.pages[0])} and read ${heir.pages.length} pages`;
          assert.deepEqual(
            view.last_sync && [view.last_sync.accounts, view.last_sync.transactions_added, view.last_sync.transactions_modified, view.last_sync.transactions_removed],
            [2, total, 0, 0],
            context,
          );
          assert.deepEqual(heir.pages[0], killedAt, context);
          assert.equal(heir.pages.length, 2 * PAGES_PER_ACCOUNT - stored, context);
          await stopQuietly(env, handle.workflowId);
          heir.child.kill('SIGKILL');
          await heir.exited;

          db = await shared.open();
          try {
            // One row per transaction (the primary key allows no other), every one of each account's, none removed.
            assert.deepEqual(await storedRows(db, connectionId, accountIds), { live: totals, all: total }, context);
          } finally {
            await db.close();
          }
        } finally {
          for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
          await Promise.all(workers.map((w) => w.exited));
          await shared.dispose();
        }
      });
    }
  }
});

/** The connection's rows: live ones per account (in `accountIds` order), and all, removed ones included. */
async function storedRows(db: Database, connectionId: string, accountIds: string[] = []): Promise<{ live: number[]; all: number }> {
  const rows = await db.query<{ account: string; live: number; n: number }>(
    `SELECT provider_account_id AS account, count(*) FILTER (WHERE removed_at IS NULL)::int AS live, count(*)::int AS n
     FROM transactions WHERE connection_id = $1 GROUP BY provider_account_id`,
    [connectionId],
  );
  return { live: accountIds.map((id) => rows.find((r) => r.account === id)?.live ?? 0), all: rows.reduce((sum, r) => sum + r.n, 0) };
}
