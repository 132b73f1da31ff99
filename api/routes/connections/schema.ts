import { z } from 'zod';
import { HOSTNAME, IPV4, decimal, httpUrlPattern, isoDateTime } from '../../openapi/describe';
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

/** The documented pattern of a redirect URL, checked as such: what the document allows is what the route takes. */
const REDIRECT_URL_PATTERN = httpUrlPattern(`(?:${IPV4}|${HOSTNAME})`);
const httpUrl = z
  .url({ protocol: /^https?$/, hostname: z.regexes.hostname })
  .max(2048)
  .regex(new RegExp(REDIRECT_URL_PATTERN), 'an http(s) URL with a DNS name or an IPv4 address, without user name or password');

/** How the connection view and POST …/channels describe a channel's mode. */
const ChannelModeDoc = ChannelModeSchema.meta({ description: '`redirect`: the bank\'s own page; `embedded`: credentials entered in your app.' });
/** How the connection view (and the list's summary) describe a state. */
const STATE_DOC = 'Where the connection is in its lifecycle (see the README, "States").';
const CURSOR_DOC =
  '`next_cursor` of the previous page, as it was returned: an opaque string sealed with a key only this Linkflow has (HMAC) and bound ' +
  'to the connection (or filters) it was issued for, so any other string, however well-formed, is a 400 `invalid_cursor`.';

export const CreateConnectionSchema = z
  .object({
    provider: ProviderSchema.meta({ description: 'The provider that connects to the bank.' }),
    institution_id: z.string().min(1).max(64).meta({ description: 'The provider\'s id for the bank (Oxlin: the provider id, e.g. "87").' }),
    redirect_url: httpUrl.meta({
      description: "Where the end user's browser is sent once the bank is done with it (http or https).",
      pattern: REDIRECT_URL_PATTERN,
    }),
    user_ref: UserRefSchema.optional().meta({ description: 'Your own reference for the end user; searchable. Letters, digits and `. _ @ : + -`.' }),
    mode: ChannelModeSchema.default('redirect').meta({
      description: "The channel to authorize first: the bank's own page (`redirect`) or a credentials form (`embedded`).",
    }),
    renewal_lead_seconds: z.number().int().min(3600).max(7_776_000).optional().meta({ description: 'How long before a channel expires to ask for renewal (default 604800).' }),
    sync_interval_seconds: z.number().int().min(300).max(31_536_000).optional().meta({ description: 'How often to sync (default 86400).' }),
    redirect_timeout_seconds: z
      .number()
      .int()
      .min(60)
      .max(86_400)
      .optional()
      .meta({ description: 'How long the end user has at the bank before the connection expires (default 1800).' }),
    consent_timeout_seconds: z
      .number()
      .int()
      .min(60)
      .max(2_592_000)
      .optional()
      .meta({ description: 'How long to wait for consent before the connection expires (default 86400).' }),
  })
  .strict()
  .meta({ id: 'CreateConnection' });
export type CreateConnection = z.infer<typeof CreateConnectionSchema>;

/** PUT …/consents: the contract's GiveConsentSchema, described (parses the same). */
export const ConsentSchema = GiveConsentSchema.extend({
  consents: GiveConsentSchema.shape.consents.meta({ description: 'Consent (or not) for each account the connection listed.' }),
}).meta({ id: 'GiveConsent' });

/** Credential values, each encrypted with GET /v1/keys/credentials: the contract's SubmitCredentialsSchema, described. */
export const CredentialsSchema = SubmitCredentialsSchema.extend({
  credentials: SubmitCredentialsSchema.shape.credentials.meta({
    description: 'One entry per credentials field; each value an OpenPGP message encrypted with GET /v1/keys/credentials.',
  }),
}).meta({ id: 'SubmitCredentials' });

/** Challenge answers in plaintext over TLS: the API checks them, then encrypts them for the workflow. */
export const ChallengeAnswersSchema = z
  .object({
    answers: z
      .array(z.object({ id: z.string().min(1).max(64), value: z.string().max(256) }).strict())
      .min(1)
      .max(20)
      .refine((as) => new Set(as.map((a) => a.id)).size === as.length, 'each field may appear once')
      .meta({ description: 'One answer per challenge field, in plaintext (TLS): the API checks and encrypts them.' }),
  })
  .strict()
  .meta({ id: 'ChallengeAnswers' });

