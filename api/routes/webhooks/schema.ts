import { z } from 'zod';
import { HOSTNAME, IPV4, IPV6, httpUrlPattern, isoDateTime } from '../../openapi/describe';

/**
 * A host name, an IPv4 address (WHATWG URL has already turned 0x7f.1 and friends into dotted
 * decimal) or a bracketed IPv6 literal; whether Linkflow may send there is decided after resolution
 * (activities/webhook-targets.ts), not by this pattern.
 */
const urlHost = new RegExp(`^\\[[0-9a-f:.]+\\]$|${z.regexes.hostname.source}`, 'i');

/** The documented pattern of an endpoint URL, checked as such. */
const ENDPOINT_URL_PATTERN = httpUrlPattern(`(?:\\[${IPV6}\\]|${IPV4}|${HOSTNAME})`);

/** Where Linkflow POSTs events: http(s) only, a real host name, no credentials in the URL. */
const endpointUrl = z
  .url({ protocol: /^https?$/, hostname: urlHost })
  .max(2048)
  .regex(new RegExp(ENDPOINT_URL_PATTERN), 'an http(s) URL with a DNS name, an IPv4 address or a bracketed IPv6 address')
  // zod runs refinements even when the URL check failed: that one reports the unparsable URL.
  .refine((url) => !URL.canParse(url) || (new URL(url).username === '' && new URL(url).password === ''), 'must not carry a user name or password')
  .meta({
    description: 'http(s) URL without user name or password, at most 2048 characters.',
    pattern: ENDPOINT_URL_PATTERN,
  });

export const CreateWebhookEndpointSchema = z.object({ url: endpointUrl }).strict().meta({ id: 'CreateWebhookEndpoint' });
export type CreateWebhookEndpoint = z.infer<typeof CreateWebhookEndpointSchema>;

export const WebhookEndpointIdSchema = z.string().regex(/^whe_[0-9a-f]{32}$/);

export const WebhookEndpointSchema = z.object({
  id: z.string(),
  url: z.string().meta({ description: 'Where Linkflow POSTs the events.' }),
  created_at: isoDateTime(),
});

export const CreatedWebhookEndpointSchema = WebhookEndpointSchema.extend({
  secret: z.string().meta({ description: "The signing secret (`whsec_…`): shown once, here; verify each delivery's signature with it." }),
}).meta({ id: 'CreatedWebhookEndpoint' });

export const WebhookEndpointListSchema = z.object({ data: z.array(WebhookEndpointSchema) }).meta({ id: 'WebhookEndpointList' });
