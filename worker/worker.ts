import { type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities';
import type { ActivityDeps } from '../activities';
import { SEARCH_ATTRIBUTES, TASK_QUEUE } from '../contract/messages';
import { bundleWorkflowsInThread } from './bundle';

/** What a worker needs: its Temporal connection and namespace, and the activities' dependencies. */
export interface WorkerSetup extends ActivityDeps {
  connection: NativeConnection;
  namespace: string;
  /** A prebuilt bundle (tests build it once); otherwise workflows/ is bundled in a thread of its own (worker/bundle.ts). */
  workflowBundle?: WorkerOptions['workflowBundle'];
  taskQueue?: string;
  /**
   * Workflow executions kept in memory between tasks (the sticky cache; config
   * LINKFLOW_WORKER_MAX_CACHED_WORKFLOWS); 0: no sticky cache, every workflow task goes to the shared
   * queue (tests that kill workers). Unset: the SDK's default, from the heap size.
   */
  maxCachedWorkflows?: number;
  /** Workflow tasks run at once (LINKFLOW_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS); at most maxCachedWorkflows. Unset: the SDK's 40. */
  maxConcurrentWorkflowTaskExecutions?: number;
  /** Seals and opens payloads (the payload codec); must match the client's. */
  dataConverter?: WorkerOptions['dataConverter'];
}

/**
 * A worker for the connection and webhook workflows and their activities, on `taskQueue` (default
 * TASK_QUEUE). Not yet running: the caller runs it and shuts it down (app/linkflow.ts).
 */
export async function createWorker({
  connection,
  namespace,
  workflowBundle,
  taskQueue,
  maxCachedWorkflows,
  maxConcurrentWorkflowTaskExecutions,
  dataConverter,
  ...deps
}: WorkerSetup): Promise<Worker> {
  return Worker.create({
    connection,
    namespace,
    ...(maxCachedWorkflows === undefined ? {} : { maxCachedWorkflows }),
    ...(maxConcurrentWorkflowTaskExecutions === undefined ? {} : { maxConcurrentWorkflowTaskExecutions }),
    ...(dataConverter ? { dataConverter } : {}),
    taskQueue: taskQueue ?? TASK_QUEUE,
    workflowBundle: workflowBundle ?? (await bundleWorkflowsInThread()),
    activities: createActivities(deps),
    // Heartbeats show an import's plan and position (the Web UI, liveness) at least this often; a
    // retry resumes from the position the store committed with the last page, not from them.
    maxHeartbeatThrottleInterval: HEARTBEAT_THROTTLE,
    // On SIGTERM (a rolling deploy) the worker stops polling, lets running activities finish for
    // SHUTDOWN_GRACE, then cancels what is left: an import commits page by page and its retry, on
    // another worker, resumes from the last committed page. Past SHUTDOWN_FORCE it gives up.
    shutdownGraceTime: SHUTDOWN_GRACE,
    shutdownForceTime: SHUTDOWN_FORCE,
  });
}

/** How long a stopping worker lets running activities finish before cancelling them (hand back). */
export const SHUTDOWN_GRACE = '20 seconds';
/** How long a stopping worker may take in all; an orchestrator's stop grace period must be longer (compose: 45 s). */
export const SHUTDOWN_FORCE = '40 seconds';

/** The longest a heartbeat (an import's plan and position) waits before reaching Temporal. */
export const HEARTBEAT_THROTTLE = '2 seconds';

/** Linkflow's search attributes in the form the SDK's dev-server launcher registers them. */
export const devServerSearchAttributes = () =>
  Object.entries(SEARCH_ATTRIBUTES).map(([name, type]) => ({ name, type: type === 'Keyword' ? 'KEYWORD' : 'BOOL' }) as const);
