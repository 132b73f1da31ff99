import { createHmac } from 'node:crypto';
import Koa from 'koa';
import Router, { type RouterMiddleware } from '@koa/router';
import { describeIssues, isJsonContentType, parseForm, requestOrigin, transactionCounts, withParams } from '../shared/http';
import { PAGE_HEADERS } from '../shared/html';
import { type ErrorAnswers, errorMiddleware } from '../shared/errors';
import { type ListeningSandbox, startSandbox } from '../shared/listen';
import { postWebhook } from '../shared/webhooks';
import { PROVIDERS, findProvider } from './data';
import { renderAuthorizePage, renderErrorPage } from './bank-page';
import { clientCredentials, embeddedDefinition, invalidRequest, jsonBody, param, parseOxlinJson, readOxlinBody, respondEmpty, validate } from './http';
import {
  accountsQuery, authorizeUrlBody, bankFormBody, bankPageQuery, channelCredentialsBody, connectionBody,
  connectionHead, consentsBody, credentialBody, emptyBody, keyBody, newTransactionBody, nextSyncBody,
  noQuery, postTransactionBody, queueSubscribeBody, redirectConnectionBody, tokenBody,
  transactionCorrectionBody, transactionsQuery, userInputBody, widgetRedirectUri,
} from './schemas';
import { checkCredentials } from './credentials';
import { ApiError } from './errors';
import { KeyStore } from './keys';
import type { OxlinSandboxOptions } from './options';
import { OxlinSimulator, TOKEN_LIFETIME_SECONDS, type AuthorizationSession, type OxlinEvent } from './simulator';

export type { OxlinSandboxOptions } from './options';

/** A running Oxlin sandbox: its `url` (e.g. `http://127.0.0.1:41234`) and `close`. */
export type OxlinSandbox = ListeningSandbox;

export interface OxlinSandboxApp {
  app: Koa;
  /** Cancels the pending LIST_ACCOUNTS and SYNC_ALL jobs. */
  dispose(): void;
}

/**
 * Posts each event to the client's webhook URL, signed `x-oxlin-signature: sha256=<hex HMAC-SHA256
 * of the raw body>` (the scheme this sandbox chose: see README), retrying a few times like a
 * provider would. Delivery is best effort and never blocks the simulation.
 */
function webhookSender(webhook: { url: string; secret: string }): (event: OxlinEvent) => void {
  return (event) => {
    const body = JSON.stringify(event);
    const signature = `sha256=${createHmac('sha256', webhook.secret).update(body).digest('hex')}`;
    void postWebhook(webhook.url, body, { 'content-type': 'application/json', 'x-oxlin-signature': signature });
  };
}

/** Errors as Oxlin answers them; the bank's pages (`/bank/…`) answer with an HTML error page. */
const ERRORS: ErrorAnswers<ApiError> = {
  provider: 'oxlin',
  type: ApiError,
  create: (status, code, description, headers) => new ApiError(status, code, description, headers),
  codes: { notFound: 'not_found', methodNotAllowed: 'method_not_allowed', invalid: 'invalid_request', internal: 'server_error' },
  body: (error) => ({ error: error.code, error_description: error.description }),
  page: { at: (path) => path.startsWith('/bank/'), render: renderErrorPage },
};

const redirectBack = (session: AuthorizationSession, params: Record<string, string>): string =>
  withParams(session.redirectUri, { ...params, state: session.redirectState });

