import { z } from 'zod';

export const CreateTenantSchema = z
  .object({ name: z.string().trim().min(1).max(200).meta({ description: "The tenant's display name." }) })
  .strict()
  .meta({ id: 'CreateTenant' });
export type CreateTenant = z.infer<typeof CreateTenantSchema>;

export const TenantSchema = z.object({ id: z.string(), name: z.string() });

export const IssuedKeySchema = z.object({
  id: z.string(),
  key: z.string().meta({ description: 'The API key itself: shown once, only its hash is stored.' }),
  prefix: z.string().meta({ description: 'The first characters of the key, to recognise it later.' }),
}).meta({ id: 'IssuedKey' });

export const CreatedTenantSchema = z.object({ tenant: TenantSchema, api_key: IssuedKeySchema }).meta({ id: 'CreatedTenant' });

export const TenantIdSchema = z.string().min(1).max(200);
