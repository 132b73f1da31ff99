// The store on the embedded PGlite and, when TEST_DATABASE_URL names one (CI starts one), on a
// real PostgreSQL server: one migration set, the same upserts and reads on both.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { type Database, createRepository, decodeTransactionCursor, migrate, openDatabase } from '../../activities/store';

const stores: [string, () => Promise<Database>][] = [['PGlite', () => openDatabase({})]];
if (process.env.TEST_DATABASE_URL) {
  const url = process.env.TEST_DATABASE_URL;
  stores.push(['PostgreSQL', () => openDatabase({ databaseUrl: url })]);
}

for (const [name, open] of stores) {
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
      assert.deepEqual(await repo.upsertTransactions(connectionId, first), { added: 5, modified: 0 });
      assert.deepEqual(await repo.upsertTransactions(connectionId, first), { added: 0, modified: 0 });
      assert.deepEqual(await repo.upsertTransactions(connectionId, [tx(0, '-2.00'), tx(5)]), { added: 1, modified: 1 });
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
      await repo.upsertTransactions(
        connectionId,
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
  });
}
