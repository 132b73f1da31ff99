// The API alone (docker-compose, scale-out): needs a Temporal cluster and the store.
import { Client, Connection } from '@temporalio/client';
import { createStateSigner } from '../activities/redirect-state';
import { createProviderLinks, createRedirectClaims, createRepository, createTenantStore, createWebhookClaims } from '../activities/store';
import { connectionDefaults, loadConfig, publicUrl, requireSettings } from '../config';
import { createLogger } from '../logger';
import type { ProviderName } from '../workflows/messages';
import {
  credentialsKey,
  openStore,
  providerSecrets,
  providerUrlsFromEnv,
  providerWebhookSecrets,
  stateSecret,
  webhookEndpointStore,
  webhookTargetPolicy,
} from '../worker/deps';
import { createApp } from './app';
import { createApiServer } from './server';

const log = createLogger('api');

async function main(): Promise<void> {
  const config = requireSettings(loadConfig(), ['TEMPORAL_ADDRESS', 'LINKFLOW_STATE_SECRET', 'LINKFLOW_CREDENTIALS_KEY']);
  const db = await openStore(config, log);
  const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
  const app = createApp({
    client: new Client({ connection, namespace: config.TEMPORAL_NAMESPACE }),
    repository: createRepository(db),
    tenants: createTenantStore(db),
    providerLinks: createProviderLinks(db),
    webhookClaims: createWebhookClaims(db),
    redirectClaims: createRedirectClaims(db),
    providerWebhookSecrets: providerWebhookSecrets(config),
    providerSecrets: await providerSecrets(config, db),
    providers: Object.keys(providerUrlsFromEnv(config)) as ProviderName[],
    webhookEndpoints: await webhookEndpointStore(config, db),
    webhookTargets: webhookTargetPolicy(config),
    ...(config.LINKFLOW_ADMIN_KEY ? { adminKey: config.LINKFLOW_ADMIN_KEY } : {}),
    stateSigner: createStateSigner(await stateSecret(config)),
    credentialsKey: await credentialsKey(config),
    publicUrl: publicUrl(config),
    defaults: connectionDefaults(config),
    logger: log,
    rateLimitPerMinute: config.LINKFLOW_RATE_LIMIT_PER_MINUTE,
    requestTimeoutMs: config.LINKFLOW_REQUEST_TIMEOUT_MS,
  });
  const server = createApiServer(app.callback(), { receiveTimeoutMs: config.LINKFLOW_RECEIVE_TIMEOUT_MS }).listen(config.PORT, config.HOST, () => log.info(`API listening on ${publicUrl(config)}`));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      server.close(() => void Promise.all([connection.close(), db.close()]).then(() => process.exit(0)));
    });
  }
}

main().catch((err: unknown) => {
  log.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
