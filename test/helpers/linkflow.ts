// Linkflow assembled for end-to-end tests, as `npm start` assembles it: the Temporal dev
// server, the real worker and activities, the four provider sandboxes, PGlite, and the Koa API on a port.
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { createApp } from '../../api/app';
import { type ApiServerOptions, createApiServer } from '../../api/server';
import { type CredentialsKey, generateCredentialsKey, loadCredentialsKey } from '../../activities/credentials';
import { type ProviderSecrets, createAdapters } from '../../activities/providers';
import { createStateSigner } from '../../activities/redirect-state';
import {
  type Database,
  type Repository,
  createProviderLinks,
  createProviderSecrets,
  createRedirectClaims,
  createRepository,
  createTenantStore,
  createWebhookClaims,
  migrate,
  openDatabase,
} from '../../activities/store';
import { type WebhookEndpointStore, createWebhookEndpointStore } from '../../activities/store/webhooks';
import type { ResolvedAddress, WebhookTargetPolicy } from '../../activities/webhook-targets';
import { createLogger } from '../../logger';
import { type FlinksSandbox, type FlinksSandboxOptions, DEFAULT_CUSTOMER_ID, startFlinksSandbox } from '../../sandbox/flinks/server';
import { type LnkfiSandbox, type LnkfiSandboxOptions, SANDBOX_VENDOR_ID, SANDBOX_XERO_APP, startLnkfiSandbox } from '../../sandbox/lnkfi/server';
import { type OxlinSandbox, type OxlinSandboxOptions, startOxlinSandbox } from '../../sandbox/oxlin/server';
import { type PowensSandbox, type PowensSandboxOptions, startPowensSandbox } from '../../sandbox/powens/server';
import { createWorker } from '../../worker/worker';
import type { ConnectionView } from '../../workflows/messages';
import { approveAtBank } from './oxlin';
import { devServerEnv, uniqueTaskQueue, workflowBundle } from './temporal';

export interface Response {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read JSON bodies field by field
  body: any;
}

export interface Linkflow {
  api: string;
  env: TestWorkflowEnvironment;
  /** The Oxlin sandbox. */
  sandbox: OxlinSandbox;
  sandboxes: { flinks: FlinksSandbox; powens: PowensSandbox; lnkfi: LnkfiSandbox };
  db: Database;
  repository: Repository;
  webhookEndpoints: WebhookEndpointStore;
  credentialsKey: CredentialsKey;
  /** Secrets providers handed over (sealed in the store). */
  providerSecrets: ProviderSecrets;
  /** Every line the API logged. */
  logs: string[];
  /** The API key of the tenant `call` acts as. */
  apiKey: string;
  adminKey: string;
  /** A call as the test's tenant (pass an `authorization` header to act as someone else). */
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
  /** Polls GET /v1/connections/:id until `done` holds (`headers` to ask as another tenant). */
  until(id: string, done: (v: ConnectionView) => boolean, headers?: Record<string, string>): Promise<ConnectionView>;
  /** Gives consent to every account the connection asks about, then waits for `active`. */
  consentAll(view: ConnectionView): Promise<ConnectionView>;
  /** A redirect connection of the test tenant, authorized at the bank by `user`, consented and active. */
  activeRedirectConnection(user?: string): Promise<ConnectionView>;
  stop(): Promise<void>;
}

/** The secret the sandbox signs its webhooks with, and Linkflow verifies them with. */
export const OXLIN_WEBHOOK_SECRET = 'e2e-oxlin-webhook-secret';
export const FLINKS_WEBHOOK_SECRET = 'e2e-flinks-webhook-secret';
export const LNKFI_WEBHOOK_SECRET = 'e2e-lnkfi-webhook-secret';

export interface SandboxOptions {
  /** The API's HTTP server (a short receive timeout, say). */
  api?: ApiServerOptions;
  oxlin?: OxlinSandboxOptions;
  flinks?: FlinksSandboxOptions;
  powens?: PowensSandboxOptions;
  lnkfi?: LnkfiSandboxOptions;
  /** Where webhook endpoints may point; default: E2E_WEBHOOK_TARGETS (private addresses allowed). */
  webhookTargets?: WebhookTargetPolicy;
}

/**
 * The e2e tests' explicit opt-in, as an operator's LINKFLOW_WEBHOOK_ALLOW_PRIVATE=true: their
 * receivers listen on 127.0.0.1, which the guard refuses by default (test/adversarial/ssrf.test.ts
 * covers it on). Names under `.example` (RFC 2606: never on the internet) resolve to 127.0.0.2,
 * where nothing listens: registering them works, delivering to them fails and is retried, and no
 * test sends anything off this machine.
 */
export const E2E_WEBHOOK_TARGETS: WebhookTargetPolicy = {
  allowPrivate: true,
  resolve: async (hostname): Promise<ResolvedAddress[]> => {
    if (hostname.endsWith('.example')) return [{ address: '127.0.0.2', family: 4 }];
    throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
  },
};

