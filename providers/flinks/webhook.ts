import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { Headers, ParsedWebhook } from '../types';
import { FLINKS_CHANNEL } from './adapter';
import { AccountsDetailSchema, FailureWebhookSchema, failureOf, isoFromFlinks } from './schemas';

/**
 * The reference's bytes: each character's ASCII code, and `?` for any other character (what
 * .NET's Encoding.ASCII, which Flinks uses, does). For an ASCII-only text these are its UTF-8 bytes.
 */
function asciiBytes(text: string): Buffer {
  return Buffer.from(Array.from(text, (char) => (char.codePointAt(0) as number) < 0x80 ? (char.codePointAt(0) as number) : 0x3f));
}

const KEY_PATTERN = /^[A-Za-z0-9+/]{43}=$/;

/**
 * `flinks-authenticity-key`, as the reference defines it: base64 of HMAC-SHA256 with the secret's
 * ASCII bytes as key, over the ASCII bytes of the JSON received (the raw body, decoded as UTF-8).
 */
export function verifyFlinksWebhook(rawBody: Buffer, headers: Headers, secret: string): boolean {
  const header = headers['flinks-authenticity-key'];
  if (typeof header !== 'string' || !KEY_PATTERN.test(header.trim())) return false;
  const given = Buffer.from(header.trim(), 'base64');
  const expected = createHmac('sha256', asciiBytes(secret)).update(asciiBytes(rawBody.toString('utf8'))).digest();
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const WebhookSchema = z.union([AccountsDetailSchema, FailureWebhookSchema]);

/**
 * A Flinks webhook: the GetAccountsDetail JSON of a finished extraction (new data), or the
 * error shape with the login it concerns (sandbox/flinks/README.md: Webhooks). The extraction's
 * RequestId names the event; LastRefresh dates the data. The signature covers the body's ASCII
 * bytes only (any other character counts as `?`), so the id must be ASCII to be covered: the
 * schemas take RequestId as a GUID, and no header is read.
 */
export function parseFlinksWebhook(json: unknown): ParsedWebhook {
  const body = WebhookSchema.parse(json);
  const base = { eventId: body.RequestId, channelId: FLINKS_CHANNEL };
  if ('Accounts' in body) {
    const refreshed = body.Login.LastRefresh;
    return {
      providerConnectionId: body.Login.Id,
      event: { ...base, kind: 'data_available', ...(refreshed ? { occurredAt: isoFromFlinks(refreshed) } : {}) },
    };
  }
  return { providerConnectionId: body.Login.Id, event: { ...base, kind: 'failure', status: failureOf(body.FlinksCode) } };
}
