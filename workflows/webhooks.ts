import { ActivityFailure, allHandlersFinished, condition, continueAsNew, log, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { WebhookActivities } from '../activities/webhooks';
import type { WebhookDelivery } from '../contract/messages';
import { checkWebhookDelivery } from '../contract/checks';
import { type WebhookDeliveryInput, webhookEventSignal } from '../contract/definitions';

export type { WebhookDeliveryInput } from '../contract/definitions';

// Activities

/**
 * One signed POST per attempt, retried with backoff for up to three days, so a client that is
 * down for hours still gets every event. Answers that retrying cannot change (4xx other than
 * 408/429) are non-retryable failures raised by the activity itself.
 */
const DELIVERY = {
  startToCloseTimeout: '15 seconds',
  scheduleToCloseTimeout: '3 days',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 minutes' },
} as const;

const { deliverWebhook } = proxyActivities<WebhookActivities>(DELIVERY);

/** A run continues as new after this many events, carrying its queue, so history stays short. */
export const WEBHOOK_EVENTS_PER_RUN = 100;
/** Event ids remembered after delivery, to drop a late duplicate emit. */
const REMEMBERED_EVENT_IDS = 500;
/** With nothing to send for this long the workflow ends; the next emit starts a new one. */
const IDLE_TIMEOUT = '7 days';

/**
 * The webhook queue of one connection (id `webhooks-<connectionId>`): events arrive by signal
 * (signalWithStart from the `emitWebhookEvent` activity) and go out one at a time, in order,
 * each to every endpoint the tenant had when it was emitted. The next event waits until the
 * current one is delivered or given up everywhere.
 */
export async function webhookDeliveryWorkflow(input: WebhookDeliveryInput): Promise<void> {
  const queue: WebhookDelivery[] = [...(input.queue ?? [])];
  const deliveredIds: string[] = [...(input.deliveredIds ?? [])];

  // Message handlers

  setHandler(webhookEventSignal, (delivery) => {
    const parsed = checkWebhookDelivery(delivery);
    if (!parsed.success) {
      log.warn('malformed webhook event dropped', { issues: [parsed.error] });
      return;
    }
    const { id } = parsed.data.event;
    // A retried emit signals the same event again: the first one stands.
    if (deliveredIds.includes(id) || queue.some((d) => d.event.id === id)) return;
    queue.push(parsed.data);
  });

  // Main logic

  let handled = 0;
  for (;;) {
    await condition(() => queue.length > 0, IDLE_TIMEOUT, { summary: 'Idle: no webhook event to deliver' });
    if (queue.length === 0) return;

    if (handled >= WEBHOOK_EVENTS_PER_RUN || workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof webhookDeliveryWorkflow>({ connectionId: input.connectionId, queue, deliveredIds });
    }

    const next = queue[0] as WebhookDelivery;
    await deliverEverywhere(next);
    queue.shift();
    deliveredIds.push(next.event.id);
    if (deliveredIds.length > REMEMBERED_EVENT_IDS) deliveredIds.splice(0, deliveredIds.length - REMEMBERED_EVENT_IDS);
    handled += 1;
  }
}

async function deliverEverywhere({ event, endpoint_ids }: WebhookDelivery): Promise<void> {
  await Promise.all(
    endpoint_ids.map(async (endpointId) => {
      try {
        await deliverWebhook({ endpointId, event });
      } catch (err) {
        // Rejected by the receiver, or still failing after three days: give up on this one so the
        // events behind it flow again. Anything else is a bug and fails the workflow task.
        if (!(err instanceof ActivityFailure)) throw err;
        log.warn('webhook event given up for an endpoint', { endpointId, eventId: event.id, cause: err.cause?.message });
      }
    }),
  );
}
