-- Tenants and their API keys. Keys are random 256-bit secrets: only their SHA-256 is kept.
CREATE TABLE tenants (
  id          text        PRIMARY KEY,
  name        text        NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
  id          text        PRIMARY KEY,
  tenant_id   text        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  key_hash    text        NOT NULL UNIQUE,
  prefix      text        NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  revoked_at  timestamptz
);
