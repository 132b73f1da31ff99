import { createHmac, randomUUID } from 'node:crypto';

export interface WebhookTarget {
  url: string;
  /** The vendor's webhook secret: the signature is keyed with it. */
  secret: string;
}

export const WEBHOOK_USER_AGENT = 'LnkFi/1.0.0';
const ATTEMPTS = 3;
const ATTEMPT_TIMEOUT_MS = 5_000;

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
    const first = this.closed ? Promise.resolve(true) : this.post(body, headers);
    void first.then(async (delivered) => {
      for (let n = 1; !delivered && n < ATTEMPTS; n++) {
        await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** (n - 1)).unref());
        if (this.closed) return;
        delivered = await this.post(body, headers);
      }
    });
    return first.then(() => undefined);
  }

  close(): void {
    this.closed = true;
  }

  private async post(body: string, headers: Record<string, string>): Promise<boolean> {
    try {
      const response = await fetch(this.target.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS) });
      await response.arrayBuffer();
      return response.status >= 200 && response.status < 300;
    } catch {
      return false; // the vendor is unreachable: try again shortly
    }
  }
}
