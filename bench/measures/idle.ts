// Idle cost (issue 16): N connections waiting for their end user's redirect on ONE worker, in its
// own process, against N bare workflows waiting on a timer on an identical worker. The sample is
// the worker's RSS growth per waiting workflow (after a GC, from the worker's RSS before the first
// start); notes give the RSS at N, the cost per cached execution and the CPU while idle. Small: one
// fresh worker process per sample; full: one per side, measured again at each sample. Workflows
// start directly with the Temporal client, at bounded concurrency, on the dev server `npm start` runs.
import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DEFAULT_MAX_CACHED_WORKFLOWS, DEFAULT_MAX_CONCURRENT_WORKFLOW_TASKS } from '../../config';
import { connectionInput } from '../../test/helpers/fake-provider';
import { devServerEnv } from '../../test/helpers/temporal';
import type { BenchSize, Measure, Side } from '../measure';
import type { IdleWorkerRequest, IdleWorkerSettings, IdleWorkerStatus } from './idle-worker';

const SIZES: Record<BenchSize, number> = { small: 300, full: 10_000 };
/** Workflow starts in flight at once. */
const START_CONCURRENCY = 50;
/** How long the idle CPU is measured over. */
const IDLE_SECONDS = 10;
/** Longer than any sample: nothing wakes while measured. */
const WAIT_SECONDS = 6 * 3600;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One worker process, asked for its status over IPC. */
class WorkerProcess {
  private constructor(
    private readonly child: ChildProcess,
    private readonly answers: ((status: IdleWorkerStatus) => void)[] = [],
  ) {
    child.on('message', (message: IdleWorkerStatus | { ready: true }) => {
      if (!('ready' in message)) this.answers.shift()?.(message);
    });
  }

  static async start(settings: IdleWorkerSettings): Promise<WorkerProcess> {
    const child = fork(require.resolve('./idle-worker'), [], {
      execArgv: ['--expose-gc', '--import', 'tsx'],
      env: { ...process.env, IDLE_WORKER_SETTINGS: JSON.stringify(settings) },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`the ${settings.kind} worker exited (${code}) before it ran`)));
    });
    return new WorkerProcess(child);
  }

  status(gc = false): Promise<IdleWorkerStatus> {
    return new Promise((resolve) => {
      this.answers.push(resolve);
      this.child.send({ cmd: 'status', gc } satisfies IdleWorkerRequest);
    });
  }

  async stop(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.send({ cmd: 'stop' } satisfies IdleWorkerRequest);
    await Promise.race([exited, sleep(30_000)]);
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

/** Runs `task(i)` for i in 0..n-1, `concurrency` at a time. */
async function pool(n: number, concurrency: number, task: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, concurrency) }, async () => {
      while (next < n) await task(next++);
    }),
  );
}

/** Waits until all `n` workflows reached their wait and the worker has nothing in flight twice in a row. */
async function settled(worker: WorkerProcess, n: number): Promise<IdleWorkerStatus> {
  let quiet = 0;
  for (;;) {
    const status = await worker.status();
    quiet = status.started >= n && status.inFlightActivations === 0 && status.inFlightActivities === 0 ? quiet + 1 : 0;
    if (quiet >= 3) return status;
    await sleep(500);
  }
}

const mb = (bytes: number) => bytes / 2 ** 20;

