// `npm start`: Linkflow in one command. Brings up the Temporal dev server (SQLite under .data/,
// Web UI), the four provider sandboxes, the store, the worker and the API; Ctrl-C stops them all.
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { NativeConnection } from '@temporalio/worker';
import { createApp } from '../api/app';
import { createApiServer } from '../api/server';
import { type Config, connectionDefaults, loadConfig, publicUrl, sandboxPort } from '../config';
import { createLogger } from '../logger';
import { startFlinksSandbox } from '../sandbox/flinks/server';
import { startLnkfiSandbox } from '../sandbox/lnkfi/server';
import { startOxlinSandbox } from '../sandbox/oxlin/server';
import { startPowensSandbox } from '../sandbox/powens/server';
import { createRedirectClaims, createTenantStore, createWebhookClaims } from '../activities/store';
import {
  type ProviderUrls,
  activityDeps,
  embeddedSecret,
  embeddedTenantKeyFile,
  openStore,
  providerSecrets,
  providerUrlsFromEnv,
  providerWebhookSecrets,
} from '../worker/deps';
import { createWorker, devServerSearchAttributes, quietTemporalLogs } from '../worker/worker';
import { PROVIDERS } from '../workflows/messages';
import { devServerExecutable } from './temporal-binaries';

const log = createLogger('linkflow');

