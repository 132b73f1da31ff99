import { z } from 'zod';
import { ChannelModeSchema, PROVIDERS, ProviderSchema } from '../../../contract/messages';

/** The longest `q` GET /v1/institutions takes. */
export const MAX_QUERY_LENGTH = 100;

/**
 * GET /v1/institutions' query string. `provider` is read as any string so that one this deployment
 * does not list (unknown, or not configured) is a 422 `provider_not_configured`, as at POST
 * /v1/connections, rather than a malformed query; the document still lists the names it can take.
 */
export const ListInstitutionsQuerySchema = z
  .object({
    provider: z
      .string()
      .optional()
      .meta({ enum: [...PROVIDERS], description: 'Only this provider’s institutions (one this deployment has configured; another is a 422).' }),
    q: z
      .string()
      .max(MAX_QUERY_LENGTH)
      .optional()
      .meta({ description: `Only institutions whose name or id contains this text (case- and accent-insensitive), at most ${MAX_QUERY_LENGTH} characters.` }),
  })
  .strict();

export const InstitutionSchema = z.object({
  provider: ProviderSchema.meta({ description: 'The provider that connects to it: POST /v1/connections `provider`.' }),
  institution_id: z.string().meta({ description: "The provider's id for it: POST /v1/connections `institution_id`." }),
  name: z.string().meta({ description: 'Its name, as the provider gives it.' }),
  country: z
    .string()
    .nullable()
    .meta({ description: 'Its country as the provider gives it (Oxlin: ISO 3166-1 alpha-3, `FRA`); null when the provider names none.' }),
  modes: z
    .array(ChannelModeSchema)
    .min(1)
    .meta({ description: 'The modes a new connection to it may start with (POST /v1/connections `mode`).' }),
});

export const InstitutionListSchema = z
  .object({ data: z.array(InstitutionSchema).meta({ description: 'Sorted by name.' }) })
  .meta({ id: 'InstitutionList' });
