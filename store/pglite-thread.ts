// The body of the embedded store's own thread (store/pglite-threaded.ts starts it): PGlite and
// PGlite's socket server (@electric-sql/pglite-socket) serving the PostgreSQL wire protocol on a
// Unix socket, so PGlite's WebAssembly runs off the event loop of the API, the worker and the
// sandboxes, which reach it through `pg` as they would a PostgreSQL server.
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/** What the thread is started with (`workerData`). */
export interface PgliteThreadData {
  /** PGlite's directory; in memory when absent. */
  dataDir?: string;
  /** A directory only this process may enter (0700): the socket `.s.PGSQL.<port>` is created in it. */
  socketDir: string;
  /** The port number in the socket's name (`pg` finds `<host>/.s.PGSQL.<port>`). */
  port: number;
  /** Connections served at once (queries are serialised on PGlite whatever this is). */
  maxConnections: number;
}

/**
 * Messages the thread posts to its parent: `ready` once the socket listens; `failed` when start-up
 * fails or PGlite itself fails later (the thread then exits 1).
 */
export type PgliteThreadMessage = { type: 'ready' } | { type: 'failed'; error: string };

const describe = (err: unknown): string => (err instanceof Error ? (err.stack ?? err.message) : String(err));

/** Tells the parent why, then ends this thread (not the process) with code 1. */
function fail(err: unknown): never {
  parentPort?.postMessage({ type: 'failed', error: describe(err) } satisfies PgliteThreadMessage);
  process.exit(1);
}

/** The one message the parent posts: `close` stops the socket server and PGlite, then the thread ends. */
export type PgliteThreadCommand = { type: 'close' };

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('store/pglite-thread.ts runs in a worker thread');
  const data = workerData as PgliteThreadData;
  const db = await PGlite.create(data.dataDir);
  // SQL errors travel inside the protocol's answer; a throw here is PGlite itself failing (its
  // WebAssembly aborted, out of memory). The socket server would then leave its queue stuck and
  // every later query waiting forever: end the thread instead, so the parent sees it (Database.lost).
  const execute = db.execProtocolRawStream.bind(db);
  db.execProtocolRawStream = async (message, options) => {
    try {
      return await execute(message, options);
    } catch (err) {
      fail(err);
    }
  };
  const server = new PGLiteSocketServer({ db, path: join(data.socketDir, `.s.PGSQL.${data.port}`), maxConnections: data.maxConnections });
  await server.start();
  port.on('message', (command: PgliteThreadCommand) => {
    if (command.type !== 'close') return;
    void (async () => {
      await server.stop();
      await db.close();
      // Ends this thread only (not the process).
      process.exit(0);
    })();
  });
  port.postMessage({ type: 'ready' } satisfies PgliteThreadMessage);
}

main().catch(fail);
