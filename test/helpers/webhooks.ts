// Stand-ins for the webhook activities in connection workflow tests: every emitted event is
// checked against its schema and recorded; nothing is sent anywhere.
import type { WebhookActivities } from '../../activities';
import { type WebhookEvent, WebhookEventSchema } from '../../contract/messages';

export function recordingWebhookActivities(): { activities: WebhookActivities; emitted: WebhookEvent[] } {
  const emitted: WebhookEvent[] = [];
  const activities: WebhookActivities = {
    emitWebhookEvent: async (event) => {
      const parsed = WebhookEventSchema.parse(event);
      // A retried emit carries the same id: record it once, as the delivery workflow would.
      if (!emitted.some((e) => e.id === parsed.id)) emitted.push(parsed);
      return { endpoints: 1 };
    },
    deliverWebhook: async () => ({ outcome: 'delivered', status: 200 }),
  };
  return { activities, emitted };
}
