// Linkflow assembled for end-to-end tests by the composition root `npm start` uses
// (app/linkflow.ts, role `embedded`): an ephemeral Temporal dev server, the real worker and
// activities, the four provider sandboxes, PGlite in memory, and the Koa API on a free port.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { buildLinkflow } from '../../app/linkflow';
import type { ApiServerOptions } from '../../api/server';
import { generateCredentialsKey, type CredentialsKey } from '../../domain/credentials';
import type { ProviderSecrets } from '../../providers';
import type { Database, Repository } from '../../store';
import type { WebhookEndpointStore } from '../../store/webhooks';
import type { ResolvedAddress, WebhookTargetPolicy } from '../../activities/webhook-targets';
import { loadConfig } from '../../config';
import { createLogger } from '../../logger';
import { type FlinksSandbox, type FlinksSandboxOptions, DEFAULT_CUSTOMER_ID } from '../../sandbox/flinks/server';
import { type LnkfiSandbox, type LnkfiSandboxOptions, SANDBOX_VENDOR_ID, SANDBOX_XERO_APP } from '../../sandbox/lnkfi/server';
import type { OxlinSandbox, OxlinSandboxOptions } from '../../sandbox/oxlin/server';
import type { PowensSandbox, PowensSandboxOptions } from '../../sandbox/powens/server';
import type { ConnectionView } from '../../contract/messages';
import { approveAtBank } from './oxlin';
import { uniqueTaskQueue, workflowBundle } from './temporal';

export interface Response {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read JSON bodies field by field
  body: any;
}

export interface Linkflow {
  api: string;
  /** The Temporal client of the API and the worker (on the embedded dev server): it seals and opens payloads. */
  env: { client: Client };
  /** The client's and the worker's data converter (the payload codec with LINKFLOW_PAYLOAD_KEYS). */
  dataConverter: DataConverter;
  /** The Oxlin sandbox. */
  sandbox: OxlinSandbox;
  sandboxes: { flinks: FlinksSandbox; powens: PowensSandbox; lnkfi: LnkfiSandbox };
  db: Database;
  repository: Repository;
  webhookEndpoints: WebhookEndpointStore;
  credentialsKey: CredentialsKey;
  /** Secrets providers handed over (sealed in the store). */
  providerSecrets: ProviderSecrets;
  /** Every line Linkflow logged (the API's and the composition root's). */
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
  /**
   * Opens a Linkflow link (`next_action.url` of a redirect, from a view or a webhook event) as a
   * browser does: asserts it is one of this Linkflow's links and that it answers 303, and returns
   * the provider URL it sends the browser to, minted at this moment.
   */
  openLink(url: string | undefined): Promise<string>;
  /** A redirect connection of the test tenant, authorized at the bank by `user`, consented and active. */
  activeRedirectConnection(user?: string): Promise<ConnectionView>;
  stop(): Promise<void>;
}

/** LINKFLOW_STATE_SECRET of the e2e Linkflow: tests that forge or sign states and links use it. */
export const E2E_STATE_SECRET = 'e2e-secret-e2e-secret-e2e-secret';

/** The secret the sandbox signs its webhooks with, and Linkflow verifies them with. */
export const OXLIN_WEBHOOK_SECRET = 'e2e-oxlin-webhook-secret';
export const FLINKS_WEBHOOK_SECRET = 'e2e-flinks-webhook-secret';
export const LNKFI_WEBHOOK_SECRET = 'e2e-lnkfi-webhook-secret';
/** LINKFLOW_PAYLOAD_KEYS of the e2e Linkflow (unless a test gives its own): one key, `e2e`. */
export const E2E_PAYLOAD_KEYS = `e2e:${Buffer.from('e2e-payload-key-e2e-payload-key!').toString('base64')}`;

