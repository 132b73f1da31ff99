import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, Middleware } from 'koa';
import type { Tenant, TenantStore } from '../store';
import { ApiError } from './errors';

const bearer = (ctx: Context): string | null => /^Bearer\s+(\S+)$/i.exec(ctx.get('authorization'))?.[1] ?? null;

const unauthorized = (ctx: Context, message: string): ApiError => {
  ctx.set('www-authenticate', 'Bearer');
  return new ApiError(401, 'unauthorized', message);
};

/** Every /v1 call carries a tenant's API key; the tenant is then `tenantOf(ctx)`. */
export function requireTenant(tenants: TenantStore): Middleware {
  return async (ctx, next) => {
    const key = bearer(ctx);
    if (!key) throw unauthorized(ctx, 'Send your API key as "Authorization: Bearer <key>".');
    const tenant = await tenants.tenantForKey(key);
    if (!tenant) throw unauthorized(ctx, 'The API key is not valid.');
    ctx.state.tenant = tenant;
    await next();
  };
}

export const tenantOf = (ctx: Context): Tenant => ctx.state.tenant as Tenant;

/** Admin routes: the operator's key from LINKFLOW_ADMIN_KEY; without one configured they do not exist. */
export function requireAdmin(adminKey: string | undefined): Middleware {
  const expected = adminKey ? createHash('sha256').update(adminKey).digest() : null;
  return async (ctx, next) => {
    if (!expected) throw new ApiError(404, 'not_found', 'route not found');
    const key = bearer(ctx);
    // Hash both sides: equal lengths for timingSafeEqual whatever was sent.
    if (!key || !timingSafeEqual(createHash('sha256').update(key).digest(), expected)) {
      throw unauthorized(ctx, 'Admin routes need the admin key as "Authorization: Bearer <key>".');
    }
    await next();
  };
}
