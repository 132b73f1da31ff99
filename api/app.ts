import { METHODS } from 'node:http';
import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import type { Client } from '@temporalio/client';
import Koa from 'koa';
import { PROVIDERS, type ProviderName, TASK_QUEUE } from '../contract/messages';
import type { ProviderSecrets } from '../providers';
import type { InstitutionCatalogue } from '../providers/catalogue';
import type { StateSigner } from '../domain/redirect-state';
import type { ProviderLinks, RedirectClaims, Repository, TenantStore, WebhookClaims } from '../store';
import type { WebhookEndpointStore } from '../store/webhooks';
import { DEFAULT_WEBHOOK_TARGET_POLICY, type WebhookTargetPolicy } from '../activities/webhook-targets';
import type { Logger } from '../logger';
import { ApiError, errorMiddleware } from './errors';
import { accessLog } from './access-log';
import { requireTenant } from './auth';
import { type ApiLimiters, apiLimiters, deadline, rateLimit } from './limits';
import { assertStorable, requestTarget } from './validate';
import { adminRoutes } from './routes/admin/admin';
import { CODEC_PATHS, type CodecRouteDeps, codecCors, codecRoutes } from './routes/codec/codec';
import { callbackRoutes } from './routes/callbacks/callbacks';
import { docsRoutes } from './routes/docs/docs';
import { institutionRoutes } from './routes/institutions/institutions';
import { keyRoutes } from './routes/keys/keys';
import { providerWebhookRoutes } from './routes/provider-webhooks/provider-webhooks';
import { connectionRoutes } from './routes/connections/connections';
import { webhookRoutes } from './routes/webhooks/webhooks';
import { connectSessionRoutes } from './routes/connect/sessions';
import { connectPageRoutes } from './routes/connect/page';
import { type ConnectionStarterDeps, connectionStarter } from './routes/connections/start';
import type { ConnectSessions } from '../store/connect-sessions';
import { createAuthorizationUrls, linkRoutes } from './routes/links/links';
import { createLinkMinter } from '../domain/links';
import { type OperationsDeps, httpMetrics, operationsRoutes } from './routes/operations/operations';

export interface AppDeps {
  client: Client;
  repository: Repository;
  tenants: TenantStore;
  /** Tenants' webhook endpoints (secrets sealed: the worker shares the sealing key). */
  webhookEndpoints: WebhookEndpointStore;
  /** Where webhook endpoints may point (default: public addresses only, the system resolver). */
  webhookTargets?: WebhookTargetPolicy;
  /** Redirect states claimed before they are signalled (single use). */
  redirectClaims: RedirectClaims;
  /** Provider connection ids → connections. */
  providerLinks: ProviderLinks;
  /** Provider webhook events claimed before they are signalled (applied once). */
  webhookClaims: WebhookClaims;
  /** Secrets providers hand over by webhook (LnkFi's API keys), sealed. */
  providerSecrets: ProviderSecrets;
  /** Each provider's webhook secret (OXLIN_WEBHOOK_SECRET, …): enables POST /webhooks/:provider. */
  providerWebhookSecrets?: Partial<Record<ProviderName, string>>;
  /** The providers this deployment has settings for (default: all); others are a 422 at POST /v1/connections. */
  providers?: readonly ProviderName[];
  /** The configured providers' institutions, cached (GET /v1/institutions; built in app/linkflow.ts). */
  institutions: InstitutionCatalogue;
  /** LINKFLOW_ADMIN_KEY: enables /v1/admin and the codec endpoint (/codec/decode, /codec/encode). */
  adminKey?: string;
  /** The payload codec the Web UI decodes history through (POST /codec/…), and the UI's origin; no /codec without it. */
  codec?: CodecRouteDeps;
  stateSigner: StateSigner;
  credentialsKey: { publicKeyArmored: string; fingerprint: string };
  /** Public base URL of this API, as browsers and providers reach it. */
  publicUrl: string;
  defaults: ConnectionStarterDeps['defaults'];
  logger: Logger;
  /** The workflows' task queue (tests run each suite on its own). */
  taskQueue?: string;
  /**
   * The rate limits (per tenant, per connection's link opens), built once per process from the
   * store so that every replica shares them (apiLimiters); default: in this process, 600 requests a minute.
   */
  limiters?: ApiLimiters;
  /** Longest a request may take before a 504 (default 30 s). */
  requestTimeoutMs?: number;
  /** Longest POST /v1/connections waits for the first next action before a 202 (ms, default 10 s; keep it well under requestTimeoutMs). */
  firstActionWaitMs?: number;
  /** Linkflow Connect's sessions and the tenants' Connect settings. */
  connectSessions: ConnectSessions;
  /** How long a Connect session's URL may be opened (default 1800 s). */
  connectTokenSeconds?: number;
  /** GET /metrics, /healthz, /readyz: the metrics key, readiness checks and connection counts (default: none of them). */
  operations?: Omit<OperationsDeps, 'logger'>;
}

