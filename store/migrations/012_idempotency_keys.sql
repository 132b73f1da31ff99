-- The request each Idempotency-Key of POST /v1/connections was first used for: the same key with
-- another request (method, path, canonical body) is refused, not replayed as the first connection.
CREATE TABLE idempotency_keys (
  tenant_id      text        NOT NULL,
  key_hash       text        NOT NULL,
  fingerprint    text        NOT NULL,
  connection_id  text        NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, key_hash)
);
