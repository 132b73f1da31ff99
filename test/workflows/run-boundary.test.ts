// What a client or a provider says at a run boundary is never lost: every signal and update sent
// during the last sync of a run, or while the run is handing over its last events before it
// continues as new, is honoured (by this run or the next one).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { connectionWorkflow } from '../../workflows';
import {
  type ConnectionState,
  type ConnectionView,
  type ProviderEvent,
  addChannelUpdate,
  disconnectRequestedSignal,
  giveConsentUpdate,
  providerEventSignal,
  redirectReceivedSignal,
  requestRenewalUpdate,
  stateQuery,
  syncRequestedSignal,
} from '../../contract/messages';
import { ACCOUNTS, connectionInput } from '../helpers/fake-provider';
import { IMPORTS_IN_FIRST_RUN, boundaryProvider, redirectOk } from '../helpers/run-boundary';
import { runWorkerWhile, stopQuietly, timeSkippingEnv, uniqueTaskQueue } from '../helpers/temporal';

type Handle = WorkflowHandle<typeof connectionWorkflow>;

describe('intent across continue-as-new', () => {
  let env: TestWorkflowEnvironment;
  before(async () => {
    env = await timeSkippingEnv();
  });
  after(async () => {
    await env?.teardown();
  });

  const until = async (what: string, check: () => Promise<boolean> | boolean): Promise<void> => {
    for (let i = 0; i < 1500; i++) {
      if (await check()) return;
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.fail(`timed out waiting for ${what}`);
  };

  /**
   * An active connection whose run is at its last sync cycle, held at `at`; `fn` sends its
   * message there, and the test then checks the next run.
   */
  async function atRunBoundary(
    at: 'import' | 'flush',
    fn: (ctx: { handle: Handle; firstRunId: string; release: () => void; provider: ReturnType<typeof boundaryProvider> }) => Promise<void>,
  ): Promise<void> {
    const provider = boundaryProvider();
    const { fake, activities, fulls } = provider;
    const taskQueue = uniqueTaskQueue();
    await runWorkerWhile(env, { taskQueue, activities }, async () => {
      const first = await env.client.workflow.start(connectionWorkflow, {
        taskQueue,
        workflowId: `connection-${crypto.randomUUID()}`,
        args: [connectionInput()],
      });
      const handle = env.client.workflow.getHandle(first.workflowId) as Handle; // follows continue-as-new
      try {
        const state = async () => (await handle.query(stateQuery)).state;
        await until('awaiting_redirect', async () => (await state()) === 'awaiting_redirect');
        await handle.signal(redirectReceivedSignal, redirectOk(fake.lastNonce));
        await until('awaiting_consent', async () => (await state()) === 'awaiting_consent');
        await handle.executeUpdate(giveConsentUpdate, { args: [{ consents: ACCOUNTS.map((a) => ({ account_id: a.id, consent: true })) }] });
        await until('first sync', async () => fulls.length === 1 && (await state()) === 'active');
        // Syncs on request up to the run's last one.
        for (let cycle = 1; cycle < IMPORTS_IN_FIRST_RUN - 1; cycle++) {
          await handle.signal(syncRequestedSignal);
          await until(`sync ${cycle}`, async () => fulls.length === cycle + 1 && (await state()) === 'active');
        }
        const firstRunId = (await handle.describe()).runId;
        const gate = provider.hold(at);
        await handle.signal(syncRequestedSignal);
        await until(`the last sync held at ${at}`, () => gate.reached);
        await fn({ handle, firstRunId, release: () => gate.release(), provider });
      } finally {
        await stopQuietly(env, first.workflowId);
      }
    });
  }

  const nextRun = async (handle: Handle, firstRunId: string) => {
    for (let i = 0; i < 1500; i++) {
      const { runId } = await handle.describe();
      if (runId !== firstRunId) return runId;
      await new Promise((r) => setTimeout(r, 10));
    }
    return assert.fail('the run never continued as new');
  };

  const waitForState = async (handle: Handle, state: ConnectionState): Promise<ConnectionView> => {
    let view: ConnectionView | undefined;
    for (let i = 0; i < 1500; i++) {
      const description = await handle.describe();
      if (description.status.name !== 'RUNNING') return (await handle.result()) as ConnectionView;
      view = await handle.query(stateQuery);
      if (view.state === state) return view;
      await new Promise((r) => setTimeout(r, 10));
    }
    return assert.fail(`never ${state}; last ${view?.state}`);
  };

  for (const at of ['import', 'flush'] as const) {
    const moment = at === 'import' ? 'during the last sync of a run' : 'while the run hands over its last events';

    it(`a DELETE ${moment} disconnects the connection at the provider`, async () => {
      await atRunBoundary(at, async ({ handle, release, provider }) => {
        await handle.signal(disconnectRequestedSignal);
        release();
        const final = await handle.result();
        assert.equal(final.state, 'disconnected');
        assert.equal(final.reason, 'DISCONNECTED');
        assert.equal(provider.fake.calls.disconnects, 1, 'the provider connection is deleted');
      });
    });

    it(`a sync request ${moment} is run in the next run, at once`, async () => {
      await atRunBoundary(at, async ({ handle, firstRunId, release, provider }) => {
        await handle.signal(syncRequestedSignal);
        release();
        await nextRun(handle, firstRunId);
        // No time passes here: only the carried request can start a sync in the new run.
        await until('the requested sync', () => provider.fulls.length === IMPORTS_IN_FIRST_RUN + 1);
        assert.equal(provider.fulls[IMPORTS_IN_FIRST_RUN], false);
      });
    });

    it(`a full refresh requested ${moment} reads everything in the next run`, async () => {
      await atRunBoundary(at, async ({ handle, firstRunId, release, provider }) => {
        await handle.signal(syncRequestedSignal, { full: true });
        release();
        await nextRun(handle, firstRunId);
        await until('the full sync', () => provider.fulls.length === IMPORTS_IN_FIRST_RUN + 1);
        // Asked during an incremental import (held at import): that one stays incremental.
        assert.deepEqual(provider.fulls.slice(IMPORTS_IN_FIRST_RUN - 1), [false, true]);
      });
    });

    it(`a provider webhook ${moment} is applied in the next run, and its redelivery there is dropped`, async () => {
      await atRunBoundary(at, async ({ handle, firstRunId, release, provider }) => {
        const event: ProviderEvent = { eventId: 'evt-boundary', kind: 'failure', status: 'USER_ACTION_REQUIRED', channelId: 'redirect1' };
        await handle.signal(providerEventSignal, event);
        release();
        await nextRun(handle, firstRunId);
        const view = await waitForState(handle, 'user_action_required');
        assert.equal(view.reason, 'USER_ACTION_REQUIRED');
        // The bank's issue is solved and a sync brings the connection back; the same event again changes nothing.
        await handle.signal(syncRequestedSignal);
        await waitForState(handle, 'active');
        const syncsBefore = provider.fulls.length;
        await handle.signal(providerEventSignal, event);
        await handle.signal(syncRequestedSignal);
        // The loop applies provider events before syncs: once the sync ran, a redelivery would have shown.
        await until('the sync after the redelivery', () => provider.fulls.length === syncsBefore + 1);
        await waitForState(handle, 'active');
        const userAction = provider.fake.calls.events.filter(
          (e) => e.type === 'connection.state_changed' && e.data.state === 'user_action_required',
        );
        assert.equal(userAction.length, 1, 'the redelivered event was applied again');
      });
    });
  }

  it('a renewal redirect that arrives during the last sync of a run is carried into the next one', async () => {
    const provider = boundaryProvider();
    const { fake, activities, fulls } = provider;
    const taskQueue = uniqueTaskQueue();
    await runWorkerWhile(env, { taskQueue, activities }, async () => {
      const handle = (await env.client.workflow.start(connectionWorkflow, {
        taskQueue,
        workflowId: `connection-${crypto.randomUUID()}`,
        args: [connectionInput()],
      })) as Handle;
      try {
        const state = async () => (await handle.query(stateQuery)).state;
        await until('awaiting_redirect', async () => (await state()) === 'awaiting_redirect');
        await handle.signal(redirectReceivedSignal, redirectOk(fake.lastNonce));
        await until('awaiting_consent', async () => (await state()) === 'awaiting_consent');
        await handle.executeUpdate(giveConsentUpdate, { args: [{ consents: ACCOUNTS.map((a) => ({ account_id: a.id, consent: true })) }] });
        await until('first sync', async () => fulls.length === 1 && (await state()) === 'active');
        const renewal = await handle.executeUpdate(requestRenewalUpdate);
        assert.equal(renewal.state, 'renewal_required');
        for (let cycle = 1; cycle < IMPORTS_IN_FIRST_RUN - 1; cycle++) {
          await handle.signal(syncRequestedSignal);
          await until(`sync ${cycle}`, async () => fulls.length === cycle + 1 && (await state()) === 'renewal_required');
        }
        const firstRunId = (await handle.describe()).runId;
        const gate = provider.hold('import');
        await handle.signal(syncRequestedSignal);
        await until('the last sync held', () => gate.reached);
        await handle.signal(redirectReceivedSignal, redirectOk(fake.lastNonce));
        gate.release();
        await nextRun(handle, firstRunId);
        // The renewal is taken in the next run: a sync follows and the connection is active again.
        await until('the sync after the renewal', () => fulls.length === IMPORTS_IN_FIRST_RUN + 1);
        await waitForState(handle, 'active');
      } finally {
        await stopQuietly(env, handle.workflowId);
      }
    });
  });

  it('a renewal asked while the run hands over its last events is served before the run ends', async () => {
    await atRunBoundary('flush', async ({ handle, release, provider }) => {
      const renewal = handle.executeUpdate(requestRenewalUpdate);
      release();
      const view = await renewal;
      assert.equal(view.state, 'renewal_required');
      const syncsBefore = provider.fulls.length;
      await handle.signal(redirectReceivedSignal, redirectOk(provider.fake.lastNonce));
      await until('the sync after the renewal', () => provider.fulls.length === syncsBefore + 1);
      await waitForState(handle, 'active');
    });
  });

  it('an added channel asked while the run hands over its last events is served before the run ends', async () => {
    await atRunBoundary('flush', async ({ handle, release }) => {
      const added = handle.executeUpdate(addChannelUpdate, { args: [{ mode: 'embedded' }] });
      release();
      const view = await added;
      assert.equal(view.state, 'awaiting_credentials');
      assert.equal(view.next_action?.type, 'credentials');
    });
  });
});
