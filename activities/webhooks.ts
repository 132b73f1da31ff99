import { createHmac } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Context, log } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import {
  type WebhookDelivery,
  type WebhookDeliveryWorkflow,
  type WebhookEvent,
  type WebhookEventBody,
  WebhookEventSchema,
  webhookEventSignal,
  webhooksWorkflowIdFor,
} from '../contract/messages';
import type { WebhookEndpointStore } from '../store/webhooks';
import type { LinkMinter } from '../domain/links';
import { countWebhookDelivery } from '../metrics';
import { DEFAULT_WEBHOOK_TARGET_POLICY, type ResolvedAddress, type WebhookTargetPolicy, checkWebhookTarget, pinnedLookup } from './webhook-targets';

export interface WebhookDeps {
  /** Starts and signals the delivery workflows; without it events are dropped with a warning. */
  client?: Client;
  webhookEndpoints?: WebhookEndpointStore;
  /** Where deliveries may go (default: public addresses only, the system resolver), checked on every attempt. */
  webhookTargets?: WebhookTargetPolicy;
  /**
   * Turns each event's `next_action.url` of a redirect into a Linkflow link as it is sent (the
   * composition root always gives it, from PUBLIC_URL and the state secret); without it (tests of
   * the delivery alone) events carry the workflow's URLs as they are.
   */
  links?: LinkMinter;
}

export const WEBHOOK_USER_AGENT = 'Linkflow-Webhooks/1';
/** One attempt; the activity's startToCloseTimeout is a little longer. */
export const WEBHOOK_ATTEMPT_TIMEOUT_MS = 10_000;

/** Failure types, as the delivery workflow sees them. */
export const WebhookFailure = {
  /** 5xx, 408, 429, timeout, refused: retried with backoff. */
  Unavailable: 'WebhookReceiverUnavailable',
  /** The receiver answered 3xx or 4xx: retrying would not change its answer. */
  Rejected: 'WebhookRejected',
  /** The endpoint's host is, or now resolves to, an address webhooks may not go to: not retried. */
  Forbidden: 'WebhookTargetForbidden',
  InvalidEvent: 'InvalidWebhookEvent',
  NotConfigured: 'WebhooksNotConfigured',
} as const;

export type WebhookDeliveryResult = { outcome: 'delivered'; status: number } | { outcome: 'endpoint_gone' };

/** The exact bytes sent: what the signature covers. */
export function webhookBody({ id, type, created_at, connection_id, data }: WebhookEvent): string {
  return JSON.stringify({ id, type, created_at, connection_id, data } as WebhookEventBody);
}

/** `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`; the key is the whole `whsec_…` string. */
export function webhookSignature(secret: string, timestamp: number, body: string): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
  return `t=${timestamp},v1=${mac}`;
}

const RETRYABLE_4XX = new Set([408, 429]);

