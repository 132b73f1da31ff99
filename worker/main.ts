// The worker alone (docker-compose, scale-out): needs a Temporal cluster, PostgreSQL and the providers' URLs.
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { loadConfig, requireSettings } from '../config';
import { createLogger } from '../logger';
import { activityDeps, openStore, providerUrlsFromEnv } from './deps';
import { createWorker, quietTemporalLogs } from './worker';

const log = createLogger('worker');

async function main(): Promise<void> {
  const config = requireSettings(loadConfig(), ['TEMPORAL_ADDRESS', 'LINKFLOW_STATE_SECRET', 'LINKFLOW_CREDENTIALS_KEY']);
  const urls = providerUrlsFromEnv(config);
  if (Object.keys(urls).length === 0) throw new Error('Missing configuration: set the base URL of at least one provider (OXLIN_BASE_URL, FLINKS_BASE_URL, POWENS_BASE_URL, LNKFI_BASE_URL)');
  log.info('providers configured', { providers: Object.keys(urls) });
  quietTemporalLogs();
  const db = await openStore(config, log);
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  // The emitWebhookEvent activity starts and signals the webhook delivery workflows with it.
  const clientConnection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
  const client = new Client({ connection: clientConnection, namespace: config.TEMPORAL_NAMESPACE });
  const worker = await createWorker({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    ...(await activityDeps(config, db, urls, client)),
  });
  log.info('worker running', { temporal: config.TEMPORAL_ADDRESS });
  // Worker.run() shuts down gracefully on SIGINT/SIGTERM by default.
  await worker.run();
  await clientConnection.close();
  await connection.close();
  await db.close();
}

main().catch((err: unknown) => {
  log.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
