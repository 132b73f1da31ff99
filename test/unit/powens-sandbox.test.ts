// The Powens sandbox over HTTP, and Linkflow's Powens adapter against it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import * as openpgp from 'openpgp';
import { ZodError } from 'zod';
import { NO_MORE_SOURCES, createPowensAdapter } from '../../providers/powens/adapter';
import { parsePowensRedirect } from '../../providers/powens/redirect';
import type { JobContext, ProviderAdapter, ProviderConnection, ProviderSecrets } from '../../providers/types';
import { type PowensSandbox, startPowensSandbox } from '../../sandbox/powens/server';
import { UpdateRejection } from '../../contract/messages';

const START = Date.UTC(2025, 0, 15, 10, 0, 0);
const DAY_MS = 86_400_000;
const CLIENT = { clientId: 'linkflow-sandbox', clientSecret: 'sandbox-secret' };
const CALLBACK = 'https://linkflow.example/callbacks/powens';

interface Harness {
  sandbox: PowensSandbox;
  clock: { now: number };
}

async function startHarness(): Promise<Harness> {
  const clock = { now: START };
  const sandbox = await startPowensSandbox({ now: () => clock.now, decoupledDelayMs: 60 });
  return { sandbox, clock };
}

function api(
  h: Harness,
  path: string,
  init: { method?: string; token?: string; body?: unknown; contentType?: string } = {},
): Promise<Response> {
  return fetch(`${h.sandbox.url}${path}`, {
    method: init.method ?? 'GET',
    headers: {
      ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
      ...(init.body !== undefined ? { 'content-type': init.contentType ?? 'application/json' } : {}),
    },
    body: init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : JSON.stringify(init.body),
    redirect: 'manual',
  });
}

async function json<T>(response: Response, status = 200): Promise<T> {
  const text = await response.text();
  assert.equal(response.status, status, text);
  return JSON.parse(text) as T;
}

/** A Powens-shaped error: the status, JSON `{code, message}`, and the message (returned). */
async function assertPowensError(response: Response, status: number, code: string): Promise<string> {
  assert.equal(response.status, status);
  assert.match(response.headers.get('content-type') ?? '', /application\/json/);
  const body = (await response.json()) as { code: string; message: string };
  assert.equal(body.code, code);
  assert.ok(body.message.length > 0);
  return body.message;
}

async function newUser(h: Harness, permanent = false): Promise<{ token: string; userId: number }> {
  const body = permanent ? CLIENT_BODY : { client_id: CLIENT.clientId };
  const user = await json<{ auth_token: string; id_user: number }>(await api(h, '/2.0/auth/init', { method: 'POST', body }));
  return { token: user.auth_token, userId: user.id_user };
}
const CLIENT_BODY = { client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret };

/** Field values encrypted with the sandbox's public key, as Powens wants every value. */
async function encrypted(h: Harness, values: Record<string, string>): Promise<Record<string, string>> {
  const { public_key } = await json<{ public_key: string }>(await api(h, '/2.0/publickey'));
  const encryptionKeys = await openpgp.readKey({ armoredKey: public_key });
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(values)) {
    out[name] = await openpgp.encrypt({ message: await openpgp.createMessage({ text: value }), encryptionKeys, format: 'armored' });
  }
  return out;
}

interface ConnectionBody {
  id: number;
  id_user: number;
  id_connector: number;
  state: string | null;
  error_message: string | null;
  fields?: { name: string; regex: string }[];
  last_update: string | null;
  expire: string | null;
  sources?: { name: string; state: string | null; access_expire: string | null }[];
}

interface AccountBody {
  id: number;
  id_connection: number;
  name: string;
  type: string;
  disabled: string | null;
  currency: { id: string };
}

async function createConnection(h: Harness, token: string, login: string, password = 'sandbox-password'): Promise<ConnectionBody> {
  const response = await api(h, '/2.0/users/me/connections?source=directaccess&expand=sources', {
    method: 'POST',
    token,
    body: { id_connector: 59, ...(await encrypted(h, { login, password })) },
  });
  return json<ConnectionBody>(response, 201);
}

const accountsOf = async (h: Harness, token: string, connectionId: number, all = false) =>
  (await json<{ accounts: AccountBody[] }>(await api(h, `/2.0/users/me/connections/${connectionId}/accounts${all ? '?all' : ''}`, { token }))).accounts;

/** The end user in the webview, as a browser: open the page, post its form, return where it redirects. */
async function inWebview(url: string, decision: 'approve' | 'deny' = 'approve', username = 'alice'): Promise<URL> {
  const page = await fetch(url);
  const html = await page.text();
  assert.equal(page.status, 200, html);
  const session = /name="session" value="([^"]+)"/.exec(html)?.[1];
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
  assert.ok(session && action, 'the page carries its session in a form');
  const submitted = await fetch(new URL(action, url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ session, username, decision }).toString(),
    redirect: 'manual',
  });
  assert.equal(submitted.status, 303, await submitted.text());
  return new URL(submitted.headers.get('location') ?? '');
}

async function webviewUrl(h: Harness, token: string, path: string, params: Record<string, string>): Promise<string> {
  const { code } = await json<{ code: string }>(await api(h, '/2.0/auth/token/code', { token }));
  const url = new URL(path, h.sandbox.url);
  for (const [name, value] of Object.entries({ client_id: CLIENT.clientId, redirect_uri: CALLBACK, code, ...params })) url.searchParams.set(name, value);
  return url.toString();
}

