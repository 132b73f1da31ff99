// A worker process killed (SIGKILL) in the middle of importing 100,000 transactions: the next
// worker resumes the import from the last page the dead one heartbeated, and the store ends with
// exactly one row per transaction, counted once.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { Context } from '@temporalio/activity';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { type ProviderAdapter, createAdapters } from '../../activities/providers';
import { type Database, migrate, openDatabase } from '../../activities/store';
import { type OxlinSandbox, startOxlinSandbox } from '../../sandbox/oxlin/server';
import { type ConnectionView, giveConsentUpdate, stateQuery } from '../../workflows/messages';
import { approveAtBank } from '../helpers/oxlin';
import { realActivities, returnFromProvider, startConnection, testSecrets, until } from '../helpers/real-activities';
import { runWorkerWhile, stopQuietly, timeSkippingEnv, uniqueTaskQueue } from '../helpers/temporal';

const freePort = () =>
  new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });

/** Resolves with the first line of the child's output that `match` accepts. */
function lineFrom(child: ChildProcess, match: (line: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.on('line', (line) => {
      if (!match(line)) return;
      lines.close();
      resolve(line);
    });
    child.once('exit', (code) => reject(new Error(`the worker exited (${code}) before printing the line`)));
  });
}

/**
 * How many pages (of 500; 100 per account) the import's last heartbeat on the server says are done,
 * once it says at least `atLeast`. Read from the workflow's pending activity, as the Web UI shows it.
 */
async function heartbeatedPages(handle: WorkflowHandle, atLeast: number): Promise<number> {
  for (let i = 0; i < 1200; i++) {
    const pending = (await handle.describe()).raw.pendingActivities ?? [];
    const data = pending.find((a) => a.activityType?.name === 'importData')?.heartbeatDetails?.payloads?.[0]?.data;
    if (data) {
      const { account, cursor } = JSON.parse(Buffer.from(data).toString('utf8')) as { account: number; cursor: string | null };
      const pages = account * 100 + (cursor === null ? 100 : Number(cursor) / 500);
      if (pages >= atLeast) return pages;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`no heartbeat of ${atLeast} pages or more`);
}

describe('a worker killed in the middle of an import', () => {
  let env: TestWorkflowEnvironment;
  let sandbox: OxlinSandbox;
  let dataDir: string;
  let port: number;

  before(async () => {
    port = await freePort();
    env = await timeSkippingEnv({ port });
    const clock = await env.currentTimeMs();
    sandbox = await startOxlinSandbox({ now: () => clock, listDelayMs: 20, syncDelayMs: 20 });
    dataDir = await mkdtemp(join(tmpdir(), 'linkflow-crash-'));
  });
  after(async () => {
    await sandbox?.close();
    await env?.teardown();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('resumes from the last page heartbeated; one row per transaction, counted once', async () => {
    const connectionId = randomUUID();
    const taskQueue = uniqueTaskQueue();
    const adapters = (db: Database) =>
      createAdapters(
        { oxlin: { baseUrl: sandbox.url, clientId: 'linkflow-sandbox', clientSecret: 'sandbox-secret', pollIntervalMs: 20 } },
        { secrets: testSecrets(db) },
      );

    // Here: authorize (user_huge: 2 accounts of 50,000 transactions) and list. PGlite is one process's
    // at a time, so this one lets go of the store before the next worker opens it.
    let db = await openDatabase({ dataDir });
    await migrate(db);
    const first = await realActivities(db, adapters(db));
    // No sticky cache on any worker here: the Java test server does not move a dead worker's sticky tasks on.
    const handle = await runWorkerWhile(env, { taskQueue, activities: first.activities, maxCachedWorkflows: 0 }, async () => {
      const started = await startConnection(env, taskQueue, { connectionId, provider: 'oxlin', institutionId: '87', mode: 'redirect' });
      const waiting = await until(started, (v) => v.state === 'awaiting_redirect');
      assert.equal(waiting.next_action?.type, 'redirect');
      await returnFromProvider(started, connectionId, 'oxlin', await approveAtBank(waiting.next_action.url, 'approve', 'user_huge'));
      await until(started, (v) => v.state === 'awaiting_consent');
      return started;
    });
    await db.close();

    // A worker process takes the consent and starts the import; it is killed 60 pages in.
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, '../helpers/import-worker.ts')], {
      env: { ...process.env, TEMPORAL_ADDRESS: `127.0.0.1:${port}`, TASK_QUEUE: taskQueue, PGLITE_DIR: dataDir, OXLIN_URL: sandbox.url },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await lineFrom(child, (line) => line === 'ready');
    const listed = await handle.query(stateQuery);
    await handle.executeUpdate(giveConsentUpdate, { args: [{ consents: listed.accounts.map((a) => ({ account_id: a.id, consent: true })) }] });
    // Killed once Temporal holds a heartbeat 60 pages or more in: where the next worker must go on from.
    const heartbeated = await heartbeatedPages(handle, 60);
    child.kill('SIGKILL');
    await exited;

    // Another worker here, on the same store: the dead worker's attempt times out, and is retried here.
    db = await openDatabase({ dataDir });
    const real = adapters(db);
    let pagesAfter = 0;
    let resumedAt: string | null | undefined;
    const counting: ProviderAdapter = {
      ...real.oxlin,
      async fetchTransactions(connection, accountId, cursor, since) {
        if (Context.current().info.activityType === 'importData') {
          resumedAt ??= `${accountId}@${cursor}`;
          pagesAfter++;
        }
        return real.oxlin.fetchTransactions(connection, accountId, cursor, since);
      },
    };
    const second = await realActivities(db, { ...real, oxlin: counting });
    try {
      await runWorkerWhile(env, { taskQueue, activities: second.activities, maxCachedWorkflows: 0 }, async () => {
        await env.sleep('2 minutes'); // past the import's heartbeat timeout
        let view: ConnectionView | undefined;
        for (let i = 0; i < 2400 && view?.state !== 'active'; i++) {
          view = await handle.query(stateQuery);
          await new Promise((r) => setTimeout(r, 50));
        }
        assert.equal(view?.state, 'active', `the import did not finish: ${view?.state} (${view?.reason})`);
        assert.equal(view.last_sync?.transactions_added, 100_000, 'counted once, across both workers');
        await stopQuietly(env, handle.workflowId);
      });

      assert.equal(await second.repository.countTransactions(connectionId), 100_000);
      const [dupes] = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM (SELECT provider_account_id, provider_transaction_id FROM transactions WHERE connection_id = $1
           GROUP BY provider_account_id, provider_transaction_id HAVING count(*) > 1) d`,
        [connectionId],
      );
      assert.equal(dupes?.n, 0);
      // Resumed mid-way from the heartbeat Temporal held (or a later one the dead worker got through
      // before it died), not from the first page.
      assert.ok(typeof resumedAt === 'string' && !resumedAt.endsWith('@null'), `resumed at ${resumedAt}`);
      assert.ok(pagesAfter <= 200 - heartbeated, `heartbeated ${heartbeated} pages; ${pagesAfter} pages read after`);
    } finally {
      await db.close();
    }
  });
});
