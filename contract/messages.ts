// Every signal, update and query of the connection workflow, with its payload schema.
// The API imports this file and nothing else from workflows/; the same zod schemas
// validate request bodies in the API and payloads in the workflow's update validators.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { z } from 'zod';

export const TASK_QUEUE = 'linkflow-connections';

export const workflowIdFor = (connectionId: string): string => `connection-${connectionId}`;

export const PROVIDERS = ['oxlin', 'flinks', 'powens', 'lnkfi'] as const;
export const ProviderSchema = z.enum(PROVIDERS);
export type ProviderName = z.infer<typeof ProviderSchema>;

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
export const ConnectionStateSchema = z.enum(CONNECTION_STATES);
export type ConnectionState = z.infer<typeof ConnectionStateSchema>;

export const TERMINAL_STATES: readonly ConnectionState[] = ['expired', 'cancelled', 'failed', 'disconnected'];

// Search attributes the workflow keeps current; the dev server and docker-compose register them.
export const SEARCH_ATTRIBUTES = {
  LinkflowState: 'Keyword',
  LinkflowProvider: 'Keyword',
  LinkflowTenant: 'Keyword',
  LinkflowUserRef: 'Keyword',
  LinkflowNeedsAction: 'Bool',
} as const;

const seconds = (max: number) => z.number().int().positive().max(max);

export const ChannelModeSchema = z.enum(['redirect', 'embedded']);
export type ChannelMode = z.infer<typeof ChannelModeSchema>;

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

export const PROVIDER_CAPABILITIES: Record<ProviderName, ProviderCapabilities> = {
  oxlin: { modes: ['redirect', 'embedded'], challenges: true, accountConsent: true, renewal: true, webhooks: true, sequentialChannels: false, dataWebhook: false },
  flinks: { modes: ['redirect'], challenges: false, accountConsent: true, renewal: false, webhooks: true, sequentialChannels: false, dataWebhook: true },
  powens: { modes: ['redirect', 'embedded'], challenges: true, accountConsent: true, renewal: true, webhooks: false, sequentialChannels: true, dataWebhook: false },
  lnkfi: { modes: ['redirect'], challenges: false, accountConsent: true, renewal: false, webhooks: true, sequentialChannels: false, dataWebhook: false },
};

/** A field the end user fills in: bank credentials or a challenge input. */
export const InputFieldSchema = z.object({
  id: z.string(),
  label: z.string(),
  type: z.string(),
  regexp: z.string().nullable(),
  /** false: the end user may leave it empty (absent means required). */
  required: z.boolean().optional(),
  /** The provider wants this value encrypted end to end (Linkflow does it; the client always encrypts for Linkflow). */
  encrypt: z.boolean(),
  /** The provider's help text for the field, to show with the input (Powens `description`). */
  description: z.string().optional(),
  /** A list field's choices: send `value`, show `label` (Powens `values`). */
  values: z.array(z.object({ value: z.string(), label: z.string() })).optional(),
});
export type InputField = z.infer<typeof InputFieldSchema>;

/** A provider's challenge (SCA, OTP, confirmation) as the end user should see it. */
export const ChallengeSchema = z.object({
  channelId: z.string(),
  fields: z.array(InputFieldSchema),
  /** INFO_MSG, ERROR_MSG, TIMEOUT_MSG texts with their {param} placeholders filled in. */
  messages: z.array(z.object({ id: z.string(), type: z.string(), text: z.string() })),
  timeoutSeconds: z.number().int().positive().nullable(),
});
export type Challenge = z.infer<typeof ChallengeSchema>;

/** What the API passes when it starts a connection workflow. */
export const ConnectionInputSchema = z.object({
  connectionId: z.string().min(1),
  /** The tenant the connection belongs to; every other tenant sees a 404. */
  tenantId: z.string().min(1).optional(),
  provider: ProviderSchema,
  institutionId: z.string().min(1),
  userRef: z.string().optional(),
  /** Where the end user's browser goes once the provider redirected back to Linkflow. */
  redirectUrl: z.url(),
  /** Linkflow's own callback for this provider, given to the provider as redirect_uri. */
  callbackUrl: z.url(),
  /** Which of the institution's channels to authorize first. */
  mode: ChannelModeSchema,
  syncIntervalSeconds: seconds(365 * 86400),
  redirectTimeoutSeconds: seconds(86400),
  consentTimeoutSeconds: seconds(30 * 86400),
  /** How long before a channel expires the connection asks for renewal. */
  renewalLeadSeconds: seconds(90 * 86400),
});
export type ConnectionInput = z.infer<typeof ConnectionInputSchema>;

