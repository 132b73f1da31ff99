-- A redirect callback checks which provider connection its Linkflow connection already holds
-- (a renewal must name that one): provider links looked up by connection.
CREATE INDEX IF NOT EXISTS provider_connections_by_connection ON provider_connections (connection_id, provider);
