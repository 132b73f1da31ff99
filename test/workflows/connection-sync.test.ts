// The connection workflow with its real activities: the Oxlin adapter against the Oxlin
// sandbox over HTTP, and the store on PGlite, on the time-skipping test server.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createAdapters } from '../../activities/providers';
import type { Database } from '../../activities/store';
import { type OxlinSandbox, startOxlinSandbox } from '../../sandbox/oxlin/server';
import { giveConsentUpdate } from '../../workflows/messages';
import { approveAtBank } from '../helpers/oxlin';
import { openTestDatabase, realActivities, returnFromProvider, startConnection, testSecrets, until } from '../helpers/real-activities';
import { runWorkerWhile, timeSkippingEnv, uniqueTaskQueue } from '../helpers/temporal';

const DAY_MS = 86_400_000;

describe('connectionWorkflow with the Oxlin sandbox and the store', () => {
  let env: TestWorkflowEnvironment;
  let sandbox: OxlinSandbox;
  let db: Database;
  // The sandbox's clock follows the test server's, which time skipping moves ahead.
  let clock = 0;

  before(async () => {
    env = await timeSkippingEnv();
    clock = await env.currentTimeMs();
    sandbox = await startOxlinSandbox({ now: () => clock, listDelayMs: 20, syncDelayMs: 20 });
    db = await openTestDatabase();
  });
  after(async () => {
    await sandbox?.close();
    await db?.close();
    await env?.teardown();
  });

  it('syncs the consented accounts, and a periodic sync a day later adds only the new day', async () => {
    const adapters = createAdapters(
      { oxlin: { baseUrl: sandbox.url, clientId: 'linkflow-sandbox', clientSecret: 'sandbox-secret', pollIntervalMs: 20 } },
      { secrets: testSecrets(db) },
    );
    const { activities, repository } = await realActivities(db, adapters);
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
        `SELECT count(*)::int AS duplicates FROM (SELECT provider_transaction_id FROM transactions
           WHERE connection_id = $1 GROUP BY provider_transaction_id HAVING count(*) > 1) d`,
        [connectionId],
      );
      assert.equal(row?.duplicates, 0);
      await handle.terminate('test over');
    });
  });
});
