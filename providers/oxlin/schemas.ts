// Oxlin API v2.1 payloads (reference/001_e8a31cf31f07b5fb.txt). Responses are parsed, not trusted:
// a provider that changes shape fails loudly here instead of deep inside a workflow.
import { z } from 'zod';

export const TokenResponseSchema = z.object({
  access_token: z.string().min(1),
  token_type: z.string(),
  expires_in: z.number().int().positive(),
});

export const CredentialDefinitionSchema = z.object({
  id: z.string(),
  label: z.string(),
  regexp: z.string(),
  type: z.string(),
  encrypt: z.boolean(),
});

export const ChannelDefinitionSchema = z.object({
  id: z.string(),
  mode: z.enum(['REDIRECT', 'EMBEDDED']),
  account_types: z.array(z.string()),
  credentials: z.array(CredentialDefinitionSchema).optional(),
});

export const ProviderSchema = z.object({
  id: z.string(),
  name: z.string(),
  channel_definitions: z.array(ChannelDefinitionSchema),
});

/**
 * A provider as `GET /v2.1/providers` lists it (reference 001: the provider resource, with
 * `country_code` and `unavailable`); both optional, as the reference's examples show them once.
 */
export const ProviderListItemSchema = ProviderSchema.extend({
  country_code: z.string().optional(),
  unavailable: z.boolean().optional(),
});

export const CHANNEL_STATUSES = [
  'NEVER',
  'EMPTY',
  'RUNNING',
  'SUCCESS',
  'FAILED',
  'CHALLENGE_REQUIRED',
  'CHALLENGE_TIMED_OUT',
  'CHALLENGE_FAILED',
  'CHALLENGE_CANCELLED',
  'AUTH_FAILED',
  'TOO_MANY_ATTEMPTS',
  'PASSWORD_CHANGE_REQUIRED',
  'USER_ACTION_REQUIRED',
] as const;

export const ChannelSchema = z.object({
  channel_definition_id: z.string(),
  credentials: z.array(z.object({ id: z.string(), masked_value: z.string().optional() })).optional(),
  mode: z.enum(['REDIRECT', 'EMBEDDED']),
  status: z.enum(CHANNEL_STATUSES),
  expires: z.number().int().optional(),
  last_success_date: z.number().int().optional(),
  last_end_date: z.number().int().optional(),
  account_types: z.array(z.string()),
});
export type OxlinChannel = z.infer<typeof ChannelSchema>;

export const ConnectionSchema = z.object({
  id: z.string(),
  provider_id: z.string(),
  status: z.string(),
  channels: z.array(ChannelSchema),
});
export type OxlinConnection = z.infer<typeof ConnectionSchema>;

export const ChallengeItemSchema = z.object({
  id: z.string(),
  label: z.string(),
  regexp: z.string().nullable().optional(),
  type: z.enum(['INFO_MSG', 'OK_CANCEL', 'NUMERIC', 'TEXT', 'PWD', 'NUMERIC_PWD', 'DATE', 'TIMEOUT_MSG', 'ERROR_MSG']),
  encrypt: z.boolean().optional(),
  params: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
});
export type OxlinChallengeItem = z.infer<typeof ChallengeItemSchema>;

const UserInputRequestSchema = z.object({ challenge: z.array(ChallengeItemSchema).min(1) });

export const EventSchema = z.object({
  id: z.string(),
  event_type: z.string(),
  resource_type: z.string(),
  channel_definition_id: z.string().optional(),
  /** Unix seconds; bounded to what a Date holds (±8.64e12 s), else reading it as a date throws instead of refusing the event. */
  creation_date: z.number().int().min(-8_640_000_000_000).max(8_640_000_000_000).optional(),
  resource: ConnectionSchema,
  list_accounts_user_input_requested: UserInputRequestSchema.optional(),
  sync_all_user_input_requested: UserInputRequestSchema.optional(),
});

export const KeySchema = z.object({
  id: z.string(),
  public_key: z.string().includes('BEGIN PGP PUBLIC KEY BLOCK'),
  type: z.literal('PGP'),
  expiration_date: z.number().int().optional(),
});
export type OxlinEvent = z.infer<typeof EventSchema>;

export const AccountSchema = z.object({
  id: z.string(),
  connection_id: z.string(),
  name: z.string(),
  type: z.string(),
  status: z.string(),
  currency: z.string(),
  balance: z.number().nullable().optional(),
  account_number: z.string().nullable().optional(),
  iban: z.string().nullable().optional(),
});
export type OxlinAccount = z.infer<typeof AccountSchema>;

export const TransactionSchema = z.object({
  id: z.string(),
  account_id: z.string(),
  date: z.number().int(),
  amount: z.number(),
  currency: z.string(),
  label: z.string(),
  category_id: z.union([z.string(), z.number()]).nullable().optional(),
  /**
   * The booking status. Our reference shows no transaction fields; Oxlin's Accounts API
   * (GET /transactions) lists these seven (see sandbox/oxlin/README.md: Pending transactions).
   * Absent: booked. Nothing in a transaction names the pending one a booked one replaces.
   */
  status: z.enum(['BOOKED', 'PENDING', 'OTHER', 'EXPIRED', 'REJECTED', 'CANCELLED', 'REFUNDED']).optional(),
});

export const ErrorBodySchema = z.object({ error: z.string(), error_description: z.string().optional() });

/** The query string Oxlin sends the browser back with (see sandbox/oxlin/README.md). */
/**
 * Oxlin's redirect back. When Oxlin created the connection: `status`, and on success
 * `connection_id` and `queue_id`. When Linkflow creates it (`use_client_redirect`): `code`, or
 * `status=FAILED&error=…`. Both carry our `state`. See parseOxlinRedirect for which wins when a
 * query mixes them.
 */
export const RedirectQuerySchema = z.object({
  state: z.string().min(1).max(512),
  status: z.enum(['SUCCESS', 'FAILED']).optional(),
  code: z.string().min(1).max(512).optional(),
  connection_id: z.string().min(1).max(64).optional(),
  queue_id: z.string().min(1).max(64).optional(),
  error: z.string().max(200).optional(),
});
