// The LnkFi sandbox over HTTP, and the LnkFi adapter against it.
import assert from 'node:assert/strict';
import { createHash, createHmac, randomUUID } from 'node:crypto';
import { type IncomingHttpHeaders, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ZodError } from 'zod';
import { createLnkfiAdapter, lnkfiConsentText } from '../../providers/lnkfi/adapter';
import type { LnkfiConfig } from '../../providers/lnkfi/client';
import { parseLnkfiRedirect } from '../../providers/lnkfi/redirect';
import { apiKeySecretName, parseLnkfiWebhook, verifyLnkfiWebhook } from '../../providers/lnkfi/webhook';
import type { ProviderAdapter, ProviderConnection, ProviderSecrets } from '../../providers/types';
import { type Database, createProviderBudgets } from '../../store';
import { testStores } from '../helpers/real-activities';
import { type XeroDecision, authorizeAtXero } from '../../sandbox/lnkfi/browser';
import { DAY_MS } from '../../sandbox/lnkfi/data';
import { type LnkfiSandbox, type LnkfiSandboxOptions, SANDBOX_VENDOR_ID, SANDBOX_XERO_APP, startLnkfiSandbox } from '../../sandbox/lnkfi/server';

/** A LnkFi event's id: the SHA-256 of the raw body its signature covers (X-LnkFi-Webhook-Id is not signed). */
const sha256Of = (raw: Buffer): string => `sha256:${createHash('sha256').update(raw).digest('hex')}`;

const START = Date.UTC(2025, 0, 15, 10, 0, 0);
const WEBHOOK_SECRET = 'whsec-lnkfi-test';
const LEGAL_NAME = 'Acme Lending, Inc.';
const CALLBACK = 'https://linkflow.example/callbacks/lnkfi';
const XERO = 'https://api.xero.com/api.xro/2.0';

// --- a vendor's webhook endpoint ------------------------------------------------------

interface Received {
  raw: Buffer;
  headers: IncomingHttpHeaders;
  json: Record<string, unknown>;
}

interface Receiver {
  url: string;
  received: Received[];
  /** How many of the next deliveries to answer 500. */
  failNext: number;
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const receiver = { received: [] as Received[], failNext: 0 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (receiver.failNext > 0) {
        receiver.failNext--;
        res.statusCode = 500;
        res.end();
        return;
      }
      const raw = Buffer.concat(chunks);
      receiver.received.push({ raw, headers: req.headers, json: JSON.parse(raw.toString('utf8')) as Record<string, unknown> });
      res.statusCode = 204;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(receiver, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/lnkfi`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

async function waitForWebhook(receiver: Receiver, match: (w: Received) => boolean, what: string): Promise<Received> {
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    const found = receiver.received.find(match);
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.fail(`no webhook: ${what}`);
}

// --- a sandbox on a clock the test moves ----------------------------------------------

interface Harness {
  sandbox: LnkfiSandbox;
  clock: { now: number };
  receiver: Receiver;
}

async function startHarness(options: Partial<LnkfiSandboxOptions> = {}): Promise<Harness> {
  const clock = { now: START };
  const receiver = await startReceiver();
  const sandbox = await startLnkfiSandbox({
    now: () => clock.now,
    webhook: { url: receiver.url, secret: WEBHOOK_SECRET },
    lateWebhookDelayMs: 100,
    ...options,
  });
  return { sandbox, clock, receiver };
}

async function stopHarness(h: Harness | undefined): Promise<void> {
  await h?.sandbox.close();
  await h?.receiver.close();
}

function api(h: Harness, path: string, init: { method?: string; body?: unknown; apiKey?: string; raw?: string; contentType?: string } = {}): Promise<Response> {
  return fetch(`${h.sandbox.url}${path}`, {
    method: init.method ?? 'POST',
    headers: {
      'content-type': init.contentType ?? 'application/json',
      ...(init.apiKey === undefined ? {} : { authorization: `APIKey ${init.apiKey}` }),
    },
    body: init.raw ?? (init.body === undefined ? undefined : JSON.stringify(init.body)),
  });
}

/** LnkFi's error: the status, JSON `{error, message}` with the code, never a 500. Returns the message. */
async function assertLnkfiError(response: Response, status: number, code: string): Promise<string> {
  assert.equal(response.status, status, `expected ${status} ${code}`);
  assert.match(response.headers.get('content-type') ?? '', /application\/json/);
  const body = (await response.json()) as { error: string; message: string };
  assert.equal(body.error, code);
  assert.ok(body.message.length > 0);
  return body.message;
}

const newConnectionBody = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  system: 'xero',
  vendor_id: SANDBOX_VENDOR_ID,
  vendor_external_id: randomUUID(),
  system_client_id: SANDBOX_XERO_APP.clientId,
  system_client_secret: SANDBOX_XERO_APP.clientSecret,
  vendor_redirect_url: 'https://vendor.example/back?state=abc',
  consent_given: true,
  ...overrides,
});

async function authorize(h: Harness, body: Record<string, unknown>): Promise<{ authorization_url: string; [key: string]: unknown }> {
  const response = await api(h, '/v1/connection/authorize', { body });
  assert.equal(response.status, 200, await response.clone().text());
  return (await response.json()) as { authorization_url: string };
}

interface Connected {
  connectionId: string;
  apiKey: string;
  instanceId: string;
  externalId: string;
  webhook: Received;
}

/** A new LnkFi connection, through the browser and the connection_completed webhook. */
async function connect(h: Harness, email = 'alice@example.com'): Promise<Connected> {
  const externalId = randomUUID();
  const { authorization_url } = await authorize(h, newConnectionBody({ vendor_external_id: externalId }));
  const back = await authorizeAtXero(authorization_url, 'approve', email);
  assert.equal(back.searchParams.get('result'), 'success');
  const webhook = await waitForWebhook(
    h.receiver,
    (w) => w.json.type === 'connection_completed' && w.json.vendor_external_id === externalId,
    'connection_completed',
  );
  const instances = webhook.json.instances as { id: string }[];
  return {
    connectionId: webhook.json.connection_id as string,
    apiKey: webhook.json.api_key as string,
    instanceId: instances[0]?.id ?? '',
    externalId,
    webhook,
  };
}

function proxy(h: Harness, c: Connected, url: string, apiKey = c.apiKey): Promise<Response> {
  return api(h, '/v1/connection/proxy', { body: { connection_id: c.connectionId, url, instance_id: c.instanceId }, apiKey });
}

const remaining = (response: Response) => ({
  minute: response.headers.get('x-ratelimit-minute-remaining'),
  day: response.headers.get('x-ratelimit-day-remaining'),
});

async function usage(h: Harness, connectionId: string): Promise<{ proxied: number; rate_limited: number }> {
  const response = await fetch(`${h.sandbox.url}/sandbox/connections/${connectionId}`);
  assert.equal(response.status, 200);
  return ((await response.json()) as { usage: { proxied: number; rate_limited: number } }).usage;
}

// --- the adapter's side ---------------------------------------------------------------

function memorySecrets(): ProviderSecrets & { values: Map<string, string> } {
  const values = new Map<string, string>();
  return {
    values,
    put: async (provider, key, value) => void values.set(`${provider}/${key}`, value),
    get: async (provider, key) => values.get(`${provider}/${key}`) ?? null,
    delete: async (provider, key) => void values.delete(`${provider}/${key}`),
  };
}

function adapterConfig(h: Harness, overrides: Partial<LnkfiConfig> = {}): LnkfiConfig {
  return {
    baseUrl: h.sandbox.url,
    vendorId: SANDBOX_VENDOR_ID,
    system: 'xero',
    systemClientId: SANDBOX_XERO_APP.clientId,
    systemClientSecret: SANDBOX_XERO_APP.clientSecret,
    legalName: LEGAL_NAME,
    // Waiting moves the sandbox's clock: rate-limit waits are measured in sandbox time.
    clock: { now: () => h.clock.now, sleep: async (ms) => void (h.clock.now += ms) },
    ...overrides,
  };
}

interface Linked {
  adapter: ProviderAdapter;
  secrets: ReturnType<typeof memorySecrets>;
  connection: ProviderConnection;
  apiKey: string;
}

/**
 * What Linkflow does for a LnkFi connection: authorize, the browser at Xero, the redirect parsed,
 * the webhook verified and parsed, its secret stored.
 */
async function linkWithAdapter(h: Harness, email = 'alice@example.com', adapter?: ProviderAdapter, secrets = memorySecrets()): Promise<Linked> {
  const lnkfi = adapter ?? createLnkfiAdapter(adapterConfig(h), { secrets });
  const connectionId = randomUUID();
  const authorization = await lnkfi.authorize({ connectionId, institutionId: 'xero', mode: 'redirect', redirectUri: CALLBACK, state: 'state-1' });
  assert.equal(authorization.kind, 'redirect');
  const back = await authorizeAtXero(authorization.url, 'approve', email);
  assert.deepEqual(parseLnkfiRedirect(Object.fromEntries(back.searchParams)), { state: 'state-1', redirect: { outcome: 'success' } });
  const webhook = await waitForWebhook(h.receiver, (w) => w.json.vendor_external_id === connectionId, 'connection_completed');
  assert.ok(verifyLnkfiWebhook(webhook.raw, webhook.headers, WEBHOOK_SECRET));
  const parsed = parseLnkfiWebhook(JSON.parse(webhook.raw.toString('utf8')), webhook.headers, webhook.raw);
  for (const secret of parsed.secrets ?? []) await secrets.put('lnkfi', secret.key, secret.value);
  assert.equal(parsed.event?.kind, 'connected');
  return {
    adapter: lnkfi,
    secrets,
    connection: { providerConnectionId: parsed.providerConnectionId, providerRef: parsed.event?.providerRef ?? {} },
    apiKey: webhook.json.api_key as string,
  };
}

/** Every page of an account's transactions, as importData reads them. */
async function allTransactions(adapter: ProviderAdapter, connection: ProviderConnection, accountId: string) {
  const items = [];
  let pages = 0;
  let cursor: string | null = null;
  do {
    const page = await adapter.fetchTransactions(connection, accountId, cursor, null);
    items.push(...page.items);
    cursor = page.nextCursor;
    pages++;
  } while (cursor !== null);
  return { items, pages };
}

/** The activity environment's own log of the failures these tests expect. */
const quietLogger = { log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

async function rejectsWith(promise: Promise<unknown>, type: string): Promise<ApplicationFailure> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(error)}`);
    assert.equal(error.type, type, error.message);
    return error;
  }
  assert.fail(`expected a ${type} failure`);
}

