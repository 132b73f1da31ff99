// The composition root: Linkflow assembled from its configuration, the one place that knows which
// parts exist, in which order they start and how they stop. `npm start` (scripts/start.ts), the API
// process (api/main.ts), the worker process (worker/main.ts) and the end-to-end tests
// (test/helpers/linkflow.ts) all build it here; app/run.ts is the process around it.
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { NativeConnection, type WorkerOptions } from '@temporalio/worker';
import { createApp } from '../api/app';
import { createApiServer } from '../api/server';
import { apiLimiters } from '../api/limits';
import type { CredentialsKey } from '../domain/credentials';
import { createPayloadCodec } from '../domain/payload-codec';

import { type AdapterRegistry, type ProviderSecrets, type ProvidersConfig, configuredProviders, createAdapters } from '../providers';
import { type InstitutionCatalogue, createInstitutionCatalogue } from '../providers/catalogue';
import { type StateSigner, createStateSigner } from '../domain/redirect-state';
import {
  type Database,
  type DatabaseOptions,
  type Repository,
  type TenantStore,
  createProviderBudgets,
  createProviderLinks,
  createRedirectClaims,
  createRepository,
  createTenantStore,
  createWebhookClaims,
} from '../store';
import type { WebhookEndpointStore } from '../store/webhooks';
import { createConnectSessions } from '../store/connect-sessions';
import type { WebhookTargetPolicy } from '../activities/webhook-targets';
import { type Config, connectionDefaults, publicUrl, requireSettings } from '../config';
import { createLinkMinter } from '../domain/links';
import { type Logger, createLogger } from '../logger';
import { createWorker } from '../worker/worker';
import type { ProviderName } from '../contract/messages';
import { connectionStateCounts, readinessChecks } from './operations';
import { startMetricsServer } from './metrics-server';
import { type EphemeralTemporal, type SandboxOverrides, type Sandboxes, type WebhookProvider, startDevServer, startSandboxes } from './embedded';
import {
  credentialsKey as loadCredentialsKey,
  embeddedSecret,
  embeddedTenantKeyFile,
  openStore,
  payloadKeys,
  providerSecrets as openProviderSecrets,
  providerUrlsFromEnv,
  providerWebhookSecrets,
  providersConfig,
  stateSecret,
  webhookEndpointStore,
  webhookTargetPolicy,
} from './settings';

/** Hosts only this machine reaches: the embedded mode's codec trusts the Web UI only when the API listens on one. */
const LOOPBACK_HOSTS = ['127.0.0.1', 'localhost', '::1'];

/**
 * What a process runs. `embedded`: everything in one process (`npm start`, the tests): the Temporal
 * dev server unless TEMPORAL_ADDRESS is set, a sandbox for each provider without a *_BASE_URL,
 * secrets generated into the data dir when not configured, the worker and the API. `api` and
 * `worker`: that part alone against a Temporal cluster, every secret configured (docker-compose,
 * scale-out).
 */
export type LinkflowRole = 'embedded' | 'api' | 'worker';

/** Adapter settings over what the configuration gives, per provider (tests: faster polling). */
export type ProviderOverrides = { [K in keyof ProvidersConfig]?: Partial<NonNullable<ProvidersConfig[K]>> };

/** What to build, and what to use instead of what the configuration would give. */
export interface LinkflowOptions {
  role: LinkflowRole;
  /** A logger per component (`linkflow`, `api`, …); default: lines on stderr (logger.ts). */
  logger?: (component: string) => Logger;
  /** Embedded: a dev server on free ports with its history in memory (tests); a Web UI only with `uiPort`. */
  ephemeralTemporal?: boolean | EphemeralTemporal;
  /** The store; default: DATABASE_URL, else PGlite in the data dir. `{}`: PGlite in memory. */
  database?: DatabaseOptions;
  /** Embedded: options per sandbox (delays, clocks, `port: 0`), over their configured ports. */
  sandboxes?: SandboxOverrides;
  providers?: ProviderOverrides;
  /** Where webhook endpoints may point; default: LINKFLOW_WEBHOOK_ALLOW_PRIVATE (embedded: allowed unless `false`). */
  webhookTargets?: WebhookTargetPolicy;
  /** Embedded: create a default tenant once and keep its API key in the data dir (default true). */
  defaultTenant?: boolean;
  /** The workflows' task queue (tests run each suite on its own); default TASK_QUEUE. */
  taskQueue?: string;
  /** A prebuilt workflow bundle (tests build it once); default: the worker bundles workflows/. */
  workflowBundle?: WorkerOptions['workflowBundle'];
}

