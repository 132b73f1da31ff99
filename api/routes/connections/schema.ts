import { z } from 'zod';
import { decimal, doc, isoDateTime } from '../../openapi/describe';
import {
  AddChannelSchema,
  ChannelModeSchema,
  ConnectionStateSchema,
  ConnectionViewSchema,
  GiveConsentSchema,
  ProviderSchema,
  SubmitCredentialsSchema,
  SyncRequestSchema,
} from '../../../contract/messages';

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

// ---------------------------------------------------------------------------------------------
// Responses (the routes build these bodies inline).

export const AccountSchema = z.object({
  id: doc(z.string(), "The provider's account id (as in the connection's `accounts`)."),
  name: z.string(),
  type: z.string(),
  currency: doc(z.string(), 'ISO 4217 code.'),
  balance: decimal('Decimal string in the account currency.').nullable(),
  iban: z.string().nullable(),
  account_number: z.string().nullable(),
  updated_at: doc(isoDateTime(), 'When a sync last changed this account.'),
});

export const AccountListSchema = z.object({ data: z.array(AccountSchema) });

export const TransactionSchema = z.object({
  id: doc(
    z.string(),
    "The provider's transaction id: unique within its account only (both legs of an internal transfer may share one), so `account_id` and `id` together name a transaction.",
  ),
  account_id: z.string(),
  booked_at: doc(isoDateTime(), 'The booking date (for a pending transaction, the date the provider gives it, possibly ahead).'),
  amount: decimal('Decimal string, negative for debits.'),
  currency: z.string(),
  label: z.string(),
  category: z.string().nullable(),
  pending: doc(
    z.boolean(),
    'Not booked yet: the bank may still change it, drop it, or book it under a new id (then it is `removed` and the booked one `added`).',
  ),
  pending_transaction_id: doc(
    z.string().nullable(),
    'On a booked transaction, the `id` (same account) of the pending transaction it replaces; null otherwise. None of the current providers sends this link, so Linkflow makes it as Plaid does: a pending transaction the provider drops is linked to a booked one added in the same sync on the same account with the same amount and currency, booked from 3 days before to 14 days after it.',
  ),
  updated_at: doc(isoDateTime(), 'When a sync last changed this transaction.'),
});

export const TransactionChangesSchema = z.object({
  added: doc(z.array(TransactionSchema), 'New to a reader at `cursor` (or since the start), oldest change first.'),
  modified: doc(z.array(TransactionSchema), 'Changed by the provider since `cursor`: the latest values.'),
  removed: doc(
    z.array(z.object({ id: z.string(), account_id: z.string() })),
    'Dropped by the provider since `cursor` (a pending transaction booked under a new id included): `account_id` and `id` name it.',
  ),
  next_cursor: doc(z.string(), 'Pass as `cursor` next time; it stays valid across syncs (keep it).'),
  has_more: doc(z.boolean(), 'More changes are already there: read again at once with `next_cursor`.'),
});

export const BalanceHistorySchema = z.object({
  data: doc(
    z.array(z.object({ as_of: isoDateTime(), balance: decimal('Decimal string in the account currency.'), currency: z.string() })),
    'Newest first: a point when the balance was first read and at each sync that found it changed.',
  ),
});

export const TransactionPageSchema = z.object({
  data: doc(z.array(TransactionSchema), 'Newest first.'),
  next_cursor: doc(z.string().nullable(), 'Pass as `cursor` for the next page; null on the last page.'),
});

/** An item of GET /v1/connections: what the search attributes hold, not the whole connection. */
export const ConnectionSummarySchema = z.object({
  id: z.string(),
  provider: ProviderSchema.nullable(),
  state: ConnectionStateSchema.nullable(),
  needs_action: doc(z.boolean(), 'The end user has something to do (a next action is pending).'),
  user_ref: z.string().nullable(),
});

export const ConnectionListSchema = z.object({
  data: z.array(ConnectionSummarySchema),
  next_cursor: doc(z.string().nullable(), 'Pass as `cursor` for the next page; null on the last page.'),
});

// ---------------------------------------------------------------------------------------------
// Descriptions of the request fields (and of the connection view) for the OpenAPI document.

const create = CreateConnectionSchema.shape;
doc(create.provider, 'The provider that connects to the bank.');
doc(create.institution_id, 'The provider\'s id for the bank (Oxlin: the provider id, e.g. "87").');
doc(create.redirect_url, "Where the end user's browser is sent once the bank is done with it (http or https).");
doc(create.user_ref, "Your own reference for the end user; searchable. Letters, digits and `. _ @ : + -`.");
doc(create.mode, 'The channel to authorize first: the bank\'s own page (`redirect`) or a credentials form (`embedded`).');
doc(create.sync_interval_seconds, 'How often to sync (default 86400).');
doc(create.redirect_timeout_seconds, 'How long the end user has at the bank before the connection expires (default 1800).');
doc(create.consent_timeout_seconds, 'How long to wait for consent before the connection expires (default 86400).');
doc(create.renewal_lead_seconds, 'How long before a channel expires to ask for renewal (default 604800).');
const CURSOR_DOC =
  '`next_cursor` of the previous page, as it was returned: an opaque string sealed with a key only this Linkflow has (HMAC) and bound ' +
  'to the connection (or filters) it was issued for, so any other string, however well-formed, is a 400 `invalid_cursor`.';
doc(TransactionChangesQuerySchema.shape.cursor, CURSOR_DOC.replace('previous page', 'last read'));
const tx = TransactionsQuerySchema.shape;
doc(tx.account_id, 'Only this account\'s transactions.');
doc(tx.limit, 'Page size.');
doc(tx.cursor, CURSOR_DOC);
const list = ListConnectionsQuerySchema.shape;
doc(list.state, 'Only connections in this state.');
doc(list.provider, 'Only connections with this provider.');
doc(list.user_ref, 'Only connections with this `user_ref`.');
doc(list.needs_action, 'Only connections whose end user has (`true`) or has not (`false`) something to do.');
doc(list.limit, 'Page size.');
doc(list.cursor, CURSOR_DOC);
const view = ConnectionViewSchema.shape;
doc(view.state, 'Where the connection is in its lifecycle (see the README, "States").');
doc(
  view.reason,
  'Why the connection is in this state, e.g. `AUTH_FAILED` (the bank refused the credentials), `CONSENT_TIMEOUT`, `CHALLENGE_TIMED_OUT`, ' +
    '`UNSUPPORTED_MODE` (the institution has no channel of the mode asked) or `NO_MORE_SOURCES` (POST …/channels: every Powens source is already on the connection); null when nothing went wrong.',
);
doc(view.next_action, 'What the end user (or your app) should do next; null when nothing is expected.');
doc(view.accounts, 'The accounts the provider listed, with the consent given for each (null: not asked yet).');
doc(view.channels, "The institution's channels authorized for this connection, with when each expires.");
doc(view.last_sync, 'The outcome of the last successful sync.');
doc(view.renewal_due_at, 'When the connection will ask for renewal of a redirect channel.');
doc(ChannelModeSchema, '`redirect`: the bank\'s own page; `embedded`: credentials entered in your app.');
doc(CredentialsSchema.shape.credentials, 'One entry per credentials field; each value an OpenPGP message encrypted with GET /v1/keys/credentials.');
doc(ChallengeAnswersSchema.shape.answers, 'One answer per challenge field, in plaintext (TLS): the API checks and encrypts them.');
doc(ConsentSchema.shape.consents, 'Consent (or not) for each account the connection listed.');
