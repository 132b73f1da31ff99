import { z } from 'zod';

export const CreateTenantSchema = z.object({ name: z.string().trim().min(1).max(200) }).strict();
export type CreateTenant = z.infer<typeof CreateTenantSchema>;
