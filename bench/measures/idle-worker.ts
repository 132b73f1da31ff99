// The `idle` measure's worker, one process per sample so its RSS is its own: `linkflow` runs the
// workflows/ bundle (connection and webhook workflows), `bare` the bare workflow of idle-bare.ts,
// with the same sticky cache and concurrency settings. The provider side of a connection is a stub
// (startAuthorization answers a redirect, emitWebhookEvent(s) has no endpoint): the measure is the
// worker's cost per waiting workflow, not the provider's. Driven over IPC by bench/measures/idle.ts.
import { NativeConnection, Worker } from '@temporalio/worker';
import { ApplicationFailure } from '@temporalio/common';
import { installTemporalLogging, QUIET_LOG_LEVELS } from '../../worker/logging';

/** What the parent asks: `status` (answered with a Status), or `stop`. */
export type IdleWorkerRequest = { cmd: 'status'; gc: boolean } | { cmd: 'stop' };

/** The worker process's state: memory after an optional GC, CPU used so far, the SDK's counters. */
export interface IdleWorkerStatus {
  rssBytes: number;
  /** User + system CPU of the process so far, in microseconds. */
  cpuMicros: number;
  /** Workflows that reached their wait (the first activity they call ran). */
  started: number;
  cachedWorkflows: number;
  inFlightActivations: number;
  inFlightActivities: number;
}

/** Settings the parent passes through the environment. */
export interface IdleWorkerSettings {
  kind: 'linkflow' | 'bare';
  address: string;
  namespace: string;
  taskQueue: string;
  maxCachedWorkflows: number;
  maxConcurrentWorkflowTaskExecutions: number;
  /** The workflow bundle's file (bundled once by the parent: webpack's memory stays out of this process). */
  bundlePath: string;
}

async function main(): Promise<void> {
  const settings = JSON.parse(process.env.IDLE_WORKER_SETTINGS ?? '') as IdleWorkerSettings;
  installTemporalLogging(QUIET_LOG_LEVELS);
  let started = 0;
  const notHere = () => {
    throw ApplicationFailure.nonRetryable('not part of the idle benchmark');
  };
  const activities =
    settings.kind === 'bare'
      ? {
          ready: async () => {
            started++;
          },
        }
      : {
          startAuthorization: async () => {
            started++;
            const n = `nonce-${started}`;
            return { kind: 'redirect', channelId: 'redirect1', url: `https://bank.example/authorize?s=${n}`, nonce: n };
          },
          emitWebhookEvent: async () => ({ endpoints: 0 }),
          emitWebhookEvents: async () => ({ endpoints: 0 }),
          listAccounts: notHere,
          waitForJob: notHere,
          importData: notHere,
        };
  const connection = await NativeConnection.connect({ address: settings.address });
  const worker = await Worker.create({
    connection,
    namespace: settings.namespace,
    taskQueue: settings.taskQueue,
    workflowBundle: { codePath: settings.bundlePath },
    activities,
    maxCachedWorkflows: settings.maxCachedWorkflows,
    maxConcurrentWorkflowTaskExecutions: settings.maxConcurrentWorkflowTaskExecutions,
  });
  const running = worker.run();
  process.on('message', (request: IdleWorkerRequest) => {
    if (request.cmd === 'stop') {
      worker.shutdown();
      return;
    }
    if (request.gc) (globalThis as { gc?: () => void }).gc?.();
    const { user, system } = process.cpuUsage();
    const status = worker.getStatus();
    const answer: IdleWorkerStatus = {
      rssBytes: process.memoryUsage.rss(),
      cpuMicros: user + system,
      started,
      cachedWorkflows: status.numCachedWorkflows,
      inFlightActivations: status.numInFlightWorkflowActivations,
      inFlightActivities: status.numInFlightActivities,
    };
    process.send?.(answer);
  });
  process.send?.({ ready: true });
  await running;
  await connection.close();
  process.exit(0);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
