import type { AccountRecord, TransactionRecord } from '../contract/records';
import type { Database, Queryable } from './db';

export interface UpsertCounts {
  added: number;
  modified: number;
}

/** What an import changed, counted from the store (exact across the activity's retries). */
export interface ChangeCounts extends UpsertCounts {
  removed: number;
}

/**
 * What an import reads, fixed by its first attempt and stored with it (`sync_runs.plan`): every
 * retry reads the same accounts, in the same order, each from the same date, whatever the crashed
 * attempt already wrote (rows written newest first would otherwise narrow a recomputed window).
 */
export interface ImportPlan {
  /** True when the import was asked to read whole histories (`{"full": true}`). */
  full: boolean;
  /** The consented accounts the provider listed when the import began, ordered by provider id. */
  accounts: {
    providerAccountId: string;
    /** First booking date read (YYYY-MM-DD, UTC), inclusive; null: the account's whole history. */
    since: string | null;
  }[];
}

/**
 * Where an import stands, written in the same database transaction as the page (or the removals)
 * that brought it there (`sync_runs.position`): a retry goes on from the first thing not committed.
 */
export interface ImportPosition {
  /** Index in `ImportPlan.accounts` of the account being read; the plan's length once all are done. */
  account: number;
  /** Pages of that account committed so far. */
  pages: number;
  /** The provider's cursor of the account's next page: null before its first page (`pages` 0) and after its last. */
  cursor: string | null;
  /** The oldest booking (ISO 8601) committed from that account in this import; null before any. */
  oldest: string | null;
}

/** An import as stored: its plan and its position. */
export interface ImportRun {
  plan: ImportPlan;
  position: ImportPosition;
}

/** Where an import starts an account: nothing of it read yet. */
export const accountStart = (account: number): ImportPosition => ({ account, pages: 0, cursor: null, oldest: null });

/** A page of changes after a delta cursor: each transaction at most once, in its latest state. */
export interface TransactionChanges {
  added: StoredTransaction[];
  modified: StoredTransaction[];
  /** Dropped by the provider (a pending one it booked under another id included): id and account, the row's key. */
  removed: { providerTransactionId: string; providerAccountId: string }[];
  /** The last change this page covers: the cursor of the next read. */
  lastSeq: string;
  hasMore: boolean;
}

export interface BalancePoint {
  asOf: string;
  balance: string;
  currency: string;
}

export interface StoredAccount extends AccountRecord {
  updatedAt: string;
}

export interface StoredTransaction extends TransactionRecord {
  updatedAt: string;
}

export interface TransactionPage {
  transactions: StoredTransaction[];
  /** Opaque position after the last row of this page, or null on the last page. */
  nextCursor: string | null;
}

const ACCOUNT_COLUMNS = `provider_account_id AS "providerAccountId", name, type, currency, balance::text AS balance,
  iban, account_number AS "accountNumber", updated_at AS "updatedAt"`;
const TRANSACTION_COLUMNS = `provider_transaction_id AS "providerTransactionId", provider_account_id AS "providerAccountId",
  booked_at AS "bookedAt", amount::text AS amount, currency, label, category, pending,
  pending_transaction_id AS "pendingTransactionId", updated_at AS "updatedAt"`;

// An upsert that touches a row only when something changed, and says which rows were new:
// xmax = 0 marks a freshly inserted row version in PostgreSQL (and PGlite).
const UPSERT_ACCOUNTS = `
INSERT INTO accounts (connection_id, provider, provider_account_id, name, type, currency, balance, iban, account_number)
SELECT $1, $2, * FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::numeric[], $8::text[], $9::text[])
ON CONFLICT (connection_id, provider_account_id) DO UPDATE SET
  name = excluded.name, type = excluded.type, currency = excluded.currency, balance = excluded.balance,
  iban = excluded.iban, account_number = excluded.account_number, updated_at = now()
WHERE (accounts.name, accounts.type, accounts.currency, accounts.balance, accounts.iban, accounts.account_number)
  IS DISTINCT FROM (excluded.name, excluded.type, excluded.currency, excluded.balance, excluded.iban, excluded.account_number)
RETURNING (xmax = 0) AS inserted`;

