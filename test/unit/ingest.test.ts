// The import's page write (repository.applyPage, one statement from one array per column) with the
// input bulk SQL gets wrong, on PGlite and, when TEST_DATABASE_URL names one, on PostgreSQL: what
// goes in comes back byte for byte (or as the old per-statement path stored it), each row once.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { TransactionRecord } from '../../contract/records';
import { type Database, type Repository, createRepository } from '../../store';
import { type ImportPosition, accountStart } from '../../store/repository';
import { testStores } from '../helpers/real-activities';

const tx = (n: number, extra: Partial<TransactionRecord> = {}): TransactionRecord => ({
  providerTransactionId: `t${n}`,
  providerAccountId: 'a1',
  bookedAt: new Date(Date.UTC(2025, 0, 1) + n * 60_000).toISOString(),
  amount: `-${n}.25`,
  currency: 'EUR',
  label: `label ${n}`,
  category: 'groceries',
  pending: false,
  pendingTransactionId: null,
  ...extra,
});

for (const [name, open] of testStores()) {
  describe(`import page write on ${name}`, () => {
    let db: Database;
    let repo: Repository;
    before(async () => {
      db = await open();
      repo = createRepository(db);
    });
    after(async () => {
      await db?.close();
    });

    /** A connection with accounts a1 and a2 and an import begun on it, at its start. */
    async function begin(): Promise<{ connectionId: string; syncId: string; position: ImportPosition }> {
      const connectionId = randomUUID();
      const acc = (id: string) => ({ providerAccountId: id, name: id, type: 'CHECKINGS', currency: 'EUR', balance: null, iban: null, accountNumber: null });
      await repo.upsertAccounts(connectionId, 'oxlin', [acc('a1'), acc('a2')]);
      const syncId = `${connectionId}/import`;
      const { position } = await repo.beginSync(syncId, connectionId, { full: true, accounts: [{ providerAccountId: 'a1', since: null }] });
      return { connectionId, syncId, position };
    }

    /** Every stored row of the connection, as the record it was written from (oldest first). */
    async function stored(connectionId: string): Promise<TransactionRecord[]> {
      const rows: TransactionRecord[] = [];
      let after: string | undefined;
      for (;;) {
        const page = await repo.transactionChanges(connectionId, after ?? '0', 1000);
        rows.push(...[...page.added, ...page.modified].map(({ updatedAt: _u, ...t }) => t));
        after = page.lastSeq;
        if (!page.hasMore) break;
      }
      return rows.sort((a, b) => a.bookedAt.localeCompare(b.bookedAt) || a.providerAccountId.localeCompare(b.providerAccountId));
    }

    it('stores quotes, backslashes, array-literal characters, unicode and a very long label as sent', async () => {
      const { connectionId, syncId, position } = await begin();
      const odd = [
        tx(1, { label: `O'Brien "quoted" \\backslash\\ {braces}, commas; NULL`, category: '"' }),
        tx(2, { label: 'Café ☕ 東京 עברית 🏦🏦 \u200d\u00a0', category: 'NULL', providerTransactionId: 'id "with" {odd},chars\\' }),
        tx(3, { label: 'x'.repeat(200_000), category: '' }),
        tx(4, { label: '', category: null, amount: '0', pendingTransactionId: null }),
        tx(5, { label: '\t\n\r tabs and newlines \\N', amount: '-123456789012.345678', currency: 'USD' }),
      ];
      const next = { ...position, pages: 1, cursor: null };
      assert.deepEqual(await repo.applyPage(connectionId, syncId, odd, { from: position, to: next }), { added: 5, modified: 0 });
      assert.deepEqual(await stored(connectionId), odd);
      // The same page again changes nothing: every value compares equal to what is stored.
      assert.deepEqual(await repo.applyPage(connectionId, syncId, odd), { added: 0, modified: 0 });
    });

    it('turns a NUL byte in a label or category into U+FFFD, as the per-row path did, and stores the page', async () => {
      const { connectionId, syncId } = await begin();
      const page = [tx(1, { label: 'before\u0000after', category: '\u0000' }), tx(2)];
      assert.deepEqual(await repo.applyPage(connectionId, syncId, page), { added: 2, modified: 0 });
      const [first, second] = await stored(connectionId);
      assert.equal(first?.label, 'before\ufffdafter');
      assert.equal(first?.category, '\ufffd');
      assert.deepEqual(second, page[1]);
    });

    it('a page repeating an id stores its last version once; the same id on another account is another row', async () => {
      const { connectionId, syncId } = await begin();
      const page = [tx(1, { amount: '-1.00' }), tx(2), tx(1, { amount: '-3.00', label: 'last' }), tx(1, { providerAccountId: 'a2' })];
      assert.deepEqual(await repo.applyPage(connectionId, syncId, page), { added: 3, modified: 0 });
      const rows = await stored(connectionId);
      assert.deepEqual(
        rows.map((t) => [t.providerAccountId, t.providerTransactionId, t.amount, t.label]),
        [['a1', 't1', '-3.00', 'last'], ['a2', 't1', '-1.25', 'label 1'], ['a1', 't2', '-2.25', 'label 2']],
      );
      // Read once each for the removal judgment: nothing the page held is removed.
      assert.equal(await repo.removeUnread(connectionId, 'a1', syncId, null), 0);
    });

    it('a page of one, and a page of 5,000 with pending rows, counted exactly; a changed row is modified once', async () => {
      const { connectionId, syncId, position } = await begin();
      const one = { ...position, pages: 1, cursor: '1' };
      assert.deepEqual(await repo.applyPage(connectionId, syncId, [tx(0)], { from: position, to: one }), { added: 1, modified: 0 });
      const big = Array.from({ length: 5000 }, (_, i) => tx(i + 1, { pending: i % 100 === 0 }));
      const two = { ...one, pages: 2, cursor: null };
      assert.deepEqual(await repo.applyPage(connectionId, syncId, [tx(0, { amount: '9.99' }), ...big], { from: one, to: two }), { added: 5000, modified: 1 });
      assert.equal(await repo.countTransactions(connectionId), 5001);
      assert.deepEqual((await repo.importRun(syncId))?.position, two);
      assert.equal((await stored(connectionId)).filter((t) => t.pending).length, 50);
    });

    it('a crash between pages: the retry goes on from the stored position, a stale page is refused, nothing twice and nothing lost', async () => {
      const { connectionId, syncId, position } = await begin();
      const rows = Array.from({ length: 1200 }, (_, i) => tx(i, { pending: i < 3 }));
      const pages = [rows.slice(0, 500), rows.slice(500, 1000), rows.slice(1000)];
      const at = (n: number): ImportPosition => ({ ...position, pages: n, cursor: n > 0 && n < 3 ? String(n * 500) : null, oldest: null });
      // The first attempt commits two pages, then dies.
      await repo.applyPage(connectionId, syncId, pages[0]!, { from: at(0), to: at(1) });
      await repo.applyPage(connectionId, syncId, pages[1]!, { from: at(1), to: at(2) });
      // Still running somewhere after a network split, it writes its second page again: refused, rolled back.
      await assert.rejects(repo.applyPage(connectionId, syncId, pages[1]!, { from: at(1), to: at(2) }), { name: 'ImportSuperseded' });
      // With pending rows too (the page that unlinks in a transaction of its own).
      await assert.rejects(repo.applyPage(connectionId, syncId, pages[0]!, { from: at(0), to: at(1) }), { name: 'ImportSuperseded' });
      // The retry reads where the import stands and writes only what never committed.
      const run = await repo.importRun(syncId);
      assert.deepEqual(run?.position, at(2));
      assert.deepEqual(await repo.applyPage(connectionId, syncId, pages[2]!, { from: at(2), to: at(3) }), { added: 200, modified: 0 });
      await repo.removeUnread(connectionId, 'a1', syncId, null, { from: at(3), to: accountStart(1) });
      assert.deepEqual(await repo.finishSync(syncId, connectionId), { added: 1200, modified: 0, removed: 0 });
      assert.deepEqual(await stored(connectionId), rows);
      assert.deepEqual(await db.query('SELECT count(*)::int AS n FROM sync_seen_pages WHERE sync_id = $1', [syncId]), [{ n: 0 }]);
    });

    it('a page that fails (a value the store refuses) writes nothing and does not move the import', async () => {
      const { connectionId, syncId, position } = await begin();
      const next = { ...position, pages: 1, cursor: '1' };
      await assert.rejects(repo.applyPage(connectionId, syncId, [tx(1), tx(2, { amount: 'not a number' })], { from: position, to: next }));
      await assert.rejects(repo.applyPage(connectionId, syncId, [tx(1, { pending: true }), tx(2, { bookedAt: 'never' })], { from: position, to: next }));
      assert.equal(await repo.countTransactions(connectionId), 0);
      assert.deepEqual((await repo.importRun(syncId))?.position, position);
      assert.deepEqual(await db.query('SELECT count(*)::int AS n FROM sync_seen_pages WHERE sync_id = $1', [syncId]), [{ n: 0 }]);
      // Its retry, with what the provider really sent, goes through once.
      assert.deepEqual(await repo.applyPage(connectionId, syncId, [tx(1), tx(2)], { from: position, to: next }), { added: 2, modified: 0 });
    });
  });
}
