-- Transaction ids are unique per account at most providers, not per connection: both legs of an
-- internal transfer may carry the same id (`TRF-1`) on two accounts of one connection. A row is
-- now keyed by (connection, account, provider's transaction id). Rows keyed the old way stay as
-- they are: (connection, id) was unique, so (connection, account, id) is too.
ALTER TABLE transactions DROP CONSTRAINT transactions_pkey;
ALTER TABLE transactions ADD PRIMARY KEY (connection_id, provider_account_id, provider_transaction_id);

-- The list's keyset order gains the account, so two rows with the same booking time and id stay
-- apart: (booked_at, id, account), newest first.
DROP INDEX transactions_by_date;
CREATE INDEX transactions_by_date
  ON transactions (connection_id, booked_at DESC, provider_transaction_id DESC, provider_account_id DESC);

-- What an import has read, per account too. An import running across this migration keeps what
-- it noted: its transaction ids were unique in the connection, so each names one account.
ALTER TABLE sync_seen_transactions ADD COLUMN provider_account_id text;
UPDATE sync_seen_transactions s SET provider_account_id = t.provider_account_id
  FROM sync_runs r, transactions t
  WHERE r.sync_id = s.sync_id AND t.connection_id = r.connection_id AND t.provider_transaction_id = s.provider_transaction_id;
-- None should be left (a page's rows and its ids are written together); one that is names no row.
DELETE FROM sync_seen_transactions WHERE provider_account_id IS NULL;
ALTER TABLE sync_seen_transactions ALTER COLUMN provider_account_id SET NOT NULL;
ALTER TABLE sync_seen_transactions DROP CONSTRAINT sync_seen_transactions_pkey;
ALTER TABLE sync_seen_transactions ADD PRIMARY KEY (sync_id, provider_account_id, provider_transaction_id);