export function createOxlinSandboxApp(options: OxlinSandboxOptions = {}): OxlinSandboxApp {
  const clientId = options.clientId ?? 'linkflow-sandbox';
  const clientSecret = options.clientSecret ?? 'sandbox-secret';
  const now = options.now ?? Date.now;
  const sim = new OxlinSimulator({
    now,
    listDelayMs: options.listDelayMs ?? 50,
    syncDelayMs: options.syncDelayMs ?? 50,
    slowListDelayMs: options.slowListDelayMs ?? 3000,
    ...(options.webhook ? { onEvent: webhookSender(options.webhook) } : {}),
  });
  const keys = new KeyStore(now);

  const app = new Koa();
  const router = new Router();

  app.use(errorMiddleware(ERRORS));

  const requireToken: RouterMiddleware = async (ctx, next) => {
    const bearer = /^Bearer\s+(\S+)$/i.exec(ctx.get('authorization'));
    const challenge = { 'www-authenticate': 'Bearer realm="oxlin-sandbox", error="invalid_token"' };
    if (!bearer?.[1]) throw new ApiError(401, 'invalid_token', 'Missing bearer access token in the authorization header.', challenge);
    if (!sim.isValidToken(bearer[1])) throw new ApiError(401, 'invalid_token', 'Unknown or expired access token.', challenge);
    await next();
  };

  router.post('/oauth2/token', async (ctx) => {
    validate(noQuery, ctx.query, 'query');
    const text = await readOxlinBody(ctx);
    const body = validate(tokenBody, isJsonContentType(ctx) ? parseOxlinJson(text) : parseForm(text), 'body');
    if (body.grant_type !== 'client_credentials') {
      throw new ApiError(400, 'unsupported_grant_type', `grant_type: "${body.grant_type}" is not supported; use client_credentials.`);
    }
    const client = clientCredentials(ctx, body);
    if (client.id !== clientId || client.secret !== clientSecret) {
      throw new ApiError(401, 'invalid_client', 'Unknown client or wrong client secret.', { 'www-authenticate': 'Basic realm="oxlin-sandbox"' });
    }
    ctx.set({ 'cache-control': 'no-store', pragma: 'no-cache' });
    ctx.body = { access_token: sim.issueToken(), token_type: 'bearer', expires_in: TOKEN_LIFETIME_SECONDS };
  });

  router.get('/v2.1/providers', requireToken, (ctx) => {
    validate(noQuery, ctx.query, 'query');
    ctx.body = PROVIDERS;
  });

  router.get('/v2.1/providers/:id', requireToken, (ctx) => {
    validate(noQuery, ctx.query, 'query');
    const providerId = param(ctx, 'id');
    const provider = findProvider(providerId);
    if (!provider) throw new ApiError(404, 'not_found', `No provider with id "${providerId}".`);
    ctx.body = provider;
  });

  const authorizeUrl: RouterMiddleware = async (ctx) => {
    validate(noQuery, ctx.query, 'query');
    const providerId = param(ctx, 'id');
    const channelDefinitionId = param(ctx, 'cd');
    const provider = findProvider(providerId);
    if (!provider) throw new ApiError(404, 'not_found', `No provider with id "${providerId}".`);
    const channelDefinition = provider.channel_definitions.find((definition) => definition.id === channelDefinitionId);
    if (!channelDefinition) {
      throw new ApiError(400, 'invalid_request', `Provider "${providerId}" has no channel definition "${channelDefinitionId}".`);
    }
    if (channelDefinition.mode !== 'REDIRECT') {
      throw new ApiError(400, 'invalid_request', `Channel definition "${channelDefinitionId}" is ${channelDefinition.mode}, not REDIRECT.`);
    }
    const body = validate(authorizeUrlBody, await jsonBody(ctx), 'body');
    if (options.authorizeDelayMs) await new Promise((resolve) => setTimeout(resolve, options.authorizeDelayMs));
    // The reference's "let OXLIN create the connection" example passes redirect_uri in widget_params.
    const redirectUri = body.redirect_uri ?? widgetRedirectUri.safeParse(body.widget_params).data?.redirect_uri;
    if (redirectUri === undefined) throw new ApiError(400, 'invalid_request', 'redirect_uri: required (an http(s) URL).');
    if (body.connection_id !== undefined) {
      if (body.channel_definition_id !== channelDefinitionId) {
        throw new ApiError(400, 'invalid_request', `channel_definition_id: "${body.channel_definition_id}" differs from the path's "${channelDefinitionId}".`);
      }
      const connection = sim.connection(body.connection_id);
      if (connection.provider.id !== providerId) {
        throw new ApiError(400, 'invalid_request', `connection_id: connection "${connection.id}" belongs to provider "${connection.provider.id}".`);
      }
    }
    const session = sim.createSession({
      provider,
      channelDefinition,
      redirectUri,
      redirectState: body.redirect_state,
      connectionId: body.connection_id,
      clientRedirect: body.use_client_redirect === true,
    });
    respondEmpty(ctx, 201);
    ctx.set('location', `${options.publicUrl ?? requestOrigin(ctx)}/bank/authorize?state=${encodeURIComponent(session.id)}`);
  };
  router.post('/v2.1/providers/:id/channels/:cd/authorize_url', requireToken, authorizeUrl);
  router.post('/v2.1/providers/:id/channel_definitions/:cd/authorize_url', requireToken, authorizeUrl);

  router.get('/bank/authorize', (ctx) => {
    const { state } = validate(bankPageQuery, ctx.query, 'query');
    const session = sim.usableSession(state);
    ctx.set(PAGE_HEADERS);
    ctx.type = 'html';
    ctx.body = renderAuthorizePage(session);
  });

  router.post('/bank/authorize', async (ctx) => {
    validate(noQuery, ctx.query, 'query');
    const form = validate(bankFormBody, parseForm(await readOxlinBody(ctx)), 'body');
    const session = sim.usableSession(form.state);
    if (form.decision === 'deny') {
      sim.deny(session);
      ctx.status = 303;
      ctx.redirect(redirectBack(session, { status: 'FAILED', error: 'access_denied' }));
      return;
    }
    if (!form.username) {
      ctx.status = 400;
      ctx.type = 'html';
      ctx.body = renderAuthorizePage(session, 'Enter a user name.');
      return;
    }
    if (session.clientRedirect) {
      ctx.status = 303;
      ctx.redirect(redirectBack(session, { code: sim.issueCode(session, form.username) }));
      return;
    }
    const { connectionId, queueId } = sim.approve(session, form.username);
    ctx.status = 303;
    ctx.redirect(redirectBack(session, { connection_id: connectionId, status: 'SUCCESS', queue_id: queueId }));
  });

  router.post('/v2.1/queues/subscribe', requireToken, async (ctx) => {
    validate(noQuery, ctx.query, 'query');
    validate(queueSubscribeBody, await jsonBody(ctx), 'body');
    respondEmpty(ctx, 201);
    ctx.set('location', `/queues/${sim.subscribe()}`);
  });

  router.get('/v2.1/queues/:id', requireToken, (ctx) => {
    validate(noQuery, ctx.query, 'query');
    ctx.body = sim.drainQueue(param(ctx, 'id'));
  });

  router.post('/v2.1/keys', requireToken, async (ctx) => {
    validate(noQuery, ctx.query, 'query');
    validate(keyBody, await jsonBody(ctx), 'body');
    const key = await keys.create();
    respondEmpty(ctx, 201);
    ctx.set('location', `/keys/${key.id}`);
  });

  router.get('/v2.1/keys/:id', requireToken, (ctx) => {
    validate(noQuery, ctx.query, 'query');
    const keyId = param(ctx, 'id');
    const key = keys.resource(keyId);
    if (!key) throw new ApiError(404, 'not_found', `No key with id "${keyId}".`);
    ctx.body = key;
  });

  router.post('/v2.1/connections', requireToken, async (ctx) => {
    validate(noQuery, ctx.query, 'query');
    const raw = await jsonBody(ctx);
    const head = validate(connectionHead, raw, 'body');
    const provider = findProvider(head.provider_id);
    if (!provider) throw new ApiError(400, 'invalid_request', `provider_id: no provider with id "${head.provider_id}".`);
    const named = provider.channel_definitions.find((definition) => definition.id === head.channel_definition_id);
    if (named?.mode === 'REDIRECT') {
      const parsed = redirectConnectionBody.safeParse(raw);
      if (!parsed.success) {
        throw invalidRequest(
          `channel_definition_id: "${named.id}" is REDIRECT, created from the code of a use_client_redirect authorization: ${describeIssues(parsed.error, 'body')}`,
        );
      }
      const body = parsed.data;
      const connection = sim.redeemCode(body.credentials[0].value, {
        providerId: provider.id,
        channelDefinitionId: named.id,
        redirectUri: body.redirect_uri,
      });
      respondEmpty(ctx, 201);
      ctx.set('location', `/connections/${connection.id}`);
      return;
    }
    const body = validate(connectionBody, raw, 'body');
    const channelDefinition = embeddedDefinition(provider, body.channel_definition_id);
    const credentials = await checkCredentials(channelDefinition, body.key_id, body.credentials, keys, true);
    const connection = sim.createEmbeddedConnection(provider, channelDefinition, credentials);
    respondEmpty(ctx, 201);
    ctx.set('location', `/connections/${connection.id}`);
  });

  router.get('/v2.1/connections/:id', requireToken, (ctx) => {
    validate(noQuery, ctx.query, 'query');
    ctx.body = sim.connectionResource(sim.connection(param(ctx, 'id')));
  });

  router.delete('/v2.1/connections/:id', requireToken, async (ctx) => {
    validate(noQuery, ctx.query, 'query');
    const connection = sim.connection(param(ctx, 'id'));
    validate(emptyBody, await jsonBody(ctx), 'body');
    sim.deleteConnection(connection);
    respondEmpty(ctx, 204);
  });

  // Reference: "Update credentials for an embedded channel"; on an EMPTY channel it adds the channel.
  router.put('/v2.1/connections/:id/channels/:cd', requireToken, async (ctx) => {
    validate(noQuery, ctx.query, 'query');
    const connectionId = param(ctx, 'id');
    const channelDefinitionId = param(ctx, 'cd');
    const connection = sim.connection(connectionId);
    const channelDefinition = sim.embeddedChannelDefinition(connection, channelDefinitionId);
    const body = validate(channelCredentialsBody, await jsonBody(ctx), 'body');
    if (body.id !== channelDefinitionId) {
      throw new ApiError(400, 'invalid_request', `id: "${body.id}" differs from the path's channel definition "${channelDefinitionId}".`);
    }
    sim.assertIdle(connection);
    const credentials = await checkCredentials(channelDefinition, body.key_id, body.credentials, keys, true);
    // Looked up again: the connection may have changed while the credentials were decrypted.
    sim.updateCredentials(sim.connection(connectionId), channelDefinitionId, credentials, false);
    respondEmpty(ctx, 204);
  });

  router.put('/v2.1/connections/:id/credentials/:credentialId', requireToken, async (ctx) => {
    validate(noQuery, ctx.query, 'query');
    const connectionId = param(ctx, 'id');
    const credentialId = param(ctx, 'credentialId');
    const connection = sim.connection(connectionId);
    const channelDefinition = sim.credentialChannelDefinition(connection, credentialId);
    const body = validate(credentialBody, await jsonBody(ctx), 'body');
    sim.assertIdle(connection);
    const credentials = await checkCredentials(channelDefinition, body.key_id, [{ id: credentialId, value: body.value }], keys, false);
    sim.updateCredentials(sim.connection(connectionId), channelDefinition.id, credentials, true);
    respondEmpty(ctx, 204);
  });

  router.post('/v2.1/connections/:id/channels/:cd/user_input', requireToken, async (ctx) => {
    validate(noQuery, ctx.query, 'query');
    const connection = sim.connection(param(ctx, 'id'));
    const body = validate(userInputBody, await jsonBody(ctx), 'body');
    sim.answerChallenge(connection, param(ctx, 'cd'), body.credentials);
    respondEmpty(ctx, 204);
  });

  router.put('/v2.1/connections/:id/consents', requireToken, async (ctx) => {
    validate(noQuery, ctx.query, 'query');
    const connection = sim.connection(param(ctx, 'id'));
    const body = validate(consentsBody, await jsonBody(ctx), 'body');
    sim.setConsents(connection, body.consents);
    ctx.status = 204;
  });

  router.post('/v2.1/connections/:id/synchronize', requireToken, async (ctx) => {
    validate(noQuery, ctx.query, 'query');
    const connection = sim.connection(param(ctx, 'id'));
    validate(emptyBody, await jsonBody(ctx), 'body');
    sim.synchronize(connection);
    respondEmpty(ctx, 202);
  });

  // Sandbox-only: Oxlin's own scheduled synchronization (not asked for by the client); its
  // events reach the client by webhook.
  router.post('/sandbox/connections/:id/auto-sync', async (ctx) => {
    validate(noQuery, ctx.query, 'query');
    sim.synchronize(sim.connection(param(ctx, 'id')));
    respondEmpty(ctx, 202);
  });

  // Sandbox-only scenario control, deliberately without a token so that tests can drive it.
  router.post('/sandbox/connections/:id/next-sync', async (ctx) => {
    validate(noQuery, ctx.query, 'query');
    const connection = sim.connection(param(ctx, 'id'));
    const body = validate(nextSyncBody, await jsonBody(ctx), 'body');
    sim.setNextSync(connection, body.outcome);
    respondEmpty(ctx, 204);
  });

  /**
   * Sandbox-only ground truth for tests in another process: `200 {"accounts": {"<account id>": <count>, …},
   * "total": <sum>}` for every account `GET /accounts?connection_id=` lists, each count the `x-total-count`
   * of `GET /transactions?account_id=` now without `min_date` (BOOKED and PENDING; 0 for a PENDING_CONSENT
   * account or before its first SYNC_ALL), from the same function. `404 not_found` for an unknown connection.
   */
  router.get('/sandbox/connections/:id/transaction-count', (ctx) => {
    validate(noQuery, ctx.query, 'query');
    const connection = sim.connection(param(ctx, 'id'));
    ctx.body = transactionCounts(sim.accountsOf(connection).map((account) => [account.id, sim.transactions(account.id, 0, 0).total] as const));
  });

  // Sandbox-only: the provider corrects or drops a transaction it already served.
  router.post('/sandbox/accounts/:accountId/transactions/:transactionId/modify', async (ctx) => {
    validate(noQuery, ctx.query, 'query');
    const transaction = sim.transaction(param(ctx, 'accountId'), param(ctx, 'transactionId'));
    sim.correctTransaction(transaction, validate(transactionCorrectionBody, await jsonBody(ctx), 'body'));
    respondEmpty(ctx, 204);
  });

  router.delete('/sandbox/accounts/:accountId/transactions/:transactionId', async (ctx) => {
    validate(noQuery, ctx.query, 'query');
    const transaction = sim.transaction(param(ctx, 'accountId'), param(ctx, 'transactionId'));
    validate(emptyBody, await jsonBody(ctx), 'body');
    sim.dropTransaction(transaction);
    respondEmpty(ctx, 204);
  });

  // Sandbox-only: the bank shows a new transaction (BOOKED or PENDING) from the next SYNC_ALL on.
  router.post('/sandbox/accounts/:accountId/transactions', async (ctx) => {
    validate(noQuery, ctx.query, 'query');
    const body = validate(newTransactionBody, await jsonBody(ctx), 'body');
    const id = sim.addTransaction(param(ctx, 'accountId'), {
      amount: body.amount,
      label: body.label,
      status: body.status,
      ...(body.id === undefined ? {} : { id: body.id }),
    });
    ctx.status = 201;
    ctx.body = { id };
  });

  // Sandbox-only: the bank books a pending transaction under a new id (from the next SYNC_ALL on).
  router.post('/sandbox/accounts/:accountId/transactions/:transactionId/post', async (ctx) => {
    validate(noQuery, ctx.query, 'query');
    const transaction = sim.transaction(param(ctx, 'accountId'), param(ctx, 'transactionId'));
    const body = validate(postTransactionBody, await jsonBody(ctx), 'body');
    ctx.status = 201;
    ctx.body = { id: sim.postTransaction(transaction, body.id) };
  });

  router.get('/v2.1/accounts', requireToken, (ctx) => {
    const query = validate(accountsQuery, ctx.query, 'query');
    ctx.body = sim.accountsOf(sim.connection(query.connection_id));
  });

  router.get('/v2.1/transactions', requireToken, (ctx) => {
    const query = validate(transactionsQuery, ctx.query, 'query');
    const { page, total } = sim.transactions(query.account_id, query.limit ?? 100, query.offset ?? 0, query.min_date);
    ctx.set('x-total-count', String(total));
    ctx.body = page;
  });

  app.use(router.routes());
  app.use(router.allowedMethods({ throw: true }));

  return { app, dispose: () => sim.dispose() };
}

export async function startOxlinSandbox(options: OxlinSandboxOptions = {}): Promise<OxlinSandbox> {
  return startSandbox(createOxlinSandboxApp(options), options);
}
