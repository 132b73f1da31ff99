import type { Queryable } from './db';

export interface AccountRecord {
  providerAccountId: string;
  name: string;
  type: string;
  currency: string;
  /** Decimal string in the account's currency. */
  balance: string | null;
  iban: string | null;
  accountNumber: string | null;
}

export interface TransactionRecord {
  providerTransactionId: string;
  providerAccountId: string;
  /** ISO 8601 timestamp. */
  bookedAt: string;
  /** Decimal string, negative for debits. */
  amount: string;
  currency: string;
  label: string;
  category: string | null;
}

export interface UpsertCounts {
  added: number;
  modified: number;
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
  booked_at AS "bookedAt", amount::text AS amount, currency, label, category, updated_at AS "updatedAt"`;

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

const UPSERT_TRANSACTIONS = `
INSERT INTO transactions (connection_id, provider_transaction_id, provider_account_id, booked_at, amount, currency, label, category)
SELECT $1, * FROM unnest($2::text[], $3::text[], $4::timestamptz[], $5::numeric[], $6::text[], $7::text[], $8::text[])
ON CONFLICT (connection_id, provider_transaction_id) DO UPDATE SET
  provider_account_id = excluded.provider_account_id, booked_at = excluded.booked_at, amount = excluded.amount,
  currency = excluded.currency, label = excluded.label, category = excluded.category, updated_at = now()
WHERE (transactions.provider_account_id, transactions.booked_at, transactions.amount, transactions.currency,
       transactions.label, transactions.category)
  IS DISTINCT FROM (excluded.provider_account_id, excluded.booked_at, excluded.amount, excluded.currency,
       excluded.label, excluded.category)
RETURNING (xmax = 0) AS inserted`;

// Both drivers hand timestamptz back as Date; the repository speaks ISO strings.
const iso = (v: unknown): string => (v instanceof Date ? v.toISOString() : String(v));

function count(rows: { inserted: boolean }[]): UpsertCounts {
  const added = rows.filter((r) => r.inserted).length;
  return { added, modified: rows.length - added };
}

const encodeCursor = (t: StoredTransaction): string =>
  Buffer.from(JSON.stringify([t.bookedAt, t.providerTransactionId])).toString('base64url');

/** Decodes a cursor made by this repository; anything else is null (the API answers 400). */
export function decodeTransactionCursor(cursor: string): [string, string] | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'string')) {
      const [at, id] = value as [string, string];
      if (!Number.isNaN(Date.parse(at))) return [at, id];
    }
  } catch {
    // fall through: not one of ours
  }
  return null;
}

export function createRepository(db: Queryable) {
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

    async upsertTransactions(connectionId: string, transactions: TransactionRecord[]): Promise<UpsertCounts> {
      if (transactions.length === 0) return { added: 0, modified: 0 };
      const col = <K extends keyof TransactionRecord>(k: K) => transactions.map((t) => t[k]);
      return count(
        await db.query<{ inserted: boolean }>(UPSERT_TRANSACTIONS, [
          connectionId,
          col('providerTransactionId'),
          col('providerAccountId'),
          col('bookedAt'),
          col('amount'),
          col('currency'),
          col('label'),
          col('category'),
        ]),
      );
    },

    async listAccounts(connectionId: string): Promise<StoredAccount[]> {
      const rows = await db.query<StoredAccount>(
        `SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE connection_id = $1 ORDER BY provider_account_id`,
        [connectionId],
      );
      return rows.map((r) => ({ ...r, updatedAt: iso(r.updatedAt) }));
    },

    /** Newest first, keyset-paginated by (booked_at, id). */
    async listTransactions(
      connectionId: string,
      options: { accountId?: string; limit: number; after?: [string, string] },
    ): Promise<TransactionPage> {
      const rows = await db.query<StoredTransaction>(
        `SELECT ${TRANSACTION_COLUMNS} FROM transactions
         WHERE connection_id = $1
           AND ($2::text IS NULL OR provider_account_id = $2)
           AND ($3::timestamptz IS NULL OR (booked_at, provider_transaction_id) < ($3::timestamptz, $4::text))
         ORDER BY booked_at DESC, provider_transaction_id DESC
         LIMIT $5`,
        [connectionId, options.accountId ?? null, options.after?.[0] ?? null, options.after?.[1] ?? null, options.limit + 1],
      );
      const page = rows.slice(0, options.limit).map((r) => ({ ...r, bookedAt: iso(r.bookedAt), updatedAt: iso(r.updatedAt) }));
      const last = page[page.length - 1];
      return { transactions: page, nextCursor: rows.length > options.limit && last ? encodeCursor(last) : null };
    },

    async countTransactions(connectionId: string): Promise<number> {
      const [row] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM transactions WHERE connection_id = $1', [
        connectionId,
      ]);
      return row?.n ?? 0;
    },
  };
}

export type Repository = ReturnType<typeof createRepository>;
