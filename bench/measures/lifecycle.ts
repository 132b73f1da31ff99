// Issue 16, "one lifecycle": an Oxlin redirect connection from POST /v1/connections to `active`
// through the real API, against a bare workflow (bench/workflows/bare-lifecycle.ts) running the
// same Linkflow activities in the same order on a second worker (own task queue, same Temporal dev
// server, same payload codec, same store, same sandbox bank), driven by the same bench steps.
// Both sides poll for the state they wait on every POLL_MS: Linkflow by GET /v1/connections/:id,
// the baseline by a query.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Connection } from '@temporalio/client';
import { NativeConnection, Worker, bundleWorkflowCode } from '@temporalio/worker';
import type { ConnectionView } from '../../contract/messages';
import { redirectReceivedSignal } from '../../contract/messages';
import { createActivities } from '../../activities';
import { createStateSigner } from '../../domain/redirect-state';
import { redirectParsers } from '../../providers';
import type { AdapterRegistry } from '../../providers/types';
import { createOxlinAdapter } from '../../providers/oxlin/adapter';
import { createProviderLinks } from '../../store';
import { HEARTBEAT_THROTTLE } from '../../worker/worker';
import { E2E_STATE_SECRET, type Linkflow, startLinkflow } from '../../test/helpers/linkflow';
import { approveAtBank } from '../../test/helpers/oxlin';
import { type BareLifecycleInput, bareConsentUpdate, bareLifecycleWorkflow, bareProgressQuery } from '../workflows/bare-lifecycle';
import type { Measure } from '../measure';

/** How often each side asks whether the state it waits on is reached, in ms. */
export const POLL_MS = 10;
/** What a bench Linkflow allows per tenant a minute: far above what the samples send (the limiter still runs). */
export const BENCH_RATE_LIMIT = 1_000_000;

/** Calls `read` every POLL_MS until `done` holds (at most `timeoutMs`); answers the value read. */
export async function pollUntil<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** One Linkflow lifecycle through the API: POST, open the link, approve at the bank, callback, consent all, active. */
async function linkflowLifecycle(lf: Linkflow): Promise<number> {
  const start = performance.now();
  const created = await lf.call('POST', '/v1/connections', { provider: 'oxlin', institution_id: '87', redirect_url: 'https://client.example/linked' });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const id = created.body.id as string;
  const view = (): Promise<ConnectionView> => lf.call('GET', `/v1/connections/${id}`).then((r) => r.body as ConnectionView);
  const callback = await approveAtBank(await lf.openLink(created.body.next_action.url), 'approve', 'alice');
  assert.equal((await fetch(callback, { redirect: 'manual' })).status, 303);
  const awaiting = await pollUntil(view, (v) => v.state === 'awaiting_consent', 'awaiting_consent');
  const accounts = awaiting.next_action?.type === 'consent' ? awaiting.next_action.accounts : [];
  const given = await lf.call('PUT', `/v1/connections/${id}/consents`, { consents: accounts.map((a) => ({ account_id: a.id, consent: true })) });
  assert.equal(given.status, 200, JSON.stringify(given.body));
  await pollUntil(view, (v) => v.state === 'active', 'active');
  return performance.now() - start;
}

export const lifecycle: Measure = {
  id: 'lifecycle',
  title: () => 'one Oxlin redirect lifecycle, POST → active (ms)',
  baseline: 'bare workflow, same Linkflow activities in the same order, same signal/update, same worker settings, no state logic/webhooks/search attributes; start → imported',
  unit: 'ms',
  target: { kind: 'max', ratio: 1.15 },
  async setup(ctx) {
    const lf = await startLinkflow({ rateLimitPerMinute: BENCH_RATE_LIMIT });
    const signer = createStateSigner(E2E_STATE_SECRET);
    const callbackUrl = `${lf.api}/callbacks/oxlin`;
    ctx.progress('lifecycle: bundling the bare workflow');
    const connection = await NativeConnection.connect({ address: (lf.env.client.connection as Connection).options.address });
    const taskQueue = `bench-bare-${randomUUID()}`;
    // The same adapter settings as the bench Linkflow's (test/helpers/linkflow.ts: pollIntervalMs 20).
    const adapters = { oxlin: createOxlinAdapter({ baseUrl: lf.sandbox.url, clientId: 'linkflow-sandbox', clientSecret: 'sandbox-secret', pollIntervalMs: 20 }) };
    const worker = await Worker.create({
      connection,
      taskQueue,
      dataConverter: lf.dataConverter,
      workflowBundle: await bundleWorkflowCode({ workflowsPath: require.resolve('../workflows/bare-lifecycle'), logger: quiet }),
      activities: createActivities({
        adapters: adapters as unknown as AdapterRegistry,
        repository: lf.repository,
        providerLinks: createProviderLinks(lf.db),
        stateSigner: signer,
        credentialsKey: lf.credentialsKey,
      }),
      maxHeartbeatThrottleInterval: HEARTBEAT_THROTTLE,
    });
    const running = worker.run();
    const client = lf.env.client;

    const bare = async (): Promise<number> => {
      const start = performance.now();
      const input: BareLifecycleInput = {
        connectionId: randomUUID(),
        provider: 'oxlin',
        institutionId: '87',
        callbackUrl,
        redirectTimeoutSeconds: 1800,
        consentTimeoutSeconds: 86_400,
      };
      const handle = await client.workflow.start(bareLifecycleWorkflow, { taskQueue, workflowId: `bare-${input.connectionId}`, args: [input] });
      const progress = () => handle.query(bareProgressQuery);
      const offered = await pollUntil(progress, (p) => p.url !== null, 'the provider URL');
      const back = await approveAtBank(offered.url as string, 'approve', 'alice');
      // What the API's callback does before it signals: parse the redirect, verify its state.
      const parsed = redirectParsers.oxlin(Object.fromEntries(back.searchParams));
      const verified = signer.verify(parsed.state);
      assert.ok(verified, 'the state is ours');
      const code = parsed.authorizationCode === undefined ? {} : { sealedAuthorizationCode: signer.sealCode(parsed.authorizationCode, verified) };
      await handle.signal(redirectReceivedSignal, { nonce: verified.nonce, ...parsed.redirect, ...code });
      const listed = await pollUntil(progress, (p) => p.accounts !== null, 'the accounts');
      await handle.executeUpdate(bareConsentUpdate, { args: [{ consents: (listed.accounts ?? []).map((a) => ({ account_id: a.id, consent: true })) }] });
      await pollUntil(progress, (p) => p.imported !== null, 'the import');
      return performance.now() - start;
    };

    return {
      linkflow: () => linkflowLifecycle(lf),
      baseline: () => bare(),
      async close() {
        worker.shutdown();
        await running.catch(() => undefined);
        await connection.close();
        await lf.stop();
      },
    };
  },
};

const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} };
