import Router from '@koa/router';
import type { Client } from '@temporalio/client';
import getRawBody from 'raw-body';
import { ZodError } from 'zod';
import { webhookParsers, webhookVerifiers } from '../../../activities/providers';
import type { ProviderLinks } from '../../../activities/store';
import { type ProviderName, ProviderSchema, providerEventSignal, workflowIdFor } from '../../../workflows/messages';
import { ApiError, notFound, zodDetails } from '../../errors';

export interface ProviderWebhookDeps {
  client: Client;
  providerLinks: ProviderLinks;
  /** Each provider's webhook secret; a provider without one has no webhook endpoint. */
  secrets: Partial<Record<ProviderName, string>>;
}

const LIMIT = '1mb';

/**
 * POST /webhooks/:provider. The raw body is verified with the provider's own scheme before
 * anything else: an unverifiable request is a 401 and changes nothing. A verified event is
 * de-duplicated by its id, then signalled to the connection it names.
 */
export function providerWebhookRoutes({ client, providerLinks, secrets }: ProviderWebhookDeps): Router {
  const router = new Router({ prefix: '/webhooks' });

  router.post('/:provider', async (ctx) => {
    const provider = ProviderSchema.safeParse(ctx.params.provider);
    const secret = provider.success ? secrets[provider.data] : undefined;
    if (!provider.success || !secret) throw notFound('webhook endpoint');
    const raw = await getRawBody(ctx.req, { limit: LIMIT, length: ctx.get('content-length') || undefined });
    if (!webhookVerifiers[provider.data](raw, ctx.headers, secret)) {
      throw new ApiError(401, 'invalid_signature', 'The webhook signature does not verify.');
    }

    let parsed;
    try {
      parsed = webhookParsers[provider.data](JSON.parse(raw.toString('utf8')));
    } catch (err) {
      if (err instanceof ZodError) throw new ApiError(400, 'invalid_event', 'The event is malformed.', zodDetails(err));
      if (err instanceof SyntaxError) throw new ApiError(400, 'malformed_request', 'The request body is not valid JSON.');
      throw err;
    }
    const { providerConnectionId, event } = parsed;
    const eventId = event?.eventId;
    if (!event || !eventId) {
      ctx.body = { status: 'ignored' };
      return;
    }
    if (await providerLinks.seen(provider.data, eventId)) {
      ctx.body = { status: 'duplicate' };
      return;
    }
    const connectionId = await providerLinks.connectionFor(provider.data, providerConnectionId);
    if (!connectionId) {
      ctx.body = { status: 'ignored' }; // not one of ours (or already forgotten): nothing to retry
      return;
    }
    // Signal first, then remember: a crash in between means a redelivery, which the workflow drops by id.
    await client.workflow.getHandle(workflowIdFor(connectionId)).signal(providerEventSignal, event);
    await providerLinks.markSeen(provider.data, eventId);
    ctx.body = { status: 'accepted' };
  });

  return router;
}
