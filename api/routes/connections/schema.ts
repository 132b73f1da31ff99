import { z } from 'zod';
import { GiveConsentSchema, ProviderSchema } from '../../../workflows/messages';

const httpUrl = z.url({ protocol: /^https?$/, hostname: z.regexes.hostname });

export const CreateConnectionSchema = z
  .object({
    provider: ProviderSchema,
    /** The provider's id for the bank (Oxlin: the provider id, e.g. "87"). */
    institution_id: z.string().min(1).max(64),
    /** Where the end user's browser is sent once the bank is done with it. */
    redirect_url: httpUrl,
    /** The client's own reference for its end user; searchable. */
    user_ref: z.string().min(1).max(200).optional(),
    sync_interval_seconds: z.number().int().min(300).max(31_536_000).optional(),
    redirect_timeout_seconds: z.number().int().min(60).max(86_400).optional(),
    consent_timeout_seconds: z.number().int().min(60).max(2_592_000).optional(),
  })
  .strict();
export type CreateConnection = z.infer<typeof CreateConnectionSchema>;

export const ConsentSchema = GiveConsentSchema;

export const TransactionsQuerySchema = z
  .object({
    account_id: z.string().min(1).max(128).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
    cursor: z.string().min(1).max(512).optional(),
  })
  .strict();
