-- Redirect states already used: a state is single-use even when the browser (or an attacker)
-- replays the callback before the workflow has acted on the first one.
CREATE TABLE redirect_claims (
  nonce          text        PRIMARY KEY,
  connection_id  text        NOT NULL,
  claimed_at     timestamptz NOT NULL DEFAULT now()
);
