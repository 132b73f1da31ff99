// The records adapters map provider data into and the store keeps: what providers/ and store/ agree on.

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

/**
 * One transaction as an adapter maps it from its provider. A row is keyed by (connection,
 * `providerAccountId`, `providerTransactionId`): most providers make ids unique per account only,
 * so both legs of an internal transfer may share one id on two accounts.
 */
export interface TransactionRecord {
  /** The provider's id, unique within its account (not necessarily across the connection). */
  providerTransactionId: string;
  providerAccountId: string;
  /** ISO 8601 timestamp: the booking date (for a pending transaction, the date the provider gives it). */
  bookedAt: string;
  /** Decimal string, negative for debits. */
  amount: string;
  currency: string;
  label: string;
  category: string | null;
  /** Not booked yet: the bank may still change, drop or book it under another id (Plaid's `pending`). */
  pending: boolean;
  /**
   * On a booked transaction, the id (in the same account) of the pending one it replaces, when the
   * provider says which (Plaid's `pending_transaction_id`); null otherwise, and always null when the
   * provider gives no such link.
   */
  pendingTransactionId: string | null;
}
