-- Secrets providers hand over (Powens user tokens, LnkFi API keys), sealed with AES-256-GCM:
-- the workflow only ever holds their names.
CREATE TABLE provider_secrets (
  provider    text        NOT NULL,
  name        text        NOT NULL,
  sealed      text        NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (provider, name)
);