/**
 * A page of import $11 in one statement (issue 16, ingest: one round trip, autocommitted on its
 * own when nothing follows it), in this order: the connection's lock (LOCK_CONNECTION) taken; with
 * `move`, the import's position moved from $12 to $13 (compare and set, as moveImport); only if it
 * moved, the page's rows upserted from one array per column and the page noted as read (one
 * sync_seen_pages row); the answer one row: `moved`, and how many rows were added and modified.
 * Everything after the lock reads it (CTE `locked`), so the lock is held before the position's row
 * is locked and before any change number is taken, as when it was a statement of its own.
 *
 * Each added or changed row takes the next change number; a row the provider had dropped and
 * sends again counts as added again (the client was told it was removed). Keyed per account: the
 * same id on another account is another row.
 */
const applyPageStatement = (move: boolean): string => `
WITH locked AS (
  SELECT pg_advisory_xact_lock(hashtext('transactions:' || $1)) AS held
), moved AS (
  ${move ? 'UPDATE sync_runs SET position = $13::jsonb FROM locked WHERE sync_id = $11 AND position = $12::jsonb RETURNING 1' : 'SELECT 1 FROM locked'}
), upserted AS (
INSERT INTO transactions (connection_id, provider_transaction_id, provider_account_id, booked_at, amount, currency, label, category,
  pending, pending_transaction_id, created_seq, change_seq)
SELECT $1, u.id, u.account, u.booked_at, u.amount, u.currency, u.label, u.category, u.pending, u.pending_id, u.seq, u.seq
FROM (SELECT v.*, nextval('transaction_changes') AS seq
      FROM locked, unnest($2::text[], $3::text[], $4::timestamptz[], $5::numeric[], $6::text[], $7::text[], $8::text[], $9::boolean[], $10::text[])
        AS v(id, account, booked_at, amount, currency, label, category, pending, pending_id)
      WHERE EXISTS (SELECT 1 FROM moved)) u
ON CONFLICT (connection_id, provider_account_id, provider_transaction_id) DO UPDATE SET
  booked_at = excluded.booked_at, amount = excluded.amount, currency = excluded.currency, label = excluded.label,
  category = excluded.category, pending = excluded.pending,
  pending_transaction_id = coalesce(excluded.pending_transaction_id, transactions.pending_transaction_id),
  updated_at = now(), change_seq = excluded.change_seq, removed_at = NULL,
  created_seq = CASE WHEN transactions.removed_at IS NULL THEN transactions.created_seq ELSE excluded.created_seq END
WHERE transactions.removed_at IS NOT NULL
  OR (transactions.booked_at, transactions.amount, transactions.currency, transactions.label, transactions.category,
      transactions.pending, transactions.pending_transaction_id)
  IS DISTINCT FROM (excluded.booked_at, excluded.amount, excluded.currency, excluded.label, excluded.category,
      excluded.pending, coalesce(excluded.pending_transaction_id, transactions.pending_transaction_id))
RETURNING (xmax = 0) AS inserted
), seen AS (
  INSERT INTO sync_seen_pages (sync_id, accounts, ids) SELECT $11, $3, $2 WHERE EXISTS (SELECT 1 FROM moved)
)
SELECT EXISTS (SELECT 1 FROM moved) AS moved,
       count(*) FILTER (WHERE inserted)::int AS added, count(*) FILTER (WHERE NOT inserted)::int AS modified
FROM upserted`;
const APPLY_PAGE = applyPageStatement(false);
const APPLY_PAGE_AND_MOVE = applyPageStatement(true);

