-- Pending transactions, as Plaid reports them: `pending` while the bank has not booked it, and on
-- a booked transaction the id (same account) of the pending one it replaces, when the provider
-- says so. Rows from before were all read as booked.
ALTER TABLE transactions ADD COLUMN pending boolean NOT NULL DEFAULT false;
ALTER TABLE transactions ADD COLUMN pending_transaction_id text;
