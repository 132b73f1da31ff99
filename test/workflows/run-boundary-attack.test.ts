// Adversarial review of "Intent survives continue-as-new": messages sent at every await point of a
// run's last cycle, in combination, with a worker that replays every task, and updates left in
// flight by a timer that fired first. Each test states what a client must be able to rely on.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type WorkflowHandle, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { connectionWorkflow } from '../../workflows';
import {
  type Challenge,
  type ConnectionState,
  type ConnectionView,
  type ProviderEvent,
  addChannelUpdate,
  answerChallengeUpdate,
  disconnectRequestedSignal,
  giveConsentUpdate,
  providerEventSignal,
  redirectReceivedSignal,
  requestRenewalUpdate,
  stateQuery,
  submitCredentialsUpdate,
  syncRequestedSignal,
} from '../../contract/messages';
import { ACCOUNTS, armored, connectionInput } from '../helpers/fake-provider';
import { type BoundaryProvider, IMPORTS_IN_FIRST_RUN, boundaryProvider, redirectOk } from '../helpers/run-boundary';
import { runWorkerWhile, stopQuietly, timeSkippingEnv, uniqueTaskQueue, workflowBundle } from '../helpers/temporal';

type Handle = WorkflowHandle<typeof connectionWorkflow>;

/** A short challenge: its timer fires well inside an activity's one-minute start-to-close timeout. */
const SHORT_CHALLENGE: Challenge = {
  channelId: 'redirect1',
  fields: [{ id: '306', label: 'Code', type: 'NUMERIC', regexp: '^[0-9]{6}$', encrypt: false }],
  messages: [{ id: '305', type: 'INFO_MSG', text: 'Code sent by SMS.' }],
  timeoutSeconds: 20,
};

type Provider = BoundaryProvider;