export async function startLinkflow(options: SandboxOptions = {}): Promise<Linkflow> {
  const env = await devServerEnv();
  // Listen first: the callback URL given to the provider, and its webhook URL, need the port.
  const server: Server = createApiServer(undefined, options.api);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const sandbox = await startOxlinSandbox({
    listDelayMs: 20,
    syncDelayMs: 20,
    webhook: { url: `${api}/webhooks/oxlin`, secret: OXLIN_WEBHOOK_SECRET },
    ...options.oxlin,
  });
  const sandboxes = {
    flinks: await startFlinksSandbox({ tickMs: 20, webhook: { url: `${api}/webhooks/flinks`, secret: FLINKS_WEBHOOK_SECRET }, ...options.flinks }),
    powens: await startPowensSandbox({ decoupledDelayMs: 100, ...options.powens }),
    lnkfi: await startLnkfiSandbox({ webhook: { url: `${api}/webhooks/lnkfi`, secret: LNKFI_WEBHOOK_SECRET }, ...options.lnkfi }),
  };
  const db = await openDatabase({});
  await migrate(db);
  const repository = createRepository(db);
  const providerLinks = createProviderLinks(db);
  const stateSigner = createStateSigner('e2e-secret-e2e-secret-e2e-secret');
  const credentialsKey = await loadCredentialsKey(await generateCredentialsKey());
  const providerSecrets = createProviderSecrets(db, 'e2e-provider-secrets-e2e-provider-secrets');
  const webhookEndpoints = createWebhookEndpointStore(db, 'e2e-webhook-sealing-secret-e2e-webhook');
  const taskQueue = uniqueTaskQueue();
  const worker: Worker = await createWorker({
    connection: env.nativeConnection,
    namespace: 'default',
    taskQueue,
    workflowBundle: await workflowBundle(),
    adapters: createAdapters(
      {
        oxlin: { baseUrl: sandbox.url, clientId: 'linkflow-sandbox', clientSecret: 'sandbox-secret', pollIntervalMs: 20 },
        flinks: { baseUrl: sandboxes.flinks.url, customerId: DEFAULT_CUSTOMER_ID },
        powens: { baseUrl: sandboxes.powens.url, clientId: 'linkflow-sandbox', clientSecret: 'sandbox-secret', pollIntervalMs: 20 },
        lnkfi: {
          baseUrl: sandboxes.lnkfi.url,
          vendorId: SANDBOX_VENDOR_ID,
          system: 'xero',
          systemClientId: SANDBOX_XERO_APP.clientId,
          systemClientSecret: SANDBOX_XERO_APP.clientSecret,
          legalName: 'Acme Lending',
        },
      },
      { secrets: providerSecrets },
    ),
    repository,
    providerLinks,
    stateSigner,
    credentialsKey,
    webhookEndpoints,
    webhookTargets: options.webhookTargets ?? E2E_WEBHOOK_TARGETS,
    client: env.client,
  });
  const running = worker.run();

  const logs: string[] = [];
  const tenants = createTenantStore(db);
  const tenant = await tenants.createTenant('test tenant');
  const apiKey = (await tenants.issueKey(tenant.id)).key;
  const adminKey = 'admin-key-admin-key-admin-key-admin-key';
  const app = createApp({
    client: env.client,
    repository,
    tenants,
    webhookEndpoints,
    webhookTargets: options.webhookTargets ?? E2E_WEBHOOK_TARGETS,
    providerLinks,
    webhookClaims: createWebhookClaims(db),
    redirectClaims: createRedirectClaims(db),
    providerWebhookSecrets: { oxlin: OXLIN_WEBHOOK_SECRET, flinks: FLINKS_WEBHOOK_SECRET, lnkfi: LNKFI_WEBHOOK_SECRET },
    providerSecrets,
    adminKey,
    stateSigner,
    credentialsKey,
    publicUrl: api,
    defaults: { syncIntervalSeconds: 86_400, redirectTimeoutSeconds: 1_800, consentTimeoutSeconds: 86_400, renewalLeadSeconds: 7 * 86_400 },
    logger: createLogger('api', (line) => logs.push(line)),
    taskQueue,
  });
  server.on('request', app.callback());

  const call: Linkflow['call'] = async (method, path, body, headers = {}) => {
    const response = await fetch(api + path, {
      method,
      headers: {
        authorization: `Bearer ${apiKey}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      redirect: 'manual',
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
  };

  const until: Linkflow['until'] = async (id, done, headers) => {
    let last: ConnectionView | undefined;
    for (let i = 0; i < 400; i++) {
      last = (await call('GET', `/v1/connections/${id}`, undefined, headers)).body as ConnectionView;
      if (done(last)) return last;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.fail(`gave up waiting for connection ${id}; it is ${last?.state} (${last?.reason})`);
  };

  const consentAll: Linkflow['consentAll'] = async (view) => {
    assert.equal(view.next_action?.type, 'consent');
    const accounts = view.next_action.type === 'consent' ? view.next_action.accounts : [];
    const given = await call('PUT', `/v1/connections/${view.id}/consents`, {
      consents: accounts.map((a) => ({ account_id: a.id, consent: true })),
    });
    assert.equal(given.status, 200, JSON.stringify(given.body));
    return until(view.id, (v) => v.state === 'active');
  };

  const activeRedirectConnection: Linkflow['activeRedirectConnection'] = async (user = 'alice') => {
    const created = await call('POST', '/v1/connections', { provider: 'oxlin', institution_id: '87', redirect_url: 'https://client.example/linked' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const callback = await approveAtBank(created.body.next_action.url, 'approve', user);
    assert.equal((await fetch(callback, { redirect: 'manual' })).status, 303);
    return consentAll(await until(created.body.id, (v) => v.state === 'awaiting_consent'));
  };

  return {
    api,
    env,
    sandbox,
    sandboxes,
    db,
    repository,
    webhookEndpoints,
    credentialsKey,
    providerSecrets,
    logs,
    apiKey,
    adminKey,
    call,
    until,
    consentAll,
    activeRedirectConnection,
    async stop() {
      server.close();
      worker.shutdown();
      await running;
      await sandbox.close();
      await Promise.all(Object.values(sandboxes).map((s) => s.close()));
      await db.close();
      await env.teardown();
    },
  };
}
