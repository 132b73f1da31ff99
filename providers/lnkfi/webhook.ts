import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { Headers, ParsedWebhook } from '../types';
import { ConnectionCompletedSchema, WebhookBaseSchema, WebhookHeadersSchema } from './schemas';

/** Where a connection's API key is kept in ProviderSecrets (sealed): the webhook puts it, the adapter reads it. */
export const apiKeySecretName = (providerConnectionId: string): string => `connection:${providerConnectionId}:api_key`;

const header = (headers: Headers, name: string): string | undefined => {
  const value = Object.entries(headers).find(([key]) => key.toLowerCase() === name)?.[1];
  return typeof value === 'string' ? value : undefined;
};

/** X-LnkFi-Webhook-Signature: hex HMAC-SHA256 of the raw body with the vendor's webhook secret. */
export function verifyLnkfiWebhook(rawBody: Buffer, headers: Headers, secret: string): boolean {
  const signature = header(headers, 'x-lnkfi-webhook-signature');
  if (signature === undefined || !/^[0-9a-f]{64}$/i.test(signature)) return false;
  const given = Buffer.from(signature, 'hex');
  const expected = createHmac('sha256', secret).update(rawBody).digest();
  return given.length === expected.length && timingSafeEqual(given, expected);
}

// The vendor named in the (signed) body must be the one the headers name.
const EnvelopeSchema = z
  .object({ headers: WebhookHeadersSchema, body: WebhookBaseSchema })
  .refine((w) => w.body.vendor_id === w.headers['x-lnkfi-webhook-vendor-id'], {
    path: ['body', 'vendor_id'],
    message: 'differs from X-LnkFi-Webhook-Vendor-Id',
  });

/**
 * A LnkFi event's id: the SHA-256 of the raw body, the only thing X-LnkFi-Webhook-Signature covers.
 * X-LnkFi-Webhook-Id is not signed (anyone on the path could change it and make a replay look new,
 * or reuse one to swallow a new event) and the body has no id of its own (reference: Webhooks).
 * LnkFi redelivers the same bytes, and every connection_completed carries a new api_key, so equal
 * bodies are one event. The one cost: a connection revoked again after a reauthorization sends
 * the same connection_disconnected body and is taken for a duplicate; the next proxied call's 401
 * (AUTH_FAILED) finds that revocation instead.
 */
export const lnkfiEventId = (rawBody: Buffer): string => `sha256:${createHash('sha256').update(rawBody).digest('hex')}`;

/**
 * What a LnkFi webhook means for the connection. `connection_completed` (a first authorization or
 * a reauthorization) hands over the connection's API key: it leaves only as a secret to seal,
 * never in the event. `connection_disconnected` (revoked at the system) asks for a
 * reauthorization. Other types are acknowledged and ignored. Throws a ZodError when malformed.
 */
export function parseLnkfiWebhook(json: unknown, headers: Headers, rawBody: Buffer): ParsedWebhook {
  const { body } = EnvelopeSchema.parse({
    headers: { 'x-lnkfi-webhook-id': header(headers, 'x-lnkfi-webhook-id'), 'x-lnkfi-webhook-vendor-id': header(headers, 'x-lnkfi-webhook-vendor-id') },
    body: json,
  });
  const providerConnectionId = body.connection_id;
  const connectionId = body.vendor_external_id;
  const common = { providerConnectionId, ...(connectionId === undefined ? {} : { connectionId }) };
  const eventId = lnkfiEventId(rawBody);

  if (body.type === 'connection_completed') {
    const completed = ConnectionCompletedSchema.parse(json);
    const [first] = completed.instances;
    return {
      ...common,
      event: { eventId, kind: 'connected', channelId: completed.system, providerConnectionId, providerRef: { instanceId: first.id } },
      secrets: [{ key: apiKeySecretName(providerConnectionId), value: completed.api_key }],
    };
  }
  if (body.type === 'connection_disconnected') {
    return { ...common, event: { eventId, kind: 'failure', status: 'AUTH_FAILED', channelId: body.system, providerConnectionId } };
  }
  return { ...common, event: null };
}
