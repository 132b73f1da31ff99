import Router from '@koa/router';
import type { Client } from '@temporalio/client';
import getRawBody from 'raw-body';
import { ZodError } from 'zod';
import { webhookParsers, webhookVerifiers } from '../../../activities/providers';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { ProviderSecrets } from '../../../activities/providers';
import type { ProviderLinks } from '../../../activities/store';
import { type ProviderName, ProviderSchema, providerEventSignal, workflowIdFor } from '../../../workflows/messages';
import { ApiError, notFound, zodDetails } from '../../errors';

export interface ProviderWebhookDeps {
  client: Client;
  providerLinks: ProviderLinks;
  /** Where secrets a webhook carries (LnkFi's API key) are kept, sealed, before the event goes on without them. */
  providerSecrets: ProviderSecrets;
  /** Each provider's webhook secret; a provider without one has no webhook endpoint. */
  secrets: Partial<Record<ProviderName, string>>;
}

const LIMIT = '1mb';

/**
 * POST /webhooks/:provider. The raw body is verified with the provider's own scheme before
 * anything else: an unverifiable request is a 401 and changes nothing. A verified event is
 * de-duplicated by its id, then signalled to the connection it names.
 */
export function providerWebhookRoutes({ client, providerLinks, providerSecrets, secrets }: ProviderWebhookDeps): Router {
  const router = new Router({ prefix: '/webhooks' });

  router.post('/:provider', async (ctx) => {
    const provider = ProviderSchema.safeParse(ctx.params.provider);
    const secret = provider.success ? secrets[provider.data] : undefined;
    const verify = provider.success ? webhookVerifiers[provider.data] : undefined;
    const parse = provider.success ? webhookParsers[provider.data] : undefined;
    if (!provider.success || !secret || !verify || !parse) throw notFound('webhook endpoint');
    const raw = await getRawBody(ctx.req, { limit: LIMIT, length: ctx.get('content-length') || undefined });
    if (!verify(raw, ctx.headers, secret)) {
      throw new ApiError(401, 'invalid_signature', 'The webhook signature does not verify.');
    }

    let parsed;
    try {
      parsed = parse(JSON.parse(raw.toString('utf8')), ctx.headers, raw);
    } catch (err) {
      if (err instanceof ZodError) throw new ApiError(400, 'invalid_event', 'The event is malformed.', zodDetails(err));
      if (err instanceof SyntaxError) throw new ApiError(400, 'malformed_request', 'The request body is not valid JSON.');
      throw err;
    }
    const { providerConnectionId, event, secrets: handedOver = [] } = parsed;
    const eventId = event?.eventId;
    if (!event || !eventId) {
      ctx.body = { status: 'ignored' };
      return;
    }
    if (await providerLinks.seen(provider.data, eventId)) {
      ctx.body = { status: 'duplicate' };
      return;
    }
    // Providers that echo our id back (LnkFi's vendor_external_id) name the connection themselves.
    const connectionId = parsed.connectionId ?? (await providerLinks.connectionFor(provider.data, providerConnectionId));
    if (!connectionId) {
      ctx.body = { status: 'ignored' }; // not one of ours (or already forgotten): nothing to retry
      return;
    }
    // Secrets first: the workflow acts on the event by calling the provider with them.
    for (const { key, value } of handedOver) await providerSecrets.put(provider.data, key, value);
    // Signal, then remember: a crash in between means a redelivery, which the workflow drops by id.
    try {
      await client.workflow.getHandle(workflowIdFor(connectionId)).signal(providerEventSignal, event);
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
      ctx.body = { status: 'ignored' };
      return;
    }
    await providerLinks.markSeen(provider.data, eventId);
    ctx.body = { status: 'accepted' };
  });

  return router;
}