void describe('powens sandbox: users and tokens', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.sandbox.close());

  void test('auth/init creates a user with a temporary token that expires after 30 minutes', async () => {
    const user = await json<{ auth_token: string; type: string; id_user: number; expires_in: number }>(
      await api(h, '/2.0/auth/init', { method: 'POST', body: { client_id: CLIENT.clientId } }),
    );
    assert.equal(user.type, 'temporary');
    assert.equal(user.expires_in, 1800);
    assert.ok(Number.isInteger(user.id_user));
    assert.deepEqual(await json(await api(h, '/2.0/users/me/connections', { token: user.auth_token })), { connections: [] });
    h.clock.now = START + 31 * 60_000;
    try {
      await assertPowensError(await api(h, '/2.0/users/me/connections', { token: user.auth_token }), 401, 'unauthorized');
    } finally {
      h.clock.now = START;
    }
  });

  void test('auth/token/access exchanges the temporary token for a permanent one of the same user', async () => {
    const user = await newUser(h);
    const exchanged = await json<{ access_token: string; token_type: string }>(
      await api(h, '/2.0/auth/token/access', { method: 'POST', body: { ...CLIENT_BODY, grant_type: 'authorization_code', code: user.token } }),
    );
    assert.equal(exchanged.token_type, 'Bearer');
    assert.notEqual(exchanged.access_token, user.token);
    h.clock.now = START + 365 * DAY_MS;
    try {
      assert.equal((await api(h, '/2.0/users/me/connections', { token: exchanged.access_token })).status, 200, 'permanent tokens do not expire');
    } finally {
      h.clock.now = START;
    }
    const wrongSecret = { ...CLIENT_BODY, client_secret: 'nope', code: user.token };
    await assertPowensError(await api(h, '/2.0/auth/token/access', { method: 'POST', body: wrongSecret }), 401, 'unauthorized');
    await assertPowensError(await api(h, '/2.0/auth/token/access', { method: 'POST', body: { ...CLIENT_BODY, code: 'unknown' } }), 400, 'invalidValue');
  });

  void test('auth/init with the client secret gives a permanent token at once', async () => {
    const user = await json<{ type: string; expires_in?: number }>(await api(h, '/2.0/auth/init', { method: 'POST', body: CLIENT_BODY }));
    assert.equal(user.type, 'permanent');
    assert.equal(user.expires_in, undefined);
  });

  void test('auth/token/code gives the user a temporary code, only with its token', async () => {
    const user = await newUser(h);
    const code = await json<{ code: string; type: string; expires_in: number }>(await api(h, '/2.0/auth/token/code', { token: user.token }));
    assert.equal(code.type, 'temporary');
    assert.ok(code.code.length > 20);
    await assertPowensError(await api(h, '/2.0/auth/token/code'), 401, 'unauthorized');
    await assertPowensError(await api(h, '/2.0/auth/token/code', { token: 'not-a-token' }), 401, 'unauthorized');
  });
});

void describe('powens sandbox: connectors', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.sandbox.close());

  void test('lists connectors, with sources and fields only when expanded', async () => {
    const plain = await json<{ connectors: Record<string, unknown>[] }>(await api(h, '/2.0/connectors'));
    assert.deepEqual(plain.connectors.map((c) => [c.id, c.auth_mechanism, 'sources' in c, 'fields' in c]), [
      [59, 'credentials', false, false],
      [60, 'webauth', false, false],
      [61, 'webauth', false, false],
    ]);
    const expanded = await json<{ connectors: { sources: unknown[]; fields: unknown[] }[] }>(await api(h, '/2.0/connectors?expand=sources,fields'));
    assert.ok(expanded.connectors.every((c) => Array.isArray(c.sources) && Array.isArray(c.fields)));
  });

  void test('serves a connector by id or uuid with its sources (priority, disabled) and fields (connector_sources)', async () => {
    type Connector = {
      uuid: string;
      sources: { name: string; priority: number; disabled: string | null; auth_mechanism: string }[];
      fields: { name: string; connector_sources: string[]; required: boolean }[];
    };
    const connector = await json<Connector>(await api(h, '/2.0/connectors/61?expand=sources,fields'));
    assert.deepEqual(connector.sources.map((s) => [s.name, s.priority, s.disabled, s.auth_mechanism]), [
      ['wealth', 4, null, 'credentials'],
      ['openapi', 1, null, 'webauth'],
      ['legacy', 2, '2024-06-30 00:00:00', 'credentials'],
      ['directaccess', 3, null, 'credentials'],
    ]);
    assert.deepEqual(connector.fields.find((f) => f.name === 'wealth_pin')?.connector_sources, ['wealth']);
    assert.deepEqual(await json(await api(h, `/2.0/connectors/${connector.uuid}?expand=sources,fields`)), connector);
    await assertPowensError(await api(h, '/2.0/connectors/999'), 404, 'notFound');
    assert.match(await assertPowensError(await api(h, '/2.0/connectors?expand=banks'), 400, 'invalidValue'), /expand/);
  });

  void test('publishes its OpenPGP public key', async () => {
    const key = await json<{ type: string; public_key: string }>(await api(h, '/2.0/publickey'));
    assert.equal(key.type, 'PGP');
    assert.ok(await openpgp.readKey({ armoredKey: key.public_key }));
  });
});

