-- A Connect session starts at most one connection at a time: the end user's choice (or "start
-- again") leases the session until this time, and a concurrent post (a double click, a replayed
-- form) finds it leased and starts nothing. A lease left by a crashed API expires on its own.
ALTER TABLE connect_sessions ADD COLUMN starting_until timestamptz;
