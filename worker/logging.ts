// The Temporal SDK's log lines (workflow `log`, activity `Context.log`, the worker's own, Core's) in
// Linkflow's log format (logger.ts), filtered per source so the SDK's start-up chatter stays out.
import { type LogLevel, type LogMetadata, type Logger as SdkLogger } from '@temporalio/common';
import { Runtime, makeTelemetryFilterString } from '@temporalio/worker';
import { type Logger, createLogger } from '../logger';

const RANK: Record<LogLevel, number> = { TRACE: 0, DEBUG: 1, INFO: 2, WARN: 3, ERROR: 4 };

/**
 * The lowest level that reaches the log, per source: `workflow` and `activity` are Linkflow's own
 * lines (`log.info('connection state changed')`), `sdk` everything the SDK says itself (worker
 * state changes, bundler output: INFO is chatter, WARN and up are worth reading).
 */
export interface TemporalLogLevels {
  workflow: LogLevel;
  activity: LogLevel;
  sdk: LogLevel;
}

/** A process's log: workflow and activity lines at INFO, the SDK's own from WARN. */
export const PROCESS_LOG_LEVELS: TemporalLogLevels = { workflow: 'INFO', activity: 'INFO', sdk: 'WARN' };
/** Tests print what fails: warnings and errors only, from every source. */
export const QUIET_LOG_LEVELS: TemporalLogLevels = { workflow: 'WARN', activity: 'WARN', sdk: 'WARN' };

/**
 * Metadata the SDK adds to every workflow or activity line: dropped, except `workflowId` (which
 * connection) and `activityType` (which call), so a line stays short and greppable.
 */
const SDK_FIELDS = new Set(['sdkComponent', 'namespace', 'taskQueue', 'taskToken', 'runId', 'workflowRunId', 'workflowType', 'isLocal', 'activityId']);

/**
 * An SDK logger writing through Linkflow's: a workflow line goes out as `[workflow]`, an activity's
 * as `[activity]`, anything else as `[temporal]`; TRACE and DEBUG never (Linkflow's log has no such
 * levels). Errors in fields are written as their message (JSON.stringify would give `{}`).
 */
export function temporalLogger(levels: TemporalLogLevels, logger: (component: string) => Logger = createLogger): SdkLogger {
  const loggers = { workflow: logger('workflow'), activity: logger('activity'), sdk: logger('temporal') };
  const log = (level: LogLevel, message: string, meta: LogMetadata = {}) => {
    const source: keyof TemporalLogLevels = meta.sdkComponent === 'workflow' || meta.sdkComponent === 'activity' ? meta.sdkComponent : 'sdk';
    if (RANK[level] < Math.max(RANK[levels[source]], RANK.INFO)) return;
    const fields = Object.fromEntries(
      Object.entries(meta)
        .filter(([key]) => !SDK_FIELDS.has(key))
        .map(([key, value]) => [key, value instanceof Error ? String(value) : value]),
    );
    const out = loggers[source];
    const write = level === 'ERROR' ? out.error : level === 'WARN' ? out.warn : out.info;
    write(message, Object.keys(fields).length > 0 ? fields : undefined);
  };
  return {
    log,
    trace: (message, meta) => log('TRACE', message, meta),
    debug: (message, meta) => log('DEBUG', message, meta),
    info: (message, meta) => log('INFO', message, meta),
    warn: (message, meta) => log('WARN', message, meta),
    error: (message, meta) => log('ERROR', message, meta),
  };
}

/**
 * Installs the SDK's runtime (once per process, before any worker, native connection or dev server)
 * with `temporalLogger`, Core's own lines forwarded from ERROR, and no signal handling of its own:
 * the process that owns the worker decides when it stops (app/run.ts), so a Ctrl-C does not drain
 * the worker behind the composition root's back. With `metricsBindAddress` (`host:port`, from
 * LINKFLOW_TEMPORAL_METRICS_PORT), the SDK's own metrics (`temporal_*`: task slots, polls, schedule
 * and execution latencies, in seconds, counters with `_total`) are served by the runtime's Prometheus
 * exporter at `http://<bindAddress>/metrics`. Throws if a runtime is installed already.
 */
export function installTemporalLogging(levels: TemporalLogLevels, logger?: (component: string) => Logger, metricsBindAddress?: string): void {
  Runtime.install({
    logger: temporalLogger(levels, logger),
    shutdownSignals: [],
    telemetryOptions: {
      logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }), forward: {} },
      ...(metricsBindAddress
        ? { metrics: { prometheus: { bindAddress: metricsBindAddress, countersTotalSuffix: true, useSecondsForDurations: true } } }
        : {}),
    },
  });
}