const BODY_LIMIT = '100kb';

export function createApp(deps: AppDeps): Koa {
  const app = new Koa();
  app.proxy = true;
  // Koa would otherwise print every error; errorMiddleware logs what is worth logging.
  app.silent = true;

  // First: every request counted with the status the client got, errors included.
  app.use(httpMetrics());
  app.use(accessLog(deps.logger));
  app.use(errorMiddleware(deps.logger));
  app.use(deadline(deps.requestTimeoutMs ?? 30_000));
  // The Web UI calls the codec endpoint from its own origin: CORS headers on every answer, preflights answered.
  if (deps.codec) app.use(codecCors(deps.codec.uiOrigin));
  app.use(requestTarget());
  // Provider webhooks verify their raw body before anything else: no parsing, no content-type rule first.
  const providerWebhook = (ctx: Koa.Context) => ctx.path.startsWith('/webhooks/');
  // The Connect page's forms post as browsers do (application/x-www-form-urlencoded), and only that.
  const connectForm = (ctx: Koa.Context) => ctx.path.startsWith('/connect/');
  app.use(async (ctx, next) => {
    if (connectForm(ctx) && hasBody(ctx) && !ctx.is('application/x-www-form-urlencoded')) {
      throw new ApiError(415, 'unsupported_media_type', 'The Connect page takes form posts only.');
    }
    if (!providerWebhook(ctx) && !connectForm(ctx) && hasBody(ctx) && !ctx.is('application/json')) {
      throw new ApiError(415, 'unsupported_media_type', 'Send request bodies as application/json.');
    }
    await next();
  });
  // co-body reads chunked and Content-Length bodies alike (and drops a UTF-8 BOM); routes read
  // ctx.request.body only, never the framing headers.
  const parseJson = bodyParser({ enableTypes: ['json'], jsonLimit: BODY_LIMIT, encoding: 'utf-8' });
  const parseForm = bodyParser({ enableTypes: ['form'], formLimit: BODY_LIMIT, encoding: 'utf-8' });
  app.use(async (ctx, next) => {
    // The codec endpoint reads its larger bodies itself, once the operator is known (routes/codec).
    if (providerWebhook(ctx) || CODEC_PATHS.includes(ctx.path)) return next();
    await (connectForm(ctx) ? parseForm : parseJson)(ctx, async () => {
      assertStorable(ctx.request.body, 'body');
      await next();
    });
  });

  // One instance for every tenant route: one rate-limit budget per tenant.
  const limiters = deps.limiters ?? apiLimiters(null, { perMinute: 600 });
  const auth = tenantThenLimit(requireTenant(deps.tenants), rateLimit(limiters.requests));
  // Every redirect URL a view offers is a Linkflow link (domain/links.ts), opened at GET /connect/links/:link.
  const links = createLinkMinter({ signer: deps.stateSigner, publicUrl: deps.publicUrl });
  const starting = {
    client: deps.client,
    repository: deps.repository,
    callbackUrl: (provider: string) => new URL(`/callbacks/${provider}`, deps.publicUrl).toString(),
    defaults: deps.defaults,
    taskQueue: deps.taskQueue ?? TASK_QUEUE,
    providers: deps.providers ?? PROVIDERS,
    ...(deps.firstActionWaitMs === undefined ? {} : { firstActionWaitMs: deps.firstActionWaitMs }),
  };
  // One starter for both ways to start a connection: POST /v1/connections and Connect sessions.
  const starter = connectionStarter(starting);
  const connections = connectionRoutes({
    client: deps.client,
    repository: deps.repository,
    starter,
    credentialsPublicKey: deps.credentialsKey.publicKeyArmored,
    stateSigner: deps.stateSigner,
    links,
    auth,
  });
  const connectSessions = connectSessionRoutes({
    client: deps.client,
    sessions: deps.connectSessions,
    starter,
    publicUrl: deps.publicUrl,
    tokenSeconds: deps.connectTokenSeconds ?? 1_800,
    auth,
  });
  // One throttle per connection for both ways to the bank: a link, and the Connect page's button.
  const authorizationUrls = createAuthorizationUrls(deps.client, limiters.linkOpens);
  const connectPage = connectPageRoutes({
    client: deps.client,
    sessions: deps.connectSessions,
    starter,
    stateSigner: deps.stateSigner,
    credentialsPublicKey: deps.credentialsKey.publicKeyArmored,
    institutions: deps.institutions,
    logger: deps.logger,
    freshAuthorizationUrl: (connectionId) => authorizationUrls.fresh(connectionId),
    publicUrl: deps.publicUrl,
  });
  const institutions = institutionRoutes({ catalogue: deps.institutions, providers: deps.providers ?? PROVIDERS, auth });
  const webhooks = webhookRoutes({ endpoints: deps.webhookEndpoints, auth, targets: deps.webhookTargets ?? DEFAULT_WEBHOOK_TARGET_POLICY });
  const callbacks = callbackRoutes({
    client: deps.client,
    stateSigner: deps.stateSigner,
    redirectClaims: deps.redirectClaims,
    providerLinks: deps.providerLinks,
    connectSessions: deps.connectSessions,
  });
  const inbound = providerWebhookRoutes({
    client: deps.client,
    providerLinks: deps.providerLinks,
    webhookClaims: deps.webhookClaims,
    providerSecrets: deps.providerSecrets,
    secrets: deps.providerWebhookSecrets ?? {},
  });
  // Every router is built with `sensitive: true`: @koa/router matches a `router.use()` guard (the
  // admin key, the tenant key) case-sensitively but, by default, its routes case-insensitively, so
  // POST /V1/ADMIN/tenants ran the route without its guard. Paths are lower case and exact.
  const routers = [
    connections,
    connectSessions,
    connectPage,
    institutions,
    webhooks,
    callbacks,
    linkRoutes({ links, logger: deps.logger, authorizationUrls }),
    inbound,
    keyRoutes(deps.credentialsKey),
    adminRoutes(deps.tenants, deps.adminKey),
  ];
  if (deps.codec) routers.push(codecRoutes(deps.codec, deps.adminKey));
  // GET /openapi.json and GET /docs: public, no API key.
  routers.push(docsRoutes({ publicUrl: deps.publicUrl }));
  // GET /metrics, /healthz, /readyz: for operators and orchestrators, no tenant key.
  routers.push(operationsRoutes({ ...deps.operations, logger: deps.logger }));
  for (const router of routers) app.use(router.routes());
  // Reached only when no router answered. Every router adds what matched the path to ctx.matched, so
  // one check after them all sees every method the path has: a 405 with Allow (errorMiddleware writes
  // the body), OPTIONS answered with Allow; a path nothing matched stays a 404. Every method Node
  // parses counts as implemented, so TRACE or PROPFIND get the same 405, never a 501.
  app.use(new Router({ methods: METHODS, sensitive: true }).allowedMethods());
  return app;
}

/** Whether the request has a body, whichever way it is framed (Content-Length or chunked). */
const hasBody = (ctx: Koa.Context): boolean =>
  ctx.req.headers['transfer-encoding'] !== undefined || Number(ctx.req.headers['content-length'] ?? 0) > 0;

/** Authentication first (the limit is per tenant), then the rate limit. */
const tenantThenLimit =
  (auth: Koa.Middleware, limit: Koa.Middleware): Koa.Middleware =>
  (ctx, next) =>
    auth(ctx, () => limit(ctx, next));