/** The ids import $4 read on account $2 (every page it noted, unnested): what a removal keeps. */
const SEEN = `SELECT u.id FROM sync_seen_pages p, unnest(p.accounts, p.ids) AS u(account, id) WHERE p.sync_id = $4 AND u.account = $2`;

/**
 * Plaid's `pending_transaction_id` where the provider gives none (none of ours does): a pending
 * transaction this import is about to mark removed (same conditions as the removal: in the window,
 * not read) is linked to a booked one this import added on the same account with the same amount
 * and currency. Within each amount, the k-th pending one (by date, then id) pairs with the k-th
 * booked one, and only when that one is booked from 3 days before to 14 days after it: one to
 * one, and the same whatever order the rows came in. The link takes a change number, so a client
 * that already read the booked row sees it again with the link; the upsert keeps a link the
 * provider does not contradict.
 */
const MATCH_POSTED_TO_PENDING = `
WITH seen AS (${SEEN}), gone AS (
  SELECT t.provider_transaction_id AS id, t.booked_at, t.amount, t.currency,
         row_number() OVER (PARTITION BY t.amount, t.currency ORDER BY t.booked_at, t.provider_transaction_id) AS rank
  FROM transactions t
  WHERE t.connection_id = $1 AND t.provider_account_id = $2 AND t.removed_at IS NULL AND t.pending
    AND ($3::date IS NULL OR t.booked_at >= $3::date)
    AND NOT EXISTS (SELECT 1 FROM seen s WHERE s.id = t.provider_transaction_id)
), booked AS (
  SELECT p.provider_transaction_id AS id, p.booked_at, p.amount, p.currency,
         row_number() OVER (PARTITION BY p.amount, p.currency ORDER BY p.booked_at, p.provider_transaction_id) AS rank
  FROM transactions p
  WHERE p.connection_id = $1 AND p.provider_account_id = $2 AND p.removed_at IS NULL AND NOT p.pending
    AND p.pending_transaction_id IS NULL
    AND p.created_seq > (SELECT r.start_seq FROM sync_runs r WHERE r.sync_id = $4)
    AND EXISTS (SELECT 1 FROM gone g WHERE g.amount = p.amount AND g.currency = p.currency)
), pairs AS (
  SELECT g.id AS pending_id, b.id AS posted_id
  FROM gone g JOIN booked b ON b.amount = g.amount AND b.currency = g.currency AND b.rank = g.rank
  WHERE b.booked_at BETWEEN g.booked_at - interval '3 days' AND g.booked_at + interval '14 days'
)
UPDATE transactions p SET pending_transaction_id = pairs.pending_id, updated_at = now(), change_seq = nextval('transaction_changes')
FROM pairs
WHERE p.connection_id = $1 AND p.provider_account_id = $2 AND p.provider_transaction_id = pairs.posted_id`;

/** Drops the link of a booked row to a pending one that a page lists as pending again ($2 accounts, $3 ids: the page's pending rows). */
const UNLINK_LIVE_PENDING = `
UPDATE transactions b SET pending_transaction_id = NULL, updated_at = now(), change_seq = nextval('transaction_changes')
FROM unnest($2::text[], $3::text[]) AS u(account, id)
WHERE b.connection_id = $1 AND b.provider_account_id = u.account AND b.pending_transaction_id = u.id
  AND NOT b.pending AND b.removed_at IS NULL`;

/**
 * Writers of one connection's transactions take turns (a transaction-scoped advisory lock), so
 * change numbers become visible in order and a reader's cursor never skips one committed later.
 */
const LOCK_CONNECTION = `SELECT pg_advisory_xact_lock(hashtext('transactions:' || $1))`;

// Both drivers hand timestamptz back as Date; the repository speaks ISO strings.
const iso = (v: unknown): string => (v instanceof Date ? v.toISOString() : String(v));

function count(rows: { inserted: boolean }[]): UpsertCounts {
  const added = rows.filter((r) => r.inserted).length;
  return { added, modified: rows.length - added };
}

