export { openDatabase, type Database, type DatabaseOptions, type Queryable } from './db';
export { migrate } from './migrate';
export { createRepository, decodeTransactionCursor, type Repository } from './repository';
export { createTenantStore, type IssuedKey, type Tenant, type TenantStore } from './tenants';
export { createProviderLinks, type ProviderLinks } from './provider-links';
export { type Claim, CLAIM_LEASE_MS } from './claims';
export { createRedirectClaims, type RedirectClaims } from './redirect-claims';
export { createWebhookClaims, type WebhookClaims } from './webhook-claims';
export { createProviderSecrets } from './provider-secrets';
