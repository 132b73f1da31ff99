import { bodyParser } from '@koa/bodyparser';
import type { Client } from '@temporalio/client';
import Koa from 'koa';
import { TASK_QUEUE } from '../workflows/messages';
import type { StateSigner } from '../activities/redirect-state';
import type { Repository, TenantStore } from '../activities/store';
import type { Logger } from '../logger';
import { ApiError, errorMiddleware } from './errors';
import { requireTenant } from './auth';
import { deadline, rateLimit } from './limits';
import { adminRoutes } from './routes/admin/admin';
import { callbackRoutes } from './routes/callbacks/callbacks';
import { keyRoutes } from './routes/keys/keys';
import { type ConnectionRoutesDeps, connectionRoutes } from './routes/connections/connections';

export interface AppDeps {
  client: Client;
  repository: Repository;
  tenants: TenantStore;
  /** LINKFLOW_ADMIN_KEY: enables /v1/admin. */
  adminKey?: string;
  stateSigner: StateSigner;
  credentialsKey: { publicKeyArmored: string; fingerprint: string };
  /** Public base URL of this API, as browsers and providers reach it. */
  publicUrl: string;
  defaults: ConnectionRoutesDeps['defaults'];
  logger: Logger;
  /** The workflows' task queue (tests run each suite on its own). */
  taskQueue?: string;
  /** Per-tenant requests a minute (default 600). */
  rateLimitPerMinute?: number;
  /** Longest a request may take before a 504 (default 30 s). */
  requestTimeoutMs?: number;
}

const BODY_LIMIT = '100kb';

export function createApp(deps: AppDeps): Koa {
  const app = new Koa();
  app.proxy = true;
  // Koa would otherwise print every error; errorMiddleware logs what is worth logging.
  app.silent = true;

  app.use(errorMiddleware(deps.logger));
  app.use(deadline(deps.requestTimeoutMs ?? 30_000));
  app.use(async (ctx, next) => {
    if (ctx.request.length && !ctx.is('application/json')) {
      throw new ApiError(415, 'unsupported_media_type', 'Send request bodies as application/json.');
    }
    await next();
  });
  app.use(bodyParser({ enableTypes: ['json'], jsonLimit: BODY_LIMIT, encoding: 'utf-8' }));

  const connections = connectionRoutes({
    client: deps.client,
    repository: deps.repository,
    callbackUrl: (provider) => new URL(`/callbacks/${provider}`, deps.publicUrl).toString(),
    defaults: deps.defaults,
    taskQueue: deps.taskQueue ?? TASK_QUEUE,
    credentialsPublicKey: deps.credentialsKey.publicKeyArmored,
    stateSigner: deps.stateSigner,
    auth: tenantThenLimit(requireTenant(deps.tenants), rateLimit(deps.rateLimitPerMinute ?? 600)),
  });
  const callbacks = callbackRoutes({ client: deps.client, stateSigner: deps.stateSigner });
  const routers = [connections, callbacks, keyRoutes(deps.credentialsKey), adminRoutes(deps.tenants, deps.adminKey)];
  for (const router of routers) app.use(router.routes()).use(router.allowedMethods({ throw: true }));
  return app;
}

/** Authentication first (the limit is per tenant), then the rate limit. */
const tenantThenLimit =
  (auth: Koa.Middleware, limit: Koa.Middleware): Koa.Middleware =>
  (ctx, next) =>
    auth(ctx, () => limit(ctx, next));