/** A position in the list: the last row's (booked_at, transaction id, account id). */
export type TransactionCursor = [bookedAt: string, transactionId: string, accountId: string];

const encodeCursor = (t: StoredTransaction): string =>
  Buffer.from(JSON.stringify([t.bookedAt, t.providerTransactionId, t.providerAccountId])).toString('base64url');

/** An instant as Date#toISOString writes it (years 0000-9999): what a list cursor carries. */
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * Decodes a cursor made by this repository; anything else is null (the API answers 400). A
 * two-element cursor from before rows were keyed per account still works: its (booked_at, id)
 * named one row, so the account '' (which sorts first) puts the position right after it.
 */
export function decodeTransactionCursor(cursor: string): TransactionCursor | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && (value.length === 2 || value.length === 3) && value.every((v) => typeof v === 'string')) {
      const [at, id, account = ''] = value as string[];
      // Only what encodeCursor writes (toISOString): Date.parse also takes "1" or year -271821,
      // which PostgreSQL refuses, and text with a NUL byte cannot be a query parameter.
      if (at !== undefined && id !== undefined && ISO_INSTANT.test(at) && !Number.isNaN(Date.parse(at)) && !`${id}${account}`.includes('\u0000')) {
        return [at, id, account];
      }
    }
  } catch {
    // fall through: not one of ours
  }
  return null;
}

/** A delta cursor: the last change number a client has read ("0": nothing yet). Opaque to clients. */
export const encodeChangeCursor = (seq: string): string => Buffer.from(`changes:${seq}`).toString('base64url');

/** The change number in a delta cursor, or null when it is not one of ours (the API answers 400). */
export function decodeChangeCursor(cursor: string): string | null {
  const match = /^changes:(0|[1-9][0-9]{0,18})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  return match ? (match[1] as string) : null;
}

/** A move of an import from where it stood (`from`, as stored) to where it is once a write commits (`to`). */
export interface ImportMove {
  from: ImportPosition;
  to: ImportPosition;
}

/**
 * Thrown (and the write rolled back) when the import no longer stands where this attempt thinks:
 * another attempt of the same import moved it meanwhile (one Temporal had given up on, still
 * running after a network split, or the retry that replaced it). Retryable: a fresh attempt
 * reads the stored position back and goes on from there.
 */
export class ImportSuperseded extends Error {
  constructor(syncId: string) {
    super(`import ${syncId} was moved on by another attempt`);
    this.name = 'ImportSuperseded';
  }
}

/**
 * Moves an import's position, only from where this attempt believes it stands (compare and set):
 * of two attempts of one import running at once, only one moves past each position, so a stale
 * one can neither skip pages nor finish (and drop the rows-read set) under the live one.
 */
async function moveImport(db: Queryable, syncId: string, move: ImportMove): Promise<void> {
  const moved = await db.query('UPDATE sync_runs SET position = $3::jsonb WHERE sync_id = $1 AND position = $2::jsonb RETURNING 1', [
    syncId,
    JSON.stringify(move.from),
    JSON.stringify(move.to),
  ]);
  if (moved.length === 0) throw new ImportSuperseded(syncId);
}

/**
 * Free text as PostgreSQL can store it: a NUL byte (which a bank's label may carry) becomes U+FFFD.
 * Left in, it fails the page's transaction on every attempt of every import, and the connection
 * never imports again.
 */
const storableText = <T extends string | null>(text: T): T => (text === null || !text.includes('\u0000') ? text : (text.replaceAll('\u0000', '\ufffd') as T));

