import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { Pool, type PoolClient } from 'pg';
import { startPgliteThread } from './pglite-threaded';

export interface Queryable {
  query<Row = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<Row[]>;
}

/** One interface over the embedded PGlite and a PostgreSQL server: the same SQL runs on both. */
export interface Database extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /**
   * PostgreSQL only: the `pg` pool behind `query`, for libraries that take one
   * (rate-limiter-flexible's RateLimiterPostgres, store/rate-limits.ts). Undefined on PGlite.
   */
  readonly pool?: Pool;
  /** PGlite only: the embedded database behind `query` (its `blob` option runs `COPY … FROM '/dev/blob'`). Undefined on PostgreSQL. */
  readonly pglite?: PGlite;
  /**
   * PGlite in its own thread (`thread`) only: rejects with the reason if that thread stops without
   * `close` (every query fails from then on); never settles otherwise. The process should stop.
   */
  readonly lost?: Promise<never>;
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** A PostgreSQL connection string; when absent, an embedded PGlite database in `dataDir`. */
  databaseUrl?: string;
  /** PGlite's directory; in memory when absent. */
  dataDir?: string;
  /**
   * PGlite only: run it in a worker thread of its own, reached through `pg` over a private Unix
   * socket (store/pglite-threaded.ts), so its queries never block this thread's event loop. What
   * `npm start` and the end-to-end tests run; default false (in this thread: unit tests, tools).
   */
  thread?: boolean;
}

/**
 * The store `options` name: PostgreSQL at `databaseUrl`, else PGlite in `dataDir` (in memory
 * without), in this thread or, with `thread`, in its own. Rejects if the store cannot be reached.
 */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.databaseUrl) return openPostgres(options.databaseUrl);
  return options.thread ? openPgliteThread(options.dataDir) : openPglite(options.dataDir);
}

async function openPglite(dataDir: string | undefined): Promise<Database> {
  if (dataDir) await mkdir(dataDir, { recursive: true });
  const db = await PGlite.create(dataDir);
  return {
    kind: 'pglite',
    pglite: db,
    query: async <Row>(sql: string, params?: unknown[]) => (await db.query<Row>(sql, params)).rows,
    transaction: (fn) =>
      db.transaction((tx) => fn({ query: async <Row>(sql: string, params?: unknown[]) => (await tx.query<Row>(sql, params)).rows })),
    close: () => db.close(),
  };
}

async function openPgliteThread(dataDir: string | undefined): Promise<Database> {
  if (dataDir) await mkdir(dataDir, { recursive: true });
  const thread = await startPgliteThread(dataDir);
  // `pool` stays private: it reaches one process's PGlite, so rate limits stay in memory (store/rate-limits.ts).
  const { query, transaction } = onPool(thread.pool);
  return { kind: 'pglite', query, transaction, lost: thread.lost, close: () => thread.close() };
}

async function openPostgres(connectionString: string): Promise<Database> {
  const pool = new Pool({ connectionString, max: 10 });
  // Fail at start, with the server's own message, rather than on the first request.
  (await pool.connect()).release();
  return onPool(pool);
}

/** `query` and `transaction` on `pool`'s connections; `close` ends the pool. */
function onPool(pool: Pool): Database {
  const onClient = (client: PoolClient): Queryable => ({
    query: async <Row>(sql: string, params?: unknown[]) => (await client.query(sql, params)).rows as Row[],
  });
  return {
    kind: 'postgres',
    pool,
    query: async <Row>(sql: string, params?: unknown[]) => (await pool.query(sql, params)).rows as Row[],
    transaction: async (fn) => {
      const client = await pool.connect();
      // A connection whose ROLLBACK failed is broken: release(error) closes it instead of pooling it.
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const result = await fn(onClient(client));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        // The transaction's own error is the one the caller gets, whatever ROLLBACK does.
        await client.query('ROLLBACK').catch((rollbackError: unknown) => {
          broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
        });
        throw err;
      } finally {
        client.release(broken);
      }
    },
    close: () => pool.end(),
  };
}
