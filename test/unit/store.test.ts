// The store on the embedded PGlite and, when TEST_DATABASE_URL names one (CI starts one), on a
// real PostgreSQL server: one migration set, the same upserts and reads on both.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { type Database, type Repository, createRepository, decodeTransactionCursor, migrate } from '../../activities/store';
import { type TransactionRecord, decodeChangeCursor, encodeChangeCursor } from '../../activities/store/repository';
import { testStores } from '../helpers/real-activities';

for (const [name, open] of testStores()) {
  describe(`store on ${name}`, () => {
    let db: Database;
    before(async () => {
      db = await open();
      await migrate(db);
    });
    after(async () => {
      await db?.close();
    });

    it('applies migrations once', async () => {
      assert.deepEqual(await migrate(db), []);
      const [row] = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM schema_migrations WHERE version LIKE '001_%'");
      assert.equal(row?.n, 1);
    });

    it('upserts idempotently and counts what was added and modified', async () => {
      const repo = createRepository(db);
      const connectionId = randomUUID();
      const account = { providerAccountId: 'a1', name: 'Courant', type: 'CHECKINGS', currency: 'EUR', balance: '10.00', iban: null, accountNumber: null };
      assert.deepEqual(await repo.upsertAccounts(connectionId, 'oxlin', [account]), { added: 1, modified: 0 });
      assert.deepEqual(await repo.upsertAccounts(connectionId, 'oxlin', [account]), { added: 0, modified: 0 });
      assert.deepEqual(await repo.upsertAccounts(connectionId, 'oxlin', [{ ...account, balance: '12.50' }]), { added: 0, modified: 1 });

      const tx = (i: number, amount = '-1.00') => ({
        providerTransactionId: `t${i}`,
        providerAccountId: 'a1',
        bookedAt: new Date(Date.UTC(2026, 0, 1 + i)).toISOString(),
        amount,
        currency: 'EUR',
        label: `label ${i}`,
        category: null,
      });
      const first = Array.from({ length: 5 }, (_, i) => tx(i));
      assert.deepEqual(await repo.applyPage(connectionId, `${connectionId}/upserts`, first), { added: 5, modified: 0 });
      assert.deepEqual(await repo.applyPage(connectionId, `${connectionId}/upserts`, first), { added: 0, modified: 0 });
      assert.deepEqual(await repo.applyPage(connectionId, `${connectionId}/upserts`, [tx(0, '-2.00'), tx(5)]), { added: 1, modified: 1 });
      assert.equal(await repo.countTransactions(connectionId), 6);
      assert.equal((await repo.listAccounts(connectionId))[0]?.balance, '12.50');
    });

    it('pages transactions newest first by cursor', async () => {
      const repo = createRepository(db);
      const connectionId = randomUUID();
      await repo.upsertAccounts(connectionId, 'oxlin', [
        { providerAccountId: 'a', name: 'A', type: 'CHECKINGS', currency: 'EUR', balance: null, iban: null, accountNumber: null },
      ]);
      // Two transactions per day: the id breaks the tie in booking time.
      await repo.applyPage(
        connectionId,
        `${connectionId}/upserts`,
        Array.from({ length: 7 }, (_, i) => ({
          providerTransactionId: `t${i}`,
          providerAccountId: 'a',
          bookedAt: new Date(Date.UTC(2026, 0, 1 + Math.floor(i / 2))).toISOString(),
          amount: '1.00',
          currency: 'EUR',
          label: 'x',
          category: null,
        })),
      );
      const ids: string[] = [];
      let after: [string, string] | undefined;
      for (;;) {
        const page = await repo.listTransactions(connectionId, { limit: 3, ...(after ? { after } : {}) });
        ids.push(...page.transactions.map((t) => t.providerTransactionId));
        if (!page.nextCursor) break;
        after = decodeTransactionCursor(page.nextCursor) ?? undefined;
        assert.ok(after);
      }
      assert.deepEqual(ids, ['t6', 't5', 't4', 't3', 't2', 't1', 't0']);
      assert.equal(decodeTransactionCursor('not a cursor'), null);
    });

    describe('delta sync', () => {
      const account = { providerAccountId: 'a1', name: 'Courant', type: 'CHECKINGS', currency: 'EUR', balance: '10.00', iban: null, accountNumber: null };
      const day = (n: number) => new Date(Date.UTC(2025, 0, 1 + n)).toISOString();
      const tx = (n: number, amount = '-1.00') => ({
        providerTransactionId: `t${n}`,
        providerAccountId: 'a1',
        bookedAt: day(n),
        amount,
        currency: 'EUR',
        label: `T${n}`,
        category: null,
      });
      /** One import as importData runs it: pages, then what it did not read in its window is removed. */
      async function sync(repo: Repository, connectionId: string, syncId: string, rows: TransactionRecord[], since: string | null = null) {
        await repo.beginSync(syncId, connectionId, { full: since === null, accounts: [{ providerAccountId: 'a1', since }] });
        for (let i = 0; i < rows.length; i += 2) await repo.applyPage(connectionId, syncId, rows.slice(i, i + 2));
        await repo.removeUnread(connectionId, 'a1', syncId, since);
        return repo.finishSync(syncId, connectionId);
      }
      const ids = (ts: { providerTransactionId: string }[]) => ts.map((t) => t.providerTransactionId).sort();

      it('adds, modifies and removes across three syncs; a cursor stays valid; from the start is everything', async () => {
        const repo = createRepository(db);
        const connectionId = randomUUID();
        await repo.upsertAccounts(connectionId, 'oxlin', [account]);

        assert.deepEqual(await sync(repo, connectionId, `${connectionId}/1`, [0, 1, 2, 3, 4].map((n) => tx(n))), { added: 5, modified: 0, removed: 0 });
        const first = await repo.transactionChanges(connectionId, '0', 100);
        assert.deepEqual([ids(first.added), first.modified, first.removed, first.hasMore], [['t0', 't1', 't2', 't3', 't4'], [], [], false]);

        // The provider corrects t0, books t5 and drops t4.
        const second = [tx(0, '-9.99'), tx(1), tx(2), tx(3), tx(5)];
        assert.deepEqual(await sync(repo, connectionId, `${connectionId}/2`, second), { added: 1, modified: 1, removed: 1 });
        const delta = await repo.transactionChanges(connectionId, first.lastSeq, 100);
        assert.deepEqual(ids(delta.added), ['t5']);
        assert.deepEqual(delta.modified.map((t) => [t.providerTransactionId, t.amount]), [['t0', '-9.99']]);
        assert.deepEqual(delta.removed, [{ providerTransactionId: 't4', providerAccountId: 'a1' }]);
        assert.equal(await repo.countTransactions(connectionId), 5);

        // An incremental read from day 2: t0 and t1 are outside it (not removed though unread); t4 is back, t2 changed.
        const third = [tx(2, '-2.50'), tx(3), tx(4), tx(5)];
        assert.deepEqual(await sync(repo, connectionId, `${connectionId}/3`, third, day(2).slice(0, 10)), { added: 1, modified: 1, removed: 0 });
        const again = await repo.transactionChanges(connectionId, delta.lastSeq, 100);
        assert.deepEqual([ids(again.added), ids(again.modified), again.removed], [['t4'], ['t2'], []]);
        // Nothing new since: the same cursor comes back.
        const none = await repo.transactionChanges(connectionId, again.lastSeq, 100);
        assert.deepEqual([none.added, none.modified, none.removed, none.lastSeq], [[], [], [], again.lastSeq]);

        // From the start: every live transaction once, as added; nothing removed the reader never had.
        const everything = await repo.transactionChanges(connectionId, '0', 100);
        assert.deepEqual([ids(everything.added), everything.modified, everything.removed], [['t0', 't1', 't2', 't3', 't4', 't5'], [], []]);
      });

      it('pages changes by cursor with has_more, each transaction once', async () => {
        const repo = createRepository(db);
        const connectionId = randomUUID();
        await repo.upsertAccounts(connectionId, 'oxlin', [account]);
        await sync(repo, connectionId, `${connectionId}/1`, Array.from({ length: 7 }, (_, n) => tx(n)));
        const seen: string[] = [];
        let cursor = '0';
        for (let pages = 1; ; pages++) {
          const page = await repo.transactionChanges(connectionId, cursor, 3);
          seen.push(...page.added.map((t) => t.providerTransactionId));
          cursor = page.lastSeq;
          assert.equal(page.hasMore, pages < 3);
          if (!page.hasMore) break;
        }
        assert.deepEqual(seen.sort(), ['t0', 't1', 't2', 't3', 't4', 't5', 't6']);
        assert.equal(decodeChangeCursor(encodeChangeCursor(cursor)), cursor);
        assert.equal(decodeChangeCursor('bm90IG9uZQ'), null);
      });

      it('two imports of the same data at once leave one row per transaction', async () => {
        const repo = createRepository(db);
        const connectionId = randomUUID();
        await repo.upsertAccounts(connectionId, 'oxlin', [account]);
        const rows = Array.from({ length: 40 }, (_, n) => tx(n));
        const [a, b] = await Promise.all([sync(repo, connectionId, `${connectionId}/a`, rows), sync(repo, connectionId, `${connectionId}/b`, rows)]);
        assert.equal(await repo.countTransactions(connectionId), 40);
        const [row] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM transactions WHERE connection_id = $1', [connectionId]);
        assert.equal(row?.n, 40);
        assert.equal((a?.removed ?? 0) + (b?.removed ?? 0), 0);
        assert.equal((await repo.transactionChanges(connectionId, '0', 100)).added.length, 40);
      });

      it('keeps balances over time: a point when first seen and when changed', async () => {
        const repo = createRepository(db);
        const connectionId = randomUUID();
        await repo.upsertAccounts(connectionId, 'oxlin', [account]);
        await repo.recordBalances(connectionId, [account], day(1));
        await repo.recordBalances(connectionId, [account], day(2));
        await repo.recordBalances(connectionId, [{ ...account, balance: '7.50' }], day(3));
        assert.deepEqual(
          (await repo.listBalances(connectionId, 'a1', 10)).map((p) => [p.asOf, p.balance]),
          [[day(3), '7.50'], [day(1), '10.00']],
        );
        assert.equal(await repo.incrementalSince(connectionId, 'a1', 7), null);
        await repo.applyPage(connectionId, `${connectionId}/upserts`, [tx(30)]);
        assert.equal(await repo.incrementalSince(connectionId, 'a1', 7), '2025-01-24');
      });
    });
  });
}