void describe('powens sandbox: credentials connections', () => {
  let h: Harness;
  let token: string;
  before(async () => {
    h = await startHarness();
    token = (await newUser(h, true)).token;
  });
  after(() => h.sandbox.close());

  void test('creates a connection from encrypted values: synced, accounts found but disabled', async () => {
    const connection = await createConnection(h, token, 'alice');
    assert.equal(connection.id_connector, 59);
    assert.equal(connection.state, null);
    assert.equal(connection.last_update, '2025-01-15 10:00:00');
    assert.deepEqual(connection.sources?.map((s) => [s.name, s.state, s.access_expire]), [['directaccess', null, null]]);
    assert.deepEqual(await accountsOf(h, token, connection.id), [], 'nothing is active before the end user consents');
    const all = await accountsOf(h, token, connection.id, true);
    assert.deepEqual(all.map((a) => [a.type, a.disabled, a.currency.id]), [
      ['checking', '2025-01-15 10:00:00', 'EUR'],
      ['card', '2025-01-15 10:00:00', 'EUR'],
    ]);
  });

  void test('refuses a wrong password with 400 wrongpass and creates no connection', async () => {
    const user = await newUser(h);
    const response = await api(h, '/2.0/users/me/connections', {
      method: 'POST',
      token: user.token,
      body: { id_connector: 59, source: 'directaccess', ...(await encrypted(h, { login: 'alice', password: 'wrong' })) },
    });
    await assertPowensError(response, 400, 'wrongpass');
    assert.deepEqual(await json(await api(h, '/2.0/users/me/connections', { token: user.token })), { connections: [] });
  });

  void test('refuses values that are not encrypted, unknown, missing, malformed or for a source it cannot take', async () => {
    const user = await newUser(h);
    const post = async (body: Record<string, unknown>, query = '') =>
      api(h, `/2.0/users/me/connections${query}`, { method: 'POST', token: user.token, body: { id_connector: 59, ...body } });
    const good = await encrypted(h, { login: 'alice', password: 'sandbox-password' });
    assert.match(await assertPowensError(await post({ login: good.login, password: 'sandbox-password' }), 400, 'invalidValue'), /password: not a PGP message/);
    assert.match(await assertPowensError(await post({ ...good, ...(await encrypted(h, { otp: '1' })) }), 400, 'invalidValue'), /otp: not a field/);
    assert.match(await assertPowensError(await post({ login: good.login }), 400, 'invalidValue'), /password: required/);
    assert.match(await assertPowensError(await post({ ...good, ...(await encrypted(h, { login: 'A!' })) }), 400, 'invalidValue'), /login: does not match/);
    assert.match(await assertPowensError(await post({ ...good, ...(await encrypted(h, { website: 'xyz' })) }), 400, 'invalidValue'), /website/);
    assert.match(await assertPowensError(await post({ ...good, password: 42 }), 400, 'invalidValue'), /password/);
    await assertPowensError(await post(good, '?source=nope'), 400, 'invalidValue');
    const multi = (source: string) =>
      api(h, `/2.0/users/me/connections?source=${source}`, { method: 'POST', token: user.token, body: { id_connector: 61, ...good } });
    assert.match(await assertPowensError(await multi('legacy'), 400, 'invalidValue'), /disabled/);
    assert.match(await assertPowensError(await multi('openapi'), 400, 'invalidValue'), /webview/);
    await assertPowensError(await api(h, '/2.0/users/me/connections', { method: 'POST', token: user.token, body: good }), 400, 'invalidValue');
    assert.deepEqual(await json(await api(h, '/2.0/users/me/connections', { token: user.token })), { connections: [] });
  });

  void test('activates accounts with PUT ?all {disabled: false}; then pages their transactions', async () => {
    const connection = await createConnection(h, token, 'alice');
    const [checking, card] = await accountsOf(h, token, connection.id, true);
    assert.ok(checking && card);
    const put = (id: number, query: string, body: unknown) => api(h, `/2.0/users/me/accounts/${id}${query}`, { method: 'PUT', token, body });
    await assertPowensError(await put(checking.id, '', { disabled: false }), 404, 'notFound');
    await assertPowensError(await api(h, `/2.0/users/me/accounts/${checking.id}/transactions`, { token }), 404, 'notFound');
    const activated = await json<AccountBody>(await put(checking.id, '?all', { disabled: false }));
    assert.equal(activated.disabled, null);
    await assertPowensError(await put(card.id, '?all', { disabled: 'no' }), 400, 'invalidValue');
    assert.deepEqual((await accountsOf(h, token, connection.id)).map((a) => a.id), [checking.id]);

    type Page = { transactions: { id: number; id_account: number; date: string; value: number; original_wording: string }[]; total: number };
    const transactions = (query: string) => api(h, `/2.0/users/me/accounts/${checking.id}/transactions${query}`, { token });
    const first = await json<Page>(await transactions('?limit=10'));
    assert.equal(first.total, 91, '90 days of history and the day of the connection');
    assert.equal(first.transactions.length, 10);
    assert.equal(first.transactions[0]?.date, '2025-01-15');
    assert.equal(first.transactions[0]?.id_account, checking.id);
    const last = await json<Page>(await transactions('?limit=10&offset=85'));
    assert.deepEqual(last.transactions.map((t) => t.date).slice(-1), ['2024-10-17']);
    assert.equal(last.transactions.length, 6);
    const whole = await json<Page>(await transactions('?limit=1000'));
    assert.equal(new Set(whole.transactions.map((t) => t.id)).size, 91);
    for (const bad of ['?limit=0', '?limit=1001', '?offset=-1', '?limit=ten', '?page=2']) await assertPowensError(await transactions(bad), 400, 'invalidValue');
  });

  void test('min_date keeps the transactions of that day and later, paged, with their total', async () => {
    const connection = await createConnection(h, token, 'alice');
    const [checking] = await accountsOf(h, token, connection.id, true);
    assert.ok(checking);
    await json(await api(h, `/2.0/users/me/accounts/${checking.id}?all`, { method: 'PUT', token, body: { disabled: false } }));
    type Page = { transactions: { id: number; date: string }[]; total: number; result_min_date: string | null; result_max_date: string | null };
    const transactions = async (query: string) => json<Page>(await api(h, `/2.0/users/me/accounts/${checking.id}/transactions${query}`, { token }));
    const whole = await transactions('?limit=1000');

    const recent = await transactions('?min_date=2025-01-06&limit=1000');
    assert.equal(recent.total, 10, '6 to 15 January');
    assert.deepEqual(recent.transactions, whole.transactions.slice(0, 10));
    assert.equal(recent.result_min_date, '2025-01-06');
    assert.equal(recent.result_max_date, '2025-01-15');
    const secondPage = await transactions('?min_date=2025-01-06&limit=4&offset=8');
    assert.equal(secondPage.total, 10);
    assert.deepEqual(secondPage.transactions.map((t) => t.date), ['2025-01-07', '2025-01-06']);
    assert.deepEqual((await transactions('?min_date=2025-01-06&offset=10')).transactions, []);

    assert.equal((await transactions('?min_date=2000-01-01')).total, 91, 'before the history: everything');
    assert.deepEqual(await transactions('?min_date=2025-01-16'), { transactions: [], total: 0, result_min_date: null, result_max_date: null });
    for (const bad of ['?min_date=2025-1-6', '?min_date=2025-02-30', '?min_date=yesterday', '?min_date=2025-01-06T00:00:00Z']) {
      assert.match(await assertPowensError(await api(h, `/2.0/users/me/accounts/${checking.id}/transactions${bad}`, { token }), 400, 'invalidValue'), /min_date/);
    }
  });

  void test('a sync a day later adds one transaction per active account and changes none', async () => {
    const connection = await createConnection(h, token, 'alice');
    const [checking] = await accountsOf(h, token, connection.id, true);
    assert.ok(checking);
    await json(await api(h, `/2.0/users/me/accounts/${checking.id}?all`, { method: 'PUT', token, body: { disabled: false } }));
    const page = async () => json<{ transactions: unknown[]; total: number }>(await api(h, `/2.0/users/me/accounts/${checking.id}/transactions?limit=1000`, { token }));
    const before = await page();
    h.clock.now = START + DAY_MS;
    try {
      const synced = await json<ConnectionBody>(await api(h, `/2.0/users/me/connections/${connection.id}`, { method: 'PUT', token }));
      assert.equal(synced.last_update, '2025-01-16 10:00:00');
      const after = await page();
      assert.equal(after.total, before.total + 1);
      assert.deepEqual(after.transactions.slice(1), before.transactions);
    } finally {
      h.clock.now = START;
    }
  });

  void test('user_coming: the next day\'s payment shows as coming under an id of its own; debited, it is the day\'s booked one', async () => {
    const connection = await createConnection(h, token, 'user_coming');
    const [checking] = await accountsOf(h, token, connection.id, true);
    assert.ok(checking);
    await json(await api(h, `/2.0/users/me/accounts/${checking.id}?all`, { method: 'PUT', token, body: { disabled: false } }));
    type Tx = { id: number; date: string; value: number; original_wording: string; coming: boolean };
    const page = async (query = '?limit=1000') => json<{ transactions: Tx[]; total: number }>(await api(h, `/2.0/users/me/accounts/${checking.id}/transactions${query}`, { token }));
    const before = await page();
    assert.equal(before.total, 92, '91 booked and one coming');
    const [coming, today] = before.transactions;
    assert.deepEqual([coming?.date, coming?.coming, today?.date, today?.coming], ['2025-01-16', true, '2025-01-15', false]);
    assert.equal(coming?.id, checking.id * 10_000 + 5_000 + 91);
    assert.deepEqual((await page('?min_date=2025-01-16')).transactions.map((t) => t.id), [coming?.id]);
    assert.deepEqual((await page('?limit=2&offset=1')).transactions.map((t) => t.id), before.transactions.slice(1, 3).map((t) => t.id));

    h.clock.now = START + DAY_MS;
    try {
      await json<ConnectionBody>(await api(h, `/2.0/users/me/connections/${connection.id}`, { method: 'PUT', token }));
      const after = await page();
      assert.equal(after.total, 93);
      const [next, booked] = after.transactions;
      assert.deepEqual([next?.date, next?.coming, next?.id], ['2025-01-17', true, checking.id * 10_000 + 5_000 + 92]);
      assert.deepEqual([booked?.date, booked?.coming, booked?.value, booked?.original_wording], ['2025-01-16', false, coming?.value, coming?.original_wording]);
      assert.notEqual(booked?.id, coming?.id, 'booked under another id');
      assert.ok(!after.transactions.some((t) => t.id === coming?.id), 'the coming one is gone');
    } finally {
      h.clock.now = START;
    }
  });

  void test('deletes a connection and its accounts', async () => {
    const connection = await createConnection(h, token, 'alice');
    const [account] = await accountsOf(h, token, connection.id, true);
    assert.equal((await api(h, `/2.0/users/me/connections/${connection.id}`, { method: 'DELETE', token })).status, 204);
    await assertPowensError(await api(h, `/2.0/users/me/connections/${connection.id}`, { token }), 404, 'notFound');
    await assertPowensError(await api(h, `/2.0/users/me/accounts/${account?.id}?all`, { token }), 404, 'notFound');
    await assertPowensError(await api(h, `/2.0/users/me/connections/${connection.id}`, { method: 'DELETE', token }), 404, 'notFound');
  });

  void test("another user's connection is not found", async () => {
    const connection = await createConnection(h, token, 'alice');
    const other = await newUser(h);
    await assertPowensError(await api(h, `/2.0/users/me/connections/${connection.id}`, { token: other.token }), 404, 'notFound');
  });
});

