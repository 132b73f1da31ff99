// Start under load (issue 16): N `POST /v1/connections` at concurrency C through the real API, each
// answered with the connection's first next action (update-with-start), against N bare workflows
// started with `executeUpdateWithStart` at the same concurrency on the same Temporal, each making
// the same provider request to the same Oxlin sandbox and one more activity before it answers.
import { randomUUID } from 'node:crypto';
import { NativeConnection, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { type Client, type Connection, WithStartWorkflowOperation } from '@temporalio/client';
import { type Linkflow, startLinkflow } from '../../test/helpers/linkflow';
import { issueToken } from '../../test/helpers/oxlin';
import { workflowIdFor } from '../../contract/messages';
import type { BenchSize, Measure, Side } from '../measure';
import { BENCH_RATE_LIMIT } from './lifecycle';
import { type BareStartActivities, type BareStartInput, bareFirstAction } from '../workflows/start-bare';

const SIZES: Record<BenchSize, { n: number; concurrency: number }> = { small: { n: 100, concurrency: 20 }, full: { n: 1000, concurrency: 50 } };
const INSTITUTION = '87';
const REDIRECT_URL = 'https://client.example/bench';

/** Runs `count` calls of `fn`, `concurrency` at a time; answers their results in order. */
async function pool<T>(count: number, concurrency: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      results[i] = await fn(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  return results;
}

/** The bare activities: the HTTP requests Linkflow's Oxlin adapter makes for a redirect authorization, and a no-op event. */
function bareActivities(sandboxUrl: string): BareStartActivities {
  let token: Promise<string> | undefined;
  return {
    async startAuthorization(input: BareStartInput): Promise<string> {
      token ??= issueToken({ url: sandboxUrl });
      const headers = { authorization: `Bearer ${await token}`, 'content-type': 'application/json' };
      const read = await fetch(`${sandboxUrl}/v2.1/providers/${input.institutionId}`, { headers });
      if (read.status !== 200) throw new Error(`GET provider answered ${read.status}`);
      const provider = (await read.json()) as {
        channel_definitions: { id: string; mode: string }[];
      };
      const channel = provider.channel_definitions.find((c) => c.mode === 'REDIRECT');
      if (!channel) throw new Error(`no redirect channel at ${input.institutionId}`);
      const response = await fetch(`${sandboxUrl}/v2.1/providers/${input.institutionId}/channels/${channel.id}/authorize_url`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ redirect_uri: input.redirectUrl, redirect_state: input.connectionId, use_client_redirect: true }),
      });
      if (response.status !== 201) throw new Error(`authorize_url answered ${response.status}`);
      return response.headers.get('location') ?? '';
    },
    async emitWebhookEvent(): Promise<void> {},
  };
}

/** Connections per second over a whole burst, and the ids it started (to end them afterwards, untimed). */
async function burst(n: number, concurrency: number, startOne: (i: number) => Promise<{ id: string | null; status: number }>) {
  const began = performance.now();
  const answers = await pool(n, concurrency, startOne);
  const seconds = (performance.now() - began) / 1000;
  return { rate: n / seconds, answers };
}

export const start: Measure = {
  id: 'start',
  title: (size) => `${SIZES[size].n} POST /v1/connections (Oxlin) at concurrency ${SIZES[size].concurrency}, until every one answered`,
  baseline: 'bare workflows by executeUpdateWithStart, same concurrency, same Temporal, same Oxlin requests and activity count',
  unit: 'connections/s',
  target: { kind: 'min', ratio: 0.9 },
  async setup(ctx) {
    const { n, concurrency } = SIZES[ctx.size];
    ctx.progress('start: booting Linkflow (dev server, sandboxes, PGlite, API)');
    // The tenant's rate limit (600 a minute by default) would answer part of a burst 429: out of the way.
    const lf: Linkflow = await startLinkflow({ rateLimitPerMinute: BENCH_RATE_LIMIT });
    const client: Client = lf.env.client;
    // The API's client is a gRPC Connection to the embedded dev server: the bare worker joins the same server.
    const address = (client.connection as Connection).options.address;
    const taskQueue = `bench-bare-start-${randomUUID()}`;
    const connection = await NativeConnection.connect({ address });
    const worker = await Worker.create({
      connection,
      taskQueue,
      dataConverter: lf.dataConverter,
      workflowBundle: await bundleWorkflowCode({ workflowsPath: require.resolve('../workflows/start-bare'), logger: silent }),
      activities: bareActivities(lf.sandbox.url),
    });
    const running = worker.run();

    /** Ends what a sample started (untimed, both sides alike: terminated by the server, no worker task), so samples do not pile up. */
    const end = async (workflowIds: string[]): Promise<void> => {
      await pool(workflowIds.length, concurrency, (i) =>
        client.workflow
          .getHandle(workflowIds[i] as string)
          .terminate('bench sample over')
          .catch(() => undefined),
      );
    };

    // Over every sample (the warm-up included): the table's summary.
    const totals = { posts: 0, fivexx: 0, non2xx: 0, pending: 0 };
    const linkflow: Side = async (note) => {
      const { rate, answers } = await burst(n, concurrency, async (i) => {
        const response = await lf.call('POST', '/v1/connections', { provider: 'oxlin', institution_id: INSTITUTION, redirect_url: REDIRECT_URL, user_ref: `bench-${i}` });
        return { id: typeof response.body?.id === 'string' ? (response.body.id as string) : null, status: response.status };
      });
      const count = (p: (s: number) => boolean) => answers.filter((a) => p(a.status)).length;
      note(`Linkflow 5xx: ${count((s) => s >= 500)} of ${n}`);
      note(`Linkflow non-2xx: ${count((s) => s < 200 || s >= 300)} of ${n}`);
      const pending = count((s) => s === 202);
      if (pending > 0) note(`Linkflow 202 (first action later than the wait): ${pending}`);
      totals.posts += n;
      totals.fivexx += count((s) => s >= 500);
      totals.non2xx += count((s) => s < 200 || s >= 300);
      totals.pending += pending;
      await end(answers.flatMap((a) => (a.id ? [workflowIdFor(a.id)] : [])));
      return rate;
    };

    const baseline: Side = async () => {
      const { rate, answers } = await burst(n, concurrency, async (i) => {
        const connectionId = randomUUID();
        const input: BareStartInput = { connectionId, institutionId: INSTITUTION, redirectUrl: REDIRECT_URL, redirectTimeoutSeconds: 3600 };
        const workflowId = `bare-start-${connectionId}`;
        const answer = await client.workflow.executeUpdateWithStart(bareFirstAction, {
          startWorkflowOperation: new WithStartWorkflowOperation('bareStartWorkflow', {
            taskQueue,
            workflowId,
            args: [input],
            workflowIdConflictPolicy: 'USE_EXISTING',
          }),
        });
        if (!answer.url) throw new Error(`bare start ${i} answered no URL`);
        return { id: workflowId, status: 201 };
      });
      await end(answers.flatMap((a) => (a.id ? [a.id] : [])));
      return rate;
    };

    return {
      linkflow,
      baseline,
      summary: () => [`all samples: ${totals.fivexx} 5xx, ${totals.non2xx} non-2xx, ${totals.pending} 202 of ${totals.posts} POSTs`],
      async close() {
        worker.shutdown();
        await running.catch(() => undefined);
        await connection.close();
        await lf.stop();
      },
    };
  },
};

const silent = { log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
