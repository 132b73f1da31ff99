// Powens API v2.0 payloads (reference/002_c3d9bb037bf9490c.txt and sandbox/powens/README.md).
// Responses are parsed, not trusted: a provider that changes shape fails loudly here instead of
// deep inside a workflow.
import { z } from 'zod';

/** Powens' date-time (`YYYY-MM-DD HH:MM:SS`, UTC) as an ISO 8601 string. */
const DateTime = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/, 'must be YYYY-MM-DD HH:MM:SS')
  .transform((value) => `${value.replace(' ', 'T')}.000Z`);
const Day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD');
const Id = z.number().int().positive();

export const AuthMechanismSchema = z.enum(['credentials', 'webauth']);

export const AuthInitSchema = z.object({
  auth_token: z.string().min(1),
  type: z.enum(['temporary', 'permanent']),
  id_user: Id,
  expires_in: z.number().int().positive().optional(),
});

export const AccessTokenSchema = z.object({ access_token: z.string().min(1), token_type: z.string() });

export const AuthCodeSchema = z.object({ code: z.string().min(1), type: z.literal('temporary') });

export const PublicKeySchema = z.object({ type: z.literal('PGP'), public_key: z.string().includes('BEGIN PGP PUBLIC KEY BLOCK') });

export const ConnectorFieldSchema = z.object({
  name: z.string().min(1),
  label: z.string(),
  /** Help text to show with the input (the reference: present `label` and `description`). */
  description: z.string().nullable().optional(),
  type: z.string(),
  regex: z.string().nullable().optional(),
  required: z.boolean(),
  auth_mechanisms: z.array(AuthMechanismSchema).optional(),
  /** The source names the field belongs to; absent, it belongs to every source. */
  connector_sources: z.array(z.string()).optional(),
  values: z.array(z.object({ value: z.string(), label: z.string() })).optional(),
});
export type PowensField = z.infer<typeof ConnectorFieldSchema>;

export const ConnectorSourceSchema = z.object({
  id: Id,
  name: z.string().min(1),
  priority: z.number().int(),
  disabled: z.string().nullable().optional(),
  auth_mechanism: AuthMechanismSchema,
  account_types: z.array(z.string()).optional(),
});
export type PowensSource = z.infer<typeof ConnectorSourceSchema>;

export const ConnectorSchema = z.object({
  id: Id,
  uuid: z.string(),
  name: z.string(),
  auth_mechanism: AuthMechanismSchema,
  sources: z.array(ConnectorSourceSchema),
  fields: z.array(ConnectorFieldSchema),
});
export type PowensConnector = z.infer<typeof ConnectorSchema>;

/** `GET /connectors?expand=sources` (reference 002: "You can obtain the list from the /connectors endpoint"). */
export const ConnectorListSchema = z.object({ connectors: z.array(ConnectorSchema.pick({ id: true, name: true, sources: true })) });

export const CONNECTION_STATES = [
  'SCARequired',
  'webauthRequired',
  'additionalInformationNeeded',
  'decoupled',
  'validating',
  'actionNeeded',
  'passwordExpired',
  'wrongpass',
  'rateLimiting',
  'websiteUnavailable',
  'bug',
] as const;
export type PowensState = (typeof CONNECTION_STATES)[number];
const StateSchema = z.enum(CONNECTION_STATES).nullable().optional();

export const ConnectionSourceSchema = z.object({
  id: Id,
  name: z.string(),
  state: StateSchema,
  last_update: DateTime.nullable().optional(),
  disabled: z.string().nullable().optional(),
  access_expire: DateTime.nullable().optional(),
});

export const ConnectionSchema = z.object({
  id: Id,
  id_user: Id.optional(),
  id_connector: Id,
  state: StateSchema,
  error_message: z.string().nullable().optional(),
  fields: z.array(ConnectorFieldSchema).optional(),
  last_update: DateTime.nullable().optional(),
  expire: DateTime.nullable().optional(),
  sources: z.array(ConnectionSourceSchema).optional(),
});
export type PowensConnection = z.infer<typeof ConnectionSchema>;

export const AccountSchema = z.object({
  id: Id,
  id_connection: Id,
  name: z.string(),
  number: z.string().nullable().optional(),
  iban: z.string().nullable().optional(),
  type: z.string(),
  currency: z.object({ id: z.string().length(3) }).nullable().optional(),
  balance: z.number().nullable().optional(),
  disabled: z.string().nullable().optional(),
  deleted: z.string().nullable().optional(),
});
export type PowensAccount = z.infer<typeof AccountSchema>;

export const AccountsSchema = z.object({ accounts: z.array(AccountSchema) });

export const TransactionSchema = z.object({
  id: Id,
  id_account: Id,
  date: Day,
  rdate: Day.nullable().optional(),
  value: z.number(),
  original_wording: z.string().nullable().optional(),
  wording: z.string().nullable().optional(),
  type: z.string().optional(),
  coming: z.boolean(),
  id_category: z.number().int().nullable().optional(),
  deleted: z.string().nullable().optional(),
});

export const TransactionsSchema = z.object({ transactions: z.array(TransactionSchema), total: z.number().int().nonnegative() });

export const ErrorBodySchema = z.object({ code: z.string(), message: z.string().optional(), description: z.string().optional() });

/** The query string the webview sends the browser back with (see sandbox/powens/README.md). */
export const RedirectQuerySchema = z.object({
  state: z.string().min(1).max(2048),
  connection_id: z.string().regex(/^\d{1,15}$/).optional(),
  error: z.string().max(200).optional(),
  error_description: z.string().max(1000).optional(),
});
