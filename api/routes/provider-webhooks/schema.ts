// What the provider webhooks take and answer, for the OpenAPI document (the route itself parses each
// body with the provider adapter's own schema).
import { z } from 'zod';
import {
  AccountsDetailSchema as FlinksAccountsDetailSchema,
  FailureWebhookSchema as FlinksFailureWebhookSchema,
} from '../../../providers/flinks/schemas';
import { EventSchema as OxlinEventSchema } from '../../../providers/oxlin/schemas';
import {
  ConnectionCompletedSchema as LnkfiConnectionCompletedSchema,
  WebhookBaseSchema as LnkfiWebhookBaseSchema,
} from '../../../providers/lnkfi/schemas';

/** What POST /webhooks/{provider} answers a verified event with. */
export const ProviderWebhookAckSchema = z.object({
  status: z.enum(['accepted', 'duplicate', 'ignored']).meta({
    description:
      '`accepted`: signalled to its connection (this delivery claimed the event); `duplicate`: already signalled; `ignored`: nothing to act on, or not one of ours.',
  }),
}).meta({ id: 'ProviderWebhookAck' });

/** A hex HMAC-SHA256 signature (64 hex digits). */
export const hmacHex = z.string().regex(/^[0-9a-f]{64}$/i);

/** The Flinks webhook: a finished extraction (GetAccountsDetail) or a failed one. */
export const FlinksWebhookSchema = z.union([FlinksAccountsDetailSchema, FlinksFailureWebhookSchema]).meta({ id: 'FlinksWebhook' });
/** The LnkFi webhook: `connection_completed` hands over the connection's API key; other types carry the base fields. */
export const LnkfiWebhookSchema = z.union([
  // `instances` is a tuple with a rest element ([first, ...more]): the same as an array of one or more, said in a
  // way every JSON Schema tool takes (an open `prefixItems` tuple is one that strict Ajv refuses).
  LnkfiConnectionCompletedSchema.extend({ instances: z.array(LnkfiConnectionCompletedSchema.shape.instances.def.items[0]).min(1) }),
  LnkfiWebhookBaseSchema,
]).meta({ id: 'LnkfiWebhook' });

/** The Oxlin webhook: the adapter's own event schema (what the route parses with), named for the document. */
export const OxlinWebhookSchema = OxlinEventSchema.meta({ id: 'OxlinEvent' });
