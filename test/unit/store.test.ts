// The store on the embedded PGlite and, when TEST_DATABASE_URL names one (CI starts one), on a
// real PostgreSQL server: one migration set, the same upserts and reads on both.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { type Database, type Repository, createRepository, decodeTransactionCursor, migrate } from '../../store';
import type { TransactionRecord } from '../../contract/records';
import { type TransactionCursor, decodeChangeCursor, encodeChangeCursor } from '../../store/repository';
import { emptyTestStores, testStores } from '../helpers/real-activities';

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

      const tx = (i: number, amount = '-1.00'): TransactionRecord => ({
        providerTransactionId: `t${i}`,
        providerAccountId: 'a1',
        bookedAt: new Date(Date.UTC(2026, 0, 1 + i)).toISOString(),
        amount,
        currency: 'EUR',
        label: `label ${i}`,
        category: null,
        pending: false,
        pendingTransactionId: null,
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
          pending: false,
          pendingTransactionId: null,
        })),
      );
      const ids: string[] = [];
      let after: TransactionCursor | undefined;
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

    it('pages one id booked at the same time on two accounts as two rows, each once', async () => {
      const repo = createRepository(db);
      const connectionId = randomUUID();
      const acc = (id: string) => ({ providerAccountId: id, name: id, type: 'CHECKINGS', currency: 'EUR', balance: null, iban: null, accountNumber: null });
      await repo.upsertAccounts(connectionId, 'oxlin', [acc('a'), acc('b')]);
      const at = new Date(Date.UTC(2026, 0, 5)).toISOString();
      const row = (account: string, id: string, amount: string): TransactionRecord => ({
        providerTransactionId: id,
        providerAccountId: account,
        bookedAt: at,
        amount,
        currency: 'EUR',
        label: id,
        category: null,
        pending: false,
        pendingTransactionId: null,
      });
      await repo.applyPage(connectionId, `${connectionId}/a`, [row('a', 'TRF-1', '-500.00'), row('a', 'x', '-1.00')]);
      await repo.applyPage(connectionId, `${connectionId}/b`, [row('b', 'TRF-1', '500.00'), row('b', 'y', '-2.00')]);
      const seen: string[] = [];
      let after: TransactionCursor | undefined;
      for (;;) {
        const page = await repo.listTransactions(connectionId, { limit: 1, ...(after ? { after } : {}) });
        seen.push(...page.transactions.map((t) => `${t.providerAccountId}/${t.providerTransactionId}/${t.amount}`));
        if (!page.nextCursor) break;
        after = decodeTransactionCursor(page.nextCursor) ?? undefined;
      }
      assert.deepEqual(seen, ['b/y/-2.00', 'a/x/-1.00', 'b/TRF-1/500.00', 'a/TRF-1/-500.00']);
      // A cursor from before rows were keyed per account, [booked_at, id], still pages on after that row.
      const old = Buffer.from(JSON.stringify([at, 'x'])).toString('base64url');
      const rest = await repo.listTransactions(connectionId, { limit: 10, after: decodeTransactionCursor(old) ?? undefined });
      assert.deepEqual(rest.transactions.map((t) => `${t.providerAccountId}/${t.providerTransactionId}`), ['b/TRF-1', 'a/TRF-1']);
    });

    describe('delta sync', () => {
      const account = { providerAccountId: 'a1', name: 'Courant', type: 'CHECKINGS', currency: 'EUR', balance: '10.00', iban: null, accountNumber: null };
      const day = (n: number) => new Date(Date.UTC(2025, 0, 1 + n)).toISOString();
      const tx = (n: number, amount = '-1.00', account = 'a1'): TransactionRecord => ({
        providerTransactionId: `t${n}`,
        providerAccountId: account,
        bookedAt: day(n),
        amount,
        currency: 'EUR',
        label: `T${n}`,
        category: null,
        pending: false,
        pendingTransactionId: null,
      });
      /**
       * One import as importData runs it: for each account (a1 unless told), its pages, then what it
       * did not read in its window is removed.
       */
      async function sync(
        repo: Repository,
        connectionId: string,
        syncId: string,
        rows: TransactionRecord[],
        since: string | null = null,
        accounts = ['a1'],
      ) {
        await repo.beginSync(syncId, connectionId, { full: since === null, accounts: accounts.map((providerAccountId) => ({ providerAccountId, since })) });
        for (const accountId of accounts) {
          const mine = rows.filter((r) => r.providerAccountId === accountId);
          for (let i = 0; i < mine.length; i += 2) await repo.applyPage(connectionId, syncId, mine.slice(i, i + 2));
          await repo.removeUnread(connectionId, accountId, syncId, since);
        }
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

      it('keeps both legs of a transfer that share an id on two accounts: two rows, stable across syncs', async () => {
        const repo = createRepository(db);
        const connectionId = randomUUID();
        await repo.upsertAccounts(connectionId, 'oxlin', [account, { ...account, providerAccountId: 'a2', name: 'Livret' }]);
        const leg = (accountId: string, amount: string): TransactionRecord => ({ ...tx(3, amount, accountId), providerTransactionId: 'TRF-1', label: 'VIR INTERNE' });
        const rows = [tx(1), leg('a1', '-500.00'), leg('a2', '500.00'), tx(2, '-3.00', 'a2')];
        const both = ['a1', 'a2'];
        const legs = async () =>
          (await db.query<{ account: string; amount: string }>(
            `SELECT provider_account_id AS account, amount::text AS amount FROM transactions
             WHERE connection_id = $1 AND provider_transaction_id = 'TRF-1' AND removed_at IS NULL ORDER BY 1`,
            [connectionId],
          )).map((r) => [r.account, r.amount]);

        assert.deepEqual(await sync(repo, connectionId, `${connectionId}/1`, rows, null, both), { added: 4, modified: 0, removed: 0 });
        assert.deepEqual(await legs(), [['a1', '-500.00'], ['a2', '500.00']]);
        const start = await repo.transactionChanges(connectionId, '0', 100);
        assert.deepEqual(
          start.added.map((t) => `${t.providerAccountId}/${t.providerTransactionId}`).sort(),
          ['a1/TRF-1', 'a1/t1', 'a2/TRF-1', 'a2/t2'],
          'each leg once',
        );
        // Read again and again, nothing changes: no row flips to the other account.
        let cursor = start.lastSeq;
        for (const n of [2, 3, 4]) {
          assert.deepEqual(await sync(repo, connectionId, `${connectionId}/${n}`, rows, null, both), { added: 0, modified: 0, removed: 0 });
          const delta = await repo.transactionChanges(connectionId, cursor, 100);
          assert.deepEqual([delta.added, delta.modified, delta.removed, delta.lastSeq], [[], [], [], cursor]);
          cursor = delta.lastSeq;
        }
        assert.deepEqual(await legs(), [['a1', '-500.00'], ['a2', '500.00']]);
        assert.equal(await repo.countTransactions(connectionId), 4);

        // The provider drops the savings leg only: that one row is removed, the other stays.
        assert.deepEqual(
          await sync(repo, connectionId, `${connectionId}/5`, rows.filter((r) => !(r.providerAccountId === 'a2' && r.providerTransactionId === 'TRF-1')), null, both),
          { added: 0, modified: 0, removed: 1 },
        );
        const dropped = await repo.transactionChanges(connectionId, cursor, 100);
        assert.deepEqual(dropped.removed, [{ providerTransactionId: 'TRF-1', providerAccountId: 'a2' }]);
        assert.deepEqual(await legs(), [['a1', '-500.00']]);
        const listed = await repo.listTransactions(connectionId, { accountId: 'a1', limit: 10 });
        assert.deepEqual(listed.transactions.map((t) => [t.providerTransactionId, t.amount]), [['TRF-1', '-500.00'], ['t1', '-1.00']]);
      });

      it('a pending transaction booked under a new id: the pending one removed, the booked one added naming it', async () => {
        const repo = createRepository(db);
        const connectionId = randomUUID();
        await repo.upsertAccounts(connectionId, 'oxlin', [account]);
        const pendingOne: TransactionRecord = { ...tx(9, '-42.00'), providerTransactionId: 'P-1', label: 'CB PENDING', pending: true };
        const booked: TransactionRecord = { ...tx(9, '-42.00'), providerTransactionId: 'B-1', label: 'CB BOOKED', pendingTransactionId: 'P-1' };

        assert.deepEqual(await sync(repo, connectionId, `${connectionId}/1`, [tx(1), pendingOne]), { added: 2, modified: 0, removed: 0 });
        const start = await repo.transactionChanges(connectionId, '0', 100);
        assert.deepEqual(
          start.added.map((t) => [t.providerTransactionId, t.pending, t.pendingTransactionId]),
          [['t1', false, null], ['P-1', true, null]],
        );
        assert.deepEqual(
          (await repo.listTransactions(connectionId, { limit: 10 })).transactions.map((t) => [t.providerTransactionId, t.pending]),
          [['P-1', true], ['t1', false]],
        );

        assert.deepEqual(await sync(repo, connectionId, `${connectionId}/2`, [tx(1), booked]), { added: 1, modified: 0, removed: 1 });
        const posted = await repo.transactionChanges(connectionId, start.lastSeq, 100);
        assert.deepEqual(
          posted.added.map((t) => [t.providerTransactionId, t.pending, t.pendingTransactionId, t.amount]),
          [['B-1', false, 'P-1', '-42.00']],
        );
        assert.deepEqual(posted.modified, []);
        assert.deepEqual(posted.removed, [{ providerTransactionId: 'P-1', providerAccountId: 'a1' }]);

        // Booked under the same id (no new id): the same row, modified, no longer pending.
        const sameId: TransactionRecord = { ...tx(10, '-5.00'), providerTransactionId: 'P-2', pending: true };
        await sync(repo, connectionId, `${connectionId}/3`, [tx(1), booked, sameId]);
        const before = (await repo.transactionChanges(connectionId, '0', 100)).lastSeq;
        assert.deepEqual(await sync(repo, connectionId, `${connectionId}/4`, [tx(1), booked, { ...sameId, pending: false }]), {
          added: 0,
          modified: 1,
          removed: 0,
        });
        const settled = await repo.transactionChanges(connectionId, before, 100);
        assert.deepEqual(settled.modified.map((t) => [t.providerTransactionId, t.pending]), [['P-2', false]]);
      });

      it('links a booked transaction to the pending one it replaces when the provider names none (Plaid rule), one to one', async () => {
        const repo = createRepository(db);
        const connectionId = randomUUID();
        await repo.upsertAccounts(connectionId, 'oxlin', [account]);
        const pending = (id: string, n: number, amount: string): TransactionRecord => ({ ...tx(n, amount), providerTransactionId: id, pending: true });
        const bookedAs = (id: string, n: number, amount: string): TransactionRecord => ({ ...tx(n, amount), providerTransactionId: id });
        // Two pending card payments of the same amount, one of another amount, one that stays pending.
        const first = [tx(1), pending('P-a', 10, '-9.90'), pending('P-b', 11, '-9.90'), pending('P-c', 12, '-30.00'), pending('P-d', 12, '-7.00')];
        await sync(repo, connectionId, `${connectionId}/1`, first);
        const cursor = (await repo.transactionChanges(connectionId, '0', 100)).lastSeq;
        // Booked under new ids: both 9.90 ones (nearest date each), the 30.00 one for 31.00 (no link),
        // and a booking far later than its pending one (no link). P-d stays pending.
        const second = [tx(1), bookedAs('B-b', 12, '-9.90'), bookedAs('B-a', 11, '-9.90'), bookedAs('B-c', 13, '-31.00'), pending('P-d', 12, '-7.00')];
        assert.deepEqual(await sync(repo, connectionId, `${connectionId}/2`, second), { added: 3, modified: 0, removed: 3 });
        const changes = await repo.transactionChanges(connectionId, cursor, 100);
        assert.deepEqual(
          changes.added.map((t) => [t.providerTransactionId, t.pendingTransactionId]).sort(),
          [['B-a', 'P-a'], ['B-b', 'P-b'], ['B-c', null]],
        );
        assert.deepEqual(changes.removed.map((r) => r.providerTransactionId).sort(), ['P-a', 'P-b', 'P-c']);
        // The provider keeps sending the booked rows without a link: the link stays, nothing is modified.
        const again = (await repo.transactionChanges(connectionId, '0', 1000)).lastSeq;
        assert.deepEqual(await sync(repo, connectionId, `${connectionId}/3`, second), { added: 0, modified: 0, removed: 0 });
        assert.deepEqual(await repo.transactionChanges(connectionId, again, 100), { added: [], modified: [], removed: [], lastSeq: again, hasMore: false });
        // A pending one booked far later (more than 14 days) is not linked.
        const late = [...second, pending('P-e', 20, '-4.00')];
        await sync(repo, connectionId, `${connectionId}/4`, late);
        const beforeLate = (await repo.transactionChanges(connectionId, '0', 1000)).lastSeq;
        await sync(repo, connectionId, `${connectionId}/5`, [...second, bookedAs('B-e', 40, '-4.00')]);
        const lateChanges = await repo.transactionChanges(connectionId, beforeLate, 100);
        assert.deepEqual(lateChanges.added.map((t) => [t.providerTransactionId, t.pendingTransactionId]), [['B-e', null]]);
      });

      it('a page that repeats a transaction stores its last version once', async () => {
        const repo = createRepository(db);
        const connectionId = randomUUID();
        await repo.upsertAccounts(connectionId, 'oxlin', [account]);
        assert.deepEqual(await sync(repo, connectionId, `${connectionId}/1`, [tx(1, '-1.00'), tx(1, '-2.00')]), { added: 1, modified: 0, removed: 0 });
        const listed = await repo.listTransactions(connectionId, { limit: 10 });
        assert.deepEqual(listed.transactions.map((t) => [t.providerTransactionId, t.amount]), [['t1', '-2.00']]);
      });

      it('two attempts of one import at once: only one moves past each position, the other is told it was superseded', async () => {
        const repo = createRepository(db);
        const connectionId = randomUUID();
        await repo.upsertAccounts(connectionId, 'oxlin', [account]);
        const syncId = `${connectionId}/1`;
        const { position } = await repo.beginSync(syncId, connectionId, { full: true, accounts: [{ providerAccountId: 'a1', since: null }] });
        const afterFirst = { ...position, pages: 1, cursor: '2' };
        // Both attempts read the stored position and fetch the same first page.
        const results = await Promise.allSettled([
          repo.applyPage(connectionId, syncId, [tx(1)], { from: position, to: afterFirst }),
          repo.applyPage(connectionId, syncId, [tx(1)], { from: position, to: afterFirst }),
        ]);
        assert.deepEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
        const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
        assert.equal((rejected.reason as Error).name, 'ImportSuperseded');
        // The stale attempt, still at its first page, cannot write its next page nor finish the account.
        const stale = { ...afterFirst, pages: 2, cursor: null };
        await assert.rejects(repo.applyPage(connectionId, syncId, [tx(2)], { from: position, to: stale }), { name: 'ImportSuperseded' });
        await assert.rejects(repo.removeUnread(connectionId, 'a1', syncId, null, { from: position, to: { ...position, account: 1 } }), {
          name: 'ImportSuperseded',
        });
        assert.equal(await repo.countTransactions(connectionId), 1, 'the rejected page was rolled back');
        assert.deepEqual((await repo.importRun(syncId))?.position, afterFirst);
      });

      it('reads incrementally from the oldest pending transaction; a pending one dated ahead moves nothing', async () => {
        const repo = createRepository(db);
        const connectionId = randomUUID();
        await repo.upsertAccounts(connectionId, 'oxlin', [account]);
        await sync(repo, connectionId, `${connectionId}/1`, [tx(10), tx(30)]);
        assert.equal(await repo.incrementalSince(connectionId, 'a1', 7), day(23).slice(0, 10));
        // A deferred card debit dated a month ahead: the window stays where the bookings are.
        await sync(repo, connectionId, `${connectionId}/2`, [tx(10), tx(30), { ...tx(60), pending: true }]);
        assert.equal(await repo.incrementalSince(connectionId, 'a1', 7), day(23).slice(0, 10));
        // A pending one older than the overlap: the window reaches back to it.
        await sync(repo, connectionId, `${connectionId}/3`, [tx(10), tx(30), { ...tx(60), pending: true }, { ...tx(12), pending: true }]);
        assert.equal(await repo.incrementalSince(connectionId, 'a1', 7), day(12).slice(0, 10));
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

for (const [name, open] of emptyTestStores()) {
  describe(`store migrations on ${name}`, () => {
    it('keys transactions per account and adds pending, keeping the rows and an import in flight', async () => {
      const { db, dispose } = await open();
      try {
        await migrate(db, { until: '007_transaction_changes.sql' });
        const connectionId = randomUUID();
        const syncId = `${connectionId}/in-flight`;
        // What Linkflow 007 wrote: rows keyed by (connection, id), an import half-way through a1.
        await db.query(
          `INSERT INTO accounts (connection_id, provider_account_id, provider, name, type, currency)
           VALUES ($1, 'a1', 'oxlin', 'Courant', 'CHECKINGS', 'EUR'), ($1, 'a2', 'oxlin', 'Livret', 'SAVINGS', 'EUR')`,
          [connectionId],
        );
        await db.query(
          `INSERT INTO transactions (connection_id, provider_transaction_id, provider_account_id, booked_at, amount, currency, label, created_seq, change_seq)
           VALUES ($1, 'TRF-1', 'a1', '2025-01-05', -500, 'EUR', 'VIR INTERNE', 1, 1), ($1, 't2', 'a2', '2025-01-06', 3, 'EUR', 'INTERETS', 2, 2)`,
          [connectionId],
        );
        await db.query(`SELECT setval('transaction_changes', 2)`);
        await db.query(`INSERT INTO sync_runs (sync_id, connection_id, start_seq) VALUES ($1, $2, 2)`, [syncId, connectionId]);
        await db.query(`INSERT INTO sync_seen_transactions (sync_id, provider_transaction_id) VALUES ($1, 'TRF-1')`, [syncId]);

        const applied = await migrate(db, { until: '018_provider_budget_resets.sql' });
        assert.ok(applied.includes('008_transactions_per_account.sql') && applied.includes('009_pending_transactions.sql'), applied.join());
        const keyOf = async (table: string) =>
          (await db.query<{ column: string }>(
            `SELECT a.attname AS column FROM pg_index i
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
             WHERE i.indrelid = $1::regclass AND i.indisprimary ORDER BY array_position(i.indkey, a.attnum)`,
            [table],
          )).map((r) => r.column);
        assert.deepEqual(await keyOf('transactions'), ['connection_id', 'provider_account_id', 'provider_transaction_id']);
        assert.deepEqual(await keyOf('sync_seen_transactions'), ['sync_id', 'provider_account_id', 'provider_transaction_id']);
        // 019 keeps what the import read as one page of ids (issue 16: a row per page, not per transaction).
        assert.deepEqual(await migrate(db), ['019_sync_seen_pages.sql']);
        assert.deepEqual(await db.query('SELECT accounts, ids FROM sync_seen_pages WHERE sync_id = $1', [syncId]), [{ accounts: ['a1'], ids: ['TRF-1'] }]);

        const repo = createRepository(db);
        assert.deepEqual(
          (await repo.listTransactions(connectionId, { limit: 10 })).transactions.map((t) => [t.providerAccountId, t.providerTransactionId, t.amount, t.pending, t.pendingTransactionId]),
          [['a2', 't2', '3', false, null], ['a1', 'TRF-1', '-500', false, null]],
        );
        // The import goes on: what it read before the migration still counts as read on a1.
        assert.equal(await repo.removeUnread(connectionId, 'a1', syncId, null), 0);
        // The other leg of the transfer, same id on a2: a row of its own.
        assert.deepEqual(
          await repo.applyPage(connectionId, syncId, [
            { providerTransactionId: 'TRF-1', providerAccountId: 'a2', bookedAt: '2025-01-05T00:00:00.000Z', amount: '500.00', currency: 'EUR', label: 'VIR INTERNE', category: null, pending: false, pendingTransactionId: null },
          ]),
          { added: 1, modified: 0 },
        );
        assert.equal(await repo.removeUnread(connectionId, 'a2', syncId, null), 1, 't2 was not read in the import');
        assert.deepEqual(await repo.finishSync(syncId, connectionId), { added: 1, modified: 0, removed: 1 });
        assert.equal(await repo.countTransactions(connectionId), 2);
      } finally {
        await dispose();
      }
    });
  });
}
