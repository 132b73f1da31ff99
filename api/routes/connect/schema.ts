import { z } from 'zod';
import { ChannelModeSchema, ProviderSchema } from '../../../contract/messages';
import { CreateConnectionSchema } from '../connections/schema';

/** The languages the Connect page speaks. */
export const CONNECT_LOCALES = ['en', 'fr'] as const;
export type ConnectLocale = (typeof CONNECT_LOCALES)[number];

const create = CreateConnectionSchema.shape;

/**
 * POST /v1/connect-sessions: either an existing connection (`connection_id`, with `action` to renew
 * it or add a channel first) or what POST /v1/connections takes, `provider` and `institution_id`
 * optional (the end user chooses on the page). `redirect_url` is where the page sends the browser
 * at the end, with `connection_id` and `outcome`.
 */
export const CreateConnectSessionSchema = z
  .object({
    connection_id: z.uuid().optional().meta({ description: 'An existing connection of yours to repair, renew or extend; nothing else of a new connection may then be given.' }),
    action: z
      .enum(['renew', 'add_channel'])
      .optional()
      .meta({ description: 'With `connection_id`: `renew` asks for the renewal of its redirect channel, `add_channel` adds a channel of `mode`, before the page opens.' }),
    provider: ProviderSchema.optional().meta({ description: 'The provider; absent: the end user chooses an institution across every configured provider.' }),
    institution_id: create.institution_id.optional(),
    mode: ChannelModeSchema.optional().meta({ description: '`redirect` or `embedded`; absent: `redirect`, or the only mode the chosen institution has.' }),
    redirect_url: create.redirect_url,
    user_ref: create.user_ref,
    locale: z.enum(CONNECT_LOCALES).optional().meta({ description: "The page's language; absent: the browser's Accept-Language (English by default)." }),
    sync_interval_seconds: create.sync_interval_seconds,
    redirect_timeout_seconds: create.redirect_timeout_seconds,
    consent_timeout_seconds: create.consent_timeout_seconds,
    renewal_lead_seconds: create.renewal_lead_seconds,
  })
  .strict()
  .superRefine((body, ctx) => {
    const forNew = ['provider', 'institution_id', 'user_ref', 'sync_interval_seconds', 'redirect_timeout_seconds', 'consent_timeout_seconds', 'renewal_lead_seconds'] as const;
    if (body.connection_id !== undefined) {
      for (const key of forNew) if (body[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: 'not allowed with connection_id' });
      if (body.action === 'add_channel' && body.mode === undefined) ctx.addIssue({ code: 'custom', path: ['mode'], message: 'required with action add_channel' });
    } else {
      if (body.action !== undefined) ctx.addIssue({ code: 'custom', path: ['action'], message: 'only with connection_id' });
      if (body.institution_id !== undefined && body.provider === undefined) ctx.addIssue({ code: 'custom', path: ['provider'], message: 'required with institution_id' });
    }
  })
  .meta({ id: 'CreateConnectSession' });
export type CreateConnectSession = z.infer<typeof CreateConnectSessionSchema>;

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
