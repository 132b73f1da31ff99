// Linkflow's configuration, from the environment, validated once at start.
import { z } from 'zod';
import { PROVIDERS, type ProviderName } from './contract/messages';
import { type PayloadKey, parsePayloadKeys } from './domain/payload-codec';

// Every value is read as text first: an empty or blank value is an error naming the variable, never
// "unset" and never coerced (z.coerce.number('') is 0, which started the API on a random port).
const text = z.string().regex(/\S/, 'must not be empty');
const integer = (what: string) => text.regex(/^\s*\d+\s*$/, `must be ${what}`).transform(Number);
/** A TCP port to listen on or reach: 1-65535 (0 would mean "any", which no caller can then find). */
const port = integer('a port number (1-65535)').pipe(z.number().int().min(1).max(65535));
const seconds = integer('a whole number greater than 0').pipe(z.number().int().positive());
/** A provider poll interval in ms: 100 ms (the first read's wait) to a minute. */
const pollInterval = integer('a whole number of milliseconds from 100 to 60000').pipe(
  z.number().int().min(100, 'must be at least 100 (ms)').max(60_000, 'must be at most 60000 (ms)'),
);
const url = text.pipe(z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }));
/** The sticky cache's size: 0 (off: every task replays the whole history) or at least 2 (the SDK's minimum). */
const cacheSize = integer('0 or a whole number of at least 2').pipe(z.number().int().refine((n) => n === 0 || n >= 2, 'must be 0 or at least 2'));
const secret = (min: number) => text.min(min, `must be at least ${min} characters`);
const payloadKeys = text.transform((value, ctx): PayloadKey[] => {
  try {
    return parsePayloadKeys(value);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
});
/** A browser origin: scheme, host and port, no path. */
const origin = url.refine((value) => URL.canParse(value) && new URL(value).origin === value.replace(/\/$/, ''), 'must be an origin (scheme://host[:port], no path)').transform((value) => new URL(value).origin);

/**
 * The worker's sticky cache by default: ~65 MB of cached connections at the ~0.65 MB each bench
 * `idle` measures (a worker with a full cache is ~0.45 MB × N over one without: the rest is
 * garbage the heap keeps), so a worker holding 10,000 waiting connections stays under 300 MB RSS
 * (README, "Sizing a worker"); every other connection waits in Temporal, not in memory.
 */
export const DEFAULT_MAX_CACHED_WORKFLOWS = 100;
/** Workflow tasks a worker runs at once by default (the SDK's own default). */
export const DEFAULT_MAX_CONCURRENT_WORKFLOW_TASKS = 40;

const EnvSchema = z.object({
  PORT: port.default(3000),
  HOST: text.default('127.0.0.1'),
  /** How browsers and providers reach the API; callbacks are built on it. */
  PUBLIC_URL: url.optional(),
  TEMPORAL_ADDRESS: text.optional(),
  TEMPORAL_NAMESPACE: text.default('default'),
  TEMPORAL_PORT: port.default(7233),
  TEMPORAL_UI_PORT: port.default(8233),
  DATABASE_URL: text.optional(),
  LINKFLOW_DATA_DIR: text.default('.data'),
  LINKFLOW_STATE_SECRET: secret(32).optional(),
  /** The operator's key for /v1/admin (tenants and API keys); admin routes are off without it. */
  LINKFLOW_ADMIN_KEY: secret(32).optional(),
  /**
   * AES-256 keys sealing every payload in Temporal's history: `id1:base64key,id2:base64key`, each
   * 32 bytes (openssl rand -base64 32); the first encrypts, every one decrypts (rotation: put the
   * new key first, keep the old ones while histories sealed with them live). Embedded: unset, one
   * is generated into the data dir.
   */
  LINKFLOW_PAYLOAD_KEYS: payloadKeys.optional(),
  /** The Temporal Web UI's origin, allowed (CORS) to call the codec endpoint /codec/{decode,encode}. */
  LINKFLOW_UI_ORIGIN: origin.default('http://localhost:8233'),
  /** Armored OpenPGP private key that credentials are encrypted to. */
  LINKFLOW_CREDENTIALS_KEY: text.includes('BEGIN PGP PRIVATE KEY BLOCK', { message: 'must be an armored OpenPGP private key' }).optional(),
  /** The Oxlin sandbox's port; Flinks, Powens and LnkFi listen on the next three. */
  SANDBOX_PORT: port.default(4010),
  /** Where browsers reach the sandbox bank, if not at the address the worker uses (docker-compose). */
  SANDBOX_PUBLIC_URL: url.optional(),
  /** The Linkflow API the sandboxes send their signed webhooks to (`/webhooks/<provider>`), when they run on their own. */
  SANDBOX_WEBHOOK_URL: url.optional(),
  OXLIN_BASE_URL: url.optional(),
  OXLIN_CLIENT_ID: text.default('linkflow-sandbox'),
  OXLIN_CLIENT_SECRET: text.default('sandbox-secret'),
  /** Longest wait (ms) between two reads of Oxlin's event queue while a job runs (reads start 100 ms apart and back off to it). */
  OXLIN_POLL_INTERVAL_MS: pollInterval.default(1_000),
  /** Verifies Oxlin's webhooks (POST /webhooks/oxlin); unset: that endpoint is off (embedded: generated and given to the sandbox). */
  OXLIN_WEBHOOK_SECRET: secret(16).optional(),
  FLINKS_BASE_URL: url.optional(),
  /** The customer id in Flinks' API paths (/v3/{customerId}/BankingServices/…). */
  FLINKS_CUSTOMER_ID: text.default('43387ca6-0391-4c82-857d-70d95f087ecb'),
  /** Where end users reach Flinks Connect, if not on FLINKS_BASE_URL (the sandbox serves both). */
  FLINKS_CONNECT_URL: url.optional(),
  /** Verifies Flinks' data webhooks (flinks-authenticity-key); unset: POST /webhooks/flinks is off. */
  FLINKS_WEBHOOK_SECRET: secret(16).optional(),
  POWENS_BASE_URL: url.optional(),
  POWENS_CLIENT_ID: text.default('linkflow-sandbox'),
  POWENS_CLIENT_SECRET: text.default('sandbox-secret'),
  /** Longest wait (ms) between two reads of a Powens connection while its job runs (reads start 100 ms apart and back off to it). */
  POWENS_POLL_INTERVAL_MS: pollInterval.default(1_000),
  /** Powens' webview, if not on POWENS_BASE_URL (the sandbox serves both). */
  POWENS_WEBVIEW_URL: url.optional(),
  LNKFI_BASE_URL: url.optional(),
  LNKFI_VENDOR_ID: text.default('vnd_00000000-0000-0000-0000-000000000001'),
  LNKFI_SYSTEM_CLIENT_ID: text.default('linkflow-xero-client'),
  LNKFI_SYSTEM_CLIENT_SECRET: text.default('linkflow-xero-secret'),
  /** Verifies LnkFi's webhooks (X-LnkFi-Webhook-Signature); unset: POST /webhooks/lnkfi is off. */
  LNKFI_WEBHOOK_SECRET: secret(16).optional(),
  /** Your company's legal name, in the consent text LnkFi requires the end user to see. */
  LNKFI_LEGAL_NAME: text.default('Linkflow'),
  LINKFLOW_SYNC_INTERVAL_SECONDS: seconds.default(86_400),
  LINKFLOW_REDIRECT_TIMEOUT_SECONDS: seconds.default(1_800),
  LINKFLOW_CONSENT_TIMEOUT_SECONDS: seconds.default(86_400),
  LINKFLOW_RENEWAL_LEAD_SECONDS: seconds.default(7 * 86_400),
  /** How long a Connect session's URL may be opened (its token is single-use either way). */
  LINKFLOW_CONNECT_TOKEN_SECONDS: seconds.default(1_800),
  /** How long the API serves a provider's institution list (GET /v1/institutions) before asking it again. */
  LINKFLOW_INSTITUTIONS_CACHE_SECONDS: seconds.default(600),
  /** `json` (one object a line, the default) or `pretty` (readable lines; `npm start` uses it). */
  LINKFLOW_LOG_FORMAT: z.enum(['json', 'pretty'], { message: 'must be json or pretty' }).optional(),
  LINKFLOW_RATE_LIMIT_PER_MINUTE: seconds.default(600),
  LINKFLOW_REQUEST_TIMEOUT_MS: seconds.default(30_000),
  /** Longest POST /v1/connections waits for the first next action before answering 202 `authorizing` (ms). */
  LINKFLOW_FIRST_ACTION_WAIT_MS: seconds.default(10_000),
  /** Longest a client may take to send a whole request (head and body): then a 408. */
  LINKFLOW_RECEIVE_TIMEOUT_MS: seconds.default(10_000),
  /** When set, GET /metrics needs it as `Authorization: Bearer <key>`; unset, /metrics is public like /healthz. */
  LINKFLOW_METRICS_KEY: secret(32).optional(),
  /** A worker process (role `worker`) serves Linkflow's own metrics (provider calls, webhook deliveries) at /metrics on this port. */
  LINKFLOW_WORKER_METRICS_PORT: port.optional(),
  /** The Temporal SDK's Prometheus exporter (the worker's own metrics: task slots, polls, latencies) at /metrics on this port; unset: off. */
  LINKFLOW_TEMPORAL_METRICS_PORT: port.optional(),
  /**
   * How many workflow executions (connections, webhook queues) the worker keeps in memory between
   * their tasks (Temporal's sticky cache): each costs memory (bench `idle`); one evicted is rebuilt
   * by replaying its history, bounded by continue-as-new, when it next wakes. 0 or at least 2.
   */
  LINKFLOW_WORKER_MAX_CACHED_WORKFLOWS: cacheSize.default(DEFAULT_MAX_CACHED_WORKFLOWS),
  /** How many workflow tasks the worker runs at once; at most LINKFLOW_WORKER_MAX_CACHED_WORKFLOWS when that is not 0. */
  LINKFLOW_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: seconds.default(DEFAULT_MAX_CONCURRENT_WORKFLOW_TASKS),
  /**
   * `true`: tenants' webhook endpoints may be on loopback, private (RFC 1918, fc00::/7), CGNAT and
   * link-local addresses (metadata services never). Unset: refused, except under `npm start`, which
   * allows them for local development and says so.
   */
  LINKFLOW_WEBHOOK_ALLOW_PRIVATE: z
    .enum(['true', 'false'], { message: 'must be true or false' })
    .transform((v) => v === 'true')
    .optional(),
});

/** Checks between variables, on top of each one's own. */
const CheckedEnvSchema = EnvSchema.superRefine((env, ctx) => {
  const cache = env.LINKFLOW_WORKER_MAX_CACHED_WORKFLOWS;
  if (cache > 0 && env.LINKFLOW_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS > cache) {
    ctx.addIssue({
      code: 'custom',
      path: ['LINKFLOW_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS'],
      message: `must be at most LINKFLOW_WORKER_MAX_CACHED_WORKFLOWS (${cache})`,
    });
  }
  // A start that waits for its first next action as long as the request may last ends in the request's
  // 504, which hides the connection it started: the 202 needs the rest of the request (half of it).
  const timeout = env.LINKFLOW_REQUEST_TIMEOUT_MS;
  if (env.LINKFLOW_FIRST_ACTION_WAIT_MS * 2 > timeout) {
    ctx.addIssue({
      code: 'custom',
      path: ['LINKFLOW_FIRST_ACTION_WAIT_MS'],
      message: `must be at most half of LINKFLOW_REQUEST_TIMEOUT_MS (${Math.floor(timeout / 2)})`,
    });
  }
});

export type Config = z.infer<typeof EnvSchema>;

/** Every environment variable Linkflow reads (the tests check each one's empty and malformed values). */
export const CONFIG_VARIABLES = Object.keys(EnvSchema.shape) as readonly (keyof Config)[];

/** Parses the environment; a bad value stops the process with a message naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = CheckedEnvSchema.safeParse(env);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
  throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
}

/** Like loadConfig, for processes that need settings the embedded mode would otherwise provide. */
export function requireSettings<K extends keyof Config>(config: Config, keys: K[]): Config & Required<Pick<Config, K>> {
  const missing = keys.filter((k) => config[k] === undefined);
  if (missing.length > 0) throw new Error(`Missing configuration: ${missing.join(', ')} must be set`);
  return config as Config & Required<Pick<Config, K>>;
}

export const publicUrl = (config: Config): string => config.PUBLIC_URL ?? `http://localhost:${config.PORT}`;

/** Where a provider's sandbox listens: SANDBOX_PORT and the next three, in PROVIDERS' order. */
export const sandboxPort = (config: Config, provider: ProviderName): number => config.SANDBOX_PORT + PROVIDERS.indexOf(provider);

/** Settings for new connections, from LINKFLOW_*_SECONDS. */
export const connectionDefaults = (config: Config) => ({
  syncIntervalSeconds: config.LINKFLOW_SYNC_INTERVAL_SECONDS,
  redirectTimeoutSeconds: config.LINKFLOW_REDIRECT_TIMEOUT_SECONDS,
  consentTimeoutSeconds: config.LINKFLOW_CONSENT_TIMEOUT_SECONDS,
  renewalLeadSeconds: config.LINKFLOW_RENEWAL_LEAD_SECONDS,
});
