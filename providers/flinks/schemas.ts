// Flinks API v3 payloads (reference/000_aa2d4d1634d0cd53.txt, and Flinks' API where the
// reference is silent: see sandbox/flinks/README.md). Responses are parsed, not trusted.
import { z } from 'zod';
import type { ProviderFailure } from '../types';

/** Flinks ids are .NET GUIDs: any 8-4-4-4-12 hex, not necessarily an RFC 4122 UUID. */
export const Guid = z.guid();

/** `2019-04-22T19:35:57.2457187`: UTC without a zone. */
const FlinksTimestamp = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,7})?$/);

export const LoginSchema = z.object({
  Id: Guid,
  Username: z.string(),
  IsScheduledRefresh: z.boolean().optional(),
  LastRefresh: FlinksTimestamp.nullable().optional(),
  Type: z.string().optional(),
});

export const AuthorizeResponseSchema = z.object({
  HttpStatusCode: z.literal(200),
  RequestId: Guid,
  Login: LoginSchema.optional(),
  Institution: z.string().optional(),
});

export const TransactionSchema = z.object({
  Id: z.string().min(1),
  /** `yyyy/MM/dd` (some Flinks examples show `yyyy-MM-dd`; both are read). */
  Date: z.string().regex(/^\d{4}[/-]\d{2}[/-]\d{2}$/),
  Code: z.string().nullable().optional(),
  Description: z.string(),
  Debit: z.number().nullable().optional(),
  Credit: z.number().nullable().optional(),
  Balance: z.number().nullable().optional(),
});
export type FlinksTransaction = z.infer<typeof TransactionSchema>;

export const AccountSchema = z.object({
  Id: z.string().min(1),
  Title: z.string(),
  AccountNumber: z.string().nullable().optional(),
  Category: z.string().nullable().optional(),
  Type: z.string().nullable().optional(),
  Currency: z.string().length(3),
  Balance: z
    .object({ Available: z.number().nullable().optional(), Current: z.number().nullable().optional(), Limit: z.number().nullable().optional() })
    .optional(),
  Transactions: z.array(TransactionSchema).nullable().optional(),
});
export type FlinksAccount = z.infer<typeof AccountSchema>;

export const AccountsDetailSchema = z.object({
  HttpStatusCode: z.literal(200),
  RequestId: Guid,
  Login: LoginSchema,
  Institution: z.string().optional(),
  Accounts: z.array(AccountSchema),
});
export type FlinksAccountsDetail = z.infer<typeof AccountsDetailSchema>;

/** Every Flinks error: `{HttpStatusCode, FlinksCode, Message}`, often with the RequestId. */
export const ErrorSchema = z.object({
  HttpStatusCode: z.number().int(),
  FlinksCode: z.string(),
  Message: z.string().optional(),
  RequestId: Guid.optional(),
});
export type FlinksErrorBody = z.infer<typeof ErrorSchema>;

/**
 * A failed extraction as a webhook reports it (sandbox/flinks/README.md: Webhooks): the error
 * shape with the login it concerns.
 */
export const FailureWebhookSchema = ErrorSchema.extend({
  HttpStatusCode: z.number().int().min(400),
  RequestId: Guid,
  Login: LoginSchema,
});

/** The redirect back from Flinks Connect: our `state`, and what Flinks adds. */
export const RedirectQuerySchema = z.object({
  state: z.string().min(1),
  loginId: Guid.optional(),
  institution: z.string().min(1).max(100).optional(),
  accountId: Guid.optional(),
});

/** FlinksCodes that mean the end user must reconnect at Flinks Connect. */
const AUTH_CODES = new Set(['INVALID_LOGIN', 'DISABLED_LOGIN', 'INVALID_USERNAME', 'INVALID_PASSWORD', 'INVALID_SECURITY_RESPONSE']);
/** FlinksCodes that mean the end user must act on the bank's website first. */
const USER_ACTION_CODES = new Set(['NEW_ACCOUNT', 'UNAUTHORIZED']);

/** A FlinksCode as the lifecycle names it. */
export function failureOf(code: string): ProviderFailure {
  if (AUTH_CODES.has(code)) return 'AUTH_FAILED';
  if (USER_ACTION_CODES.has(code)) return 'USER_ACTION_REQUIRED';
  return 'FAILED';
}

/** Flinks' LastRefresh (UTC without a zone) as ISO 8601. */
export const isoFromFlinks = (timestamp: string): string => `${timestamp.slice(0, 19)}.${(timestamp.slice(20) + '000').slice(0, 3)}Z`;
