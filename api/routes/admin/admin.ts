import Router from '@koa/router';
import type { TenantStore } from '../../../store';
import { requireAdmin } from '../../auth';
import { notFound } from '../../errors';
import { parseBody } from '../../validate';
import { respond } from '../../respond';
import { CreateTenantSchema, CreatedTenantSchema, IssuedKeySchema } from './schema';

/** Tenants and their API keys, for the operator (also: `npm run tenant:create -- <name>`). */
export function adminRoutes(tenants: TenantStore, adminKey: string | undefined): Router {
  const router = new Router({ prefix: '/v1/admin', sensitive: true });
  router.use(requireAdmin(adminKey));

  router.post('/tenants', async (ctx) => {
    const { name } = parseBody(CreateTenantSchema, ctx.request.body);
    const tenant = await tenants.createTenant(name);
    const key = await tenants.issueKey(tenant.id);
    ctx.status = 201;
    ctx.body = respond(CreatedTenantSchema, { tenant, api_key: key });
  });

  router.post('/tenants/:id/api-keys', async (ctx) => {
    const tenant = await tenants.getTenant(ctx.params.id ?? '');
    if (!tenant) throw notFound('tenant');
    ctx.status = 201;
    ctx.body = respond(IssuedKeySchema, await tenants.issueKey(tenant.id));
  });

  return router;
}