// ======================================================================================

describe('LnkFi sandbox: POST /v1/connection/authorize', () => {
  let h: Harness;
  before(async () => (h = await startHarness()));
  after(() => stopHarness(h));

  it('answers the authorization URL of its Xero login page, echoing system, vendor and external id', async () => {
    const body = newConnectionBody();
    const answer = await authorize(h, body);
    assert.equal(answer.system, 'xero');
    assert.equal(answer.vendor_id, SANDBOX_VENDOR_ID);
    assert.equal(answer.vendor_external_id, body.vendor_external_id);
    const url = new URL(answer.authorization_url);
    assert.equal(url.pathname, '/xero/identity/connect/authorize');
    assert.equal(url.searchParams.get('client_id'), SANDBOX_XERO_APP.clientId);
    assert.equal(url.searchParams.get('response_type'), 'code');
    assert.equal(new URL(url.searchParams.get('redirect_uri') ?? '').pathname, '/v1/connection/authorize/xero/complete');
    const page = await fetch(answer.authorization_url);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<form method="post"/);
  });

  it('requires consent_given: true and the system client id and secret for a new connection', async () => {
    for (const consent of [undefined, false]) {
      const message = await assertLnkfiError(await api(h, '/v1/connection/authorize', { body: newConnectionBody({ consent_given: consent }) }), 400, 'invalid_request');
      assert.match(message, /consent_given/);
    }
    for (const field of ['system_client_id', 'system_client_secret']) {
      const message = await assertLnkfiError(await api(h, '/v1/connection/authorize', { body: newConnectionBody({ [field]: undefined }) }), 400, 'invalid_request');
      assert.match(message, new RegExp(field));
    }
  });

  it('rejects an unknown vendor, an unsupported system, a bad redirect URL and unknown fields', async () => {
    await assertLnkfiError(await api(h, '/v1/connection/authorize', { body: newConnectionBody({ vendor_id: 'vnd_someone-else' }) }), 400, 'invalid_vendor');
    await assertLnkfiError(await api(h, '/v1/connection/authorize', { body: newConnectionBody({ system: 'quickbooks' }) }), 400, 'unsupported_system');
    await assertLnkfiError(await api(h, '/v1/connection/authorize', { body: newConnectionBody({ vendor_redirect_url: 'javascript:alert(1)' }) }), 400, 'invalid_request');
    await assertLnkfiError(await api(h, '/v1/connection/authorize', { body: newConnectionBody({ redirect_uri: 'https://x.example' }) }), 400, 'invalid_request');
  });

  it('reauthorizes with existing_connection_id alone (no consent, no client secret); an unknown one is a 404', async () => {
    const c = await connect(h);
    const answer = await authorize(h, {
      system: 'xero',
      vendor_id: SANDBOX_VENDOR_ID,
      vendor_redirect_url: 'https://vendor.example/back',
      existing_connection_id: c.connectionId,
    });
    assert.equal(answer.existing_connection_id, c.connectionId);
    assert.equal(answer.vendor_external_id, c.externalId, 'the connection keeps its external id');
    const unknown = await api(h, '/v1/connection/authorize', {
      body: { system: 'xero', vendor_id: SANDBOX_VENDOR_ID, vendor_redirect_url: 'https://vendor.example/back', existing_connection_id: 'con_nope' },
    });
    await assertLnkfiError(unknown, 404, 'connection_not_found');
  });
});