/** An account as listed by the provider, before or after consent. Small: it lives in workflow state. */
export const ListedAccountSchema = z.object({
  id: z.string(),
  name: z.string(),
  type: z.string(),
  currency: z.string(),
  mask: z.string().optional(),
});
export type ListedAccount = z.infer<typeof ListedAccountSchema>;

export const NextActionSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('redirect'),
    url: z.url(),
    expires_at: z.iso.datetime(),
    /** Text the end user must be shown, and agree to, before the browser goes to `url` (LnkFi's consent). */
    terms: z.string().optional(),
  }),
  z.object({ type: z.literal('credentials'), channel_id: z.string(), fields: z.array(InputFieldSchema) }),
  z.object({
    type: z.literal('challenge'),
    fields: z.array(InputFieldSchema),
    messages: z.array(z.object({ id: z.string(), type: z.string(), text: z.string() })),
    expires_at: z.iso.datetime(),
  }),
  z.object({ type: z.literal('consent'), accounts: z.array(ListedAccountSchema), expires_at: z.iso.datetime() }),
  z.object({ type: z.literal('message'), message: z.string() }),
  z.object({ type: z.literal('reconnect'), message: z.string() }),
]);
export type NextAction = z.infer<typeof NextActionSchema>;

export const SyncSummarySchema = z.object({
  synced_at: z.iso.datetime(),
  accounts: z.number().int(),
  transactions_added: z.number().int(),
  transactions_modified: z.number().int(),
  /** Transactions the provider no longer returns (in the window the sync read). */
  transactions_removed: z.number().int(),
});
export type SyncSummary = z.infer<typeof SyncSummarySchema>;

/** Everything `GET /v1/connections/:id` returns: the `state` query answers with exactly this. */
export const ConnectionViewSchema = z.object({
  id: z.string(),
  tenant_id: z.string().nullable(),
  provider: ProviderSchema,
  institution_id: z.string(),
  user_ref: z.string().nullable(),
  state: ConnectionStateSchema,
  reason: z.string().nullable(),
  next_action: NextActionSchema.nullable(),
  accounts: z.array(ListedAccountSchema.extend({ consent: z.boolean().nullable() })),
  channels: z.array(z.object({ id: z.string(), mode: ChannelModeSchema, expires_at: z.iso.datetime().nullable() })),
  last_sync: SyncSummarySchema.nullable(),
  next_sync_at: z.iso.datetime().nullable(),
  renewal_due_at: z.iso.datetime().nullable(),
  redirect_url: z.url(),
  created_at: z.iso.datetime(),
});
export type ConnectionView = z.infer<typeof ConnectionViewSchema>;

// Signals

/**
 * The end user's browser came back from the provider. The API has already verified the
 * signed state; `nonce` binds the redirect to the authorization it answers (single use).
 */
export const RedirectReceivedSchema = z.object({
  nonce: z.string().min(1),
  outcome: z.enum(['success', 'denied', 'failed']),
  providerConnectionId: z.string().optional(),
  providerRef: z.record(z.string(), z.string()).optional(),
  /** An authorization code for Linkflow to create the provider connection with, sealed by the API (StateSigner.sealCode). */
  sealedAuthorizationCode: z.string().optional(),
  error: z.string().optional(),
});
export type RedirectReceived = z.infer<typeof RedirectReceivedSchema>;
export const redirectReceivedSignal = defineSignal<[RedirectReceived]>('redirectReceived');

