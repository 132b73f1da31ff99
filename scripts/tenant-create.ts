// `npm run tenant:create -- "Acme"`: a tenant and its first API key, printed once (only its hash is stored).
import { createTenantStore } from '../store';
import { loadConfig } from '../config';
import { createLogger } from '../logger';
import { openStore } from '../app/settings';

async function main(): Promise<void> {
  const name = process.argv.slice(2).join(' ').trim();
  if (!name) throw new Error('usage: npm run tenant:create -- <tenant name>');
  const db = await openStore(loadConfig(), createLogger('tenants', () => undefined));
  try {
    const tenants = createTenantStore(db);
    const tenant = await tenants.createTenant(name);
    const key = await tenants.issueKey(tenant.id);
    process.stdout.write(`${JSON.stringify({ tenant, api_key: key }, null, 2)}\n`);
  } finally {
    await db.close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
