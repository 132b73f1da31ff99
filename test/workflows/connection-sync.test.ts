// The connection workflow with its real activities: the Oxlin adapter against the Oxlin
// sandbox over HTTP, and the store on PGlite, on the time-skipping test server. Deltas across
// syncs (the provider corrects and drops transactions), incremental versus full reads, 100,000
// transactions in pages with nothing large in history, and an import that crashes half-way and
// resumes without doubling anything.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Context } from '@temporalio/activity';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { type ProviderAdapter, createAdapters } from '../../providers';
import type { Database } from '../../store';
import { type OxlinSandbox, startOxlinSandbox } from '../../sandbox/oxlin/server';
import { type ConnectionView, giveConsentUpdate, stateQuery, syncRequestedSignal } from '../../contract/messages';
import { approveAtBank } from '../helpers/oxlin';
import { consentToAll, realActivities, returnFromProvider, startConnection, testSecrets, testStores, until } from '../helpers/real-activities';
import { runWorkerWhile, stopQuietly, timeSkippingEnv, uniqueTaskQueue } from '../helpers/temporal';

const DAY_MS = 86_400_000;

for (const [store, open] of testStores()) {
  describe(`connectionWorkflow with the Oxlin sandbox and the store (${store}): lifecycle and data`, () => {
    let env: TestWorkflowEnvironment;
    let sandbox: OxlinSandbox;
    let db: Database;
    // The sandbox's clock follows the test server's, which time skipping moves ahead.
    let clock = 0;

    before(async () => {
      env = await timeSkippingEnv();
      clock = await env.currentTimeMs();
      sandbox = await startOxlinSandbox({ now: () => clock, listDelayMs: 20, syncDelayMs: 20 });
      db = await open();
    });
    after(async () => {
      await sandbox?.close();
      await db?.close();
      await env?.teardown();
    });

    const oxlin = () =>
      createAdapters(
        { oxlin: { baseUrl: sandbox.url, clientId: 'linkflow-sandbox', clientSecret: 'sandbox-secret', pollIntervalMs: 20 } },
        { secrets: testSecrets(db) },
      ).oxlin;

    it('syncs the consented accounts, and a periodic sync a day later adds only the new day', async () => {
      const { activities, repository } = await realActivities(db, { oxlin: oxlin() });
      const connectionId = randomUUID();
      const taskQueue = uniqueTaskQueue();

      await runWorkerWhile(env, { taskQueue, activities }, async () => {
        const handle = await startConnection(env, taskQueue, { connectionId, provider: 'oxlin', institutionId: '87', mode: 'redirect' });
        const waiting = await until(handle, (v) => v.state === 'awaiting_redirect');
        assert.equal(waiting.next_action?.type, 'redirect');
        await returnFromProvider(handle, connectionId, 'oxlin', await approveAtBank(waiting.next_action.url));

        const listed = await until(handle, (v) => v.state === 'awaiting_consent');
        const [first, second, third] = listed.accounts;
        assert.ok(first && second && third);
        await handle.executeUpdate(giveConsentUpdate, {
          args: [
            {
              consents: [
                { account_id: first.id, consent: true },
                { account_id: second.id, consent: false },
                { account_id: third.id, consent: true },
              ],
            },
          ],
        });
        const active = await until(handle, (v) => v.state === 'active');
        // 90 days of history plus today, for each of the two consented accounts.
        assert.equal(active.last_sync?.accounts, 2);
        assert.equal(active.last_sync?.transactions_added, 2 * 91);
        assert.deepEqual(
          (await repository.listAccounts(connectionId)).map((a) => a.providerAccountId),
          [first.id, third.id],
        );
        assert.equal(await repository.countTransactions(connectionId), 2 * 91);

        clock += DAY_MS;
        await env.sleep('1 day');
        const resynced = await until(handle, (v) => v.state === 'active' && v.last_sync?.synced_at !== active.last_sync?.synced_at);
        assert.equal(resynced.last_sync?.transactions_added, 2, 'one new transaction per consented account');
        assert.equal(resynced.last_sync?.transactions_modified, 0);
        assert.equal(await repository.countTransactions(connectionId), 2 * 92);
        const [row] = await db.query<{ duplicates: number }>(
          `SELECT count(*)::int AS duplicates FROM (SELECT provider_account_id, provider_transaction_id FROM transactions
             WHERE connection_id = $1 GROUP BY provider_account_id, provider_transaction_id HAVING count(*) > 1) d`,
          [connectionId],
        );
        assert.equal(row?.duplicates, 0);
        await stopQuietly(env, handle.workflowId);
      });
    });

    /** A redirect connection of `user` at the sandbox bank, every account consented, active. */
    async function activeConnection(taskQueue: string, connectionId: string, user: string) {
      const handle = await startConnection(env, taskQueue, { connectionId, provider: 'oxlin', institutionId: '87', mode: 'redirect' });
      const waiting = await until(handle, (v) => v.state === 'awaiting_redirect');
      assert.equal(waiting.next_action?.type, 'redirect');
      await returnFromProvider(handle, connectionId, 'oxlin', await approveAtBank(waiting.next_action.url, 'approve', user));
      return { handle, active: await consentToAll(handle) };
    }

    /** Asks for a sync and waits for its outcome (a sync done after `before`). */
    async function syncNow(handle: WorkflowHandle, before: ConnectionView, full = false): Promise<ConnectionView> {
      clock += 1000; // each sync at its own instant, as the sandbox dates them
      await handle.signal(syncRequestedSignal, { full });
      return until(handle, (v) => v.state === 'active' && v.last_sync?.synced_at !== before.last_sync?.synced_at);
    }

    async function sandboxControl(method: 'POST' | 'DELETE', path: string, body?: unknown): Promise<void> {
      const response = await fetch(`${sandbox.url}${path}`, {
        method,
        ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
      });
      assert.equal(response.status, 204, await response.text());
    }

    it('reports added, modified and removed across syncs; incremental reads the recent window, full reads everything', async () => {
      const real = oxlin();
      // Later in the test the provider keeps only its last 30 days (as Flinks keeps 365).
      let keptFrom: string | null = null;
      const windowed: ProviderAdapter = {
        ...real,
        async fetchTransactions(...args) {
          const page = await real.fetchTransactions(...args);
          return keptFrom === null ? page : { ...page, items: page.items.filter((t) => t.bookedAt >= (keptFrom as string)) };
        },
      };
      const { activities, repository } = await realActivities(db, { oxlin: windowed });
      const connectionId = randomUUID();
      const taskQueue = uniqueTaskQueue();
      await runWorkerWhile(env, { taskQueue, activities }, async () => {
        const { handle, active } = await activeConnection(taskQueue, connectionId, 'alice');
        const accountId = active.accounts[0]?.id as string;
        const consented = active.accounts.length;
        assert.deepEqual(active.last_sync && [active.last_sync.transactions_added, active.last_sync.transactions_removed], [consented * 91, 0]);
        const start = await repository.transactionChanges(connectionId, '0', 1000);
        assert.equal(start.added.length, consented * 91);

        // Two days ago corrected, yesterday dropped: both inside the incremental window.
        await sandboxControl('POST', `/sandbox/accounts/${accountId}/transactions/${accountId}-88/modify`, { amount: -1234.56 });
        await sandboxControl('DELETE', `/sandbox/accounts/${accountId}/transactions/${accountId}-89`);
        const second = await syncNow(handle, active);
        assert.deepEqual(second.last_sync && [second.last_sync.transactions_added, second.last_sync.transactions_modified, second.last_sync.transactions_removed], [0, 1, 1]);
        const delta = await repository.transactionChanges(connectionId, start.lastSeq, 1000);
        assert.deepEqual(delta.modified.map((t) => [t.providerTransactionId, t.amount]), [[`${accountId}-88`, '-1234.56']]);
        assert.deepEqual(delta.removed.map((t) => t.providerTransactionId), [`${accountId}-89`]);
        assert.deepEqual(delta.added, []);

        // A correction 80 days back is outside the incremental window: seen only by a full read.
        await sandboxControl('POST', `/sandbox/accounts/${accountId}/transactions/${accountId}-10/modify`, { label: 'CORRECTED' });
        const third = await syncNow(handle, second);
        assert.equal(third.last_sync?.transactions_modified, 0);
        const full = await syncNow(handle, third, true);
        assert.deepEqual(full.last_sync && [full.last_sync.transactions_added, full.last_sync.transactions_modified, full.last_sync.transactions_removed], [0, 1, 0]);
        const corrected = await repository.transactionChanges(connectionId, delta.lastSeq, 1000);
        assert.deepEqual(corrected.modified.map((t) => [t.providerTransactionId, t.label]), [[`${accountId}-10`, 'CORRECTED']]);
        assert.equal(await repository.countTransactions(connectionId), consented * 91 - 1);

        // A full read from a provider that no longer returns what is older than 30 days removes nothing.
        keptFrom = new Date(clock - 30 * DAY_MS).toISOString();
        const windowedFull = await syncNow(handle, full, true);
        assert.deepEqual(windowedFull.last_sync && [windowedFull.last_sync.transactions_modified, windowedFull.last_sync.transactions_removed], [0, 0]);
        assert.equal(await repository.countTransactions(connectionId), consented * 91 - 1);
        await stopQuietly(env, handle.workflowId);
      });
    });

    it('keeps both legs of a transfer that share one id on two accounts (user_transfer), sync after sync, without flipping', async () => {
      const { activities, repository } = await realActivities(db, { oxlin: oxlin() });
      const connectionId = randomUUID();
      const taskQueue = uniqueTaskQueue();
      await runWorkerWhile(env, { taskQueue, activities }, async () => {
        const { handle, active } = await activeConnection(taskQueue, connectionId, 'user_transfer');
        const [from, to, card] = active.accounts.map((a) => a.id);
        assert.ok(from && to && card);
        // 91 days per account, plus one leg of the transfer on each checking account.
        assert.deepEqual(active.last_sync && [active.last_sync.transactions_added, active.last_sync.transactions_modified], [3 * 91 + 2, 0]);
        assert.equal(await repository.countTransactions(connectionId), 3 * 91 + 2);
        const legs = async () =>
          (await db.query<{ account: string; amount: string }>(
            `SELECT provider_account_id AS account, amount::text AS amount FROM transactions
             WHERE connection_id = $1 AND provider_transaction_id = 'TRF-1' AND removed_at IS NULL ORDER BY amount`,
            [connectionId],
          )).map((r) => [r.account, r.amount]);
        assert.deepEqual(await legs(), [[from, '-500.00'], [to, '500.00']]);
        const start = await repository.transactionChanges(connectionId, '0', 1000);
        assert.deepEqual(
          start.added.filter((t) => t.providerTransactionId === 'TRF-1').map((t) => [t.providerAccountId, t.amount]).sort(),
          [[from, '-500.00'], [to, '500.00']],
          'each leg once',
        );

        // Read again twice (the transfer is inside the incremental window): nothing changes, nothing flips.
        let last = active;
        let cursor = start.lastSeq;
        for (let i = 0; i < 2; i++) {
          last = await syncNow(handle, last);
          assert.deepEqual(last.last_sync && [last.last_sync.transactions_added, last.last_sync.transactions_modified, last.last_sync.transactions_removed], [0, 0, 0]);
          const delta = await repository.transactionChanges(connectionId, cursor, 1000);
          assert.deepEqual([delta.added, delta.modified, delta.removed], [[], [], []]);
          cursor = delta.lastSeq;
        }
        assert.deepEqual(await legs(), [[from, '-500.00'], [to, '500.00']]);
        const fromList = await repository.listTransactions(connectionId, { accountId: from, limit: 1 });
        assert.deepEqual(fromList.transactions.map((t) => [t.providerTransactionId, t.amount, t.pending]), [['TRF-1', '-500.00', false]]);
        await stopQuietly(env, handle.workflowId);
      });
    });

    it('imports 100,000 transactions in pages, nothing large in history; a crash half-way resumes after the last stored page', async () => {
      const real = oxlin();
      let pagesRead = 0;
      let crashed = false;
      // The import's first attempt dies after 130 of its 200 pages, as a worker killed mid-sync would.
      const crashing: ProviderAdapter = {
        ...real,
        async fetchTransactions(connection, accountId, cursor, since) {
          if (!crashed && Context.current().info.activityType === 'importData' && pagesRead === 130) {
            crashed = true;
            throw new Error('worker crashed mid-sync');
          }
          pagesRead++;
          return real.fetchTransactions(connection, accountId, cursor, since);
        },
      };
      const { activities, repository } = await realActivities(db, { oxlin: crashing });
      const connectionId = randomUUID();
      const taskQueue = uniqueTaskQueue();
      await runWorkerWhile(env, { taskQueue, activities }, async () => {
        const handle = await startConnection(env, taskQueue, { connectionId, provider: 'oxlin', institutionId: '87', mode: 'redirect' });
        const waiting = await until(handle, (v) => v.state === 'awaiting_redirect');
        assert.equal(waiting.next_action?.type, 'redirect');
        await returnFromProvider(handle, connectionId, 'oxlin', await approveAtBank(waiting.next_action.url, 'approve', 'user_huge'));
        const listed = await until(handle, (v) => v.state === 'awaiting_consent');
        assert.equal(listed.accounts.length, 2);
        await handle.executeUpdate('giveConsent', { args: [{ consents: listed.accounts.map((a) => ({ account_id: a.id, consent: true })) }] });
        let active: ConnectionView | undefined;
        for (let i = 0; i < 2400 && active?.state !== 'active'; i++) {
          active = await handle.query(stateQuery);
          await new Promise((r) => setTimeout(r, 50));
        }
        assert.equal(active?.state, 'active', `the import did not finish: ${active?.state} (${active?.reason})`);

        assert.ok(crashed, 'the first attempt crashed');
        assert.equal(active.last_sync?.transactions_added, 100_000, 'counted once, across both attempts');
        assert.equal(await repository.countTransactions(connectionId), 100_000);
        const [dupes] = await db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM (SELECT provider_account_id, provider_transaction_id FROM transactions WHERE connection_id = $1
             GROUP BY provider_account_id, provider_transaction_id HAVING count(*) > 1) d`,
          [connectionId],
        );
        assert.equal(dupes?.n, 0);
        // Resumed at the page that failed, from the position stored with the page before it: each of
        // the 200 pages read once (a restart from scratch would make 330 reads).
        assert.equal(pagesRead, 200);

        // Nothing large in history: the biggest event is a few kilobytes, far below Temporal's 2 MB payload limit.
        const events = (await handle.fetchHistory()).events ?? [];
        const largest = Math.max(...events.map((e) => JSON.stringify(e).length));
        assert.ok(largest < 16_384, `largest history event: ${largest} bytes`);
        await stopQuietly(env, handle.workflowId);
      });
    });
  });
}
