-- Delta sync: every change to a transaction (added, modified, removed) takes the next number of
-- one sequence, so a client's cursor is "the last change I have read". Rows are never deleted:
-- a transaction the provider drops is marked removed, and its removal is a change too.
CREATE SEQUENCE transaction_changes;

ALTER TABLE transactions ADD COLUMN created_seq bigint;
ALTER TABLE transactions ADD COLUMN change_seq bigint;
ALTER TABLE transactions ADD COLUMN removed_at timestamptz;
UPDATE transactions SET created_seq = nextval('transaction_changes');
UPDATE transactions SET change_seq = created_seq;
ALTER TABLE transactions ALTER COLUMN created_seq SET NOT NULL;
ALTER TABLE transactions ALTER COLUMN change_seq SET NOT NULL;
CREATE INDEX transactions_by_change ON transactions (connection_id, change_seq);

-- One row per import (its id stays the same across the activity's retries): where its changes start.
CREATE TABLE sync_runs (
  sync_id        text        PRIMARY KEY,
  connection_id  text        NOT NULL,
  start_seq      bigint      NOT NULL,
  started_at     timestamptz NOT NULL DEFAULT now()
);

-- The transactions an import has read so far: what it did not read (in its window) was removed.
CREATE TABLE sync_seen_transactions (
  sync_id                  text NOT NULL,
  provider_transaction_id  text NOT NULL,
  PRIMARY KEY (sync_id, provider_transaction_id)
);

-- Balances over time: a row when an account's balance is first seen and whenever it changes.
CREATE TABLE account_balances (
  connection_id        text        NOT NULL,
  provider_account_id  text        NOT NULL,
  as_of                timestamptz NOT NULL,
  balance              numeric     NOT NULL,
  currency             text        NOT NULL,
  PRIMARY KEY (connection_id, provider_account_id, as_of),
  FOREIGN KEY (connection_id, provider_account_id) REFERENCES accounts (connection_id, provider_account_id) ON DELETE CASCADE
);