export interface SandboxOptions {
  /** The API's HTTP server (a short receive timeout, say), and `firstActionWaitMs` (LINKFLOW_FIRST_ACTION_WAIT_MS). */
  api?: ApiServerOptions & { firstActionWaitMs?: number };
  oxlin?: OxlinSandboxOptions;
  flinks?: FlinksSandboxOptions;
  powens?: PowensSandboxOptions;
  lnkfi?: LnkfiSandboxOptions;
  /** Where webhook endpoints may point; default: E2E_WEBHOOK_TARGETS (private addresses allowed). */
  webhookTargets?: WebhookTargetPolicy;
  /** LINKFLOW_PAYLOAD_KEYS (default E2E_PAYLOAD_KEYS). */
  payloadKeys?: string;
  /** LINKFLOW_UI_ORIGIN (default: the dev server UI's, http://localhost:8233). */
  uiOrigin?: string;
  /** Run the dev server's Web UI on this port, pointed at the API's codec endpoint (LINKFLOW_UI_ORIGIN: its origin unless `uiOrigin`). */
  webUiPort?: number;
  /** LINKFLOW_INSTITUTIONS_CACHE_SECONDS: how long GET /v1/institutions serves a provider's list (default 600). */
  institutionsCacheSeconds?: number;
  /** LINKFLOW_RATE_LIMIT_PER_MINUTE: requests per tenant a minute (default 600; benchmarks raise it). */
  rateLimitPerMinute?: number;
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

/** A port nothing listens on now (the OS's choice), for the API: the sandboxes' webhooks need it before it listens. */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

export async function startLinkflow(options: SandboxOptions = {}): Promise<Linkflow> {
  const port = await freePort();
  const api = `http://127.0.0.1:${port}`;
  // Every secret given, so nothing is generated into a data dir.
  const config = loadConfig({
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL: api,
    LINKFLOW_STATE_SECRET: E2E_STATE_SECRET,
    LINKFLOW_ADMIN_KEY: 'admin-key-admin-key-admin-key-admin-key',
    LINKFLOW_CREDENTIALS_KEY: await generateCredentialsKey(),
    LINKFLOW_PAYLOAD_KEYS: options.payloadKeys ?? E2E_PAYLOAD_KEYS,
    ...(options.uiOrigin || options.webUiPort ? { LINKFLOW_UI_ORIGIN: options.uiOrigin ?? `http://localhost:${options.webUiPort}` } : {}),
    OXLIN_WEBHOOK_SECRET,
    FLINKS_WEBHOOK_SECRET,
    LNKFI_WEBHOOK_SECRET,
    FLINKS_CUSTOMER_ID: DEFAULT_CUSTOMER_ID,
    LNKFI_VENDOR_ID: SANDBOX_VENDOR_ID,
    LNKFI_SYSTEM_CLIENT_ID: SANDBOX_XERO_APP.clientId,
    LNKFI_SYSTEM_CLIENT_SECRET: SANDBOX_XERO_APP.clientSecret,
    LNKFI_LEGAL_NAME: 'Acme Lending',
    ...(options.api?.receiveTimeoutMs ? { LINKFLOW_RECEIVE_TIMEOUT_MS: String(options.api.receiveTimeoutMs) } : {}),
    ...(options.rateLimitPerMinute ? { LINKFLOW_RATE_LIMIT_PER_MINUTE: String(options.rateLimitPerMinute) } : {}),
    ...(options.api?.firstActionWaitMs !== undefined ? { LINKFLOW_FIRST_ACTION_WAIT_MS: String(options.api.firstActionWaitMs) } : {}),
    ...(options.institutionsCacheSeconds ? { LINKFLOW_INSTITUTIONS_CACHE_SECONDS: String(options.institutionsCacheSeconds) } : {}),
  });
  const logs: string[] = [];
  const linkflow = buildLinkflow(config, {
    role: 'embedded',
    logger: (component) => createLogger(component, (line) => logs.push(line)),
    ephemeralTemporal: options.webUiPort ? { uiPort: options.webUiPort } : true,
    database: {},
    sandboxes: {
      oxlin: { port: 0, listDelayMs: 20, syncDelayMs: 20, ...options.oxlin },
      flinks: { port: 0, tickMs: 20, ...options.flinks },
      powens: { port: 0, decoupledDelayMs: 100, ...options.powens },
      lnkfi: { port: 0, ...options.lnkfi },
    },
    providers: { oxlin: { pollIntervalMs: 20 }, powens: { pollIntervalMs: 20 } },
    webhookTargets: options.webhookTargets ?? E2E_WEBHOOK_TARGETS,
    defaultTenant: false,
    taskQueue: uniqueTaskQueue(),
    workflowBundle: await workflowBundle(),
  });
  const running = await linkflow.start();
  const { oxlin: sandbox, flinks, powens, lnkfi } = running.sandboxes;
  assert.ok(sandbox && flinks && powens && lnkfi, 'every sandbox runs');
  const sandboxes = { flinks, powens, lnkfi };
  const { db, repository, webhookEndpoints, credentialsKey, providerSecrets } = running;
  const tenants = running.tenants;
  const tenant = await tenants.createTenant('test tenant');
  const apiKey = (await tenants.issueKey(tenant.id)).key;
  const adminKey = config.LINKFLOW_ADMIN_KEY as string;

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

  const openLink: Linkflow['openLink'] = async (url) => {
    if (!url?.startsWith(`${api}/connect/links/`)) assert.fail(`a Linkflow link, not ${url}`);
    const opened = await fetch(url, { redirect: 'manual' });
    assert.equal(opened.status, 303, await opened.text());
    return opened.headers.get('location') ?? assert.fail('no Location');
  };

  const activeRedirectConnection: Linkflow['activeRedirectConnection'] = async (user = 'alice') => {
    const created = await call('POST', '/v1/connections', { provider: 'oxlin', institution_id: '87', redirect_url: 'https://client.example/linked' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const callback = await approveAtBank(await openLink(created.body.next_action.url), 'approve', user);
    assert.equal((await fetch(callback, { redirect: 'manual' })).status, 303);
    return consentAll(await until(created.body.id, (v) => v.state === 'awaiting_consent'));
  };

  return {
    api,
    env: { client: running.client },
    dataConverter: running.dataConverter,
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
    openLink,
    activeRedirectConnection,
    stop: () => linkflow.stop(),
  };
}
