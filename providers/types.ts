import type {
  Challenge,
  ChannelMode,
  InputField,
  ListedAccount,
  ProviderEvent,
  ProviderName,
  RedirectReceived,
} from '../contract/messages';
import type { AccountRecord, TransactionRecord } from '../contract/records';

/**
 * Secrets a provider hands over (user tokens, per-connection API keys), kept sealed
 * (AES-256-GCM) in the store: never in workflow history, never in logs. Keys are the
 * adapter's own names, e.g. `user:42:token`.
 */
export interface ProviderSecrets {
  put(provider: ProviderName, key: string, value: string): Promise<void>;
  get(provider: ProviderName, key: string): Promise<string | null>;
  delete(provider: ProviderName, key: string): Promise<void>;
}

/** The windows of a provider's rate-limit budget that BudgetResets remembers. */
export type BudgetWindow = 'minute' | 'day';

/**
 * When a provider's spent rate-limit budgets reset, per budget (the adapter's key, e.g. LnkFi's
 * connection instance), in ms since the epoch on the adapter's clock. Shared by every worker
 * through the store (store/provider-budgets.ts), so that a budget one worker saw spent is waited
 * out by the others instead of being run into; in one process's memory for unit tests
 * (providers/lnkfi/rate-limit.ts). Only saves requests: the provider's 429 stays the authority.
 */
export interface BudgetResets {
  /** The resets remembered for `key` (none: `{}`), past ones included: the caller compares with its clock. */
  get(provider: ProviderName, key: string): Promise<Partial<Record<BudgetWindow, number>>>;
  /** Sets (a time) or forgets (null) each window given; windows not given are left as they are. */
  update(provider: ProviderName, key: string, change: Partial<Record<BudgetWindow, number | null>>): Promise<void>;
}

/** What every adapter may use besides its own configuration. */
export interface AdapterDeps {
  secrets: ProviderSecrets;
  /** Spent rate-limit budgets shared by every worker (the store); default: this adapter's memory only. */
  budgetResets?: BudgetResets;
}

/** Which provider connection a Linkflow connection is bound to, as the provider names it. */
export interface ProviderConnection {
  providerConnectionId: string;
  /** Provider-specific handles the adapter needs later (e.g. Oxlin's event queue id). */
  providerRef: Record<string, string>;
}

