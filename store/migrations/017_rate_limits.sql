-- Rate limits shared by every API replica (store/rate-limits.ts): rate-limiter-flexible's
-- RateLimiterPostgres table, in the library's own shape (a key, the points consumed in the
-- current window, the window's end in ms since the epoch). Created here, under the migration
-- lock, rather than by the library at start: two API processes starting at once race neither
-- each other nor their first request. The key carries the limit's name (`api:<tenant>`,
-- `link-opens:<connection>`). Expired rows are deleted by the library every few minutes.
CREATE TABLE rate_limits (
  key varchar(255) PRIMARY KEY,
  points integer NOT NULL DEFAULT 0,
  expire bigint
);
CREATE INDEX rate_limits_expire ON rate_limits (expire);
