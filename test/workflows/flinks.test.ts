// The connection workflow with its real activities: the Flinks adapter against the Flinks sandbox
// over HTTP (on the test server's clock), and the store on PGlite, on the time-skipping test server.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import { type Duration, defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createFlinksAdapter } from '../../providers/flinks/adapter';
import type { ProviderSecrets } from '../../providers/types';
import type { Database, Repository } from '../../store';
import { type EndUser, connectAtFlinks } from '../../sandbox/flinks/end-user';
import { DEFAULT_CUSTOMER_ID, type FlinksSandbox, startFlinksSandbox } from '../../sandbox/flinks/server';
import { type ConnectionView, giveConsentUpdate, stateQuery } from '../../contract/messages';
import { type ConnectionHandle, type RealActivities, consentToAll, openTestDatabase, realActivities, returnFromProvider, startConnection, until } from '../helpers/real-activities';
import { runWorkerWhile, stopQuietly, timeSkippingEnv, uniqueTaskQueue, workflowBundle } from '../helpers/temporal';

const DAY_MS = 86_400_000;
/** How long `test_pending`'s extraction takes by the sandbox clock. */
const PENDING_MS = 60_000;

interface SandboxLogin {
  Disabled: string | null;
  Requests: { RequestId: string; Origin: string; GetAccountsDetailCalls: number; AsyncPolls: number }[];
}

/** Flinks keeps no secret of ours; the adapter gets an empty store to satisfy its signature. */
const noSecrets: ProviderSecrets = { put: async () => undefined, get: async () => null, delete: async () => undefined };

