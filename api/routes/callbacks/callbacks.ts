import Router from '@koa/router';
import type { Client } from '@temporalio/client';
import { ZodError } from 'zod';
import { redirectParsers } from '../../../providers';
import type { StateSigner } from '../../../domain/redirect-state';
import type { ProviderLinks, RedirectClaims } from '../../../store';
import { type ProviderName, ProviderSchema, TERMINAL_STATES, redirectReceivedSignal } from '../../../contract/messages';
import { ApiError, notFound, zodDetails } from '../../errors';
import type { ConnectSessions } from '../../../store/connect-sessions';
import { connectPageFor } from '../connect/page';
import { SIGNAL_DEADLINE_MS, connectionHandle, readConnection } from '../../temporal';

export interface CallbackRoutesDeps {
  client: Client;
  stateSigner: StateSigner;
  redirectClaims: RedirectClaims;
  /** Which provider connections are whose: a redirect naming another connection's is refused. */
  providerLinks: ProviderLinks;
  /** Connect sessions: a browser that holds one for the connection goes back to the Connect page. */
  connectSessions: ConnectSessions;
}

/**
 * Where providers send the end user's browser back. The signed state names the connection;
 * the workflow hears about it by signal and the browser moves on to the client's redirect URL.
 * The provider connection id the browser carries is checked against Linkflow's links first (the
 * workflow checks it again, with the provider, before using it): one linked to another
 * connection, or other than the one this connection holds, is a 403 that spends nothing.
 */
export function callbackRoutes({ client, stateSigner, redirectClaims, providerLinks, connectSessions }: CallbackRoutesDeps): Router {
  const router = new Router({ prefix: '/callbacks', sensitive: true });

  router.get('/:provider', async (ctx) => {
    const provider = ProviderSchema.safeParse(ctx.params.provider);
    if (!provider.success) throw notFound('provider');

    let parsed;
    try {
      parsed = redirectParsers[provider.data](ctx.query);
    } catch (err) {
      if (err instanceof ZodError) throw new ApiError(400, 'invalid_callback', 'The redirect is malformed.', zodDetails(err));
      throw err;
    }
    const verified = stateSigner.verify(parsed.state);
    if (!verified) throw new ApiError(400, 'invalid_state', 'The redirect state is not one Linkflow issued.');

    const { handle } = connectionHandle(client, verified.connectionId);
    const view = await readConnection(handle);
    // A state of one provider's connection brought back through another provider's callback.
    if (view.provider !== provider.data) {
      throw new ApiError(400, 'invalid_state', `The redirect state belongs to a ${view.provider} connection, not a ${provider.data} one.`);
    }
    const named = parsed.redirect.providerConnectionId;
    if (named !== undefined) await refuseForeign(provider.data, named, view.id);
    // A connection waits for a redirect when it offers one: first authorization, repair or renewal.
    const expected = view.next_action?.type === 'redirect';
    // A provider that confirms by webhook (LnkFi) may have done so already: the browser still goes on, once.
    const alreadyConfirmed = !expected && parsed.redirect.outcome === 'success' && !TERMINAL_STATES.includes(view.state);
    // Claimed before the signal, atomically: of callbacks arriving together only one signals (store/claims.ts).
    const claim = expected || alreadyConfirmed ? await redirectClaims.claim(verified.nonce, view.id) : null;
    if (claim?.outcome !== 'claimed') {
      throw new ApiError(
        409,
        'redirect_not_expected',
        `The connection is ${view.state}; this redirect was already used or came too late.`,
        { state: view.state },
      );
    }
    if (expected) {
      try {
        // A code is a secret: only its sealed form reaches the workflow's history.
        const code = parsed.authorizationCode === undefined ? {} : { sealedAuthorizationCode: stateSigner.sealCode(parsed.authorizationCode, verified) };
        const signal = () => handle.signal(redirectReceivedSignal, { nonce: verified.nonce, ...parsed.redirect, ...code });
        await client.withDeadline(Date.now() + SIGNAL_DEADLINE_MS, signal);
      } catch (err) {
        // Not signalled: the state stays usable, so the end user's retry (a reload) is not refused as used.
        await redirectClaims.release(verified.nonce, claim.token).catch(() => undefined);
        throw err;
      }
    }
    // Spent: signalled, or (confirmed by webhook already) nothing to signal.
    await redirectClaims.markSignalled(verified.nonce, view.id);

    // Started from the Connect page in this browser: back to the page, which goes on with the flow.
    const connectPage = await connectPageFor(ctx, connectSessions, view.id);
    const next = new URL(view.redirect_url);
    next.searchParams.set('connection_id', view.id);
    next.searchParams.set('outcome', parsed.redirect.outcome);
    ctx.redirect(connectPage ?? next.toString());
    ctx.status = 303;
  });

  /** Refuses, before anything is claimed or signalled, a provider connection this one cannot have. */
  async function refuseForeign(provider: ProviderName, providerConnectionId: string, connectionId: string): Promise<void> {
    const [owner, held] = await Promise.all([
      providerLinks.connectionFor(provider, providerConnectionId),
      providerLinks.providerConnectionsOf(provider, connectionId),
    ]);
    const foreign = owner !== null && owner !== connectionId;
    // Renewals, repairs and added channels re-authorize the provider connection already held.
    const another = owner === null && held.length > 0;
    if (foreign || another) {
      throw new ApiError(
        403,
        'provider_connection_refused',
        foreign
          ? 'The redirect names a provider connection that belongs to another connection.'
          : 'The redirect names another provider connection than the one this connection holds.',
      );
    }
  }

  return router;
}