/** Linkflow once started: its parts, for the process that runs it and for tests that look inside. */
export interface RunningLinkflow {
  client: Client;
  /** The data converter of the client and the worker: its payload codec seals every payload (LINKFLOW_PAYLOAD_KEYS). */
  dataConverter: DataConverter;
  db: Database;
  repository: Repository;
  tenants: TenantStore;
  webhookEndpoints: WebhookEndpointStore;
  providerSecrets: ProviderSecrets;
  credentialsKey: CredentialsKey;
  stateSigner: StateSigner;
  /** The embedded sandboxes (none for providers with a *_BASE_URL, none outside `embedded`). */
  sandboxes: Sandboxes;
  /** The configured providers' institutions (GET /v1/institutions, the Connect page); undefined without an API. */
  institutions?: InstitutionCatalogue;
  /** Where the API is reached (PUBLIC_URL, or localhost:PORT); undefined without an API. */
  apiUrl?: string;
  /** LINKFLOW_ADMIN_KEY, or the embedded mode's generated one; /v1/admin is off without it. */
  adminKey?: string;
  /** The file holding the default tenant's API key (embedded with `defaultTenant`). */
  apiKeyFile?: string;
  /** Settles when the worker stops; rejects, after logging it, if the worker fails. Undefined without a worker. */
  workerDone?: Promise<void>;
  /** Rejects, after logging it, if the store's PGlite thread stops on its own (Database.lost); never settles otherwise. */
  storeLost?: Promise<never>;
}

/** Linkflow built but not started: `start` once, `stop` any time (also during start), as often as wanted. */
export interface Linkflow {
  /** Starts each part in order; on a failure, stops what started and rejects with the cause. */
  start(): Promise<RunningLinkflow>;
  /** Stops each started part once, in reverse order; an error stopping one is logged and the next still stops. */
  stop(): Promise<void>;
}

/** `start` was interrupted by `stop` before every part ran: not a failure. */
export class StartInterrupted extends Error {
  constructor() {
    super('stopped before it was ready');
    this.name = 'StartInterrupted';
  }
}

/**
 * Linkflow as `options.role` runs it, from a validated configuration (config.ts). `api` and
 * `worker` throw at start unless TEMPORAL_ADDRESS, LINKFLOW_STATE_SECRET, LINKFLOW_CREDENTIALS_KEY
 * and LINKFLOW_PAYLOAD_KEYS are set; `worker` also needs one provider's *_BASE_URL.
 */
export function buildLinkflow(config: Config, options: LinkflowOptions): Linkflow {
  const logger = options.logger ?? createLogger;
  const log = logger(options.role === 'embedded' ? 'linkflow' : options.role);
  const parts: { name: string; stop: () => Promise<unknown> }[] = [];
  let starting: Promise<RunningLinkflow> | undefined;
  let stopping: Promise<void> | undefined;

  const stopParts = async () => {
    for (let part = parts.pop(); part; part = parts.pop()) {
      const { name, stop } = part;
      await Promise.resolve()
        .then(stop)
        .catch((err: unknown) => log.error(`while stopping ${name}`, { error: String(err) }));
    }
  };
  const started = (name: string, stop: () => Promise<unknown>) => {
    parts.push({ name, stop });
    if (stopping) throw new StartInterrupted();
  };

  return {
    start() {
      starting ??= assemble(config, options, logger, log, started).catch(async (err: unknown) => {
        await stopParts();
        throw err;
      });
      return starting;
    },
    stop() {
      stopping ??= (async () => {
        await starting?.catch(() => undefined);
        await stopParts();
      })();
      return stopping;
    },
  };
}

