-- What an import has read, one row per page (the page's account and transaction ids as two arrays
-- of equal length) instead of one row per transaction: a page of 500 writes one row and one index
-- entry, not 500 of each (issue 16, ingest). Removals unnest them once per account. An import in
-- flight across this migration keeps what it noted, as one row.
CREATE TABLE sync_seen_pages (
  sync_id   text   NOT NULL,
  accounts  text[] NOT NULL,
  ids       text[] NOT NULL,
  CHECK (cardinality(accounts) = cardinality(ids))
);
CREATE INDEX sync_seen_pages_by_sync ON sync_seen_pages (sync_id);
INSERT INTO sync_seen_pages (sync_id, accounts, ids)
  SELECT sync_id, array_agg(provider_account_id ORDER BY provider_account_id, provider_transaction_id),
         array_agg(provider_transaction_id ORDER BY provider_account_id, provider_transaction_id)
  FROM sync_seen_transactions GROUP BY sync_id;
DROP TABLE sync_seen_transactions;
