-- Accounts and transactions as the providers report them, keyed by (connection, provider's id)
-- so a retried or repeated sync upserts instead of duplicating.
CREATE TABLE accounts (
  connection_id        text        NOT NULL,
  provider_account_id  text        NOT NULL,
  provider             text        NOT NULL,
  name                 text        NOT NULL,
  type                 text        NOT NULL,
  currency             text        NOT NULL,
  balance              numeric,
  iban                 text,
  account_number       text,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (connection_id, provider_account_id)
);

CREATE TABLE transactions (
  connection_id            text        NOT NULL,
  provider_transaction_id  text        NOT NULL,
  provider_account_id      text        NOT NULL,
  booked_at                timestamptz NOT NULL,
  amount                   numeric     NOT NULL,
  currency                 text        NOT NULL,
  label                    text        NOT NULL,
  category                 text,
  created_at               timestamptz NOT NULL DEFAULT now(),
  updated_at               timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (connection_id, provider_transaction_id),
  FOREIGN KEY (connection_id, provider_account_id) REFERENCES accounts (connection_id, provider_account_id) ON DELETE CASCADE
);

CREATE INDEX transactions_by_account_date
  ON transactions (connection_id, provider_account_id, booked_at DESC, provider_transaction_id DESC);
CREATE INDEX transactions_by_date
  ON transactions (connection_id, booked_at DESC, provider_transaction_id DESC);