/** The last version of each (account, id) in a page: a provider that repeats a row within one page must not fail the upsert. */
function lastOfEach(page: TransactionRecord[]): TransactionRecord[] {
  const transactions = page.map((t) => {
    const label = storableText(t.label);
    const category = storableText(t.category);
    return label === t.label && category === t.category ? t : { ...t, label, category };
  });
  // Keyed by the account id's length, then both ids: no two (account, id) pairs share a key.
  const byKey = new Map<string, TransactionRecord>();
  for (const t of transactions) byKey.set(`${t.providerAccountId.length}:${t.providerAccountId}${t.providerTransactionId}`, t);
  return byKey.size === transactions.length ? transactions : [...byKey.values()];
}

export function createRepository(db: Database) {
  return {
    async upsertAccounts(connectionId: string, provider: string, accounts: AccountRecord[]): Promise<UpsertCounts> {
      if (accounts.length === 0) return { added: 0, modified: 0 };
      const col = <K extends keyof AccountRecord>(k: K) => accounts.map((a) => a[k]);
      return count(
        await db.query<{ inserted: boolean }>(UPSERT_ACCOUNTS, [
          connectionId,
          provider,
          col('providerAccountId'),
          col('name'),
          col('type'),
          col('currency'),
          col('balance'),
          col('iban'),
          col('accountNumber'),
        ]),
      );
    },

    /**
     * The plan and position of import `syncId` if an earlier attempt stored its plan, else null
     * (no attempt got that far, or the import began before plans were stored).
     */
    async importRun(syncId: string): Promise<ImportRun | null> {
      const [row] = await db.query<{ plan: ImportPlan; position: ImportPosition }>(
        'SELECT plan, position FROM sync_runs WHERE sync_id = $1 AND plan IS NOT NULL',
        [syncId],
      );
      return row ? { plan: row.plan, position: row.position } : null;
    },

    /**
     * Starts (or, for a retried activity, finds) an import: its changes are those numbered after
     * the connection's last change when it first started. Stores `plan` unless one is stored
     * already, and answers the stored one with its position: a retry reads the first attempt's
     * plan back. An import begun before plans were stored gets `plan` with whole-history windows,
     * since the windows it began with can no longer be known (it may have written rows since).
     */
    async beginSync(syncId: string, connectionId: string, plan: ImportPlan): Promise<ImportRun> {
      const wholeHistories: ImportPlan = { ...plan, accounts: plan.accounts.map((a) => ({ ...a, since: null })) };
      const [row] = await db.query<{ plan: ImportPlan; position: ImportPosition }>(
        `INSERT INTO sync_runs (sync_id, connection_id, start_seq, plan, position)
         SELECT $1, $2, coalesce(max(change_seq), 0), $3::jsonb, $5::jsonb FROM transactions WHERE connection_id = $2
         ON CONFLICT (sync_id) DO UPDATE SET plan = coalesce(sync_runs.plan, $4::jsonb), position = coalesce(sync_runs.position, $5::jsonb)
         RETURNING plan, position`,
        [syncId, connectionId, JSON.stringify(plan), JSON.stringify(wholeHistories), JSON.stringify(accountStart(0))],
      );
      if (!row) throw new Error(`import ${syncId} was not stored`);
      return { plan: row.plan, position: row.position };
    },

    /**
     * One page of an import, atomically: upserted under the connection's lock, noted as read by
     * the import, and the import's position moved to `position` (where it is once this page is
     * stored), so a retry re-reads at most a page that never committed. Answers what this page
     * itself added and modified (the import's own totals come from finishSync, exact across retries).
     */
    async applyPage(connectionId: string, syncId: string, page: TransactionRecord[], move?: ImportMove): Promise<UpsertCounts> {
      if (page.length === 0) {
        if (move) await moveImport(db, syncId, move);
        return { added: 0, modified: 0 };
      }
      const transactions = lastOfEach(page);
      const col = <K extends keyof TransactionRecord>(k: K) => transactions.map((t) => t[k]);
      const pending = transactions.filter((t) => t.pending);
      const params = [
        connectionId,
        col('providerTransactionId'),
        col('providerAccountId'),
        col('bookedAt'),
        col('amount'),
        col('currency'),
        col('label'),
        col('category'),
        col('pending'),
        col('pendingTransactionId'),
        syncId,
        ...(move ? [JSON.stringify(move.from), JSON.stringify(move.to)] : []),
      ];
      const write = async (q: Queryable): Promise<UpsertCounts> => {
        const [row] = await q.query<UpsertCounts & { moved: boolean }>(move ? APPLY_PAGE_AND_MOVE : APPLY_PAGE, params);
        if (!row?.moved) throw new ImportSuperseded(syncId);
        return { added: row.added, modified: row.modified };
      };
      // Without pending rows the page is one statement, atomic on its own: no transaction around it.
      if (pending.length === 0) return write(db);
      return db.transaction(async (tx) => {
        const counts = await write(tx);
        // A pending row this page lists again was not replaced after all: the booked row our matching
        // linked to it stops saying so (a Plaid client would hide a pending payment still to show).
        await tx.query(UNLINK_LIVE_PENDING, [connectionId, pending.map((t) => t.providerAccountId), pending.map((t) => t.providerTransactionId)]);
        return counts;
      });
    },

    /** Moves import `syncId` to `position` when nothing else is written with it (an account with nothing to judge). */
    async moveImport(syncId: string, move: ImportMove): Promise<void> {
      await moveImport(db, syncId, move);
    },

    /**
     * After an import read an account's transactions booked since `since` (a YYYY-MM-DD date; all,
     * when null): those it did not read were dropped by the provider, and are marked removed. With
     * `position`, the import moves there in the same transaction. Answers how many were removed.
     */
    async removeUnread(connectionId: string, accountId: string, syncId: string, since: string | null, move?: ImportMove): Promise<number> {
      return db.transaction(async (tx) => {
        await tx.query(LOCK_CONNECTION, [connectionId]);
        // Two sets of up to an account's whole history, compared right after they were written: the
        // statistics may still call them empty, and a nested loop over "empty" tables takes minutes.
        await tx.query('SET LOCAL enable_nestloop = off');
        await tx.query(MATCH_POSTED_TO_PENDING, [connectionId, accountId, since, syncId]);
        const rows = await tx.query(
          `WITH seen AS (${SEEN})
           UPDATE transactions t SET removed_at = now(), updated_at = now(), change_seq = nextval('transaction_changes')
           WHERE t.connection_id = $1 AND t.provider_account_id = $2 AND t.removed_at IS NULL
             AND ($3::date IS NULL OR t.booked_at >= $3::date)
             AND NOT EXISTS (SELECT 1 FROM seen s WHERE s.id = t.provider_transaction_id)
           RETURNING 1`,
          [connectionId, accountId, since, syncId],
        );
        if (move) await moveImport(tx, syncId, move);
        return rows.length;
      });
    },

    /** What the import changed (whatever its retries), then its working set is dropped. */
    async finishSync(syncId: string, connectionId: string): Promise<ChangeCounts> {
      const [row] = await db.query<{ added: number; modified: number; removed: number }>(
        `SELECT count(*) FILTER (WHERE t.removed_at IS NULL AND t.created_seq > r.start_seq)::int AS added,
                count(*) FILTER (WHERE t.removed_at IS NULL AND t.created_seq <= r.start_seq)::int AS modified,
                count(*) FILTER (WHERE t.removed_at IS NOT NULL AND t.created_seq <= r.start_seq)::int AS removed
         FROM sync_runs r JOIN transactions t ON t.connection_id = r.connection_id AND t.change_seq > r.start_seq
         WHERE r.sync_id = $1 AND r.connection_id = $2`,
        [syncId, connectionId],
      );
      await db.query('DELETE FROM sync_seen_pages WHERE sync_id = $1', [syncId]);
      return { added: row?.added ?? 0, modified: row?.modified ?? 0, removed: row?.removed ?? 0 };
    },

    /**
     * Where an incremental read of an account starts (YYYY-MM-DD, UTC): its latest booked date less
     * `overlapDays` (late bookings and corrections land there), or earlier to reach its oldest
     * pending transaction (so that one the bank books under another id, or drops, is seen to go);
     * null when the store has none (read all). Pending dates do not move the window forward: a
     * provider may date them ahead (a deferred card debit at the end of the month).
     */
    async incrementalSince(connectionId: string, accountId: string, overlapDays: number): Promise<string | null> {
      const [row] = await db.query<{ since: string | null }>(
        `SELECT to_char(least(max(booked_at) FILTER (WHERE NOT pending) AT TIME ZONE 'UTC' - make_interval(days => $3),
                              min(booked_at) FILTER (WHERE pending) AT TIME ZONE 'UTC'), 'YYYY-MM-DD') AS since
         FROM transactions WHERE connection_id = $1 AND provider_account_id = $2 AND removed_at IS NULL`,
        [connectionId, accountId, overlapDays],
      );
      return row?.since ?? null;
    },

    /** A balance point for each account whose balance is new or changed (a retried import adds none). */
    async recordBalances(connectionId: string, accounts: AccountRecord[], asOf: string): Promise<void> {
      const known = accounts.filter((a) => a.balance !== null);
      if (known.length === 0) return;
      await db.query(
        `INSERT INTO account_balances (connection_id, provider_account_id, as_of, balance, currency)
         SELECT $1, u.id, $2::timestamptz, u.balance, u.currency
         FROM unnest($3::text[], $4::numeric[], $5::text[]) AS u(id, balance, currency)
         WHERE u.balance IS DISTINCT FROM (
           SELECT b.balance FROM account_balances b WHERE b.connection_id = $1 AND b.provider_account_id = u.id ORDER BY b.as_of DESC LIMIT 1)
         ON CONFLICT DO NOTHING`,
        [connectionId, asOf, known.map((a) => a.providerAccountId), known.map((a) => a.balance), known.map((a) => a.currency)],
      );
    },

    /** An account's balances, newest first. */
    async listBalances(connectionId: string, accountId: string, limit: number): Promise<BalancePoint[]> {
      const rows = await db.query<{ asOf: unknown; balance: string; currency: string }>(
        `SELECT as_of AS "asOf", balance::text AS balance, currency FROM account_balances
         WHERE connection_id = $1 AND provider_account_id = $2 ORDER BY as_of DESC LIMIT $3`,
        [connectionId, accountId, limit],
      );
      return rows.map((r) => ({ ...r, asOf: iso(r.asOf) }));
    },

    /**
     * The changes after change number `afterSeq`, oldest first, each transaction once in its latest
     * state: added (new to a reader at `afterSeq`), modified, or removed. A transaction added and
     * removed since is skipped (the reader never had it), but its change still moves the cursor on.
     */
    async transactionChanges(connectionId: string, afterSeq: string, limit: number): Promise<TransactionChanges> {
      const rows = await db.query<StoredTransaction & { createdSeq: string; changeSeq: string; removed: boolean }>(
        `SELECT ${TRANSACTION_COLUMNS}, created_seq::text AS "createdSeq", change_seq::text AS "changeSeq", removed_at IS NOT NULL AS removed
         FROM transactions WHERE connection_id = $1 AND change_seq > $2::bigint ORDER BY change_seq LIMIT $3`,
        [connectionId, afterSeq, limit + 1],
      );
      const page = rows.slice(0, limit);
      const changes: TransactionChanges = { added: [], modified: [], removed: [], lastSeq: page.at(-1)?.changeSeq ?? afterSeq, hasMore: rows.length > limit };
      for (const { createdSeq, changeSeq: _seq, removed, ...row } of page) {
        const isNew = BigInt(createdSeq) > BigInt(afterSeq);
        const transaction = { ...row, bookedAt: iso(row.bookedAt), updatedAt: iso(row.updatedAt) };
        if (removed) {
          if (!isNew) changes.removed.push({ providerTransactionId: row.providerTransactionId, providerAccountId: row.providerAccountId });
        } else (isNew ? changes.added : changes.modified).push(transaction);
      }
      return changes;
    },

    /**
     * Records the request an Idempotency-Key was first used for (SHA-256 hashes of the key and of
     * the request, never the body itself) and returns the fingerprint it holds (the given one for the
     * first use of the key, the first request's for any later use) and whether this call was that
     * first use. One statement decides: concurrent first uses of a key agree on one request, and
     * exactly one of them is `first`.
     */
    async rememberIdempotentRequest(tenantId: string, keyHash: string, fingerprint: string, connectionId: string): Promise<{ fingerprint: string; first: boolean }> {
      const inserted = await db.query<{ fingerprint: string }>(
        `INSERT INTO idempotency_keys (tenant_id, key_hash, fingerprint, connection_id) VALUES ($1, $2, $3, $4)
         ON CONFLICT (tenant_id, key_hash) DO NOTHING RETURNING fingerprint`,
        [tenantId, keyHash, fingerprint, connectionId],
      );
      if (inserted.length > 0) return { fingerprint, first: true };
      const [row] = await db.query<{ fingerprint: string }>('SELECT fingerprint FROM idempotency_keys WHERE tenant_id = $1 AND key_hash = $2', [
        tenantId,
        keyHash,
      ]);
      return { fingerprint: row?.fingerprint ?? fingerprint, first: false };
    },

    /** The connection's last change number ("0" when it has none): no delta cursor of it can be ahead of this. */
    async lastChangeSeq(connectionId: string): Promise<string> {
      const [row] = await db.query<{ seq: string }>(
        'SELECT coalesce(max(change_seq), 0)::text AS seq FROM transactions WHERE connection_id = $1',
        [connectionId],
      );
      return row?.seq ?? '0';
    },

    async listAccounts(connectionId: string): Promise<StoredAccount[]> {
      const rows = await db.query<StoredAccount>(
        `SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE connection_id = $1 ORDER BY provider_account_id`,
        [connectionId],
      );
      return rows.map((r) => ({ ...r, updatedAt: iso(r.updatedAt) }));
    },

    /** Newest first, keyset-paginated by (booked_at, id, account): one id on two accounts is two rows. */
    async listTransactions(
      connectionId: string,
      options: { accountId?: string; limit: number; after?: TransactionCursor },
    ): Promise<TransactionPage> {
      const rows = await db.query<StoredTransaction>(
        `SELECT ${TRANSACTION_COLUMNS} FROM transactions
         WHERE connection_id = $1 AND removed_at IS NULL
           AND ($2::text IS NULL OR provider_account_id = $2)
           AND ($3::timestamptz IS NULL
                OR (booked_at, provider_transaction_id, provider_account_id) < ($3::timestamptz, $4::text, $5::text))
         ORDER BY booked_at DESC, provider_transaction_id DESC, provider_account_id DESC
         LIMIT $6`,
        [
          connectionId,
          options.accountId ?? null,
          options.after?.[0] ?? null,
          options.after?.[1] ?? null,
          options.after?.[2] ?? null,
          options.limit + 1,
        ],
      );
      const page = rows.slice(0, options.limit).map((r) => ({ ...r, bookedAt: iso(r.bookedAt), updatedAt: iso(r.updatedAt) }));
      const last = page[page.length - 1];
      return { transactions: page, nextCursor: rows.length > options.limit && last ? encodeCursor(last) : null };
    },

    async countTransactions(connectionId: string): Promise<number> {
      const [row] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM transactions WHERE connection_id = $1 AND removed_at IS NULL', [
        connectionId,
      ]);
      return row?.n ?? 0;
    },
  };
}

export type Repository = ReturnType<typeof createRepository>;
