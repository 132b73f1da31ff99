// What Linkflow's parts are made of, read from the configuration: the store, secrets (configured, or
// generated once into the data dir in the embedded mode), provider settings. Assembled by app/linkflow.ts.
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { ProviderSecrets, ProvidersConfig } from '../providers';
import { type CredentialsKey, generateCredentialsKey, loadCredentialsKey } from '../domain/credentials';
import { type PayloadKey, generatePayloadKeys, parsePayloadKeys } from '../domain/payload-codec';
import {
  type Database,
  type DatabaseOptions,
  type TenantStore,
  createProviderSecrets,
  migrate,
  openDatabase,
} from '../store';
import { type WebhookEndpointStore, createWebhookEndpointStore } from '../store/webhooks';
import type { WebhookTargetPolicy } from '../activities/webhook-targets';
import type { Config } from '../config';
import type { Logger } from '../logger';
import type { ProviderName } from '../contract/messages';

/**
 * The store, migrated before use: PostgreSQL when DATABASE_URL is set, else PGlite under the data
 * dir; `where` replaces that choice (tests: `{}`, PGlite in memory). PGlite runs in its own thread
 * (store/pglite-threaded.ts) unless `where.thread` is false. Logs one line saying which.
 */
export async function openStore(config: Config, log: Logger, where?: DatabaseOptions): Promise<Database> {
  const options = where ?? (config.DATABASE_URL ? { databaseUrl: config.DATABASE_URL } : { dataDir: join(config.LINKFLOW_DATA_DIR, 'pglite') });
  // PGlite in its own thread unless told otherwise: its queries must not hold up the API's event loop.
  const db = await openDatabase({ thread: true, ...options });
  const applied = await migrate(db);
  const what = db.kind === 'postgres' ? 'PostgreSQL' : `PGlite ${options.dataDir ? `in ${options.dataDir}` : 'in memory'}${db.lost ? ', in its own thread' : ''}`;
  log.info(`store opened (${what})`, { migrationsApplied: applied });
  return db;
}

