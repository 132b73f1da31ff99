// What the Oxlin sandbox can be started with (sandbox/oxlin/server.ts): its address, its client, the
// delays of its jobs and of a slow bank, its clock, and where it sends its signed webhooks.
export interface OxlinSandboxOptions {
  port?: number;
  host?: string;
  clientId?: string;
  clientSecret?: string;
  listDelayMs?: number;
  syncDelayMs?: number;
  /** How long LIST_ACCOUNTS takes for the test user `user_slow` (default 3000 ms). */
  slowListDelayMs?: number;
  /** How long every `authorize_url` call waits before answering (default 0): a slow bank, for tests of a slow first next action. */
  authorizeDelayMs?: number;
  /** Milliseconds since the epoch; every date the sandbox produces comes from it. */
  now?: () => number;
  /** Where browsers reach the bank page, when not where the API client reached the sandbox (e.g. behind docker-compose). */
  publicUrl?: string;
  /** Send every event as a signed webhook to this URL (see README: Webhooks). */
  webhook?: { url: string; secret: string };
}
