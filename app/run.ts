// The process around the composition root: configuration, the SDK's logging, signals, exit codes.
// scripts/start.ts, api/main.ts and worker/main.ts are each one call of runLinkflowProcess.
import { loadConfig } from '../config';
import { createLogger } from '../logger';
import { PROCESS_LOG_LEVELS, installTemporalLogging } from '../worker/logging';
import { assertPortsFree } from './embedded';
import { type Linkflow, type LinkflowRole, StartInterrupted, buildLinkflow } from './linkflow';

/**
 * Runs Linkflow as `role` until SIGINT or SIGTERM: then stops every part once, in reverse order, and
 * exits 0. Logs one `ready` line once every part runs. A bad configuration, a port in use or a part
 * that fails to start: the reason on one ERROR line, exit 1. A worker that fails later, or the
 * store's PGlite thread stopping: everything stops, exit 1. A second signal while stopping is ignored (the first one's stop is under way).
 */
export function runLinkflowProcess(role: LinkflowRole): void {
  const log = createLogger(role === 'embedded' ? 'linkflow' : role);
  let linkflow: Linkflow | undefined;
  let stopping = false;
  const stopThenExit = async (code: number) => {
    if (stopping) return;
    stopping = true;
    if (code === 0) log.info('stopping…');
    await linkflow?.stop();
    if (code === 0) log.info('stopped');
    process.exit(code);
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void stopThenExit(0));

  const main = async () => {
    const config = loadConfig();
    // The API alone never loads the SDK's native runtime; the worker and the dev server do.
    const temporalMetrics = config.LINKFLOW_TEMPORAL_METRICS_PORT ? `${config.HOST}:${config.LINKFLOW_TEMPORAL_METRICS_PORT}` : undefined;
    if (role !== 'api') installTemporalLogging(PROCESS_LOG_LEVELS, undefined, temporalMetrics);
    if (role === 'embedded') await assertPortsFree(config);
    linkflow = buildLinkflow(config, { role });
    const running = await linkflow.start();
    running.workerDone?.catch(() => void stopThenExit(1));
    running.storeLost?.catch(() => void stopThenExit(1));
    // The one ready line (scripts/fuzz-api.sh and test/e2e/start.test.ts wait for it).
    log.info(role === 'embedded' ? 'ready — Ctrl-C stops everything' : 'ready');
  };
  main().catch((err: unknown) => {
    // Stopped by a signal during start-up: the signal's handler stops and exits.
    if (stopping || err instanceof StartInterrupted) return;
    log.error(err instanceof Error ? err.message : String(err));
    // start() stopped what had started before it rejected.
    process.exit(1);
  });
}