describe('LnkFi sandbox: the browser at Xero and back', () => {
  let h: Harness;
  before(async () => (h = await startHarness()));
  after(() => stopHarness(h));

  const resultOf = async (decision: XeroDecision, overrides: Record<string, unknown> = {}) => {
    const { authorization_url } = await authorize(h, newConnectionBody(overrides));
    return authorizeAtXero(authorization_url, decision);
  };

  it('sends the browser to vendor_redirect_url with result=success, keeping its own query (our state)', async () => {
    const back = await resultOf('approve');
    assert.equal(back.origin + back.pathname, 'https://vendor.example/back');
    assert.equal(back.searchParams.get('state'), 'abc');
    assert.equal(back.searchParams.get('result'), 'success');
  });

  it('says result=canceled when the end user cancels at Xero, and result=error when Xero fails', async () => {
    const before = h.receiver.received.length;
    assert.equal((await resultOf('cancel')).searchParams.get('result'), 'canceled');
    assert.equal((await resultOf('error')).searchParams.get('result'), 'error');
    assert.equal(h.receiver.received.length, before, 'no connection, no webhook');
  });

  it('says result=error when the Xero app secret is wrong (the code exchange fails)', async () => {
    const back = await resultOf('approve', { system_client_secret: 'not-the-secret' });
    assert.equal(back.searchParams.get('result'), 'error');
  });

  it("shows Xero's error page for an unknown client_id, and a used session's page is gone", async () => {
    const { authorization_url } = await authorize(h, newConnectionBody({ system_client_id: 'UNKNOWNCLIENT' }));
    const page = await fetch(authorization_url);
    assert.equal(page.status, 400);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);

    const used = await authorize(h, newConnectionBody());
    await authorizeAtXero(used.authorization_url, 'cancel');
    assert.equal((await fetch(used.authorization_url)).status, 400);
  });

  it('asks again for an e-mail address when the form has none', async () => {
    const { authorization_url } = await authorize(h, newConnectionBody());
    const state = new URL(authorization_url).searchParams.get('state') ?? '';
    const response = await fetch(new URL('/xero/identity/connect/authorize', authorization_url), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ state, email: '', decision: 'approve' }).toString(),
      redirect: 'manual',
    });
    assert.equal(response.status, 400);
    assert.match(await response.text(), /Enter your e-mail address/);
  });
});

describe('LnkFi sandbox: webhooks', () => {
  let h: Harness;
  before(async () => (h = await startHarness()));
  after(() => stopHarness(h));

  it('signs connection_completed with the hex HMAC-SHA256 of the raw body and sends the reference headers', async () => {
    const c = await connect(h);
    const { raw, headers, json } = c.webhook;
    const expected = createHmac('sha256', WEBHOOK_SECRET).update(raw).digest('hex');
    assert.equal(headers['x-lnkfi-webhook-signature'], expected);
    assert.match(String(headers['x-lnkfi-webhook-id']), /^owh_[0-9a-f-]{36}$/);
    assert.equal(headers['x-lnkfi-webhook-vendor-id'], SANDBOX_VENDOR_ID);
    assert.equal(headers['user-agent'], 'LnkFi/1.0.0');
    assert.match(String(headers['content-type']), /^application\/json/);
    assert.equal(json.type, 'connection_completed');
    assert.equal(json.system, 'xero');
    assert.equal(json.vendor_id, SANDBOX_VENDOR_ID);
    assert.equal(json.vendor_external_id, c.externalId);
    assert.match(c.connectionId, /^con_[0-9a-f-]{36}$/);
    assert.ok(c.apiKey.length >= 32);
    assert.deepEqual(json.instances, [{ id: c.instanceId, display: 'Acme' }]);
  });

  it('delivers connection_completed before the redirect, and after it for late_webhook', async () => {
    const early = randomUUID();
    const first = await authorize(h, newConnectionBody({ vendor_external_id: early }));
    await authorizeAtXero(first.authorization_url, 'approve');
    assert.ok(h.receiver.received.some((w) => w.json.vendor_external_id === early), 'already there when the browser is redirected');

    const late = randomUUID();
    const second = await authorize(h, newConnectionBody({ vendor_external_id: late }));
    await authorizeAtXero(second.authorization_url, 'approve', 'late_webhook@example.com');
    assert.ok(!h.receiver.received.some((w) => w.json.vendor_external_id === late), 'not yet when the browser is redirected');
    await waitForWebhook(h.receiver, (w) => w.json.vendor_external_id === late, 'the late connection_completed');
  });

  it('tries a failed delivery again with the same webhook id', async () => {
    h.receiver.failNext = 1;
    const c = await connect(h);
    assert.match(String(c.webhook.headers['x-lnkfi-webhook-id']), /^owh_/);
    assert.equal(h.receiver.failNext, 0, 'the first attempt was refused');
  });

  it('reauthorization keeps the connection_id, sends connection_completed again with a new api_key, and retires the old key', async () => {
    const c = await connect(h);
    const { authorization_url } = await authorize(h, {
      system: 'xero',
      vendor_id: SANDBOX_VENDOR_ID,
      vendor_redirect_url: 'https://vendor.example/again',
      existing_connection_id: c.connectionId,
    });
    const count = h.receiver.received.length;
    const back = await authorizeAtXero(authorization_url, 'approve');
    assert.equal(back.searchParams.get('result'), 'success');
    const again = await waitForWebhook(h.receiver, (w) => h.receiver.received.indexOf(w) >= count && w.json.connection_id === c.connectionId, 'again');
    assert.equal(again.json.type, 'connection_completed');
    assert.deepEqual(again.json.instances, c.webhook.json.instances);
    assert.notEqual(again.json.api_key, c.apiKey);
    assert.notEqual(again.headers['x-lnkfi-webhook-id'], c.webhook.headers['x-lnkfi-webhook-id']);
    await assertLnkfiError(await proxy(h, c, `${XERO}/Organisation`), 401, 'invalid_api_key');
    assert.equal((await proxy(h, c, `${XERO}/Organisation`, again.json.api_key as string)).status, 200);
  });

  it('sends connection_disconnected when the end user revokes access at Xero; the proxy then answers 401', async () => {
    const c = await connect(h);
    const revoked = await api(h, `/sandbox/connections/${c.connectionId}/revoke`, { body: {} });
    assert.equal(revoked.status, 204);
    const webhook = await waitForWebhook(h.receiver, (w) => w.json.type === 'connection_disconnected' && w.json.connection_id === c.connectionId, 'disconnected');
    assert.equal(webhook.headers['x-lnkfi-webhook-signature'], createHmac('sha256', WEBHOOK_SECRET).update(webhook.raw).digest('hex'));
    assert.equal(webhook.json.api_key, undefined);
    assert.equal(webhook.json.vendor_external_id, c.externalId);
    await assertLnkfiError(await proxy(h, c, `${XERO}/Organisation`), 401, 'connection_revoked');
  });
});

