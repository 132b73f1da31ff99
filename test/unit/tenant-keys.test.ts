// API key lookups (store/tenants.ts): a key found is trusted for a short time, so every request
// does not ask the store (issue 16); an unknown key is never remembered; a revoked key stops
// working once that time has passed. On every test store (PGlite, and PostgreSQL when given).
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { type Database, migrate } from '../../store';
import { createTenantStore } from '../../store/tenants';
import { testStores } from '../helpers/real-activities';

const TTL_MS = 300;

for (const [name, open] of testStores()) {
  describe(`API key lookups on ${name}`, () => {
    let db: Database;
    before(async () => {
      db = await open();
      await migrate(db);
    });
    after(async () => {
      await db?.close();
    });

    it('remembers a key found for its time, then sees it revoked', async () => {
      const tenants = createTenantStore(db, { keyCacheTtlMs: TTL_MS });
      const tenant = await tenants.createTenant('cached');
      const { key } = await tenants.issueKey(tenant.id);
      assert.deepEqual(await tenants.tenantForKey(key), tenant);
      await db.query('UPDATE api_keys SET revoked_at = now() WHERE tenant_id = $1', [tenant.id]);
      // Within its time the replica still trusts it (the documented delay) ...
      assert.deepEqual(await tenants.tenantForKey(key), tenant);
      // ... a replica that had not looked it up refuses it at once ...
      assert.equal(await createTenantStore(db, { keyCacheTtlMs: TTL_MS }).tenantForKey(key), null);
      // ... and once the time has passed, so does this one.
      await sleep(TTL_MS + 50);
      assert.equal(await tenants.tenantForKey(key), null);
    });

    it('never remembers an unknown key: one issued after a miss works at once', async () => {
      const tenants = createTenantStore(db, { keyCacheTtlMs: 60_000 });
      const tenant = await tenants.createTenant('late');
      const { key } = await tenants.issueKey(tenant.id);
      await db.query('DELETE FROM api_keys WHERE tenant_id = $1', [tenant.id]);
      assert.equal(await tenants.tenantForKey(key), null);
      await db.query('INSERT INTO api_keys (id, tenant_id, key_hash, prefix) SELECT $1, $2, key_hash, prefix FROM (SELECT encode(sha256(convert_to($3, \'UTF8\')), \'hex\') AS key_hash, left($3, 10) AS prefix) k', [
        'key_late',
        tenant.id,
        key,
      ]);
      assert.deepEqual(await tenants.tenantForKey(key), tenant);
    });

    it('refuses keys of the wrong shape without asking the store', async () => {
      const tenants = createTenantStore(db);
      for (const key of ['', 'sk_live_x', 'lf_' + 'a'.repeat(300)]) assert.equal(await tenants.tenantForKey(key), null);
    });
  });
}
