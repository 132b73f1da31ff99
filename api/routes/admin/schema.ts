import { z } from 'zod';
import { doc } from '../../openapi/describe';

export const CreateTenantSchema = z.object({ name: z.string().trim().min(1).max(200) }).strict();
export type CreateTenant = z.infer<typeof CreateTenantSchema>;

export const TenantSchema = z.object({ id: z.string(), name: z.string() });

export const IssuedKeySchema = z.object({
  id: z.string(),
  key: doc(z.string(), 'The API key itself: shown once, only its hash is stored.'),
  prefix: doc(z.string(), 'The first characters of the key, to recognise it later.'),
});

export const CreatedTenantSchema = z.object({ tenant: TenantSchema, api_key: IssuedKeySchema });

export const TenantIdSchema = z.string().min(1).max(200);

doc(CreateTenantSchema.shape.name, "The tenant's display name.");