describe('attacks on intent across continue-as-new', () => {
  let env: TestWorkflowEnvironment;
  before(async () => {
    env = await timeSkippingEnv();
  });
  after(async () => {
    await env?.teardown();
  });

  const until = async (what: string, check: () => Promise<boolean> | boolean, tries = 1500): Promise<void> => {
    for (let i = 0; i < tries; i++) {
      if (await check()) return;
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.fail(`timed out waiting for ${what}`);
  };

  /** Resolves with the promise's value, or fails after `ms` of real time (a hang). */
  const within = async <T>(what: string, promise: Promise<T>, ms = 15_000): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        promise,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`${what}: no answer after ${ms} ms (hangs)`)), ms);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  };

  /**
   * An update's answer: its result, or its validator's rejection (a 409 for the client). Either
   * is an answer; only a promise that never settles is a hang.
   */
  const answerOf = async (what: string, update: Promise<ConnectionView>): Promise<{ view?: ConnectionView; rejected?: string }> =>
    within(
      what,
      update.then(
        (view) => ({ view }),
        (err: unknown) => {
          const cause = err instanceof WorkflowUpdateFailedError ? err.cause : undefined;
          if (cause instanceof ApplicationFailure && cause.type) return { rejected: cause.type };
          throw err;
        },
      ),
    );

  /** Starts a connection and brings it to active after its first (consent) sync. */
  async function activeConnection(taskQueue: string, provider: Provider, input = connectionInput()): Promise<Handle> {
    const handle = (await env.client.workflow.start(connectionWorkflow, {
      taskQueue,
      workflowId: `connection-${crypto.randomUUID()}`,
      args: [input],
    })) as Handle;
    const state = async () => (await handle.query(stateQuery)).state;
    await until('awaiting_redirect', async () => (await state()) === 'awaiting_redirect');
    await handle.signal(redirectReceivedSignal, redirectOk(provider.fake.lastNonce));
    await until('awaiting_consent', async () => (await state()) === 'awaiting_consent');
    await handle.executeUpdate(giveConsentUpdate, { args: [{ consents: ACCOUNTS.map((a) => ({ account_id: a.id, consent: true })) }] });
    await until('first sync', async () => provider.fulls.length === 1 && (await state()) === 'active');
    return handle;
  }

  /** Syncs on request until `count` imports have run (the run continues as new after import 16). */
  async function syncUpTo(handle: Handle, provider: Provider, count: number, settled: ConnectionState = 'active'): Promise<void> {
    const state = async () => (await handle.query(stateQuery)).state;
    while (provider.fulls.length < count) {
      const next = provider.fulls.length + 1;
      await handle.signal(syncRequestedSignal);
      await until(`sync ${next}`, async () => provider.fulls.length === next && (await state()) === settled);
    }
  }

  async function atRunBoundary(
    at: 'import' | 'flush' | 'job',
    fn: (ctx: { handle: Handle; firstRunId: string; release: () => void; provider: Provider }) => Promise<void>,
    options: { maxCachedWorkflows?: number; lastSync?: { full: boolean } } = {},
  ): Promise<void> {
    const provider = boundaryProvider();
    const taskQueue = uniqueTaskQueue();
    await runWorkerWhile(env, { taskQueue, activities: provider.activities, maxCachedWorkflows: options.maxCachedWorkflows }, async () => {
      const handle = await activeConnection(taskQueue, provider);
      try {
        await syncUpTo(handle, provider, IMPORTS_IN_FIRST_RUN - 1);
        const firstRunId = (await handle.describe()).runId;
        const gate = provider.hold(at);
        if (options.lastSync) await handle.signal(syncRequestedSignal, options.lastSync);
        else await handle.signal(syncRequestedSignal);
        await until(`the last sync held at ${at}`, () => gate.reached);
        await fn({ handle, firstRunId, release: () => gate.release(), provider });
      } finally {
        await stopQuietly(env, handle.workflowId);
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

  // ---- Breaks expected -------------------------------------------------------------------------

  it('a full refresh asked during the run’s last (full) import is still a full refresh in the next run', async () => {
    await atRunBoundary(
      'import',
      async ({ handle, firstRunId, release, provider }) => {
        // The import under way fixed its plan before this request: the request asks for a new full read.
        await handle.signal(syncRequestedSignal, { full: true });
        release();
        await nextRun(handle, firstRunId);
        await until('the requested sync', () => provider.fulls.length === IMPORTS_IN_FIRST_RUN + 1);
        assert.deepEqual(provider.fulls.slice(IMPORTS_IN_FIRST_RUN - 1), [true, true], 'the second full refresh was read incrementally');
      },
      { lastSync: { full: true } },
    );
  });

  it('a challenge answer still being sent when the last sync’s challenge times out gets an answer and the run continues as new', async () => {
    const provider = boundaryProvider();
    const taskQueue = uniqueTaskQueue();
    await runWorkerWhile(env, { taskQueue, activities: provider.activities }, async () => {
      const handle = await activeConnection(taskQueue, provider);
      try {
        await syncUpTo(handle, provider, IMPORTS_IN_FIRST_RUN - 1);
        const firstRunId = (await handle.describe()).runId;
        // The run's last sync asks a challenge; the end user answers just as it times out.
        provider.fake.syncing.push({ outcome: 'challenge', challenge: SHORT_CHALLENGE });
        await handle.signal(syncRequestedSignal);
        await waitForState(handle, 'challenge_required');
        const gate = provider.hold('answer');
        const answered = handle.executeUpdate(answerChallengeUpdate, { args: [{ answers: [{ id: '306', value: armored('123456') }] }] });
        answered.catch(() => undefined);
        await until('the answer at the provider', () => gate.reached);
        await env.sleep('30 seconds'); // the challenge's 20 s timer fires while the answer is on its way
        await waitForState(handle, 'active');
        gate.release();
        const [run, answer] = await Promise.allSettled([
          within('continue-as-new', nextRun(handle, firstRunId)),
          answerOf('the answerChallenge update', answered),
        ]);
        assert.deepEqual(
          [run.status === 'fulfilled' ? 'continued as new' : String(run.reason), answer.status === 'fulfilled' ? 'answered' : String(answer.reason)],
          ['continued as new', 'answered'],
        );
        // Two days later the connection still syncs by itself.
        const imports = provider.fulls.length;
        await env.sleep('2 days');
        await until('a periodic sync', () => provider.fulls.length > imports, 500);
      } finally {
        await stopQuietly(env, handle.workflowId);
      }
    });
  });

  it('credentials for an added channel still being checked when its authorization times out get an answer, and the run still continues as new', async () => {
    const provider = boundaryProvider();
    const taskQueue = uniqueTaskQueue();
    await runWorkerWhile(env, { taskQueue, activities: provider.activities }, async () => {
      const handle = await activeConnection(taskQueue, provider, connectionInput({ redirectTimeoutSeconds: 30 }));
      try {
        const firstRunId = (await handle.describe()).runId;
        const added = await handle.executeUpdate(addChannelUpdate, { args: [{ mode: 'embedded' }] });
        assert.equal(added.state, 'awaiting_credentials');
        const gate = provider.hold('credentials');
        const submitted = handle.executeUpdate(submitCredentialsUpdate, {
          args: [{ credentials: [{ id: '3500', value: armored('user') }, { id: '3502', value: armored('password1') }] }],
        });
        submitted.catch(() => undefined);
        await until('the credentials at the provider', () => gate.reached);
        await env.sleep('40 seconds'); // the added channel's 30 s authorization timer fires meanwhile
        await waitForState(handle, 'active');
        gate.release();
        await answerOf('the submitCredentials update', submitted);
        // The run carries on: 15 cycles later it continues as new.
        await syncUpTo(handle, provider, IMPORTS_IN_FIRST_RUN);
        await within('continue-as-new', nextRun(handle, firstRunId));
      } finally {
        await stopQuietly(env, handle.workflowId);
      }
    });
  });

  // ---- Attacks that held (regression tests) ----------------------------------------------------

  for (const at of ['job', 'import', 'flush'] as const) {
    it(`DELETE and a renewal update together at the boundary (${at}): the update answers and the workflow ends disconnected`, async () => {
      await atRunBoundary(at, async ({ handle, release, provider }) => {
        const renewal = handle.executeUpdate(requestRenewalUpdate);
        renewal.catch(() => undefined);
        await handle.signal(disconnectRequestedSignal);
        release();
        const final = await within('the workflow result', handle.result());
        assert.equal(final.state, 'disconnected');
        const answer = await answerOf('the renewal update', renewal);
        // Rejected (409) while the sync runs, or served (or ended by the DELETE) once it is over.
        if (at === 'flush') assert.ok(['renewal_required', 'disconnected'].includes(answer.view?.state ?? ''), JSON.stringify(answer));
        else assert.ok(answer.rejected === 'WrongState' || answer.view, JSON.stringify(answer));
        assert.equal(provider.fake.calls.disconnects, 1);
      });
    });

    it(`an added channel then DELETE at the boundary (${at}): the update answers and the workflow ends disconnected`, async () => {
      await atRunBoundary(at, async ({ handle, release, provider }) => {
        const added = handle.executeUpdate(addChannelUpdate, { args: [{ mode: 'embedded' }] });
        added.catch(() => undefined);
        await handle.signal(disconnectRequestedSignal);
        release();
        const final = await within('the workflow result', handle.result());
        assert.equal(final.state, 'disconnected');
        const answer = await answerOf('the addChannel update', added);
        if (at === 'flush') assert.ok(answer.view, JSON.stringify(answer));
        assert.equal(provider.fake.calls.disconnects, 1);
      });
    });

    it(`a sync request, a provider webhook and a redelivery together at the boundary (${at}), replaying every task: each acted on once`, async () => {
      await atRunBoundary(
        at,
        async ({ handle, firstRunId, release, provider }) => {
          const event: ProviderEvent = { eventId: 'evt-x', kind: 'failure', status: 'USER_ACTION_REQUIRED', channelId: 'redirect1' };
          await handle.signal(providerEventSignal, event);
          await handle.signal(syncRequestedSignal);
          await handle.signal(providerEventSignal, event);
          release();
          await nextRun(handle, firstRunId);
          // First the webhook (user_action_required), then the carried sync brings it back to active.
          await until('the carried sync', () => provider.fulls.length === IMPORTS_IN_FIRST_RUN + 1);
          await waitForState(handle, 'active');
          await handle.signal(providerEventSignal, event);
          await handle.signal(syncRequestedSignal);
          await until('one more sync', () => provider.fulls.length === IMPORTS_IN_FIRST_RUN + 2);
          await waitForState(handle, 'active');
          const userAction = provider.fake.calls.events.filter(
            (e) => e.type === 'connection.state_changed' && e.data.state === 'user_action_required',
          );
          assert.equal(userAction.length, 1);
        },
        { maxCachedWorkflows: 0 },
      );
    });
  }

  it('two updates at once while the run hands over its last events (renewal and added channel): both answer', async () => {
    await atRunBoundary('flush', async ({ handle, release }) => {
      const renewal = handle.executeUpdate(requestRenewalUpdate);
      const added = handle.executeUpdate(addChannelUpdate, { args: [{ mode: 'embedded' }] });
      renewal.catch(() => undefined);
      added.catch(() => undefined);
      release();
      const [r, a] = await Promise.all([answerOf('the renewal update', renewal), answerOf('the addChannel update', added)]);
      assert.ok(r.view && a.view, JSON.stringify({ r, a }));
    });
  });

  it('a stale renewal nonce sent right after the run continued as new changes nothing; the carried one is taken once', async () => {
    const provider = boundaryProvider();
    const taskQueue = uniqueTaskQueue();
    await runWorkerWhile(env, { taskQueue, activities: provider.activities, maxCachedWorkflows: 0 }, async () => {
      const handle = await activeConnection(taskQueue, provider);
      try {
        const renewal = await handle.executeUpdate(requestRenewalUpdate);
        assert.equal(renewal.state, 'renewal_required');
        await syncUpTo(handle, provider, IMPORTS_IN_FIRST_RUN - 1, 'renewal_required');
        const firstRunId = (await handle.describe()).runId;
        const gate = provider.hold('import');
        await handle.signal(syncRequestedSignal);
        await until('the last sync held', () => gate.reached);
        const nonce = provider.fake.lastNonce;
        await handle.signal(redirectReceivedSignal, redirectOk(nonce));
        gate.release();
        await nextRun(handle, firstRunId);
        // The same redirect again, and a foreign one, in the next run.
        await handle.signal(redirectReceivedSignal, redirectOk(nonce));
        await handle.signal(redirectReceivedSignal, redirectOk('nonce-foreign'));
        await until('the sync after the renewal', () => provider.fulls.length === IMPORTS_IN_FIRST_RUN + 1);
        await waitForState(handle, 'active');
        await new Promise((r) => setTimeout(r, 500));
        assert.equal(provider.fulls.length, IMPORTS_IN_FIRST_RUN + 1, 'a replayed redirect started another sync');
        assert.equal((await handle.query(stateQuery)).state, 'active');
      } finally {
        await stopQuietly(env, handle.workflowId);
      }
    });
  });

  it('DELETE while awaiting_credentials with the credentials update in flight: both answer, the workflow completes', async () => {
    const provider = boundaryProvider();
    const taskQueue = uniqueTaskQueue();
    await runWorkerWhile(env, { taskQueue, activities: provider.activities }, async () => {
      const handle = (await env.client.workflow.start(connectionWorkflow, {
        taskQueue,
        workflowId: `connection-${crypto.randomUUID()}`,
        args: [connectionInput({ mode: 'embedded' })],
      })) as Handle;
      try {
        await waitForState(handle, 'awaiting_credentials');
        const gate = provider.hold('credentials');
        const submitted = handle.executeUpdate(submitCredentialsUpdate, {
          args: [{ credentials: [{ id: '3500', value: armored('user') }, { id: '3502', value: armored('password1') }] }],
        });
        submitted.catch(() => undefined);
        await until('credentials at the provider', () => gate.reached);
        await handle.signal(disconnectRequestedSignal);
        gate.release();
        const final = await within('the workflow result', handle.result());
        assert.equal(final.state, 'disconnected');
        const view = await within('the submitCredentials update', submitted);
        assert.equal(view.state, 'disconnected');
      } finally {
        await stopQuietly(env, handle.workflowId);
      }
    });
  });

  it('histories of a run that hands intents over, and of the run that takes them, replay with the code', async () => {
    await atRunBoundary(
      'flush',
      async ({ handle, firstRunId, release, provider }) => {
        await handle.signal(syncRequestedSignal, { full: true });
        await handle.signal(providerEventSignal, { eventId: 'evt-r', kind: 'data_available', channelId: null });
        release();
        const secondRunId = await nextRun(handle, firstRunId);
        await until('the carried syncs', () => provider.fulls.length >= IMPORTS_IN_FIRST_RUN + 2);
        await waitForState(handle, 'active');
        for (const runId of [firstRunId, secondRunId]) {
          const history = await env.client.workflow.getHandle(handle.workflowId, runId).fetchHistory();
          await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, `${handle.workflowId}/${runId}`);
        }
      },
      { maxCachedWorkflows: 0 },
    );
  });
});