describe('LnkFi sandbox: DELETE /v1/connection', () => {
  let h: Harness;
  before(async () => (h = await startHarness()));
  after(() => stopHarness(h));

  it('disconnects with the API key; again is still disconnected; a disconnected connection can be reauthorized', async () => {
    const c = await connect(h);
    const body = { vendor_id: SANDBOX_VENDOR_ID, connection_id: c.connectionId };
    for (let i = 0; i < 2; i++) {
      const response = await api(h, '/v1/connection', { method: 'DELETE', body, apiKey: c.apiKey });
      assert.equal(response.status, 200);
      assert.deepEqual(await response.json(), { status: 'disconnected' });
    }
    await assertLnkfiError(await proxy(h, c, `${XERO}/Organisation`), 401, 'connection_disconnected');

    const { authorization_url } = await authorize(h, {
      system: 'xero',
      vendor_id: SANDBOX_VENDOR_ID,
      vendor_redirect_url: 'https://vendor.example/back',
      existing_connection_id: c.connectionId,
    });
    await authorizeAtXero(authorization_url, 'approve');
    const again = await waitForWebhook(h.receiver, (w) => w.json.connection_id === c.connectionId && w.json.api_key !== c.apiKey, 'reauthorized');
    assert.equal((await proxy(h, c, `${XERO}/Organisation`, again.json.api_key as string)).status, 200);
  });

  it("needs the connection's own API key", async () => {
    const c = await connect(h);
    const other = await connect(h);
    const body = { vendor_id: SANDBOX_VENDOR_ID, connection_id: c.connectionId };
    await assertLnkfiError(await api(h, '/v1/connection', { method: 'DELETE', body }), 401, 'unauthorized');
    await assertLnkfiError(await api(h, '/v1/connection', { method: 'DELETE', body, apiKey: 'lnk_forged' }), 401, 'invalid_api_key');
    await assertLnkfiError(await api(h, '/v1/connection', { method: 'DELETE', body, apiKey: other.apiKey }), 403, 'forbidden');
    assert.equal((await proxy(h, c, `${XERO}/Organisation`)).status, 200, 'still connected');
  });
});

describe('LnkFi sandbox: POST /v1/connection/proxy to Xero', () => {
  let h: Harness;
  let c: Connected;
  before(async () => {
    h = await startHarness();
    c = await connect(h);
  });
  after(() => stopHarness(h));

  const json = async <T>(response: Response): Promise<T> => {
    assert.equal(response.status, 200, await response.clone().text());
    return (await response.json()) as T;
  };

  it("answers Xero's Organisation, with the rate-limit headers counting down", async () => {
    const first = await proxy(h, c, `${XERO}/Organisation`);
    const second = await proxy(h, c, `${XERO}/Organisation`);
    const body = await json<{ Status: string; DateTimeUTC: string; Organisations: { OrganisationID: string; Name: string }[] }>(first);
    assert.equal(body.Status, 'OK');
    assert.equal(body.DateTimeUTC, `/Date(${START})/`);
    assert.equal(body.Organisations[0]?.OrganisationID, c.instanceId);
    const [a, b] = [remaining(first), remaining(second)];
    assert.equal(Number(a.minute) - 1, Number(b.minute));
    assert.equal(Number(a.day) - 1, Number(b.day));
    assert.ok(Number(b.minute) < 60 && Number(b.day) < 5000);
  });

  it("filters Xero's Accounts with where: three active bank accounts and an archived one", async () => {
    type Account = { AccountID: string; Type: string; Status: string; CurrencyCode: string; BankAccountNumber: string };
    const all = await json<{ Accounts: Account[] }>(await proxy(h, c, `${XERO}/Accounts`));
    const bank = await json<{ Accounts: Account[] }>(await proxy(h, c, `${XERO}/Accounts?where=${encodeURIComponent('Type=="BANK"')}`));
    assert.ok(all.Accounts.length > bank.Accounts.length);
    assert.deepEqual(bank.Accounts.map((a) => a.Status), ['ACTIVE', 'ACTIVE', 'ACTIVE', 'ARCHIVED']);
    assert.ok(bank.Accounts.every((a) => a.Type === 'BANK' && a.CurrencyCode === 'USD' && a.BankAccountNumber));
  });

  it('pages BankTransactions by 100 with a pagination summary; a day later there is one more per account', async () => {
    type Txn = { BankTransactionID: string; Date: string; Status: string; BankAccount: { AccountID: string } };
    type Paged = { BankTransactions: Txn[]; pagination: { page: number; pageSize: number; pageCount: number; itemCount: number } };
    const accounts = await json<{ Accounts: { AccountID: string }[] }>(await proxy(h, c, `${XERO}/Accounts?where=${encodeURIComponent('Type=="BANK" && Status=="ACTIVE"')}`));
    const accountId = accounts.Accounts[0]?.AccountID ?? '';
    const where = encodeURIComponent(`BankAccount.AccountID=guid("${accountId}")`);
    const page1 = await json<Paged>(await proxy(h, c, `${XERO}/BankTransactions?where=${where}&page=1`));
    // 90 days of history and today; one of them DELETED (still listed, as Xero does).
    assert.deepEqual(page1.pagination, { page: 1, pageSize: 100, pageCount: 1, itemCount: 91 });
    assert.ok(page1.BankTransactions.every((t) => t.BankAccount.AccountID === accountId));
    assert.equal(page1.BankTransactions.filter((t) => t.Status === 'DELETED').length, 1);
    assert.match(page1.BankTransactions[0]?.Date ?? '', /^\/Date\(\d+\+0000\)\/$/);

    const everything = await json<Paged>(await proxy(h, c, `${XERO}/BankTransactions?page=2`));
    assert.deepEqual(everything.pagination, { page: 2, pageSize: 100, pageCount: 3, itemCount: 3 * 91 });

    h.clock.now += DAY_MS;
    const later = await json<Paged>(await proxy(h, c, `${XERO}/BankTransactions?where=${where}&page=1`));
    assert.equal(later.pagination.itemCount, 92);
    assert.deepEqual(later.BankTransactions.slice(0, 91).map((t) => t.BankTransactionID), page1.BankTransactions.map((t) => t.BankTransactionID));
    h.clock.now -= DAY_MS;
  });

  it("passes Xero's own errors through: an unknown resource, a where it cannot parse, a bad page", async () => {
    const missing = await proxy(h, c, `${XERO}/Invoices`);
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { Status: number }).Status, 404);
    assert.ok(remaining(missing).minute !== null, 'a proxied call that reached Xero counts');
    const where = await proxy(h, c, `${XERO}/Accounts?where=${encodeURIComponent('Name.Contains("x")')}`);
    assert.equal(where.status, 400);
    assert.equal(((await where.json()) as { Type: string }).Type, 'QueryParseException');
    const page = await proxy(h, c, `${XERO}/BankTransactions?page=zero`);
    assert.equal(page.status, 400);
    assert.equal(((await page.json()) as { Type: string }).Type, 'ValidationException');
  });

  it("rejects another system's URL, an unknown instance, and a missing or unknown key", async () => {
    await assertLnkfiError(await proxy(h, c, 'https://evil.example/api.xro/2.0/Accounts'), 400, 'invalid_request');
    const instance = await api(h, '/v1/connection/proxy', { body: { connection_id: c.connectionId, url: `${XERO}/Accounts`, instance_id: randomUUID() }, apiKey: c.apiKey });
    await assertLnkfiError(instance, 404, 'instance_not_found');
    const noKey = await api(h, '/v1/connection/proxy', { body: { connection_id: c.connectionId, url: `${XERO}/Accounts`, instance_id: c.instanceId } });
    await assertLnkfiError(noKey, 401, 'unauthorized');
    assert.equal(noKey.headers.get('www-authenticate'), 'APIKey realm="lnkfi"');
    await assertLnkfiError(await proxy(h, c, `${XERO}/Accounts`, 'lnk_forged'), 401, 'invalid_api_key');
  });

  it('answers bad input with a 4xx and an LnkFi error body, never a 500', async () => {
    const cases: { path: string; method?: string; raw?: string; contentType?: string; body?: unknown; status: number }[] = [
      { path: '/v1/connection/authorize', raw: '{"system":', status: 400 },
      { path: '/v1/connection/authorize', raw: '[]', status: 400 },
      { path: '/v1/connection/authorize', raw: 'null', status: 400 },
      { path: '/v1/connection/authorize', body: newConnectionBody(), contentType: 'text/plain', status: 415 },
      { path: '/v1/connection/authorize', body: newConnectionBody({ consent_given: 'yes' }), status: 400 },
      { path: '/v1/connection/authorize', body: newConnectionBody({ vendor_external_id: 42 }), status: 400 },
      { path: '/v1/connection/authorize', raw: JSON.stringify({ pad: 'x'.repeat(70_000) }), status: 413 },
      { path: '/v1/connection/proxy', body: { connection_id: c.connectionId }, status: 400 },
      { path: '/v1/connection/proxy', body: { connection_id: c.connectionId, url: 'not a url', instance_id: c.instanceId }, status: 400 },
      { path: '/v1/connection', method: 'DELETE', body: { connection_id: c.connectionId }, status: 400 },
      { path: '/v1/connection', method: 'PUT', body: {}, status: 405 },
      { path: '/v1/nothing', method: 'GET', status: 404 },
      { path: '/sandbox/connections/con_nope', method: 'GET', status: 404 },
      { path: `/sandbox/connections/${c.connectionId}/revoke`, body: { notify: 'no' }, status: 400 },
    ];
    for (const test of cases) {
      const response = await api(h, test.path, test);
      assert.equal(response.status, test.status, `${test.method ?? 'POST'} ${test.path} ${test.raw?.slice(0, 20) ?? JSON.stringify(test.body)?.slice(0, 60)}`);
      const body = (await response.json()) as { error: unknown; message: unknown };
      assert.equal(typeof body.error, 'string');
      assert.equal(typeof body.message, 'string');
    }
    const browserCases = [
      '/xero/identity/connect/authorize',
      '/xero/identity/connect/authorize?response_type=code&client_id=x&redirect_uri=https://x.example&state=nope',
      '/v1/connection/authorize/xero/complete',
      '/v1/connection/authorize/xero/complete?state=unknown&code=abc',
    ];
    for (const path of browserCases) {
      const response = await fetch(`${h.sandbox.url}${path}`, { redirect: 'manual' });
      assert.equal(response.status, 400, path);
      assert.match(response.headers.get('content-type') ?? '', /text\/html/);
    }
  });
});

