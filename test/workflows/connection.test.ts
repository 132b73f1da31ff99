// Time-skipping tests of the connection lifecycle with fake activities: every timer is
// crossed without waiting in real time.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Activities, SyncResult } from '../../activities';
import {
  type ConnectionInput,
  type ConnectionView,
  type ListedAccount,
  giveConsentUpdate,
  redirectReceivedSignal,
  stateQuery,
} from '../../workflows/messages';
import { connectionWorkflow } from '../../workflows';
import { runWorkerWhile, timeSkippingEnv, uniqueTaskQueue } from '../helpers/temporal';

const ACCOUNTS: ListedAccount[] = [
  { id: 'acc-1', name: 'Compte courant', type: 'CHECKINGS', currency: 'EUR', mask: '0001' },
  { id: 'acc-2', name: 'Compte joint', type: 'CHECKINGS', currency: 'EUR' },
  { id: 'acc-3', name: 'Carte', type: 'CREDIT_CARD', currency: 'EUR' },
];

/** Fake provider side: records what the workflow asked for. */
function fakeActivities() {
  const calls = { syncs: [] as { accountIds: string[]; trigger: boolean }[], consents: [] as unknown[] };
  const activities: Activities = {
    async startAuthorization() {
      return { url: 'https://bank.example/authorize?state=s', nonce: 'nonce-1' };
    },
    async listAccounts() {
      return ACCOUNTS;
    },
    async giveConsent({ consents }) {
      calls.consents.push(consents);
    },
    async syncConnection({ accountIds, trigger }): Promise<SyncResult> {
      calls.syncs.push({ accountIds, trigger });
      return { synced_at: new Date().toISOString(), accounts: accountIds.length, transactions_added: 0, transactions_modified: 0 };
    },
  };
  return { activities, calls };
}

const input = (overrides: Partial<ConnectionInput> = {}): ConnectionInput => ({
  connectionId: crypto.randomUUID(),
  provider: 'oxlin',
  institutionId: '87',
  redirectUrl: 'https://client.example/done',
  callbackUrl: 'http://localhost:3000/callbacks/oxlin',
  syncIntervalSeconds: 86_400,
  redirectTimeoutSeconds: 1_800,
  consentTimeoutSeconds: 86_400,
  ...overrides,
});

const redirectOk = { nonce: 'nonce-1', outcome: 'success', providerConnectionId: 'ox-1', providerRef: { queueId: 'q-1' } } as const;

