import Router from '@koa/router';
import type { Middleware } from 'koa';
import type { WebhookEndpoint, WebhookEndpointStore } from '../../../store/webhooks';
import { type WebhookTargetPolicy, checkWebhookTarget } from '../../../activities/webhook-targets';
import { tenantOf } from '../../auth';
import { ApiError, notFound } from '../../errors';
import { parseBody } from '../../validate';
import { respond } from '../../respond';
import { CreateWebhookEndpointSchema, CreatedWebhookEndpointSchema, WebhookEndpointIdSchema, WebhookEndpointListSchema, WebhookEndpointSchema } from './schema';

export interface WebhookRoutesDeps {
  endpoints: WebhookEndpointStore;
  /** Resolves the calling tenant (401 without a valid API key). */
  auth: Middleware;
  /** Which addresses an endpoint may resolve to; deliveries check again with the same rule. */
  targets: WebhookTargetPolicy;
}

/** Each endpoint receives every event of every connection: a bound keeps the fan-out sane. */
export const MAX_ENDPOINTS_PER_TENANT = 10;

const view = (e: WebhookEndpoint) => respond(WebhookEndpointSchema, { id: e.id, url: e.url, created_at: e.createdAt });
const endpointNotFound = () => notFound('webhook endpoint');

/** Where the tenant receives signed events about its connections. */
export function webhookRoutes({ endpoints, auth, targets }: WebhookRoutesDeps): Router {
  const router = new Router({ prefix: '/v1/webhook-endpoints', sensitive: true });
  router.use(auth);

  router.post('/', async (ctx) => {
    const { url } = parseBody(CreateWebhookEndpointSchema, ctx.request.body);
    const tenant = tenantOf(ctx);
    if ((await endpoints.countActive(tenant.id)) >= MAX_ENDPOINTS_PER_TENANT) {
      throw new ApiError(409, 'limit_reached', `A tenant may have at most ${MAX_ENDPOINTS_PER_TENANT} webhook endpoints; delete one first.`);
    }
    // Refused here for fast, clear feedback; the delivery checks again (DNS can change in between).
    const target = await checkWebhookTarget(url, targets);
    if (!target.ok) {
      throw new ApiError(422, target.reason === 'forbidden' ? 'webhook_url_forbidden' : 'webhook_url_unresolvable', target.message, [
        { path: 'url', message: target.message },
      ]);
    }
    const created = await endpoints.create(tenant.id, url);
    ctx.status = 201;
    // The secret is in this body and nowhere else, ever: no cache may keep it.
    ctx.set('cache-control', 'no-store');
    ctx.body = respond(CreatedWebhookEndpointSchema, { id: created.id, url: created.url, secret: created.secret, created_at: created.createdAt });
  });

  router.get('/', async (ctx) => {
    ctx.body = respond(WebhookEndpointListSchema, { data: (await endpoints.list(tenantOf(ctx).id)).map(view) });
  });

  router.delete('/:id', async (ctx) => {
    const id = WebhookEndpointIdSchema.safeParse(ctx.params.id);
    if (!id.success || !(await endpoints.disable(tenantOf(ctx).id, id.data))) throw endpointNotFound();
    ctx.status = 204;
  });

  return router;
}