/** Something the provider told us by webhook (verified and de-duplicated by the API). */
export const ProviderEventSchema = z.object({
  eventId: z.string(),
  /** `connected`: the provider finished an authorization the redirect did not carry the result of (LnkFi). */
  kind: z.enum(['data_available', 'failure', 'connected']),
  status: z.string().optional(),
  channelId: z.string().nullable(),
  /** When the provider says it happened (ISO 8601). */
  occurredAt: z.iso.datetime().optional(),
  /** For `connected`: the provider connection and its small handles (never secrets). */
  providerConnectionId: z.string().optional(),
  providerRef: z.record(z.string(), z.string()).optional(),
});
export type ProviderEvent = z.infer<typeof ProviderEventSchema>;
export const providerEventSignal = defineSignal<[ProviderEvent]>('providerEvent');

/** Sync now, outside the periodic schedule; `full` reads every transaction again instead of the recent ones. */
export const SyncRequestSchema = z.object({ full: z.boolean().default(false) }).strict();
export type SyncRequest = z.infer<typeof SyncRequestSchema>;
export const syncRequestedSignal = defineSignal<[SyncRequest?]>('syncRequested');

/** Disconnect at the provider and end the connection. */
export const disconnectRequestedSignal = defineSignal('disconnectRequested');

// Updates

export const GiveConsentSchema = z
  .object({
    consents: z
      .array(z.object({ account_id: z.string().min(1), consent: z.boolean() }).strict())
      .min(1)
      .refine((cs) => new Set(cs.map((c) => c.account_id)).size === cs.length, 'each account may appear once'),
  })
  .strict();
export type GiveConsent = z.infer<typeof GiveConsentSchema>;
export const giveConsentUpdate = defineUpdate<ConnectionView, [GiveConsent]>('giveConsent');

const ARMORED_PGP_MESSAGE = /^-----BEGIN PGP MESSAGE-----[\s\S]+-----END PGP MESSAGE-----\s*$/;

/** An OpenPGP message encrypted with Linkflow's credentials key: all the workflow ever holds of a secret. */
export const EncryptedValueSchema = z
  .string()
  .max(16_384)
  .regex(ARMORED_PGP_MESSAGE, 'must be an armored PGP message encrypted with GET /v1/keys/credentials');

export const SubmitCredentialsSchema = z
  .object({
    credentials: z
      .array(z.object({ id: z.string().min(1).max(64), value: EncryptedValueSchema }).strict())
      .min(1)
      .max(20)
      .refine((cs) => new Set(cs.map((c) => c.id)).size === cs.length, 'each field may appear once'),
  })
  .strict();
export type SubmitCredentials = z.infer<typeof SubmitCredentialsSchema>;
export const submitCredentialsUpdate = defineUpdate<ConnectionView, [SubmitCredentials]>('submitCredentials');

/** Challenge answers as the workflow receives them: the API has validated and encrypted each value. */
export const AnswerChallengeSchema = z
  .object({
    answers: z
      .array(z.object({ id: z.string().min(1).max(64), value: EncryptedValueSchema }).strict())
      .min(1)
      .max(20),
  })
  .strict();
export type AnswerChallenge = z.infer<typeof AnswerChallengeSchema>;
export const answerChallengeUpdate = defineUpdate<ConnectionView, [AnswerChallenge]>('answerChallenge');

/** Ask for a fresh authorization of the connection's redirect channel now, before it expires. */
export const requestRenewalUpdate = defineUpdate<ConnectionView, []>('requestRenewal');

/**
 * The provider URL the connection's redirect action leads to, fresh now (a Powens webview code is
 * minted again): what `GET /connect/links/:link` sends the browser to. Rejected (WrongState) when
 * the connection offers no redirect (its `next_action` is not of type `redirect`).
 */
export const openAuthorizationUpdate = defineUpdate<{ url: string }, []>('openAuthorization');

export const AddChannelSchema = z.object({ mode: ChannelModeSchema }).strict();
export type AddChannel = z.infer<typeof AddChannelSchema>;
/** Add another channel of the institution (e.g. EMBEDDED for savings and loans) to the connection. */
export const addChannelUpdate = defineUpdate<ConnectionView, [AddChannel]>('addChannel');

