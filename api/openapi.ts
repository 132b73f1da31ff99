// The OpenAPI 3.1 document of the API, generated from the zod schemas the routes validate with.
// One entry per route in `operations`; test/unit/openapi.test.ts fails when a mounted route has
// no entry (or an entry no route), and when an example does not match its schema.
import { z } from 'zod';
import {
  AccountsDetailSchema as FlinksAccountsDetailSchema,
  FailureWebhookSchema as FlinksFailureWebhookSchema,
  RedirectQuerySchema as FlinksRedirectQuerySchema,
} from '../activities/providers/flinks/schemas';
import {
  ConnectionCompletedSchema as LnkfiConnectionCompletedSchema,
  RedirectQuerySchema as LnkfiRedirectQuerySchema,
  WebhookBaseSchema as LnkfiWebhookBaseSchema,
  WebhookHeadersSchema as LnkfiWebhookHeadersSchema,
} from '../activities/providers/lnkfi/schemas';
import { EventSchema as OxlinEventSchema, RedirectQuerySchema as OxlinRedirectQuerySchema } from '../activities/providers/oxlin/schemas';
import { RedirectQuerySchema as PowensRedirectQuerySchema } from '../activities/providers/powens/schemas';
import {
  ChannelModeSchema,
  ConnectionStateSchema,
  ConnectionViewSchema,
  type ConnectionView,
  type ProviderName,
  ProviderSchema,
} from '../workflows/messages';
import { version } from '../package.json';
import { CreateTenantSchema } from './routes/admin/schema';
import {
  ChallengeAnswersSchema,
  ChannelSchema,
  ConsentSchema,
  CreateConnectionSchema,
  CredentialsSchema,
  IdempotencyKeySchema,
  BalancesQuerySchema,
  ListConnectionsQuerySchema,
  SyncBodySchema,
  TransactionChangesQuerySchema,
  TransactionsQuerySchema,
} from './routes/connections/schema';
import { CreateWebhookEndpointSchema, WebhookEndpointIdSchema } from './routes/webhooks/schema';
import { ConnectionIdSchema } from './temporal';

// ---------------------------------------------------------------------------------------------
// Descriptions. The shared schemas carry none (and must not be changed for the docs), so field
// descriptions live here and reach the JSON Schema through a metadata registry built per document.

const FIELD_DOCS: [z.ZodType, string][] = [];
/** Documents a schema (field) for the OpenAPI document; returns it unchanged. */
function doc<T extends z.ZodType>(schema: T, description: string): T {
  FIELD_DOCS.push([schema, description]);
  return schema;
}

const isoDateTime = () => z.iso.datetime();

// ---------------------------------------------------------------------------------------------
// Response schemas that have no zod schema elsewhere (the routes build these bodies inline).

/** The one error shape, written by api/errors.ts for every status >= 400. */
export const ErrorSchema = z.object({
  error: z.object({
    code: doc(z.string(), 'Stable, machine-readable: branch on this, not on the message.'),
    message: doc(z.string(), 'For humans; may change.'),
    details: doc(z.unknown().optional(), 'Per error code: e.g. one `{path, message}` per invalid field, or `{state}` for `wrong_state`.'),
    request_id: doc(z.uuid().optional(), 'On 5xx only: the `x-request-id` to quote when reporting the error.'),
  }),
});

const decimal = (what: string) => doc(z.string().regex(/^-?\d+(\.\d+)?$/), what);

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

export const CredentialsKeySchema = z.object({
  key_id: doc(z.string(), "The key's OpenPGP fingerprint."),
  type: z.literal('PGP'),
  public_key: doc(z.string(), 'ASCII-armored OpenPGP public key: encrypt each credential value with it.'),
});

export const TenantSchema = z.object({ id: z.string(), name: z.string() });

export const IssuedKeySchema = z.object({
  id: z.string(),
  key: doc(z.string(), 'The API key itself: shown once, only its hash is stored.'),
  prefix: doc(z.string(), 'The first characters of the key, to recognise it later.'),
});

export const CreatedTenantSchema = z.object({ tenant: TenantSchema, api_key: IssuedKeySchema });

export const WebhookEndpointSchema = z.object({
  id: z.string(),
  url: doc(z.string(), 'Where Linkflow POSTs the events.'),
  created_at: isoDateTime(),
});

export const CreatedWebhookEndpointSchema = WebhookEndpointSchema.extend({
  secret: doc(z.string(), 'The signing secret (`whsec_…`): shown once, here; verify each delivery\'s signature with it.'),
});

export const WebhookEndpointListSchema = z.object({ data: z.array(WebhookEndpointSchema) });

/** What POST /webhooks/{provider} answers a verified event with. */
export const ProviderWebhookAckSchema = z.object({
  status: doc(
    z.enum(['accepted', 'duplicate', 'ignored']),
    '`accepted`: signalled to its connection (this delivery claimed the event); `duplicate`: already signalled; `ignored`: nothing to act on, or not one of ours.',
  ),
});

/** Enough of an OpenAPI document to say what GET /openapi.json returns. */
export const OpenApiDocumentSchema = z.looseObject({
  openapi: z.string().regex(/^3\.1\.\d+$/),
  info: z.looseObject({ title: z.string(), version: z.string() }),
  paths: z.record(z.string(), z.record(z.string(), z.unknown())),
});

export const TenantIdSchema = z.string().min(1).max(200);

// Descriptions of the request fields the routes define.
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
doc(CreateTenantSchema.shape.name, "The tenant's display name.");
doc(CreateWebhookEndpointSchema.shape.url, 'http(s) URL without user name or password, at most 2048 characters.');

// ---------------------------------------------------------------------------------------------
// The registry.

export type HttpMethod = 'get' | 'post' | 'put' | 'delete' | 'patch';

/** `apiKey`: a tenant's key; `admin`: LINKFLOW_ADMIN_KEY; `none`: public. */
export type Security = 'apiKey' | 'admin' | 'none';

export interface ErrorDoc {
  status: number;
  code: string;
  /** When the API answers with it. */
  when: string;
  /** The example's message. */
  message: string;
  details?: unknown;
}

export interface ParamDoc {
  schema: z.ZodType;
  description: string;
  required?: boolean;
}

