// The Flinks sandbox over HTTP (Flinks Connect, the API, webhooks, the sandbox controls), and the
// Flinks adapter, redirect parser and webhook verifier against it.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { type IncomingHttpHeaders, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { ZodError } from 'zod';
import { createFlinksAdapter } from '../../providers/flinks/adapter';
import type { FlinksConfig } from '../../providers/flinks/client';
import { parseFlinksRedirect } from '../../providers/flinks/redirect';
import { parseFlinksWebhook, verifyFlinksWebhook } from '../../providers/flinks/webhook';
import type { JobContext, ProviderAdapter, ProviderConnection, ProviderSecrets } from '../../providers/types';
import { connectAtFlinks, readForm } from '../../sandbox/flinks/end-user';
import { DEFAULT_CUSTOMER_ID, type FlinksSandbox, startFlinksSandbox } from '../../sandbox/flinks/server';
import { scenarioOf } from '../../sandbox/flinks/scenarios';

const START = Date.UTC(2025, 0, 15, 10, 0, 0);
const DAY_MS = 86_400_000;
const PENDING_MS = 30_000;
const SECRET = 'flinks-webhook-secret';
const REDIRECT = 'https://linkflow.example/callbacks/flinks?state=signed.state';
const API = `/v3/${DEFAULT_CUSTOMER_ID}/BankingServices`;

interface Received {
  raw: Buffer;
  headers: IncomingHttpHeaders;
}

interface Transaction {
  Id: string;
  Date: string;
  Code: string | null;
  Description: string;
  Debit: number | null;
  Credit: number | null;
  Balance: number;
}

interface Account {
  Id: string;
  Title: string;
  AccountNumber: string;
  Category: string;
  Type: string;
  Currency: string;
  Balance?: { Available: number; Current: number; Limit: number | null };
  Holder?: { Name: string; Address: { City: string } };
  Transactions?: Transaction[];
}

interface Detail {
  HttpStatusCode: number;
  RequestId: string;
  Institution: string;
  Login: { Id: string; Username: string; IsScheduledRefresh: boolean; LastRefresh: string | null; Type: string };
  Accounts: Account[];
}

interface SandboxLogin {
  Disabled: string | null;
  Requests: { RequestId: string; Origin: string; GetAccountsDetailCalls: number; AsyncPolls: number }[];
}

/** A sandbox on a clock the test moves, with a webhook receiver that keeps every delivery. */
interface Harness {
  sandbox: FlinksSandbox;
  clock: { now: number };
  webhooks: Received[];
  close(): Promise<void>;
}