describe('LnkFi sandbox: rate limits', () => {
  let h: Harness;
  before(async () => (h = await startHarness({ rateLimits: { perMinute: 3, perDay: 5 } })));
  after(() => stopHarness(h));

  it('answers 429 with Retry-After to the end of the minute, then to the end of the UTC day', async () => {
    const c = await connect(h);
    const url = `${XERO}/Organisation`;
    const seen = [];
    for (let i = 0; i < 3; i++) seen.push(remaining(await proxy(h, c, url)));
    assert.deepEqual(seen, [
      { minute: '2', day: '4' },
      { minute: '1', day: '3' },
      { minute: '0', day: '2' },
    ]);
    h.clock.now += 15_000;
    const minute = await proxy(h, c, url);
    await assertLnkfiError(minute, 429, 'rate_limited');
    assert.equal(minute.headers.get('retry-after'), '45');
    assert.deepEqual(remaining(minute), { minute: '0', day: '2' });

    h.clock.now += 45_000;
    assert.deepEqual(remaining(await proxy(h, c, url)), { minute: '2', day: '1' });
    assert.deepEqual(remaining(await proxy(h, c, url)), { minute: '1', day: '0' });
    const day = await proxy(h, c, url);
    await assertLnkfiError(day, 429, 'rate_limited');
    // 10:01 UTC: the day budget comes back at midnight, 13 h 59 min later.
    assert.equal(day.headers.get('retry-after'), String(13 * 3600 + 59 * 60));
    assert.deepEqual(await usage(h, c.connectionId), { proxied: 5, rate_limited: 2 });
  });
});

// ======================================================================================