/** POST …/channels: the contract's AddChannelSchema, described (parses the same). */
export const ChannelSchema = AddChannelSchema.extend({ mode: ChannelModeDoc }).meta({ id: 'AddChannel' });

/** POST /v1/connections/:id/sync: an optional body. */
export const SyncBodySchema = SyncRequestSchema.meta({ id: 'SyncRequest' });

/** GET /v1/connections/:id/transactions/sync: changes after a delta cursor (none: from the start). */
export const TransactionChangesQuerySchema = z
  .object({
    cursor: z.string().min(1).max(256).optional().meta({ description: CURSOR_DOC.replace('previous page', 'last read') }),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  })
  .strict();

export const BalancesQuerySchema = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) }).strict();

export const TransactionsQuerySchema = z
  .object({
    account_id: z.string().min(1).max(128).optional().meta({ description: "Only this account's transactions." }),
    limit: z.coerce.number().int().min(1).max(500).default(100).meta({ description: 'Page size.' }),
    cursor: z.string().min(1).max(1024).optional().meta({ description: CURSOR_DOC }),
  })
  .strict();

export const ListConnectionsQuerySchema = z
  .object({
    state: ConnectionStateSchema.optional().meta({ description: 'Only connections in this state.' }),
    provider: ProviderSchema.optional().meta({ description: 'Only connections with this provider.' }),
    user_ref: UserRefSchema.optional().meta({ description: 'Only connections with this `user_ref`.' }),
    needs_action: z
      .enum(['true', 'false'])
      .optional()
      .meta({ description: 'Only connections whose end user has (`true`) or has not (`false`) something to do.' }),
    limit: z.coerce.number().int().min(1).max(100).default(25).meta({ description: 'Page size.' }),
    cursor: z
      .string()
      .min(1)
      .max(4096)
      .regex(/^[A-Za-z0-9_.-]+$/, 'not a cursor this API returned')
      .optional()
      .meta({ description: CURSOR_DOC }),
  })
  .strict();

/** Idempotency-Key header of POST /v1/connections. */
export const IdempotencyKeySchema = z.string().regex(/^[\x21-\x7e]{1,255}$/, 'printable ASCII, at most 255 characters');

// ---------------------------------------------------------------------------------------------
// Responses (the routes build these bodies inline).

export const AccountSchema = z.object({
  id: z.string().meta({ description: "The provider's account id (as in the connection's `accounts`)." }),
  name: z.string(),
  type: z.string(),
  currency: z.string().meta({ description: 'ISO 4217 code.' }),
  balance: decimal('Decimal string in the account currency.').nullable(),
  iban: z.string().nullable(),
  account_number: z.string().nullable(),
  updated_at: isoDateTime().meta({ description: 'When a sync last changed this account.' }),
});

export const AccountListSchema = z.object({ data: z.array(AccountSchema) }).meta({ id: 'AccountList' });

export const TransactionSchema = z.object({
  id: z.string().meta({
    description:
      "The provider's transaction id: unique within its account only (both legs of an internal transfer may share one), so `account_id` and `id` together name a transaction.",
  }),
  account_id: z.string(),
  booked_at: isoDateTime().meta({ description: 'The booking date (for a pending transaction, the date the provider gives it, possibly ahead).' }),
  amount: decimal('Decimal string, negative for debits.'),
  currency: z.string(),
  label: z.string(),
  category: z.string().nullable(),
  pending: z.boolean().meta({
    description:
      'Not booked yet: the bank may still change it, drop it, or book it under a new id (then it is `removed` and the booked one `added`).',
  }),
  pending_transaction_id: z.string().nullable().meta({
    description:
      'On a booked transaction, the `id` (same account) of the pending transaction it replaces; null otherwise. None of the current providers sends this link, so Linkflow makes it as Plaid does: a pending transaction the provider drops is linked to a booked one added in the same sync on the same account with the same amount and currency, booked from 3 days before to 14 days after it.',
  }),
  updated_at: isoDateTime().meta({ description: 'When a sync last changed this transaction.' }),
});

