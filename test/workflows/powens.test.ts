// The connection workflow with its real activities: the Powens adapter against the Powens sandbox
// over HTTP (on the test server's clock), the store and the sealed provider secrets on PGlite, on
// the time-skipping test server.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { type CredentialsKey, encryptForLinkflow } from '../../domain/credentials';
import { createAdapters } from '../../providers';
import type { Database, Repository } from '../../store';
import { type PowensSandbox, startPowensSandbox } from '../../sandbox/powens/server';
import { type ConnectionInput, UpdateRejection, answerChallengeUpdate, giveConsentUpdate, stateQuery, submitCredentialsUpdate } from '../../contract/messages';
import { approveInWebview } from '../helpers/powens';
import {
  type ConnectionHandle,
  type RealActivities,
  consentToAll,
  historyText,
  openTestDatabase,
  realActivities,
  returnFromProvider,
  startConnection,
  testSecrets,
  until,
} from '../helpers/real-activities';
import { runWorkerWhile, stopQuietly, timeSkippingEnv, uniqueTaskQueue } from '../helpers/temporal';

const DAY_MS = 86_400_000;

describe('connectionWorkflow with the Powens sandbox and the store', () => {
  let env: TestWorkflowEnvironment;
  let sandbox: PowensSandbox;
  let db: Database;
  let repository: Repository;
  let credentialsKey: CredentialsKey;
  let activities: RealActivities['activities'];
  // The sandbox's clock follows the test server's, which time skipping moves ahead.
  let clock = 0;
  const secrets = () => testSecrets(db);

  before(async () => {
    env = await timeSkippingEnv();
    clock = await env.currentTimeMs();
    sandbox = await startPowensSandbox({ now: () => clock, decoupledDelayMs: 50 });
    db = await openTestDatabase();
    const adapters = createAdapters(
      { powens: { baseUrl: sandbox.url, clientId: 'linkflow-sandbox', clientSecret: 'sandbox-secret', pollIntervalMs: 20 } },
      { secrets: secrets() },
    );
    ({ activities, repository, credentialsKey } = await realActivities(db, adapters));
  });
  after(async () => {
    await sandbox?.close();
    await db?.close();
    await env?.teardown();
  });

  async function withConnection(
    overrides: Partial<ConnectionInput>,
    fn: (handle: ConnectionHandle, connectionId: string) => Promise<void>,
  ): Promise<void> {
    const connectionId = randomUUID();
    const taskQueue = uniqueTaskQueue();
    await runWorkerWhile(env, { taskQueue, activities }, async () => {
      const handle = await startConnection(env, taskQueue, { connectionId, provider: 'powens', institutionId: '59', mode: 'embedded', ...overrides });
      try {
        await fn(handle, connectionId);
      } finally {
        await stopQuietly(env, handle.workflowId);
      }
    });
  }

  const encrypted = async (values: Record<string, string>) =>
    Promise.all(Object.entries(values).map(async ([id, value]) => ({ id, value: await encryptForLinkflow(credentialsKey.publicKeyArmored, value) })));

  it('credentials: wrongpass is asked again, then an SMS code (wrong, then right), consent, and data', async () => {
    await withConnection({}, async (handle, connectionId) => {
      const asking = await until(handle, (v) => v.state === 'awaiting_credentials');
      assert.equal(asking.next_action?.type, 'credentials');
      const form = asking.next_action.type === 'credentials' ? asking.next_action : assert.fail();
      assert.equal(form.channel_id, 'directaccess');
      assert.deepEqual(form.fields.map((f) => [f.id, f.required, f.encrypt]), [
        ['login', true, true],
        ['password', true, true],
        ['website', false, true],
      ]);

      await assert.rejects(
        handle.executeUpdate(submitCredentialsUpdate, { args: [{ credentials: await encrypted({ login: 'user_otp', password: 'not-it' }) }] }),
        // The bank's refusal, in Linkflow's words: not Linkflow's own field check (InvalidCredentials).
        (err: Error) =>
          err.cause instanceof ApplicationFailure &&
          err.cause.type === UpdateRejection.ProviderRejected &&
          err.cause.message === 'The provider refused the request.',
      );
      const refused = await handle.query(stateQuery);
      assert.equal(refused.state, 'awaiting_credentials', 'the end user is asked again');
      assert.equal(refused.reason, 'AUTH_FAILED', 'and the connection says why');

      await handle.executeUpdate(submitCredentialsUpdate, {
        args: [{ credentials: await encrypted({ login: 'user_otp', password: 'sandbox-password' }) }],
      });
      const challenged = await until(handle, (v) => v.state === 'challenge_required');
      assert.deepEqual(challenged.next_action?.type === 'challenge' && challenged.next_action.fields.map((f) => f.id), ['sms_code']);
      const again = await handle.executeUpdate(answerChallengeUpdate, { args: [{ answers: await encrypted({ sms_code: '000000' }) }] });
      assert.equal(again.state, 'challenge_required');
      assert.match(again.next_action?.type === 'challenge' ? (again.next_action.messages[0]?.text ?? '') : '', /Code incorrect/);
      await handle.executeUpdate(answerChallengeUpdate, { args: [{ answers: await encrypted({ sms_code: '123456' }) }] });

      const listed = await until(handle, (v) => v.state === 'awaiting_consent');
      const [checking, card] = listed.accounts;
      assert.ok(checking && card);
      assert.deepEqual([checking.type, card.type], ['checking', 'card']);
      await handle.executeUpdate(giveConsentUpdate, {
        args: [
          {
            consents: [
              { account_id: checking.id, consent: true },
              { account_id: card.id, consent: false },
            ],
          },
        ],
      });
      const active = await until(handle, (v) => v.state === 'active');
      assert.deepEqual(active.channels, [{ id: 'directaccess', mode: 'embedded', expires_at: null }]);
      assert.equal(active.last_sync?.accounts, 1);
      assert.equal(active.last_sync?.transactions_added, 91, '90 days of history and today');
      assert.deepEqual((await repository.listAccounts(connectionId)).map((a) => a.providerAccountId), [checking.id]);
      assert.equal(await repository.countTransactions(connectionId), 91);

      // The user token: sealed in the store, made permanent, never in the workflow's history.
      const [row] = await db.query<{ name: string; sealed: string }>(`SELECT name, sealed FROM provider_secrets WHERE provider = 'powens'`);
      assert.ok(row);
      const userId = /^user:(\d+):token$/.exec(row.name)?.[1];
      assert.ok(userId);
      const stored = JSON.parse((await secrets().get('powens', row.name)) ?? '{}') as { token: string; type: string };
      assert.equal(stored.type, 'permanent');
      assert.ok(!row.sealed.includes(stored.token));
      const history = await historyText(handle);
      assert.ok(history.includes(`"userId":"${userId}"`), 'providerRef carries the user id');
      assert.ok(!history.includes(stored.token), 'the token is not in the history');
      assert.ok(!history.includes('sandbox-password') && !history.includes('123456'), 'nor any plaintext credential or code');
    });
  });

  it('webauth: the webview redirect, consent, data; then SCA required at a later sync → user_action_required', async () => {
    await withConnection({ institutionId: '60', mode: 'redirect' }, async (handle, connectionId) => {
      const waiting = await until(handle, (v) => v.state === 'awaiting_redirect');
      const url = waiting.next_action?.type === 'redirect' ? waiting.next_action.url : assert.fail();
      assert.equal(new URL(url).pathname, '/connect');
      await returnFromProvider(handle, connectionId, 'powens', await approveInWebview(url, 'user_sca_later'));

      const listed = await until(handle, (v) => v.state === 'awaiting_consent');
      assert.equal(listed.accounts.length, 2);
      await handle.executeUpdate(giveConsentUpdate, { args: [{ consents: listed.accounts.map((a) => ({ account_id: a.id, consent: true })) }] });
      const active = await until(handle, (v) => v.state === 'active');
      assert.equal(active.channels[0]?.id, 'openapi');
      assert.equal(active.channels[0]?.mode, 'redirect');
      assert.equal(Date.parse(active.channels[0]?.expires_at ?? ''), Math.floor(clock / 1000) * 1000 + 180 * DAY_MS, 'the source access expires in 180 days');
      assert.equal(active.last_sync?.transactions_added, 2 * 91);
      assert.equal(await repository.countTransactions(connectionId), 2 * 91);

      clock += DAY_MS;
      await env.sleep('1 day');
      const blocked = await until(handle, (v) => v.state === 'user_action_required');
      assert.equal(blocked.reason, 'USER_ACTION_REQUIRED');
      assert.equal(blocked.next_action?.type, 'message');
    });
  });

  it('renews a webauth source before its access expires, through the webview /reconnect', async () => {
    await withConnection({ institutionId: '60', mode: 'redirect' }, async (handle, connectionId) => {
      const connect = async (url: string, username: string) =>
        (await returnFromProvider(handle, connectionId, 'powens', await approveInWebview(url, username))).providerConnectionId;
      const waiting = await until(handle, (v) => v.state === 'awaiting_redirect');
      const providerConnectionId = await connect(waiting.next_action?.type === 'redirect' ? waiting.next_action.url : '', 'user_short_consent');
      const active = await consentToAll(handle);
      const expiresAt = Date.parse(active.channels[0]?.expires_at ?? '');
      assert.equal(expiresAt, Math.floor(clock / 1000) * 1000 + 10 * DAY_MS, "user_short_consent's access lasts 10 days");
      assert.equal(active.renewal_due_at, new Date(expiresAt - 7 * DAY_MS).toISOString());

      clock += 3 * DAY_MS;
      await env.sleep('3 days');
      const due = await until(handle, (v) => v.state === 'renewal_required');
      const renewal = due.next_action?.type === 'redirect' ? new URL(due.next_action.url) : assert.fail('a redirect to renew');
      assert.equal(renewal.pathname, '/reconnect');
      assert.equal(renewal.searchParams.get('connection_id'), providerConnectionId);
      assert.equal(renewal.searchParams.get('source'), 'openapi');

      assert.equal(await connect(renewal.toString(), 'alice'), providerConnectionId, 'the same connection, renewed');
      const renewed = await until(handle, (v) => v.state === 'active' && v.channels[0]?.expires_at !== active.channels[0]?.expires_at);
      assert.equal(Date.parse(renewed.channels[0]?.expires_at ?? ''), Math.floor(clock / 1000) * 1000 + 180 * DAY_MS);
      assert.equal(await repository.countTransactions(connectionId), 2 * 94, 'three more days of data, each day once');
    });
  });
});