export function createWebhookActivities({ client, webhookEndpoints, webhookTargets = DEFAULT_WEBHOOK_TARGET_POLICY, links }: WebhookDeps) {
  /**
   * Queues a connection's events, in order, for its delivery workflow (signalWithStart, one signal
   * an event): one look at the tenant's endpoints for the whole batch, and nothing at all (no
   * workflow, no signal) when the tenant has none. Every event must be valid and of one
   * connection (else a non-retryable InvalidWebhookEvent). Safe to retry: the delivery workflow
   * drops an event id it already has. Returns how many endpoints will receive them.
   * The connection workflow calls it once for the events of one workflow task.
   */
  async function emitWebhookEvents(events: WebhookEvent[]): Promise<{ endpoints: number }> {
    // An invalid event is refused on its own, as when each event had its own call: the valid ones
    // of its batch still go out (before the refusal is thrown), so one bad event leaves no other gap.
    const invalid: string[] = [];
    const parsed = events.flatMap((event) => {
      const result = WebhookEventSchema.safeParse(event);
      if (result.success) return [result.data];
      invalid.push(`webhook event is not valid: ${result.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`);
      return [];
    });
    const refuseInvalid = (): void => {
      if (invalid.length > 0) throw ApplicationFailure.create({ type: WebhookFailure.InvalidEvent, nonRetryable: true, message: invalid.join('\n') });
    };
    const first = parsed[0];
    if (first === undefined) {
      refuseInvalid();
      return { endpoints: 0 };
    }
    if (parsed.some((e) => e.tenant_id !== first.tenant_id || e.connection_id !== first.connection_id)) {
      throw ApplicationFailure.create({ type: WebhookFailure.InvalidEvent, nonRetryable: true, message: 'webhook events of one batch must be of one connection' });
    }
    const { tenant_id: tenantId, connection_id: connectionId } = first;
    const endpoints = await queueEvents(tenantId, connectionId, parsed);
    refuseInvalid();
    return { endpoints };
  }

  /** Signals `parsed` (valid events of one connection), in order, to its delivery workflow; answers how many endpoints receive them. */
  async function queueEvents(tenantId: string | null, connectionId: string, parsed: WebhookEvent[]): Promise<number> {
    if (tenantId === null) return 0;
    if (!client || !webhookEndpoints) {
      log.warn('webhooks are not configured on this worker: events dropped', { eventIds: parsed.map((e) => e.id) });
      return 0;
    }
    // The endpoints at emit time receive the events; none, and no workflow is started at all.
    const endpointIds = (await webhookEndpoints.list(tenantId)).map((e) => e.id);
    if (endpointIds.length === 0) return 0;
    for (const event of parsed) {
      await client.workflow.signalWithStart<WebhookDeliveryWorkflow, [WebhookDelivery]>('webhookDeliveryWorkflow', {
        workflowId: webhooksWorkflowIdFor(connectionId),
        // The worker running this activity runs the delivery workflow too.
        taskQueue: Context.current().info.taskQueue,
        args: [{ connectionId }],
        signal: webhookEventSignal,
        signalArgs: [{ event, endpoint_ids: endpointIds }],
      });
    }
    return endpointIds.length;
  }

  return {
    /**
     * Queues an event for the connection's delivery workflow (started if need be). Safe to retry:
     * the workflow drops an event id it already has. Returns how many endpoints will receive it.
     * Runs of connections recorded before `batched-webhook-events` call it; newer runs call
     * emitWebhookEvents.
     */
    async emitWebhookEvent(event: WebhookEvent): Promise<{ endpoints: number }> {
      return emitWebhookEvents([event]);
    },

    emitWebhookEvents,

    /** One signed POST of one event to one endpoint; failures are left to the activity's retry policy. */
    async deliverWebhook({ endpointId, event }: { endpointId: string; event: WebhookEvent }): Promise<WebhookDeliveryResult> {
      if (!webhookEndpoints) {
        throw ApplicationFailure.create({ type: WebhookFailure.NotConfigured, message: 'webhooks are not configured on this worker' });
      }
      const endpoint = await webhookEndpoints.forDelivery(endpointId);
      if (!endpoint || endpoint.disabled) {
        countWebhookDelivery('endpoint_gone');
        return { outcome: 'endpoint_gone' };
      }
      if (endpoint.tenantId !== event.tenant_id) {
        // Never one tenant's events to another's endpoint, whatever the caller passed.
        countWebhookDelivery('rejected');
        throw ApplicationFailure.create({
          type: WebhookFailure.Rejected,
          nonRetryable: true,
          message: `endpoint ${endpointId} does not belong to the event's tenant`,
        });
      }

      // The workflow's event keeps the provider URL; the client gets a Linkflow link (the same one on every attempt).
      const body = webhookBody(links ? links.linkedEvent(event) : event);
      const timestamp = Math.floor(Date.now() / 1000);
      const where = { endpointId, eventId: event.id };
      // Checked on every attempt: the name may resolve elsewhere than at registration (DNS rebinding),
      // and the request then connects only to the addresses judged here.
      const target = await checkWebhookTarget(endpoint.url, webhookTargets);
      if (!target.ok && target.reason === 'unresolvable') throw unavailable(where, 'unresolvable');
      if (!target.ok) {
        countWebhookDelivery('forbidden');
        log.warn('webhook endpoint refused: its address is not allowed', { ...where, reason: target.message });
        throw ApplicationFailure.create({ type: WebhookFailure.Forbidden, nonRetryable: true, message: `endpoint ${endpointId}: ${target.message}` });
      }
      let status: number;
      try {
        status = await post(target.url, target.addresses, {
          'content-type': 'application/json',
          'user-agent': WEBHOOK_USER_AGENT,
          'linkflow-event-id': event.id,
          'linkflow-signature': webhookSignature(endpoint.secret, timestamp, body),
        }, body);
      } catch (err) {
        throw unavailable(where, `unreachable: ${reason(err)}`);
      }

      if (status >= 200 && status < 300) {
        countWebhookDelivery('delivered');
        return { outcome: 'delivered', status };
      }
      if (status >= 500 || RETRYABLE_4XX.has(status)) throw unavailable(where, `answered ${status}`, status);
      countWebhookDelivery('rejected');
      log.warn('webhook rejected by the receiver: not retried', { ...where, status });
      throw ApplicationFailure.create({
        type: WebhookFailure.Rejected,
        nonRetryable: true,
        message: `endpoint ${endpointId} answered ${status}`,
        details: [{ status }],
      });
    },
  };
}

