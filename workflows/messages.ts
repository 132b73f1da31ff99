// Every signal, update and query of the connection workflow, with its payload schema.
// The API imports this file and nothing else from workflows/; the same zod schemas
// validate request bodies in the API and payloads in the workflow's update validators.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { z } from 'zod';

export const TASK_QUEUE = 'linkflow-connections';

export const workflowIdFor = (connectionId: string): string => `connection-${connectionId}`;

export const PROVIDERS = ['oxlin'] as const;
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

/** What the API passes when it starts a connection workflow. */
export const ConnectionInputSchema = z.object({
  connectionId: z.string().min(1),
  provider: ProviderSchema,
  institutionId: z.string().min(1),
  userRef: z.string().optional(),
  /** Where the end user's browser goes once the provider redirected back to Linkflow. */
  redirectUrl: z.url(),
  /** Linkflow's own callback for this provider, given to the provider as redirect_uri. */
  callbackUrl: z.url(),
  syncIntervalSeconds: seconds(365 * 86400),
  redirectTimeoutSeconds: seconds(86400),
  consentTimeoutSeconds: seconds(30 * 86400),
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
  z.object({ type: z.literal('redirect'), url: z.url(), expires_at: z.iso.datetime() }),
  z.object({ type: z.literal('consent'), accounts: z.array(ListedAccountSchema), expires_at: z.iso.datetime() }),
  z.object({ type: z.literal('reconnect'), message: z.string() }),
]);
export type NextAction = z.infer<typeof NextActionSchema>;

export const SyncSummarySchema = z.object({
  synced_at: z.iso.datetime(),
  accounts: z.number().int(),
  transactions_added: z.number().int(),
  transactions_modified: z.number().int(),
});
export type SyncSummary = z.infer<typeof SyncSummarySchema>;

/** Everything `GET /v1/connections/:id` returns: the `state` query answers with exactly this. */
export const ConnectionViewSchema = z.object({
  id: z.string(),
  provider: ProviderSchema,
  institution_id: z.string(),
  user_ref: z.string().nullable(),
  state: ConnectionStateSchema,
  reason: z.string().nullable(),
  next_action: NextActionSchema.nullable(),
  accounts: z.array(ListedAccountSchema.extend({ consent: z.boolean().nullable() })),
  last_sync: SyncSummarySchema.nullable(),
  next_sync_at: z.iso.datetime().nullable(),
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
  error: z.string().optional(),
});
export type RedirectReceived = z.infer<typeof RedirectReceivedSchema>;
export const redirectReceivedSignal = defineSignal<[RedirectReceived]>('redirectReceived');

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

// Queries

export const stateQuery = defineQuery<ConnectionView>('state');

/** The `type` of an ApplicationFailure thrown by an update validator; the API maps it to a status. */
export const UpdateRejection = {
  /** The connection is not in a state that allows this message (409). */
  WrongState: 'WrongState',
  /** The payload names something the connection does not have (422). */
  InvalidInput: 'InvalidInput',
} as const;