describe('LnkFi adapter against the sandbox', () => {
  let h: Harness;
  before(async () => (h = await startHarness()));
  after(() => stopHarness(h));

  it("authorizes with Linkflow's consent text as terms, our state on the redirect URL and the connection as vendor_external_id", async () => {
    const secrets = memorySecrets();
    const adapter = createLnkfiAdapter(adapterConfig(h), { secrets });
    const connectionId = randomUUID();
    const authorization = await adapter.authorize({ connectionId, institutionId: 'xero', mode: 'redirect', redirectUri: `${CALLBACK}?x=1`, state: 'signed.state' });
    assert.ok(authorization.kind === 'redirect');
    assert.equal(authorization.channelId, 'xero');
    assert.equal(authorization.terms, lnkfiConsentText(LEGAL_NAME));
    assert.ok(authorization.terms?.startsWith(`I consent to ${LEGAL_NAME} and LnkFi using the data`));
    assert.equal(authorization.terms?.split(LEGAL_NAME).length, 4, 'the company name, three times');
    assert.ok(!authorization.terms?.includes('[Your Company Name]'));
    assert.equal(authorization.providerRef, undefined);

    const back = await authorizeAtXero(authorization.url, 'approve');
    assert.equal(back.origin + back.pathname, CALLBACK);
    assert.equal(back.searchParams.get('x'), '1');
    assert.equal(back.searchParams.get('state'), 'signed.state');
    const webhook = await waitForWebhook(h.receiver, (w) => w.json.vendor_external_id === connectionId, 'completed');
    assert.equal(parseLnkfiWebhook(webhook.json, webhook.headers, webhook.raw).connectionId, connectionId);
  });

  it('parses the three results of the redirect, each its own outcome; a missing or unknown result is a ZodError', async () => {
    const adapter = createLnkfiAdapter(adapterConfig(h), { secrets: memorySecrets() });
    const outcomes: Record<string, unknown> = {};
    for (const decision of ['approve', 'cancel', 'error'] as const) {
      const authorization = await adapter.authorize({ connectionId: randomUUID(), institutionId: 'xero', mode: 'redirect', redirectUri: CALLBACK, state: `s-${decision}` });
      assert.equal(authorization.kind, 'redirect');
      const back = await authorizeAtXero(authorization.url, decision);
      outcomes[decision] = parseLnkfiRedirect(Object.fromEntries(back.searchParams));
    }
    assert.deepEqual(outcomes.approve, { state: 's-approve', redirect: { outcome: 'success' } });
    assert.deepEqual(outcomes.cancel, { state: 's-cancel', redirect: { outcome: 'denied', error: 'canceled' } });
    assert.deepEqual(outcomes.error, {
      state: 's-error',
      redirect: { outcome: 'failed', error: 'LnkFi could not complete the authorization with the system.' },
    });
    assert.throws(() => parseLnkfiRedirect({ state: 's' }), ZodError);
    assert.throws(() => parseLnkfiRedirect({ state: 's', result: 'maybe' }), ZodError);
    assert.throws(() => parseLnkfiRedirect({ result: 'success' }), ZodError);
    assert.throws(() => parseLnkfiRedirect({ state: 's', result: ['success', 'error'] }), ZodError);
  });

  it('refuses embedded channels and other institutions', async () => {
    const adapter = createLnkfiAdapter(adapterConfig(h), { secrets: memorySecrets() });
    const request = { connectionId: 'c', institutionId: 'xero', mode: 'redirect' as const, redirectUri: CALLBACK, state: 's' };
    await rejectsWith(adapter.authorize({ ...request, mode: 'embedded' }), 'UnsupportedMode');
    await rejectsWith(adapter.authorize({ ...request, institutionId: 'quickbooks' }), 'UnsupportedInstitution');
  });

  it('turns connection_completed into a connected event and a secret; the API key is only in the secret', async () => {
    const { connection, apiKey, secrets } = await linkWithAdapter(h);
    const webhook = h.receiver.received.find((w) => w.json.connection_id === connection.providerConnectionId);
    assert.ok(webhook);
    const parsed = parseLnkfiWebhook(webhook.json, webhook.headers, webhook.raw);
    assert.deepEqual(parsed, {
      providerConnectionId: connection.providerConnectionId,
      connectionId: webhook.json.vendor_external_id,
      event: {
        eventId: sha256Of(webhook.raw),
        kind: 'connected',
        channelId: 'xero',
        providerConnectionId: connection.providerConnectionId,
        providerRef: { instanceId: (webhook.json.instances as { id: string }[])[0]?.id },
      },
      secrets: [{ key: `connection:${connection.providerConnectionId}:api_key`, value: apiKey }],
    });
    assert.ok(!JSON.stringify(parsed.event).includes(apiKey));
    const relabelled = parseLnkfiWebhook(webhook.json, { ...webhook.headers, 'x-lnkfi-webhook-id': 'owh_relabelled' }, webhook.raw);
    assert.equal(relabelled.event?.eventId, parsed.event?.eventId, 'the unsigned X-LnkFi-Webhook-Id does not name the event');
    assert.equal(await secrets.get('lnkfi', apiKeySecretName(connection.providerConnectionId)), apiKey);
  });

  it('rejects forged webhooks and malformed ones', async () => {
    const c = await connect(h);
    const { raw, headers } = c.webhook;
    assert.ok(verifyLnkfiWebhook(raw, headers, WEBHOOK_SECRET));
    assert.ok(!verifyLnkfiWebhook(raw, headers, 'another-secret'));
    const forgedKey = Buffer.from(raw.toString('utf8').replace(c.apiKey, 'lnk_attacker'));
    assert.ok(!verifyLnkfiWebhook(forgedKey, headers, WEBHOOK_SECRET), 'a changed body');
    assert.ok(!verifyLnkfiWebhook(raw, { ...headers, 'x-lnkfi-webhook-signature': undefined }, WEBHOOK_SECRET));
    assert.ok(!verifyLnkfiWebhook(raw, { ...headers, 'x-lnkfi-webhook-signature': String(headers['x-lnkfi-webhook-signature']).slice(2) }, WEBHOOK_SECRET));
    assert.ok(!verifyLnkfiWebhook(raw, { ...headers, 'x-lnkfi-webhook-signature': 'z'.repeat(64) }, WEBHOOK_SECRET));
    const selfSigned = createHmac('sha256', 'attacker').update(raw).digest('hex');
    assert.ok(!verifyLnkfiWebhook(raw, { ...headers, 'x-lnkfi-webhook-signature': selfSigned }, WEBHOOK_SECRET));

    const parse = (json: Record<string, unknown>, given: typeof headers) => parseLnkfiWebhook(json, given, Buffer.from(JSON.stringify(json)));
    assert.throws(() => parse(c.webhook.json, { ...headers, 'x-lnkfi-webhook-id': undefined }), ZodError);
    assert.throws(() => parse(c.webhook.json, { ...headers, 'x-lnkfi-webhook-vendor-id': 'vnd_other' }), ZodError);
    assert.throws(() => parse({ ...c.webhook.json, instances: [] }, headers), ZodError);
    assert.throws(() => parse({ ...c.webhook.json, api_key: undefined }, headers), ZodError);
    const unknown = parse({ ...c.webhook.json, type: 'connection_renamed', api_key: undefined }, headers);
    assert.equal(unknown.event, null);
  });

  it('reads bank accounts and pages of transactions through the proxy, leaving deleted ones out', async () => {
    const { adapter, connection } = await linkWithAdapter(h, 'long_history@example.com');
    assert.deepEqual(await adapter.waitForJob(connection, 'list', { heartbeat: () => undefined, sleep: async () => undefined, attempt: 1, lastDetails: undefined }), {
      outcome: 'success',
      channels: [{ id: 'xero', mode: 'redirect', expiresAt: null }],
    });
    const listed = await adapter.listAccounts(connection);
    assert.deepEqual(listed.map((a) => [a.name, a.type, a.currency]), [
      ['Business Cheque Account', 'BANK', 'USD'],
      ['Business Savings Account', 'BANK', 'USD'],
      ['Business Visa Card', 'CREDITCARD', 'USD'],
    ]);
    assert.ok(listed.every((a) => /^\d{4}$/.test(a.mask ?? '')));
    const accounts = await adapter.fetchAccounts(connection);
    assert.deepEqual(accounts.map((a) => a.providerAccountId), listed.map((a) => a.id));
    assert.ok(accounts.every((a) => a.balance === null && a.accountNumber !== null));

    const first = listed[0]?.id ?? '';
    const { items, pages } = await allTransactions(adapter, connection, first);
    // Three years of history and today (1096), less the deleted one; 100 a page.
    assert.equal(pages, 11);
    assert.equal(items.length, 1095);
    assert.equal(new Set(items.map((t) => t.providerTransactionId)).size, items.length);
    assert.ok(items.every((t) => t.providerAccountId === first && /^-?\d+\.\d{2}$/.test(t.amount) && t.currency === 'USD' && t.label.length > 0));
    assert.ok(items.some((t) => t.amount.startsWith('-')) && items.some((t) => !t.amount.startsWith('-')), 'SPEND is negative, RECEIVE positive');
    assert.equal(items.at(-1)?.bookedAt, new Date(Date.UTC(2025, 0, 15)).toISOString());
    await rejectsWith(adapter.fetchTransactions(connection, 'not-a-guid")||true', null, null), 'LnkfiBadResponse');
  });

  it('lists 25 accounts for many_accounts, and the first of two organisations for two_orgs', async () => {
    const many = await linkWithAdapter(h, 'many_accounts@example.com');
    assert.equal((await many.adapter.listAccounts(many.connection)).length, 25);

    const two = await linkWithAdapter(h, 'two_orgs@example.com');
    const webhook = h.receiver.received.find((w) => w.json.connection_id === two.connection.providerConnectionId);
    assert.deepEqual((webhook?.json.instances as { display: string }[]).map((i) => i.display), ['Acme', 'Acme UK Ltd']);
    assert.equal(two.connection.providerRef.instanceId, (webhook?.json.instances as { id: string }[])[0]?.id);
    assert.deepEqual([...new Set((await two.adapter.listAccounts(two.connection)).map((a) => a.currency))], ['USD']);
  });

  it('uses the API key from deps.secrets only, on every call: missing is a non-retryable failure, a new one is used at once', async () => {
    const { adapter, connection, secrets, apiKey } = await linkWithAdapter(h);
    const key = apiKeySecretName(connection.providerConnectionId);
    await secrets.delete('lnkfi', key);
    const missing = await rejectsWith(adapter.listAccounts(connection), 'LnkfiMissingApiKey');
    assert.equal(missing.nonRetryable, true);
    assert.match(missing.message, new RegExp(connection.providerConnectionId));
    await secrets.put('lnkfi', key, apiKey);
    assert.equal((await adapter.listAccounts(connection)).length, 3);

    // Reauthorization: a new key arrives by webhook and goes into the secrets; the old one is dead.
    const authorization = await adapter.authorize({
      connectionId: randomUUID(),
      institutionId: 'xero',
      mode: 'redirect',
      redirectUri: CALLBACK,
      state: 'again',
      existing: connection,
    });
    assert.equal(authorization.kind, 'redirect');
    const count = h.receiver.received.length;
    await authorizeAtXero(authorization.url, 'approve');
    const again = await waitForWebhook(h.receiver, (w) => h.receiver.received.indexOf(w) >= count && w.json.connection_id === connection.providerConnectionId, 'again');
    const parsed = parseLnkfiWebhook(again.json, again.headers, again.raw);
    assert.equal(parsed.providerConnectionId, connection.providerConnectionId, 'the same LnkFi connection');
    const rejected = await rejectsWith(adapter.listAccounts(connection), 'LnkfiUnauthorized');
    assert.ok(!rejected.message.includes(apiKey));
    for (const secret of parsed.secrets ?? []) await secrets.put('lnkfi', secret.key, secret.value);
    assert.equal((await adapter.listAccounts(connection)).length, 3);
  });

  it('meets a revocation at Xero as AUTH_FAILED, from the proxy (401) or from the webhook', async () => {
    const { adapter, connection } = await linkWithAdapter(h);
    const revoke = await api(h, `/sandbox/connections/${connection.providerConnectionId}/revoke`, { body: { notify: false } });
    assert.equal(revoke.status, 204);
    const outcome = await adapter.waitForJob(connection, 'sync', { heartbeat: () => undefined, sleep: async () => undefined, attempt: 1, lastDetails: undefined });
    assert.deepEqual(outcome, { outcome: 'failed', status: 'AUTH_FAILED', channelId: 'xero' });
    const failed = await rejectsWith(adapter.fetchAccounts(connection), 'LnkfiUnauthorized');
    assert.equal(failed.nonRetryable, true);

    const other = await linkWithAdapter(h);
    await api(h, `/sandbox/connections/${other.connection.providerConnectionId}/revoke`, { body: {} });
    const webhook = await waitForWebhook(h.receiver, (w) => w.json.type === 'connection_disconnected' && w.json.connection_id === other.connection.providerConnectionId, 'revoked');
    assert.ok(verifyLnkfiWebhook(webhook.raw, webhook.headers, WEBHOOK_SECRET));
    const parsed = parseLnkfiWebhook(webhook.json, webhook.headers, webhook.raw);
    assert.equal(parsed.secrets, undefined);
    assert.deepEqual(parsed.event, {
      eventId: sha256Of(webhook.raw),
      kind: 'failure',
      status: 'AUTH_FAILED',
      channelId: 'xero',
      providerConnectionId: other.connection.providerConnectionId,
    });
  });

  it('disconnects; one already disconnected counts as removed', async () => {
    const { adapter, connection } = await linkWithAdapter(h);
    await adapter.disconnect(connection);
    await adapter.disconnect(connection);
    const status = await fetch(`${h.sandbox.url}/sandbox/connections/${connection.providerConnectionId}`);
    assert.equal(((await status.json()) as { status: string }).status, 'disconnected');
    await rejectsWith(adapter.listAccounts(connection), 'LnkfiUnauthorized');
  });
});

