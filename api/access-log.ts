import type { Middleware } from 'koa';
import type { Logger } from '../logger';
import type { Tenant } from '../store';
import { loggablePath } from './errors';

/**
 * One access line per request, once it is answered: `request` with its `requestId` (the
 * `x-request-id` header errorMiddleware sets), method, the matched route's pattern (never the raw
 * path of a matched route: ids stay out of `route`, tokens out of the log), the path only when no
 * route matched (bearer tokens cut by loggablePath), status, `durationMs`, the tenant, and the
 * connection (`connectionId`) or Connect session (`connectSession`) the route acted on.
 */
export function accessLog(logger: Logger): Middleware {
  return async (ctx, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      const route = (ctx as unknown as { _matchedRoute?: unknown })._matchedRoute;
      const params = (ctx as unknown as { params?: Record<string, string> }).params ?? {};
      const onConnection = typeof route === 'string' && route.startsWith('/v1/connections/:id');
      logger.info('request', {
        requestId: ctx.response.get('x-request-id') || null,
        method: ctx.method,
        ...(typeof route === 'string' ? { route } : { path: loggablePath(ctx.path) }),
        status: ctx.status,
        durationMs: Math.round(performance.now() - started),
        tenant: (ctx.state.tenant as Tenant | undefined)?.id ?? null,
        ...(onConnection && params.id ? { connectionId: params.id } : {}),
        ...(typeof route === 'string' && route.startsWith('/connect/s/') && params.session ? { connectSession: params.session } : {}),
      });
    }
  };
}