/** Starts the parts in order, each handed to `started` (which owns stopping it) as soon as it runs. */
async function assemble(
  config: Config,
  options: LinkflowOptions,
  logger: (component: string) => Logger,
  log: Logger,
  started: (name: string, stop: () => Promise<unknown>) => void,
): Promise<RunningLinkflow> {
  const { role } = options;
  const embedded = role === 'embedded';
  if (!embedded) requireSettings(config, ['TEMPORAL_ADDRESS', 'LINKFLOW_STATE_SECRET', 'LINKFLOW_CREDENTIALS_KEY', 'LINKFLOW_PAYLOAD_KEYS']);
  if (role === 'worker') {
    const configured = Object.keys(providerUrlsFromEnv(config));
    if (configured.length === 0) {
      throw new Error('Missing configuration: set the base URL of at least one provider (OXLIN_BASE_URL, FLINKS_BASE_URL, POWENS_BASE_URL, LNKFI_BASE_URL)');
    }
    log.info('providers configured', { providers: configured });
  }

  // Temporal: the cluster at TEMPORAL_ADDRESS, or the embedded dev server.
  let address = config.TEMPORAL_ADDRESS;
  if (!address) {
    const devServer = await startDevServer(config, log, options.ephemeralTemporal === true ? {} : (options.ephemeralTemporal ?? false));
    started('the Temporal dev server', () => devServer.teardown());
    address = devServer.address;
  }

  // The sandboxes, before anything that needs their URLs (adapters) or webhook secrets (API).
  let urls = providerUrlsFromEnv(config);
  let webhookSecrets: Partial<Record<WebhookProvider, string>> = providerWebhookSecrets(config);
  let sandboxes: Sandboxes = {};
  if (embedded) {
    ({ urls, webhookSecrets, sandboxes } = await startSandboxes(config, log, options.sandboxes ?? {}, (provider, sandbox) =>
      started(`the ${provider} sandbox`, () => sandbox.close()),
    ));
  }

  const db = await openStore(config, log, options.database);
  started('the store', () => db.close());
  db.lost?.catch((err: unknown) => log.error('the store stopped: every query fails from now on', { error: String(err) }));

  // Every payload the client and the worker write is sealed (domain/payload-codec.ts); the API's
  // /codec endpoint opens them for the Web UI.
  const payloadCodec = createPayloadCodec(await payloadKeys(config));
  const dataConverter: DataConverter = { payloadCodecs: [payloadCodec] };

  // The API's client; the worker's webhook activities start and signal delivery workflows with it too.
  const clientConnection = await Connection.connect({ address });
  started('the Temporal client', () => clientConnection.close());
  const client = new Client({ connection: clientConnection, namespace: config.TEMPORAL_NAMESPACE, dataConverter });

  const secrets = await openProviderSecrets(config, db);
  const signer = createStateSigner(await stateSecret(config));
  const key = await loadCredentialsKey(config);
  const webhookEndpoints = await webhookEndpointStore(config, db);
  const repository = createRepository(db);
  const providerLinks = createProviderLinks(db);
  const tenants = createTenantStore(db);
  const webhookTargets = options.webhookTargets ?? webhookPolicy(config, role, log);
  const running: RunningLinkflow = {
    client,
    dataConverter,
    db,
    repository,
    tenants,
    webhookEndpoints,
    providerSecrets: secrets,
    credentialsKey: key,
    stateSigner: signer,
    sandboxes,
    ...(db.lost ? { storeLost: db.lost } : {}),
  };

  // One set of adapters from one configuration: the worker's activities and the API's catalogue.
  const providerSettings = withOverrides(providersConfig(config, urls), options.providers);
  const adapters: AdapterRegistry = createAdapters(providerSettings, { secrets, budgetResets: createProviderBudgets(db) });

  if (role !== 'api') {
    if (embedded) log.info('bundling workflows and starting the worker…');
    const workerConnection = await NativeConnection.connect({ address });
    started('the worker connection', () => workerConnection.close());
    const worker = await createWorker({
      connection: workerConnection,
      namespace: config.TEMPORAL_NAMESPACE,
      dataConverter,
      maxCachedWorkflows: config.LINKFLOW_WORKER_MAX_CACHED_WORKFLOWS,
      maxConcurrentWorkflowTaskExecutions: config.LINKFLOW_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS,
      ...(options.taskQueue ? { taskQueue: options.taskQueue } : {}),
      ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : {}),
      adapters,
      repository,
      providerLinks,
      stateSigner: signer,
      credentialsKey: key,
      webhookEndpoints,
      webhookTargets,
      links: createLinkMinter({ signer, publicUrl: publicUrl(config) }),
      client,
    });
    const workerDone = worker.run();
    workerDone.catch((err: unknown) => log.error('worker stopped', { error: String(err) }));
    // Only this stops the worker (the SDK's own signal handling is off: worker/logging.ts), once.
    started('the worker', async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await workerDone.catch(() => undefined);
    });
    running.workerDone = workerDone;
    if (!embedded) log.info('worker running', { temporal: address });
    // Embedded, the API's /metrics shows the worker's metrics too (one process, one registry).
    if (role === 'worker' && config.LINKFLOW_WORKER_METRICS_PORT) {
      const metricsServer = await startMetricsServer(config.LINKFLOW_WORKER_METRICS_PORT, config.HOST);
      started('the metrics server', () => new Promise((resolve) => metricsServer.close(resolve)));
      log.info('worker metrics served', { url: `http://${config.HOST}:${config.LINKFLOW_WORKER_METRICS_PORT}/metrics` });
    }
  }

  if (role !== 'worker') {
    if (embedded && options.defaultTenant !== false) running.apiKeyFile = await embeddedTenantKeyFile(config, tenants);
    const generateAdminKey = async () => randomBytes(32).toString('base64url');
    const adminKey = config.LINKFLOW_ADMIN_KEY ?? (embedded ? await embeddedSecret(config, 'admin-key', generateAdminKey) : undefined);
    // The API runs no activities: it lists institutions through the adapters itself, cached.
    const institutions = createInstitutionCatalogue({
      adapters: Object.fromEntries(configuredProviders(providerSettings).map((name) => [name, adapters[name]])),
      logger: logger('institutions'),
      ttlMs: config.LINKFLOW_INSTITUTIONS_CACHE_SECONDS * 1000,
    });
    running.institutions = institutions;
    const app = createApp({
      institutions,
      client,
      repository,
      tenants,
      providerLinks,
      webhookClaims: createWebhookClaims(db),
      redirectClaims: createRedirectClaims(db),
      connectSessions: createConnectSessions(db),
      connectTokenSeconds: config.LINKFLOW_CONNECT_TOKEN_SECONDS,
      providerWebhookSecrets: webhookSecrets,
      providerSecrets: secrets,
      providers: Object.keys(urls) as ProviderName[],
      webhookEndpoints,
      webhookTargets,
      ...(adminKey ? { adminKey } : {}),
      // Under npm start (API on loopback) the dev server's UI decodes without a key; see CodecRouteDeps.
      codec: { codec: payloadCodec, uiOrigin: config.LINKFLOW_UI_ORIGIN, trustUiOrigin: embedded && LOOPBACK_HOSTS.includes(config.HOST) },
      stateSigner: signer,
      credentialsKey: key,
      publicUrl: publicUrl(config),
      defaults: connectionDefaults(config),
      logger: logger('api'),
      ...(options.taskQueue ? { taskQueue: options.taskQueue } : {}),
      limiters: apiLimiters(db, { perMinute: config.LINKFLOW_RATE_LIMIT_PER_MINUTE }),
      requestTimeoutMs: config.LINKFLOW_REQUEST_TIMEOUT_MS,
      firstActionWaitMs: config.LINKFLOW_FIRST_ACTION_WAIT_MS,
      operations: {
        ...(config.LINKFLOW_METRICS_KEY ? { metricsKey: config.LINKFLOW_METRICS_KEY } : {}),
        readiness: readinessChecks(clientConnection, db, urls),
        connectionStates: connectionStateCounts(client),
      },
    });
    const server = createApiServer(app.callback(), { receiveTimeoutMs: config.LINKFLOW_RECEIVE_TIMEOUT_MS });
    await listen(server, config.PORT, config.HOST);
    started('the API', () => new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve()))));
    Object.assign(running, { apiUrl: publicUrl(config), ...(adminKey ? { adminKey } : {}) });
    log.info(`API listening on ${publicUrl(config)}${running.apiKeyFile ? ` — API key of the default tenant in ${running.apiKeyFile}` : ''}`);
  }
  return running;
}

