// The zod schemas of every payload the connection and webhook workflows exchange (types inferred
// from them). The API and activities validate with these; workflow code must not import this file
// for values (zod and every schema would be rebuilt in each cached workflow execution): it uses
// contract/definitions.ts and the hand-written checks in contract/checks.ts, kept equal to these
// schemas by test/unit/contract-checks.test.ts.
import { z } from 'zod';
import {
  ARMORED_PGP_MESSAGE,
  CHANNEL_MODES,
  CONNECTION_STATES,
  ENCRYPTED_VALUE_MAX,
  ENCRYPTED_VALUE_MESSAGE,
  PROVIDERS,
  WEBHOOK_EVENT_ID,
} from './constants';

export const ProviderSchema = z.enum(PROVIDERS);
export const ConnectionStateSchema = z.enum(CONNECTION_STATES);

const seconds = (max: number) => z.number().int().positive().max(max);

export const ChannelModeSchema = z.enum(CHANNEL_MODES);

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

/** Sync now, outside the periodic schedule; `full` reads every transaction again instead of the recent ones. */
export const SyncRequestSchema = z.object({ full: z.boolean().default(false) }).strict();
export type SyncRequest = z.infer<typeof SyncRequestSchema>;

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

/** An OpenPGP message encrypted with Linkflow's credentials key: all the workflow ever holds of a secret. */
export const EncryptedValueSchema = z
  .string()
  .max(ENCRYPTED_VALUE_MAX)
  .regex(ARMORED_PGP_MESSAGE, ENCRYPTED_VALUE_MESSAGE);

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

/** Another channel of the institution to add, by mode. */
export const AddChannelSchema = z.object({ mode: ChannelModeSchema }).strict();
export type AddChannel = z.infer<typeof AddChannelSchema>;

// Webhooks to the client

const webhookEnvelope = {
  id: z.string().regex(WEBHOOK_EVENT_ID, 'must be evt_<connection id>_<sequence>'),
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

