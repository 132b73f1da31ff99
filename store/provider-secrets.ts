import type { ProviderName } from '../contract/messages';
import type { ProviderSecrets } from '../providers/types';
import type { Queryable } from './db';
import { createSealer } from './sealing';

const HKDF_LABELS = { salt: 'linkflow/provider-secrets', info: 'linkflow provider secret sealing v1' };

/**
 * Provider secrets, sealed under a key derived from the state secret (which the API, that stores
 * them from webhooks, and the worker, that uses them, share). The row's name is the associated
 * data, so a sealed value copied onto another row does not open.
 */
export function createProviderSecrets(db: Queryable, serverSecret: string): ProviderSecrets {
  const sealer = createSealer(serverSecret, HKDF_LABELS);
  const aad = (provider: string, name: string) => `provider_secret:${provider}:${name}`;
  return {
    async put(provider: ProviderName, name: string, value: string) {
      await db.query(
        `INSERT INTO provider_secrets (provider, name, sealed) VALUES ($1, $2, $3)
         ON CONFLICT (provider, name) DO UPDATE SET sealed = EXCLUDED.sealed, updated_at = now()`,
        [provider, name, sealer.seal(value, aad(provider, name))],
      );
    },
    async get(provider: ProviderName, name: string) {
      const [row] = await db.query<{ sealed: string }>('SELECT sealed FROM provider_secrets WHERE provider = $1 AND name = $2', [provider, name]);
      return row ? sealer.open(row.sealed, aad(provider, name), `${provider} secret ${name}`) : null;
    },
    async delete(provider: ProviderName, name: string) {
      await db.query('DELETE FROM provider_secrets WHERE provider = $1 AND name = $2', [provider, name]);
    },
  };
}
