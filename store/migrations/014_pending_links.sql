-- Booked transactions that name the pending one they replaced: found by that pending id when a page
-- lists the pending one again (its link is then dropped). Few rows carry a link, so the index is partial.
CREATE INDEX transactions_by_pending_link ON transactions (connection_id, provider_account_id, pending_transaction_id)
  WHERE pending_transaction_id IS NOT NULL;
