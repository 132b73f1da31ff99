// The embedded store off the event loop: PGlite in a worker thread of its own (store/pglite-thread.ts)
// behind PGlite's socket server on a private Unix socket, reached with a `pg` pool as a PostgreSQL
// server is. PGlite's queries run synchronously in WebAssembly: in the process's main thread each
// one held up every request, timer and activity for its whole duration (issue 16).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { Pool } from 'pg';
import type { PgliteThreadCommand, PgliteThreadData, PgliteThreadMessage } from './pglite-thread';

/** The port number in the socket's file name only: nothing listens on a TCP port. */
const SOCKET_PORT = 5432;
/** How long `close` waits for the thread to stop PGlite before terminating it. */
const CLOSE_TIMEOUT_MS = 10_000;

/** PGlite running in its own thread, and the pool that reaches it. */
export interface PgliteThread {
  /**
   * One connection: PGlite is one session, and its socket server interleaves the messages of
   * concurrent connections (a Parse of one between the Parse and Sync of another), so the pool
   * serialises; transactions hold the connection as on PostgreSQL.
   */
  pool: Pool;
  /** Rejects with the reason when the thread stops without `close` (a crash, out of memory); never settles otherwise. */
  lost: Promise<never>;
  /** The thread itself (tests end it abruptly to see `lost` reject). */
  worker: Worker;
  /** Ends the pool, then stops the socket server and PGlite (flushing `dataDir`), then the thread. */
  close(): Promise<void>;
}

/**
 * Starts PGlite (in `dataDir`, or in memory) in a worker thread and answers a pool on it, once the
 * server listens. Rejects with PGlite's own error if it cannot open `dataDir`.
 */
export async function startPgliteThread(dataDir: string | undefined): Promise<PgliteThread> {
  // mkdtemp creates the directory 0700: only this user reaches the socket (PGlite checks no password).
  const socketDir = await mkdtemp(join(tmpdir(), 'linkflow-pglite-'));
  const data: PgliteThreadData = { ...(dataDir ? { dataDir } : {}), socketDir, port: SOCKET_PORT, maxConnections: 4 };
  // The thread's body is TypeScript: tsx (how every Linkflow process runs) compiles it there too.
  const entry = join(__dirname, 'pglite-thread.ts');
  const worker = new Worker(`require(${JSON.stringify(require.resolve('tsx/cjs/api'))}).register(); require(${JSON.stringify(entry)});`, {
    eval: true,
    workerData: data,
    name: 'linkflow-pglite',
  });
  let closing = false;
  let reportLoss: (err: Error) => void = () => undefined;
  const lost = new Promise<never>((_, reject) => (reportLoss = reject));
  lost.catch(() => undefined);
  const exited = new Promise<number>((resolve) => worker.once('exit', resolve));

  await new Promise<void>((resolve, reject) => {
    const onMessage = (message: PgliteThreadMessage) => {
      if (message.type === 'ready') resolve();
      else reject(new Error(`PGlite did not start: ${message.error}`));
    };
    worker.on('message', onMessage);
    worker.once('error', reject);
    void exited.then((code) => reject(new Error(`PGlite's thread exited (code ${code}) before it was ready`)));
  }).catch(async (err: unknown) => {
    await worker.terminate();
    await rm(socketDir, { recursive: true, force: true });
    throw err;
  });

  let failure: string | undefined;
  worker.on('error', (err) => (failure = err.message));
  worker.on('message', (message: PgliteThreadMessage) => {
    if (message.type === 'failed') failure = message.error;
  });
  void exited.then((code) => {
    if (!closing) reportLoss(new Error(`the store's PGlite thread stopped (exit code ${code})${failure ? `: ${failure}` : ''}`));
  });

  const pool = new Pool({ host: socketDir, port: SOCKET_PORT, user: 'postgres', database: 'postgres', max: 1, idleTimeoutMillis: 0 });
  // A connection dropped by a dying thread: `lost` reports it; without a listener the pool's error would crash the process unexplained.
  pool.on('error', () => undefined);

  return {
    pool,
    lost,
    worker,
    close: async () => {
      if (closing) return;
      closing = true;
      await pool.end();
      worker.postMessage({ type: 'close' } satisfies PgliteThreadCommand);
      const timer = setTimeout(() => void worker.terminate(), CLOSE_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
      await rm(socketDir, { recursive: true, force: true });
    },
  };
}