/**
 * The connection once it offers its first next action: answered as soon as it has left
 * `authorizing` (a redirect or credentials to ask for, or an end such as `failed`), at once when it
 * already has. Never rejected. Sent with the start (update-with-start) by `POST /v1/connections`, so
 * the start and its first answer are one call; the caller bounds how long it waits.
 */
export const firstActionUpdate = defineUpdate<ConnectionView, []>('firstAction');

// Queries

export const stateQuery = defineQuery<ConnectionView>('state');

/** The `type` of an ApplicationFailure thrown by an update validator; the API maps it to a status. */
/**
 * The failure type (and so the `reason` of a `failed` connection) of an institution that has no
 * channel of the mode asked for: POST /v1/connections answers it as 422 `unsupported_mode`.
 */
export const UNSUPPORTED_MODE = 'UNSUPPORTED_MODE';

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

export const WEBHOOK_EVENT_TYPES = [
  'connection.state_changed',
  'connection.action_required',
  'connection.synced',
  'connection.renewal_due',
  'connection.failed',
  'connection.disconnected',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

const webhookEnvelope = {
  id: z.string().regex(/^evt_[A-Za-z0-9_-]{1,200}$/, 'must be evt_<connection id>_<sequence>'),
  /** Whose endpoints receive it; null (a connection without tenant) means nobody. Not sent to the client. */
  tenant_id: z.string().min(1).nullable(),
  connection_id: z.string().min(1),
  /** When it happened, in workflow time. */
  created_at: z.iso.datetime(),
};

/** What the connection workflow passes to `emitWebhookEvent`; the client receives it without `tenant_id`. */
export const WebhookEventSchema = z.discriminatedUnion('type', [
  z.object({
    ...webhookEnvelope,
    type: z.literal('connection.state_changed'),
    data: z.object({ state: ConnectionStateSchema, previous_state: ConnectionStateSchema.nullable(), reason: z.string().nullable() }),
  }),
  z.object({
    ...webhookEnvelope,
    type: z.literal('connection.action_required'),
    data: z.object({ state: ConnectionStateSchema, next_action: NextActionSchema }),
  }),
  z.object({ ...webhookEnvelope, type: z.literal('connection.synced'), data: SyncSummarySchema }),
  z.object({
    ...webhookEnvelope,
    type: z.literal('connection.renewal_due'),
    data: z.object({ channel_id: z.string(), expires_at: z.iso.datetime(), next_action: NextActionSchema.nullable() }),
  }),
  z.object({
    ...webhookEnvelope,
    type: z.literal('connection.failed'),
    data: z.object({ state: z.enum(['failed', 'expired', 'cancelled']), reason: z.string().nullable(), next_action: NextActionSchema.nullable() }),
  }),
  z.object({ ...webhookEnvelope, type: z.literal('connection.disconnected'), data: z.object({ reason: z.string().nullable() }) }),
]);
export type WebhookEvent = z.infer<typeof WebhookEventSchema>;

type WithoutTenant<E> = E extends unknown ? Omit<E, 'tenant_id'> : never;
/** The JSON body a client's endpoint receives. */
export type WebhookEventBody = WithoutTenant<WebhookEvent>;

/** One event for the delivery workflow, with the tenant's endpoints when it was emitted. */
export const WebhookDeliverySchema = z.object({
  event: WebhookEventSchema,
  endpoint_ids: z.array(z.string().min(1)).min(1),
});
export type WebhookDelivery = z.infer<typeof WebhookDeliverySchema>;
export const webhookEventSignal = defineSignal<[WebhookDelivery]>('webhookEvent');

/** The input of `webhookDeliveryWorkflow` (workflows/webhooks.ts), one run per connection. */
export interface WebhookDeliveryInput {
  connectionId: string;
  /** Carried over continue-as-new: events not yet delivered, in order. */
  queue?: WebhookDelivery[];
  /** Carried over continue-as-new: ids of the latest delivered events. */
  deliveredIds?: string[];
}

/** The delivery workflow's signature, for starting it by name without importing workflow code. */
export type WebhookDeliveryWorkflow = (input: WebhookDeliveryInput) => Promise<void>;
