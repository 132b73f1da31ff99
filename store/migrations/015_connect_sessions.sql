-- Linkflow Connect (the hosted page). A session is created by a tenant's backend; its URL token is
-- single-use and short-lived, and only its hash is stored. Opening it binds the session to one
-- browser: a random secret in a cookie, stored hashed too. `request` holds what POST
-- /v1/connections would take when the end user still has to choose the institution (or may start
-- again); `accepted_terms` the SHA-256 of each terms text the end user agreed to.
CREATE TABLE connect_sessions (
  id                   text        PRIMARY KEY,
  tenant_id            text        NOT NULL,
  token_hash           text        NOT NULL UNIQUE,
  browser_secret_hash  text,
  connection_id        text,
  request              jsonb       NOT NULL,
  redirect_url         text        NOT NULL,
  locale               text,
  accepted_terms       jsonb       NOT NULL DEFAULT '[]',
  token_expires_at     timestamptz NOT NULL,
  opened_at            timestamptz,
  expires_at           timestamptz NOT NULL,
  created_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX connect_sessions_connection ON connect_sessions (connection_id);

-- Each tenant's settings for the Connect page: the origins allowed to embed it (CSP
-- frame-ancestors) and the tenant's own terms, shown before anything else.
CREATE TABLE connect_settings (
  tenant_id        text  PRIMARY KEY,
  frame_ancestors  jsonb NOT NULL DEFAULT '[]',
  terms            text
);