void describe('powens sandbox: connection states', () => {
  let h: Harness;
  let token: string;
  before(async () => {
    h = await startHarness();
    token = (await newUser(h, true)).token;
  });
  after(() => h.sandbox.close());

  const post = async (connectionId: number, values: Record<string, string>, query = '') =>
    api(h, `/2.0/users/me/connections/${connectionId}${query}`, { method: 'POST', token, body: await encrypted(h, values) });

  void test('additionalInformationNeeded asks for an SMS code; a wrong one asks again, the right one resumes the sync', async () => {
    const connection = await createConnection(h, token, 'user_otp');
    assert.equal(connection.state, 'additionalInformationNeeded');
    assert.deepEqual(connection.fields?.map((f) => [f.name, f.regex]), [['sms_code', '^[0-9]{6}$']]);
    assert.equal(connection.last_update, null);
    assert.deepEqual(await accountsOf(h, token, connection.id, true), []);

    const wrong = await json<ConnectionBody>(await post(connection.id, { sms_code: '000000' }));
    assert.equal(wrong.state, 'additionalInformationNeeded');
    assert.match(wrong.error_message ?? '', /Code incorrect/);
    await assertPowensError(await post(connection.id, { sms_code: 'abc' }), 400, 'invalidValue');
    await assertPowensError(await post(connection.id, { code: '123456' }), 400, 'invalidValue');
    const right = await json<ConnectionBody>(await post(connection.id, { sms_code: '123456' }));
    assert.equal(right.state, null);
    assert.ok(right.last_update);
    assert.equal((await accountsOf(h, token, connection.id, true)).length, 2);
  });

  void test('decoupled waits for the end user to confirm in the app, then syncs', async () => {
    const connection = await createConnection(h, token, 'user_decoupled');
    assert.equal(connection.state, 'decoupled');
    assert.match(connection.error_message ?? '', /application/);
    let current = connection;
    for (let i = 0; i < 100 && current.state === 'decoupled'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      current = await json<ConnectionBody>(await api(h, `/2.0/users/me/connections/${connection.id}`, { token }));
    }
    assert.equal(current.state, null);
    assert.ok(current.last_update);
  });

  void test('SCARequired at a sync a day or more after the authorization, until credentials are given again', async () => {
    const connection = await createConnection(h, token, 'user_sca_later');
    const sync = async () => json<ConnectionBody>(await api(h, `/2.0/users/me/connections/${connection.id}?expand=sources`, { method: 'PUT', token }));
    assert.equal((await sync()).state, null);
    h.clock.now = START + DAY_MS;
    try {
      const later = await sync();
      assert.equal(later.state, 'SCARequired');
      assert.equal(later.sources?.[0]?.state, 'SCARequired');
      const renewed = await json<ConnectionBody>(await post(connection.id, { password: 'sandbox-password' }, '?source=directaccess'));
      assert.equal(renewed.state, null);
    } finally {
      h.clock.now = START;
    }
  });

  void test('passwordExpired until a new password is given; wrongpass on update changes nothing', async () => {
    const connection = await createConnection(h, token, 'user_pwexpired');
    assert.equal(connection.state, 'passwordExpired');
    await assertPowensError(await post(connection.id, { password: 'nope' }, '?source=directaccess'), 400, 'wrongpass');
    assert.equal((await json<ConnectionBody>(await api(h, `/2.0/users/me/connections/${connection.id}`, { token }))).state, 'passwordExpired');
    assert.equal((await json<ConnectionBody>(await post(connection.id, { password: 'sandbox-password' }, '?source=directaccess'))).state, null);
  });

  void test('the next-sync control ends the next sync in any state, once', async () => {
    const connection = await createConnection(h, token, 'alice');
    const control = (body: unknown) => api(h, `/sandbox/connections/${connection.id}/next-sync`, { method: 'POST', body });
    assert.equal((await control({ state: 'bug' })).status, 204);
    const sync = async () => json<ConnectionBody>(await api(h, `/2.0/users/me/connections/${connection.id}`, { method: 'PUT', token }));
    const failed = await sync();
    assert.equal(failed.state, 'bug');
    assert.ok(failed.error_message);
    assert.equal((await sync()).state, null);
    await assertPowensError(await control({ state: 'sleeping' }), 400, 'invalidValue');
    await assertPowensError(await api(h, '/sandbox/connections/1/next-sync', { method: 'POST', body: { state: null } }), 404, 'notFound');
  });
});

