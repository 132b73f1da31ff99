// A connection that lives for years: two simulated years of daily syncs and several renewals on
// the time-skipping server, with continue-as-new keeping every run's history short.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { connectionWorkflow } from '../../workflows';
import { giveConsentUpdate, redirectReceivedSignal, stateQuery } from '../../contract/messages';
import { ACCOUNTS, FakeProvider, connectionInput } from '../helpers/fake-provider';
import { runWorkerWhile, timeSkippingEnv, uniqueTaskQueue } from '../helpers/temporal';

const DAY_MS = 86_400_000;
/** "A few hundred events, not thousands." */
const MAX_EVENTS_PER_RUN = 500;

describe('a connection over two years', () => {
  let env: TestWorkflowEnvironment;
  before(async () => {
    env = await timeSkippingEnv();
  });
  after(async () => {
    await env?.teardown();
  });

  it('syncs daily, renews before each expiry and keeps every run’s history bounded', async () => {
    const fake = new FakeProvider();
    const taskQueue = uniqueTaskQueue();
    const workflowId = `connection-${crypto.randomUUID()}`;
    await runWorkerWhile(env, { taskQueue, activities: fake.activities() }, async () => {
      const first = await env.client.workflow.start(connectionWorkflow, { taskQueue, workflowId, args: [connectionInput()] });
      const handle = env.client.workflow.getHandle(workflowId); // follows continue-as-new
      const state = async () => (await handle.query(stateQuery)).state;
      for (let i = 0; (await state()) !== 'awaiting_redirect'; i++) await new Promise((r) => setTimeout(r, 20));
      await first.signal(redirectReceivedSignal, { nonce: fake.lastNonce, outcome: 'success', providerConnectionId: 'ox-1', providerRef: {} });
      for (let i = 0; (await state()) !== 'awaiting_consent'; i++) await new Promise((r) => setTimeout(r, 20));
      await first.executeUpdate(giveConsentUpdate, { args: [{ consents: ACCOUNTS.map((a) => ({ account_id: a.id, consent: true })) }] });

      const started = await env.currentTimeMs();
      const runs = new Set<string>();
      let renewals = 0;
      while ((await env.currentTimeMs()) - started < 730 * DAY_MS) {
        await env.sleep('2 days');
        runs.add((await handle.describe()).runId);
        const view = await handle.query(stateQuery);
        assert.ok(['active', 'syncing', 'renewal_required'].includes(view.state), `still alive, not ${view.state} (${view.reason})`);
        if (view.state === 'renewal_required') {
          fake.renew(await env.currentTimeMs());
          await handle.signal(redirectReceivedSignal, { nonce: fake.lastNonce, outcome: 'success', providerConnectionId: 'ox-1', providerRef: {} });
          renewals++;
        }
      }

      assert.ok(fake.calls.syncs.length >= 720, `daily syncs: ${fake.calls.syncs.length}`);
      assert.ok(renewals >= 3, `renewals: ${renewals}`);
      assert.ok(runs.size >= 20, `continue-as-new runs: ${runs.size}`);
      const lengths = await Promise.all(
        [...runs].map(async (runId) => (await env.client.workflow.getHandle(workflowId, runId).fetchHistory()).events?.length ?? 0),
      );
      const longest = Math.max(...lengths);
      assert.ok(longest < MAX_EVENTS_PER_RUN, `longest run history: ${longest} events`);
      console.log(`two years: ${fake.calls.syncs.length} syncs, ${renewals} renewals, ${runs.size} runs, longest history ${longest} events`);
    });
  });
});