async function main(): Promise<void> {
  const config = loadConfig();
  quietTemporalLogs();
  await assertPortsFree(config);
  const stops: (() => Promise<unknown>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((err) => log.error('while stopping', { error: String(err) }));
  };
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      if (stopping) return;
      stopping = true;
      log.info('stopping…');
      void stopAll().then(() => process.exit(0));
    });
  }

  try {
    const temporalAddress = config.TEMPORAL_ADDRESS ?? (await startTemporal(config, stops));

    const { urls, webhookSecrets } = await startSandboxes(config, stops);
    const db = await openStore(config, log);
    stops.push(() => db.close());
    // The API's client; the worker's emitWebhookEvent activity signals delivery workflows with it too.
    const clientConnection = await Connection.connect({ address: temporalAddress });
    stops.push(() => clientConnection.close());
    const client = new Client({ connection: clientConnection, namespace: config.TEMPORAL_NAMESPACE });
    // Local development: the receiver is usually on this machine. Unset, the variable allows it here
    // (and only here: the API and worker processes refuse); set to false, `npm start` refuses too.
    const webhookTargets = { allowPrivate: config.LINKFLOW_WEBHOOK_ALLOW_PRIVATE ?? true };
    if (webhookTargets.allowPrivate) {
      log.warn(
        'webhook endpoints on localhost and private addresses are allowed (local development; LINKFLOW_WEBHOOK_ALLOW_PRIVATE=false refuses them, as production must)',
      );
    }
    const deps = await activityDeps(config, db, urls, client, webhookTargets);
    const tenants = createTenantStore(db);
    const keyFile = await embeddedTenantKeyFile(config, tenants);
    const adminKey = config.LINKFLOW_ADMIN_KEY ?? (await embeddedSecret(config, 'admin-key', async () => randomBytes(32).toString('base64url')));

    log.info('bundling workflows and starting the worker…');
    const workerConnection = await NativeConnection.connect({ address: temporalAddress });
    const worker = await createWorker({ connection: workerConnection, namespace: config.TEMPORAL_NAMESPACE, ...deps });
    const running = worker.run();
    stops.push(async () => {
      worker.shutdown();
      await running;
      await workerConnection.close();
    });

    const app = createApp({
      client,
      repository: deps.repository,
      tenants,
      webhookEndpoints: deps.webhookEndpoints,
      webhookTargets,
      adminKey,
      providerLinks: deps.providerLinks,
      webhookClaims: createWebhookClaims(db),
      redirectClaims: createRedirectClaims(db),
      providerWebhookSecrets: webhookSecrets,
      providerSecrets: await providerSecrets(config, db),
      stateSigner: deps.stateSigner,
      credentialsKey: deps.credentialsKey,
      publicUrl: publicUrl(config),
      defaults: connectionDefaults(config),
      logger: createLogger('api'),
      rateLimitPerMinute: config.LINKFLOW_RATE_LIMIT_PER_MINUTE,
      requestTimeoutMs: config.LINKFLOW_REQUEST_TIMEOUT_MS,
    });
    const server = createApiServer(app.callback(), { receiveTimeoutMs: config.LINKFLOW_RECEIVE_TIMEOUT_MS }).listen(config.PORT, config.HOST);
    await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
    stops.push(() => new Promise((resolve) => server.close(resolve)));

    log.info(`API listening on ${publicUrl(config)} — API key of the default tenant in ${keyFile}`);
    if (!config.TEMPORAL_ADDRESS) log.info(`Temporal Web UI on http://localhost:${config.TEMPORAL_UI_PORT}`);
    log.info('ready — Ctrl-C stops everything');
    void running.catch(async (err) => {
      log.error('worker stopped', { error: String(err) });
      await stopAll();
      process.exit(1);
    });
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/**
 * A sandbox for every provider without a *_BASE_URL. Those with webhooks send them, signed, to
 * this API with a secret generated once into the data dir (unless one is configured).
 */
async function startSandboxes(
  config: Config,
  stops: (() => Promise<unknown>)[],
): Promise<{ urls: ProviderUrls; webhookSecrets: Partial<Record<'oxlin' | 'flinks' | 'lnkfi', string>> }> {
  const urls = providerUrlsFromEnv(config);
  const webhookSecrets = providerWebhookSecrets(config);
  const generated = (name: string) => embeddedSecret(config, `${name}-webhook-secret`, async () => randomBytes(24).toString('base64url'));
  const webhookTo = async (provider: 'oxlin' | 'flinks' | 'lnkfi') => {
    webhookSecrets[provider] ??= await generated(provider);
    return { url: new URL(`/webhooks/${provider}`, publicUrl(config)).toString(), secret: webhookSecrets[provider] };
  };
  const host = config.HOST;
  const started = {
    oxlin: async () => startOxlinSandbox({ port: sandboxPort(config, 'oxlin'), host, webhook: await webhookTo('oxlin') }),
    flinks: async () => startFlinksSandbox({ port: sandboxPort(config, 'flinks'), host, webhook: await webhookTo('flinks') }),
    powens: () => startPowensSandbox({ port: sandboxPort(config, 'powens'), host }),
    lnkfi: async () => startLnkfiSandbox({ port: sandboxPort(config, 'lnkfi'), host, webhook: await webhookTo('lnkfi') }),
  };
  for (const provider of PROVIDERS) {
    if (urls[provider]) continue;
    const sandbox = await started[provider]();
    stops.push(() => sandbox.close());
    urls[provider] = sandbox.url;
    log.info(`${provider} sandbox listening on ${sandbox.url}`);
  }
  return { urls, webhookSecrets };
}

/** The dev server, with its SQLite file in the data dir so connections survive a restart. */
async function startTemporal(config: Config, stops: (() => Promise<unknown>)[]): Promise<string> {
  const executable = await devServerExecutable((line) => log.info(line));
  await mkdir(config.LINKFLOW_DATA_DIR, { recursive: true });
  log.info('starting the Temporal dev server…');
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable,
      ip: '127.0.0.1',
      port: config.TEMPORAL_PORT,
      ui: true,
      uiPort: config.TEMPORAL_UI_PORT,
      dbFilename: join(config.LINKFLOW_DATA_DIR, 'temporal.sqlite'),
      namespace: config.TEMPORAL_NAMESPACE,
      searchAttributes: devServerSearchAttributes(),
      extraArgs: ['--log-level', 'error'],
    },
  });
  stops.push(() => env.teardown());
  const address = `127.0.0.1:${config.TEMPORAL_PORT}`;
  log.info(`Temporal dev server on ${address} (data: ${join(config.LINKFLOW_DATA_DIR, 'temporal.sqlite')})`);
  return address;
}

/** A port already taken is reported with what to do, before anything starts. */
async function assertPortsFree(config: Config): Promise<void> {
  const ports: [number, string, string][] = [[config.PORT, 'the API', 'PORT']];
  const external = providerUrlsFromEnv(config);
  for (const provider of PROVIDERS) {
    if (!external[provider]) ports.push([sandboxPort(config, provider), `the ${provider} sandbox`, 'SANDBOX_PORT']);
  }
  if (!config.TEMPORAL_ADDRESS) {
    ports.push([config.TEMPORAL_PORT, 'Temporal', 'TEMPORAL_PORT'], [config.TEMPORAL_UI_PORT, 'the Temporal Web UI', 'TEMPORAL_UI_PORT']);
  }
  for (const [port, what, variable] of ports) {
    const free = await new Promise<boolean>((resolve) => {
      const probe = createServer()
        .once('error', () => resolve(false))
        .listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
    });
    if (!free) throw new Error(`Port ${port} (${what}) is already in use: stop what uses it, or set ${variable} to another port.`);
  }
}

main().catch((err: unknown) => {
  log.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
