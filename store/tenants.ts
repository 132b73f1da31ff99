import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { LRUCache } from 'lru-cache';
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
/**
 * How long a replica trusts a key it has looked up (ms): every API request names a key, and the
 * lookup was a third of a GET's cost (issue 16). A key revoked in the store (`api_keys.revoked_at`,
 * set by the operator) stops working on every replica within this time.
 */
export const KEY_CACHE_TTL_MS = 5_000;
/** Keys a replica remembers at once (the least recently used go first). */
const KEY_CACHE_MAX = 10_000;
const hash = (key: string) => createHash('sha256').update(key).digest('hex');

/** `keyCacheTtlMs`: how long a key found is trusted (default KEY_CACHE_TTL_MS). */
export function createTenantStore(db: Queryable, { keyCacheTtlMs = KEY_CACHE_TTL_MS }: { keyCacheTtlMs?: number } = {}) {
  // Known keys only, by hash (never the key itself): an unknown key is asked again every time, so
  // a key issued a moment ago works at once, and random keys cannot fill the cache.
  const known = new LRUCache<string, Tenant>({ max: KEY_CACHE_MAX, ttl: keyCacheTtlMs });
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

    /**
     * The tenant an API key belongs to, or null for an unknown or revoked key. A key found is
     * remembered for `keyCacheTtlMs`, so a revocation takes up to that long to apply.
     */
    async tenantForKey(key: string): Promise<Tenant | null> {
      if (!key.startsWith(KEY_PREFIX) || key.length > 200) return null;
      const keyHash = hash(key);
      const cached = known.get(keyHash);
      if (cached) return cached;
      const [row] = await db.query<Tenant>(
        `SELECT t.id, t.name FROM api_keys k JOIN tenants t ON t.id = k.tenant_id
         WHERE k.key_hash = $1 AND k.revoked_at IS NULL`,
        [keyHash],
      );
      if (row) known.set(keyHash, { id: row.id, name: row.name });
      return row ?? null;
    },

    async getTenant(id: string): Promise<Tenant | null> {
      const [row] = await db.query<Tenant>('SELECT id, name FROM tenants WHERE id = $1', [id]);
      return row ?? null;
    },
  };
}

export type TenantStore = ReturnType<typeof createTenantStore>;
