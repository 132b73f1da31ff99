import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ProviderEvent } from '../../contract/messages';
import { EventSchema } from './schemas';

/**
 * Oxlin's webhook signature, as the sandbox documents it (the reference names webhooks but not
 * their scheme): `x-oxlin-signature: sha256=<hex HMAC-SHA256(secret, raw body)>`.
 */
export function verifyOxlinWebhook(rawBody: Buffer, headers: Record<string, string | string[] | undefined>, secret: string): boolean {
  const header = headers['x-oxlin-signature'];
  const match = typeof header === 'string' ? /^sha256=([0-9a-f]{64})$/.exec(header) : null;
  if (!match) return false;
  const given = Buffer.from(match[1] as string, 'hex');
  const expected = createHmac('sha256', secret).update(rawBody).digest();
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const FAILURE_STATUSES = new Set(['AUTH_FAILED', 'PASSWORD_CHANGE_REQUIRED', 'TOO_MANY_ATTEMPTS', 'USER_ACTION_REQUIRED']);

/**
 * What an Oxlin event means for the connection: new data, a channel in trouble, or nothing to act on.
 * The event's own `id` names it: it is in the body, which x-oxlin-signature covers whole (no
 * header, timestamp or otherwise, is part of the signature, and none is read here).
 */
export function parseOxlinWebhook(json: unknown): { providerConnectionId: string; event: ProviderEvent | null } {
  const event = EventSchema.parse(json);
  const failed = event.resource.channels.find((c) => FAILURE_STATUSES.has(c.status));
  const base = {
    eventId: event.id,
    channelId: event.channel_definition_id ?? null,
    ...(event.creation_date === undefined ? {} : { occurredAt: new Date(event.creation_date * 1000).toISOString() }),
  };
  if (event.event_type === 'SYNC_ALL_SUCCESS') return { providerConnectionId: event.resource.id, event: { ...base, kind: 'data_available' } };
  if (event.event_type.endsWith('_FAILED') && failed) {
    return { providerConnectionId: event.resource.id, event: { ...base, kind: 'failure', status: failed.status } };
  }
  return { providerConnectionId: event.resource.id, event: null };
}