describe('LnkFi adapter and the rate limits', () => {
  let h: Harness;
  before(async () => (h = await startHarness({ rateLimits: { perMinute: 3, perDay: 100 } })));
  after(() => stopHarness(h));

  it('waits out the minute budget before the next call instead of running into 429s', async () => {
    const { adapter, connection } = await linkWithAdapter(h, 'long_history@example.com');
    const startedAt = h.clock.now;
    const [account] = await adapter.listAccounts(connection);
    const { pages } = await allTransactions(adapter, connection, account?.id ?? '');
    assert.equal(pages, 11);
    // 12 calls, 3 a minute: three full minutes waited after each spent budget.
    assert.deepEqual(await usage(h, connection.providerConnectionId), { proxied: 12, rate_limited: 0 });
    assert.equal(h.clock.now - startedAt, 3 * 60_000);
  });

  it('fails retryably with nextRetryDelay from Retry-After when LnkFi answers 429', async () => {
    const { adapter, connection, secrets } = await linkWithAdapter(h);
    for (let i = 0; i < 3; i++) await adapter.listAccounts(connection);
    // Another worker's adapter knows nothing of the spent budget: LnkFi's 429 tells it.
    h.clock.now += 20_000;
    const fresh = createLnkfiAdapter(adapterConfig(h), { secrets });
    const failure = await rejectsWith(fresh.listAccounts(connection), 'LnkfiRateLimited');
    assert.equal(failure.nonRetryable, false);
    assert.equal(failure.nextRetryDelay, 40_000);
    assert.deepEqual(await usage(h, connection.providerConnectionId), { proxied: 3, rate_limited: 1 });
  });

  it('inside an activity: waits with heartbeats where the activity heartbeats, else fails retryably with nextRetryDelay', async () => {
    const { adapter, connection } = await linkWithAdapter(h);
    for (let i = 0; i < 3; i++) await adapter.listAccounts(connection);
    const before = h.clock.now;

    const short = new MockActivityEnvironment({ startToCloseTimeoutMs: 60_000 }, { logger: quietLogger });
    const failure = await rejectsWith(short.run(() => adapter.listAccounts(connection)), 'LnkfiRateLimited');
    assert.equal(failure.nextRetryDelay, 60_000);
    assert.equal(h.clock.now, before, 'no waiting in an activity that cannot heartbeat');

    const long = new MockActivityEnvironment({ startToCloseTimeoutMs: 30 * 60_000, heartbeatTimeoutMs: 60_000 }, { logger: quietLogger });
    let heartbeats = 0;
    long.on('heartbeat', () => heartbeats++);
    const listed: unknown = await long.run(() => adapter.listAccounts(connection));
    assert.ok(Array.isArray(listed) && listed.length === 3);
    assert.equal(h.clock.now - before, 60_000);
    assert.ok(heartbeats >= 6, `heartbeats every 10 s of waiting (${heartbeats})`);
    assert.deepEqual(await usage(h, connection.providerConnectionId), { proxied: 4, rate_limited: 0 });
  });

  it('fails retryably until 00:00 UTC once the day budget is spent, without asking LnkFi', async () => {
    const small = await startHarness({ rateLimits: { perMinute: 60, perDay: 2 } });
    try {
      const { adapter, connection } = await linkWithAdapter(small);
      await adapter.listAccounts(connection);
      await adapter.listAccounts(connection);
      const failure = await rejectsWith(adapter.fetchAccounts(connection), 'LnkfiRateLimited');
      assert.equal(failure.nonRetryable, false);
      assert.equal(failure.nextRetryDelay, Date.UTC(2025, 0, 16) - small.clock.now);
      assert.deepEqual(await usage(small, connection.providerConnectionId), { proxied: 2, rate_limited: 0 });
    } finally {
      await stopHarness(small);
    }
  });
});

