-- An import's plan (which accounts, in which order, each one's window; full or incremental), fixed
-- by its first attempt, and its position (account, provider cursor, oldest booking seen), written in
-- the same transaction as each page: a retry reads both back instead of re-deriving them from the
-- rows the crashed attempt already wrote. NULL on imports begun before this migration.
ALTER TABLE sync_runs ADD COLUMN plan jsonb;
ALTER TABLE sync_runs ADD COLUMN position jsonb;