/** How a long provider job reports liveness and waits without busy-looping (an activity's Context). */
export interface JobContext {
  heartbeat(details?: unknown): void;
  sleep(ms: number): Promise<void>;
  /** 1 for the first attempt; Temporal retries the activity (with backoff) after a retryable failure. */
  attempt: number;
  /** What the previous attempt last passed to heartbeat(), if anything (e.g. a provider's request id). */
  lastDetails: unknown;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface ChannelInfo {
  id: string;
  mode: ChannelMode;
  /** When the channel's authorization lapses (PSD2 consent), if it does. */
  expiresAt: string | null;
}

/** Provider statuses that end a job without data; the workflow maps each onto a state. */
export const PROVIDER_FAILURES = [
  'AUTH_FAILED',
  'PASSWORD_CHANGE_REQUIRED',
  'TOO_MANY_ATTEMPTS',
  'USER_ACTION_REQUIRED',
  'CHALLENGE_CANCELLED',
  'CHALLENGE_TIMED_OUT',
  'CHALLENGE_FAILED',
  'FAILED',
] as const;
export type ProviderFailure = (typeof PROVIDER_FAILURES)[number];

/** How a provider job (listing accounts, syncing) ended — or paused for the end user. */
export type JobOutcome =
  | {
      outcome: 'success';
      channels: ChannelInfo[];
      /** Small handles to keep for the next calls (e.g. Flinks' RequestId), merged into the connection's. */
      providerRef?: Record<string, string>;
    }
  | { outcome: 'challenge'; challenge: Challenge }
  | { outcome: 'failed'; status: ProviderFailure; channelId: string | null };

/** `providerRef`: small handles to keep from now on (e.g. Powens' user id), merged into the connection's. */
export type Authorization =
  | {
      kind: 'redirect';
      channelId: string;
      url: string;
      providerRef?: Record<string, string>;
      terms?: string;
      /**
       * `code`: the redirect brings back an authorization code, from which Linkflow creates the
       * provider connection itself (ProviderAdapter.completeAuthorization); a redirect naming a
       * provider connection instead is refused. Absent: the redirect (or a webhook) names it.
       */
      completion?: 'code';
    }
  | { kind: 'credentials'; channelId: string; fields: InputField[]; providerRef?: Record<string, string> };

/** The failure type of a provider's refusal of an authorization code (completeAuthorization). */
export const AUTHORIZATION_CODE_REFUSED = 'AuthorizationCodeRefused';

/**
 * One institution an end user can connect through a provider, as Linkflow's catalogue lists it
 * (GET /v1/institutions, the Connect page's "choosing" step). `id` is what POST /v1/connections
 * takes as `institution_id`. Sources, per provider:
 * - Oxlin: a provider of `GET /v2.1/providers` (reference 001 "Full API integration", "List
 *   available providers"): `id`, `name`, `country_code`; `modes` from its `channel_definitions`
 *   (REDIRECT → redirect, EMBEDDED → embedded). Providers marked `unavailable` are left out.
 * - Flinks: the reference documents no listing endpoint (000: Flinks Connect offers the bank
 *   itself and names it back, `institution=FlinksCapital`): a table in providers/flinks/institutions.ts.
 * - Powens: a connector of `GET /2.0/connectors?expand=sources` (reference 002: "You can obtain
 *   the list from the /connectors endpoint"); `modes` from the auth_mechanism of the source a new
 *   connection starts with (webauth → redirect, credentials → embedded).
 * - LnkFi: the reference documents no listing endpoint; its systems are the ones
 *   `POST /v1/connection/authorize` names ("Support systems include: xero"), limited to the one
 *   this deployment connects: a table in providers/lnkfi/institutions.ts.
 */
export interface Institution {
  provider: ProviderName;
  /** The provider's own id (Oxlin provider id, Flinks institution, Powens connector id, LnkFi system). */
  id: string;
  /** The display name the provider gives. */
  name: string;
  /** The country as the provider gives it (Oxlin: ISO 3166-1 alpha-3, `FRA`); null where its API names none. */
  country: string | null;
  /**
   * The modes a new connection to it may start with (POST /v1/connections `mode`), each once,
   * `redirect` first. Never empty: an institution no mode can start is left out.
   */
  modes: ChannelMode[];
}

/** One provider's API, turned into the lifecycle's steps. Implemented once per folder in providers/. */
export interface ProviderAdapter {
  /**
   * Starts authorizing a channel of the given mode: a URL for the end user's browser (`state`
   * comes back on the redirect), or the credential fields to ask for. With `existing`, the
   * channel of an existing provider connection is renewed, repaired or added.
   */
  authorize(request: {
    /** The Linkflow connection (for providers that echo an external id back, e.g. LnkFi's vendor_external_id). */
    connectionId: string;
    institutionId: string;
    mode: ChannelMode;
    redirectUri: string;
    state: string;
    existing?: ProviderConnection & { channelId?: string };
  }): Promise<Authorization>;
  /**
   * Every institution a new connection can be started with, as the provider's API (or, where it
   * has no listing, its reference) names them: see Institution. Transient failures throw plain
   * errors; callers (the API's InstitutionCatalogue) cache the answer.
   */
  listInstitutions(): Promise<Institution[]>;
  /** The channel's credential fields, as the provider defines them. */
  credentialFields(institutionId: string, channelId: string): Promise<InputField[]>;
  /** Sends plaintext credentials (held in memory only); creates the provider connection or updates its channel. */
  submitCredentials(request: {
    institutionId: string;
    channelId: string;
    credentials: { id: string; value: string }[];
    /** The connection's handles so far (from authorize), even before a provider connection exists. */
    providerRef: Record<string, string>;
    existing?: ProviderConnection;
  }): Promise<ProviderConnection>;
  /** Waits for the provider's running job (listing or sync) to end or to ask the end user something. */
  waitForJob(connection: ProviderConnection, job: 'list' | 'sync', ctx: JobContext): Promise<JobOutcome>;
  /** Answers the challenge with plaintext values (held in memory only). */
  answerChallenge(connection: ProviderConnection, challenge: Challenge, answers: { id: string; value: string }[]): Promise<void>;
  /** Every account the provider knows on the connection (consented or waiting for consent). */
  listAccounts(connection: ProviderConnection): Promise<ListedAccount[]>;
  giveConsent(connection: ProviderConnection, consents: { account_id: string; consent: boolean }[]): Promise<void>;
  /** Asks the provider to refresh its data; a refresh already running counts as started. */
  startSync(connection: ProviderConnection): Promise<void>;
  fetchAccounts(connection: ProviderConnection): Promise<AccountRecord[]>;
  /**
   * One page of an account's transactions, newest first. `since` (YYYY-MM-DD) is the earliest
   * booking date wanted: adapters whose API filters by date pass it on, the others return
   * everything (Linkflow only treats as removed what the provider could have returned).
   */
  fetchTransactions(connection: ProviderConnection, accountId: string, cursor: string | null, since: string | null): Promise<Page<TransactionRecord>>;
  /** Removes the connection at the provider; one already gone counts as removed. */
  disconnect(connection: ProviderConnection): Promise<void>;
  /**
   * Creates the provider connection from the authorization code a redirect brought back, for an
   * authorization whose `completion` is `code` (Oxlin's client-created REDIRECT flow, reference
   * 001 "You want to create the connection"). The id comes from the provider's answer to Linkflow,
   * never from the browser. `redirectUri` is the one the authorization was started with.
   * Idempotent: a retry with the same code answers the same connection. Throws a non-retryable
   * ApplicationFailure of type AUTHORIZATION_CODE_REFUSED when the provider refuses the code.
   */
  completeAuthorization?(request: { institutionId: string; channelId: string; code: string; redirectUri: string }): Promise<ProviderConnection>;
  /**
   * The URL of a redirect authorization offered earlier (`url`, as authorize returned it), usable
   * now: what Linkflow sends the end user's browser to when it opens a Linkflow link. Providers
   * whose URL embeds something short-lived mint it again (Powens: the webview `code`, 30 minutes;
   * Oxlin and LnkFi: the authorization session, 30 minutes); `authorization` is what the
   * authorization was started with, `state` its same signed state (null when unknown). Providers
   * whose URL does not expire (Flinks Connect) leave it out and the URL is used as it is.
   */
  refreshAuthorizationUrl?(request: {
    url: string;
    providerRef: Record<string, string>;
    authorization: {
      connectionId: string;
      institutionId: string;
      channelId: string;
      redirectUri: string;
      state: string | null;
      existing?: ProviderConnection;
    };
  }): Promise<string>;
  /**
   * Whether the provider connection a browser or webhook named belongs to the authorization this
   * connection started, as far as the provider's API can tell (e.g. Powens lists connections per
   * user token). `candidate.providerRef` holds the connection's handles so far plus the redirect's.
   * Providers whose API cannot tell leave it out (Linkflow's own links still refuse an id another
   * connection holds). Throws only for transient failures.
   */
  ownsConnection?(candidate: ProviderConnection): Promise<boolean>;
}

export type AdapterRegistry = Record<ProviderName, ProviderAdapter>;

/**
 * A provider's webhook, parsed. `connectionId` names the Linkflow connection when the provider
 * echoes it (otherwise the provider connection id is looked up); `secrets` are stored sealed
 * before the event is signalled, and never travel further.
 */
export interface ParsedWebhook {
  providerConnectionId: string;
  connectionId?: string;
  event: ProviderEvent | null;
  secrets?: { key: string; value: string }[];
}

/** A provider's redirect back to Linkflow, parsed: the signed state and what it says happened. */
/** Header values as Node gives them. */
export type Headers = Record<string, string | string[] | undefined>;
export type WebhookVerifier = (rawBody: Buffer, headers: Headers, secret: string) => boolean;
/**
 * `json` is `rawBody` parsed; the event id a parser returns must come from what the provider's
 * signature covers (the raw body for all three), never from an unsigned header, since it decides
 * "new or duplicate". Throws a ZodError when the event is malformed.
 */
export type WebhookParser = (json: unknown, headers: Headers, rawBody: Buffer) => ParsedWebhook;

export interface ParsedRedirect {
  state: string;
  redirect: Omit<RedirectReceived, 'nonce' | 'sealedAuthorizationCode'>;
  /** The authorization code a redirect carried (a secret: the API seals it before it is signalled). */
  authorizationCode?: string;
}
