import Router from '@koa/router';
import type { Client } from '@temporalio/client';
import type { Middleware } from 'koa';
import { type ChannelMode, type ConnectionView, type ProviderName, addChannelUpdate, requestRenewalUpdate } from '../../../contract/messages';
import { ApiError } from '../../errors';
import type { ConnectRequest, ConnectSessions } from '../../../store/connect-sessions';
import { tenantOf } from '../../auth';
import { respond } from '../../respond';
import { openConnection, runUpdate } from '../../temporal';
import { parseBody } from '../../validate';
import type { ConnectionStarter } from '../connections/start';
import { ConnectSessionRulesSchema, ConnectSessionSchema, ConnectSettingsSchema, ConnectSettingsViewSchema, CreateConnectSessionSchema } from './schema';

export interface ConnectSessionRoutesDeps {
  client: Client;
  sessions: ConnectSessions;
  starter: ConnectionStarter;
  /** Public base URL of this API, as browsers reach it. */
  publicUrl: string;
  /** How long a session's URL may be opened (LINKFLOW_CONNECT_TOKEN_SECONDS). */
  tokenSeconds: number;
  /** Resolves the calling tenant (401 without a valid API key). */
  auth: Middleware;
}

/**
 * Starts the connection a session asks for (or its end user chose). Without a `mode`, `redirect`
 * first and, when the institution starts with its other channel, that one (422 `unsupported_mode`
 * names it). Errors as ConnectionStarter.start.
 */
export async function startChosen(
  starter: ConnectionStarter,
  tenantId: string,
  request: ConnectRequest,
  redirectUrl: string,
  provider: ProviderName,
  institutionId: string,
  mode: ChannelMode | undefined,
): Promise<ConnectionView> {
  const { start: _start, ...rest } = request;
  const body = { ...rest, provider, institution_id: institutionId, redirect_url: redirectUrl };
  try {
    return (await starter.start(tenantId, { ...body, mode: mode ?? 'redirect' }, null)).view;
  } catch (err) {
    const supported = err instanceof ApiError && err.code === 'unsupported_mode' ? (err.details as { supported_modes?: ChannelMode[] }).supported_modes : undefined;
    if (mode !== undefined || !supported?.[0]) throw err;
    return (await starter.start(tenantId, { ...body, mode: supported[0] }, null)).view;
  }
}

/** How long the browser that opened a session may go on (a consent may wait that long). */
export const CONNECT_SESSION_SECONDS = 86_400;

/**
 * The tenant side of Linkflow Connect: `POST /v1/connect-sessions` answers a `connect_url` for the
 * end user's browser (a single-use token; only its hash is stored), starting the connection first
 * when the provider and institution are given, or renewing / extending an existing one when asked.
 * `GET`/`PUT /v1/connect/settings`: the tenant's terms and the origins that may frame the page.
 */
export function connectSessionRoutes(deps: ConnectSessionRoutesDeps): Router {
  const router = new Router({ sensitive: true });
  router.use(['/v1/connect-sessions', '/v1/connect/settings'], deps.auth);

  router.post('/v1/connect-sessions', async (ctx) => {
    // The documented union decides; the rules schema reads the body and names what is wrong, field by field.
    const body = parseBody(ConnectSessionRulesSchema, ctx.request.body);
    parseBody(CreateConnectSessionSchema, ctx.request.body);
    const tenant = tenantOf(ctx);
    let view: ConnectionView | null = null;
    if (body.connection_id !== undefined) {
      const { handle } = await openConnection(deps.client, body.connection_id, tenant.id);
      if (body.action === 'renew') view = await runUpdate(handle, () => handle.executeUpdate(requestRenewalUpdate));
      else if (body.action === 'add_channel' && body.mode) view = await runUpdate(handle, () => handle.executeUpdate(addChannelUpdate, { args: [{ mode: body.mode! }] }));
      else view = (await openConnection(deps.client, body.connection_id, tenant.id)).view;
    }
    const request: ConnectRequest = {
      start: true,
      ...(body.provider ? { provider: body.provider } : {}),
      ...(body.institution_id ? { institution_id: body.institution_id } : {}),
      ...(body.mode ? { mode: body.mode } : {}),
      ...(body.user_ref ? { user_ref: body.user_ref } : {}),
      ...(body.sync_interval_seconds ? { sync_interval_seconds: body.sync_interval_seconds } : {}),
      ...(body.redirect_timeout_seconds ? { redirect_timeout_seconds: body.redirect_timeout_seconds } : {}),
      ...(body.consent_timeout_seconds ? { consent_timeout_seconds: body.consent_timeout_seconds } : {}),
      ...(body.renewal_lead_seconds ? { renewal_lead_seconds: body.renewal_lead_seconds } : {}),
    };
    if (!view && body.provider && body.institution_id) {
      view = await startChosen(deps.starter, tenant.id, request, body.redirect_url, body.provider, body.institution_id, body.mode);
    }
    const session = await deps.sessions.create({
      tenantId: tenant.id,
      connectionId: view?.id ?? null,
      request: body.connection_id === undefined ? request : {},
      redirectUrl: body.redirect_url,
      locale: body.locale ?? null,
      tokenSeconds: deps.tokenSeconds,
      sessionSeconds: CONNECT_SESSION_SECONDS,
    });
    ctx.status = 201;
    ctx.body = respond(ConnectSessionSchema, {
      id: session.id,
      connect_url: new URL(`/connect/t/${session.token}`, deps.publicUrl).toString(),
      expires_at: session.tokenExpiresAt,
      connection_id: view?.id ?? null,
    });
  });

  router.get('/v1/connect/settings', async (ctx) => {
    const settings = await deps.sessions.settings(tenantOf(ctx).id);
    ctx.body = respond(ConnectSettingsViewSchema, { frame_ancestors: settings.frameAncestors, terms: settings.terms });
  });

  router.put('/v1/connect/settings', async (ctx) => {
    const body = parseBody(ConnectSettingsSchema, ctx.request.body);
    await deps.sessions.saveSettings(tenantOf(ctx).id, { frameAncestors: body.frame_ancestors, terms: body.terms });
    ctx.body = respond(ConnectSettingsViewSchema, body);
  });

  return router;
}
