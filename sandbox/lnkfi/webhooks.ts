import { createHmac, randomUUID } from 'node:crypto';
import { postWebhook } from '../shared/webhooks';

export interface WebhookTarget {
  url: string;
  /** The vendor's webhook secret: the signature is keyed with it. */
  secret: string;
}

export const WEBHOOK_USER_AGENT = 'LnkFi/1.0.0';

/** X-LnkFi-Webhook-Signature: hex HMAC-SHA256 of the raw body with the vendor's webhook secret. */
export const signWebhook = (rawBody: string, secret: string): string => createHmac('sha256', secret).update(rawBody).digest('hex');

/**
 * Posts LnkFi webhooks to the vendor, signed as the reference describes. A delivery that does not
 * get a 2xx is tried again (three attempts, 200 ms then 400 ms apart) with the same
 * X-LnkFi-Webhook-Id, so the receiver can drop duplicates.
 */
export class WebhookSender {
  private closed = false;

  constructor(
    private readonly target: WebhookTarget,
    private readonly vendorId: string,
  ) {}

  /** Resolves once the first attempt has ended (delivered or not); later attempts go on in the background. */
  deliver(payload: Record<string, unknown>): Promise<void> {
    const body = JSON.stringify(payload);
    const headers = {
      'content-type': 'application/json',
      'user-agent': WEBHOOK_USER_AGENT,
      'x-lnkfi-webhook-id': `owh_${randomUUID()}`,
      'x-lnkfi-webhook-vendor-id': this.vendorId,
      'x-lnkfi-webhook-signature': signWebhook(body, this.target.secret),
    };
    return postWebhook(this.target.url, body, headers, { delivered: (status) => status >= 200 && status < 300, stopped: () => this.closed });
  }

  close(): void {
    this.closed = true;
  }
}