/** A secret kept in the data dir for the embedded mode: created once (0600), read ever after. */
export async function embeddedSecret(config: Config, name: string, generate: () => Promise<string>): Promise<string> {
  const file = join(config.LINKFLOW_DATA_DIR, name);
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(config.LINKFLOW_DATA_DIR, { recursive: true });
  // 'wx': if another process won the race, its secret is the one.
  await writeFile(file, await generate(), { mode: 0o600, flag: 'wx' }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
  await chmod(file, 0o600);
  return (await readFile(file, 'utf8')).trim();
}

/**
 * The secret that signs redirect states. Worker and API must share it: in production it comes
 * from LINKFLOW_STATE_SECRET; the embedded mode keeps a generated one in the data dir.
 */
export const stateSecret = (config: Config): Promise<string> =>
  config.LINKFLOW_STATE_SECRET
    ? Promise.resolve(config.LINKFLOW_STATE_SECRET)
    : embeddedSecret(config, 'state-secret', async () => randomBytes(32).toString('base64url'));

/** Linkflow's OpenPGP key for credentials: LINKFLOW_CREDENTIALS_KEY, or one generated into the data dir. */
export async function credentialsKey(config: Config): Promise<CredentialsKey> {
  return loadCredentialsKey(config.LINKFLOW_CREDENTIALS_KEY ?? (await embeddedSecret(config, 'credentials-key.asc', generateCredentialsKey)));
}

/**
 * The keys sealing Temporal payloads (domain/payload-codec.ts): LINKFLOW_PAYLOAD_KEYS, or in the
 * embedded mode one generated once into the data dir (`payload-keys`, 0600, same format).
 */
export async function payloadKeys(config: Config): Promise<PayloadKey[]> {
  return config.LINKFLOW_PAYLOAD_KEYS ?? parsePayloadKeys(await embeddedSecret(config, 'payload-keys', async () => generatePayloadKeys()));
}

/** Where each provider's API is: its *_BASE_URL, or the embedded sandbox's. A provider without one is off. */
export type ProviderUrls = Partial<Record<ProviderName, string>>;

/** The providers with a *_BASE_URL set, and that URL. */
export const providerUrlsFromEnv = (config: Config): ProviderUrls => ({
  ...(config.OXLIN_BASE_URL ? { oxlin: config.OXLIN_BASE_URL } : {}),
  ...(config.FLINKS_BASE_URL ? { flinks: config.FLINKS_BASE_URL } : {}),
  ...(config.POWENS_BASE_URL ? { powens: config.POWENS_BASE_URL } : {}),
  ...(config.LNKFI_BASE_URL ? { lnkfi: config.LNKFI_BASE_URL } : {}),
});

/** The adapters' settings for the providers in `urls`, from the configuration (client ids, secrets, …). */
export function providersConfig(config: Config, urls: ProviderUrls): ProvidersConfig {
  return {
    ...(urls.oxlin ? {
          oxlin: {
            baseUrl: urls.oxlin,
            clientId: config.OXLIN_CLIENT_ID,
            clientSecret: config.OXLIN_CLIENT_SECRET,
            pollIntervalMs: config.OXLIN_POLL_INTERVAL_MS,
          },
        } : {}),
    ...(urls.flinks
      ? {
          flinks: {
            baseUrl: urls.flinks,
            customerId: config.FLINKS_CUSTOMER_ID,
            ...(config.FLINKS_CONNECT_URL ? { connectUrl: config.FLINKS_CONNECT_URL } : {}),
          },
        }
      : {}),
    ...(urls.powens
      ? {
          powens: {
            baseUrl: urls.powens,
            clientId: config.POWENS_CLIENT_ID,
            clientSecret: config.POWENS_CLIENT_SECRET,
            pollIntervalMs: config.POWENS_POLL_INTERVAL_MS,
            ...(config.POWENS_WEBVIEW_URL ? { webviewUrl: config.POWENS_WEBVIEW_URL } : {}),
          },
        }
      : {}),
    ...(urls.lnkfi
      ? {
          lnkfi: {
            baseUrl: urls.lnkfi,
            vendorId: config.LNKFI_VENDOR_ID,
            system: 'xero' as const,
            systemClientId: config.LNKFI_SYSTEM_CLIENT_ID,
            systemClientSecret: config.LNKFI_SYSTEM_CLIENT_SECRET,
            legalName: config.LNKFI_LEGAL_NAME,
          },
        }
      : {}),
  };
}

/** The providers' webhook secrets that are set: each enables POST /webhooks/:provider. */
export const providerWebhookSecrets = (config: Config): Partial<Record<'oxlin' | 'flinks' | 'lnkfi', string>> => ({
  ...(config.OXLIN_WEBHOOK_SECRET ? { oxlin: config.OXLIN_WEBHOOK_SECRET } : {}),
  ...(config.FLINKS_WEBHOOK_SECRET ? { flinks: config.FLINKS_WEBHOOK_SECRET } : {}),
  ...(config.LNKFI_WEBHOOK_SECRET ? { lnkfi: config.LNKFI_WEBHOOK_SECRET } : {}),
});

/** Secrets providers hand over (Powens user tokens, LnkFi API keys), sealed under a key derived from the state secret. */
export const providerSecrets = async (config: Config, db: Database): Promise<ProviderSecrets> =>
  createProviderSecrets(db, await stateSecret(config));

/**
 * Tenants' webhook endpoints. Their signing secrets are sealed under a key derived (HKDF, with its
 * own label) from the state secret, which the API (seals) and the worker (opens) already share.
 */
export const webhookEndpointStore = async (config: Config, db: Database): Promise<WebhookEndpointStore> =>
  createWebhookEndpointStore(db, await stateSecret(config));

/** Where tenants' webhooks may go: LINKFLOW_WEBHOOK_ALLOW_PRIVATE, else public addresses only. */
export const webhookTargetPolicy = (config: Config): WebhookTargetPolicy => ({ allowPrivate: config.LINKFLOW_WEBHOOK_ALLOW_PRIVATE ?? false });

/**
 * The embedded mode's own tenant, so `npm start` is all the set-up there is: created once, its
 * API key kept in the data dir (0600) and never logged.
 */
export async function embeddedTenantKeyFile(config: Config, tenants: TenantStore): Promise<string> {
  await embeddedSecret(config, 'api-key', async () => {
    const tenant = await tenants.createTenant('default');
    return (await tenants.issueKey(tenant.id)).key;
  });
  return join(config.LINKFLOW_DATA_DIR, 'api-key');
}
