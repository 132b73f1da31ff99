import { createHmac } from 'node:crypto';
import { postWebhook } from '../shared/webhooks';

/**
 * JSON with every non-ASCII character escaped (`\u00e9`): the same document, and its ASCII
 * bytes are exactly the bytes sent, so the reference's "ASCII bytes of the serialized JSON" is
 * unambiguous for every body this sandbox signs.
 */
export function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u0080-\uffff]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The reference's `flinks-authenticity-key`: base64 of HMAC-SHA256 (key: the secret's ASCII bytes) of the body's ASCII bytes. */
export function authenticityKey(secret: string, body: string): string {
  return createHmac('sha256', Buffer.from(secret, 'ascii')).update(Buffer.from(body, 'ascii')).digest('base64');
}

export const isAscii = (text: string): boolean => /^[\x00-\x7f]*$/.test(text);

/**
 * Posts each body to the client's webhook URL with its authenticity key, retrying a few times
 * like a provider would. Delivery is best effort and never blocks the simulation.
 */
export function webhookSender(webhook: { url: string; secret: string }): (payload: object) => void {
  if (!isAscii(webhook.secret)) throw new Error('Flinks sandbox: the webhook secret must be ASCII (the reference signs with its ASCII bytes).');
  return (payload) => {
    const body = asciiJson(payload);
    const key = authenticityKey(webhook.secret, body);
    void postWebhook(webhook.url, body, { 'content-type': 'application/json', 'flinks-authenticity-key': key });
  };
}
