// Linkflow links (domain/links.ts): `GET /connect/links/:link` is what every `next_action.url` of
// type `redirect` points at. No API key: the end user's browser opens it. The token is checked,
// then the workflow mints the provider's URL at this moment and the browser is sent there (303).
import Router from '@koa/router';
import { type Client, WorkflowNotFoundError, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Context } from 'koa';
import { ConnectionStateSchema, TERMINAL_STATES, UpdateRejection, openAuthorizationUpdate, workflowIdFor } from '../../../contract/messages';
import { LINK_PATH, type LinkMinter } from '../../../domain/links';
import type { Logger } from '../../../logger';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import { ApiError, notFound } from '../../errors';
import { consumeOrRetryAfter } from '../../limits';
import { ConnectionIdSchema, readConnection } from '../../temporal';

export interface LinkRoutesDeps {
  links: LinkMinter;
  logger: Logger;
  /** Mints the provider URL, throttled per connection (createAuthorizationUrls). */
  authorizationUrls: AuthorizationUrls;
}

/**
 * How long the `openAuthorization` update may take (a provider call, retried briefly) before the
 * browser gets a 503: well inside the API's request deadline, so a worker that is down or gone is
 * a clear "try again" rather than a 504 or a hung request.
 */
export const OPEN_AUTHORIZATION_DEADLINE_MS = 20_000;

/**
 * `freshAuthorizationUrl`, throttled per connection by `limiter` (ApiLimiters.linkOpens: LINK_OPENS,
 * shared by every API replica on PostgreSQL): past the limit a 429 `too_many_opens` (details
 * `{ retry_after_seconds }`) before anything reaches the workflow.
 */
export function createAuthorizationUrls(client: Client, limiter: RateLimiterAbstract) {
  return {
    async fresh(connectionId: string): Promise<string> {
      const retryAfter = await consumeOrRetryAfter(limiter, connectionId);
      if (retryAfter !== null) {
        throw new ApiError(429, 'too_many_opens', `This link was opened too often; try again in ${retryAfter} s.`, { retry_after_seconds: retryAfter });
      }
      return freshAuthorizationUrl(client, connectionId);
    },
  };
}
export type AuthorizationUrls = ReturnType<typeof createAuthorizationUrls>;

/**
 * The provider URL the connection's redirect action leads to, minted now (the workflow's
 * `openAuthorization` update; for Powens a new webview code): where a browser should go to
 * authorize, renew or repair at the bank. For the Connect page's "continue to your bank" button
 * as for `GET /connect/links/:link`. The caller has checked who may act on `connectionId`.
 *
 * Throws ApiError:
 * - 404 `not_found`: no such connection (or not a connection id);
 * - 410 `link_not_needed`: the connection has ended (details `{ state }`);
 * - 409 `link_not_needed`: the connection offers no redirect now, e.g. it is `active` or already
 *   `listing_accounts` (details `{ state }`);
 * - 502 `provider_unavailable`: the provider did not give a fresh URL (the end user may retry);
 * - 503 `temporarily_unavailable`: the workflow did not answer within OPEN_AUTHORIZATION_DEADLINE_MS
 *   (its worker down, say).
 */
export async function freshAuthorizationUrl(client: Client, connectionId: string): Promise<string> {
  const id = ConnectionIdSchema.safeParse(connectionId);
  if (!id.success) throw notFound('connection');
  const handle = client.workflow.getHandle(workflowIdFor(id.data));
  try {
    return (await client.withDeadline(Date.now() + OPEN_AUTHORIZATION_DEADLINE_MS, () => handle.executeUpdate(openAuthorizationUpdate))).url;
  } catch (err) {
    if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) {
      throw new ApiError(503, 'temporarily_unavailable', 'Linkflow could not reach the connection just now; try again in a moment.');
    }
    if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure && err.cause.type === UpdateRejection.WrongState) {
      const state = ConnectionStateSchema.safeParse((err.cause.details?.[0] as { state?: unknown } | undefined)?.state);
      throw notNeeded(state.data ?? 'unknown', state.success && TERMINAL_STATES.includes(state.data));
    }
    if (err instanceof WorkflowUpdateFailedError) {
      throw new ApiError(502, 'provider_unavailable', 'The provider did not give a fresh authorization link; try again in a moment.');
    }
    if (err instanceof WorkflowNotFoundError) {
      // Completed (ended) workflows take no update: say how it ended, if it still exists.
      const view = await readConnection(handle).catch(() => null);
      if (view) throw notNeeded(view.state, TERMINAL_STATES.includes(view.state));
      throw notFound('connection');
    }
    throw err;
  }
}

const notNeeded = (state: string, ended: boolean): ApiError =>
  new ApiError(ended ? 410 : 409, 'link_not_needed', `This link is no longer needed: the connection is ${state}.`, { state });

export function linkRoutes({ links, logger, authorizationUrls }: LinkRoutesDeps): Router {
  const router = new Router({ prefix: LINK_PATH, sensitive: true });

  router.get('/:link', async (ctx) => {
    try {
      const opened = links.open(ctx.params.link ?? '');
      if (!opened.ok && opened.reason === 'expired') {
        throw new ApiError(410, 'link_expired', 'This link has expired: ask the service that sent it for a new one.');
      }
      if (!opened.ok) throw new ApiError(404, 'link_not_found', 'This is not a link Linkflow issued.');
      const url = await authorizationUrls.fresh(opened.connectionId);
      // The provider URL carries a one-time code: never cached, never sent on as a referrer.
      ctx.set('cache-control', 'no-store');
      ctx.set('referrer-policy', 'no-referrer');
      ctx.status = 303;
      ctx.redirect(url);
    } catch (err) {
      if (err instanceof ApiError && err.status === 429) ctx.set('retry-after', String((err.details as { retry_after_seconds: number }).retry_after_seconds));
      if (!(err instanceof ApiError) || ctx.accepts('json', 'html') !== 'html') throw err;
      if (err.status >= 500) logger.error('authorization link failed', { path: LINK_PATH, error: err.message });
      page(ctx, err);
    }
  });

  return router;
}

/** A browser's answer: a small page saying what happened (the JSON error for any other client). */
function page(ctx: Context, error: ApiError): void {
  const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  ctx.status = error.status;
  ctx.type = 'html';
  ctx.set('cache-control', 'no-store');
  ctx.set('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'");
  ctx.body = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Linkflow</title><style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}</style></head>
<body><h1>This link cannot be used</h1><p>${escape(error.message)}</p><p><small>${escape(error.code)}</small></p></body></html>
`;
}
