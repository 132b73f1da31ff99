// For Linkflow's clients: check that a webhook comes from Linkflow, on the raw body, before acting
// on it. Usage (Express; any framework that hands you the raw bytes will do):
//   app.post('/linkflow-webhooks', express.raw({ type: 'application/json' }), (req, res) => {
//     const event = verifyWebhook({ secret: process.env.LINKFLOW_WEBHOOK_SECRET, rawBody: req.body,
//                                   signatureHeader: req.get('linkflow-signature') });
//     if (alreadyHandled(event.id)) return res.sendStatus(200); // delivery is at least once
//     …; res.sendStatus(200);                                     // any 2xx; 5xx/408/429 are retried
//   });
// Never verify re-serialised JSON (JSON.stringify(req.body)): one changed space breaks the signature.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { WebhookEventBody } from '../../contract/messages';

export type WebhookVerificationFailure = 'missing_header' | 'malformed_header' | 'stale_timestamp' | 'bad_signature' | 'malformed_body';

export class WebhookVerificationError extends Error {
  override readonly name = 'WebhookVerificationError';
  constructor(
    readonly code: WebhookVerificationFailure,
    message: string,
  ) {
    super(message);
  }
}

export interface VerifyWebhookOptions {
  /** The endpoint's `whsec_…` secret, as POST /v1/webhook-endpoints returned it. */
  secret: string;
  /** The request body exactly as received. */
  rawBody: string | Buffer | Uint8Array;
  /** The `linkflow-signature` header: `t=<unix seconds>,v1=<hex HMAC-SHA256>[,v1=…]`. */
  signatureHeader: string | string[] | null | undefined;
  /** How far the signing time may be from `now`, either way (replays, clock skew). */
  toleranceSeconds?: number;
  /** Milliseconds since the epoch, or a Date; defaults to the current time. */
  now?: number | Date;
}

const HEX_SHA256 = /^[0-9a-f]{64}$/i;

/** The event, once its signature and timestamp check out; throws a WebhookVerificationError otherwise. */
export function verifyWebhook({ secret, rawBody, signatureHeader, toleranceSeconds = 300, now = Date.now() }: VerifyWebhookOptions): WebhookEventBody {
  if (!secret) throw new TypeError('verifyWebhook: secret is required');
  const { timestamp, signatures } = parseHeader(signatureHeader);

  const body = typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : Buffer.from(rawBody.buffer, rawBody.byteOffset, rawBody.byteLength);
  const expected = createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest();
  // Several v1 values may be present; any one that matches will do. Lengths are equal by construction
  // (64 hex digits each) and checked anyway, since timingSafeEqual throws on unequal lengths.
  const matches = signatures.some((hex) => {
    const given = Buffer.from(hex, 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!matches) throw new WebhookVerificationError('bad_signature', 'No v1 signature in the linkflow-signature header matches this body and secret.');

  const nowSeconds = Math.floor((typeof now === 'number' ? now : now.getTime()) / 1000);
  if (Math.abs(nowSeconds - timestamp) > toleranceSeconds) {
    throw new WebhookVerificationError(
      'stale_timestamp',
      `The webhook was signed at ${timestamp}, ${nowSeconds - timestamp} s from now: outside the ${toleranceSeconds} s tolerance.`,
    );
  }

  let event: unknown;
  try {
    event = JSON.parse(body.toString('utf8'));
  } catch {
    throw new WebhookVerificationError('malformed_body', 'The signed body is not JSON.');
  }
  const candidate = event as Partial<Record<'id' | 'type' | 'connection_id' | 'created_at', unknown>> | null;
  if (typeof candidate !== 'object' || candidate === null || typeof candidate.id !== 'string' || typeof candidate.type !== 'string') {
    throw new WebhookVerificationError('malformed_body', 'The signed body is not a Linkflow event.');
  }
  return event as WebhookEventBody;
}

function parseHeader(header: string | string[] | null | undefined): { timestamp: number; signatures: string[] } {
  if (Array.isArray(header)) {
    if (header.length > 1) throw new WebhookVerificationError('malformed_header', 'More than one linkflow-signature header.');
    header = header[0];
  }
  if (!header) throw new WebhookVerificationError('missing_header', 'The linkflow-signature header is missing.');

  const timestamps: string[] = [];
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new WebhookVerificationError('malformed_header', 'The linkflow-signature header is not a list of key=value pairs.');
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't') timestamps.push(value);
    else if (key === 'v1') signatures.push(value);
    // Other schemes are ignored: a future v2 may be sent alongside v1.
  }
  if (timestamps.length !== 1 || !/^\d{1,12}$/.test(timestamps[0] as string)) {
    throw new WebhookVerificationError('malformed_header', 'The linkflow-signature header needs exactly one t=<unix seconds>.');
  }
  const wellFormed = signatures.filter((s) => HEX_SHA256.test(s));
  if (wellFormed.length === 0) {
    throw new WebhookVerificationError('malformed_header', 'The linkflow-signature header has no v1=<64 hex digits> signature.');
  }
  return { timestamp: Number(timestamps[0]), signatures: wellFormed };
}