describe('connectionWorkflow', () => {
  let env: TestWorkflowEnvironment;
  before(async () => {
    env = await timeSkippingEnv();
  });
  after(async () => {
    await env?.teardown();
  });

  /** Starts a workflow with a worker running fake activities, and runs `fn` against it. */
  async function withConnection<T>(
    fake: ReturnType<typeof fakeActivities>,
    overrides: Partial<ConnectionInput>,
    fn: (handle: Awaited<ReturnType<TestWorkflowEnvironment['client']['workflow']['start']>>) => Promise<T>,
  ): Promise<T> {
    const taskQueue = uniqueTaskQueue();
    return runWorkerWhile(env, { taskQueue, activities: fake.activities }, async () => {
      const handle = await env.client.workflow.start(connectionWorkflow, {
        taskQueue,
        workflowId: `connection-${crypto.randomUUID()}`,
        args: [input(overrides)],
      });
      try {
        return await fn(handle);
      } finally {
        // A workflow left running with nobody to poll its task queue would stall time skipping for the next test.
        if ((await handle.describe()).status.name === 'RUNNING') await handle.terminate('test over');
      }
    });
  }

  async function waitForState(handle: { query: (q: typeof stateQuery) => Promise<ConnectionView> }, state: string) {
    for (let i = 0; i < 100; i++) {
      const view = await handle.query(stateQuery);
      if (view.state === state) return view;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.fail(`connection never reached ${state}; it is ${(await handle.query(stateQuery)).state}`);
  }

  it('goes from authorizing to active, syncing the consented accounts', async () => {
    const fake = fakeActivities();
    await withConnection(fake, {}, async (handle) => {
      const waiting = await waitForState(handle, 'awaiting_redirect');
      assert.equal(waiting.next_action?.type, 'redirect');
      assert.equal(waiting.next_action.type === 'redirect' && waiting.next_action.url, 'https://bank.example/authorize?state=s');

      await handle.signal(redirectReceivedSignal, redirectOk);
      const consent = await waitForState(handle, 'awaiting_consent');
      assert.deepEqual(
        consent.next_action?.type === 'consent' && consent.next_action.accounts.map((a) => a.id),
        ['acc-1', 'acc-2', 'acc-3'],
      );

      const after = await handle.executeUpdate(giveConsentUpdate, {
        args: [{ consents: ACCOUNTS.map((a) => ({ account_id: a.id, consent: true })) }],
      });
      assert.equal(after.state, 'syncing');
      const active = await waitForState(handle, 'active');
      assert.equal(active.next_action, null);
      assert.ok(active.last_sync);
      assert.ok(active.next_sync_at);
      assert.deepEqual(fake.calls.syncs, [{ accountIds: ['acc-1', 'acc-2', 'acc-3'], trigger: false }]);
    });
  });

  it('expires when the redirect never comes, after the timeout and without waiting for it', async () => {
    const fake = fakeActivities();
    const started = Date.now();
    const view = await withConnection(fake, { redirectTimeoutSeconds: 1_800 }, (handle) => handle.result());
    assert.equal(view.state, 'expired');
    assert.equal(view.reason, 'REDIRECT_TIMEOUT');
    assert.equal(view.next_action?.type, 'reconnect');
    assert.ok(Date.now() - started < 60_000, 'the 30 minutes were skipped');
  });

  it('ignores a redirect that does not carry the expected nonce', async () => {
    const fake = fakeActivities();
    await withConnection(fake, {}, async (handle) => {
      await waitForState(handle, 'awaiting_redirect');
      await handle.signal(redirectReceivedSignal, { ...redirectOk, nonce: 'forged' });
      const view = await handle.query(stateQuery);
      assert.equal(view.state, 'awaiting_redirect');
      await handle.signal(redirectReceivedSignal, redirectOk);
      await waitForState(handle, 'awaiting_consent');
    });
  });

  it('syncs only the accounts the end user consented to', async () => {
    const fake = fakeActivities();
    await withConnection(fake, {}, async (handle) => {
      await waitForState(handle, 'awaiting_redirect');
      await handle.signal(redirectReceivedSignal, redirectOk);
      await waitForState(handle, 'awaiting_consent');
      await handle.executeUpdate(giveConsentUpdate, {
        args: [{ consents: [{ account_id: 'acc-1', consent: true }, { account_id: 'acc-2', consent: false }] }],
      });
      const active = await waitForState(handle, 'active');
      assert.deepEqual(fake.calls.syncs, [{ accountIds: ['acc-1'], trigger: false }]);
      assert.deepEqual(
        active.accounts.map((a) => [a.id, a.consent]),
        [['acc-1', true], ['acc-2', false], ['acc-3', null]],
      );
    });
  });

  it('rejects consent for unknown accounts and consent in the wrong state, changing nothing', async () => {
    const fake = fakeActivities();
    await withConnection(fake, {}, async (handle) => {
      await waitForState(handle, 'awaiting_redirect');
      await assert.rejects(
        handle.executeUpdate(giveConsentUpdate, { args: [{ consents: [{ account_id: 'acc-1', consent: true }] }] }),
        (err: Error) => /awaiting_consent/.test(String((err.cause as Error)?.message)),
      );
      await handle.signal(redirectReceivedSignal, redirectOk);
      await waitForState(handle, 'awaiting_consent');
      await assert.rejects(
        handle.executeUpdate(giveConsentUpdate, { args: [{ consents: [{ account_id: 'nope', consent: true }] }] }),
        (err: Error) => /unknown account ids: nope/.test(String((err.cause as Error)?.message)),
      );
      assert.equal((await handle.query(stateQuery)).state, 'awaiting_consent');
      assert.equal(fake.calls.consents.length, 0);
    });
  });

  it('ends cancelled when the end user consents to no account', async () => {
    const fake = fakeActivities();
    const view = await withConnection(fake, {}, async (handle) => {
      await waitForState(handle, 'awaiting_redirect');
      await handle.signal(redirectReceivedSignal, redirectOk);
      await waitForState(handle, 'awaiting_consent');
      await handle.executeUpdate(giveConsentUpdate, {
        args: [{ consents: ACCOUNTS.map((a) => ({ account_id: a.id, consent: false })) }],
      });
      return handle.result();
    });
    assert.equal(view.state, 'cancelled');
    assert.equal(view.reason, 'CONSENT_DECLINED');
  });

  it('ends cancelled when access is denied at the bank', async () => {
    const fake = fakeActivities();
    const view = await withConnection(fake, {}, async (handle) => {
      await waitForState(handle, 'awaiting_redirect');
      await handle.signal(redirectReceivedSignal, { nonce: 'nonce-1', outcome: 'denied', error: 'access_denied' });
      return handle.result();
    });
    assert.equal(view.state, 'cancelled');
    assert.equal(view.reason, 'ACCESS_DENIED');
  });

  it('expires when consent never comes', async () => {
    const fake = fakeActivities();
    const view = await withConnection(fake, { consentTimeoutSeconds: 3_600 }, async (handle) => {
      await waitForState(handle, 'awaiting_redirect');
      await handle.signal(redirectReceivedSignal, redirectOk);
      return handle.result();
    });
    assert.equal(view.state, 'expired');
    assert.equal(view.reason, 'CONSENT_TIMEOUT');
  });

  it('syncs again every interval while active', async () => {
    const fake = fakeActivities();
    await withConnection(fake, { syncIntervalSeconds: 86_400 }, async (handle) => {
      await waitForState(handle, 'awaiting_redirect');
      await handle.signal(redirectReceivedSignal, redirectOk);
      await waitForState(handle, 'awaiting_consent');
      await handle.executeUpdate(giveConsentUpdate, { args: [{ consents: [{ account_id: 'acc-1', consent: true }] }] });
      await waitForState(handle, 'active');
      await env.sleep('1 day');
      await env.sleep('1 day');
      assert.deepEqual(
        fake.calls.syncs.map((s) => s.trigger),
        [false, true, true],
      );
    });
  });
});
