import { randomBytes, randomUUID } from 'node:crypto';
import type { Queryable } from './db';
import { createSealer } from './sealing';

/** A tenant's webhook endpoint as the API lists it: never its secret. */
export interface WebhookEndpoint {
  id: string;
  tenantId: string;
  url: string;
  createdAt: string;
}

export interface CreatedWebhookEndpoint extends WebhookEndpoint {
  /** The signing secret, `whsec_…`: shown once, at creation; the store keeps it sealed. */
  secret: string;
}

/** What a delivery needs: the endpoint, its secret in the clear, and whether it was deleted meanwhile. */
export interface DeliverableEndpoint extends CreatedWebhookEndpoint {
  disabled: boolean;
}

const SECRET_PREFIX = 'whsec_';
// HKDF labels: this key is for endpoint secrets only, whatever else the server secret keys.
const HKDF_LABELS = { salt: 'linkflow/webhook-endpoints', info: 'linkflow webhook endpoint secret sealing v1' };

interface EndpointRow {
  id: string;
  tenant_id: string;
  url: string;
  secret_sealed: string;
  created_at: Date | string;
  disabled_at: Date | string | null;
}

const iso = (value: Date | string): string => new Date(value).toISOString();
const listed = (row: Pick<EndpointRow, 'id' | 'tenant_id' | 'url' | 'created_at'>): WebhookEndpoint => ({
  id: row.id,
  tenantId: row.tenant_id,
  url: row.url,
  createdAt: iso(row.created_at),
});

/**
 * Webhook endpoints per tenant. Secrets are sealed with AES-256-GCM under a key derived (HKDF-SHA256)
 * from `serverSecret`, with the endpoint and tenant ids as associated data, so a sealed secret copied
 * onto another row does not open.
 */
export function createWebhookEndpointStore(db: Queryable, serverSecret: string) {
  const sealer = createSealer(serverSecret, HKDF_LABELS);
  const aad = (id: string, tenantId: string) => `webhook_endpoint:${id}:${tenantId}`;
  const seal = (secret: string, id: string, tenantId: string) => sealer.seal(secret, aad(id, tenantId));
  const open = (sealed: string, id: string, tenantId: string) => sealer.open(sealed, aad(id, tenantId), `webhook endpoint ${id}`);

  return {
    async create(tenantId: string, url: string): Promise<CreatedWebhookEndpoint> {
      const id = `whe_${randomUUID().replaceAll('-', '')}`;
      const secret = `${SECRET_PREFIX}${randomBytes(32).toString('base64url')}`;
      const [row] = await db.query<Pick<EndpointRow, 'created_at'>>(
        'INSERT INTO webhook_endpoints (id, tenant_id, url, secret_sealed) VALUES ($1, $2, $3, $4) RETURNING created_at',
        [id, tenantId, url, seal(secret, id, tenantId)],
      );
      return { id, tenantId, url, secret, createdAt: iso(row?.created_at ?? new Date()) };
    },

    /** The tenant's endpoints that receive events, oldest first. */
    async list(tenantId: string): Promise<WebhookEndpoint[]> {
      const rows = await db.query<EndpointRow>(
        'SELECT id, tenant_id, url, created_at FROM webhook_endpoints WHERE tenant_id = $1 AND disabled_at IS NULL ORDER BY created_at, id',
        [tenantId],
      );
      return rows.map(listed);
    },

    async countActive(tenantId: string): Promise<number> {
      const [row] = await db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM webhook_endpoints WHERE tenant_id = $1 AND disabled_at IS NULL',
        [tenantId],
      );
      return row?.n ?? 0;
    },

    /** Stops an endpoint of this tenant; false when it is unknown, another tenant's or already stopped. */
    async disable(tenantId: string, id: string): Promise<boolean> {
      const rows = await db.query(
        'UPDATE webhook_endpoints SET disabled_at = now() WHERE id = $1 AND tenant_id = $2 AND disabled_at IS NULL RETURNING id',
        [id, tenantId],
      );
      return rows.length > 0;
    },

    /** The endpoint with its secret opened, for signing; disabled ones too (the delivery then stops), null if unknown. */
    async forDelivery(id: string): Promise<DeliverableEndpoint | null> {
      const [row] = await db.query<EndpointRow>(
        'SELECT id, tenant_id, url, secret_sealed, created_at, disabled_at FROM webhook_endpoints WHERE id = $1',
        [id],
      );
      if (!row) return null;
      return { ...listed(row), secret: open(row.secret_sealed, row.id, row.tenant_id), disabled: row.disabled_at !== null };
    },
  };
}

export type WebhookEndpointStore = ReturnType<typeof createWebhookEndpointStore>;
