// The Oxlin sandbox's request schemas (bodies and queries as reference 001 shows them, and the
// sandbox's own choices written down in README.md), apart from the routes that use them.
import { z } from 'zod';
import { SYNC_OUTCOMES } from './simulator';

export const noQuery = z.strictObject({});

export const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

export const wholeNumber = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .regex(/^\d{1,15}$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().min(min).max(max));

export const tokenBody = z.strictObject({
  grant_type: z.string({ error: 'required' }),
  client_id: z.string().optional(),
  client_secret: z.string().optional(),
  scope: z.string().optional(),
});

export const authorizeUrlBody = z
  .strictObject({
    redirect_uri: httpUrl.optional(),
    redirect_state: z
      .string()
      .max(1024)
      .refine((state) => !state.includes('|'), 'must not contain "|" (reserved by Oxlin as a separator)')
      .optional(),
    use_client_redirect: z.boolean().optional(),
    connection_id: z.string().min(1).optional(),
    channel_definition_id: z.string().min(1).optional(),
    widget_params: z.record(z.string(), z.unknown()).optional(),
  })
  .refine((body) => (body.connection_id === undefined) === (body.channel_definition_id === undefined), {
    message: 'connection_id and channel_definition_id go together (re-authorization of an existing connection)',
    path: ['connection_id'],
  })
  .refine((body) => !(body.use_client_redirect === true && body.connection_id !== undefined), {
    message: 'use_client_redirect creates a new connection; re-authorize an existing one without it',
    path: ['use_client_redirect'],
  });

export const widgetRedirectUri = z.object({ redirect_uri: httpUrl });

export const queueSubscribeBody = z.strictObject({
  topics: z.array(z.literal('connections')).min(1),
});

export const consentsBody = z.strictObject({
  consents: z.array(z.strictObject({ account_id: z.string().min(1), consent: z.boolean() })).min(1),
});

export const emptyBody = z.strictObject({});

export const resourceId = z.string({ error: 'required' }).min(1).max(64);

export const keyBody = z.strictObject({ type: z.literal('PGP', { error: 'must be "PGP"' }) });

// Values are never echoed: zod's messages for them name the problem, not the input.
export const credentialValue = z.string({ error: 'must be a string' }).max(16 * 1024);

export const credentialsInput = z
  .array(z.strictObject({ id: resourceId, value: credentialValue }), { error: 'required (an array of {id, value})' })
  .min(1)
  .max(50);

export const connectionBody = z.strictObject({
  provider_id: resourceId,
  key_id: resourceId,
  credentials: credentialsInput,
  channel_definition_id: resourceId.optional(),
});

/**
 * `POST /connections` for a REDIRECT channel the client creates itself (`use_client_redirect`):
 * the code the bank sent back, as a credential of type AUTHORIZATION_CODE (reference 001: "A
 * redirect channel definition contains credentials of type AUTHORIZATION_CODE, …"), and the
 * `redirect_uri` the code was issued for (RFC 6749 §4.1.3). The body's shape is the sandbox's choice.
 */
export const redirectConnectionBody = z.strictObject({
  provider_id: resourceId,
  channel_definition_id: resourceId,
  redirect_uri: httpUrl,
  credentials: z.tuple([z.strictObject({ type: z.literal('AUTHORIZATION_CODE'), value: z.string().min(1).max(512) })]),
});

/** What says which of the two bodies a `POST /connections` is: its channel definition's mode. */
export const connectionHead = z.object({ provider_id: resourceId, channel_definition_id: resourceId.optional() });

export const channelCredentialsBody = z.strictObject({
  id: resourceId,
  key_id: resourceId,
  credentials: credentialsInput,
});

export const credentialBody = z.strictObject({ key_id: resourceId.optional(), value: credentialValue });

export const userInputBody = z.strictObject({
  credentials: z
    .array(z.strictObject({ id: resourceId, value: z.string({ error: 'must be a string' }).max(1024) }), {
      error: 'required (an array of {id, value})',
    })
    .min(1),
});

export const nextSyncBody = z.strictObject({ outcome: z.enum(SYNC_OUTCOMES) });

export const accountsQuery = z.strictObject({ connection_id: z.string({ error: 'required' }).min(1) });

/** A calendar day, as midnight UTC in Unix seconds (the unit of every Oxlin date). */
export const isoDay = z.iso
  .date({ error: 'must be a date YYYY-MM-DD' })
  .transform((day) => Date.parse(`${day}T00:00:00Z`) / 1000);

export const transactionsQuery = z.strictObject({
  account_id: z.string({ error: 'required' }).min(1),
  limit: wholeNumber(1, 500).optional(),
  offset: wholeNumber(0).optional(),
  min_date: isoDay.optional(),
});

export const transactionCorrectionBody = z
  .strictObject({
    amount: z
      .number({ error: 'must be a number' })
      .refine((amount) => Math.round(amount * 100) / 100 === amount, 'must have at most 2 decimals')
      .optional(),
    label: z.string({ error: 'must be a string' }).min(1).max(200).optional(),
  })
  .refine((body) => body.amount !== undefined || body.label !== undefined, 'give amount, label or both');

export const newTransactionBody = z.strictObject({
  amount: z
    .number({ error: 'must be a number' })
    .refine((amount) => Math.round(amount * 100) / 100 === amount, 'must have at most 2 decimals'),
  label: z.string({ error: 'must be a string' }).min(1).max(200),
  status: z.enum(['BOOKED', 'PENDING']).default('BOOKED'),
  id: z.string().min(1).max(64).optional(),
});

export const postTransactionBody = z.strictObject({ id: z.string().min(1).max(64).optional() });

export const bankPageQuery = z.strictObject({ state: z.string({ error: 'required' }).min(1) });

export const bankFormBody = z.strictObject({
  state: z.string({ error: 'required' }).min(1),
  username: z.string().max(200).optional(),
  password: z.string().max(200).optional(),
  decision: z.enum(['approve', 'deny']),
});

