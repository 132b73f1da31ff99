import { z } from 'zod';
import { ChannelModeSchema, ProviderSchema } from '../../../contract/messages';
import { CreateConnectionSchema } from '../connections/schema';

/** The languages the Connect page speaks. */
export const CONNECT_LOCALES = ['en', 'fr'] as const;
export type ConnectLocale = (typeof CONNECT_LOCALES)[number];

const create = CreateConnectionSchema.shape;

const fields = {
  connection_id: z.uuid().meta({ description: 'An existing connection of yours to repair, renew or extend; nothing of a new connection may then be given.' }),
  redirect_url: create.redirect_url,
  locale: z.enum(CONNECT_LOCALES).optional().meta({ description: "The page's language; absent: the browser's Accept-Language (English by default)." }),
  provider: ProviderSchema.meta({ description: 'The provider; absent: the end user chooses an institution across every configured provider.' }),
  institution_id: create.institution_id,
  mode: ChannelModeSchema.meta({ description: '`redirect` or `embedded`; absent for a new connection: `redirect`, or the only mode the chosen institution starts with.' }),
  user_ref: create.user_ref,
  sync_interval_seconds: create.sync_interval_seconds,
  redirect_timeout_seconds: create.redirect_timeout_seconds,
  consent_timeout_seconds: create.consent_timeout_seconds,
  renewal_lead_seconds: create.renewal_lead_seconds,
};
const newConnection = {
  redirect_url: fields.redirect_url,
  locale: fields.locale,
  mode: fields.mode.optional(),
  user_ref: fields.user_ref,
  sync_interval_seconds: fields.sync_interval_seconds,
  redirect_timeout_seconds: fields.redirect_timeout_seconds,
  consent_timeout_seconds: fields.consent_timeout_seconds,
  renewal_lead_seconds: fields.renewal_lead_seconds,
};

/**
 * POST /v1/connect-sessions, one of: an existing connection (`connection_id`; `action: renew` asks
 * for its renewal first, `action: add_channel` with `mode` adds a channel first), a new connection
 * at a given institution (`provider` and `institution_id`), or a new connection whose end user
 * chooses (no `institution_id`; `provider` may narrow the list). `redirect_url` is where the page
 * sends the browser at the end, with `connection_id` and `outcome`. The route's errors name each
 * field with ConnectSessionRulesSchema's messages.
 */
export const CreateConnectSessionSchema = z
  .union([
    z.strictObject({ connection_id: fields.connection_id, action: z.literal('renew').optional(), redirect_url: fields.redirect_url, locale: fields.locale }),
    z.strictObject({ connection_id: fields.connection_id, action: z.literal('add_channel'), mode: fields.mode, redirect_url: fields.redirect_url, locale: fields.locale }),
    z.strictObject({ ...newConnection, provider: fields.provider, institution_id: fields.institution_id }),
    z.strictObject({ ...newConnection, provider: fields.provider.optional() }),
  ])
  .meta({ id: 'CreateConnectSession' });

/** The same rules as CreateConnectSessionSchema, as one object: what the route reads, and clear per-field errors. */
export const ConnectSessionRulesSchema = z
  .object({
    connection_id: fields.connection_id.optional(),
    action: z.enum(['renew', 'add_channel']).optional(),
    provider: fields.provider.optional(),
    institution_id: fields.institution_id.optional(),
    mode: fields.mode.optional(),
    redirect_url: fields.redirect_url,
    user_ref: fields.user_ref,
    locale: fields.locale,
    sync_interval_seconds: fields.sync_interval_seconds,
    redirect_timeout_seconds: fields.redirect_timeout_seconds,
    consent_timeout_seconds: fields.consent_timeout_seconds,
    renewal_lead_seconds: fields.renewal_lead_seconds,
  })
  .strict()
  .superRefine((body, ctx) => {
    const forNew = ['provider', 'institution_id', 'user_ref', 'sync_interval_seconds', 'redirect_timeout_seconds', 'consent_timeout_seconds', 'renewal_lead_seconds'] as const;
    if (body.connection_id !== undefined) {
      for (const key of forNew) if (body[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: 'not allowed with connection_id' });
      if (body.action === 'add_channel' && body.mode === undefined) ctx.addIssue({ code: 'custom', path: ['mode'], message: 'required with action add_channel' });
      if (body.action !== 'add_channel' && body.mode !== undefined) ctx.addIssue({ code: 'custom', path: ['mode'], message: 'only with action add_channel' });
    } else {
      if (body.action !== undefined) ctx.addIssue({ code: 'custom', path: ['action'], message: 'only with connection_id' });
      if (body.institution_id !== undefined && body.provider === undefined) ctx.addIssue({ code: 'custom', path: ['provider'], message: 'required with institution_id' });
    }
  });
export type CreateConnectSession = z.infer<typeof ConnectSessionRulesSchema>;

export const ConnectSessionSchema = z
  .object({
    id: z.string(),
    connect_url: z.url().meta({ description: "Open it in the end user's browser (once): it holds a single-use token; no API key ever reaches the browser." }),
    expires_at: z.iso.datetime().meta({ description: 'Until when `connect_url` can be opened.' }),
    connection_id: z.uuid().nullable().meta({ description: 'The connection the page drives; null until the end user has chosen an institution.' }),
  })
  .meta({ id: 'ConnectSession' });

const origin = z
  .string()
  .max(200)
  .regex(/^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/, 'an origin: http(s)://host[:port], nothing else')
  .meta({ description: 'An origin allowed to embed the Connect page in a frame.' });

/** PUT /v1/connect/settings (and what GET answers). */
export const ConnectSettingsSchema = z
  .object({
    frame_ancestors: z.array(origin).max(20).meta({ description: "Origins that may embed the Connect page (CSP frame-ancestors); empty: none (the page can't be framed)." }),
    terms: z.string().min(1).max(10_000).nullable().meta({ description: 'Your own terms, shown to the end user (and accepted) before anything else; null: none.' }),
  })
  .strict()
  .meta({ id: 'ConnectSettings' });
export type ConnectSettingsBody = z.infer<typeof ConnectSettingsSchema>;

/** What GET and PUT /v1/connect/settings answer. */
export const ConnectSettingsViewSchema = z
  .object({ frame_ancestors: z.array(z.string()), terms: z.string().nullable() })
  .meta({ id: 'ConnectSettingsView' });