/**
 * A receiver that is down is expected, not an error of ours: the failure is BENIGN (the SDK logs it
 * at debug level), and we log the first attempt and then about one an hour at the 5-minute ceiling.
 */
function unavailable(where: { endpointId: string; eventId: string }, what: string, status?: number): ApplicationFailure {
  countWebhookDelivery('unavailable');
  const { attempt } = Context.current().info;
  if (attempt === 1 || attempt % 12 === 0) log.warn(`webhook receiver ${what}: retrying`, { ...where, attempt });
  return ApplicationFailure.create({
    type: WebhookFailure.Unavailable,
    message: `endpoint ${where.endpointId} ${what}`,
    category: ApplicationFailureCategory.BENIGN,
    ...(status === undefined ? {} : { details: [{ status }] }),
  });
}

/**
 * One POST to `url`, connecting only to `addresses` (checked), and the answer's status. Node's http
 * client follows no redirect: a 3xx is returned like any status. The receiver's body is not read.
 */
function post(url: URL, addresses: ResolvedAddress[], headers: Record<string, string>, body: string): Promise<number> {
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const signal = AbortSignal.any([AbortSignal.timeout(WEBHOOK_ATTEMPT_TIMEOUT_MS), Context.current().cancellationSignal]);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        lookup: pinnedLookup(addresses),
        // A connection of its own: no kept-alive socket chosen by host name alone.
        agent: false,
        signal,
      },
      (res) => {
        resolve(res.statusCode ?? 0);
        // The receiver's body is not ours to read; free the connection.
        res.destroy();
      },
    );
    req.once('error', reject);
    req.end(body);
  });
}

/** Why the request failed, without the URL (it may carry the client's own tokens). */
function reason(err: unknown): string {
  const cause = err instanceof Error ? (err.cause as { name?: string; code?: string; message?: string } | undefined) : undefined;
  if (err instanceof Error && (err.name === 'TimeoutError' || cause?.name === 'TimeoutError')) return `no answer within ${WEBHOOK_ATTEMPT_TIMEOUT_MS} ms`;
  if (err instanceof Error && err.name === 'AbortError') return 'attempt cancelled';
  const code = (err as { code?: string }).code;
  return code ?? cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
}

export type WebhookActivities = ReturnType<typeof createWebhookActivities>;