export const idle: Measure = {
  id: 'idle',
  title: (size) => `worker RSS per waiting connection, ${process.env.BENCH_IDLE_N ?? SIZES[size]} waiting (redirect wait), one worker process`,
  baseline: 'bare workflow (only @temporalio/workflow, one activity, a long timer), same cache settings',
  unit: 'KB/connection',
  setup: async ({ size, progress }) => {
    // BENCH_IDLE_N: another number of waiting workflows (a quick look between the two sizes).
    const n = Number(process.env.BENCH_IDLE_N ?? SIZES[size]);
    const env: TestWorkflowEnvironment = await devServerEnv();
    const address = env.address;
    // Each side's bundle built once, here: a worker given a prebuilt bundle holds no webpack memory.
    const dir = mkdtempSync(join(tmpdir(), 'bench-idle-'));
    const quiet = { log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
    const bundles = { linkflow: join(dir, 'linkflow.js'), bare: join(dir, 'bare.js') };
    // BENCH_IDLE_WORKFLOWS: another checkout's workflows/ (to measure the code before a change).
    const linkflowWorkflows = process.env.BENCH_IDLE_WORKFLOWS ?? require.resolve('../../workflows');
    for (const [kind, workflowsPath] of [['linkflow', linkflowWorkflows], ['bare', require.resolve('./idle-bare')]] as const) {
      const { code } = await bundleWorkflowCode({ workflowsPath, logger: quiet });
      writeFileSync(bundles[kind], code);
      progress(`idle: ${kind} workflow bundle ${(code.length / 1024).toFixed(0)} KiB`);
    }
    const settings = (kind: IdleWorkerSettings['kind'], taskQueue: string): IdleWorkerSettings => ({
      kind,
      address,
      namespace: env.namespace ?? 'default',
      taskQueue,
      maxCachedWorkflows: Number(process.env.LINKFLOW_WORKER_MAX_CACHED_WORKFLOWS ?? DEFAULT_MAX_CACHED_WORKFLOWS),
      maxConcurrentWorkflowTaskExecutions: DEFAULT_MAX_CONCURRENT_WORKFLOW_TASKS,
      bundlePath: bundles[kind],
    });

    /** One worker process with its `n` workflows waiting, and its RSS before the first start. */
    interface Loaded {
      worker: WorkerProcess;
      before: IdleWorkerStatus;
    }
    const load = async (kind: IdleWorkerSettings['kind']): Promise<Loaded> => {
      const taskQueue = `bench-idle-${kind}-${randomUUID()}`;
      const worker = await WorkerProcess.start(settings(kind, taskQueue));
      try {
        await sleep(1_000);
        const before = await worker.status(true);
        const t0 = Date.now();
        await pool(n, START_CONCURRENCY, (i) => {
          const id = `${taskQueue}-${i}`;
          if (kind === 'bare') return env.client.workflow.start('bareWaitingWorkflow', { taskQueue, workflowId: id, args: [WAIT_SECONDS] });
          const input = connectionInput({ connectionId: id, redirectTimeoutSeconds: WAIT_SECONDS });
          return env.client.workflow.start('connectionWorkflow', { taskQueue, workflowId: `connection-${id}`, args: [input] });
        });
        const waiting = await settled(worker, n);
        progress(`idle: ${kind}: ${n} waiting after ${((Date.now() - t0) / 1000).toFixed(0)} s, ${waiting.cachedWorkflows} cached`);
        return { worker, before };
      } catch (err) {
        await worker.stop();
        throw err;
      }
    };

    // Full size: starting 10,000 workflows takes minutes, so each side loads one worker once and
    // every sample measures it again; small: a fresh worker process and fresh workflows per sample.
    const reuse = size === 'full';
    const loaded = new Map<IdleWorkerSettings['kind'], Loaded>();
    const side =
      (kind: IdleWorkerSettings['kind']): Side =>
      async (note) => {
        const current = loaded.get(kind) ?? (await load(kind));
        if (reuse) loaded.set(kind, current);
        const { worker, before } = current;
        try {
          const at = await worker.status(true);
          await sleep(IDLE_SECONDS * 1000);
          const after = await worker.status();
          const growth = at.rssBytes - before.rssBytes;
          const cpu = (after.cpuMicros - at.cpuMicros) / 1e6;
          note(
            `${kind}: RSS at N=${n} ${mb(at.rssBytes).toFixed(0)} MB (before ${mb(before.rssBytes).toFixed(0)} MB), ` +
              `${at.cachedWorkflows} cached = ${(mb(growth) / Math.max(1, at.cachedWorkflows)).toFixed(2)} MB per cached, ` +
              `idle CPU ${(cpu / IDLE_SECONDS).toFixed(3)} cores (${cpu.toFixed(2)} core-s over ${IDLE_SECONDS} s)`,
          );
          return growth / 1024 / n;
        } finally {
          if (!reuse) await worker.stop();
        }
      };

    return {
      linkflow: side('linkflow'),
      baseline: side('bare'),
      close: async () => {
        for (const { worker } of loaded.values()) await worker.stop();
        rmSync(dir, { recursive: true, force: true });
        await env.teardown();
      },
    };
  },
};
