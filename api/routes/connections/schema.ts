import { z } from 'zod';
import {
  AddChannelSchema,
  ChannelModeSchema,
  ConnectionStateSchema,
  GiveConsentSchema,
  ProviderSchema,
  SubmitCredentialsSchema,
  SyncRequestSchema,
} from '../../../workflows/messages';

/** The client's own id for its end user: searchable, so kept to characters that need no escaping. */
const UserRefSchema = z.string().regex(/^[A-Za-z0-9._@:+-]{1,200}$/, 'letters, digits and . _ @ : + - only (at most 200)');

const httpUrl = z.url({ protocol: /^https?$/, hostname: z.regexes.hostname });

export const CreateConnectionSchema = z
  .object({
    provider: ProviderSchema,
    /** The provider's id for the bank (Oxlin: the provider id, e.g. "87"). */
    institution_id: z.string().min(1).max(64),
    /** Where the end user's browser is sent once the bank is done with it. */
    redirect_url: httpUrl,
    /** The client's own reference for its end user; searchable. */
    user_ref: UserRefSchema.optional(),
    /** The institution's channel to authorize first: the bank's own page (redirect) or a credentials form (embedded). */
    mode: ChannelModeSchema.default('redirect'),
    renewal_lead_seconds: z.number().int().min(3600).max(7_776_000).optional(),
    sync_interval_seconds: z.number().int().min(300).max(31_536_000).optional(),
    redirect_timeout_seconds: z.number().int().min(60).max(86_400).optional(),
    consent_timeout_seconds: z.number().int().min(60).max(2_592_000).optional(),
  })
  .strict();
export type CreateConnection = z.infer<typeof CreateConnectionSchema>;

export const ConsentSchema = GiveConsentSchema;

/** Credential values, each encrypted with GET /v1/keys/credentials. */
export const CredentialsSchema = SubmitCredentialsSchema;

/** Challenge answers in plaintext over TLS: the API checks them, then encrypts them for the workflow. */
export const ChallengeAnswersSchema = z
  .object({
    answers: z
      .array(z.object({ id: z.string().min(1).max(64), value: z.string().max(256) }).strict())
      .min(1)
      .max(20)
      .refine((as) => new Set(as.map((a) => a.id)).size === as.length, 'each field may appear once'),
  })
  .strict();

export const ChannelSchema = AddChannelSchema;

/** POST /v1/connections/:id/sync: an optional body. */
export const SyncBodySchema = SyncRequestSchema;

/** GET /v1/connections/:id/transactions/sync: changes after a delta cursor (none: from the start). */
export const TransactionChangesQuerySchema = z
  .object({
    cursor: z.string().min(1).max(256).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  })
  .strict();

export const BalancesQuerySchema = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) }).strict();

export const TransactionsQuerySchema = z
  .object({
    account_id: z.string().min(1).max(128).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
    cursor: z.string().min(1).max(1024).optional(),
  })
  .strict();

export const ListConnectionsQuerySchema = z
  .object({
    state: ConnectionStateSchema.optional(),
    provider: ProviderSchema.optional(),
    user_ref: UserRefSchema.optional(),
    needs_action: z.enum(['true', 'false']).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(25),
    cursor: z.string().min(1).max(4096).regex(/^[A-Za-z0-9_.-]+$/, 'not a cursor this API returned').optional(),
  })
  .strict();

/** Idempotency-Key header of POST /v1/connections. */
export const IdempotencyKeySchema = z.string().regex(/^[\x21-\x7e]{1,255}$/, 'printable ASCII, at most 255 characters');
