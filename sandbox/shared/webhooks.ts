// Webhook delivery as the sandboxes' providers do it: best effort, a few attempts, never
// blocking the simulation. Each provider signs and shapes its own bodies and headers.

const ATTEMPTS = 3;
const ATTEMPT_TIMEOUT_MS = 5_000;

export interface PostOptions {
  /** Whether an answer's status ends the retries (default: anything below 500). */
  delivered?: (status: number) => boolean;
  /** Checked before each attempt: true stops the delivery (the sandbox is closing). */
  stopped?: () => boolean;
}

/**
 * POSTs `body` with `headers` to `url`: up to three attempts, 200 ms then 400 ms apart, each
 * limited to 5 s, until one is `delivered`. Resolves when the first attempt has ended (delivered
 * or not; it never rejects); later attempts go on in the background.
 */
export function postWebhook(url: string, body: string, headers: Readonly<Record<string, string>>, options: PostOptions = {}): Promise<void> {
  const delivered = options.delivered ?? ((status: number) => status < 500);
  const stopped = options.stopped ?? (() => false);
  const attempt = async (): Promise<boolean> => {
    try {
      const response = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS) });
      await response.arrayBuffer();
      return delivered(response.status);
    } catch {
      return false; // the receiver is unreachable: try again shortly
    }
  };
  const first = stopped() ? Promise.resolve(true) : attempt();
  void first.then(async (done) => {
    for (let n = 1; !done && n < ATTEMPTS; n++) {
      await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** (n - 1)).unref());
      if (stopped()) return;
      done = await attempt();
    }
  });
  return first.then(() => undefined);
}