// Several workers share the spent budgets through the store (providers/types.ts BudgetResets):
// on PGlite always, and on PostgreSQL (each worker its own pool) when TEST_DATABASE_URL is set.
for (const [name, open] of testStores()) {
  describe(`LnkFi adapters on two workers, budgets in the store on ${name}`, () => {
    let h: Harness;
    const dbs: Database[] = [];
    // PGlite lives in one process: both "workers" use the one database; PostgreSQL: one pool each.
    const workerStore = async () => (name === 'PGlite' && dbs[0] ? dbs[0] : (dbs[dbs.length] = await open()));
    before(async () => (h = await startHarness({ rateLimits: { perMinute: 3, perDay: 100 } })));
    after(async () => {
      await stopHarness(h);
      for (const db of new Set(dbs)) await db.close();
    });

    it("a second worker waits out the minute budget the first one spent, instead of running into LnkFi's 429", async () => {
      const secrets = memorySecrets();
      const first = createLnkfiAdapter(adapterConfig(h), { secrets, budgetResets: createProviderBudgets(await workerStore()) });
      const second = createLnkfiAdapter(adapterConfig(h), { secrets, budgetResets: createProviderBudgets(await workerStore()) });
      const { connection } = await linkWithAdapter(h, 'alice@example.com', first, secrets);
      for (let i = 0; i < 3; i++) await first.listAccounts(connection);
      const spentAt = h.clock.now;
      h.clock.now += 20_000;
      assert.equal((await second.listAccounts(connection)).length, 3);
      assert.equal(h.clock.now - spentAt, 60_000, 'the second worker waited until the minute the first one saw spent was over');
      assert.deepEqual(await usage(h, connection.providerConnectionId), { proxied: 4, rate_limited: 0 });
    });

    it('a 429 one worker got is remembered for the other until its Retry-After', async () => {
      const secrets = memorySecrets();
      const store = createProviderBudgets(await workerStore());
      const { connection } = await linkWithAdapter(h, 'bob@example.com', createLnkfiAdapter(adapterConfig(h), { secrets }), secrets);
      // A worker without the store spends the budget; the next one (on the store) runs into the 429.
      const outside = createLnkfiAdapter(adapterConfig(h), { secrets });
      for (let i = 0; i < 3; i++) await outside.listAccounts(connection);
      h.clock.now += 15_000;
      const [a, b] = [createLnkfiAdapter(adapterConfig(h), { secrets, budgetResets: store }), createLnkfiAdapter(adapterConfig(h), { secrets, budgetResets: store })];
      const failure = await rejectsWith(a.listAccounts(connection), 'LnkfiRateLimited');
      assert.equal(failure.nextRetryDelay, 45_000);
      const before = h.clock.now;
      await b.listAccounts(connection);
      assert.equal(h.clock.now - before, 45_000, 'the other worker waited for the Retry-After the first one got');
      assert.deepEqual(await usage(h, connection.providerConnectionId), { proxied: 4, rate_limited: 1 });
    });

    it('the store sets and forgets each window on its own; a budget with nothing spent has no row', async () => {
      const db = await workerStore();
      const store = createProviderBudgets(db);
      const key = `test/${randomUUID()}`;
      await store.update('lnkfi', key, { minute: 1_000, day: 2_000 });
      assert.deepEqual(await store.get('lnkfi', key), { minute: 1_000, day: 2_000 });
      await store.update('lnkfi', key, { minute: null });
      assert.deepEqual(await store.get('lnkfi', key), { day: 2_000 });
      await store.update('lnkfi', key, { minute: 3_000 });
      assert.deepEqual(await store.get('lnkfi', key), { minute: 3_000, day: 2_000 });
      assert.deepEqual(await store.get('powens', key), {}, 'per provider');
      await store.update('lnkfi', key, { minute: null, day: null });
      const rows = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM provider_budget_resets WHERE budget_key = $1', [key]);
      assert.equal(rows[0]?.n, 0);
    });
  });
}