void describe('powens sandbox: webview', () => {
  let h: Harness;
  let user: { token: string; userId: number };
  before(async () => {
    h = await startHarness();
    user = await newUser(h, true);
  });
  after(() => h.sandbox.close());

  void test('connect: the end user approves and is sent back with connection_id and state', async () => {
    const url = await webviewUrl(h, user.token, '/connect', { connector_ids: '60', state: 'opaque-1' });
    const page = await fetch(url);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    assert.match(await page.text(), /Powens Open Banking/);
    const back = await inWebview(url, 'approve', 'user_short_consent');
    assert.equal(`${back.origin}${back.pathname}`, CALLBACK);
    assert.equal(back.searchParams.get('state'), 'opaque-1');
    const connectionId = back.searchParams.get('connection_id');
    assert.match(connectionId ?? '', /^\d+$/);
    const connection = await json<ConnectionBody>(await api(h, `/2.0/users/me/connections/${connectionId}?expand=sources`, { token: user.token }));
    assert.equal(connection.state, null);
    assert.deepEqual(connection.sources?.map((s) => [s.name, s.access_expire]), [['openapi', '2025-01-25 10:00:00']]);
    assert.equal(connection.expire, '2025-01-25 10:00:00');
  });

  void test('deny: error=access_denied with the state, and no connection', async () => {
    const other = await newUser(h);
    const back = await inWebview(await webviewUrl(h, other.token, '/connect', { connector_ids: '60', state: 'opaque-2' }), 'deny');
    assert.equal(back.searchParams.get('error'), 'access_denied');
    assert.ok(back.searchParams.get('error_description'));
    assert.equal(back.searchParams.get('state'), 'opaque-2');
    assert.equal(back.searchParams.get('connection_id'), null);
    assert.deepEqual(await json(await api(h, '/2.0/users/me/connections', { token: other.token })), { connections: [] });
  });

  void test('reconnect renews the access of a source; revoke ends it (webauthRequired at the next sync)', async () => {
    const back = await inWebview(await webviewUrl(h, user.token, '/connect', { connector_ids: '60' }));
    const connectionId = back.searchParams.get('connection_id') ?? '';
    assert.equal((await api(h, `/sandbox/connections/${connectionId}/revoke`, { method: 'POST' })).status, 204);
    const sync = await json<ConnectionBody>(await api(h, `/2.0/users/me/connections/${connectionId}`, { method: 'PUT', token: user.token }));
    assert.equal(sync.state, 'webauthRequired');
    h.clock.now = START + 5 * DAY_MS;
    try {
      const again = await inWebview(await webviewUrl(h, user.token, '/reconnect', { connection_id: connectionId, source: 'openapi', state: 's' }));
      assert.equal(again.searchParams.get('connection_id'), connectionId);
      const renewed = await json<ConnectionBody>(await api(h, `/2.0/users/me/connections/${connectionId}`, { token: user.token }));
      assert.equal(renewed.state, null);
      assert.equal(renewed.expire, '2025-07-19 10:00:00', '180 days from the new authorization');
    } finally {
      h.clock.now = START;
    }
  });

  void test('reconnect with a source the connection lacks adds it', async () => {
    const created = await api(h, '/2.0/users/me/connections?source=directaccess', {
      method: 'POST',
      token: user.token,
      body: { id_connector: 61, ...(await encrypted(h, { login: 'alice', password: 'sandbox-password' })) },
    });
    const connection = await json<ConnectionBody>(created, 201);
    const url = await webviewUrl(h, user.token, '/reconnect', { connection_id: String(connection.id), source: 'openapi' });
    assert.equal((await inWebview(url)).searchParams.get('connection_id'), String(connection.id));
    const after = await json<ConnectionBody>(await api(h, `/2.0/users/me/connections/${connection.id}?expand=sources`, { token: user.token }));
    assert.deepEqual(after.sources?.map((s) => s.name), ['openapi', 'directaccess'], 'in priority order');
    assert.equal((await accountsOf(h, user.token, connection.id, true)).length, 4);
  });

  void test('bad webview requests get a 400 page, never a redirect', async () => {
    const url = new URL(await webviewUrl(h, user.token, '/connect', { connector_ids: '60' }));
    const variant = (change: (u: URL) => void) => {
      const copy = new URL(url);
      change(copy);
      return fetch(copy, { redirect: 'manual' });
    };
    const cases = [
      (u: URL) => u.searchParams.set('client_id', 'someone-else'),
      (u: URL) => u.searchParams.set('redirect_uri', `${CALLBACK}?x=1`),
      (u: URL) => u.searchParams.set('redirect_uri', 'javascript:alert(1)'),
      (u: URL) => u.searchParams.set('code', 'expired-or-unknown'),
      (u: URL) => u.searchParams.set('connector_ids', '59'),
      (u: URL) => u.searchParams.set('connector_ids', '60,61'),
      (u: URL) => u.searchParams.set('source', 'directaccess'),
      (u: URL) => u.searchParams.delete('connector_ids'),
      (u: URL) => u.searchParams.set('extra', '1'),
    ];
    for (const change of cases) {
      const response = await variant(change);
      assert.equal(response.status, 400, `${response.url}`);
      assert.match(response.headers.get('content-type') ?? '', /text\/html/);
      assert.doesNotMatch(await response.text(), /<script/);
    }
    const form = (body: Record<string, string>) =>
      fetch(new URL('/webview/authorize', h.sandbox.url), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(body).toString(),
        redirect: 'manual',
      });
    assert.equal((await form({ session: 'unknown', username: 'a', decision: 'approve' })).status, 400);
    assert.equal((await form({ session: 'unknown', username: 'a', decision: 'maybe' })).status, 400);
    const page = await (await fetch(url)).text();
    const session = /name="session" value="([^"]+)"/.exec(page)?.[1] ?? '';
    const empty = await form({ session, username: '', decision: 'approve' });
    assert.equal(empty.status, 400);
    assert.match(await empty.text(), /<form/);
    assert.equal((await form({ session, username: 'bob', decision: 'approve' })).status, 303);
    assert.equal((await form({ session, username: 'bob', decision: 'approve' })).status, 400, 'a session is used once');
  });
});

