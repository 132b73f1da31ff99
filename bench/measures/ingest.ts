// Ingest (issue 16): the import's page write (repository.applyPage, what importData runs for each
// page the provider answers, with its position move) writing N transactions into an empty table,
// against a raw COPY of the same rows into the same table of the same store. Sample values are
// rows/s. `ingest` runs on the embedded PGlite; `ingest-pg` (bench/measures/ingest-pg.ts) on
// PostgreSQL, through the same code with another store.
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import type { TransactionRecord } from '../../contract/records';
import { type Database, createRepository, migrate, openDatabase } from '../../store';
import type { ImportPosition } from '../../store/repository';
import type { BenchContext, BenchSize, Measure, Sides } from '../measure';

/** Rows per page: what Oxlin, Powens and Flinks answer per transactions request (their adapters' TRANSACTION_PAGE_SIZE). */
export const PAGE_SIZE = 500;
const ACCOUNT = 'acc-1';

/** Transactions written per sample: 10,000 small, 100,000 full (issue 16's size). */
export const ingestRows = (size: BenchSize): number => (size === 'full' ? 100_000 : 10_000);

/**
 * `count` transactions of one account, as a provider's pages bring them: newest first, amounts with
 * two decimals, labels of bank-statement length, a category on most; the newest 25 pending (not yet
 * booked: only the latest days are), so they come in the first page as from a provider.
 */
export function ingestTransactions(count: number): TransactionRecord[] {
  const start = Date.UTC(2026, 0, 1);
  return Array.from({ length: count }, (_, i) => ({
    providerTransactionId: `tx-${String(i).padStart(8, '0')}`,
    providerAccountId: ACCOUNT,
    bookedAt: new Date(start - i * 3_600_000).toISOString(),
    amount: `${i % 7 === 0 ? '' : '-'}${((i % 100_000) / 100 + 1).toFixed(2)}`,
    currency: 'EUR',
    label: `CARTE X${1000 + (i % 9000)} ${i % 3 === 0 ? 'SUPERMARCHE "CENTRE"' : 'PAIEMENT PAR CARTE'} ${String(i % 28).padStart(2, '0')}/01`,
    category: i % 5 === 0 ? null : ['groceries', 'transport', 'rent', 'salary'][i % 4]!,
    pending: i < 25,
    pendingTransactionId: null,
  }));
}

const COPY_COLUMNS = `connection_id, provider_transaction_id, provider_account_id, booked_at, amount, currency, label, category,
  pending, pending_transaction_id, created_seq, change_seq`;

/** CSV as PostgreSQL's COPY reads it: every text quoted (its quotes doubled), NULL as an empty unquoted field. */
const csvText = (v: string | null): string => (v === null ? '' : `"${v.replaceAll('"', '""')}"`);

/** The rows as one COPY … (FORMAT csv) input: what the baseline sends, built inside its timed part. */
function toCsv(connectionId: string, rows: TransactionRecord[]): string {
  return rows
    .map((t, i) =>
      [
        csvText(connectionId),
        csvText(t.providerTransactionId),
        csvText(t.providerAccountId),
        t.bookedAt,
        t.amount,
        csvText(t.currency),
        csvText(t.label),
        csvText(t.category),
        t.pending ? 't' : 'f',
        csvText(t.pendingTransactionId),
        i + 1,
        i + 1,
      ].join(','),
    )
    .join('\n');
}

/** Raw COPY of `csv` into transactions: PGlite's `/dev/blob`, or COPY FROM STDIN through pg-copy-streams on PostgreSQL. */
async function copyTransactions(db: Database, csv: string): Promise<void> {
  const sql = `COPY transactions (${COPY_COLUMNS}) FROM`;
  if (db.pglite) {
    await db.pglite.query(`${sql} '/dev/blob' WITH (FORMAT csv)`, [], { blob: new Blob([csv]) });
    return;
  }
  if (!db.pool) throw new Error('a store with neither PGlite nor a pg pool');
  const client = await db.pool.connect();
  try {
    await pipeline(Readable.from([csv]), client.query(copyFrom(`${sql} STDIN WITH (FORMAT csv)`)));
  } finally {
    client.release();
  }
}

/** An empty store again (untimed, before each sample): both sides write into empty tables. */
async function reset(db: Database, connectionId: string): Promise<void> {
  await db.query('TRUNCATE transactions, sync_seen_pages, sync_runs, account_balances, accounts');
  await createRepository(db).upsertAccounts(connectionId, 'oxlin', [
    { providerAccountId: ACCOUNT, name: 'Courant', type: 'CHECKINGS', currency: 'EUR', balance: '10.00', iban: null, accountNumber: null },
  ]);
}

/** Both sides on `db` (migrated here); `dispose` stops what opened it. */
export async function ingestSides(ctx: BenchContext, db: Database, dispose: () => Promise<void>): Promise<Sides> {
  await migrate(db);
  const rows = ingestTransactions(ingestRows(ctx.size));
  const repo = createRepository(db);
  const count = async (connectionId: string, note: (fact: string) => void, side: string) => {
    const [row] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM transactions WHERE connection_id = $1', [connectionId]);
    if (row?.n !== rows.length) throw new Error(`${side} stored ${row?.n} rows, not ${rows.length}`);
    note(`${rows.length} rows per sample, pages of ${PAGE_SIZE}`);
  };
  return {
    async linkflow(note) {
      const connectionId = randomUUID();
      await reset(db, connectionId);
      const syncId = `${connectionId}/bench`;
      let { position } = await repo.beginSync(syncId, connectionId, { full: true, accounts: [{ providerAccountId: ACCOUNT, since: null }] });
      const started = performance.now();
      for (let offset = 0; offset < rows.length; offset += PAGE_SIZE) {
        const page = rows.slice(offset, offset + PAGE_SIZE);
        const last = offset + PAGE_SIZE >= rows.length;
        const oldest = page.at(-1)?.bookedAt ?? position.oldest;
        const next: ImportPosition = { ...position, pages: position.pages + 1, cursor: last ? null : String(offset + PAGE_SIZE), oldest };
        await repo.applyPage(connectionId, syncId, page, { from: position, to: next });
        position = next;
      }
      const seconds = (performance.now() - started) / 1000;
      await count(connectionId, note, 'applyPage');
      return rows.length / seconds;
    },
    async baseline(note) {
      const connectionId = randomUUID();
      await reset(db, connectionId);
      const started = performance.now();
      await copyTransactions(db, toCsv(connectionId, rows));
      const seconds = (performance.now() - started) / 1000;
      await count(connectionId, note, 'COPY');
      return rows.length / seconds;
    },
    async close() {
      await dispose();
    },
  };
}

export const ingest: Measure = {
  id: 'ingest',
  title: (size) => `ingest of ${ingestRows(size).toLocaleString('en')} transactions (PGlite), import page write`,
  baseline: 'raw COPY … FROM /dev/blob (CSV) of the same rows, same PGlite',
  unit: 'rows/s',
  target: { kind: 'min', ratio: 0.5 },
  async setup(ctx) {
    const db = await openDatabase({});
    return ingestSides(ctx, db, () => db.close());
  },
};
