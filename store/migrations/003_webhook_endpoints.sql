-- Where each tenant receives Linkflow's webhooks. The signing secret is needed in the clear to
-- sign, so it cannot be hashed like an API key: it is sealed with AES-256-GCM under a key derived
-- from a server secret, bound to its row (id and tenant as associated data), never stored in plaintext.
CREATE TABLE webhook_endpoints (
  id             text        PRIMARY KEY,
  tenant_id      text        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  url            text        NOT NULL,
  -- v1.<key id>.<iv>.<ciphertext>.<tag>, base64url: the key id names the derived key, for rotation.
  secret_sealed  text        NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  -- Set by DELETE: the endpoint gets nothing more, pending deliveries to it stop.
  disabled_at    timestamptz
);

CREATE INDEX webhook_endpoints_active_by_tenant ON webhook_endpoints (tenant_id, created_at) WHERE disabled_at IS NULL;
