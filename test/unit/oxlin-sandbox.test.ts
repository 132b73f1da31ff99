import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { escapeHtml } from '../../sandbox/shared/html';
import {
  SANDBOX_START,
  type SandboxHarness,
  assertOxlinError,
  json,
  sandboxApi,
  setSandboxClock,
  startSandboxHarness,
} from '../helpers/oxlin';

const START = SANDBOX_START;
const DAY_MS = 86_400_000;


/** `delayMs` must outlast a request or two where a test looks at a job while it runs. */
const startHarness = (delayMs = 30) => startSandboxHarness({ listDelayMs: delayMs, syncDelayMs: delayMs });



interface Channel {
  channel_definition_id: string;
  mode: string;
  expires?: number;
  status: string;
  last_success_date?: number;
  last_end_date?: number;
  credentials: unknown[];
  account_types: string[];
}

interface Connection {
  id: string;
  provider_id: string;
  name: string;
  status: string;
  creation_date: number;
  auto_sync: boolean;
  logo_url: string;
  channels: Channel[];
  owner: Record<string, unknown>;
}

interface OxlinEvent {
  id: string;
  event_type: string;
  resource_type: string;
  channel_definition_id: string;
  creation_date: number;
  resource: Connection;
}

interface Account {
  id: string;
  connection_id: string;
  provider_id: string;
  name: string;
  type: string;
  status: string;
  currency: string;
  balance: number;
  account_number: string;
  iban: string | null;
}

interface Transaction {
  id: string;
  account_id: string;
  date: number;
  amount: number;
  currency: string;
  label: string;
  category_id: string;
}

async function readQueue(h: SandboxHarness, queueId: string): Promise<OxlinEvent[]> {
  const response = await sandboxApi(h, `/v2.1/queues/${queueId}`);
  assert.equal(response.status, 200);
  return json<OxlinEvent[]>(response);
}

/** Polls the queue until an event of `type` arrives; returns every event read on the way. */
async function waitForEvent(h: SandboxHarness, queueId: string, type: string): Promise<OxlinEvent[]> {
  const seen: OxlinEvent[] = [];
  const deadline = Date.now() + 3000;
  while (Date.now() < deadline) {
    seen.push(...(await readQueue(h, queueId)));
    if (seen.some((event) => event.event_type === type)) return seen;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.fail(`no ${type} event; saw ${seen.map((event) => event.event_type).join(', ')}`);
}

async function authorizeUrl(h: SandboxHarness, body: Record<string, unknown>, path = '/v2.1/providers/87/channels/8701/authorize_url'): Promise<string> {
  const response = await sandboxApi(h, path, { method: 'POST', body });
  assert.equal(response.status, 201, await response.clone().text());
  assert.equal(await response.text(), '');
  const location = response.headers.get('location');
  assert.ok(location);
  return location;
}

/** Submits the bank's form like a browser would; returns the redirect's location. */
async function submitBankForm(bankPage: string, decision: 'approve' | 'deny', username = 'alice'): Promise<Response> {
  const page = await fetch(bankPage, { redirect: 'manual' });
  assert.equal(page.status, 200);
  const html = await page.text();
  const state = /name="state" value="([^"]+)"/.exec(html)?.[1];
  assert.ok(state);
  return fetch(new URL('/bank/authorize', bankPage), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ state, username, password: 'secret', decision }).toString(),
    redirect: 'manual',
  });
}

/** Runs the whole REDIRECT flow and waits until the accounts are listed. */
async function connect(h: SandboxHarness): Promise<{ connectionId: string; queueId: string; events: OxlinEvent[] }> {
  const location = await authorizeUrl(h, { redirect_uri: 'https://app.example/callback' });
  const redirect = await submitBankForm(location, 'approve');
  assert.equal(redirect.status, 303);
  const back = new URL(redirect.headers.get('location') ?? '');
  const connectionId = back.searchParams.get('connection_id');
  const queueId = back.searchParams.get('queue_id');
  assert.ok(connectionId && queueId);
  const events = await waitForEvent(h, queueId, 'LIST_ACCOUNTS_SUCCESS');
  return { connectionId, queueId, events };
}

async function accounts(h: SandboxHarness, connectionId: string): Promise<Account[]> {
  const response = await sandboxApi(h, `/v2.1/accounts?connection_id=${connectionId}`);
  assert.equal(response.status, 200);
  return json<Account[]>(response);
}

