import { setTimeout as sleep } from 'node:timers/promises';
import Router from '@koa/router';
import type { Client } from '@temporalio/client';
import getRawBody from 'raw-body';
import { ZodError } from 'zod';
import { webhookParsers, webhookVerifiers } from '../../../providers';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { ProviderSecrets } from '../../../providers';
import type { Claim, ProviderLinks, WebhookClaims } from '../../../store';
import { type ProviderName, ProviderSchema, providerEventSignal, workflowIdFor } from '../../../contract/messages';
import { ApiError, notFound, zodDetails } from '../../errors';
import { ConnectionIdSchema, SIGNAL_DEADLINE_MS, readConnection } from '../../temporal';
import { assertStorable } from '../../validate';
import { respond } from '../../respond';
import { ProviderWebhookAckSchema } from './schema';

export interface ProviderWebhookDeps {
  client: Client;
  providerLinks: ProviderLinks;
  /** Events claimed before they are signalled: one signal however many deliveries arrive together. */
  webhookClaims: WebhookClaims;
  /** Where secrets a webhook carries (LnkFi's API key) are kept, sealed, before the event goes on without them. */
  providerSecrets: ProviderSecrets;
  /** Each provider's webhook secret; a provider without one has no webhook endpoint. */
  secrets: Partial<Record<ProviderName, string>>;
}

const LIMIT = '1mb';
/** How long a delivery waits for another one's claim on the same event to be signalled or released. */
const PENDING_WAIT_MS = 2_000;
const PENDING_POLL_MS = 25;

/**
 * POST /webhooks/:provider. The raw body is verified with the provider's own scheme before
 * anything else: an unverifiable request is a 401 and changes nothing. A verified event is
 * claimed by its id (one the signature covers, namespaced by provider), and only the claimant
 * signals the connection it names and answers `accepted`; every other delivery of it is a
 * `duplicate`. Why claims are released or taken over: store/claims.ts.
 */
export function providerWebhookRoutes({ client, providerLinks, webhookClaims, providerSecrets, secrets }: ProviderWebhookDeps): Router {
  const router = new Router({ prefix: '/webhooks', sensitive: true });
  const echoedIsBound = (provider: ProviderName, providerConnectionId: string, connectionId: string) =>
    isBound(client, providerLinks, provider, providerConnectionId, connectionId);

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
      // The signature covered the bytes as sent; the JSON is read without a UTF-8 BOM, as on every route.
      const json: unknown = JSON.parse(raw.toString('utf8').replace(/^\uFEFF/, ''));
      assertStorable(json, 'body');
      parsed = parse(json, ctx.headers, raw);
    } catch (err) {
      if (err instanceof ZodError) throw new ApiError(400, 'invalid_event', 'The event is malformed.', zodDetails(err));
      if (err instanceof SyntaxError) throw new ApiError(400, 'malformed_request', 'The request body is not valid JSON.');
      throw err;
    }
    const { providerConnectionId, event, secrets: handedOver = [] } = parsed;
    const eventId = event?.eventId;
    if (!event || !eventId) {
      ctx.body = respond(ProviderWebhookAckSchema, { status: 'ignored' });
      return;
    }
    // Providers that echo our id back (LnkFi's vendor_external_id) name the connection themselves.
    const connectionId = parsed.connectionId ?? (await providerLinks.connectionFor(provider.data, providerConnectionId));
    // Not one of ours (or already forgotten), or an echoed id this event cannot act on: nothing to retry, nothing claimed.
    if (!connectionId || (parsed.connectionId !== undefined && !(await echoedIsBound(provider.data, providerConnectionId, connectionId)))) {
      ctx.body = respond(ProviderWebhookAckSchema, { status: 'ignored' });
      return;
    }

    const claim = await claimOrWait(webhookClaims, provider.data, eventId);
    if (claim.outcome === 'signalled') {
      ctx.body = respond(ProviderWebhookAckSchema, { status: 'duplicate' });
      return;
    }
    if (claim.outcome === 'pending') {
      // Its claimant is still signalling (or died doing so): a 2xx now could lose the event.
      ctx.set('retry-after', '1');
      throw new ApiError(503, 'event_in_progress', 'Another delivery of this event is being applied; try again shortly.');
    }
    try {
      // Secrets first: the workflow acts on the event by calling the provider with them.
      for (const { key, value } of handedOver) await providerSecrets.put(provider.data, key, value);
      // The workflow's own de-duplication (it drops ids it has seen) gets the provider in the id too.
      const namespaced = { ...event, eventId: `${provider.data}:${eventId}` };
      const handle = client.workflow.getHandle(workflowIdFor(connectionId));
      await client.withDeadline(Date.now() + SIGNAL_DEADLINE_MS, () => handle.signal(providerEventSignal, namespaced));
    } catch (err) {
      // Not signalled (as far as we know): free the event for the provider's redelivery. If the release
      // fails too, the lease frees it.
      await webhookClaims.release(provider.data, eventId, claim.token).catch(() => undefined);
      if (!(err instanceof WorkflowNotFoundError)) throw err;
      ctx.body = respond(ProviderWebhookAckSchema, { status: 'ignored' });
      return;
    }
    await webhookClaims.markSignalled(provider.data, eventId);
    ctx.body = respond(ProviderWebhookAckSchema, { status: 'accepted' });
  });

  return router;
}

/**
 * Whether an event that names our connection itself (LnkFi echoes the vendor_external_id we gave
 * it) may act on it: the connection is one of this provider's, and the provider connection is
 * linked to it or to nobody, and is the one it holds if it holds one. The workflow checks again
 * (DESIGN.md, trust rule "Nothing from a browser chooses data").
 */
async function isBound(
  client: Client,
  providerLinks: ProviderLinks,
  provider: ProviderName,
  providerConnectionId: string,
  connectionId: string,
): Promise<boolean> {
  const id = ConnectionIdSchema.safeParse(connectionId);
  if (!id.success) return false;
  const [owner, held] = await Promise.all([
    providerLinks.connectionFor(provider, providerConnectionId),
    providerLinks.providerConnectionsOf(provider, connectionId),
  ]);
  if (owner !== null && owner !== connectionId) return false;
  if (owner === null && held.length > 0) return false;
  try {
    const view = await readConnection(client.workflow.getHandle(workflowIdFor(id.data)));
    return view.provider === provider;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

/** Claims the event; while another delivery's fresh claim is unsignalled, waits a little for its outcome. */
async function claimOrWait(claims: WebhookClaims, provider: ProviderName, eventId: string): Promise<Claim> {
  const giveUpAt = Date.now() + PENDING_WAIT_MS;
  for (;;) {
    const claim = await claims.claim(provider, eventId);
    if (claim.outcome !== 'pending' || Date.now() >= giveUpAt) return claim;
    await sleep(PENDING_POLL_MS);
  }
}
