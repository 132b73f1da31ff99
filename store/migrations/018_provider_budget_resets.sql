-- Providers' spent rate-limit budgets, shared by every worker (store/provider-budgets.ts): when a
-- budget (LnkFi: a connection instance's minute and day budgets) resets, in ms since the epoch,
-- as one worker learnt it from the provider's headers or 429. The others read it before calling
-- and wait it out rather than run into a 429. NULL: that window is not known to be spent.
CREATE TABLE provider_budget_resets (
  provider text NOT NULL,
  budget_key text NOT NULL,
  minute_reset_ms bigint,
  day_reset_ms bigint,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (provider, budget_key)
);