async function startHarness(): Promise<Harness> {
  const webhooks: Received[] = [];
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      webhooks.push({ raw: Buffer.concat(chunks), headers: req.headers });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const clock = { now: START };
  const sandbox = await startFlinksSandbox({
    now: () => clock.now,
    pendingMs: PENDING_MS,
    tickMs: 10,
    webhook: { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/flinks`, secret: SECRET },
  });
  return {
    sandbox,
    clock,
    webhooks,
    close: async () => {
      await sandbox.close();
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    },
  };
}

const connectUrl = (h: Harness, params: Record<string, string> = {}): string =>
  `${h.sandbox.url}/v2/?${new URLSearchParams({ redirectUrl: REDIRECT, ...params }).toString()}`;

function api(h: Harness, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${h.sandbox.url}${path.startsWith('/') ? path : `${API}/${path}`}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    redirect: 'manual',
  });
}

async function json<T>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

/** A Flinks-shaped error: the status, HttpStatusCode and FlinksCode as expected, and a message. */
async function assertFlinksError(response: Response, status: number, flinksCode: string): Promise<string> {
  assert.equal(response.status, status);
  assert.match(response.headers.get('content-type') ?? '', /application\/json/);
  const body = await json<{ HttpStatusCode: number; FlinksCode: string; Message: string }>(response);
  assert.equal(body.HttpStatusCode, status);
  assert.equal(body.FlinksCode, flinksCode);
  assert.ok(body.Message.length > 0);
  return body.Message;
}

/** Posts a Connect form as a browser does. */
function submit(action: URL, fields: Record<string, string>): Promise<Response> {
  return fetch(action, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
    redirect: 'manual',
  });
}

async function openConnect(url: string): Promise<{ html: string; form: NonNullable<ReturnType<typeof readForm>> }> {
  const page = await fetch(url);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /text\/html/);
  const html = await page.text();
  const form = readForm(html, url);
  assert.ok(form);
  return { html, form };
}

async function connectLogin(h: Harness, username = 'Greatday', params: Record<string, string> = {}): Promise<URL> {
  return connectAtFlinks(connectUrl(h, { institution: 'FlinksCapital', ...params }), { username });
}

async function authorize(h: Harness, loginId: string): Promise<string> {
  const response = await api(h, 'POST', 'Authorize', { LoginId: loginId, MostRecentCached: true });
  assert.equal(response.status, 200);
  return (await json<{ RequestId: string }>(response)).RequestId;
}

async function detail(h: Harness, requestId: string, options: Record<string, unknown> = {}): Promise<Detail> {
  const response = await api(h, 'POST', 'GetAccountsDetail', { RequestId: requestId, WithTransactions: true, ...options });
  assert.equal(response.status, 200);
  return json<Detail>(response);
}

async function sandboxLogin(h: Harness, loginId: string): Promise<SandboxLogin> {
  const response = await api(h, 'GET', `/sandbox/logins/${loginId}`);
  assert.equal(response.status, 200);
  return json<SandboxLogin>(response);
}

/** Webhooks are sent in the background: waits (real time, briefly) for the n-th. */
async function webhookNumber(h: Harness, n: number): Promise<Received> {
  for (let i = 0; i < 200 && h.webhooks.length < n; i++) await new Promise((r) => setTimeout(r, 10));
  const received = h.webhooks[n - 1];
  assert.ok(received, `webhook ${n} arrived`);
  return received;
}

/** The reference's computation, written independently of the sandbox and the verifier. */
function referenceKey(secret: string, body: string): string {
  return createHmac('sha256', Buffer.from(secret, 'ascii')).update(Buffer.from(body, 'ascii')).digest('base64');
}

const noSecrets: ProviderSecrets = { put: async () => undefined, get: async () => null, delete: async () => undefined };

function jobContext(lastDetails?: unknown): JobContext & { beats: unknown[] } {
  const beats: unknown[] = [];
  return { beats, heartbeat: (d) => beats.push(d), sleep: async () => undefined, attempt: lastDetails === undefined ? 1 : 2, lastDetails };
}

const adapterFor = (h: Harness, config: Partial<FlinksConfig> = {}): ProviderAdapter =>
  createFlinksAdapter({ baseUrl: h.sandbox.url, customerId: DEFAULT_CUSTOMER_ID, ...config }, { secrets: noSecrets });

/** Through Flinks Connect with the adapter's URL, back through the redirect parser. */
async function connectWithAdapter(adapter: ProviderAdapter, username: string): Promise<ProviderConnection> {
  const authorization = await adapter.authorize({
    connectionId: 'conn-1',
    institutionId: 'FlinksCapital',
    mode: 'redirect',
    redirectUri: 'https://linkflow.example/callbacks/flinks',
    state: 'signed.state',
  });
  assert.equal(authorization.kind, 'redirect');
  assert.equal(authorization.channelId, 'connect');
  const back = await connectAtFlinks(authorization.kind === 'redirect' ? authorization.url : '', { username });
  const { state, redirect } = parseFlinksRedirect(Object.fromEntries(back.searchParams));
  assert.equal(state, 'signed.state');
  assert.equal(redirect.outcome, 'success');
  return { providerConnectionId: redirect.providerConnectionId as string, providerRef: redirect.providerRef ?? {} };
}

describe('Flinks sandbox: Flinks Connect', () => {
  let h: Harness;
  before(async () => (h = await startHarness()));
  after(async () => h.close());

  it('rejects a Connect URL without a RedirectUrl, with an unknown parameter or institution (400 page)', async () => {
    for (const url of [
      `${h.sandbox.url}/v2/`,
      `${connectUrl(h)}&colour=red`,
      connectUrl(h, { redirectUrl: 'javascript:alert(1)' }),
      connectUrl(h, { institution: 'NoSuchBank' }),
      connectUrl(h, { accountSelectorEnable: 'yes' }),
    ]) {
      const page = await fetch(url);
      assert.equal(page.status, 400, url);
      assert.match(page.headers.get('content-type') ?? '', /text\/html/);
      assert.match(await page.text(), /class="error"/);
    }
  });

  it('asks for the institution unless the URL chose it', async () => {
    const open = await openConnect(connectUrl(h));
    assert.deepEqual(open.form.institutions, ['FlinksCapital']);
    assert.equal(open.form.hidden.institution, undefined);
    const chosen = await openConnect(connectUrl(h, { institution: 'FlinksCapital', language: 'fr', demo: 'true' }));
    assert.equal(chosen.form.hidden.institution, 'FlinksCapital');
    assert.match(chosen.html, /Connect to Flinks Capital/);
  });

  it('shows the error on a wrong password and stays, then redirects with loginId and institution', async () => {
    const { form } = await openConnect(connectUrl(h, { institution: 'FlinksCapital' }));
    const wrong = await submit(form.action, { ...form.hidden, username: 'Greatday', password: 'Everynight' });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers.get('location'), null);
    assert.match(await wrong.text(), /role="alert">INVALID_LOGIN/);

    const right = await submit(form.action, { ...form.hidden, username: 'Greatday', password: 'Everyday' });
    assert.equal(right.status, 303);
    const back = new URL(right.headers.get('location') ?? '');
    assert.equal(back.origin + back.pathname, 'https://linkflow.example/callbacks/flinks');
    assert.equal(back.searchParams.get('state'), 'signed.state');
    assert.match(back.searchParams.get('loginId') ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.equal(back.searchParams.get('institution'), 'FlinksCapital');
    assert.equal(back.searchParams.get('accountId'), null);

    // The session is used up; the same username later gets the same LoginId.
    const again = await submit(form.action, { ...form.hidden, username: 'Greatday', password: 'Everyday' });
    assert.equal(again.status, 400);
    assert.equal((await connectLogin(h, 'Greatday')).searchParams.get('loginId'), back.searchParams.get('loginId'));
  });

  it('rejects malformed forms (400 page), never a 500', async () => {
    const { form } = await openConnect(connectUrl(h, { institution: 'FlinksCapital' }));
    const cases: [Record<string, string>, number][] = [
      [{ ...form.hidden, username: 'a' }, 400],
      [{ ...form.hidden, username: '', password: '' }, 400],
      [{ ...form.hidden, username: 'a', password: 'b', extra: 'c' }, 400],
      [{ session: 'nope', institution: 'FlinksCapital', username: 'a', password: 'Everyday' }, 400],
      [{ ...form.hidden, institution: 'OtherBank', username: 'a', password: 'Everyday' }, 400],
    ];
    for (const [fields, status] of cases) assert.equal((await submit(form.action, fields)).status, status, JSON.stringify(fields));
    const repeated = await fetch(form.action, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `session=${form.hidden.session}&session=x&institution=FlinksCapital&username=a&password=Everyday`,
    });
    assert.equal(repeated.status, 400);
  });

  it('asks test_mfa a security question on the page before redirecting', async () => {
    const { form } = await openConnect(connectUrl(h, { institution: 'FlinksCapital' }));
    const question = await submit(form.action, { ...form.hidden, username: 'test_mfa', password: 'Everyday' });
    assert.equal(question.status, 200);
    const html = await question.text();
    assert.match(html, /What city were you born in\?/);
    const mfa = readForm(html, form.action.toString());
    assert.ok(mfa);
    assert.equal(mfa.action.pathname, '/v2/mfa');
    const wrong = await submit(mfa.action, { ...mfa.hidden, answer: 'Toronto' });
    assert.equal(wrong.status, 401);
    assert.match(await wrong.text(), /INVALID_SECURITY_RESPONSE/);
    const right = await submit(mfa.action, { ...mfa.hidden, answer: 'montreal' });
    assert.equal(right.status, 303);
    assert.ok(new URL(right.headers.get('location') ?? '').searchParams.get('loginId'));
  });

  it('lets the end user pick one account with accountSelectorEnable, and adds its accountId', async () => {
    const { form } = await openConnect(connectUrl(h, { institution: 'FlinksCapital', accountSelectorEnable: 'true' }));
    const choose = await submit(form.action, { ...form.hidden, username: 'selector', password: 'Everyday' });
    assert.equal(choose.status, 200);
    const accounts = readForm(await choose.text(), form.action.toString());
    assert.ok(accounts);
    assert.equal(accounts.accountIds.length, 3);
    assert.equal((await submit(accounts.action, { ...accounts.hidden, accountId: '00000000-0000-0000-0000-000000000000' })).status, 400);
    const picked = accounts.accountIds[1] as string;
    const done = await submit(accounts.action, { ...accounts.hidden, accountId: picked });
    assert.equal(done.status, 303);
    const back = new URL(done.headers.get('location') ?? '');
    assert.equal(back.searchParams.get('accountId'), picked);
    // The picked account is one of the login's own.
    const requestId = await authorize(h, back.searchParams.get('loginId') as string);
    assert.ok((await detail(h, requestId)).Accounts.some((a) => a.Id === picked));
  });
});

describe('Flinks sandbox: the API', () => {
  let h: Harness;
  before(async () => (h = await startHarness()));
  after(async () => h.close());

  it('opens a session on a connected login (/Authorize, cached mode)', async () => {
    const loginId = (await connectLogin(h, 'Greatday')).searchParams.get('loginId') as string;
    const response = await api(h, 'POST', 'Authorize', { LoginId: loginId, MostRecentCached: true });
    assert.equal(response.status, 200);
    const body = await json<{ HttpStatusCode: number; RequestId: string; Institution: string; Login: Detail['Login'] }>(response);
    assert.equal(body.HttpStatusCode, 200);
    assert.equal(body.Institution, 'FlinksCapital');
    assert.deepEqual(body.Login, { Id: loginId, Username: 'Greatday', IsScheduledRefresh: true, LastRefresh: '2025-01-15T10:00:00.0000000', Type: 'Personal' });
    assert.notEqual(body.RequestId, await authorize(h, loginId), 'every /Authorize opens a new session');
  });

  it('answers bad input in Flinks’ error shape with a 4xx', async () => {
    const loginId = (await connectLogin(h, 'Greatday')).searchParams.get('loginId') as string;
    await assertFlinksError(await api(h, 'POST', 'Authorize', '{"LoginId":'), 400, 'INVALID_REQUEST');
    await assertFlinksError(await api(h, 'POST', 'Authorize', {}), 400, 'INVALID_REQUEST');
    await assertFlinksError(await api(h, 'POST', 'Authorize', { LoginId: 'not-a-guid', MostRecentCached: true }), 400, 'INVALID_REQUEST');
    assert.match(await assertFlinksError(await api(h, 'POST', 'Authorize', { LoginId: loginId, MostRecentCached: false }), 400, 'INVALID_REQUEST'), /cached mode/);
    await assertFlinksError(await api(h, 'POST', 'Authorize', { LoginId: loginId, MostRecentCached: true, Password: 'x' }), 400, 'INVALID_REQUEST');
    await assertFlinksError(await api(h, 'POST', 'GetAccountsDetail', { RequestId: await authorize(h, loginId), DaysOfTransactions: 'Days7' }), 400, 'INVALID_REQUEST');
    await assertFlinksError(await api(h, 'GET', 'GetAccountsDetailAsync/nope'), 400, 'INVALID_REQUEST');
    await assertFlinksError(await api(h, 'POST', 'Authorize', 'x'.repeat(70_000)), 413, 'INVALID_REQUEST');
    await assertFlinksError(await api(h, 'POST', `/v3/00000000-0000-0000-0000-000000000000/BankingServices/Authorize`, { LoginId: loginId, MostRecentCached: true }), 404, 'NOT_FOUND');
    await assertFlinksError(await api(h, 'GET', 'Authorize'), 405, 'METHOD_NOT_ALLOWED');
    await assertFlinksError(await api(h, 'GET', '/v3/nothing-here'), 404, 'NOT_FOUND');
    await assertFlinksError(await api(h, 'POST', 'Authorize', { LoginId: '11111111-2222-3333-4444-555555555555', MostRecentCached: true }), 401, 'INVALID_LOGIN');
    await assertFlinksError(await api(h, 'POST', 'GetAccountsDetail', { RequestId: '11111111-2222-3333-4444-555555555555' }), 401, 'SESSION_NONEXISTENT');
  });

  it('returns the accounts with Flinks’ fields, transactions newest first dated yyyy/MM/dd', async () => {
    const loginId = (await connectLogin(h, 'Greatday')).searchParams.get('loginId') as string;
    const requestId = await authorize(h, loginId);
    const body = await detail(h, requestId, { WithAccountIdentity: true });
    assert.equal(body.HttpStatusCode, 200);
    assert.equal(body.RequestId, requestId);
    assert.equal(body.Login.Id, loginId);
    assert.deepEqual(
      body.Accounts.map((a) => [a.Title, a.Category, a.Type, a.Currency]),
      [
        ['Chequing CAD', 'Operations', 'Chequing', 'CAD'],
        ['Savings CAD', 'Operations', 'Savings', 'CAD'],
        ['Visa Infinite', 'Credits', 'CreditCard', 'CAD'],
      ],
    );
    const [chequing, , card] = body.Accounts;
    assert.ok(chequing?.Transactions && card?.Transactions);
    assert.equal(card.Balance?.Limit, 10_000);
    assert.match(card.AccountNumber, /^4510\*{8}\d{4}$/);
    assert.equal(chequing.Holder?.Address.City, 'Montréal');
    // 90 days of history before the connection, and the day itself.
    assert.equal(chequing.Transactions.length, 91);
    assert.equal(chequing.Transactions[0]?.Date, '2025/01/15');
    assert.equal(chequing.Transactions.at(-1)?.Date, '2024/10/17');
    for (const t of chequing.Transactions) {
      assert.match(t.Date, /^\d{4}\/\d{2}\/\d{2}$/);
      assert.ok((t.Debit === null) !== (t.Credit === null), 'one of Debit and Credit');
    }
    assert.equal(chequing.Balance?.Current, chequing.Transactions[0]?.Balance, 'the balance is the latest running balance');

    const lean = await detail(h, requestId, { WithTransactions: false, WithBalance: false, AccountsFilter: [card.Id] });
    assert.deepEqual(lean.Accounts.map((a) => a.Id), [card.Id]);
    assert.equal(lean.Accounts[0]?.Transactions, undefined);
    assert.equal(lean.Accounts[0]?.Balance, undefined);
    assert.equal(lean.Accounts[0]?.Holder, undefined);
  });

  it('has test users with many accounts and with a long history (Days90 / Days365)', async () => {
    const many = await detail(h, await authorize(h, (await connectLogin(h, 'test_many')).searchParams.get('loginId') as string));
    assert.equal(many.Accounts.length, 25);
    assert.equal(new Set(many.Accounts.map((a) => a.Id)).size, 25);

    const historyRequest = await authorize(h, (await connectLogin(h, 'test_history')).searchParams.get('loginId') as string);
    const days90 = await detail(h, historyRequest);
    const days365 = await detail(h, historyRequest, { DaysOfTransactions: 'Days365' });
    assert.equal(days90.Accounts[0]?.Transactions?.length, 91 * 5);
    assert.equal(days365.Accounts[0]?.Transactions?.length, 366 * 5);
  });

  it('answers 202 OPERATION_PENDING until the extraction ends by the sandbox clock, then GetAccountsDetailAsync has the data', async () => {
    const loginId = (await connectLogin(h, 'test_pending')).searchParams.get('loginId') as string;
    const requestId = await authorize(h, loginId);
    await assertFlinksError(await api(h, 'GET', `GetAccountsDetailAsync/${requestId}`), 400, 'INVALID_REQUEST');
    const pending = await api(h, 'POST', 'GetAccountsDetail', { RequestId: requestId, WithTransactions: true, AccountsFilter: [] });
    assert.equal(pending.status, 400, 'an empty AccountsFilter is malformed');
    const first = await api(h, 'POST', 'GetAccountsDetail', { RequestId: requestId, WithTransactions: true });
    assert.equal(first.status, 202);
    const body = await json<{ HttpStatusCode: number; FlinksCode: string; RequestId: string }>(first);
    assert.deepEqual([body.HttpStatusCode, body.FlinksCode, body.RequestId], [202, 'OPERATION_PENDING', requestId]);
    assert.equal((await api(h, 'GET', `GetAccountsDetailAsync/${requestId}`)).status, 202);

    h.clock.now += PENDING_MS;
    const ready = await api(h, 'GET', `GetAccountsDetailAsync/${requestId}`);
    assert.equal(ready.status, 200);
    const data = await json<Detail>(ready);
    assert.equal(data.RequestId, requestId);
    assert.equal(data.Login.LastRefresh, '2025-01-15T10:00:30.0000000');
    assert.equal(data.Accounts[0]?.Transactions?.length, 91, 'the options of the GetAccountsDetail it follows');
    assert.deepEqual(
      (await sandboxLogin(h, loginId)).Requests.map((r) => [r.Origin, r.GetAccountsDetailCalls, r.AsyncPolls]),
      [
        ['Connect', 0, 0],
        ['Authorize', 1, 2],
      ],
    );
  });

  it('forgets a RequestId after 8 minutes without use', async () => {
    const requestId = await authorize(h, (await connectLogin(h, 'Greatday')).searchParams.get('loginId') as string);
    h.clock.now += 7 * 60_000;
    await detail(h, requestId);
    h.clock.now += 8 * 60_000;
    await assertFlinksError(await api(h, 'POST', 'GetAccountsDetail', { RequestId: requestId }), 401, 'SESSION_NONEXISTENT');
  });

  it('refuses a disabled login until the end user reconnects at Flinks Connect', async () => {
    const loginId = (await connectLogin(h, 'dana')).searchParams.get('loginId') as string;
    const requestId = await authorize(h, loginId);
    await assertFlinksError(await api(h, 'POST', `/sandbox/logins/${loginId}/disable`, { FlinksCode: 'EXPIRED' }), 400, 'INVALID_REQUEST');
    assert.equal((await api(h, 'POST', `/sandbox/logins/${loginId}/disable`)).status, 204);
    await assertFlinksError(await api(h, 'POST', 'Authorize', { LoginId: loginId, MostRecentCached: true }), 401, 'DISABLED_LOGIN');
    await assertFlinksError(await api(h, 'POST', 'GetAccountsDetail', { RequestId: requestId }), 401, 'DISABLED_LOGIN');
    assert.equal((await api(h, 'POST', `/sandbox/logins/${loginId}/disable`, { FlinksCode: 'INVALID_LOGIN' })).status, 204);
    await assertFlinksError(await api(h, 'POST', 'Authorize', { LoginId: loginId, MostRecentCached: true }), 401, 'INVALID_LOGIN');

    assert.equal((await connectLogin(h, 'dana')).searchParams.get('loginId'), loginId);
    assert.equal((await sandboxLogin(h, loginId)).Disabled, null);
    await authorize(h, loginId);
  });

  it('deletes a login with DeleteCard; a second DeleteCard is a 404', async () => {
    const loginId = (await connectLogin(h, 'erin')).searchParams.get('loginId') as string;
    const requestId = await authorize(h, loginId);
    const deleted = await api(h, 'DELETE', `DeleteCard/${loginId}`);
    assert.equal(deleted.status, 200);
    assert.equal((await json<{ HttpStatusCode: number }>(deleted)).HttpStatusCode, 200);
    await assertFlinksError(await api(h, 'DELETE', `DeleteCard/${loginId}`), 404, 'INVALID_LOGIN');
    await assertFlinksError(await api(h, 'POST', 'Authorize', { LoginId: loginId, MostRecentCached: true }), 401, 'INVALID_LOGIN');
    await assertFlinksError(await api(h, 'POST', 'GetAccountsDetail', { RequestId: requestId }), 401, 'SESSION_NONEXISTENT');
    await assertFlinksError(await api(h, 'GET', `/sandbox/logins/${loginId}`), 404, 'INVALID_LOGIN');
  });
});

describe('Flinks sandbox: test_transfer', () => {
  let h: Harness;
  before(async () => (h = await startHarness()));
  after(async () => h.close());

  it('lists a transfer from Chequing CAD to Savings CAD under one Id, in each account, with the running balances', async () => {
    const loginId = (await connectLogin(h, 'test_transfer')).searchParams.get('loginId') as string;
    const body = await detail(h, await authorize(h, loginId));
    const [chequing, savings, visa] = body.Accounts;
    const debit = chequing?.Transactions?.[0];
    const credit = savings?.Transactions?.[0];
    assert.deepEqual([debit?.Date, debit?.Description, debit?.Debit, debit?.Credit], ['2025/01/15', 'Transfer to savings', 500, null]);
    assert.deepEqual([credit?.Date, credit?.Description, credit?.Debit, credit?.Credit], ['2025/01/15', 'Transfer from chequing', null, 500]);
    assert.equal(debit?.Id, credit?.Id);
    assert.equal(Math.round(((chequing?.Transactions?.[1]?.Balance ?? 0) - 500) * 100) / 100, debit?.Balance, 'the running balance moves');
    assert.equal(chequing?.Balance?.Current, debit?.Balance);
    assert.ok(!visa?.Transactions?.some((t) => t.Id === debit?.Id));
    assert.equal(new Set(chequing?.Transactions?.map((t) => t.Id)).size, chequing?.Transactions?.length, 'unique within the account');
  });
});

describe('Flinks sandbox: webhooks and the nightly refresh', () => {
  let h: Harness;
  before(async () => (h = await startHarness()));
  after(async () => h.close());

  it('posts the extraction’s data signed as the reference says, and the verifier accepts exactly that', async () => {
    const loginId = (await connectLogin(h, 'Greatday')).searchParams.get('loginId') as string;
    const { raw, headers } = await webhookNumber(h, 1);
    const text = raw.toString('utf8');
    assert.match(text, /^[\x00-\x7f]*$/, 'pure ASCII: non-ASCII characters are escaped');
    assert.equal(headers['flinks-authenticity-key'], referenceKey(SECRET, text));
    const body = JSON.parse(text) as Detail;
    assert.equal(body.Login.Id, loginId);
    assert.equal(body.Accounts[0]?.Holder?.Address.City, 'Montréal');
    assert.equal(body.Accounts[0]?.Transactions?.length, 91);

    assert.equal(verifyFlinksWebhook(raw, headers, SECRET), true);
    assert.equal(verifyFlinksWebhook(raw, headers, 'another-secret'), false);
    assert.equal(verifyFlinksWebhook(Buffer.from(text.replace('Greatday', 'Badday')), headers, SECRET), false, 'a forged body');
    assert.equal(verifyFlinksWebhook(raw, { ...headers, 'flinks-authenticity-key': undefined }, SECRET), false, 'unsigned');
    assert.equal(verifyFlinksWebhook(raw, { 'flinks-authenticity-key': 'c2hvcnQ=' }, SECRET), false, 'a key of the wrong length');
    assert.equal(verifyFlinksWebhook(raw, { 'flinks-authenticity-key': [referenceKey(SECRET, text)] }, SECRET), false, 'a repeated header');

    assert.deepEqual(parseFlinksWebhook(body), {
      providerConnectionId: loginId,
      event: { eventId: body.RequestId, kind: 'data_available', channelId: 'connect', occurredAt: '2025-01-15T10:00:00.000Z' },
    });
  });

  it('verifies a body with non-ASCII characters over their ASCII bytes (each one a "?"), as the reference reads', () => {
    const body = '{"Login":{"Username":"Montréal"}}';
    const key = createHmac('sha256', 'secret').update('{"Login":{"Username":"Montr?al"}}').digest('base64');
    assert.equal(verifyFlinksWebhook(Buffer.from(body, 'utf8'), { 'flinks-authenticity-key': key }, 'secret'), true);
  });

  it('sends the webhook of a pending extraction once the clock passes its end, and the nightly refresh’s a day later', async () => {
    const loginId = (await connectLogin(h, 'test_pending')).searchParams.get('loginId') as string;
    const before = h.webhooks.length;
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(h.webhooks.length, before, 'nothing while the extraction runs');
    h.clock.now += PENDING_MS;
    const done = JSON.parse((await webhookNumber(h, before + 1)).raw.toString('utf8')) as Detail;
    assert.equal(done.Login.Id, loginId);
    assert.equal(done.Login.LastRefresh, '2025-01-15T10:00:30.0000000');

    h.clock.now = START + DAY_MS + PENDING_MS;
    // Both logins are refreshed: the first one (connected at START) and this one.
    await webhookNumber(h, before + 3);
    const refreshed = h.webhooks.slice(before + 1).map((w) => JSON.parse(w.raw.toString('utf8')) as Detail);
    const mine = refreshed.find((w) => w.Login.Id === loginId);
    assert.ok(mine);
    assert.notEqual(mine.RequestId, done.RequestId);
    assert.equal(mine.Login.LastRefresh, '2025-01-16T10:00:00.0000000', 'refreshed a day after its first connection');
    assert.equal(mine.Accounts[0]?.Transactions?.[0]?.Date, '2025/01/16', 'a new day of transactions');
    const requestId = await authorize(h, loginId);
    assert.equal((await detail(h, requestId, { DaysOfTransactions: 'Days365' })).Accounts[0]?.Transactions?.length, 92);
  });

  it('reports a disabled login’s failed refresh by webhook in the error shape (parsed as an AUTH_FAILED failure)', async () => {
    const loginId = (await connectLogin(h, 'test_revoked')).searchParams.get('loginId') as string;
    const start = h.clock.now;
    await authorize(h, loginId);
    const before = h.webhooks.length;
    h.clock.now = start + DAY_MS;
    // Its failure, and the two other logins' refreshes.
    await webhookNumber(h, before + 3);
    const failure = h.webhooks
      .slice(before)
      .map((w) => JSON.parse(w.raw.toString('utf8')) as { HttpStatusCode: number; FlinksCode?: string; RequestId: string; Login: { Id: string } })
      .find((w) => w.Login.Id === loginId);
    assert.ok(failure);
    assert.deepEqual([failure.HttpStatusCode, failure.FlinksCode], [401, 'DISABLED_LOGIN']);
    assert.deepEqual(parseFlinksWebhook(failure), {
      providerConnectionId: loginId,
      event: { eventId: failure.RequestId, kind: 'failure', status: 'AUTH_FAILED', channelId: 'connect' },
    });
    await assertFlinksError(await api(h, 'POST', 'Authorize', { LoginId: loginId, MostRecentCached: true }), 401, 'DISABLED_LOGIN');
    assert.throws(() => parseFlinksWebhook({ HttpStatusCode: 200, Login: { Id: loginId } }), ZodError);
  });
});

describe('Flinks adapter against the sandbox', () => {
  let h: Harness;
  before(async () => (h = await startHarness()));
  after(async () => h.close());

  it('builds the Flinks Connect URL with our state on the RedirectUrl, and re-authorizes at the login’s institution', async () => {
    const adapter = adapterFor(h, { accountSelector: true, connectParams: { language: 'fr' } });
    const first = await adapter.authorize({ connectionId: 'c', institutionId: 'FlinksCapital', mode: 'redirect', redirectUri: 'https://l.example/callbacks/flinks', state: 's.1' });
    assert.equal(first.kind, 'redirect');
    const url = new URL(first.kind === 'redirect' ? first.url : '');
    assert.equal(url.origin + url.pathname, `${h.sandbox.url}/v2/`);
    assert.deepEqual(Object.fromEntries(url.searchParams), {
      language: 'fr',
      redirectUrl: 'https://l.example/callbacks/flinks?state=s.1',
      institution: 'FlinksCapital',
      accountSelectorEnable: 'true',
    });
    const again = await adapter.authorize({
      connectionId: 'c',
      institutionId: 'other',
      mode: 'redirect',
      redirectUri: 'https://l.example/callbacks/flinks',
      state: 's.2',
      existing: { providerConnectionId: '11111111-2222-3333-4444-555555555555', providerRef: { institution: 'FlinksCapital' }, channelId: 'connect' },
    });
    assert.equal(new URL(again.kind === 'redirect' ? again.url : '').searchParams.get('institution'), 'FlinksCapital');
    await assert.rejects(
      adapter.authorize({ connectionId: 'c', institutionId: 'FlinksCapital', mode: 'embedded', redirectUri: 'https://l.example/cb', state: 's' }),
      (err: unknown) => err instanceof ApplicationFailure && err.nonRetryable && err.type === 'FlinksUnsupported',
    );
  });

  it('parses the redirect, and rejects a malformed one', () => {
    assert.deepEqual(parseFlinksRedirect({ state: 's', loginId: 'c255da7c-d5f8-4182-d96c-08d94d3c33c3', institution: 'FlinksCapital' }), {
      state: 's',
      redirect: { outcome: 'success', providerConnectionId: 'c255da7c-d5f8-4182-d96c-08d94d3c33c3', providerRef: { institution: 'FlinksCapital' } },
    });
    assert.equal(parseFlinksRedirect({ state: 's' }).redirect.outcome, 'failed');
    assert.throws(() => parseFlinksRedirect({ loginId: 'c255da7c-d5f8-4182-d96c-08d94d3c33c3' }), ZodError);
    assert.throws(() => parseFlinksRedirect({ state: 's', loginId: 'not-a-guid' }), ZodError);
    assert.throws(() => parseFlinksRedirect({ state: ['s', 't'] }), ZodError);
  });

  it('connects, opens a new session per job, and lists, fetches and pages the data', async () => {
    const adapter = adapterFor(h, { cacheMs: 0 });
    const connection = await connectWithAdapter(adapter, 'test_history');
    assert.deepEqual(connection.providerRef, { institution: 'FlinksCapital' });

    const ctx = jobContext();
    const outcome = await adapter.waitForJob(connection, 'list', ctx);
    assert.equal(outcome.outcome, 'success');
    assert.ok(outcome.outcome === 'success' && outcome.providerRef?.requestId);
    assert.deepEqual(outcome.channels, [{ id: 'connect', mode: 'redirect', expiresAt: null }]);
    assert.deepEqual(ctx.beats, [{ requestId: outcome.providerRef?.requestId }]);
    const second = await adapter.waitForJob(connection, 'sync', jobContext());
    assert.ok(second.outcome === 'success' && second.providerRef?.requestId, 'a session of its own');
    assert.notEqual(second.providerRef?.requestId, outcome.providerRef?.requestId, 'each job opens its own session');

    const current = { ...connection, providerRef: { ...connection.providerRef, requestId: second.providerRef?.requestId as string } };
    const listed = await adapter.listAccounts(current);
    assert.deepEqual(listed.map((a) => [a.name, a.type, a.currency, a.mask?.length]), [
      ['Chequing CAD', 'Chequing', 'CAD', 4],
      ['Savings CAD', 'Savings', 'CAD', 4],
      ['Visa Infinite', 'CreditCard', 'CAD', 4],
    ]);
    const accounts = await adapter.fetchAccounts(current);
    assert.equal(accounts.length, 3);
    assert.match(accounts[0]?.balance ?? '', /^-?\d+\.\d{2}$/);
    assert.equal(accounts[0]?.iban, null);

    // A year (Days365) of five transactions a day: pages of 500, oldest first, none twice.
    const chequing = listed[0]?.id as string;
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await adapter.fetchTransactions(current, chequing, cursor, null);
      seen.push(...page.items.map((t) => t.providerTransactionId));
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== null);
    assert.equal(pages, 4);
    assert.equal(seen.length, 366 * 5);
    assert.equal(new Set(seen).size, seen.length);
    const { items } = await adapter.fetchTransactions(current, chequing, null, null);
    assert.equal(items[0]?.bookedAt, '2024-01-16T00:00:00.000Z', '365 days before 2025-01-15');
    assert.match(items[0]?.amount ?? '', /^-?\d+\.\d{2}$/);
    assert.equal(items[0]?.currency, 'CAD');
    // The job's session was used, not a new one.
    const sessions = (await sandboxLogin(h, connection.providerConnectionId)).Requests.filter((r) => r.Origin === 'Authorize');
    assert.equal(sessions.length, 2);
  });

  it('test_transfer: one Id on two accounts stays with each; every transaction is posted (Flinks lists no pending ones)', async () => {
    const adapter = adapterFor(h, { cacheMs: 0 });
    const connection = await connectWithAdapter(adapter, 'test_transfer');
    const outcome = await adapter.waitForJob(connection, 'list', jobContext());
    assert.ok(outcome.outcome === 'success');
    const current = { ...connection, providerRef: { ...connection.providerRef, ...outcome.providerRef } };
    const [chequing, savings, visa] = (await adapter.listAccounts(current)).map((a) => a.id);
    assert.ok(chequing && savings && visa);
    const read = async (accountId: string) => (await adapter.fetchTransactions(current, accountId, null, null)).items;
    const [fromItems, toItems, visaItems] = await Promise.all([chequing, savings, visa].map(read));
    const leg = (items: typeof fromItems) => items?.filter((t) => t.label.startsWith('Transfer'));
    assert.deepEqual(leg(fromItems)?.map((t) => [t.providerAccountId, t.amount, t.bookedAt]), [[chequing, '-500.00', '2025-01-15T00:00:00.000Z']]);
    assert.deepEqual(leg(toItems)?.map((t) => [t.providerAccountId, t.amount, t.bookedAt]), [[savings, '500.00', '2025-01-15T00:00:00.000Z']]);
    assert.equal(leg(fromItems)?.[0]?.providerTransactionId, leg(toItems)?.[0]?.providerTransactionId, 'the same Id');
    assert.deepEqual(leg(visaItems), []);
    assert.deepEqual([fromItems?.length, toItems?.length, visaItems?.length], [92, 92, 91]);
    const all = [...(fromItems ?? []), ...(toItems ?? []), ...(visaItems ?? [])];
    assert.ok(all.every((t) => t.pending === false && t.pendingTransactionId === null));
  });

  it('reads only the account picked at Connect (AccountsFilter)', async () => {
    const adapter = adapterFor(h, { accountSelector: true });
    const connection = await connectWithAdapter(adapter, 'frank');
    assert.ok(connection.providerRef.accountId);
    assert.equal((await adapter.waitForJob(connection, 'list', jobContext())).outcome, 'success');
    assert.deepEqual((await adapter.listAccounts(connection)).map((a) => a.id), [connection.providerRef.accountId]);
    assert.deepEqual((await adapter.fetchAccounts(connection)).map((a) => a.providerAccountId), [connection.providerRef.accountId]);
  });

  it('throws OPERATION_PENDING retryably, then resumes the heartbeated RequestId with GetAccountsDetailAsync', async () => {
    const adapter = adapterFor(h);
    const connection = await connectWithAdapter(adapter, 'test_pending');
    const ctx = jobContext();
    await assert.rejects(
      adapter.waitForJob(connection, 'list', ctx),
      (err: unknown) => err instanceof ApplicationFailure && err.type === 'OPERATION_PENDING' && !err.nonRetryable,
    );
    const [details] = ctx.beats;
    assert.ok(details);
    const retry = jobContext(details);
    await assert.rejects(adapter.waitForJob(connection, 'list', retry), (err: unknown) => err instanceof ApplicationFailure && err.type === 'OPERATION_PENDING');
    assert.deepEqual(retry.beats, [details], 'the retry heartbeats the same session first');

    h.clock.now += PENDING_MS;
    const outcome = await adapter.waitForJob(connection, 'list', jobContext(details));
    assert.equal(outcome.outcome, 'success');
    assert.deepEqual(outcome.outcome === 'success' && outcome.providerRef, details);
    const sessions = (await sandboxLogin(h, connection.providerConnectionId)).Requests.filter((r) => r.Origin === 'Authorize');
    assert.deepEqual(sessions.map((r) => [r.GetAccountsDetailCalls, r.AsyncPolls]), [[1, 2]]);
  });

  it('opens a new session when the heartbeated or kept RequestId is gone', async () => {
    const adapter = adapterFor(h, { cacheMs: 0 });
    const connection = await connectWithAdapter(adapter, 'gina');
    const first = await adapter.waitForJob(connection, 'list', jobContext());
    assert.ok(first.outcome === 'success');
    h.clock.now += 9 * 60_000;
    const resumed = await adapter.waitForJob(connection, 'list', jobContext({ requestId: first.providerRef?.requestId }));
    assert.ok(resumed.outcome === 'success' && resumed.providerRef?.requestId && resumed.providerRef.requestId !== first.providerRef?.requestId);
    h.clock.now += 9 * 60_000;
    const stale = { ...connection, providerRef: { ...connection.providerRef, requestId: resumed.providerRef?.requestId as string } };
    assert.equal((await adapter.listAccounts(stale)).length, 3);
    // A heartbeated session on which nothing is pending (the attempt ended before its GetAccountsDetail).
    const bare = await authorize(h, connection.providerConnectionId);
    const fromBare = await adapter.waitForJob(connection, 'list', jobContext({ requestId: bare }));
    assert.ok(fromBare.outcome === 'success' && fromBare.providerRef?.requestId && fromBare.providerRef.requestId !== bare);
    assert.equal((await sandboxLogin(h, connection.providerConnectionId)).Requests.filter((r) => r.Origin === 'Authorize').length, 5);
  });

  it('maps a disabled login to AUTH_FAILED, and disconnects twice without error', async () => {
    const adapter = adapterFor(h, { cacheMs: 0 });
    const connection = await connectWithAdapter(adapter, 'hank');
    assert.equal((await api(h, 'POST', `/sandbox/logins/${connection.providerConnectionId}/disable`)).status, 204);
    assert.deepEqual(await adapter.waitForJob(connection, 'sync', jobContext()), { outcome: 'failed', status: 'AUTH_FAILED', channelId: 'connect' });
    await assert.rejects(adapter.listAccounts(connection), (err: unknown) => err instanceof ApplicationFailure && err.type === 'FlinksLoginFailed' && err.nonRetryable);

    await adapter.disconnect(connection);
    await adapter.disconnect(connection);
    assert.deepEqual(await adapter.waitForJob(connection, 'sync', jobContext()), { outcome: 'failed', status: 'AUTH_FAILED', channelId: 'connect' });
  });

  it('has nothing to do for consent and sync, and takes no credentials or challenge answers', async () => {
    const adapter = adapterFor(h);
    const connection = { providerConnectionId: '11111111-2222-3333-4444-555555555555', providerRef: {} };
    await adapter.giveConsent(connection, [{ account_id: 'a', consent: true }]);
    await adapter.startSync(connection);
    assert.deepEqual(await adapter.credentialFields('FlinksCapital', 'connect'), []);
    const unsupported = (err: unknown) => err instanceof ApplicationFailure && err.type === 'FlinksUnsupported' && err.nonRetryable;
    await assert.rejects(adapter.submitCredentials({ institutionId: 'FlinksCapital', channelId: 'connect', credentials: [], providerRef: {} }), unsupported);
    await assert.rejects(adapter.answerChallenge(connection, { channelId: 'connect', fields: [], messages: [], timeoutSeconds: null }, []), unsupported);
  });
});

// The answer cache is per worker by design (providers/flinks/adapter.ts): the RequestId a job
// opened is Flinks' session, in providerRef, so any worker reads the same session with it.
describe('Flinks adapter on two workers: one connection, each worker its own answer cache', () => {
  let h: Harness;
  before(async () => (h = await startHarness()));
  after(async () => h.close());

  it("a worker that missed the other's cache reads the job's session (one GetAccountsDetail, no new session), and the pages add up", async () => {
    const [a, b] = [adapterFor(h), adapterFor(h)];
    const connection = await connectWithAdapter(a, 'test_history');
    const job = await a.waitForJob(connection, 'list', jobContext());
    assert.ok(job.outcome === 'success' && job.providerRef?.requestId);
    const current = { ...connection, providerRef: { ...connection.providerRef, requestId: job.providerRef.requestId as string } };

    // Activities land on either worker: listing on B, accounts on A, the pages alternating.
    const listed = await b.listAccounts(current);
    assert.deepEqual(
      (await a.fetchAccounts(current)).map((x) => x.providerAccountId),
      listed.map((x) => x.id),
    );
    const chequing = listed[0]?.id as string;
    const seen: string[] = [];
    let cursor: string | null = null;
    let page = 0;
    do {
      const worker = page++ % 2 === 0 ? a : b;
      const next: Awaited<ReturnType<ProviderAdapter['fetchTransactions']>> = await worker.fetchTransactions(current, chequing, cursor, null);
      seen.push(...next.items.map((t) => t.providerTransactionId));
      cursor = next.nextCursor;
    } while (cursor !== null);
    assert.equal(page, 4);
    assert.equal(seen.length, 366 * 5, 'every transaction');
    assert.equal(new Set(seen).size, seen.length, 'none twice');

    // Flinks saw the job's one session, read once by each worker: the cache spared every other read.
    const sessions = (await sandboxLogin(h, connection.providerConnectionId)).Requests.filter((r) => r.Origin === 'Authorize');
    assert.deepEqual(
      sessions.map((r) => [r.RequestId, r.GetAccountsDetailCalls]),
      [[job.providerRef.requestId, 2]],
    );
  });
});

describe('Flinks sandbox: test users with a +tag', () => {
  it('select the same scenario as a login of their own (test_history+1, test_history+2)', () => {
    assert.equal(scenarioOf('test_history+1'), 'test_history');
    assert.equal(scenarioOf('test_mfa+x'), 'test_mfa');
    assert.equal(scenarioOf('test_history'), 'test_history');
    assert.equal(scenarioOf('alice+test_history'), undefined);
    assert.equal(scenarioOf('test_historyx'), undefined);
  });
});
