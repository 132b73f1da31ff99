import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { DataConverter, Payload } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { devServerExecutable, testServerExecutable } from '../../scripts/temporal-binaries';
import { QUIET_LOG_LEVELS, installTemporalLogging } from '../../worker/logging';
import { HEARTBEAT_THROTTLE, devServerSearchAttributes } from '../../worker/worker';
import { disconnectRequestedSignal } from '../../contract/messages';
import { SEARCH_ATTRIBUTES } from '../../contract/messages';

// Tests print what fails, not every worker's start-up lines.
installTemporalLogging(QUIET_LOG_LEVELS);

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** The workflows bundled once per test process: a worker per test then starts in milliseconds. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: quietLogger });
  return bundle;
}

/**
 * Java time-skipping test server: timers fire as soon as the workflow would otherwise wait.
 * `dataConverter`: the env's client seals payloads with it (give the worker the same one).
 */
export async function timeSkippingEnv(options: { port?: number; dataConverter?: DataConverter } = {}): Promise<TestWorkflowEnvironment> {
  const { dataConverter, ...server } = options;
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: await testServerExecutable(), ...server },
    ...(dataConverter ? { client: { dataConverter } } : {}),
  });
  // The workflow upserts Linkflow's search attributes; the test server knows them once told.
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(
      Object.entries(SEARCH_ATTRIBUTES).map(([name, type]) => [
        name,
        type === 'Keyword' ? temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD : temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
      ]),
    ),
  });
  return env;
}

/** The Temporal CLI dev server with Linkflow's search attributes, as `npm start` runs it. */
export async function devServerEnv(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: await devServerExecutable(),
      searchAttributes: devServerSearchAttributes(),
      extraArgs: ['--log-level', 'error'],
    },
  });
}

export const uniqueTaskQueue = (): string => `test-${randomUUID()}`;

export async function runWorkerWhile<T>(
  env: TestWorkflowEnvironment,
  options: { taskQueue: string; activities: object; maxCachedWorkflows?: number; dataConverter?: DataConverter },
  fn: () => Promise<T>,
): Promise<T> {
  const worker = await Worker.create({
    connection: env.nativeConnection,
    ...(options.dataConverter ? { dataConverter: options.dataConverter } : {}),
    taskQueue: options.taskQueue,
    ...(options.maxCachedWorkflows === undefined ? {} : { maxCachedWorkflows: options.maxCachedWorkflows }),
    workflowBundle: await workflowBundle(),
    activities: options.activities,
    maxHeartbeatThrottleInterval: HEARTBEAT_THROTTLE,
  });
  return worker.runUntil(fn);
}

const quietLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: (message: string, meta?: Record<string, unknown>) => console.error(message, meta),
};

/**
 * Ends a test's workflow without disturbing the next test on the same time-skipping server: the
 * connection is asked to disconnect and left to finish by itself. (Terminating one with activities
 * in flight leaves the server's time lock held, and later tests then wait in real time.)
 */
export async function stopQuietly(env: TestWorkflowEnvironment, workflowId: string): Promise<void> {
  const handle = env.client.workflow.getHandle(workflowId);
  try {
    if ((await handle.describe()).status.name !== 'RUNNING') return;
    await handle.signal(disconnectRequestedSignal);
    for (let i = 0; i < 250; i++) {
      if ((await handle.describe()).status.name !== 'RUNNING') return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await handle.terminate('test over');
  } catch (err) {
    // It completed between the look and the signal (a connection ending by itself as the test ends).
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
}

/**
 * A history with every sealed payload opened by `dataConverter`'s codecs (what an operator reads
 * through the codec endpoint), for tests that look inside payloads; other fields as they were.
 */
export async function openHistory<T>(history: T, dataConverter: DataConverter): Promise<T> {
  const codecs = [...(dataConverter.payloadCodecs ?? [])].reverse();
  const open = async (value: unknown): Promise<unknown> => {
    if (value instanceof Uint8Array || value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) return Promise.all(value.map(open));
    const record = value as Record<string, unknown>;
    const encoding = (record.metadata as Record<string, Uint8Array> | undefined)?.encoding;
    if (encoding instanceof Uint8Array && Buffer.from(encoding).toString('utf8') === 'binary/encrypted') {
      let payloads = [record as Payload];
      for (const codec of codecs) payloads = await codec.decode(payloads);
      return payloads[0];
    }
    return Object.fromEntries(await Promise.all(Object.entries(record).map(async ([k, v]) => [k, await open(v)] as const)));
  };
  return (await open(history)) as T;
}

/** A payload as history JSON writes it (base64 fields). */
export interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

/** Every payload of a history in JSON, except search attributes (indexed by Temporal) and patch markers: never encoded by a codec. */
export function payloadsIn(node: unknown, found: JsonPayload[] = []): JsonPayload[] {
  if (Array.isArray(node)) for (const item of node) payloadsIn(item, found);
  else if (node && typeof node === 'object') {
    const record = node as Record<string, unknown>;
    // A patch marker's details (the patch id) are written by the SDK's core, not through the codec.
    if (record.markerName === 'core_patch') return found;
    if (record.metadata && typeof record.metadata === 'object' && 'encoding' in record.metadata) found.push(record as JsonPayload);
    else for (const [key, value] of Object.entries(record)) if (key !== 'searchAttributes') payloadsIn(value, found);
  }
  return found;
}
