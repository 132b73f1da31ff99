-- Which Linkflow connection a provider's connection id belongs to (provider webhooks name only
-- theirs), and the provider webhook events already applied (de-duplication by event id).
CREATE TABLE provider_connections (
  provider                text        NOT NULL,
  provider_connection_id  text        NOT NULL,
  connection_id           text        NOT NULL,
  created_at              timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (provider, provider_connection_id)
);

CREATE TABLE provider_webhook_events (
  provider     text        NOT NULL,
  event_id     text        NOT NULL,
  received_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (provider, event_id)
);
