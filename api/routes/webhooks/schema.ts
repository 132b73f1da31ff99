import { z } from 'zod';

/**
 * A host name, an IPv4 address (WHATWG URL has already turned 0x7f.1 and friends into dotted
 * decimal) or a bracketed IPv6 literal; whether Linkflow may send there is decided after resolution
 * (activities/webhook-targets.ts), not by this pattern.
 */
const urlHost = new RegExp(`^\\[[0-9a-f:.]+\\]$|${z.regexes.hostname.source}`, 'i');

/** Where Linkflow POSTs events: http(s) only, a real host name, no credentials in the URL. */
const endpointUrl = z
  .url({ protocol: /^https?$/, hostname: urlHost })
  .max(2048)
  // zod runs refinements even when the URL check failed: that one reports the unparsable URL.
  .refine((url) => !URL.canParse(url) || (new URL(url).username === '' && new URL(url).password === ''), 'must not carry a user name or password');

export const CreateWebhookEndpointSchema = z.object({ url: endpointUrl }).strict();
export type CreateWebhookEndpoint = z.infer<typeof CreateWebhookEndpointSchema>;

export const WebhookEndpointIdSchema = z.string().regex(/^whe_[0-9a-f]{32}$/);