export const TransactionChangesSchema = z.object({
  added: z.array(TransactionSchema).meta({ description: 'New to a reader at `cursor` (or since the start), oldest change first.' }),
  modified: z.array(TransactionSchema).meta({ description: 'Changed by the provider since `cursor`: the latest values.' }),
  removed: z.array(z.object({ id: z.string(), account_id: z.string() })).meta({
    description:
      'Dropped by the provider since `cursor` (a pending transaction booked under a new id included): `account_id` and `id` name it.',
  }),
  next_cursor: z.string().meta({ description: 'Pass as `cursor` next time; it stays valid across syncs (keep it).' }),
  has_more: z.boolean().meta({ description: 'More changes are already there: read again at once with `next_cursor`.' }),
}).meta({ id: 'TransactionChanges' });

export const BalanceHistorySchema = z.object({
  data: z.array(z.object({ as_of: isoDateTime(), balance: decimal('Decimal string in the account currency.'), currency: z.string() })).meta({
    description:
      'Newest first: a point when the balance was first read and at each sync that found it changed.',
  }),
}).meta({ id: 'BalanceHistory' });

export const TransactionPageSchema = z.object({
  data: z.array(TransactionSchema).meta({ description: 'Newest first.' }),
  next_cursor: z.string().nullable().meta({ description: 'Pass as `cursor` for the next page; null on the last page.' }),
}).meta({ id: 'TransactionPage' });

/** An item of GET /v1/connections: what the search attributes hold, not the whole connection. */
export const ConnectionSummarySchema = z.object({
  id: z.string(),
  provider: ProviderSchema.meta({ description: 'The provider that connects to the bank.' }).nullable(),
  state: ConnectionStateSchema.meta({ description: STATE_DOC }).nullable(),
  needs_action: z.boolean().meta({ description: 'The end user has something to do (a next action is pending).' }),
  user_ref: z.string().nullable(),
});

export const ConnectionListSchema = z.object({
  data: z.array(ConnectionSummarySchema),
  next_cursor: z.string().nullable().meta({ description: 'Pass as `cursor` for the next page; null on the last page.' }),
}).meta({ id: 'ConnectionList' });

// ---------------------------------------------------------------------------------------------
// The connection view, described: the contract's ConnectionViewSchema carries no API descriptions.

const view = ConnectionViewSchema.shape;

/** GET /v1/connections/{id} and every route that answers with the connection: ConnectionViewSchema, described. */
export const ConnectionSchema = ConnectionViewSchema.extend({
  provider: view.provider.meta({ description: 'The provider that connects to the bank.' }),
  state: view.state.meta({ description: STATE_DOC }),
  reason: view.reason.meta({
    description:
      'Why the connection is in this state, e.g. `AUTH_FAILED` (the bank refused the credentials), `CONSENT_TIMEOUT`, `CHALLENGE_TIMED_OUT`, ' +
      '`UNSUPPORTED_MODE` (the institution has no channel of the mode asked) or `NO_MORE_SOURCES` (POST …/channels: every Powens source is already on the connection); null when nothing went wrong.',
  }),
  next_action: view.next_action.meta({
    description:
      'What the end user (or your app) should do next; null when nothing is expected. For `redirect` (first authorization, repair, renewal), ' +
      "`url` is a Linkflow link, `<PUBLIC_URL>/connect/links/<link>` (GET /connect/links/{link}): opened, it mints the provider's short-lived " +
      'URL at that moment and sends the browser there, so it does not go stale while the action waits (until `expires_at`, and at least a day after it was handed out). ' +
      'Webhook events carry the same links.',
  }),
  accounts: view.accounts.meta({ description: 'The accounts the provider listed, with the consent given for each (null: not asked yet).' }),
  channels: z
    .array(view.channels.element.extend({ mode: ChannelModeDoc }))
    .meta({ description: "The institution's channels authorized for this connection, with when each expires." }),
  last_sync: view.last_sync.meta({ description: 'The outcome of the last successful sync.' }),
  renewal_due_at: view.renewal_due_at.meta({ description: 'When the connection will ask for renewal of a redirect channel.' }),
}).meta({ id: 'Connection' });
