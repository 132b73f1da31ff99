-- Inbound events (provider webhooks, redirect states) are claimed before they are signalled, so
-- that deliveries arriving together signal the workflow once (store/claims.ts).
-- A row is a claim; `signalled_at` says the signal went through. A claim whose signal failed is
-- deleted (released), and one left unsignalled by a crash is taken over after a short lease.
--
-- `signalled_at` defaults to now() on purpose: rows written before this migration, and rows an
-- older replica writes during a rolling deploy (it inserts only after signalling), are signalled
-- ones. A claim inserts NULL explicitly.
ALTER TABLE provider_webhook_events ADD COLUMN claim_token text;
ALTER TABLE provider_webhook_events ADD COLUMN claimed_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE provider_webhook_events ADD COLUMN signalled_at timestamptz DEFAULT now();
UPDATE provider_webhook_events SET claimed_at = received_at, signalled_at = received_at;

ALTER TABLE redirect_claims ADD COLUMN claim_token text;
ALTER TABLE redirect_claims ADD COLUMN signalled_at timestamptz DEFAULT now();
UPDATE redirect_claims SET signalled_at = claimed_at;
