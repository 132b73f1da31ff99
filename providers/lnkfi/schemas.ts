// LnkFi payloads (reference/003_470ace05bb41398b.txt) and the Xero API's behind its proxy.
// Everything from outside is parsed, not trusted: a changed shape fails loudly here.
import { z } from 'zod';

/** LnkFi's error body (the reference shows none; the sandbox README documents this choice). */
export const ErrorBodySchema = z.object({ error: z.string(), message: z.string().optional() });

export const AuthorizeResponseSchema = z.object({
  authorization_url: z.url({ protocol: /^https?$/ }),
  system: z.string(),
  vendor_id: z.string(),
  vendor_external_id: z.string().optional(),
  existing_connection_id: z.string().optional(),
});

export const DisconnectResponseSchema = z.object({ status: z.literal('disconnected') });

// --- the browser's redirect back ------------------------------------------------------

/**
 * LnkFi appends only `result` to vendor_redirect_url (reference: authorize), and the connection
 * comes with the signed connection_completed webhook: anything else on the redirect (a
 * `connection_id`, say) was added in the browser, so it is refused rather than ignored.
 */
export const RedirectQuerySchema = z.strictObject({
  state: z.string().min(1),
  result: z.enum(['success', 'canceled', 'error']),
});

// --- webhooks -------------------------------------------------------------------------

export const WebhookHeadersSchema = z.object({
  'x-lnkfi-webhook-id': z.string().regex(/^owh_[\w-]{1,128}$/, 'must be owh_<id>'),
  'x-lnkfi-webhook-vendor-id': z.string().min(1),
});

/** What every LnkFi webhook carries; `type` says what else. */
export const WebhookBaseSchema = z.object({
  type: z.string().min(1),
  system: z.string().min(1),
  vendor_id: z.string().min(1),
  vendor_external_id: z.string().min(1).optional(),
  connection_id: z.string().min(1),
});

const InstanceSchema = z.object({ id: z.string().min(1), display: z.string() });

export const ConnectionCompletedSchema = WebhookBaseSchema.extend({
  type: z.literal('connection_completed'),
  api_key: z.string().min(1),
  instances: z.tuple([InstanceSchema], InstanceSchema),
});

// --- Xero, through POST /v1/connection/proxy -------------------------------------------

/** `/Date(1585699200000+0000)/`: milliseconds since the epoch (UTC), with an informative offset. */
const XeroDateSchema = z
  .string()
  .regex(/^\/Date\(-?\d+([+-]\d{4})?\)\/$/, 'must be a Xero /Date(ms)/ value')
  .transform((text) => Number(/-?\d+/.exec(text)?.[0]));

const XeroAccountSchema = z.object({
  AccountID: z.string(),
  Name: z.string(),
  Type: z.string(),
  Status: z.string(),
  Code: z.string().optional(),
  BankAccountNumber: z.string().optional(),
  BankAccountType: z.string().optional(),
  CurrencyCode: z.string().optional(),
});

export const AccountsResponseSchema = z.object({ Accounts: z.array(XeroAccountSchema) });

/** A bank account always has its currency in Xero (other accounts need not). */
export const BankAccountSchema = XeroAccountSchema.extend({ Type: z.literal('BANK'), CurrencyCode: z.string().length(3) });
export type XeroBankAccount = z.infer<typeof BankAccountSchema>;

export const BankTransactionSchema = z.object({
  BankTransactionID: z.string(),
  /** RECEIVE or SPEND (and their -OVERPAYMENT, -PREPAYMENT, -TRANSFER variants). */
  Type: z.string(),
  Date: XeroDateSchema,
  Reference: z.string().optional(),
  Total: z.number(),
  Status: z.string(),
  UpdatedDateUTC: XeroDateSchema.optional(),
  CurrencyCode: z.string().length(3),
  BankAccount: z.object({ AccountID: z.string() }),
  Contact: z.object({ Name: z.string().optional() }).optional(),
});
export type XeroBankTransaction = z.infer<typeof BankTransactionSchema>;

export const BankTransactionsResponseSchema = z.object({
  BankTransactions: z.array(BankTransactionSchema),
  pagination: z.object({ page: z.number().int(), pageSize: z.number().int(), pageCount: z.number().int() }).optional(),
});

export const OrganisationResponseSchema = z.object({
  Organisations: z.array(z.object({ OrganisationID: z.string(), Name: z.string() })).min(1),
});
