// Stand-ins for the webhook activities in connection workflow tests: every emitted event is
// checked against its schema and recorded; nothing is sent anywhere.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WebhookActivities } from '../../activities';
import { type WebhookEvent, WebhookEventSchema } from '../../contract/messages';

export function recordingWebhookActivities(): { activities: WebhookActivities; emitted: WebhookEvent[] } {
  const emitted: WebhookEvent[] = [];
  const emit = (event: WebhookEvent): void => {
    const parsed = WebhookEventSchema.parse(event);
    // A retried emit carries the same id: record it once, as the delivery workflow would.
    if (!emitted.some((e) => e.id === parsed.id)) emitted.push(parsed);
  };
  const activities: WebhookActivities = {
    emitWebhookEvent: async (event) => {
      emit(event);
      return { endpoints: 1 };
    },
    emitWebhookEvents: async (events) => {
      events.forEach(emit);
      return { endpoints: 1 };
    },
    deliverWebhook: async () => ({ outcome: 'delivered', status: 200 }),
  };
  return { activities, emitted };
}

/**
 * A client's webhook endpoint on loopback (a real HTTP server): every delivery's body and
 * `linkflow-signature`, answered 204. `url` is its `/hooks`.
 */
export async function startWebhookReceiver(): Promise<{ url: string; received: { body: string; signature: string }[]; close(): void }> {
  const received: { body: string; signature: string }[] = [];
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ body: Buffer.concat(chunks).toString('utf8'), signature: String(req.headers['linkflow-signature']) });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`, received, close: () => receiver.close() };
}
