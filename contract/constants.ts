// The contract's plain values: names, state lists, tables and failure types, with no zod and no
// imports, so workflow code (bundled and evaluated once per cached workflow execution) pays only
// for these few constants. The zod schemas built on them are in contract/schemas.ts.

/** The task queue the connection and webhook workflows and their activities run on. */
export const TASK_QUEUE = 'linkflow-connections';

/** The connection workflow's id for a connection id. */
export const workflowIdFor = (connectionId: string): string => `connection-${connectionId}`;

/** The providers Linkflow talks to. */
export const PROVIDERS = ['oxlin', 'flinks', 'powens', 'lnkfi'] as const;
export type ProviderName = (typeof PROVIDERS)[number];

/** Every state of a connection (contract/lifecycle.ts says what each allows and where it goes). */
export const CONNECTION_STATES = [
  'authorizing',
  'awaiting_redirect',
  'awaiting_credentials',
  'listing_accounts',
  'challenge_required',
  'awaiting_consent',
  'syncing',
  'active',
  'renewal_required',
  'credentials_invalid',
  'user_action_required',
  'expired',
  'cancelled',
  'failed',
  'disconnected',
] as const;
export type ConnectionState = (typeof CONNECTION_STATES)[number];

/** The states no connection leaves. */
export const TERMINAL_STATES: readonly ConnectionState[] = ['expired', 'cancelled', 'failed', 'disconnected'];

// Search attributes the workflow keeps current; the dev server and docker-compose register them.
export const SEARCH_ATTRIBUTES = {
  LinkflowState: 'Keyword',
  LinkflowProvider: 'Keyword',
  LinkflowTenant: 'Keyword',
  LinkflowUserRef: 'Keyword',
  LinkflowNeedsAction: 'Bool',
} as const;

/** Channel modes: redirect (the provider's page) or embedded (credentials via Linkflow). */
export const CHANNEL_MODES = ['redirect', 'embedded'] as const;
export type ChannelMode = (typeof CHANNEL_MODES)[number];

/** What each provider supports: the API checks requests against it, the README's table says it. */
export interface ProviderCapabilities {
  /** Channel modes a connection may use: redirect (the provider's page) or embedded (credentials via Linkflow). */
  modes: readonly ChannelMode[];
  /** The provider asks for challenge answers (SMS codes, security questions) through Linkflow. */
  challenges: boolean;
  /** Accounts wait for the end user's consent, per account, before their data is read. */
  accountConsent: boolean;
  /** Authorizations lapse and are renewed ahead of time (renewal_required). */
  renewal: boolean;
  /** Signed provider webhooks (POST /webhooks/:provider). */
  webhooks: boolean;
  /** POST /v1/connections/:id/channels adds the next channel even when one of that mode exists (Powens' sources). */
  sequentialChannels: boolean;
  /**
   * The provider's webhook says when a job's data is ready (Flinks): a job waiting on the provider
   * (between retries) is woken by it and looks again at once. Part of the workflow's logic: changing
   * it for a provider changes that provider's histories.
   */
  dataWebhook: boolean;
}

/** Each provider's capabilities (see ProviderCapabilities). */
export const PROVIDER_CAPABILITIES: Record<ProviderName, ProviderCapabilities> = {
  oxlin: { modes: ['redirect', 'embedded'], challenges: true, accountConsent: true, renewal: true, webhooks: true, sequentialChannels: false, dataWebhook: false },
  flinks: { modes: ['redirect'], challenges: false, accountConsent: true, renewal: false, webhooks: true, sequentialChannels: false, dataWebhook: true },
  powens: { modes: ['redirect', 'embedded'], challenges: true, accountConsent: true, renewal: true, webhooks: false, sequentialChannels: true, dataWebhook: false },
  lnkfi: { modes: ['redirect'], challenges: false, accountConsent: true, renewal: false, webhooks: true, sequentialChannels: false, dataWebhook: false },
};

/** What an encrypted credential or challenge answer must look like: one armored OpenPGP message. */
export const ARMORED_PGP_MESSAGE = /^-----BEGIN PGP MESSAGE-----[\s\S]+-----END PGP MESSAGE-----\s*$/;
/** The longest encrypted value (characters) a credential or challenge answer may carry. */
export const ENCRYPTED_VALUE_MAX = 16_384;
/** The message of an encrypted value that is not an armored PGP message. */
export const ENCRYPTED_VALUE_MESSAGE = 'must be an armored PGP message encrypted with GET /v1/keys/credentials';

/** What a webhook event id looks like: `evt_<connection id>_<sequence>` (see webhookEventId). */
export const WEBHOOK_EVENT_ID = /^evt_[A-Za-z0-9_-]{1,200}$/;

/**
 * The failure type (and so the `reason` of a `failed` connection) of an institution that has no
 * channel of the mode asked for: POST /v1/connections answers it as 422 `unsupported_mode`.
 */
export const UNSUPPORTED_MODE = 'UNSUPPORTED_MODE';

/** The `type` of an ApplicationFailure thrown by an update validator; the API maps it to a status. */
export const UpdateRejection = {
  /** The connection is not in a state that allows this message (409). */
  WrongState: 'WrongState',
  /** The payload names something the connection does not have (422). */
  InvalidInput: 'InvalidInput',
  /** Credentials the provider's field rules reject (422, one detail per field). */
  InvalidCredentials: 'InvalidCredentials',
  /** The provider refused what the end user sent (422). */
  ProviderRejected: 'ProviderRejected',
  /** The provider no longer waits for an answer to this challenge: its own deadline passed (410). */
  ChallengeExpired: 'ChallengeExpired',
} as const;

// Webhooks to the client

/** One delivery workflow per connection keeps that connection's events in order. */
export const webhooksWorkflowIdFor = (connectionId: string): string => `webhooks-${connectionId}`;

/**
 * Event ids are deterministic per connection event (the connection workflow numbers its events),
 * so an emit that is retried is recognised and delivered once; clients de-duplicate on it too.
 */
export const webhookEventId = (connectionId: string, sequence: number): string => `evt_${connectionId}_${sequence}`;

/** The `type` of every event sent to a client's webhook endpoints. */
export const WEBHOOK_EVENT_TYPES = [
  'connection.state_changed',
  'connection.action_required',
  'connection.synced',
  'connection.renewal_due',
  'connection.failed',
  'connection.disconnected',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];