describe('connectionWorkflow with the Flinks sandbox and the store', () => {
  let env: TestWorkflowEnvironment;
  let sandbox: FlinksSandbox;
  let db: Database;
  let repository: Repository;
  let activities: RealActivities['activities'];
  // The sandbox's clock follows the test server's, which time skipping moves ahead.
  let clock = 0;

  before(async () => {
    env = await timeSkippingEnv();
    clock = await env.currentTimeMs();
    sandbox = await startFlinksSandbox({ now: () => clock, pendingMs: PENDING_MS, tickMs: 10 });
    db = await openTestDatabase();
    const flinks = createFlinksAdapter({ baseUrl: sandbox.url, customerId: DEFAULT_CUSTOMER_ID }, { secrets: noSecrets });
    ({ activities, repository } = await realActivities(db, { flinks }));
  });
  after(async () => {
    await sandbox?.close();
    await db?.close();
    await env?.teardown();
  });

  async function start(taskQueue: string, connectionId: string): Promise<ConnectionHandle> {
    clock = await env.currentTimeMs();
    return startConnection(env, taskQueue, { connectionId, provider: 'flinks', institutionId: 'FlinksCapital', mode: 'redirect' });
  }

  /** The end user at Flinks Connect, then Linkflow's callback as the API handles it: parse, verify the state, signal. */
  async function connectAtFlinksAndReturn(handle: WorkflowHandle, connectionId: string, view: ConnectionView, user: EndUser): Promise<string> {
    assert.equal(view.next_action?.type, 'redirect');
    const back = await connectAtFlinks(view.next_action.type === 'redirect' ? view.next_action.url : '', user);
    const redirect = await returnFromProvider(handle, connectionId, 'flinks', back);
    assert.equal(redirect.outcome, 'success');
    return redirect.providerConnectionId as string;
  }

  async function sandboxLogin(loginId: string): Promise<SandboxLogin> {
    const response = await fetch(`${sandbox.url}/sandbox/logins/${loginId}`);
    assert.equal(response.status, 200);
    return (await response.json()) as SandboxLogin;
  }

  /** Moves the sandbox clock and the test server's together. */
  async function advance(ms: number, duration: Duration): Promise<void> {
    clock += ms;
    await env.sleep(duration);
  }

  it('connects at Flinks Connect, imports the consented accounts, and a day later only the new day', async () => {
    const connectionId = randomUUID();
    const taskQueue = uniqueTaskQueue();
    await runWorkerWhile(env, { taskQueue, activities }, async () => {
      const handle = await start(taskQueue, connectionId);
      const waiting = await until(handle, (v) => v.state === 'awaiting_redirect');
      const url = new URL(waiting.next_action?.type === 'redirect' ? waiting.next_action.url : '');
      assert.equal(url.origin + url.pathname, `${sandbox.url}/v2/`);
      assert.equal(url.searchParams.get('institution'), 'FlinksCapital');
      await connectAtFlinksAndReturn(handle, connectionId, waiting, { username: 'alice' });

      const listed = await until(handle, (v) => v.state === 'awaiting_consent');
      assert.deepEqual(
        listed.accounts.map((a) => [a.name, a.type, a.currency]),
        [
          ['Chequing CAD', 'Chequing', 'CAD'],
          ['Savings CAD', 'Savings', 'CAD'],
          ['Visa Infinite', 'CreditCard', 'CAD'],
        ],
      );
      const [chequing, savings, card] = listed.accounts;
      assert.ok(chequing && savings && card);
      await handle.executeUpdate(giveConsentUpdate, {
        args: [{ consents: [{ account_id: chequing.id, consent: true }, { account_id: savings.id, consent: false }, { account_id: card.id, consent: true }] }],
      });
      const active = await until(handle, (v) => v.state === 'active');
      // 90 days of history plus today, for each of the two consented accounts.
      assert.equal(active.last_sync?.accounts, 2);
      assert.equal(active.last_sync?.transactions_added, 2 * 91);
      assert.deepEqual((await repository.listAccounts(connectionId)).map((a) => a.providerAccountId).sort(), [chequing.id, card.id].sort());
      assert.equal(await repository.countTransactions(connectionId), 2 * 91);

      // Flinks' nightly refresh adds a day; the periodic sync opens a new session and reads it.
      await advance(DAY_MS, '1 day');
      const resynced = await until(handle, (v) => v.state === 'active' && v.last_sync?.synced_at !== active.last_sync?.synced_at);
      assert.equal(resynced.last_sync?.transactions_added, 2, 'one new transaction per consented account');
      assert.equal(resynced.last_sync?.transactions_modified, 0);
      assert.equal(await repository.countTransactions(connectionId), 2 * 92);
      await stopQuietly(env, handle.workflowId);
    });
  });

  it('waits for a pending extraction with Temporal’s retries, resuming the same RequestId, without holding the worker', async () => {
    const connectionId = randomUUID();
    const taskQueue = uniqueTaskQueue();
    // One activity slot: while the pending connection waits, another one must still get through.
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities,
      maxConcurrentActivityTaskExecutions: 1,
    });
    await worker.runUntil(async () => {
      const handle = await start(taskQueue, connectionId);
      const waiting = await until(handle, (v) => v.state === 'awaiting_redirect');
      const loginId = await connectAtFlinksAndReturn(handle, connectionId, waiting, { username: 'test_pending' });

      // waitForJob met OPERATION_PENDING and failed retryably: Temporal will try again after its backoff.
      let retrying: temporal.api.workflow.v1.IPendingActivityInfo | undefined;
      for (let i = 0; i < 200 && !retrying; i++) {
        const pending = (await handle.describe()).raw.pendingActivities ?? [];
        retrying = pending.find((a) => a.activityType?.name === 'waitForJob' && (a.attempt ?? 0) >= 2);
        if (!retrying) await new Promise((r) => setTimeout(r, 25));
      }
      assert.ok(retrying, 'waitForJob is retried');
      assert.equal(retrying.lastFailure?.applicationFailureInfo?.type, 'OPERATION_PENDING');
      assert.equal(retrying.lastFailure?.applicationFailureInfo?.nonRetryable ?? false, false);
      const [details] = retrying.heartbeatDetails?.payloads ?? [];
      assert.ok(details, 'the failed attempt’s heartbeat is kept for the next one');
      const { requestId } = defaultPayloadConverter.fromPayload<{ requestId: string }>(details);
      const opened = (await sandboxLogin(loginId)).Requests.filter((r) => r.Origin === 'Authorize');
      assert.deepEqual(
        opened.map((r) => [r.RequestId, r.GetAccountsDetailCalls]),
        [[requestId, 1]],
      );
      assert.equal((await handle.query(stateQuery)).state, 'listing_accounts');

      // Meanwhile the worker's only activity slot serves another connection.
      const otherId = randomUUID();
      const other = await start(taskQueue, otherId);
      await connectAtFlinksAndReturn(other, otherId, await until(other, (v) => v.state === 'awaiting_redirect'), { username: 'carol' });
      await until(other, (v) => v.state === 'awaiting_consent');
      assert.equal((await handle.query(stateQuery)).state, 'listing_accounts');

      // The extraction ends; Temporal's next attempt (time skipped) polls the same session.
      await advance(PENDING_MS, '1 minute');
      const listed = await until(handle, (v) => v.state === 'awaiting_consent');
      assert.equal(listed.accounts.length, 3);
      const sessions = (await sandboxLogin(loginId)).Requests.filter((r) => r.Origin === 'Authorize');
      assert.equal(sessions.length, 1, 'the retried attempt resumed the RequestId instead of opening a new session');
      assert.equal(sessions[0]?.RequestId, requestId);
      assert.ok((sessions[0]?.AsyncPolls ?? 0) >= 1, 'it polled GetAccountsDetailAsync');

      await handle.executeUpdate(giveConsentUpdate, { args: [{ consents: listed.accounts.map((a) => ({ account_id: a.id, consent: true })) }] });
      const active = await until(handle, (v) => v.state === 'active');
      assert.equal(active.last_sync?.accounts, 3);
      assert.equal(await repository.countTransactions(connectionId), 3 * 91);
      await stopQuietly(env, other.workflowId);
      await stopQuietly(env, handle.workflowId);
    });
  });

  it('asks for a new Flinks Connect when the login is disabled, and syncs again once the end user reconnects', async () => {
    const connectionId = randomUUID();
    const taskQueue = uniqueTaskQueue();
    await runWorkerWhile(env, { taskQueue, activities }, async () => {
      const handle = await start(taskQueue, connectionId);
      const waiting = await until(handle, (v) => v.state === 'awaiting_redirect');
      const loginId = await connectAtFlinksAndReturn(handle, connectionId, waiting, { username: 'bob' });
      const active = await consentToAll(handle);

      const disabled = await fetch(`${sandbox.url}/sandbox/logins/${loginId}/disable`, { method: 'POST', body: '{"FlinksCode":"DISABLED_LOGIN"}' });
      assert.equal(disabled.status, 204);
      await advance(DAY_MS, '1 day');
      const invalid = await until(handle, (v) => v.state === 'credentials_invalid' && v.next_action !== null);
      assert.equal(invalid.reason, 'AUTH_FAILED');
      assert.equal(invalid.next_action?.type, 'redirect');
      const reconnect = new URL(invalid.next_action.type === 'redirect' ? invalid.next_action.url : '');
      assert.equal(reconnect.origin + reconnect.pathname, `${sandbox.url}/v2/`);
      assert.equal(reconnect.searchParams.get('institution'), 'FlinksCapital');

      // Logging in again gives the same LoginId, enabled again; the repair syncs at once.
      assert.equal(await connectAtFlinksAndReturn(handle, connectionId, invalid, { username: 'bob' }), loginId);
      const repaired = await until(handle, (v) => v.state === 'active' && v.last_sync?.synced_at !== active.last_sync?.synced_at);
      assert.equal(repaired.reason, null);
      assert.equal((await sandboxLogin(loginId)).Disabled, null);
      assert.equal(await repository.countTransactions(connectionId), 3 * 92);
      await stopQuietly(env, handle.workflowId);
      assert.equal((await fetch(`${sandbox.url}/sandbox/logins/${loginId}`)).status, 404, 'disconnecting deleted the login at Flinks');
    });
  });
});