export interface RequestExample {
  name: string;
  summary: string;
  params?: Record<string, string>;
  query?: Record<string, unknown>;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface ResponseExample {
  name: string;
  summary: string;
  /** The success status it answers with (default: the first response's). */
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface ResponseDoc {
  status: number;
  description: string;
  /** Default application/json when there is a schema. */
  contentType?: 'application/json' | 'text/html';
  schema?: z.ZodType;
  /** Put the schema under components.schemas with this name. */
  component?: string;
  headers?: Record<string, ParamDoc>;
}

export interface OperationDoc {
  operationId: string;
  method: HttpMethod;
  /** OpenAPI style: `/v1/connections/{id}`. */
  path: string;
  /**
   * The mounted route this operation is one instance of, when that differs from `path`: each
   * provider's webhook (`/webhooks/oxlin`, …) has its own signature header and body, so each is
   * documented as its own operation of the one route `/webhooks/{provider}`.
   */
  route?: string;
  summary: string;
  description?: string;
  tags: string[];
  security: Security;
  pathParams?: Record<string, ParamDoc>;
  /** The very object the route parses its query string with; one parameter per key. */
  query?: z.ZodObject;
  headers?: Record<string, ParamDoc>;
  /** The very schema the route parses its body with (application/json). */
  body?: { schema: z.ZodType; component: string; optional?: boolean };
  /** The success responses, the usual one first. */
  responses: [ResponseDoc, ...ResponseDoc[]];
  errors: ErrorDoc[];
  requestExamples: [RequestExample, ...RequestExample[]];
  responseExamples: [ResponseExample, ...ResponseExample[]];
}

// Errors, as api/errors.ts, api/auth.ts, api/limits.ts, api/temporal.ts and the routes give them.
const E = {
  malformed: { status: 400, code: 'malformed_request', when: 'The body is not valid JSON.', message: 'The request body is not valid JSON.' },
  invalidQuery: {
    status: 400,
    code: 'invalid_query',
    when: 'A query parameter is not valid (one detail per parameter).',
    message: 'The query string is not valid.',
    details: [{ path: 'limit', message: 'Too big: expected number to be <=500' }],
  },
  invalidCursor: {
    status: 400,
    code: 'invalid_cursor',
    when: "The cursor is not one this API returned for this connection (another connection's, altered, or from before cursors were bound to their connection), or it is past the connection's last change.",
    message: 'The cursor is not one this API returned for this connection.',
  },
  invalidListCursor: {
    status: 400,
    code: 'invalid_cursor',
    when: 'The cursor is not one this API returned for these filters.',
    message: 'The cursor is not one this API returned for these filters.',
  },
  unauthorized: {
    status: 401,
    code: 'unauthorized',
    when: 'No API key, or not a valid one (with `WWW-Authenticate: Bearer`).',
    message: 'Send your API key as "Authorization: Bearer <key>".',
  },
  adminUnauthorized: {
    status: 401,
    code: 'unauthorized',
    when: 'No admin key, or not the right one.',
    message: 'Admin routes need the admin key as "Authorization: Bearer <key>".',
  },
  connectionNotFound: {
    status: 404,
    code: 'not_found',
    when: "No such connection for this tenant (another tenant's connection is a 404 too).",
    message: 'connection not found',
  },
  adminOff: { status: 404, code: 'not_found', when: 'No LINKFLOW_ADMIN_KEY is configured: admin routes do not exist.', message: 'route not found' },
  tenantNotFound: { status: 404, code: 'not_found', when: 'No such tenant (or admin routes are off).', message: 'tenant not found' },
  tooLarge: { status: 413, code: 'body_too_large', when: 'The body is over 100 kB.', message: 'request entity too large' },
  notJson: { status: 415, code: 'unsupported_media_type', when: 'The body is not application/json.', message: 'Send request bodies as application/json.' },
  invalidBody: {
    status: 422,
    code: 'validation_failed',
    when: 'A field is missing or not valid (one detail per field).',
    message: 'The request body is not valid.',
    details: [{ path: 'redirect_url', message: 'Invalid URL' }],
  },
  rateLimited: {
    status: 429,
    code: 'rate_limited',
    when: "Over the tenant's requests a minute; wait `Retry-After` seconds.",
    message: 'Too many requests: at most 600 a minute. Retry after 1 s.',
  },
  internal: {
    status: 500,
    code: 'internal',
    when: 'Something failed on our side; quote `request_id`.',
    message: 'An unexpected error occurred; quote the request id when reporting it.',
  },
  invalidText: {
    status: 400,
    code: 'invalid_text',
    when: 'A string in the body, query string or path holds a NUL or an unpaired surrogate (`\\u0000`, `\\ud800`): text the store cannot hold.',
    message: 'Text may not contain NUL characters or unpaired surrogates (\\u0000, \\ud800-\\udfff).',
    details: { in: 'body', path: 'redirect_url' },
  },
  malformedPath: { status: 400, code: 'malformed_path', when: 'The path is not valid percent-encoded UTF-8.', message: 'The path is not valid percent-encoded UTF-8.' },
  malformedQuery: {
    status: 400,
    code: 'malformed_query',
    when: 'The query string is not valid percent-encoded UTF-8.',
    message: 'The query string is not valid percent-encoded UTF-8.',
  },
  requestTimeout: {
    status: 408,
    code: 'request_timeout',
    when: 'The headers or body stopped before they were complete (LINKFLOW_RECEIVE_TIMEOUT_MS, default 10 s).',
    message: 'The request did not arrive in time: its headers or body stopped short.',
  },
  headersTooLarge: {
    status: 431,
    code: 'headers_too_large',
    when: 'The request line and headers are over 16 KiB.',
    message: 'The request line and headers are too large (at most 16 KiB).',
  },
  methodNotAllowed: {
    status: 405,
    code: 'method_not_allowed',
    when: 'The path exists but not with this method (any method Node can parse); the `Allow` header and `details.allow` list the ones it has.',
    message: 'DELETE is not allowed here; allowed: GET, POST.',
    details: { allow: ['GET', 'POST'] },
  },
  timeout: { status: 504, code: 'timeout', when: 'The request took longer than the configured deadline; safe to retry.', message: 'The request took longer than 30 s.' },
} satisfies Record<string, ErrorDoc>;

const wrongState = (allowed: string, actual: ConnectionView['state']): ErrorDoc => ({
  status: 409,
  code: 'wrong_state',
  when:
    `The connection is not in a state that allows this (allowed: ${allowed}), or it has ended (\`expired\`, \`cancelled\`, \`failed\`, ` +
    '`disconnected`: only GET and the data routes still answer); `details.state` names its state.',
  message: `allowed only in state ${allowed}; the connection is ${actual}`,
  details: { state: actual },
});

// What any request may get, whatever the route: from api/validate.ts requestTarget and api/server.ts.
const COMMON: ErrorDoc[] = [E.invalidText, E.malformedPath, E.malformedQuery, E.methodNotAllowed, E.requestTimeout, E.headersTooLarge, E.internal, E.timeout];
const TENANT: ErrorDoc[] = [E.unauthorized, E.rateLimited];
const BODY: ErrorDoc[] = [E.malformed, E.tooLarge, E.notJson, E.invalidBody];
const BY_ID: ErrorDoc[] = [...TENANT, E.connectionNotFound];

// Examples.
const CONNECTION_ID = '3f2c6a1e-8b4d-4c2a-9f1e-2b7d5c9a0e41';
const TENANT_ID = 'ten_5b0c0a2e9d8f4e7a8c1b2d3e4f5a6b7c';
const WEBHOOK_ID = 'whe_4d2b0f8e6c4a2e0d8b6f4d2c0a8e6b4f';
const ARMORED = '-----BEGIN PGP MESSAGE-----\n\nwV4DZ3x1b2mB0VQSAQdA7n3k1yq0Q6...\n=kX2z\n-----END PGP MESSAGE-----\n';
const CONNECTION_ID_PARAM: ParamDoc = { schema: ConnectionIdSchema, description: 'The connection id (a UUID; anything else is a 404).' };
const byId = { id: CONNECTION_ID };

const base: ConnectionView = {
  id: CONNECTION_ID,
  tenant_id: TENANT_ID,
  provider: 'oxlin',
  institution_id: '87',
  user_ref: 'user-42',
  state: 'authorizing',
  reason: null,
  next_action: null,
  accounts: [],
  channels: [],
  last_sync: null,
  next_sync_at: null,
  renewal_due_at: null,
  redirect_url: 'https://client.example/linked?session=abc',
  created_at: '2025-03-04T09:15:00.000Z',
};
const listed = [
  { id: 'acc_checking', name: 'Compte courant', type: 'CHECKINGS', currency: 'EUR', mask: '0189' },
  { id: 'acc_savings', name: 'Livret A', type: 'SAVINGS', currency: 'EUR' },
];
const channel = { id: '8701', mode: 'redirect', expires_at: '2025-06-02T09:16:00.000Z' } as const;
const awaitingRedirect: ConnectionView = {
  ...base,
  state: 'awaiting_redirect',
  next_action: {
    type: 'redirect',
    url: 'https://sandbox.oxlin.example/connect?client_id=linkflow&state=eyJjIjoiM2YyYyJ9.sig',
    expires_at: '2025-03-04T09:45:00.000Z',
  },
};
const awaitingCredentials: ConnectionView = {
  ...base,
  state: 'awaiting_credentials',
  next_action: {
    type: 'credentials',
    channel_id: '8702',
    fields: [
      { id: '300', label: 'Identifiant', type: 'TEXT', regexp: '.+', encrypt: false },
      { id: '301', label: 'Mot de passe', type: 'PWD', regexp: '.+', encrypt: true },
    ],
  },
};
const challenge: ConnectionView = {
  ...base,
  state: 'challenge_required',
  next_action: {
    type: 'challenge',
    fields: [{ id: '1001', label: 'Code received by SMS', type: 'TEXT', regexp: '^\\d{6}$', encrypt: false }],
    messages: [{ id: '1002', type: 'INFO_MSG', text: 'Enter the code sent to +33 6 •• •• 12 34.' }],
    expires_at: '2025-03-04T09:20:00.000Z',
  },
};
const awaitingConsent: ConnectionView = {
  ...base,
  state: 'awaiting_consent',
  next_action: { type: 'consent', accounts: listed, expires_at: '2025-03-05T09:16:00.000Z' },
  accounts: listed.map((a) => ({ ...a, consent: null })),
  channels: [channel],
};
const syncing: ConnectionView = {
  ...base,
  state: 'syncing',
  accounts: listed.map((a) => ({ ...a, consent: a.id === 'acc_checking' })),
  channels: [channel],
};
const active: ConnectionView = {
  ...syncing,
  state: 'active',
  last_sync: { synced_at: '2025-03-04T09:17:12.000Z', accounts: 1, transactions_added: 91, transactions_modified: 0, transactions_removed: 0 },
  next_sync_at: '2025-03-05T09:17:12.000Z',
  renewal_due_at: '2025-05-26T09:16:00.000Z',
};
const renewal: ConnectionView = {
  ...active,
  state: 'renewal_required',
  next_action: {
    type: 'redirect',
    url: 'https://sandbox.oxlin.example/connect?client_id=linkflow&connection_id=8812&state=eyJjIjoiM2YyYyJ9.sig',
    expires_at: '2025-05-26T09:46:00.000Z',
  },
};
const disconnected: ConnectionView = { ...active, state: 'disconnected', next_sync_at: null, renewal_due_at: null };

const connectionResponse = (status: number, description: string, headers?: Record<string, ParamDoc>): ResponseDoc => ({
  status,
  description,
  schema: ConnectionViewSchema,
  component: 'Connection',
  ...(headers ? { headers } : {}),
});

const curlNote = 'Examples use `$LINKFLOW` for the API base URL and `$LINKFLOW_API_KEY` for your key.';

// ---------------------------------------------------------------------------------------------
// What the providers send: one operation per provider, since each has its own query string,
// signature header and body (the route is one: /callbacks/{provider}, /webhooks/{provider}).

const CALLBACK_ERRORS: ErrorDoc[] = [
  { status: 400, code: 'invalid_callback', when: "The query string is not the provider's.", message: 'The redirect is malformed.', details: [{ path: 'state', message: 'Too small: expected string to have >=1 characters' }] },
  {
    status: 400,
    code: 'invalid_state',
    when: 'The `state` is not one Linkflow signed (an HMAC only Linkflow can make: no schema can tell a forged one from a real one).',
    message: 'The redirect state is not one Linkflow issued.',
  },
  {
    status: 403,
    code: 'provider_connection_refused',
    when: 'The redirect names a provider connection that another Linkflow connection holds, or another one than this connection holds (a renewal or repair); nothing changes.',
    message: 'The redirect names a provider connection that belongs to another connection.',
  },
  { status: 404, code: 'not_found', when: 'No such connection.', message: 'connection not found' },
  {
    status: 409,
    code: 'redirect_not_expected',
    when: 'The connection does not wait for a redirect: this one was used already or came too late.',
    message: 'The connection is active; this redirect was already used or came too late.',
    details: { state: 'active' },
  },
];

const SIGNED_STATE = 'k7Qx2mB9vT4nW1pL8cR3yF6hJ0sD5gA2eZ9uI7oP4qM.Yp2rT8wK1nL5vB3xC7mQ9sD4fG6hJ0aZ2eR8uI1oP3';

/** GET /callbacks/{provider}, one per provider: each sends the browser back with its own query string. */
function callbackOperations(): OperationDoc[] {
  const perProvider: { provider: ProviderName; name: string; query: z.ZodObject; examples: [RequestExample, ...RequestExample[]] }[] = [
    {
      provider: 'oxlin',
      name: 'Oxlin',
      query: OxlinRedirectQuerySchema,
      examples: [
        { name: 'code', summary: 'The bank approved; Linkflow creates the connection from the code', query: { state: SIGNED_STATE, code: 'Q2hhbmdlLW1lLXRvLWEtcmVhbC1jb2Rl' } },
        { name: 'success', summary: 'The bank approved a renewal (Oxlin names the connection held)', query: { state: SIGNED_STATE, status: 'SUCCESS', connection_id: '8812', queue_id: '5521' } },
        { name: 'denied', summary: 'The end user refused', query: { state: SIGNED_STATE, status: 'FAILED', error: 'access_denied' } },
      ],
    },
    {
      provider: 'flinks',
      name: 'Flinks',
      query: FlinksRedirectQuerySchema,
      examples: [
        { name: 'success', summary: 'Flinks Connect is done', query: { state: SIGNED_STATE, loginId: '5e7e5e8d-0a2c-4ae4-9d51-08d7c1f2a3b4', institution: 'FlinksCapital' } },
      ],
    },
    {
      provider: 'powens',
      name: 'Powens',
      query: PowensRedirectQuerySchema,
      examples: [
        { name: 'success', summary: 'The webview is done', query: { state: SIGNED_STATE, connection_id: '4213' } },
        { name: 'denied', summary: 'The end user refused', query: { state: SIGNED_STATE, error: 'access_denied', error_description: 'The user cancelled.' } },
      ],
    },
    {
      provider: 'lnkfi',
      name: 'LnkFi',
      query: LnkfiRedirectQuerySchema,
      examples: [{ name: 'success', summary: 'Authorized at the system', query: { state: SIGNED_STATE, result: 'success' } }],
    },
  ];
  return perProvider.map(({ provider, name, query, examples }) => ({
    operationId: `${provider}Callback`,
    method: 'get',
    path: `/callbacks/${provider}`,
    route: '/callbacks/{provider}',
    summary: `${name} redirect (browser)`,
    description:
      `Where ${name} sends the end user's browser back; not for API clients. The signed, single-use \`state\` names the ` +
      "connection; the browser then goes on to the connection's `redirect_url` with `connection_id` and `outcome` " +
      `(\`success\`, \`denied\` or \`failed\`) added. The query string is ${name}'s.`,
    tags: ['Callbacks'],
    security: 'none',
    query,
    responses: [
      {
        status: 303,
        description: "On to the connection's redirect URL.",
        headers: { Location: { schema: z.url(), description: '`redirect_url` with `connection_id` and `outcome` added.', required: true } },
      },
    ],
    errors: CALLBACK_ERRORS,
    requestExamples: examples,
    responseExamples: [
      {
        name: 'success',
        summary: 'On to the client',
        headers: { Location: `https://client.example/linked?session=abc&connection_id=${CONNECTION_ID}&outcome=success` },
      },
    ],
  }));
}

const hmacHex = z.string().regex(/^[0-9a-f]{64}$/i);

/** The Flinks webhook: a finished extraction (GetAccountsDetail) or a failed one. */
const FlinksWebhookSchema = z.union([FlinksAccountsDetailSchema, FlinksFailureWebhookSchema]);
/** The LnkFi webhook: `connection_completed` hands over the connection's API key; other types carry the base fields. */
const LnkfiWebhookSchema = z.union([
  // `instances` is a tuple with a rest element ([first, ...more]): the same as an array of one or more, said in a
  // way every JSON Schema tool takes (an open `prefixItems` tuple is one that strict Ajv refuses).
  LnkfiConnectionCompletedSchema.extend({ instances: z.array(LnkfiConnectionCompletedSchema.shape.instances.def.items[0]).min(1) }),
  LnkfiWebhookBaseSchema,
]);

const webhookErrors = (signature: string): ErrorDoc[] => [
  { status: 400, code: 'invalid_event', when: 'Signed, but not an event the provider documents.', message: 'The event is malformed.', details: [{ path: 'resource', message: 'Invalid input: expected object, received undefined' }] },
  E.malformed,
  { status: 401, code: 'invalid_signature', when: `\`${signature}\` is missing or does not verify: nothing changed.`, message: 'The webhook signature does not verify.' },
  { status: 404, code: 'not_found', when: 'No webhook secret is configured for the provider: its webhook endpoint does not exist.', message: 'webhook endpoint not found' },
  { ...E.tooLarge, when: 'The body is over 1 MB.' },
  {
    status: 503,
    code: 'event_in_progress',
    when: 'Another delivery of the same event holds its claim and has not been signalled yet (with `Retry-After`): redeliver.',
    message: 'Another delivery of this event is being applied; try again shortly.',
  },
];

const webhookAck: [ResponseDoc] = [{ status: 200, description: 'Verified; what became of the event.', schema: ProviderWebhookAckSchema, component: 'ProviderWebhookAck' }];
const WEBHOOK_COMMON =
  "Events the provider pushes about its connections; not for API clients. The raw body is verified with the provider's own " +
  'signature before anything is read; a verified event is claimed by an id the signature covers and signalled to its connection ' +
  'once, however many deliveries arrive together. Exists only when the provider\'s webhook secret is configured (else 404).';

/** POST /webhooks/{provider}, one per provider with a webhook (Powens has none): each signs its own way. */
function providerWebhookOperations(): OperationDoc[] {
  return [
    {
      operationId: 'oxlinWebhook',
      method: 'post',
      path: '/webhooks/oxlin',
      route: '/webhooks/{provider}',
      summary: 'Oxlin webhook (server to server)',
      description:
        `${WEBHOOK_COMMON} Oxlin signs with \`X-Oxlin-Signature: sha256=<hex HMAC-SHA256 of the raw body>\` keyed with ` +
        'OXLIN_WEBHOOK_SECRET; the event is claimed by its `id`. `SYNC_ALL_SUCCESS` means new data; a `…_FAILED` event with a failed channel, trouble; the rest is `ignored`.',
      tags: ['Callbacks'],
      security: 'none',
      headers: {
        'X-Oxlin-Signature': {
          schema: z.string().regex(/^sha256=[0-9a-f]{64}$/),
          description: '`sha256=` and the lowercase hex HMAC-SHA256 of the raw body, keyed with OXLIN_WEBHOOK_SECRET.',
          required: true,
        },
      },
      body: { schema: OxlinEventSchema, component: 'OxlinEvent' },
      responses: webhookAck,
      errors: webhookErrors('X-Oxlin-Signature'),
      requestExamples: [
        {
          name: 'synced',
          summary: 'New data at the provider',
          headers: { 'X-Oxlin-Signature': 'sha256=3b1f0c6e2a9d48f7b5c4e3a2d1f0e9b8c7a6d5e4f3a2b1c0d9e8f7a6b5c4d3e2' },
          body: {
            id: '7731',
            event_type: 'SYNC_ALL_SUCCESS',
            resource_type: 'CONNECTION',
            channel_definition_id: '8701',
            creation_date: 1_741_079_832,
            resource: {
              id: '8812',
              provider_id: '87',
              status: 'SUCCESS',
              channels: [{ channel_definition_id: '8701', mode: 'REDIRECT', status: 'SUCCESS', expires: 1_748_855_760, account_types: ['CHECKINGS', 'CREDIT_CARD'] }],
            },
          },
        },
      ],
      responseExamples: [{ name: 'accepted', summary: 'Signalled to the connection', body: { status: 'accepted' } }],
    },
    {
      operationId: 'flinksWebhook',
      method: 'post',
      path: '/webhooks/flinks',
      route: '/webhooks/{provider}',
      summary: 'Flinks webhook (server to server)',
      description:
        `${WEBHOOK_COMMON} Flinks signs with \`flinks-authenticity-key: <base64 HMAC-SHA256>\` keyed with the ASCII bytes of ` +
        "FLINKS_WEBHOOK_SECRET over the ASCII bytes of the body (any other character counts as `?`, as .NET's Encoding.ASCII has it); " +
        'the event is claimed by its `RequestId`. The body is the GetAccountsDetail of a finished extraction (new data) or the error shape with its `Login` (a failed one).',
      tags: ['Callbacks'],
      security: 'none',
      headers: {
        'flinks-authenticity-key': {
          schema: z.string().regex(/^[A-Za-z0-9+/]{43}=$/),
          description: 'Base64 of the HMAC-SHA256 of the body, keyed with FLINKS_WEBHOOK_SECRET (both as ASCII bytes).',
          required: true,
        },
      },
      body: { schema: FlinksWebhookSchema, component: 'FlinksWebhook' },
      responses: webhookAck,
      errors: webhookErrors('flinks-authenticity-key'),
      requestExamples: [
        {
          name: 'extracted',
          summary: 'A finished extraction',
          headers: { 'flinks-authenticity-key': 'mZ4Y0c2W8x1Lq7Vt3Pb9Nk5Rj6Hf2Ds0Ga8Ue4Io1Ty=' },
          body: {
            HttpStatusCode: 200,
            RequestId: 'b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e',
            Login: { Id: '5e7e5e8d-0a2c-4ae4-9d51-08d7c1f2a3b4', Username: 'Greatday', IsScheduledRefresh: false, LastRefresh: '2025-03-04T09:17:11.2457187', Type: 'Personal' },
            Institution: 'FlinksCapital',
            Accounts: [
              {
                Id: '0a1b2c3d-4e5f-4a6b-9c7d-8e9f0a1b2c3d',
                Title: 'Chequing CAD',
                AccountNumber: '1111000',
                Category: 'Operations',
                Type: 'Chequing',
                Currency: 'CAD',
                Balance: { Available: 1520.35, Current: 1520.35, Limit: null },
                Transactions: [{ Id: '7d6c5b4a-3f2e-4d1c-8b0a-9f8e7d6c5b4a', Date: '2025/03/03', Code: null, Description: 'Interac e-Transfer', Debit: 42.5, Credit: null, Balance: 1520.35 }],
              },
            ],
          },
        },
      ],
      responseExamples: [{ name: 'accepted', summary: 'Signalled to the connection', body: { status: 'accepted' } }],
    },
    {
      operationId: 'lnkfiWebhook',
      method: 'post',
      path: '/webhooks/lnkfi',
      route: '/webhooks/{provider}',
      summary: 'LnkFi webhook (server to server)',
      description:
        `${WEBHOOK_COMMON} LnkFi signs with \`X-LnkFi-Webhook-Signature: <hex HMAC-SHA256 of the raw body>\` keyed with ` +
        'LNKFI_WEBHOOK_SECRET. `X-LnkFi-Webhook-Id` is not signed, so the event is claimed by the SHA-256 of the body instead; ' +
        '`X-LnkFi-Webhook-Vendor-Id` must name the `vendor_id` of the body. `connection_completed` hands over the connection\'s ' +
        'API key (sealed at once, never in the event); `connection_disconnected` asks for a reauthorization; other types are `ignored`.',
      tags: ['Callbacks'],
      security: 'none',
      headers: {
        'X-LnkFi-Webhook-Signature': { schema: hmacHex, description: 'Hex HMAC-SHA256 of the raw body, keyed with LNKFI_WEBHOOK_SECRET.', required: true },
        'X-LnkFi-Webhook-Id': { schema: LnkfiWebhookHeadersSchema.shape['x-lnkfi-webhook-id'], description: "LnkFi's delivery id (`owh_…`); not signed.", required: true },
        'X-LnkFi-Webhook-Vendor-Id': {
          schema: LnkfiWebhookHeadersSchema.shape['x-lnkfi-webhook-vendor-id'],
          description: 'The vendor the webhook is for: the same as the body\'s `vendor_id`.',
          required: true,
        },
      },
      body: { schema: LnkfiWebhookSchema, component: 'LnkfiWebhook' },
      responses: webhookAck,
      errors: webhookErrors('X-LnkFi-Webhook-Signature'),
      requestExamples: [
        {
          name: 'completed',
          summary: 'A connection authorized at Xero',
          headers: {
            'X-LnkFi-Webhook-Signature': '9c4d1e7f2a5b8c0d3e6f9a2b5c8d1e4f7a0b3c6d9e2f5a8b1c4d7e0f3a6b9c2d',
            'X-LnkFi-Webhook-Id': 'owh_2b7f4c1e-9d3a-4e8b-a6c5-0f1e2d3c4b5a',
            'X-LnkFi-Webhook-Vendor-Id': 'vnd_00000000-0000-0000-0000-000000000001',
          },
          body: {
            type: 'connection_completed',
            system: 'xero',
            vendor_id: 'vnd_00000000-0000-0000-0000-000000000001',
            vendor_external_id: CONNECTION_ID,
            connection_id: 'con_6a0f3e2d-1c4b-4a59-8e7d-6f5a4b3c2d1e',
            api_key: 'lnk_live_Q2x8Vt4Pb9Nk5Rj6Hf2Ds0Ga8Ue4Io1T',
            instances: [{ id: '7d0f1a9e-3c2b-4d5e-8f6a-1b2c3d4e5f60', display: 'Demo Company (UK)' }],
          },
        },
      ],
      responseExamples: [{ name: 'accepted', summary: 'Signalled to the connection', body: { status: 'accepted' } }],
    },
  ];
}

export const operations: OperationDoc[] = [
  {
    operationId: 'createConnection',
    method: 'post',
    path: '/v1/connections',
    summary: 'Start a connection',
    description:
      'Starts the connection workflow and answers once it offers its first next action (up to 10 s; else `authorizing`): ' +
      'a `redirect` to the bank, or the `credentials` fields of an embedded channel. With an `Idempotency-Key`, ' +
      'repeating the same request (method, path and body, key order aside) answers 200 with the same connection instead of ' +
      'starting another; the key with any other body is a 422 `idempotency_key_reused`.',
    tags: ['Connections'],
    security: 'apiKey',
    headers: {
      'Idempotency-Key': { schema: IdempotencyKeySchema, description: 'Any printable ASCII up to 255 characters: the same key, the same connection.' },
    },
    body: { schema: CreateConnectionSchema, component: 'CreateConnection' },
    responses: [
      connectionResponse(201, 'Started: the connection with its first next action.', {
        Location: { schema: z.string(), description: 'The connection: `/v1/connections/{id}`.', required: true },
      }),
      connectionResponse(200, 'Replayed: this `Idempotency-Key` already started this connection.', {
        'Idempotent-Replayed': { schema: z.literal('true'), description: 'Present on a replay.', required: true },
      }),
    ],
    errors: [
      ...TENANT,
      ...BODY,
      { status: 400, code: 'invalid_idempotency_key', when: 'The Idempotency-Key is not printable ASCII or too long.', message: 'Idempotency-Key must be printable ASCII, at most 255 characters.' },
      { status: 422, code: 'idempotency_key_reused', when: 'The Idempotency-Key was used for a different request.', message: 'This Idempotency-Key was used for a different request.' },
      {
        status: 422,
        code: 'unsupported_mode',
        when:
          "The provider has no channel of this mode (Flinks and LnkFi: redirect only), or the institution starts with the other one (a Powens connector whose first source is `webauth` starts `redirect`, `credentials` starts `embedded`); `details.supported_modes` says which. Never answered with another mode.",
        message: 'flinks connections support mode redirect, not embedded.',
        details: { supported_modes: ['redirect'] },
      },
      { status: 422, code: 'provider_not_configured', when: 'This deployment has no settings for the provider.', message: 'powens is not configured on this Linkflow.' },
    ],
    requestExamples: [
      {
        name: 'redirect',
        summary: "Through the bank's own page",
        headers: { 'Idempotency-Key': 'user-42-link-1' },
        body: { provider: 'oxlin', institution_id: '87', redirect_url: 'https://client.example/linked?session=abc', user_ref: 'user-42' },
      },
      {
        name: 'embedded',
        summary: 'With a credentials form in your app, syncing every 6 hours',
        body: {
          provider: 'oxlin',
          institution_id: '87',
          redirect_url: 'https://client.example/linked',
          mode: 'embedded',
          sync_interval_seconds: 21_600,
        },
      },
    ],
    responseExamples: [
      { name: 'redirect', summary: 'Redirect channel: send the end user to `next_action.url`', body: awaitingRedirect, headers: { Location: `/v1/connections/${CONNECTION_ID}` } },
      { name: 'embedded', summary: 'Embedded channel: ask for these fields', body: awaitingCredentials, headers: { Location: `/v1/connections/${CONNECTION_ID}` } },
      { name: 'replayed', summary: 'The same Idempotency-Key again', status: 200, body: awaitingRedirect, headers: { 'Idempotent-Replayed': 'true' } },
    ],
  },
  {
    operationId: 'listConnections',
    method: 'get',
    path: '/v1/connections',
    summary: 'List connections',
    description: "The tenant's connections, newest first, as the workflows' search attributes describe them (they lag a moment behind).",
    tags: ['Connections'],
    security: 'apiKey',
    query: ListConnectionsQuerySchema,
    responses: [{ status: 200, description: 'A page of connections.', schema: ConnectionListSchema, component: 'ConnectionList' }],
    errors: [...TENANT, E.invalidQuery, E.invalidListCursor],
    requestExamples: [
      { name: 'needsAction', summary: 'Connections waiting for their end user', query: { needs_action: 'true', limit: 50 } },
      { name: 'byUser', summary: "One end user's active connections", query: { user_ref: 'user-42', state: 'active' } },
    ],
    responseExamples: [
      {
        name: 'page',
        summary: 'A page with more to come',
        body: {
          data: [
            { id: CONNECTION_ID, provider: 'oxlin', state: 'challenge_required', needs_action: true, user_ref: 'user-42' },
            { id: '9a1d7c52-0f3e-4b8a-a6d2-5e4f3c2b1a09', provider: 'oxlin', state: 'awaiting_consent', needs_action: true, user_ref: null },
          ],
          next_cursor: 'CiQ5YTFkN2M1Mi0wZjNlLTRiOGEtYTZkMi01ZTRmM2MyYjFhMDk',
        },
      },
    ],
  },
  {
    operationId: 'getConnection',
    method: 'get',
    path: '/v1/connections/{id}',
    summary: 'Get a connection',
    description: 'Its state, next action, accounts (with consent), channels, last sync and what is due next.',
    tags: ['Connections'],
    security: 'apiKey',
    responses: [connectionResponse(200, 'The connection.')],
    errors: [...BY_ID],
    requestExamples: [{ name: 'get', summary: 'A connection', params: byId }],
    responseExamples: [
      { name: 'active', summary: 'Active: data flowing', body: active },
      { name: 'challenge', summary: 'The bank asks for an SMS code', body: challenge },
      { name: 'consent', summary: 'Waiting for consent', body: awaitingConsent },
    ],
  },
  {
    operationId: 'deleteConnection',
    method: 'delete',
    path: '/v1/connections/{id}',
    summary: 'Disconnect',
    description: 'Disconnects at the provider; the connection ends `disconnected` (answers once it has, or after 10 s).',
    tags: ['Connections'],
    security: 'apiKey',
    responses: [connectionResponse(202, 'Disconnecting or disconnected.')],
    errors: [...BY_ID, wrongState('a connection that has not ended', 'expired')],
    requestExamples: [{ name: 'delete', summary: 'Disconnect', params: byId }],
    responseExamples: [{ name: 'disconnected', summary: 'Disconnected', body: disconnected }],
  },
  {
    operationId: 'syncConnection',
    method: 'post',
    path: '/v1/connections/{id}/sync',
    summary: 'Sync now',
    description: 'Syncs outside the periodic schedule; answers at once with the connection as it was.',
    tags: ['Connections'],
    security: 'apiKey',
    body: { schema: SyncBodySchema, component: 'SyncRequest', optional: true },
    responses: [connectionResponse(202, 'Sync requested.')],
    errors: [...BY_ID, ...BODY, wrongState('active, user_action_required, renewal_required', 'awaiting_consent')],
    requestExamples: [
      { name: 'sync', summary: 'Sync now (recent transactions, with an overlap)', params: byId },
      { name: 'full', summary: 'Read every transaction again', params: byId, body: { full: true } },
    ],
    responseExamples: [{ name: 'requested', summary: 'Requested', body: active }],
  },
  {
    operationId: 'giveConsent',
    method: 'put',
    path: '/v1/connections/{id}/consents',
    summary: 'Give consent per account',
    description: 'In `awaiting_consent`: consent (or not) for each listed account; the consented ones are synced.',
    tags: ['Connections'],
    security: 'apiKey',
    body: { schema: ConsentSchema, component: 'GiveConsent' },
    responses: [connectionResponse(200, 'The connection, now syncing.')],
    errors: [
      ...BY_ID,
      ...BODY.filter((e) => e !== E.invalidBody),
      { ...E.invalidBody, when: 'A field is not valid, or names accounts the connection does not have.', message: 'unknown accounts', details: { unknown_account_ids: ['not-an-account'] } },
      wrongState('awaiting_consent', 'active'),
    ],
    requestExamples: [
      {
        name: 'consent',
        summary: 'The checking account only',
        params: byId,
        body: { consents: [{ account_id: 'acc_checking', consent: true }, { account_id: 'acc_savings', consent: false }] },
      },
    ],
    responseExamples: [{ name: 'syncing', summary: 'Syncing the consented account', body: syncing }],
  },
  {
    operationId: 'submitCredentials',
    method: 'post',
    path: '/v1/connections/{id}/credentials',
    summary: 'Submit credentials (embedded)',
    description:
      'In `awaiting_credentials` or `credentials_invalid` on an embedded channel. Encrypt each value with GET /v1/keys/credentials ' +
      '(`api/clients/credentials.ts` does it in one call): plaintext credentials are refused.',
    tags: ['Connections'],
    security: 'apiKey',
    body: { schema: CredentialsSchema, component: 'SubmitCredentials' },
    responses: [connectionResponse(200, 'The connection: listing accounts, or a challenge.')],
    errors: [
      ...BY_ID,
      ...BODY,
      wrongState('awaiting_credentials', 'active'),
      {
        status: 422,
        code: 'invalid_credentials',
        when: "A field is missing or fails the provider's regexp (one detail per field).",
        message: 'Some fields are not valid.',
        details: { fields: [{ id: '300', message: 'Login does not match ^\\d{8}$' }] },
      },
      {
        status: 422,
        code: 'provider_rejected',
        when: "The bank refused the credentials (e.g. a wrong password): the fields are asked again and the connection's `reason` is `AUTH_FAILED`; `details.fields` names the fields refused.",
        message: 'The provider refused the request.',
        details: { fields: [{ id: 'password', message: 'was refused by the bank' }] },
      },
    ],
    requestExamples: [
      {
        name: 'credentials',
        summary: 'Login and password, each encrypted',
        params: byId,
        body: { credentials: [{ id: '300', value: ARMORED }, { id: '301', value: ARMORED }] },
      },
    ],
    responseExamples: [{ name: 'challenge', summary: 'The bank asks for a code', body: challenge }],
  },
  {
    operationId: 'answerChallenge',
    method: 'post',
    path: '/v1/connections/{id}/challenge',
    summary: 'Answer a challenge',
    description:
      "In `challenge_required`: one answer per field, in plaintext over TLS. Checked against each field's regexp and type, " +
      'then encrypted by the API before the workflow sees them. A wrong code answers with a new challenge.',
    tags: ['Connections'],
    security: 'apiKey',
    body: { schema: ChallengeAnswersSchema, component: 'ChallengeAnswers' },
    responses: [connectionResponse(200, 'The connection after the answer.')],
    errors: [
      ...BY_ID,
      ...BODY,
      wrongState('challenge_required', 'active'),
      {
        status: 422,
        code: 'invalid_answers',
        when: "An answer is missing, or fails its field's regexp or type.",
        message: 'Some answers are not valid.',
        details: { fields: [{ id: '1001', message: 'Code received by SMS is required' }] },
      },
      { status: 422, code: 'provider_rejected', when: 'The provider refused the answers.', message: 'The provider refused the request.' },
      {
        status: 410,
        code: 'challenge_expired',
        when: "The bank closed the challenge before the answer arrived (its own deadline, which `expires_at` never exceeds): the connection moves on to a new challenge or ends `expired` (`CHALLENGE_TIMED_OUT`); read it.",
        message: 'The bank no longer accepts answers to this challenge; read the connection for what comes next.',
      },
    ],
    requestExamples: [{ name: 'sms', summary: 'An SMS code', params: byId, body: { answers: [{ id: '1001', value: '123456' }] } }],
    responseExamples: [{ name: 'accepted', summary: 'Accepted: accounts listed, consent next', body: awaitingConsent }],
  },
  {
    operationId: 'addChannel',
    method: 'post',
    path: '/v1/connections/{id}/channels',
    summary: 'Add a channel',
    description:
      "Adds the institution's other channel (e.g. embedded, for savings and loans) to the connection. Powens adds its connector's sources " +
      'one after the other in priority order: the next source must be of the mode asked (else the connection stays as it was with ' +
      '`reason` `UNSUPPORTED_MODE`), and once every source is on the connection the answer is the connection unchanged with `reason` `NO_MORE_SOURCES`.',
    tags: ['Connections'],
    security: 'apiKey',
    body: { schema: ChannelSchema, component: 'AddChannel' },
    responses: [connectionResponse(200, 'The connection, authorizing the new channel.')],
    errors: [...BY_ID, ...BODY, wrongState('active', 'awaiting_consent')],
    requestExamples: [{ name: 'embedded', summary: 'Add the embedded channel', params: byId, body: { mode: 'embedded' } }],
    responseExamples: [
      { name: 'credentials', summary: 'Now asking for credentials', body: { ...awaitingCredentials, channels: [channel] } },
    ],
  },
  {
    operationId: 'requestRenewal',
    method: 'post',
    path: '/v1/connections/{id}/renewal',
    summary: 'Renew now',
    description: 'Renews the redirect channel before it expires: `renewal_required` with a fresh authorize URL for the existing connection.',
    tags: ['Connections'],
    security: 'apiKey',
    responses: [connectionResponse(200, 'The connection, with a redirect next action.')],
    errors: [
      ...BY_ID,
      wrongState('active', 'awaiting_consent'),
      {
        status: 422,
        code: 'validation_failed',
        when: 'The connection has no redirect channel to renew (credentials channels do not expire: a Powens `credentials` source, an Oxlin embedded channel).',
        message: 'the connection has no redirect channel to renew',
      },
    ],
    requestExamples: [{ name: 'renew', summary: 'Renew', params: byId }],
    responseExamples: [{ name: 'renewal', summary: 'Send the end user to the bank again', body: renewal }],
  },
  {
    operationId: 'listAccounts',
    method: 'get',
    path: '/v1/connections/{id}/accounts',
    summary: 'Accounts',
    description: 'The consented accounts as last synced.',
    tags: ['Data'],
    security: 'apiKey',
    responses: [{ status: 200, description: 'The accounts.', schema: AccountListSchema, component: 'AccountList' }],
    errors: [...BY_ID],
    requestExamples: [{ name: 'accounts', summary: 'Accounts', params: byId }],
    responseExamples: [
      {
        name: 'accounts',
        summary: 'One checking account',
        body: {
          data: [
            {
              id: 'acc_checking',
              name: 'Compte courant',
              type: 'CHECKINGS',
              currency: 'EUR',
              balance: '1520.35',
              iban: 'FR7630006000011234567890189',
              account_number: null,
              updated_at: '2025-03-04T09:17:11.482Z',
            },
          ],
        },
      },
    ],
  },
  {
    operationId: 'syncTransactions',
    method: 'get',
    path: '/v1/connections/{id}/transactions/sync',
    summary: 'Transaction changes since a cursor',
    description:
      'Delta sync: what was added, modified and removed since `cursor` (from the start without one), each ' +
      'transaction once, in its latest state. Read while `has_more`; keep `next_cursor` for next time — it ' +
      'stays valid across syncs. The `connection.synced` webhook says when there is something new.',
    tags: ['Data'],
    security: 'apiKey',
    query: TransactionChangesQuerySchema,
    responses: [{ status: 200, description: 'A page of changes.', schema: TransactionChangesSchema, component: 'TransactionChanges' }],
    errors: [...BY_ID, E.invalidQuery, E.invalidCursor],
    requestExamples: [
      { name: 'start', summary: 'Everything, from the start', params: byId, query: { limit: 500 } },
      { name: 'since', summary: 'What changed since the last read', params: byId, query: { cursor: 'WyJjaGFuZ2VzIiwiM2YyYzZhMWUtOGI0ZC00YzJhLTlmMWUtMmI3ZDVjOWEwZTQxIiwiMTgzIl0.Qm9uZC10by10aGUtY29ubmVjdGlvbi1ieS1ITUFDLWhlcmU' } },
    ],
    responseExamples: [
      {
        name: 'changes',
        summary: 'One new transaction, one corrected, one dropped',
        body: {
          added: [
            {
              id: 'tx_93',
              account_id: 'acc_checking',
              booked_at: '2025-03-04T00:00:00.000Z',
              amount: '-12.00',
              currency: 'EUR',
              label: 'CARTE 03/03 PHARMACIE',
              category: null,
              pending: false,
              pending_transaction_id: null,
              updated_at: '2025-03-05T09:17:11.482Z',
            },
          ],
          modified: [
            {
              id: 'tx_92',
              account_id: 'acc_checking',
              booked_at: '2025-03-03T00:00:00.000Z',
              amount: '-42.00',
              currency: 'EUR',
              label: 'CARTE 02/03 BOULANGERIE',
              category: 'food',
              pending: false,
              pending_transaction_id: null,
              updated_at: '2025-03-05T09:17:11.482Z',
            },
          ],
          removed: [{ id: 'tx_90', account_id: 'acc_checking' }],
          next_cursor: 'Y2hhbmdlczoxODY',
          has_more: false,
        },
      },
      {
        name: 'booked',
        summary: 'A pending card payment booked under a new id, by a provider that links the two',
        body: {
          added: [
            {
              id: 'tx_95',
              account_id: 'acc_checking',
              booked_at: '2025-03-06T00:00:00.000Z',
              amount: '-18.40',
              currency: 'EUR',
              label: 'CARTE 05/03 CINEMA',
              category: null,
              pending: false,
              pending_transaction_id: 'tx_94',
              updated_at: '2025-03-07T09:17:11.482Z',
            },
          ],
          modified: [],
          removed: [{ id: 'tx_94', account_id: 'acc_checking' }],
          next_cursor: 'Y2hhbmdlczoxOTA',
          has_more: false,
        },
      },
    ],
  },
  {
    operationId: 'listBalances',
    method: 'get',
    path: '/v1/connections/{id}/accounts/{account_id}/balances',
    summary: "An account's balance over time",
    description: 'Newest first: the balance when first read, and at each sync that found it changed.',
    tags: ['Data'],
    security: 'apiKey',
    pathParams: { id: CONNECTION_ID_PARAM, account_id: { schema: z.string().min(1), description: "The provider's account id." } },
    query: BalancesQuerySchema,
    responses: [{ status: 200, description: 'The balance history.', schema: BalanceHistorySchema, component: 'BalanceHistory' }],
    errors: [...BY_ID, E.invalidQuery],
    requestExamples: [{ name: 'balances', summary: 'The last 30 points', params: { ...byId, account_id: 'acc_checking' }, query: { limit: 30 } }],
    responseExamples: [
      {
        name: 'balances',
        summary: 'Two points',
        body: {
          data: [
            { as_of: '2025-03-05T09:17:11.482Z', balance: '1208.40', currency: 'EUR' },
            { as_of: '2025-03-04T09:17:11.301Z', balance: '1250.40', currency: 'EUR' },
          ],
        },
      },
    ],
  },
  {
    operationId: 'listTransactions',
    method: 'get',
    path: '/v1/connections/{id}/transactions',
    summary: 'Transactions',
    description: 'Newest first, a page at a time: pass `next_cursor` as `cursor` until it is null.',
    tags: ['Data'],
    security: 'apiKey',
    query: TransactionsQuerySchema,
    responses: [{ status: 200, description: 'A page of transactions.', schema: TransactionPageSchema, component: 'TransactionPage' }],
    errors: [...BY_ID, E.invalidQuery, E.invalidCursor],
    requestExamples: [
      { name: 'first', summary: "An account's latest transactions", params: byId, query: { account_id: 'acc_checking', limit: 50 } },
      { name: 'next', summary: 'The next page', params: byId, query: { limit: 50, cursor: 'WyIyMDI1LTAzLTAxVDAwOjAwOjAwLjAwMFoiLCJ0eF85MSIsImFjY19jaGVja2luZyJd' } },
    ],
    responseExamples: [
      {
        name: 'page',
        summary: 'A page with more to come',
        body: {
          data: [
            {
              id: 'tx_92',
              account_id: 'acc_checking',
              booked_at: '2025-03-03T00:00:00.000Z',
              amount: '-42.50',
              currency: 'EUR',
              label: 'CARTE 02/03 BOULANGERIE',
              category: 'food',
              pending: false,
              pending_transaction_id: null,
              updated_at: '2025-03-04T09:17:11.482Z',
            },
          ],
          next_cursor: 'WyIyMDI1LTAzLTAzVDAwOjAwOjAwLjAwMFoiLCJ0eF85MiIsImFjY19jaGVja2luZyJd',
        },
      },
    ],
  },
  {
    operationId: 'createWebhookEndpoint',
    method: 'post',
    path: '/v1/webhook-endpoints',
    summary: 'Add a webhook endpoint',
    description: 'Linkflow POSTs every event of every connection of the tenant to each endpoint, signed with its secret (shown once, here).',
    tags: ['Webhooks'],
    security: 'apiKey',
    body: { schema: CreateWebhookEndpointSchema, component: 'CreateWebhookEndpoint' },
    responses: [
      {
        status: 201,
        description: 'The endpoint, with its secret.',
        schema: CreatedWebhookEndpointSchema,
        component: 'CreatedWebhookEndpoint',
        headers: { 'Cache-Control': { schema: z.literal('no-store'), description: 'The secret is in this body only.', required: true } },
      },
    ],
    errors: [
      ...TENANT,
      ...BODY,
      { status: 409, code: 'limit_reached', when: 'The tenant has 10 endpoints already.', message: 'A tenant may have at most 10 webhook endpoints; delete one first.' },
      {
        status: 422,
        code: 'webhook_url_forbidden',
        when: 'The host is, or resolves to, a loopback, private, CGNAT, link-local, metadata or other special-purpose address (in any spelling). Private ones are allowed when the operator sets LINKFLOW_WEBHOOK_ALLOW_PRIVATE=true; every delivery checks again.',
        message:
          'The host hooks.client.example resolves to a private (RFC 1918) address. Webhooks are not allowed to loopback, private, link-local, metadata or other special-purpose addresses (the operator can allow private ones with LINKFLOW_WEBHOOK_ALLOW_PRIVATE=true).',
      },
      { status: 422, code: 'webhook_url_unresolvable', when: "The host name does not resolve (Linkflow's resolver).", message: 'The host hooks.client.example could not be resolved (ENOTFOUND).' },
    ],
    requestExamples: [{ name: 'endpoint', summary: 'An endpoint', body: { url: 'https://client.example/hooks/linkflow' } }],
    responseExamples: [
      {
        name: 'created',
        summary: 'Created: keep the secret',
        body: {
          id: WEBHOOK_ID,
          url: 'https://client.example/hooks/linkflow',
          secret: 'whsec_J8t2xQ5vN1mR7kP3wL9yB4cF6hD0sA2e',
          created_at: '2025-03-04T09:00:00.000Z',
        },
        headers: { 'Cache-Control': 'no-store' },
      },
    ],
  },
  {
    operationId: 'listWebhookEndpoints',
    method: 'get',
    path: '/v1/webhook-endpoints',
    summary: 'List webhook endpoints',
    description: "The tenant's endpoints (never their secrets).",
    tags: ['Webhooks'],
    security: 'apiKey',
    responses: [{ status: 200, description: 'The endpoints.', schema: WebhookEndpointListSchema, component: 'WebhookEndpointList' }],
    errors: [...TENANT],
    requestExamples: [{ name: 'list', summary: 'All endpoints' }],
    responseExamples: [
      { name: 'one', summary: 'One endpoint', body: { data: [{ id: WEBHOOK_ID, url: 'https://client.example/hooks/linkflow', created_at: '2025-03-04T09:00:00.000Z' }] } },
    ],
  },
  {
    operationId: 'deleteWebhookEndpoint',
    method: 'delete',
    path: '/v1/webhook-endpoints/{id}',
    summary: 'Delete a webhook endpoint',
    description: 'No more deliveries to it.',
    tags: ['Webhooks'],
    security: 'apiKey',
    pathParams: { id: { schema: WebhookEndpointIdSchema, description: 'The endpoint id (`whe_…`).' } },
    responses: [{ status: 204, description: 'Deleted.' }],
    errors: [...TENANT, { status: 404, code: 'not_found', when: 'No such endpoint for this tenant.', message: 'webhook endpoint not found' }],
    requestExamples: [{ name: 'delete', summary: 'Delete', params: { id: WEBHOOK_ID } }],
    responseExamples: [{ name: 'deleted', summary: 'Deleted (no body)' }],
  },
  {
    operationId: 'getCredentialsKey',
    method: 'get',
    path: '/v1/keys/credentials',
    summary: 'Credentials public key',
    description: "Linkflow's OpenPGP public key: encrypt each credential value with it before POST …/credentials. Public (browsers fetch it).",
    tags: ['Keys'],
    security: 'none',
    responses: [{ status: 200, description: 'The key.', schema: CredentialsKeySchema, component: 'CredentialsKey' }],
    errors: [...COMMON],
    requestExamples: [{ name: 'key', summary: 'The key' }],
    responseExamples: [
      {
        name: 'key',
        summary: 'The key',
        body: {
          key_id: '9f2e6c1ab84d3e07c5d1f0a2b3c4d5e6f7a8b9c0',
          type: 'PGP',
          public_key: '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nxjMEZ3x1bhYJKwYBBAHaRw8BAQdA...\n-----END PGP PUBLIC KEY BLOCK-----\n',
        },
      },
    ],
  },
  {
    operationId: 'createTenant',
    method: 'post',
    path: '/v1/admin/tenants',
    summary: 'Create a tenant',
    description: 'Creates a tenant and its first API key (shown once). Also: `npm run tenant:create -- <name>`.',
    tags: ['Admin'],
    security: 'admin',
    body: { schema: CreateTenantSchema, component: 'CreateTenant' },
    responses: [{ status: 201, description: 'The tenant and its API key.', schema: CreatedTenantSchema, component: 'CreatedTenant' }],
    errors: [E.adminUnauthorized, E.adminOff, ...BODY],
    requestExamples: [{ name: 'acme', summary: 'Acme', body: { name: 'Acme' } }],
    responseExamples: [
      {
        name: 'acme',
        summary: 'Acme and its key',
        body: {
          tenant: { id: TENANT_ID, name: 'Acme' },
          api_key: { id: 'key_0e7d5b3c1a9f4e2d8c6b4a2f0e1d3c5b', key: 'lf_q3Zt8W1vR6yN0pL4mK7hJ2gF5dS9aX3cV8bN1mQ4wE', prefix: 'lf_q3Zt8W1' },
        },
      },
    ],
  },
  {
    operationId: 'issueApiKey',
    method: 'post',
    path: '/v1/admin/tenants/{id}/api-keys',
    summary: 'Issue an API key',
    description: 'Another API key for the tenant (shown once), e.g. to rotate keys.',
    tags: ['Admin'],
    security: 'admin',
    pathParams: { id: { schema: TenantIdSchema, description: 'The tenant id (`ten_…`).' } },
    responses: [{ status: 201, description: 'The new key.', schema: IssuedKeySchema, component: 'IssuedKey' }],
    errors: [E.adminUnauthorized, E.tenantNotFound],
    requestExamples: [{ name: 'issue', summary: 'A new key', params: { id: TENANT_ID } }],
    responseExamples: [
      { name: 'key', summary: 'The key', body: { id: 'key_7c5a3e1f9d2b4c6a8e0f1d3b5a7c9e2f', key: 'lf_Zk2pW9xR4tY7uI0oP3aS6dF8gH1jK5lC2vB4nM7qE', prefix: 'lf_Zk2pW9x' } },
    ],
  },
  ...callbackOperations(),
  ...providerWebhookOperations(),
  {
    operationId: 'getOpenApiDocument',
    method: 'get',
    path: '/openapi.json',
    summary: 'This document',
    description: 'The OpenAPI 3.1 document, generated from the zod schemas the API validates requests with.',
    tags: ['Reference'],
    security: 'none',
    responses: [{ status: 200, description: 'The OpenAPI document.', schema: OpenApiDocumentSchema }],
    errors: [...COMMON],
    requestExamples: [{ name: 'get', summary: 'The document' }],
    responseExamples: [{ name: 'document', summary: 'Abridged', body: { openapi: '3.1.0', info: { title: 'Linkflow API', version }, paths: { '/v1/connections': {} } } }],
  },
  {
    operationId: 'getDocs',
    method: 'get',
    path: '/docs',
    summary: 'API reference (HTML)',
    description: 'This document as an interactive HTML reference (rendered in the browser by Scalar from GET /openapi.json).',
    tags: ['Reference'],
    security: 'none',
    responses: [{ status: 200, description: 'The page.', contentType: 'text/html', schema: z.string() }],
    errors: [...COMMON],
    requestExamples: [{ name: 'get', summary: 'The page' }],
    responseExamples: [{ name: 'page', summary: 'Abridged', body: '<!doctype html><html lang="en"><head><title>Linkflow API</title></head>…</html>' }],
  },
  {
    operationId: 'getDocsRenderer',
    method: 'get',
    path: '/docs/scalar.js',
    summary: 'API reference renderer (JavaScript)',
    description: "The script GET /docs runs: @scalar/api-reference's standalone bundle, served from this server.",
    tags: ['Reference'],
    security: 'none',
    responses: [{ status: 200, description: 'The script.', contentType: 'text/javascript', schema: z.string() }],
    errors: [...COMMON],
    requestExamples: [{ name: 'get', summary: 'The script' }],
    responseExamples: [{ name: 'script', summary: 'Abridged', body: '/*! @scalar/api-reference */ …' }],
  },
];

// ---------------------------------------------------------------------------------------------
// The document.

type Json = Record<string, unknown>;
interface SchemaMeta {
  id?: string;
  description?: string;
}

const TARGET = 'draft-2020-12';
const componentRef = (name: string) => `#/components/schemas/${name}`;

/**
 * What every string a request sends must match (api/validate.ts: `assertStorable` and
 * `requestTarget`): no NUL and no unpaired surrogate, anywhere in a body, query string or path,
 * else 400 `invalid_text`. One rule for every field, so it is added here to every request string
 * that does not already say more (a `pattern`, a `format`, an `enum` or a `const`), instead of to
 * each zod schema. Surrogate pairs are one code point to a `u`-flag ECMAScript regex (and to
 * Python's), so only unpaired ones fall in the class.
 */
export const STORABLE_TEXT = '^[^\\u0000\\ud800-\\udfff]*$';

/** `node` with STORABLE_TEXT on each plain string schema in it (in place). */
function storableStrings(node: unknown): void {
  if (Array.isArray(node)) node.forEach(storableStrings);
  if (!node || typeof node !== 'object' || Array.isArray(node)) return;
  const schema = node as Json;
  const plain = !('pattern' in schema || 'format' in schema || 'enum' in schema || 'const' in schema);
  if (schema.type === 'string' && plain) schema.pattern = STORABLE_TEXT;
  for (const value of Object.values(schema)) storableStrings(value);
}

/** JSON Schema of one zod schema; `$schema`/`$id` dropped (OpenAPI 3.1's dialect is 2020-12). */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output', metadata: z.core.$ZodRegistry<SchemaMeta>): Json {
  const { $schema: _s, $id: _i, ...rest } = z.toJSONSchema(schema, { target: TARGET, io, metadata }) as Json;
  if (io === 'input') storableStrings(rest);
  return rest;
}

function registries() {
  const input = z.registry<SchemaMeta>();
  const output = z.registry<SchemaMeta>();
  for (const [schema, description] of FIELD_DOCS) {
    input.add(schema, { description });
    output.add(schema, { description });
  }
  return { input, output };
}

/** Registers `schema` as the component `name` (once), keeping any description. */
function register(registry: z.core.$ZodRegistry<SchemaMeta>, schema: z.ZodType, name: string): void {
  const existing = registry.get(schema);
  if (existing?.id && existing.id !== name) throw new Error(`schema registered as both ${existing.id} and ${name}`);
  const named = registry._idmap.get(name);
  if (named && named !== schema) throw new Error(`two schemas named ${name}`);
  registry.add(schema, { ...existing, id: name });
}

function components(registry: z.core.$ZodRegistry<SchemaMeta>, io: 'input' | 'output'): Record<string, Json> {
  const { schemas } = z.toJSONSchema(registry, { target: TARGET, io, metadata: registry, uri: componentRef });
  const out: Record<string, Json> = {};
  for (const [name, schema] of Object.entries(schemas)) {
    // With reused: 'inline' nothing is shared outside the components; say so loudly if that changes.
    if (name === '__shared') throw new Error('unexpected shared $defs in the OpenAPI components');
    const { $schema: _s, $id: _i, ...rest } = schema as Json;
    if (io === 'input') storableStrings(rest);
    out[name] = rest;
  }
  return out;
}

const SECURITY: Record<Security, Json[]> = { apiKey: [{ apiKey: [] }], admin: [{ adminKey: [] }], none: [] };

/** A shell-quoted curl command for a request example. */
function curl(op: OperationDoc, example: RequestExample): string {
  let path = op.path;
  for (const [name, value] of Object.entries(example.params ?? {})) path = path.replace(`{${name}}`, encodeURIComponent(value));
  const query = new URLSearchParams(Object.entries(example.query ?? {}).map(([k, v]): [string, string] => [k, String(v)])).toString();
  const q = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
  const lines = [`curl -X ${op.method.toUpperCase()} "$LINKFLOW"${q(path + (query ? `?${query}` : ''))}`];
  if (op.security === 'apiKey') lines.push('-H "Authorization: Bearer $LINKFLOW_API_KEY"');
  if (op.security === 'admin') lines.push('-H "Authorization: Bearer $LINKFLOW_ADMIN_KEY"');
  for (const [name, value] of Object.entries(example.headers ?? {})) lines.push(`-H ${q(`${name}: ${value}`)}`);
  if (example.body !== undefined) lines.push("-H 'Content-Type: application/json'", `-d ${q(JSON.stringify(example.body))}`);
  return lines.join(' \\\n  ');
}

function parameterExamples(examples: RequestExample[], pick: (e: RequestExample) => Record<string, unknown> | undefined, name: string) {
  const out: Record<string, Json> = {};
  for (const e of examples) {
    const value = pick(e)?.[name];
    if (value !== undefined) out[e.name] = { summary: e.summary, value };
  }
  return Object.keys(out).length ? { examples: out } : {};
}


/**
 * OpenAPI links from a response that returns a connection or a webhook endpoint to every operation
 * on it (`$response.body#/id`): what a client does next, and how schemathesis' stateful phase
 * reaches those operations with an id that exists.
 */
function linksOf(op: OperationDoc, response: ResponseDoc): Json | undefined {
  const from =
    op.operationId === 'createConnection' && response.status === 201
      ? '/v1/connections/{id}'
      : op.operationId === 'createWebhookEndpoint'
        ? '/v1/webhook-endpoints/{id}'
        : undefined;
  if (op.operationId === 'createTenant') return { issueApiKey: { operationId: 'issueApiKey', parameters: { id: '$response.body#/tenant/id' } } };
  if (!from) return undefined;
  const links: Json = {};
  for (const target of operations) {
    if (!target.path.startsWith(from) || target === op) continue;
    // A new connection has no accounts yet: `account_id` (balances) is the client's to choose.
    links[target.operationId] = { operationId: target.operationId, parameters: { id: '$response.body#/id' } };
  }
  return links;
}

/** The path parameters of an operation: its own, or the connection id under /v1/connections/{id}. */
export function pathParamsOf(op: OperationDoc): Record<string, ParamDoc> {
  if (op.pathParams) return op.pathParams;
  return op.path.startsWith('/v1/connections/{id}') ? { id: CONNECTION_ID_PARAM } : {};
}

function buildOperation(op: OperationDoc, input: z.core.$ZodRegistry<SchemaMeta>, output: z.core.$ZodRegistry<SchemaMeta>): Json {
  const parameters: Json[] = [];
  for (const [name, p] of Object.entries(pathParamsOf(op))) {
    parameters.push({
      name,
      in: 'path',
      required: true,
      description: p.description,
      schema: jsonSchema(p.schema, 'input', input),
      ...parameterExamples(op.requestExamples, (e) => e.params, name),
    });
  }
  for (const [name, p] of Object.entries(op.headers ?? {})) {
    parameters.push({
      name,
      in: 'header',
      required: p.required ?? false,
      description: p.description,
      schema: jsonSchema(p.schema, 'input', input),
      ...parameterExamples(op.requestExamples, (e) => e.headers, name),
    });
  }
  if (op.query) {
    const query = jsonSchema(op.query, 'input', input) as { properties?: Record<string, Json>; required?: string[] };
    for (const [name, schema] of Object.entries(query.properties ?? {})) {
      const { description, ...rest } = schema;
      parameters.push({
        name,
        in: 'query',
        required: query.required?.includes(name) ?? false,
        ...(typeof description === 'string' ? { description } : {}),
        schema: rest,
        ...parameterExamples(op.requestExamples, (e) => e.query, name),
      });
    }
  }

  const responses: Json = {};
  for (const r of op.responses) {
    const examples: Record<string, Json> = {};
    for (const e of op.responseExamples) {
      if ((e.status ?? op.responses[0].status) === r.status && e.body !== undefined) examples[e.name] = { summary: e.summary, value: e.body };
    }
    const headers: Record<string, Json> = {};
    for (const [name, h] of Object.entries(r.headers ?? {})) {
      const headerExamples: Record<string, Json> = {};
      for (const e of op.responseExamples) {
        const value = e.headers?.[name];
        if ((e.status ?? op.responses[0].status) === r.status && value !== undefined) headerExamples[e.name] = { summary: e.summary, value };
      }
      headers[name] = {
        description: h.description,
        required: h.required ?? false,
        schema: jsonSchema(h.schema, 'output', output),
        ...(Object.keys(headerExamples).length ? { examples: headerExamples } : {}),
      };
    }
    const schema = r.schema && (r.component ? { $ref: componentRef(r.component) } : jsonSchema(r.schema, 'output', output));
    const links = linksOf(op, r);
    responses[String(r.status)] = {
      description: r.description,
      ...(Object.keys(headers).length ? { headers } : {}),
      ...(links ? { links } : {}),
      ...(schema ? { content: { [r.contentType ?? 'application/json']: { schema, ...(Object.keys(examples).length ? { examples } : {}) } } } : {}),
    };
  }
  const errors = [...op.errors, ...(op.errors.some((e) => e.code === 'internal') ? [] : COMMON)];
  for (const status of [...new Set(errors.map((e) => e.status))].sort((a, b) => a - b)) {
    const ofStatus = errors.filter((e) => e.status === status);
    const examples: Record<string, Json> = {};
    for (const e of ofStatus) {
      let key = e.code;
      for (let i = 2; key in examples; i++) key = `${e.code}_${i}`;
      const value = {
        error: {
          code: e.code,
          message: e.message,
          ...(e.details === undefined ? {} : { details: e.details }),
          ...(status >= 500 ? { request_id: 'b7e3c1d2-4f5a-4b6c-9d8e-0f1a2b3c4d5e' } : {}),
        },
      };
      examples[key] = { summary: e.when, value };
    }
    responses[String(status)] = {
      description: ofStatus.map((e) => `\`${e.code}\`: ${e.when}`).join('\n\n'),
      content: { 'application/json': { schema: { $ref: componentRef('Error') }, examples } },
    };
  }

  return {
    operationId: op.operationId,
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    tags: op.tags,
    security: SECURITY[op.security],
    ...(parameters.length ? { parameters } : {}),
    ...(op.body
      ? {
          requestBody: {
            required: !op.body.optional,
            content: {
              'application/json': {
                schema: { $ref: componentRef(op.body.component) },
                examples: Object.fromEntries(
                  op.requestExamples.filter((e) => e.body !== undefined).map((e) => [e.name, { summary: e.summary, value: e.body }]),
                ),
              },
            },
          },
        }
      : {}),
    responses,
    'x-codeSamples': op.requestExamples.map((e) => ({ lang: 'Shell', label: e.summary, source: curl(op, e) })),
  };
}

const obj = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
/** z.regexes.hostname without its anchors (what `httpUrl` and `endpointUrl` check the parsed host with). */
const HOSTNAME = `(?=[^:/?#]{1,253}(?:[:/?#]|$))[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[-0-9a-zA-Z]{0,61}[0-9a-zA-Z])?)*\\.?`;
/** An http(s) URL with this host, an optional port, and no user name or password. */
const httpUrlPattern = (host: string) => `^[hH][tT][tT][pP][sS]?://${host}(?::[0-9]{1,5})?(?:[/?#][^\\s]*)?$`;

/** The OpenAPI 3.1 document of every operation in `operations`. */
export function buildOpenApiDocument(options: { serverUrl?: string } = {}): Json {
  const { input, output } = registries();
  register(output, ErrorSchema, 'Error');
  for (const op of operations) {
    if (op.body) register(input, op.body.schema, op.body.component);
    for (const r of op.responses) if (r.schema && r.component) register(output, r.schema, r.component);
  }
  const schemas = { ...components(output, 'output') };
  for (const [name, schema] of Object.entries(components(input, 'input'))) {
    if (name in schemas) throw new Error(`component ${name} is both a request and a response schema`);
    schemas[name] = schema;
  }

  // `format: uri` alone allows any scheme and any host; the routes take http(s) with a DNS host name
  // (z.regexes.hostname: labels of at most 63, 253 in all) or, for webhook endpoints, a bracketed IPv6 literal.
  const urlProperty = (component: string, property: string) => (obj(obj(schemas[component]).properties)[property] ?? {}) as Json;
  urlProperty('CreateConnection', 'redirect_url').pattern = httpUrlPattern(HOSTNAME);
  urlProperty('CreateWebhookEndpoint', 'url').pattern = httpUrlPattern(`(?:\\[[0-9a-fA-F:.]+\\]|${HOSTNAME})`);

  const paths: Record<string, Json> = {};
  for (const op of operations) {
    const item = (paths[op.path] ??= {});
    if (item[op.method]) throw new Error(`${op.method.toUpperCase()} ${op.path} is documented twice`);
    item[op.method] = buildOperation(op, input, output);
  }

  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'Linkflow API',
      version,
      description:
        'Bank connections as durable Temporal workflows. Every error is `{"error": {"code", "message", "details"?}}`; ' +
        `every response carries an \`x-request-id\`. ${curlNote}`,
    },
    servers: [{ url: options.serverUrl ?? '/' }],
    tags: [
      { name: 'Connections', description: 'Start a connection, take it through authorization and consent, and manage it.' },
      { name: 'Data', description: 'What the syncs stored: accounts and transactions.' },
      { name: 'Webhooks', description: 'Where Linkflow sends signed events about the connections.' },
      { name: 'Keys', description: 'The public key clients encrypt credentials with.' },
      { name: 'Admin', description: "The operator's: tenants and their API keys (LINKFLOW_ADMIN_KEY)." },
      { name: 'Callbacks', description: 'What providers send: browser redirects and webhooks.' },
      { name: 'Reference', description: 'This documentation.' },
    ],
    paths,
    components: {
      schemas,
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: "A tenant's API key (`lf_…`) as `Authorization: Bearer <key>`." },
        adminKey: { type: 'http', scheme: 'bearer', description: 'The operator\'s LINKFLOW_ADMIN_KEY as `Authorization: Bearer <key>`.' },
      },
    },
  };
}
