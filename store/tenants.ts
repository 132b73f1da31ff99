import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Queryable } from './db';

export interface Tenant {
  id: string;
  name: string;
}

export interface IssuedKey {
  id: string;
  /** Shown once, at creation: only its hash is stored. */
  key: string;
  prefix: string;
}

const KEY_PREFIX = 'lf_';
const hash = (key: string) => createHash('sha256').update(key).digest('hex');

export function createTenantStore(db: Queryable) {
  return {
    async createTenant(name: string): Promise<Tenant> {
      const tenant = { id: `ten_${randomUUID().replaceAll('-', '')}`, name };
      await db.query('INSERT INTO tenants (id, name) VALUES ($1, $2)', [tenant.id, tenant.name]);
      return tenant;
    },

    async issueKey(tenantId: string): Promise<IssuedKey> {
      const key = `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
      const issued = { id: `key_${randomUUID().replaceAll('-', '')}`, key, prefix: key.slice(0, 10) };
      await db.query('INSERT INTO api_keys (id, tenant_id, key_hash, prefix) VALUES ($1, $2, $3, $4)', [
        issued.id,
        tenantId,
        hash(key),
        issued.prefix,
      ]);
      return issued;
    },

    /** The tenant an API key belongs to, or null for an unknown or revoked key. */
    async tenantForKey(key: string): Promise<Tenant | null> {
      if (!key.startsWith(KEY_PREFIX) || key.length > 200) return null;
      const [row] = await db.query<Tenant>(
        `SELECT t.id, t.name FROM api_keys k JOIN tenants t ON t.id = k.tenant_id
         WHERE k.key_hash = $1 AND k.revoked_at IS NULL`,
        [hash(key)],
      );
      return row ?? null;
    },

    async getTenant(id: string): Promise<Tenant | null> {
      const [row] = await db.query<Tenant>('SELECT id, name FROM tenants WHERE id = $1', [id]);
      return row ?? null;
    },
  };
}

export type TenantStore = ReturnType<typeof createTenantStore>;