void describe('powens sandbox: bad input gets a 4xx in Powens shape, never a 500', () => {
  let h: Harness;
  let token: string;
  before(async () => {
    h = await startHarness();
    token = (await newUser(h, true)).token;
  });
  after(() => h.sandbox.close());

  void test('malformed bodies, queries, ids, methods and routes', async () => {
    const cases: [Promise<Response>, number, string][] = [
      [api(h, '/2.0/auth/init', { method: 'POST', body: '{not json' }), 400, 'invalidValue'],
      [api(h, '/2.0/auth/init', { method: 'POST', body: [1, 2] }), 400, 'invalidValue'],
      [api(h, '/2.0/auth/init', { method: 'POST', body: { client_id: 'x' } }), 401, 'unauthorized'],
      [api(h, '/2.0/auth/init', { method: 'POST', body: { client_secret: 'sandbox-secret' } }), 400, 'invalidValue'],
      [api(h, '/2.0/auth/init', { method: 'POST', body: { surprise: true } }), 400, 'invalidValue'],
      [api(h, '/2.0/auth/token/access', { method: 'POST', body: { code: 'x' } }), 400, 'invalidValue'],
      [api(h, '/2.0/users/me/connections', { method: 'POST', token, body: { id_connector: 'abc' } }), 400, 'invalidValue'],
      [api(h, '/2.0/users/me/connections', { method: 'POST', token, body: { id_connector: 424242 } }), 400, 'invalidValue'],
      [api(h, '/2.0/users/me/connections', { method: 'POST', token, body: 'x'.repeat(70 * 1024) }), 413, 'requestTooLarge'],
      [api(h, '/2.0/users/me/connections/abc', { token }), 404, 'notFound'],
      [api(h, '/2.0/users/me/connections/123456789012345678901', { token }), 404, 'notFound'],
      [api(h, '/2.0/users/me/connections?expand=everything', { token }), 400, 'invalidValue'],
      [api(h, '/2.0/users/me/accounts/1/transactions?limit=5', { token }), 404, 'notFound'],
      [api(h, '/2.0/users/me/accounts?all=maybe', { token }), 400, 'invalidValue'],
      [api(h, '/2.0/connectors', { method: 'DELETE' }), 405, 'methodNotAllowed'],
      [api(h, '/2.0/nothing-here'), 404, 'notFound'],
      [api(h, '/sandbox/connections/1/revoke', { method: 'POST', body: { now: true } }), 400, 'invalidValue'],
    ];
    for (const [pending, status, code] of cases) await assertPowensError(await pending, status, code);
  });

  void test('answering or updating without a pending question or a source is refused', async () => {
    const connection = await createConnection(h, token, 'alice');
    const response = await api(h, `/2.0/users/me/connections/${connection.id}`, {
      method: 'POST',
      token,
      body: await encrypted(h, { sms_code: '123456' }),
    });
    assert.match(await assertPowensError(response, 400, 'invalidValue'), /source/);
    const both = await api(h, `/2.0/users/me/connections/${connection.id}?source=directaccess`, { method: 'POST', token, body: { source: 'wealth' } });
    await assertPowensError(both, 400, 'invalidValue');
  });
});

// --- the adapter ------------------------------------------------------------------

function memorySecrets(): ProviderSecrets & { values: Map<string, string> } {
  const values = new Map<string, string>();
  return {
    values,
    put: async (provider, key, value) => void values.set(`${provider}/${key}`, value),
    get: async (provider, key) => values.get(`${provider}/${key}`) ?? null,
    delete: async (provider, key) => void values.delete(`${provider}/${key}`),
  };
}

function jobContext(beats: unknown[] = []): JobContext {
  return {
    heartbeat: (details) => void beats.push(details),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    attempt: 1,
    lastDetails: undefined,
  };
}

const authorizeRequest = (
  institutionId: string,
  existing?: ProviderConnection & { channelId?: string },
  mode: 'embedded' | 'redirect' = 'embedded',
) => ({
  connectionId: 'lf-1',
  institutionId,
  mode,
  redirectUri: CALLBACK,
  state: 'signed-state',
  ...(existing ? { existing } : {}),
});

/** The ApplicationFailure `fn` throws, for its type and details. */
async function failureOf(fn: () => Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await fn();
  } catch (error) {
    assert.ok(error instanceof ApplicationFailure, String(error));
    return error;
  }
  assert.fail('expected an ApplicationFailure');
}

