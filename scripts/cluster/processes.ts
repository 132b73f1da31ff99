// One supervised child process of the local cluster (scripts/cluster/cluster.ts): its own process
// group and log file, a readiness check, and the ways an operator or a chaos test stops it.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';

/** How to run one part of the cluster. */
export interface ProcessSpec {
  /** `temporal`, `worker-1`, `api-2`, …: also its log file's name. */
  name: string;
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd?: string;
  /** Run as this user (PostgreSQL refuses to run as root). */
  uid?: number;
  gid?: number;
  /** Resolves once the process serves; `since` is the log file's size when this start began. */
  ready(process: SupervisedProcess, since: number): Promise<void>;
}

/** A child process with its own process group and log file (appended to across restarts). */
export interface SupervisedProcess {
  readonly name: string;
  readonly logFile: string;
  /** The running process's pid; undefined once it exited. */
  pid(): number | undefined;
  /**
   * Starts it (again) and waits until it is ready (ProcessSpec.ready), at most `timeoutMs`; when it
   * is not (it exited, or the time ran out), its process group is killed and the error thrown.
   */
  start(timeoutMs?: number): Promise<void>;
  /**
   * Sends `signal` to its process group and waits for the exit; SIGKILL after `graceMs` (default 45 s: a worker's shutdown takes up to 40 s). Resolves
   * with the exit code (null when killed by a signal).
   */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number | null>;
  /** stop(how), then start(): SIGTERM is a rolling deploy's restart, SIGKILL a crash. */
  restart(how: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Resolves once the log holds a line matching `pattern` after byte `since`. */
  waitForLog(pattern: RegExp, since: number, timeoutMs: number): Promise<string>;
  /** The log file's size now (an offset for waitForLog). */
  logSize(): Promise<number>;
}

/** A process of `spec`, logging to `logFile`; not started yet. */
export function supervise(spec: ProcessSpec, logFile: string): SupervisedProcess {
  let child: ChildProcess | undefined;
  let exited: Promise<number | null> = Promise.resolve(null);

  const logSize = () => stat(logFile).then((s) => s.size, () => 0);
  const proc: SupervisedProcess = {
    name: spec.name,
    logFile,
    pid: () => (child && child.exitCode === null && child.signalCode === null ? child.pid : undefined),
    logSize,
    async start(timeoutMs = 120_000) {
      if (proc.pid() !== undefined) throw new Error(`${spec.name} is running already`);
      const since = await logSize();
      const out = openSync(logFile, 'a');
      try {
        child = spawn(spec.command, spec.args, {
          env: spec.env,
          cwd: spec.cwd,
          detached: true,
          stdio: ['ignore', out, out],
          ...(spec.uid === undefined ? {} : { uid: spec.uid, gid: spec.gid }),
        });
      } finally {
        closeSync(out);
      }
      const started = child;
      exited = new Promise((resolve) => started.once('exit', (code) => resolve(code)));
      const gone = exited.then(async (code) => {
        throw new Error(`${spec.name} exited (code ${code}) before it was ready; its log: ${logFile}\n${(await tail(logFile, since)).slice(-3000)}`);
      });
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${spec.name} was not ready within ${timeoutMs} ms; its log: ${logFile}`)), timeoutMs);
      });
      try {
        await Promise.race([spec.ready(proc, since), gone, late]);
      } catch (err) {
        // Not ready: nobody will stop what was started (the caller holds no running process), so stop it here.
        if (proc.pid() !== undefined) await proc.stop('SIGKILL');
        throw err;
      } finally {
        clearTimeout(timer);
        gone.catch(() => undefined);
      }
    },
    async stop(signal = 'SIGTERM', graceMs = 45_000) {
      const pid = proc.pid();
      if (pid === undefined) return exited;
      signalGroup(pid, signal);
      const timer = setTimeout(() => signalGroup(pid, 'SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
    async restart(how) {
      await proc.stop(how);
      await proc.start();
    },
    async waitForLog(pattern, since, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const line = (await tail(logFile, since)).split('\n').find((l) => pattern.test(l));
        if (line !== undefined) return line;
        if (Date.now() > deadline) throw new Error(`no line matching ${pattern} in ${logFile} within ${timeoutMs} ms`);
        await delay(100);
      }
    },
  };
  return proc;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

async function tail(file: string, since: number): Promise<string> {
  const content = await readFile(file).catch(() => Buffer.alloc(0));
  return content.subarray(since).toString('utf8');
}

/** Resolves once `url` answers 2xx (an HTTP readiness probe), polling every 100 ms. */
export async function httpReady(url: string): Promise<void> {
  for (;;) {
    const ok = await fetch(url, { signal: AbortSignal.timeout(2_000) }).then((r) => r.ok, () => false);
    if (ok) return;
    await delay(100);
  }
}