/**
 * Where tenants' webhooks may go. Embedded: the receiver is usually on this machine, so unset
 * LINKFLOW_WEBHOOK_ALLOW_PRIVATE allows private addresses here (and only here: the API and worker
 * processes refuse), saying so; set to false, `npm start` refuses too.
 */
function webhookPolicy(config: Config, role: LinkflowRole, log: Logger): WebhookTargetPolicy {
  if (role !== 'embedded') return webhookTargetPolicy(config);
  const policy = { allowPrivate: config.LINKFLOW_WEBHOOK_ALLOW_PRIVATE ?? true };
  if (policy.allowPrivate) {
    log.warn(
      'webhook endpoints on localhost and private addresses are allowed (local development; LINKFLOW_WEBHOOK_ALLOW_PRIVATE=false refuses them, as production must)',
    );
  }
  return policy;
}

/** Each configured provider's settings with its overrides on top; overrides for providers that are off are ignored. */
function withOverrides(base: ProvidersConfig, overrides: ProviderOverrides = {}): ProvidersConfig {
  const merged: Record<string, unknown> = { ...base };
  for (const [name, settings] of Object.entries(overrides)) {
    const configured = base[name as keyof ProvidersConfig];
    if (configured) merged[name] = { ...configured, ...settings };
  }
  return merged as ProvidersConfig;
}

/** Resolves once `server` listens on `port`; rejects with the listen error (EADDRINUSE, …). */
function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