void describe('powens adapter against the sandbox', () => {
  let h: Harness;
  let secrets: ReturnType<typeof memorySecrets>;
  let adapter: ProviderAdapter;
  before(async () => {
    h = await startHarness();
    secrets = memorySecrets();
    adapter = createPowensAdapter({ baseUrl: h.sandbox.url, ...CLIENT, pollIntervalMs: 15 }, { secrets });
  });
  after(() => h.sandbox.close());

  /** The token kept for a user, parsed: it must be there, and only there. */
  const kept = (userId: string) => JSON.parse(secrets.values.get(`powens/user:${userId}:token`) ?? 'null') as { token: string; type: string } | null;

  /** A credentials connection at connector 59 for `login`, with the sandbox's password. */
  async function connectWithCredentials(login: string): Promise<ProviderConnection> {
    const authorization = await adapter.authorize(authorizeRequest('59'));
    return adapter.submitCredentials({
      institutionId: '59',
      channelId: 'directaccess',
      credentials: [
        { id: 'login', value: login },
        { id: 'password', value: 'sandbox-password' },
      ],
      providerRef: authorization.providerRef ?? {},
    });
  }

  void test('credentials: fields of the source, wrongpass asked again, then a connection with a permanent token', async () => {
    const authorization = await adapter.authorize(authorizeRequest('59'));
    assert.equal(authorization.kind, 'credentials');
    assert.equal(authorization.channelId, 'directaccess');
    assert.deepEqual(Object.keys(authorization.providerRef ?? {}), ['userId']);
    const userId = authorization.providerRef?.userId ?? '';
    assert.equal(kept(userId)?.type, 'temporary');
    assert.deepEqual(authorization.kind === 'credentials' && authorization.fields, [
      { id: 'login', label: 'Identifiant', type: 'text', regexp: '^[a-z0-9_.@-]{4,64}$', required: true, encrypt: true },
      { id: 'password', label: 'Mot de passe', type: 'password', regexp: null, required: true, encrypt: true },
      {
        id: 'website',
        label: 'Espace',
        type: 'list',
        regexp: '^(par|pro)$',
        required: false,
        encrypt: true,
        description: 'Particuliers by default.',
        values: [
          { label: 'Particuliers', value: 'par' },
          { label: 'Professionnels', value: 'pro' },
        ],
      },
    ]);
    assert.deepEqual(await adapter.credentialFields('59', 'directaccess'), authorization.kind === 'credentials' ? authorization.fields : []);

    const submit = (password: string) =>
      adapter.submitCredentials({
        institutionId: '59',
        channelId: 'directaccess',
        credentials: [
          { id: 'login', value: 'alice' },
          { id: 'password', value: password },
        ],
        providerRef: authorization.providerRef ?? {},
      });
    const rejection = await failureOf(() => submit('wrong'));
    assert.equal(rejection.type, UpdateRejection.ProviderRejected);
    assert.equal(rejection.nonRetryable, true);
    assert.deepEqual((rejection.details?.[0] as { fields: { id: string }[] }).fields.map((f) => f.id), ['login', 'password']);
    assert.equal(kept(userId)?.type, 'temporary', 'no connection yet: the token stays temporary');
    const temporary = kept(userId)?.token ?? '';
    assert.deepEqual(await json(await api(h, '/2.0/users/me/connections', { token: temporary })), { connections: [] });

    const connection = await submit('sandbox-password');
    assert.deepEqual(connection.providerRef, { userId });
    const permanent = kept(userId);
    assert.equal(permanent?.type, 'permanent');
    assert.ok(permanent && !JSON.stringify([authorization, connection]).includes(permanent.token));
    assert.ok(!JSON.stringify([authorization, connection]).includes(temporary));

    const listed = await adapter.waitForJob(connection, 'list', jobContext());
    assert.deepEqual(listed, { outcome: 'success', channels: [{ id: 'directaccess', mode: 'embedded', expiresAt: null }] });
    const accounts = await adapter.listAccounts(connection);
    assert.deepEqual(accounts.map((a) => [a.name, a.type, a.currency]), [
      ['Compte de chèques', 'checking', 'EUR'],
      ['Carte Visa Premier', 'card', 'EUR'],
    ]);
    assert.deepEqual(await adapter.fetchAccounts(connection), [], 'nothing is read before consent');
    const [checking, card] = accounts;
    assert.ok(checking && card);
    await adapter.giveConsent(connection, [
      { account_id: checking.id, consent: true },
      { account_id: card.id, consent: false },
    ]);
    assert.deepEqual((await adapter.fetchAccounts(connection)).map((a) => [a.providerAccountId, a.currency]), [[checking.id, 'EUR']]);
    const first = await adapter.fetchTransactions(connection, checking.id, null, null);
    assert.equal(first.items.length, 91);
    assert.equal(first.nextCursor, null);
    assert.deepEqual(Object.keys(first.items[0] ?? {}).sort(), [
      'amount',
      'bookedAt',
      'category',
      'currency',
      'label',
      'pending',
      'pendingTransactionId',
      'providerAccountId',
      'providerTransactionId',
    ]);
    assert.ok(first.items.every((t) => !t.pending && t.pendingTransactionId === null));
    assert.equal(first.items[0]?.bookedAt, '2025-01-15T00:00:00.000Z');
    assert.match(first.items[0]?.amount ?? '', /^-?\d+\.\d{2}$/);

    await adapter.disconnect(connection);
    assert.equal(kept(userId), null, 'the token is forgotten');
    await assertPowensError(await api(h, '/2.0/users/me/connections', { token: permanent?.token }), 401, 'unauthorized');
    await adapter.disconnect(connection);
  });

  void test('long history comes in pages by limit and offset', async () => {
    const connection = await connectWithCredentials('user_long');
    const [account] = await adapter.listAccounts(connection);
    assert.ok(account);
    await adapter.giveConsent(connection, [{ account_id: account.id, consent: true }]);
    const ids: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await adapter.fetchTransactions(connection, account.id, cursor, null);
      ids.push(...page.items.map((t) => t.providerTransactionId));
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== null);
    assert.equal(pages, 3);
    assert.equal(ids.length, 3 * 365 + 1);
    assert.equal(new Set(ids).size, ids.length);
  });

  void test('since reaches Powens as min_date: only the days from it, in pages', async () => {
    const connection = await connectWithCredentials('user_long');
    const [account] = await adapter.listAccounts(connection);
    assert.ok(account);
    await adapter.giveConsent(connection, [{ account_id: account.id, consent: true }]);
    const recent = await adapter.fetchTransactions(connection, account.id, null, '2025-01-06');
    assert.deepEqual(
      recent.items.map((t) => t.bookedAt.slice(0, 10)),
      Array.from({ length: 10 }, (_, i) => `2025-01-${String(15 - i).padStart(2, '0')}`),
    );
    assert.equal(recent.nextCursor, null);

    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await adapter.fetchTransactions(connection, account.id, cursor, '2024-01-15');
      ids.push(...page.items.map((t) => t.providerTransactionId));
      cursor = page.nextCursor;
    } while (cursor !== null);
    assert.equal(ids.length, 366 + 1, 'a year (2024 is a leap year) and the day of the connection');
    assert.equal(new Set(ids).size, ids.length);
  });

  void test('coming transactions are pending; Powens gives no link from a debited one to its coming one', async () => {
    const connection = await connectWithCredentials('user_coming');
    const [account] = await adapter.listAccounts(connection);
    assert.ok(account);
    await adapter.giveConsent(connection, [{ account_id: account.id, consent: true }]);
    const { items } = await adapter.fetchTransactions(connection, account.id, null, null);
    assert.equal(items.length, 92);
    assert.deepEqual(
      items.slice(0, 2).map((t) => [t.bookedAt, t.pending, t.pendingTransactionId]),
      [['2025-01-16T00:00:00.000Z', true, null], ['2025-01-15T00:00:00.000Z', false, null]],
    );
    assert.equal(items.filter((t) => t.pending).length, 1);
  });

  void test('many accounts are all listed', async () => {
    const connection = await connectWithCredentials('user_many');
    assert.equal((await adapter.listAccounts(connection)).length, 30);
  });

  void test('an SMS code as a challenge: a wrong code brings a new challenge, the right one the accounts', async () => {
    const connection = await connectWithCredentials('user_otp');
    const asked = await adapter.waitForJob(connection, 'list', jobContext());
    assert.equal(asked.outcome, 'challenge');
    const challenge = asked.outcome === 'challenge' ? asked.challenge : assert.fail();
    assert.equal(challenge.channelId, 'directaccess');
    assert.deepEqual(challenge.fields, [{ id: 'sms_code', label: 'Code reçu par SMS', type: 'text', regexp: '^[0-9]{6}$', required: true, encrypt: true }]);
    await adapter.answerChallenge(connection, challenge, [{ id: 'sms_code', value: '000000' }]);
    const again = await adapter.waitForJob(connection, 'list', jobContext());
    assert.equal(again.outcome, 'challenge');
    assert.match(again.outcome === 'challenge' ? (again.challenge.messages[0]?.text ?? '') : '', /Code incorrect/);
    await adapter.answerChallenge(connection, challenge, [{ id: 'sms_code', value: '123456' }]);
    assert.equal((await adapter.waitForJob(connection, 'list', jobContext())).outcome, 'success');
  });

  void test('decoupled: the job waits, heartbeating, until the end user confirms in the app', async () => {
    const connection = await connectWithCredentials('user_decoupled');
    const beats: unknown[] = [];
    assert.equal((await adapter.waitForJob(connection, 'list', jobContext(beats))).outcome, 'success');
    assert.ok(beats.length > 0);
    assert.deepEqual(beats[0], { waiting: 'decoupled' });
  });

  void test('maps the states of a failed sync onto the lifecycle', async () => {
    const connection = await connectWithCredentials('alice');
    const expected = {
      SCARequired: 'USER_ACTION_REQUIRED',
      webauthRequired: 'USER_ACTION_REQUIRED',
      actionNeeded: 'USER_ACTION_REQUIRED',
      wrongpass: 'AUTH_FAILED',
      passwordExpired: 'PASSWORD_CHANGE_REQUIRED',
      bug: 'FAILED',
      websiteUnavailable: 'FAILED',
    };
    for (const [state, status] of Object.entries(expected)) {
      await api(h, `/sandbox/connections/${connection.providerConnectionId}/next-sync`, { method: 'POST', body: { state } });
      await adapter.startSync(connection);
      assert.deepEqual(await adapter.waitForJob(connection, 'sync', jobContext()), { outcome: 'failed', status, channelId: 'directaccess' }, state);
    }
    await adapter.startSync(connection);
    assert.equal((await adapter.waitForJob(connection, 'sync', jobContext())).outcome, 'success');
  });

  void test('sources in priority order, disabled ones skipped, one at a time, until NO_MORE_SOURCES', async () => {
    // Connector 61 lists wealth (4), openapi (1), legacy (2, disabled), directaccess (3).
    // The first source is a webview: asked in embedded mode, the adapter refuses rather than redirect.
    assert.equal((await failureOf(() => adapter.authorize(authorizeRequest('61')))).type, 'UNSUPPORTED_MODE');
    const first = await adapter.authorize(authorizeRequest('61', undefined, 'redirect'));
    assert.equal(first.kind, 'redirect');
    assert.equal(first.channelId, 'openapi');
    const url = new URL(first.kind === 'redirect' ? first.url : '');
    assert.equal(url.pathname, '/connect');
    assert.deepEqual(
      [...url.searchParams.keys()].sort(),
      ['client_id', 'code', 'connector_ids', 'domain', 'redirect_uri', 'source', 'state'],
    );
    assert.equal(url.searchParams.get('state'), 'signed-state');
    const back = await inWebview(url.toString(), 'approve', 'alice');
    const parsed = parsePowensRedirect(Object.fromEntries(back.searchParams));
    assert.equal(parsed.state, 'signed-state');
    assert.equal(parsed.redirect.outcome, 'success');
    const connection: ProviderConnection = {
      providerConnectionId: parsed.redirect.providerConnectionId ?? '',
      providerRef: { ...first.providerRef, ...parsed.redirect.providerRef },
    };
    const userId = connection.providerRef.userId ?? '';
    // Made permanent before the webview is offered: a Linkflow link may mint a new code after the temporary token's 30 minutes.
    assert.equal(kept(userId)?.type, 'permanent');
    const listed = await adapter.waitForJob(connection, 'list', jobContext());
    assert.deepEqual(listed.outcome === 'success' && listed.channels, [{ id: 'openapi', mode: 'redirect', expiresAt: '2025-07-14T10:00:00.000Z' }]);

    const second = await adapter.authorize(authorizeRequest('61', connection));
    assert.equal(second.channelId, 'directaccess');
    assert.deepEqual(second.kind === 'credentials' && second.fields.map((f) => f.id), ['login', 'password']);
    await adapter.submitCredentials({
      institutionId: '61',
      channelId: 'directaccess',
      credentials: [
        { id: 'login', value: 'alice' },
        { id: 'password', value: 'sandbox-password' },
      ],
      providerRef: connection.providerRef,
      existing: connection,
    });
    const third = await adapter.authorize(authorizeRequest('61', connection));
    assert.equal(third.channelId, 'wealth');
    assert.deepEqual(third.kind === 'credentials' && third.fields.map((f) => f.id), ['wealth_pin'], 'login and password are held already');
    assert.deepEqual(await adapter.credentialFields('61', 'wealth'), third.kind === 'credentials' ? third.fields : []);
    const wrongPin = await failureOf(() =>
      adapter.submitCredentials({
        institutionId: '61',
        channelId: 'wealth',
        credentials: [{ id: 'wealth_pin', value: '12' }],
        providerRef: connection.providerRef,
        existing: connection,
      }),
    );
    assert.equal(wrongPin.type, 'PowensRequestRejected');
    await adapter.submitCredentials({
      institutionId: '61',
      channelId: 'wealth',
      credentials: [{ id: 'wealth_pin', value: '1234' }],
      providerRef: connection.providerRef,
      existing: connection,
    });
    const all = await adapter.waitForJob(connection, 'list', jobContext());
    assert.deepEqual(all.outcome === 'success' && all.channels.map((c) => [c.id, c.mode]), [
      ['openapi', 'redirect'],
      ['directaccess', 'embedded'],
      ['wealth', 'embedded'],
    ]);
    assert.equal((await adapter.listAccounts(connection)).length, 6);
    const none = await failureOf(() => adapter.authorize(authorizeRequest('61', connection)));
    assert.equal(none.type, NO_MORE_SOURCES);
    assert.equal(none.nonRetryable, true);

    // Re-authorizing a source: the webview's /reconnect for webauth, the form again for credentials.
    const renew = await adapter.authorize(authorizeRequest('61', { ...connection, channelId: 'openapi' }));
    const renewUrl = new URL(renew.kind === 'redirect' ? renew.url : '');
    assert.equal(renewUrl.pathname, '/reconnect');
    assert.equal(renewUrl.searchParams.get('connection_id'), connection.providerConnectionId);
    assert.equal(renewUrl.searchParams.get('source'), 'openapi');
    const repair = await adapter.authorize(authorizeRequest('61', { ...connection, channelId: 'directaccess' }));
    assert.deepEqual(repair.kind === 'credentials' && repair.fields.map((f) => f.id), ['login', 'password']);

    const token = kept(userId)?.token ?? '';
    assert.ok(token);
    for (const handed of [first, second, third, renew, repair, connection]) assert.ok(!JSON.stringify(handed).includes(token));
  });

  void test('unknown connectors and sources fail for good', async () => {
    assert.equal((await failureOf(() => adapter.authorize(authorizeRequest('999')))).type, 'UnsupportedInstitution');
    assert.equal((await failureOf(() => adapter.authorize(authorizeRequest('../x')))).type, 'UnsupportedInstitution');
    assert.equal((await failureOf(() => adapter.credentialFields('61', 'legacy'))).type, 'UnsupportedInstitution');
    const noUser = await failureOf(() =>
      adapter.submitCredentials({ institutionId: '59', channelId: 'directaccess', credentials: [], providerRef: {} }),
    );
    assert.equal(noUser.type, 'PowensMissingUser');
  });
});

void describe('parsePowensRedirect', () => {
  void test('success, denied and failed redirects; malformed ones throw', () => {
    assert.deepEqual(parsePowensRedirect({ connection_id: '42', state: 's' }), {
      state: 's',
      redirect: { outcome: 'success', providerConnectionId: '42' },
    });
    assert.deepEqual(parsePowensRedirect({ error: 'access_denied', error_description: 'no', state: 's' }), {
      state: 's',
      redirect: { outcome: 'denied', error: 'access_denied' },
    });
    assert.deepEqual(parsePowensRedirect({ error: 'server_error', state: 's' }).redirect, { outcome: 'failed', error: 'server_error' });
    assert.deepEqual(parsePowensRedirect({ state: 's' }).redirect, { outcome: 'failed', error: 'no connection_id' });
    for (const bad of [{}, { connection_id: '42' }, { state: ['a', 'b'] }, { state: 's', connection_id: 'abc' }, null]) {
      assert.throws(() => parsePowensRedirect(bad), ZodError);
    }
  });
});
