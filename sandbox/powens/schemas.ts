// The Powens sandbox's request schemas: queries and bodies as reference 002 shows them, and the
// sandbox's own choices (README.md), apart from the routes that use them.
import { z } from 'zod';
import { CONNECTION_STATES } from './simulator';

/** A presence flag such as `?all`, as Powens takes it. */
export const flag = z
  .enum(['', 'true', '1', 'false', '0'])
  .optional()
  .transform((value) => value === '' || value === 'true' || value === '1');

export const expandOf = (allowed: readonly string[]) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      const names = value === undefined || value === '' ? [] : value.split(',');
      for (const name of names) if (!allowed.includes(name)) ctx.addIssue({ code: 'custom', message: `unknown expand "${name}" (allowed: ${allowed.join(', ')})` });
      return new Set(names);
    });

export const connectionExpand = expandOf(['connector', 'sources', 'accounts', 'all_accounts']);
export const sourceName = z.string().min(1).max(64);
export const clientIdValue = z.union([z.string().min(1).max(100), z.number().int().nonnegative()]).transform(String);
export const wholeNumber = (min: number, max: number) =>
  z.string().regex(/^\d{1,9}$/, 'must be a whole number').transform(Number).pipe(z.number().min(min).max(max));

// Values are never echoed: zod's messages for them name the problem, not the input.
export const fieldValue = z.string({ error: 'must be a string (an armored PGP message)' }).max(16 * 1024);

export const noQuery = z.strictObject({});
export const connectorsQuery = z.strictObject({ expand: expandOf(['sources', 'fields']) });
export const initBody = z.strictObject({ client_id: clientIdValue.optional(), client_secret: z.string().max(200).optional() });
export const accessBody = z.strictObject({
  code: z.string({ error: 'required' }).min(1).max(500),
  client_id: clientIdValue,
  client_secret: z.string({ error: 'required' }).max(200),
  grant_type: z.literal('authorization_code').optional(),
  redirect_uri: z.string().max(2048).optional(),
});
export const codeQuery = z.strictObject({ type: z.enum(['requestAccess', 'singleAccess']).optional() });
export const expandQuery = z.strictObject({ expand: connectionExpand });
export const connectionPostQuery = z.strictObject({ source: sourceName.optional(), expand: connectionExpand });
export const createBody = z
  .object({
    id_connector: z.union([z.number().int().positive(), wholeNumber(1, 999_999_999)]).optional(),
    connector_uuid: z.string().min(1).max(64).optional(),
    source: sourceName.optional(),
  })
  .catchall(fieldValue);
export const updateBody = z.object({ source: sourceName.optional() }).catchall(fieldValue);
export const allQuery = z.strictObject({ all: flag });
export const transactionsQuery = z.strictObject({
  all: flag,
  limit: wholeNumber(1, 1000).optional(),
  offset: wholeNumber(0, 1e9).optional(),
  // Midnight UTC of the day (the sandbox's dates are UTC days).
  min_date: z.iso
    .date({ error: 'must be a date YYYY-MM-DD' })
    .transform((day) => Date.parse(`${day}T00:00:00Z`))
    .optional(),
});
export const accountPatch = z.strictObject({ disabled: z.boolean().optional(), name: z.string().min(1).max(100).optional() });
export const nextSyncBody = z.strictObject({ state: z.enum(CONNECTION_STATES).nullable() });

export const redirectUri = z
  .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
  .max(2048)
  .refine((uri) => !uri.includes('?') && !uri.includes('#'), 'must not contain query parameters');
export const webviewCommon = {
  client_id: z.string({ error: 'required' }).min(1).max(100),
  redirect_uri: redirectUri,
  code: z.string({ error: 'required' }).min(1).max(500),
  source: sourceName.optional(),
  state: z.string().max(2048).optional(),
  domain: z.string().max(255).optional(),
};
export const connectQuery = z
  .strictObject({
    ...webviewCommon,
    connector_ids: z.string().regex(/^\d{1,9}(,\d{1,9})*$/, 'must be comma-separated connector ids').optional(),
    connector_uuids: z.string().max(1000).optional(),
  })
  .refine((q) => (q.connector_ids === undefined) !== (q.connector_uuids === undefined), {
    message: 'give connector_ids or connector_uuids (one connector)',
    path: ['connector_ids'],
  });
export const reconnectQuery = z.strictObject({ ...webviewCommon, connection_id: z.string().regex(/^\d{1,15}$/, 'must be a connection id') });
export const webviewForm = z.strictObject({
  session: z.string({ error: 'required' }).min(1).max(200),
  username: z.string().max(200).optional(),
  decision: z.enum(['approve', 'deny']),
});