async function transactions(h: SandboxHarness, accountId: string, query = ''): Promise<{ items: Transaction[]; total: number }> {
  const response = await sandboxApi(h, `/v2.1/transactions?account_id=${accountId}${query}`);
  assert.equal(response.status, 200);
  return { items: await json<Transaction[]>(response), total: Number(response.headers.get('x-total-count')) };
}

void describe('oxlin sandbox: authentication', () => {
  let h: SandboxHarness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.sandbox.close());

  void test('issues a bearer token for the configured client, form or JSON', async () => {
    const response = await fetch(`${h.sandbox.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'client_credentials', client_id: 'linkflow-sandbox', client_secret: 'sandbox-secret' }),
    });
    assert.equal(response.status, 200);
    const body = await json<{ access_token: string; token_type: string; expires_in: number }>(response);
    assert.equal(body.token_type, 'bearer');
    assert.equal(body.expires_in, 3600);
    assert.match(body.access_token, /^[\w-]{32,}$/);
    assert.notEqual(body.access_token, h.token);
  });

  void test('rejects a wrong client secret with 401', async () => {
    const response = await fetch(`${h.sandbox.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&client_id=linkflow-sandbox&client_secret=nope',
    });
    await assertOxlinError(response, 401, 'invalid_client');
  });

  void test('rejects other grant types and malformed token requests', async () => {
    const post = (body: string) =>
      fetch(`${h.sandbox.url}/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    await assertOxlinError(await post('grant_type=password&client_id=linkflow-sandbox&client_secret=sandbox-secret'), 400, 'unsupported_grant_type');
    assert.match(await assertOxlinError(await post('client_id=linkflow-sandbox'), 400, 'invalid_request'), /grant_type/);
    assert.match(await assertOxlinError(await post('grant_type=client_credentials&extra=1'), 400, 'invalid_request'), /extra/);
  });

  void test('refuses /v2.1 calls without a valid bearer token', async () => {
    const missing = await fetch(`${h.sandbox.url}/v2.1/providers`);
    assert.match(missing.headers.get('www-authenticate') ?? '', /^Bearer /);
    await assertOxlinError(missing, 401, 'invalid_token');
    const unknown = await fetch(`${h.sandbox.url}/v2.1/providers`, { headers: { authorization: 'Bearer not-a-token' } });
    await assertOxlinError(unknown, 401, 'invalid_token');
  });

  void test('expires tokens after 3600 s of sandbox time', async () => {
    h.clock.now = START + 3601_000;
    try {
      await assertOxlinError(await sandboxApi(h, '/v2.1/providers'), 401, 'invalid_token');
    } finally {
      h.clock.now = START;
    }
  });

  void test('answers unknown routes with a JSON 404', async () => {
    await assertOxlinError(await sandboxApi(h, '/v2.1/nothing-here'), 404, 'not_found');
  });
});

void describe('oxlin sandbox: providers and authorize_url', () => {
  let h: SandboxHarness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.sandbox.close());

  void test('lists the test providers with their channel definitions', async () => {
    const response = await sandboxApi(h, '/v2.1/providers');
    assert.equal(response.status, 200);
    const providers = await json<{ id: string; name: string; channel_definitions: { id: string; mode: string; account_types: string[] }[] }[]>(response);
    const summary = providers.map((provider) => ({
      id: provider.id,
      name: provider.name,
      channels: provider.channel_definitions.map((definition) => `${definition.id} ${definition.mode} ${definition.account_types.join('+')}`),
    }));
    assert.deepEqual(summary, [
      { id: '87', name: 'Linxo Test Bank', channels: ['8701 REDIRECT CHECKINGS+CREDIT_CARD', '8702 EMBEDDED SAVINGS+LOAN'] },
      { id: '119', name: 'HSBC', channels: ['redirect1 REDIRECT CHECKINGS+CREDIT_CARD', 'embedded1 EMBEDDED SAVINGS+LOAN'] },
    ]);
  });

  void test('returns HSBC as in the reference', async () => {
    const response = await sandboxApi(h, '/v2.1/providers/119');
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), {
      id: '119',
      name: 'HSBC',
      branch_name: '',
      base_url: 'https://www.hsbc.fr/1/2/hsbc-france/particuliers/connexion',
      logo_url: 'https://static.oxlin.io/common/pictures/providers_logos/119.png',
      country_code: 'FRA',
      channel_definitions: [
        { id: 'redirect1', mode: 'REDIRECT', account_types: ['CHECKINGS', 'CREDIT_CARD'], interactive: false, credentials: [] },
        {
          id: 'embedded1',
          mode: 'EMBEDDED',
          account_types: ['SAVINGS', 'LOAN'],
          interactive: false,
          credentials: [
            { id: '3500', label: 'Identifiant', regexp: '^[\\a-zA-Z0-9@._-]{7,}$', type: 'TEXT', encrypt: false },
            { id: '3501', label: 'Réponse mémorable', regexp: '.+', type: 'PWD', encrypt: false },
            { id: '3502', label: 'Mot de passe (8 car. min.)', regexp: '^.{8,}$', type: 'PWD', encrypt: true },
          ],
        },
      ],
      unavailable: false,
    });
  });

  void test('404s an unknown provider', async () => {
    await assertOxlinError(await sandboxApi(h, '/v2.1/providers/999'), 404, 'not_found');
  });

  void test('answers 201 with the bank page in location, on both path spellings', async () => {
    const location = await authorizeUrl(h, { redirect_uri: 'https://app.example/cb' });
    assert.match(location, new RegExp(`^${h.sandbox.url}/bank/authorize\\?state=[\\w-]+$`));
    const alias = await authorizeUrl(h, { redirect_uri: 'https://app.example/cb' }, '/v2.1/providers/119/channel_definitions/redirect1/authorize_url');
    assert.notEqual(alias, location);
  });

  void test('takes redirect_uri from widget_params as in the reference example', async () => {
    await authorizeUrl(h, { widget_params: { client_id: 'x', provider_id: '87', redirect_uri: 'https://app.example/cb' } });
  });

  void test('rejects invalid authorize_url requests', async () => {
    const post = (body: unknown, path = '/v2.1/providers/87/channels/8701/authorize_url') => sandboxApi(h, path, { method: 'POST', body });
    assert.match(await assertOxlinError(await post({}), 400, 'invalid_request'), /redirect_uri/);
    assert.match(await assertOxlinError(await post({ redirect_uri: 'ftp://app.example' }), 400, 'invalid_request'), /redirect_uri/);
    assert.match(await assertOxlinError(await post({ redirect_uri: 'https://a.example', redirect_state: 'a|b' }), 400, 'invalid_request'), /redirect_state/);
    assert.match(await assertOxlinError(await post({ redirect_uri: 'https://a.example', surprise: true }), 400, 'invalid_request'), /surprise/);
    assert.match(await assertOxlinError(await post({ redirect_uri: 'https://a.example', use_client_redirect: 'yes' }), 400, 'invalid_request'), /use_client_redirect/);
    assert.match(await assertOxlinError(await post({ redirect_uri: 'https://a.example', connection_id: '1' }), 400, 'invalid_request'), /connection_id/);
    await assertOxlinError(await post('{not json'), 400, 'invalid_request');
    await assertOxlinError(await post([1, 2]), 400, 'invalid_request');
    assert.match(await assertOxlinError(await post({ redirect_uri: 'https://a.example' }, '/v2.1/providers/87/channels/8702/authorize_url'), 400, 'invalid_request'), /EMBEDDED/);
    await assertOxlinError(await post({ redirect_uri: 'https://a.example' }, '/v2.1/providers/87/channels/nope/authorize_url'), 400, 'invalid_request');
    await assertOxlinError(await post({ redirect_uri: 'https://a.example' }, '/v2.1/providers/999/channels/8701/authorize_url'), 404, 'not_found');
    await assertOxlinError(
      await post({ redirect_uri: 'https://a.example', connection_id: '424242', channel_definition_id: '8701' }),
      404,
      'not_found',
    );
  });

  void test('refuses bodies over 64 KiB with 413', async () => {
    const body = JSON.stringify({ redirect_uri: 'https://a.example', widget_params: { padding: 'x'.repeat(70 * 1024) } });
    await assertOxlinError(await sandboxApi(h, '/v2.1/providers/87/channels/8701/authorize_url', { method: 'POST', body }), 413, 'invalid_request');
  });
});

void describe('oxlin sandbox: the bank', () => {
  let h: SandboxHarness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.sandbox.close());

  void test('shows a login form named after the provider', async () => {
    const location = await authorizeUrl(h, { redirect_uri: 'https://app.example/cb' }, '/v2.1/providers/119/channels/redirect1/authorize_url');
    const response = await fetch(location);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /text\/html/);
    const html = await response.text();
    assert.match(html, /<title>HSBC<\/title>/);
    assert.match(html, /<form method="post" action="\/bank\/authorize">/);
    for (const id of ['username', 'password', 'approve', 'deny']) assert.match(html, new RegExp(`id="${id}"`));
    assert.match(html, /name="decision" value="approve"/);
    assert.match(html, /name="decision" value="deny"/);
  });

  void test('escapes what the page interpolates', () => {
    assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });

  void test('approves: 303 back to redirect_uri with connection_id, status, queue_id and state', async () => {
    const location = await authorizeUrl(h, { redirect_uri: 'https://app.example/cb?tenant=7', redirect_state: 'opaque-42' });
    const response = await submitBankForm(location, 'approve');
    assert.equal(response.status, 303);
    const back = new URL(response.headers.get('location') ?? '');
    assert.equal(`${back.origin}${back.pathname}`, 'https://app.example/cb');
    assert.equal(back.searchParams.get('tenant'), '7');
    assert.match(back.searchParams.get('connection_id') ?? '', /^\d+$/);
    assert.equal(back.searchParams.get('status'), 'SUCCESS');
    assert.ok(back.searchParams.get('queue_id'));
    assert.equal(back.searchParams.get('state'), 'opaque-42');
  });

  void test('denies: 303 with status=FAILED&error=access_denied and no connection', async () => {
    const location = await authorizeUrl(h, { redirect_uri: 'https://app.example/cb', redirect_state: 's1' });
    const response = await submitBankForm(location, 'deny');
    assert.equal(response.status, 303);
    const back = new URL(response.headers.get('location') ?? '');
    assert.equal(back.searchParams.get('status'), 'FAILED');
    assert.equal(back.searchParams.get('error'), 'access_denied');
    assert.equal(back.searchParams.get('state'), 's1');
    assert.equal(back.searchParams.get('connection_id'), null);
  });

  void test('uses a session once', async () => {
    const location = await authorizeUrl(h, { redirect_uri: 'https://app.example/cb' });
    const state = new URL(location).searchParams.get('state') ?? '';
    assert.equal((await submitBankForm(location, 'approve')).status, 303);
    const again = await fetch(new URL('/bank/authorize', location), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ state, username: 'alice', password: 'x', decision: 'approve' }).toString(),
      redirect: 'manual',
    });
    assert.equal(again.status, 400);
    assert.match(await again.text(), /already been used/);
    assert.equal((await fetch(location)).status, 400);
  });

  void test('rejects bad forms and unknown sessions with a 400 page', async () => {
    const location = await authorizeUrl(h, { redirect_uri: 'https://app.example/cb' });
    const state = new URL(location).searchParams.get('state') ?? '';
    const post = (fields: Record<string, string>) =>
      fetch(new URL('/bank/authorize', location), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(fields).toString(),
        redirect: 'manual',
      });
    assert.equal((await post({ state, username: 'a', password: 'b', decision: 'maybe' })).status, 400);
    const noUser = await post({ state, username: '', password: 'b', decision: 'approve' });
    assert.equal(noUser.status, 400);
    assert.match(await noUser.text(), /<form/);
    assert.equal((await post({ state: 'unknown', username: 'a', password: 'b', decision: 'approve' })).status, 400);
    assert.equal((await fetch(new URL('/bank/authorize?state=%3Cscript%3E', location))).status, 400);
    assert.equal((await fetch(new URL('/bank/authorize', location))).status, 400);
    // The session survived the bad attempts.
    assert.equal((await submitBankForm(location, 'approve')).status, 303);
  });

  void test('expires sessions after 30 minutes', async () => {
    const location = await authorizeUrl(h, { redirect_uri: 'https://app.example/cb' });
    h.clock.now = START + 31 * 60_000;
    try {
      const response = await fetch(location);
      assert.equal(response.status, 400);
      assert.match(await response.text(), /expired/);
    } finally {
      h.clock.now = START;
    }
  });
});

void describe('oxlin sandbox: the client creates the connection (use_client_redirect)', () => {
  let h: SandboxHarness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.sandbox.close());

  const CALLBACK = 'https://app.example/cb';
  const create = (code: string, overrides: Record<string, unknown> = {}) =>
    sandboxApi(h, '/v2.1/connections', {
      method: 'POST',
      body: { provider_id: '87', channel_definition_id: '8701', redirect_uri: CALLBACK, credentials: [{ type: 'AUTHORIZATION_CODE', value: code }], ...overrides },
    });
  async function approvedCode(username = 'alice'): Promise<URL> {
    const location = await authorizeUrl(h, { redirect_uri: CALLBACK, redirect_state: 'st-1', use_client_redirect: true });
    const response = await submitBankForm(location, 'approve', username);
    assert.equal(response.status, 303);
    return new URL(response.headers.get('location') ?? '');
  }

  void test('the bank sends back a code and the state, and names no connection', async () => {
    const back = await approvedCode();
    assert.equal(`${back.origin}${back.pathname}`, CALLBACK);
    assert.deepEqual([...back.searchParams.keys()].sort(), ['code', 'state']);
    assert.equal(back.searchParams.get('state'), 'st-1');
  });

  void test('the code creates the connection (LIST_ACCOUNTS for the bank user); sent again it answers the same one', async () => {
    const code = (await approvedCode('user_many')).searchParams.get('code') ?? '';
    const queue = await sandboxApi(h, '/v2.1/queues/subscribe', { method: 'POST', body: { topics: ['connections'] } });
    const queueId = (queue.headers.get('location') ?? '').split('/').pop() ?? '';
    const first = await create(code);
    assert.equal(first.status, 201, await first.clone().text());
    const id = (first.headers.get('location') ?? '').split('/').pop() ?? '';
    assert.match(id, /^\d+$/);
    const again = await create(code);
    assert.equal(again.status, 201);
    assert.equal(again.headers.get('location'), first.headers.get('location'));
    const events = await waitForEvent(h, queueId, 'LIST_ACCOUNTS_SUCCESS');
    assert.ok(events.some((e) => e.event_type === 'LIST_ACCOUNTS_SUCCESS' && e.resource.id === id), 'the one connection lists its accounts');
    const accounts = await json<unknown[]>(await sandboxApi(h, `/v2.1/accounts?connection_id=${id}`));
    assert.equal(accounts.length, 25, "user_many's REDIRECT channel lists 25 accounts: the bank user became the channel's");
  });

  void test('refuses a code with another provider, channel or redirect_uri, an unknown one, and one past 10 minutes', async () => {
    const code = (await approvedCode()).searchParams.get('code') ?? '';
    await assertOxlinError(await create(code, { redirect_uri: 'https://evil.example/cb' }), 400, 'invalid_grant');
    await assertOxlinError(await create(code, { provider_id: '119', channel_definition_id: 'redirect1' }), 400, 'invalid_grant');
    await assertOxlinError(await create('not-a-code'), 400, 'invalid_grant');
    await assertOxlinError(await create(code, { credentials: [{ type: 'ACCESS_TOKEN', value: code }] }), 400, 'invalid_request');
    await assertOxlinError(await create(code, { key_id: '1' }), 400, 'invalid_request');
    const late = (await approvedCode()).searchParams.get('code') ?? '';
    try {
      await setSandboxClock(h, START + 11 * 60_000);
      await assertOxlinError(await create(late), 400, 'invalid_grant');
    } finally {
      await setSandboxClock(h, START);
    }
    // The refusals spent nothing: the right request still works.
    assert.equal((await create(code)).status, 201);
  });

  void test('a code of a deleted connection is refused; use_client_redirect does not re-authorize', async () => {
    const code = (await approvedCode()).searchParams.get('code') ?? '';
    const location = (await create(code)).headers.get('location') ?? '';
    assert.equal((await sandboxApi(h, `/v2.1${location}`, { method: 'DELETE' })).status, 204);
    await assertOxlinError(await create(code), 400, 'invalid_grant');
    const id = location.split('/').pop() ?? '';
    const renewal = await sandboxApi(h, '/v2.1/providers/87/channels/8701/authorize_url', {
      method: 'POST',
      body: { redirect_uri: CALLBACK, use_client_redirect: true, connection_id: id, channel_definition_id: '8701' },
    });
    assert.match(await assertOxlinError(renewal, 400, 'invalid_request'), /use_client_redirect/);
  });

  void test('a denial sends no code', async () => {
    const location = await authorizeUrl(h, { redirect_uri: CALLBACK, use_client_redirect: true });
    const back = new URL((await submitBankForm(location, 'deny')).headers.get('location') ?? '');
    assert.equal(back.searchParams.get('code'), null);
    assert.equal(back.searchParams.get('error'), 'access_denied');
  });
});

void describe('oxlin sandbox: connection lifecycle', () => {
  let h: SandboxHarness;
  let connectionId: string;
  let queueId: string;
  before(async () => {
    h = await startHarness(250);
  });
  after(() => h.sandbox.close());

  void test('lists accounts after the redirect: LIST_ACCOUNTS_STARTED then LIST_ACCOUNTS_SUCCESS', async () => {
    const location = await authorizeUrl(h, { redirect_uri: 'https://app.example/cb' });
    const back = new URL((await submitBankForm(location, 'approve')).headers.get('location') ?? '');
    connectionId = back.searchParams.get('connection_id') ?? '';
    queueId = back.searchParams.get('queue_id') ?? '';

    const started = await readQueue(h, queueId);
    assert.deepEqual(started.map((event) => event.event_type), ['LIST_ACCOUNTS_STARTED']);
    const [first] = started;
    assert.ok(first);
    assert.equal(first.resource_type, 'CONNECTION');
    assert.equal(first.channel_definition_id, '8701');
    assert.equal(first.creation_date, START / 1000);
    assert.equal(first.resource.id, connectionId);
    assert.equal(first.resource.channels[0]?.status, 'RUNNING');
    assert.deepEqual(await readQueue(h, queueId), [], 'reading removes the events');

    const rest = await waitForEvent(h, queueId, 'LIST_ACCOUNTS_SUCCESS');
    assert.deepEqual(rest.map((event) => event.event_type), ['LIST_ACCOUNTS_SUCCESS']);
    assert.ok(Number(rest[0]?.id) > Number(first.id));
    assert.equal(rest[0]?.resource.channels[0]?.status, 'SUCCESS');
  });

  void test('serves the connection resource', async () => {
    const response = await sandboxApi(h, `/v2.1/connections/${connectionId}`);
    assert.equal(response.status, 200);
    const now = START / 1000;
    assert.deepEqual(await response.json(), {
      id: connectionId,
      provider_id: '87',
      name: 'Linxo Test Bank',
      status: 'SUCCESS',
      creation_date: now,
      auto_sync: true,
      logo_url: 'https://static.oxlin.io/common/pictures/providers_logos/87.png',
      channels: [
        {
          channel_definition_id: '8701',
          mode: 'REDIRECT',
          expires: now + 180 * 86_400,
          status: 'SUCCESS',
          last_success_date: now,
          last_end_date: now,
          credentials: [],
          account_types: ['CHECKINGS', 'CREDIT_CARD'],
        },
        { channel_definition_id: '8702', mode: 'EMBEDDED', status: 'EMPTY', credentials: [], account_types: ['SAVINGS', 'LOAN'] },
      ],
      owner: {},
    });
  });

  void test('lists the accounts as PENDING_CONSENT, without transactions', async () => {
    const listed = await accounts(h, connectionId);
    assert.deepEqual(
      listed.map((account) => [account.id, account.type, account.status, account.currency]),
      [
        [`${connectionId}01`, 'CHECKINGS', 'PENDING_CONSENT', 'EUR'],
        [`${connectionId}02`, 'CHECKINGS', 'PENDING_CONSENT', 'EUR'],
        [`${connectionId}03`, 'CREDIT_CARD', 'PENDING_CONSENT', 'EUR'],
      ],
    );
    for (const account of listed) {
      assert.equal(account.connection_id, connectionId);
      assert.equal(account.provider_id, '87');
      assert.equal(typeof account.balance, 'number');
    }
    assert.match(listed[0]?.iban ?? '', /^FR\d{25}$/);
    assert.deepEqual(await transactions(h, `${connectionId}01`), { items: [], total: 0 });
  });

  void test('validates the accounts query', async () => {
    assert.match(await assertOxlinError(await sandboxApi(h, '/v2.1/accounts'), 400, 'invalid_request'), /connection_id/);
    await assertOxlinError(await sandboxApi(h, `/v2.1/accounts?connection_id=${connectionId}&connection_id=2`), 400, 'invalid_request');
    await assertOxlinError(await sandboxApi(h, '/v2.1/accounts?connection_id=404404'), 404, 'not_found');
  });

  void test('rejects invalid consents', async () => {
    const put = (body: unknown, id = connectionId) => sandboxApi(h, `/v2.1/connections/${id}/consents`, { method: 'PUT', body });
    await assertOxlinError(await put({ consents: [] }), 400, 'invalid_request');
    await assertOxlinError(await put({ consents: [{ account_id: `${connectionId}01`, consent: 'yes' }] }), 400, 'invalid_request');
    await assertOxlinError(await put({ consents: [{ account_id: `${connectionId}01`, consent: true }], more: 1 }), 400, 'invalid_request');
    const description = await assertOxlinError(await put({ consents: [{ account_id: 'ghost-1', consent: true }, { account_id: 'ghost-2', consent: false }] }), 400, 'invalid_request');
    assert.match(description, /ghost-1/);
    assert.match(description, /ghost-2/);
    await assertOxlinError(await put({ consents: [{ account_id: `${connectionId}01`, consent: true }] }, '404404'), 404, 'not_found');
    assert.deepEqual(await readQueue(h, queueId), [], 'nothing started');
  });

  void test('applies consents: true → ACTIVE, false → deleted, then SYNC_ALL', async () => {
    const response = await sandboxApi(h, `/v2.1/connections/${connectionId}/consents`, {
      method: 'PUT',
      body: { consents: [{ account_id: `${connectionId}01`, consent: true }, { account_id: `${connectionId}03`, consent: false }] },
    });
    assert.equal(response.status, 204);
    assert.deepEqual(
      (await accounts(h, connectionId)).map((account) => [account.id, account.status]),
      [
        [`${connectionId}01`, 'ACTIVE'],
        [`${connectionId}02`, 'PENDING_CONSENT'],
      ],
    );
    const events = await waitForEvent(h, queueId, 'SYNC_ALL_SUCCESS');
    assert.deepEqual(events.map((event) => event.event_type), ['SYNC_ALL_STARTED', 'SYNC_ALL_SUCCESS']);
    assert.equal(events[0]?.resource.channels[0]?.status, 'RUNNING');
    assert.equal(events[1]?.resource.channels[0]?.status, 'SUCCESS');
    await assertOxlinError(await sandboxApi(h, `/v2.1/transactions?account_id=${connectionId}03`), 404, 'not_found');
    assert.deepEqual(await transactions(h, `${connectionId}02`), { items: [], total: 0 }, 'no consent, no data');
  });

  void test('pages transactions newest first with deterministic ids', async () => {
    const accountId = `${connectionId}01`;
    // 90 days of history plus the day of the connection.
    const firstPage = await transactions(h, accountId, '&limit=10');
    assert.equal(firstPage.total, 91);
    assert.deepEqual(firstPage.items.map((item) => item.id), Array.from({ length: 10 }, (_, i) => `${accountId}-${90 - i}`));
    const newest = firstPage.items[0];
    assert.ok(newest);
    assert.equal(newest.date, Date.UTC(2025, 0, 15) / 1000);
    assert.equal(newest.account_id, accountId);
    assert.equal(newest.currency, 'EUR');
    for (const item of firstPage.items) assert.equal(Math.round(item.amount * 100) / 100, item.amount);

    const lastPage = await transactions(h, accountId, '&limit=10&offset=85');
    assert.deepEqual(lastPage.items.map((item) => item.id), [5, 4, 3, 2, 1, 0].map((day) => `${accountId}-${day}`));
    assert.equal(lastPage.items.at(-1)?.date, Date.UTC(2024, 9, 17) / 1000);

    const all = await transactions(h, accountId, '&limit=500');
    assert.equal(all.items.length, 91);
    assert.equal((await transactions(h, accountId)).items.length, 91, "the default limit (100) covers them all");
    assert.deepEqual((await transactions(h, accountId, '&offset=200')).items, []);
  });

  void test('validates the transactions query', async () => {
    const error = (query: string) => sandboxApi(h, `/v2.1/transactions?${query}`);
    assert.match(await assertOxlinError(await error(''), 400, 'invalid_request'), /account_id/);
    const accountId = `${connectionId}01`;
    for (const bad of ['limit=0', 'limit=501', 'limit=ten', 'offset=-1', 'offset=1.5', 'page=2']) {
      await assertOxlinError(await error(`account_id=${accountId}&${bad}`), 400, 'invalid_request');
    }
    await assertOxlinError(await error('account_id=nope'), 404, 'not_found');
  });

  void test('a synchronization a day later adds exactly one transaction per account', async () => {
    const accountId = `${connectionId}01`;
    const before = await transactions(h, accountId, '&limit=500');
    await setSandboxClock(h, START + DAY_MS);
    const response = await sandboxApi(h, `/v2.1/connections/${connectionId}/synchronize`, { method: 'POST' });
    assert.equal(response.status, 202);
    await assertOxlinError(await sandboxApi(h, `/v2.1/connections/${connectionId}/synchronize`, { method: 'POST' }), 409, 'conflict');
    const events = await waitForEvent(h, queueId, 'SYNC_ALL_SUCCESS');
    assert.deepEqual(events.map((event) => event.event_type), ['SYNC_ALL_STARTED', 'SYNC_ALL_SUCCESS']);
    assert.equal(events[1]?.resource.channels[0]?.last_success_date, (START + DAY_MS) / 1000);

    const afterSync = await transactions(h, accountId, '&limit=500');
    assert.equal(afterSync.total, before.total + 1);
    assert.equal(afterSync.items[0]?.id, `${accountId}-91`);
    assert.deepEqual(afterSync.items.slice(1), before.items, 'older transactions do not change');
  });

  void test('validates synchronize and 404s unknown resources', async () => {
    await assertOxlinError(await sandboxApi(h, `/v2.1/connections/${connectionId}/synchronize`, { method: 'POST', body: { force: true } }), 400, 'invalid_request');
    await assertOxlinError(await sandboxApi(h, '/v2.1/connections/404404/synchronize', { method: 'POST' }), 404, 'not_found');
    await assertOxlinError(await sandboxApi(h, '/v2.1/connections/404404'), 404, 'not_found');
    await assertOxlinError(await sandboxApi(h, '/v2.1/queues/nope'), 404, 'not_found');
  });

  void test('re-authorization renews the same connection without new jobs', async () => {
    await setSandboxClock(h, START + 10 * DAY_MS);
    const location = await authorizeUrl(h, {
      redirect_uri: 'https://app.example/renew',
      redirect_state: 'renew-1',
      connection_id: connectionId,
      channel_definition_id: '8701',
    });
    assert.match(await (await fetch(location)).text(), /renew/);
    const response = await submitBankForm(location, 'approve');
    assert.equal(response.status, 303);
    const back = new URL(response.headers.get('location') ?? '');
    assert.equal(back.searchParams.get('connection_id'), connectionId);
    assert.equal(back.searchParams.get('status'), 'SUCCESS');
    assert.equal(back.searchParams.get('state'), 'renew-1');
    const newQueue = back.searchParams.get('queue_id') ?? '';
    assert.ok(newQueue);

    const connection = await json<Connection>(await sandboxApi(h, `/v2.1/connections/${connectionId}`));
    assert.equal(connection.channels[0]?.expires, (START + 10 * DAY_MS) / 1000 + 180 * 86_400);
    assert.equal(connection.channels[0]?.status, 'SUCCESS');
    assert.equal(connection.creation_date, START / 1000);
    await new Promise((resolve) => setTimeout(resolve, 80));
    assert.deepEqual(await readQueue(h, newQueue), []);
    assert.deepEqual(await readQueue(h, queueId), []);
    assert.equal((await accounts(h, connectionId)).length, 2);
  });

  void test('refuses re-authorization through another provider or channel', async () => {
    const post = (body: unknown, path: string) => sandboxApi(h, path, { method: 'POST', body });
    const base = { redirect_uri: 'https://app.example/renew', connection_id: connectionId };
    await assertOxlinError(await post({ ...base, channel_definition_id: 'redirect1' }, '/v2.1/providers/119/channels/redirect1/authorize_url'), 400, 'invalid_request');
    await assertOxlinError(await post({ ...base, channel_definition_id: 'redirect1' }, '/v2.1/providers/87/channels/8701/authorize_url'), 400, 'invalid_request');
  });
});

void describe('oxlin sandbox: queues/subscribe', () => {
  let h: SandboxHarness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.sandbox.close());

  void test('a subscribed queue receives every connection event', async () => {
    const response = await sandboxApi(h, '/v2.1/queues/subscribe', { method: 'POST', body: { topics: ['connections'] } });
    assert.equal(response.status, 201);
    const location = response.headers.get('location') ?? '';
    assert.match(location, /^\/queues\/[\w-]+$/);
    const queueId = location.slice('/queues/'.length);
    const { connectionId } = await connect(h);
    const events = await waitForEvent(h, queueId, 'LIST_ACCOUNTS_SUCCESS');
    assert.deepEqual(events.map((event) => [event.event_type, event.resource.id]), [
      ['LIST_ACCOUNTS_STARTED', connectionId],
      ['LIST_ACCOUNTS_SUCCESS', connectionId],
    ]);
    await assertOxlinError(await sandboxApi(h, '/v2.1/queues/subscribe', { method: 'POST', body: { topics: ['users'] } }), 400, 'invalid_request');
  });
});
