// The connection workflow with its real activities: the Oxlin adapter against the Oxlin
// sandbox over HTTP, and the store on PGlite, on the time-skipping test server.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities } from '../../activities';
import { generateCredentialsKey, loadCredentialsKey } from '../../activities/credentials';
import { createAdapters, redirectParsers } from '../../activities/providers';
import { createStateSigner } from '../../activities/redirect-state';
import { type Database, createProviderLinks, createProviderSecrets, createRepository, migrate, openDatabase } from '../../activities/store';
import { type OxlinSandbox, startOxlinSandbox } from '../../sandbox/oxlin/server';
import { connectionWorkflow } from '../../workflows';
import { type ConnectionView, giveConsentUpdate, redirectReceivedSignal, stateQuery } from '../../workflows/messages';
import { approveAtBank } from '../helpers/oxlin';
import { runWorkerWhile, timeSkippingEnv, uniqueTaskQueue } from '../helpers/temporal';

const DAY_MS = 86_400_000;

describe('connectionWorkflow with the Oxlin sandbox and the store', () => {
  let env: TestWorkflowEnvironment;
  let sandbox: OxlinSandbox;
  let db: Database;
  // The sandbox's clock follows the test server's, which time skipping moves ahead.
  let clock = 0;
  const signer = createStateSigner('test-secret-test-secret-test-secret');

  before(async () => {
    env = await timeSkippingEnv();
    clock = await env.currentTimeMs();
    sandbox = await startOxlinSandbox({ now: () => clock, listDelayMs: 20, syncDelayMs: 20 });
    db = await openDatabase({});
    await migrate(db);
  });
  after(async () => {
    await sandbox?.close();
    await db?.close();
    await env?.teardown();
  });

  it('syncs the consented accounts, and a periodic sync a day later adds only the new day', async () => {
    const repository = createRepository(db);
    const activities = createActivities({
      adapters: createAdapters(
        {
          oxlin: { baseUrl: sandbox.url, clientId: 'linkflow-sandbox', clientSecret: 'sandbox-secret', pollIntervalMs: 20 },
        },
        { secrets: createProviderSecrets(db, 'test-secret-test-secret-test-secret') },
      ),
      repository,
      providerLinks: createProviderLinks(db),
      stateSigner: signer,
      credentialsKey: await loadCredentialsKey(await generateCredentialsKey()),
    });
    const connectionId = randomUUID();
    const taskQueue = uniqueTaskQueue();

    await runWorkerWhile(env, { taskQueue, activities }, async () => {
      const handle = await env.client.workflow.start(connectionWorkflow, {
        taskQueue,
        workflowId: `connection-${connectionId}`,
        args: [
          {
            connectionId,
            provider: 'oxlin',
            institutionId: '87',
            redirectUrl: 'https://client.example/done',
            callbackUrl: 'https://linkflow.example/callbacks/oxlin',
            mode: 'redirect',
            syncIntervalSeconds: 86_400,
            redirectTimeoutSeconds: 1_800,
            consentTimeoutSeconds: 86_400,
            renewalLeadSeconds: 7 * 86_400,
          },
        ],
      });
      const until = async (done: (v: ConnectionView) => boolean): Promise<ConnectionView> => {
        for (let i = 0; i < 200; i++) {
          const view = await handle.query(stateQuery);
          if (done(view)) return view;
          await new Promise((r) => setTimeout(r, 50));
        }
        assert.fail(`gave up waiting; connection is ${(await handle.query(stateQuery)).state}`);
      };

      const waiting = await until((v) => v.state === 'awaiting_redirect');
      assert.equal(waiting.next_action?.type, 'redirect');
      const back = await approveAtBank(waiting.next_action.type === 'redirect' ? waiting.next_action.url : '');
      assert.equal(back.origin + back.pathname, 'https://linkflow.example/callbacks/oxlin');
      const { state, redirect } = redirectParsers.oxlin(Object.fromEntries(back.searchParams));
      const verified = signer.verify(state);
      assert.ok(verified);
      assert.equal(verified.connectionId, connectionId);
      await handle.signal(redirectReceivedSignal, { nonce: verified.nonce, ...redirect });

      const listed = await until((v) => v.state === 'awaiting_consent');
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
      const active = await until((v) => v.state === 'active');
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
      const resynced = await until((v) => v.state === 'active' && v.last_sync?.synced_at !== active.last_sync?.synced_at);
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
