// The embedded store in its own thread (store/pglite-threaded.ts): PGlite behind its socket server,
// reached through `pg`, as `npm start` and the end-to-end tests run it.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { migrate, openDatabase } from '../../store';
import { startPgliteThread } from '../../store/pglite-threaded';

describe('PGlite in its own thread', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('migrates, keeps its data in dataDir across a restart, and stays PGlite (no pool for the rate limiter)', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'linkflow-pglite-test-'));
    dirs.push(dataDir);
    const db = await openDatabase({ dataDir, thread: true });
    assert.equal(db.kind, 'pglite');
    assert.equal(db.pool, undefined, 'rate limits stay in memory on PGlite');
    assert.ok((await migrate(db)).length > 0);
    await db.query('CREATE TABLE t (n int NOT NULL)');
    await db.query('INSERT INTO t VALUES ($1)', [41]);
    await db.close();
    await db.close();

    const again = await openDatabase({ dataDir, thread: true });
    try {
      assert.deepEqual(await migrate(again), [], 'every migration was applied and kept');
      assert.deepEqual(await again.query('SELECT n FROM t'), [{ n: 41 }]);
    } finally {
      await again.close();
    }
  });

  it('serialises concurrent transactions, rolls back a failed one and keeps serving after it', async () => {
    const db = await openDatabase({ thread: true });
    try {
      await db.query('CREATE TABLE counter (n int NOT NULL)');
      await db.query('INSERT INTO counter VALUES (0)');
      // Read, then write, in each transaction: interleaved on one PGlite session they would lose updates.
      await Promise.all(
        Array.from({ length: 20 }, () =>
          db.transaction(async (tx) => {
            const [row] = await tx.query<{ n: number }>('SELECT n FROM counter');
            await tx.query('UPDATE counter SET n = $1', [row!.n + 1]);
          }),
        ),
      );
      assert.deepEqual(await db.query('SELECT n FROM counter'), [{ n: 20 }]);
      await assert.rejects(
        db.transaction(async (tx) => {
          await tx.query('UPDATE counter SET n = 1000');
          throw new Error('abandoned');
        }),
        /abandoned/,
      );
      await assert.rejects(db.query('SELECT no_such_column FROM counter'), /no_such_column/);
      assert.deepEqual(await db.query('SELECT n FROM counter'), [{ n: 20 }]);
    } finally {
      await db.close();
    }
  });

  it('says so when the thread dies (lost rejects, queries fail) rather than hanging', async () => {
    const thread = await startPgliteThread(undefined);
    try {
      assert.deepEqual((await thread.pool.query('SELECT 1 AS one')).rows, [{ one: 1 }]);
      await thread.worker.terminate();
      await assert.rejects(thread.lost, /PGlite thread stopped/);
      await assert.rejects(thread.pool.query('SELECT 1'));
    } finally {
      await thread.close();
    }
  });
});
