// The Oxlin sandbox beyond the REDIRECT happy path: PGP keys, EMBEDDED connections,
// challenges, test-user scenarios, sandbox controls, renewal and disconnection.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as openpgp from 'openpgp';
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
const DAY_S = 86_400;
const PASSWORD = 'sandbox-password';
const CONFIG_URL = 'https://www.dropbox.com/s/2j3d4gcrd031fkc/sanity.txt?dl=1';


interface Channel {
  channel_definition_id: string;
  mode: string;
  expires?: number;
  status: string;
  last_success_date?: number;
  last_end_date?: number;
  credentials: { id: string; masked_value: string }[];
  account_types: string[];
}

interface Connection {
  id: string;
  provider_id: string;
  status: string;
  channels: Channel[];
}

interface ChallengeItem {
  id: string;
  label: string;
  regexp: string;
  type: string;
  encrypt: boolean;
  params?: Record<string, string>;
}

interface OxlinEvent {
  id: string;
  event_type: string;
  resource_type: string;
  channel_definition_id: string;
  creation_date: number;
  resource: Connection;
  list_accounts_user_input_requested?: { challenge: ChallengeItem[] };
  sync_all_user_input_requested?: { challenge: ChallengeItem[] };
}

interface Account {
  id: string;
  connection_id: string;
  name: string;
  type: string;
  status: string;
}

const startHarness = () => startSandboxHarness({ listDelayMs: 20, syncDelayMs: 20, slowListDelayMs: 300 });



async function expectStatus(response: Response, status: number): Promise<void> {
  assert.equal(response.status, status, await response.clone().text());
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A `connections` queue; keeps what it read so that tests can wait for one event at a time. */
class Events {
  private buffer: OxlinEvent[] = [];

  private constructor(
    private readonly h: SandboxHarness,
    readonly queueId: string,
  ) {}

  static async subscribe(h: SandboxHarness): Promise<Events> {
    const response = await sandboxApi(h, '/v2.1/queues/subscribe', { method: 'POST', body: { topics: ['connections'] } });
    await expectStatus(response, 201);
    return new Events(h, (response.headers.get('location') ?? '').slice('/queues/'.length));
  }

  static of(h: SandboxHarness, queueId: string): Events {
    return new Events(h, queueId);
  }

  private async read(): Promise<void> {
    const response = await sandboxApi(this.h, `/v2.1/queues/${this.queueId}`);
    await expectStatus(response, 200);
    this.buffer.push(...(await json<OxlinEvent[]>(response)));
  }

  /** The connection's events up to the first of `type`, which is last. */
  async until(type: string, connectionId: string): Promise<OxlinEvent[]> {
    const deadline = Date.now() + 3000;
    for (;;) {
      const index = this.buffer.findIndex((event) => event.event_type === type && event.resource.id === connectionId);
      if (index >= 0) {
        const head = this.buffer.slice(0, index + 1);
        this.buffer = [...head.filter((event) => event.resource.id !== connectionId), ...this.buffer.slice(index + 1)];
        return head.filter((event) => event.resource.id === connectionId);
      }
      if (Date.now() > deadline) {
        assert.fail(`no ${type}; saw ${this.buffer.map((event) => `${event.event_type}/${event.resource.id}`).join(', ')}`);
      }
      await this.read();
      await sleep(10);
    }
  }

  /** Every event read so far and waiting now, for the connection. */
  async pending(connectionId: string): Promise<OxlinEvent[]> {
    await this.read();
    const mine = this.buffer.filter((event) => event.resource.id === connectionId);
    this.buffer = this.buffer.filter((event) => event.resource.id !== connectionId);
    return mine;
  }
}

const types = (events: OxlinEvent[]): string[] => events.map((event) => event.event_type);
const channelOf = (connection: Connection, id: string): Channel => {
  const channel = connection.channels.find((candidate) => candidate.channel_definition_id === id);
  assert.ok(channel, `no channel ${id}`);
  return channel;
};

/** The status of a channel in the connection an event carries. */
function statusIn(event: OxlinEvent | undefined, channel: string): string {
  assert.ok(event, 'no event');
  return channelOf(event.resource, channel).status;
}

async function getConnection(h: SandboxHarness, connectionId: string): Promise<Connection> {
  const response = await sandboxApi(h, `/v2.1/connections/${connectionId}`);
  await expectStatus(response, 200);
  return json<Connection>(response);
}

async function accounts(h: SandboxHarness, connectionId: string): Promise<Account[]> {
  const response = await sandboxApi(h, `/v2.1/accounts?connection_id=${connectionId}`);
  await expectStatus(response, 200);
  return json<Account[]>(response);
}

// --- keys and credentials -----------------------------------------------------

interface Key {
  id: string;
  publicKey: openpgp.PublicKey;
}

async function createKey(h: SandboxHarness): Promise<Key> {
  const created = await sandboxApi(h, '/v2.1/keys', { method: 'POST', body: { type: 'PGP' } });
  await expectStatus(created, 201);
  const location = created.headers.get('location') ?? '';
  assert.match(location, /^\/keys\/\w+$/);
  const response = await sandboxApi(h, `/v2.1${location}`);
  await expectStatus(response, 200);
  const key = await json<{ id: string; public_key: string }>(response);
  return { id: key.id, publicKey: await openpgp.readKey({ armoredKey: key.public_key }) };
}

async function encrypt(key: Key, text: string): Promise<string> {
  const message = await openpgp.createMessage({ text });
  return openpgp.encrypt({ message, encryptionKeys: key.publicKey, format: 'armored' });
}

async function testBankCredentials(key: Key, login: string, password = PASSWORD): Promise<{ id: string; value: string }[]> {
  return [
    { id: '300', value: login },
    { id: '301', value: await encrypt(key, password) },
    { id: '302', value: CONFIG_URL },
  ];
}

/** POST /connections for Linxo Test Bank's EMBEDDED channel; returns the connection id. */
async function createEmbedded(h: SandboxHarness, key: Key, login: string, password = PASSWORD): Promise<string> {
  const response = await sandboxApi(h, '/v2.1/connections', {
    method: 'POST',
    body: { provider_id: '87', key_id: key.id, credentials: await testBankCredentials(key, login, password) },
  });
  await expectStatus(response, 201);
  assert.equal(await response.text(), '');
  const location = response.headers.get('location') ?? '';
  assert.match(location, /^\/connections\/\d+$/);
  return location.slice('/connections/'.length);
}

// --- the bank (REDIRECT) ------------------------------------------------------

async function bankApprove(h: SandboxHarness, username: string, extra: Record<string, unknown> = {}): Promise<URL> {
  const created = await sandboxApi(h, '/v2.1/providers/87/channels/8701/authorize_url', {
    method: 'POST',
    body: { redirect_uri: 'https://app.example/cb', ...extra },
  });
  await expectStatus(created, 201);
  const bankPage = created.headers.get('location') ?? '';
  const state = new URL(bankPage).searchParams.get('state') ?? '';
  const response = await fetch(new URL('/bank/authorize', bankPage), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ state, username, password: 'whatever', decision: 'approve' }).toString(),
    redirect: 'manual',
  });
  assert.equal(response.status, 303);
  return new URL(response.headers.get('location') ?? '');
}

/** A REDIRECT connection for `username`, its accounts listed; returns its id and its own queue. */
async function connectRedirect(h: SandboxHarness, username = 'alice'): Promise<{ connectionId: string; events: Events }> {
  const back = await bankApprove(h, username);
  const connectionId = back.searchParams.get('connection_id') ?? '';
  const events = Events.of(h, back.searchParams.get('queue_id') ?? '');
  await events.until('LIST_ACCOUNTS_SUCCESS', connectionId);
  return { connectionId, events };
}

async function consentAll(h: SandboxHarness, connectionId: string): Promise<void> {
  const listed = await accounts(h, connectionId);
  const response = await sandboxApi(h, `/v2.1/connections/${connectionId}/consents`, {
    method: 'PUT',
    body: { consents: listed.map((account) => ({ account_id: account.id, consent: true })) },
  });
  await expectStatus(response, 204);
}

function userInput(h: SandboxHarness, connectionId: string, channel: string, credentials: unknown): Promise<Response> {
  return sandboxApi(h, `/v2.1/connections/${connectionId}/channels/${channel}/user_input`, { method: 'POST', body: { credentials } });
}

function nextSync(h: SandboxHarness, connectionId: string, outcome: string): Promise<Response> {
  return sandboxApi(h, `/sandbox/connections/${connectionId}/next-sync`, { method: 'POST', body: { outcome }, token: false });
}

const SMS_OFFER: ChallengeItem[] = [
  {
    id: '303',
    label: 'La connexion à Banque demande la saisie d’un code envoyé par SMS sur votre téléphone au {phone}. Souhaitez vous recevoir ce code maintenant ?',
    regexp: '.*',
    type: 'INFO_MSG',
    encrypt: false,
    params: { phone: '0606060606' },
  },
  { id: '304', label: 'Envoyer le SMS', regexp: '.*', type: 'OK_CANCEL', encrypt: false },
];

function smsCodeRequest(remainingAttempts?: number): ChallengeItem[] {
  return [
    {
      id: '305',
      label: 'Un code a été envoyé par SMS sur votre téléphone au {phone}.',
      regexp: '.*',
      type: 'INFO_MSG',
      encrypt: false,
      params: { phone: '0606060606' },
    },
    ...(remainingAttempts === undefined
      ? []
      : [
          {
            id: '309',
            label: 'Code invalide. Encore {remaining_attempts} tentatives',
            regexp: '.*',
            type: 'ERROR_MSG',
            encrypt: false,
            params: { remaining_attempts: String(remainingAttempts) },
          },
        ]),
    { id: '306', label: 'Code', regexp: '^[0-9]{6}$', type: 'NUMERIC', encrypt: false },
    { id: '308', label: 'Il vous reste {timeout} pour valider votre code.', regexp: '.*', type: 'TIMEOUT_MSG', encrypt: false, params: { timeout: '120' } },
    { id: '307', label: 'Valider', regexp: '.*', type: 'OK_CANCEL', encrypt: false },
  ];
}

const challengeOf = (event: OxlinEvent | undefined): ChallengeItem[] | undefined =>
  event?.list_accounts_user_input_requested?.challenge ?? event?.sync_all_user_input_requested?.challenge;

// ---------------------------------------------------------------------------------

void describe('oxlin sandbox: PGP keys', () => {
  let h: SandboxHarness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.sandbox.close());

  void test('POST /keys creates a PGP key whose public half GET /keys/{id} serves', async () => {
    const created = await sandboxApi(h, '/v2.1/keys', { method: 'POST', body: { type: 'PGP' } });
    await expectStatus(created, 201);
    const keyId = (created.headers.get('location') ?? '').slice('/keys/'.length);
    const response = await sandboxApi(h, `/v2.1/keys/${keyId}`);
    await expectStatus(response, 200);
    const key = await json<Record<string, unknown>>(response);
    assert.deepEqual(Object.keys(key).sort(), ['expiration_date', 'id', 'public_key', 'type']);
    assert.equal(key.id, keyId);
    assert.equal(key.type, 'PGP');
    assert.equal(key.expiration_date, START / 1000 + 365 * DAY_S);
    assert.match(String(key.public_key), /^-----BEGIN PGP PUBLIC KEY BLOCK-----/);
    const publicKey = await openpgp.readKey({ armoredKey: String(key.public_key) });
    assert.equal(publicKey.isPrivate(), false);
    assert.equal(publicKey.getAlgorithmInfo().algorithm, 'eddsaLegacy');
  });

  void test('rejects other key types and unknown keys', async () => {
    assert.match(await assertOxlinError(await sandboxApi(h, '/v2.1/keys', { method: 'POST', body: { type: 'RSA' } }), 400, 'invalid_request'), /type/);
    await assertOxlinError(await sandboxApi(h, '/v2.1/keys', { method: 'POST', body: {} }), 400, 'invalid_request');
    await assertOxlinError(await sandboxApi(h, '/v2.1/keys/nope'), 404, 'not_found');
  });
});

void describe('oxlin sandbox: EMBEDDED connections', () => {
  let h: SandboxHarness;
  let key: Key;
  let events: Events;
  before(async () => {
    h = await startHarness();
    key = await createKey(h);
    events = await Events.subscribe(h);
  });
  after(() => h.sandbox.close());

  void test('creates a connection from encrypted credentials and lists the EMBEDDED accounts', async () => {
    const connectionId = await createEmbedded(h, key, 'alice');
    const listed = await events.until('LIST_ACCOUNTS_SUCCESS', connectionId);
    assert.deepEqual(types(listed), ['LIST_ACCOUNTS_STARTED', 'LIST_ACCOUNTS_SUCCESS']);
    const [started, success] = listed;
    assert.equal(started?.channel_definition_id, '8702');
    assert.deepEqual(started?.resource.channels.map((channel) => [channel.channel_definition_id, channel.status]), [
      ['8701', 'EMPTY'],
      ['8702', 'RUNNING'],
    ]);
    assert.equal(success?.channel_definition_id, '8702');

    const connection = await getConnection(h, connectionId);
    assert.equal(connection.status, 'SUCCESS');
    const embedded = channelOf(connection, '8702');
    assert.deepEqual(embedded, {
      channel_definition_id: '8702',
      mode: 'EMBEDDED',
      status: 'SUCCESS',
      last_success_date: START / 1000,
      last_end_date: START / 1000,
      credentials: [
        { id: '300', masked_value: '**ce' },
        { id: '302', masked_value: '**=1' },
      ],
      account_types: ['SAVINGS', 'LOAN'],
    });
    assert.deepEqual(channelOf(connection, '8701'), {
      channel_definition_id: '8701',
      mode: 'REDIRECT',
      status: 'EMPTY',
      credentials: [],
      account_types: ['CHECKINGS', 'CREDIT_CARD'],
    });
    assert.doesNotMatch(JSON.stringify(connection), /sandbox-password|PGP MESSAGE/);

    assert.deepEqual(
      (await accounts(h, connectionId)).map((account) => [account.id, account.type, account.name, account.status]),
      [
        [`${connectionId}51`, 'SAVINGS', 'Livret A', 'PENDING_CONSENT'],
        [`${connectionId}52`, 'LOAN', 'Prêt immobilier', 'PENDING_CONSENT'],
      ],
    );
    await consentAll(h, connectionId);
    assert.deepEqual(types(await events.until('SYNC_ALL_SUCCESS', connectionId)), ['SYNC_ALL_STARTED', 'SYNC_ALL_SUCCESS']);
    const response = await sandboxApi(h, `/v2.1/transactions?account_id=${connectionId}51`);
    assert.equal(response.headers.get('x-total-count'), '91');
  });

  void test('takes HSBC credentials (3500 login, 3501, 3502 encrypted password)', async () => {
    const response = await sandboxApi(h, '/v2.1/connections', {
      method: 'POST',
      body: {
        provider_id: '119',
        channel_definition_id: 'embedded1',
        key_id: key.id,
        credentials: [
          { id: '3500', value: 'user_many' },
          { id: '3501', value: 'blue' },
          { id: '3502', value: await encrypt(key, PASSWORD) },
        ],
      },
    });
    await expectStatus(response, 201);
    const connectionId = (response.headers.get('location') ?? '').split('/').pop() ?? '';
    await events.until('LIST_ACCOUNTS_SUCCESS', connectionId);
    const listed = await accounts(h, connectionId);
    assert.equal(listed.length, 25, 'user_many lists 25 accounts');
    assert.equal(listed[0]?.id, `${connectionId}51`);
    assert.equal(listed.at(-1)?.id, `${connectionId}75`);
    assert.deepEqual([...new Set(listed.map((account) => account.type))].sort(), ['LOAN', 'SAVINGS']);
    assert.deepEqual(channelOf(await getConnection(h, connectionId), 'embedded1').credentials, [{ id: '3500', masked_value: '**ny' }]);
  });

  void test('validates credentials like the provider, without echoing values', async () => {
    const post = (body: unknown): Promise<Response> => sandboxApi(h, '/v2.1/connections', { method: 'POST', body });
    const good = await testBankCredentials(key, 'alice');
    const base = { provider_id: '87', key_id: key.id };
    const replace = (id: string, value: string) => good.map((credential) => (credential.id === id ? { id, value } : credential));

    const plaintext = await assertOxlinError(await post({ ...base, credentials: replace('301', PASSWORD) }), 400, 'invalid_request');
    assert.equal(plaintext, `credential 301 is not a PGP message encrypted with key ${key.id}.`);
    const otherKey = await createKey(h);
    const forOtherKey = await encrypt(otherKey, PASSWORD);
    assert.match(await assertOxlinError(await post({ ...base, credentials: replace('301', forOtherKey) }), 400, 'invalid_request'), /credential 301 is not a PGP message/);

    const badUrl = await assertOxlinError(await post({ ...base, credentials: replace('302', 'not-a-url-secret') }), 400, 'invalid_request');
    assert.match(badUrl, /credential 302/);
    assert.doesNotMatch(badUrl, /not-a-url-secret/);
    const emptyPassword = await assertOxlinError(await post({ ...base, credentials: replace('301', await encrypt(key, '')) }), 400, 'invalid_request');
    assert.match(emptyPassword, /credential 301/);

    const missing = await assertOxlinError(await post({ ...base, credentials: good.filter((credential) => credential.id !== '302') }), 400, 'invalid_request');
    assert.match(missing, /missing credential "302"/);
    assert.match(await assertOxlinError(await post({ ...base, credentials: [...good, { id: '999', value: 'x' }] }), 400, 'invalid_request'), /"999"/);
    assert.match(await assertOxlinError(await post({ ...base, credentials: [...good, good[0]] }), 400, 'invalid_request'), /more than once/);
    assert.match(await assertOxlinError(await post({ ...base, key_id: 'nope', credentials: good }), 400, 'invalid_request'), /key_id/);
    assert.match(await assertOxlinError(await post({ provider_id: '87', credentials: good }), 400, 'invalid_request'), /key_id/);
    assert.match(await assertOxlinError(await post({ ...base, provider_id: '999', credentials: good }), 400, 'invalid_request'), /provider_id/);
    assert.match(await assertOxlinError(await post({ ...base, channel_definition_id: '8701', credentials: good }), 400, 'invalid_request'), /channel_definition_id/);
    assert.match(await assertOxlinError(await post({ ...base, channel_definition_id: 'x', credentials: good }), 400, 'invalid_request'), /channel_definition_id/);
    assert.match(await assertOxlinError(await post({ ...base, credentials: [{ id: '300', value: 42 }] }), 400, 'invalid_request'), /credentials\.0\.value/);
    await assertOxlinError(await post({ ...base, credentials: good, extra: true }), 400, 'invalid_request');
    await assertOxlinError(await post({ ...base, credentials: [] }), 400, 'invalid_request');
    // HSBC's login pattern wants 7 characters or more.
    const hsbc = await post({
      provider_id: '119',
      key_id: key.id,
      credentials: [
        { id: '3500', value: 'bob' },
        { id: '3501', value: 'blue' },
        { id: '3502', value: await encrypt(key, PASSWORD) },
      ],
    });
    assert.match(await assertOxlinError(hsbc, 400, 'invalid_request'), /credential 3500/);
  });

  void test('a wrong password still creates the connection, whose LIST_ACCOUNTS ends AUTH_FAILED', async () => {
    const connectionId = await createEmbedded(h, key, 'alice', 'wrong-password');
    const listed = await events.until('LIST_ACCOUNTS_FAILED', connectionId);
    assert.deepEqual(types(listed), ['LIST_ACCOUNTS_STARTED', 'LIST_ACCOUNTS_FAILED']);
    assert.equal(statusIn(listed[1], '8702'), 'AUTH_FAILED');
    const connection = await getConnection(h, connectionId);
    assert.equal(connection.status, 'FAILED');
    assert.deepEqual(await accounts(h, connectionId), []);

    // PUT channel with the right credentials repairs it.
    const response = await sandboxApi(h, `/v2.1/connections/${connectionId}/channels/8702`, {
      method: 'PUT',
      body: { id: '8702', key_id: key.id, credentials: await testBankCredentials(key, 'alice') },
    });
    await expectStatus(response, 204);
    assert.deepEqual(types(await events.until('LIST_ACCOUNTS_SUCCESS', connectionId)), ['LIST_ACCOUNTS_STARTED', 'LIST_ACCOUNTS_SUCCESS']);
    assert.equal((await getConnection(h, connectionId)).status, 'SUCCESS');
    assert.equal((await accounts(h, connectionId)).length, 2);
  });

  void test('user_wrongpass fails whatever the password; user_pwchange asks for a new password', async () => {
    const wrong = await createEmbedded(h, key, 'user_wrongpass');
    const pwchange = await createEmbedded(h, key, 'user_pwchange');
    assert.equal(statusIn((await events.until('LIST_ACCOUNTS_FAILED', wrong)).at(-1), '8702'), 'AUTH_FAILED');
    assert.equal(statusIn((await events.until('LIST_ACCOUNTS_FAILED', pwchange)).at(-1), '8702'), 'PASSWORD_CHANGE_REQUIRED');
  });

  void test('PUT credentials/{id} updates one credential and lists again', async () => {
    const connectionId = await createEmbedded(h, key, 'alice', 'nope-nope');
    await events.until('LIST_ACCOUNTS_FAILED', connectionId);
    const put = (credentialId: string, body: unknown) => sandboxApi(h, `/v2.1/connections/${connectionId}/credentials/${credentialId}`, { method: 'PUT', body });

    assert.match(await assertOxlinError(await put('301', { value: await encrypt(key, PASSWORD) }), 400, 'invalid_request'), /key_id/);
    assert.match(await assertOxlinError(await put('301', { key_id: key.id, value: PASSWORD }), 400, 'invalid_request'), /credential 301/);
    await assertOxlinError(await put('999', { value: 'x' }), 404, 'not_found');
    await assertOxlinError(await put('300', {}), 400, 'invalid_request');

    await expectStatus(await put('301', { key_id: key.id, value: await encrypt(key, PASSWORD) }), 204);
    await events.until('LIST_ACCOUNTS_SUCCESS', connectionId);
    assert.equal(channelOf(await getConnection(h, connectionId), '8702').status, 'SUCCESS');

    // The login selects the test user.
    await expectStatus(await put('300', { value: 'user_pwchange' }), 204);
    await events.until('LIST_ACCOUNTS_FAILED', connectionId);
    const channel = channelOf(await getConnection(h, connectionId), '8702');
    assert.equal(channel.status, 'PASSWORD_CHANGE_REQUIRED');
    assert.deepEqual(channel.credentials[0], { id: '300', masked_value: '**ge' });
  });

  void test('adds the EMBEDDED channel to a REDIRECT connection; the new accounts wait for consent', async () => {
    const { connectionId, events: own } = await connectRedirect(h);
    await consentAll(h, connectionId);
    await own.until('SYNC_ALL_SUCCESS', connectionId);
    const put = async (channel: string, body: Record<string, unknown> = {}) =>
      sandboxApi(h, `/v2.1/connections/${connectionId}/channels/${channel}`, {
        method: 'PUT',
        body: { id: channel, key_id: key.id, credentials: await testBankCredentials(key, 'alice'), ...body },
      });
    assert.match(await assertOxlinError(await put('8701'), 400, 'invalid_request'), /REDIRECT/);
    assert.match(await assertOxlinError(await put('8702', { id: '8701' }), 400, 'invalid_request'), /^id:/);
    await assertOxlinError(await put('nope'), 404, 'not_found');
    await assertOxlinError(
      await sandboxApi(h, `/v2.1/connections/${connectionId}/credentials/301`, { method: 'PUT', body: { key_id: key.id, value: 'x' } }),
      409,
      'conflict',
    );

    await expectStatus(await put('8702'), 204);
    const added = await own.until('LIST_ACCOUNTS_SUCCESS', connectionId);
    assert.deepEqual(added.map((event) => [event.event_type, event.channel_definition_id]), [
      ['LIST_ACCOUNTS_STARTED', '8702'],
      ['LIST_ACCOUNTS_SUCCESS', '8702'],
    ]);
    assert.deepEqual(
      (await accounts(h, connectionId)).map((account) => [account.id, account.type, account.status]),
      [
        [`${connectionId}01`, 'CHECKINGS', 'ACTIVE'],
        [`${connectionId}02`, 'CHECKINGS', 'ACTIVE'],
        [`${connectionId}03`, 'CREDIT_CARD', 'ACTIVE'],
        [`${connectionId}51`, 'SAVINGS', 'PENDING_CONSENT'],
        [`${connectionId}52`, 'LOAN', 'PENDING_CONSENT'],
      ],
    );
    const connection = await getConnection(h, connectionId);
    assert.deepEqual(connection.channels.map((channel) => [channel.channel_definition_id, channel.status]), [
      ['8701', 'SUCCESS'],
      ['8702', 'SUCCESS'],
    ]);

    // Both channels synchronize from now on.
    await expectStatus(await sandboxApi(h, `/v2.1/connections/${connectionId}/synchronize`, { method: 'POST' }), 202);
    const synced = await own.until('SYNC_ALL_SUCCESS', connectionId);
    const rest = await own.until('SYNC_ALL_SUCCESS', connectionId);
    assert.deepEqual([...synced, ...rest].map((event) => `${event.event_type} ${event.channel_definition_id}`).sort(), [
      'SYNC_ALL_STARTED 8701',
      'SYNC_ALL_STARTED 8702',
      'SYNC_ALL_SUCCESS 8701',
      'SYNC_ALL_SUCCESS 8702',
    ]);
  });
});

void describe('oxlin sandbox: challenges', () => {
  let h: SandboxHarness;
  let key: Key;
  let events: Events;
  before(async () => {
    h = await startHarness();
    key = await createKey(h);
    events = await Events.subscribe(h);
  });
  after(() => h.sandbox.close());

  /** An EMBEDDED user_sms connection waiting at step 1. */
  async function atOffer(): Promise<string> {
    const connectionId = await createEmbedded(h, key, 'user_sms');
    await events.until('LIST_ACCOUNTS_USER_INPUT_REQUESTED', connectionId);
    return connectionId;
  }

  /** Answers step 1 with OK; returns the step-2 event. */
  async function toCode(connectionId: string): Promise<OxlinEvent | undefined> {
    await expectStatus(await userInput(h, connectionId, '8702', [{ id: '304', value: 'true' }]), 204);
    return (await events.until('LIST_ACCOUNTS_USER_INPUT_REQUESTED', connectionId)).at(-1);
  }

  const sendCode = (connectionId: string, code: string) =>
    userInput(h, connectionId, '8702', [
      { id: '306', value: code },
      { id: '307', value: 'true' },
    ]);

  void test('LIST_ACCOUNTS asks the SMS challenge in two steps, then succeeds with 123456', async () => {
    const connectionId = await createEmbedded(h, key, 'user_sms');
    const first = await events.until('LIST_ACCOUNTS_USER_INPUT_REQUESTED', connectionId);
    assert.deepEqual(types(first), ['LIST_ACCOUNTS_STARTED', 'LIST_ACCOUNTS_USER_INPUT_REQUESTED']);
    const offer = first[1];
    assert.ok(offer);
    assert.deepEqual(Object.keys(offer).sort(), [
      'channel_definition_id',
      'creation_date',
      'event_type',
      'id',
      'list_accounts_user_input_requested',
      'resource',
      'resource_type',
    ]);
    assert.equal(offer.channel_definition_id, '8702');
    assert.deepEqual(offer.list_accounts_user_input_requested, { challenge: SMS_OFFER });
    assert.equal(channelOf(offer.resource, '8702').status, 'CHALLENGE_REQUIRED');
    assert.equal(channelOf(await getConnection(h, connectionId), '8702').status, 'CHALLENGE_REQUIRED');

    const code = await toCode(connectionId);
    assert.deepEqual(challengeOf(code), smsCodeRequest());
    assert.equal(statusIn(code, '8702'), 'CHALLENGE_REQUIRED');

    await expectStatus(await sendCode(connectionId, '123456'), 204);
    assert.equal(channelOf(await getConnection(h, connectionId), '8702').status, 'RUNNING');
    assert.deepEqual(types(await events.until('LIST_ACCOUNTS_SUCCESS', connectionId)), ['LIST_ACCOUNTS_SUCCESS']);
    assert.equal((await accounts(h, connectionId)).length, 2);
    await assertOxlinError(await sendCode(connectionId, '123456'), 409, 'conflict');
  });

  void test('wrong codes count down remaining_attempts, and the third ends TOO_MANY_ATTEMPTS', async () => {
    const connectionId = await atOffer();
    await toCode(connectionId);
    await expectStatus(await sendCode(connectionId, '000000'), 204);
    assert.deepEqual(challengeOf((await events.until('LIST_ACCOUNTS_USER_INPUT_REQUESTED', connectionId)).at(-1)), smsCodeRequest(2));
    await expectStatus(await sendCode(connectionId, '111111'), 204);
    assert.deepEqual(challengeOf((await events.until('LIST_ACCOUNTS_USER_INPUT_REQUESTED', connectionId)).at(-1)), smsCodeRequest(1));
    await expectStatus(await sendCode(connectionId, '222222'), 204);
    const failed = await events.until('LIST_ACCOUNTS_FAILED', connectionId);
    assert.deepEqual(types(failed), ['LIST_ACCOUNTS_FAILED']);
    assert.equal(statusIn(failed[0], '8702'), 'TOO_MANY_ATTEMPTS');
    assert.deepEqual(await accounts(h, connectionId), []);
  });

  void test('a wrong code then the right one succeeds', async () => {
    const connectionId = await atOffer();
    await toCode(connectionId);
    await expectStatus(await sendCode(connectionId, '000000'), 204);
    await events.until('LIST_ACCOUNTS_USER_INPUT_REQUESTED', connectionId);
    await expectStatus(await sendCode(connectionId, '123456'), 204);
    await events.until('LIST_ACCOUNTS_SUCCESS', connectionId);
  });

  void test('cancelling at either step ends CHALLENGE_CANCELLED', async () => {
    const atStepOne = await atOffer();
    await expectStatus(await userInput(h, atStepOne, '8702', [{ id: '304', value: 'false' }]), 204);
    const first = await events.until('LIST_ACCOUNTS_FAILED', atStepOne);
    assert.equal(statusIn(first[0], '8702'), 'CHALLENGE_CANCELLED');

    const atStepTwo = await atOffer();
    await toCode(atStepTwo);
    await expectStatus(await userInput(h, atStepTwo, '8702', [{ id: '307', value: 'false' }]), 204);
    const second = await events.until('LIST_ACCOUNTS_FAILED', atStepTwo);
    assert.equal(statusIn(second[0], '8702'), 'CHALLENGE_CANCELLED');
  });

  void test('while a challenge waits, the connection is busy (409)', async () => {
    const connectionId = await atOffer();
    const put = await sandboxApi(h, `/v2.1/connections/${connectionId}/channels/8702`, {
      method: 'PUT',
      body: { id: '8702', key_id: key.id, credentials: await testBankCredentials(key, 'alice') },
    });
    await assertOxlinError(put, 409, 'conflict');
    await assertOxlinError(await sandboxApi(h, `/v2.1/connections/${connectionId}/synchronize`, { method: 'POST' }), 409, 'conflict');
    await assertOxlinError(
      await sandboxApi(h, `/v2.1/connections/${connectionId}/credentials/300`, { method: 'PUT', body: { value: 'alice' } }),
      409,
      'conflict',
    );
  });

  void test('user_input answers 409 without a pending challenge and 400 for bad answers', async () => {
    const idle = await createEmbedded(h, key, 'alice');
    await events.until('LIST_ACCOUNTS_SUCCESS', idle);
    await assertOxlinError(await userInput(h, idle, '8702', [{ id: '304', value: 'true' }]), 409, 'conflict');
    await assertOxlinError(await userInput(h, idle, '8701', [{ id: '304', value: 'true' }]), 409, 'conflict');
    await assertOxlinError(await userInput(h, idle, 'nope', [{ id: '304', value: 'true' }]), 404, 'not_found');
    await assertOxlinError(await userInput(h, '404404', '8702', [{ id: '304', value: 'true' }]), 404, 'not_found');

    const connectionId = await atOffer();
    const bad = async (credentials: unknown, pattern: RegExp) =>
      assert.match(await assertOxlinError(await userInput(h, connectionId, '8702', credentials), 400, 'invalid_request'), pattern);
    await bad([{ id: '306', value: '123456' }], /"306" is not an input/);
    await bad([{ id: '303', value: 'true' }], /"303" is not an input/);
    await bad([{ id: '304', value: 'maybe' }], /"304"/);
    await bad([{ id: '304', value: true }], /credentials\.0\.value/);
    await bad([], /credentials/);
    await bad({ id: '304', value: 'true' }, /credentials/);
    await toCode(connectionId);
    await bad([{ id: '306', value: '12ab56' }, { id: '307', value: 'true' }], /"306" does not match/);
    await bad([{ id: '307', value: 'true' }], /"306" is required/);
    await bad([{ id: '306', value: '123456' }], /"307" is required/);
    await bad([{ id: '304', value: 'true' }], /"304" is not an input/);
    // None of these counted as an attempt.
    await expectStatus(await sendCode(connectionId, '123456'), 204);
    await events.until('LIST_ACCOUNTS_SUCCESS', connectionId);
  });

  void test('an answer after the timeout finds CHALLENGE_TIMED_OUT and 409', async () => {
    const connectionId = await atOffer();
    await toCode(connectionId);
    h.clock.now += 121_000;
    try {
      await assertOxlinError(await sendCode(connectionId, '123456'), 409, 'conflict');
      const failed = await events.until('LIST_ACCOUNTS_FAILED', connectionId);
      assert.deepEqual(types(failed), ['LIST_ACCOUNTS_FAILED']);
      assert.equal(statusIn(failed[0], '8702'), 'CHALLENGE_TIMED_OUT');
    } finally {
      h.clock.now = START;
    }
  });

  void test('an answer within the timeout is accepted; reading after the deadline expires the challenge', async () => {
    const inTime = await atOffer();
    await toCode(inTime);
    h.clock.now += 120_000;
    try {
      await expectStatus(await sendCode(inTime, '123456'), 204);
      await events.until('LIST_ACCOUNTS_SUCCESS', inTime);
    } finally {
      h.clock.now = START;
    }

    const late = await atOffer();
    h.clock.now += 121_000;
    try {
      // Step 1 expires too; reading the connection is enough.
      assert.equal(channelOf(await getConnection(h, late), '8702').status, 'CHALLENGE_TIMED_OUT');
      assert.deepEqual(types(await events.until('LIST_ACCOUNTS_FAILED', late)), ['LIST_ACCOUNTS_FAILED']);
    } finally {
      h.clock.now = START;
    }
  });

  void test('user_sms on the bank page challenges the REDIRECT channel', async () => {
    const back = await bankApprove(h, 'user_sms');
    const connectionId = back.searchParams.get('connection_id') ?? '';
    const own = Events.of(h, back.searchParams.get('queue_id') ?? '');
    const offer = (await own.until('LIST_ACCOUNTS_USER_INPUT_REQUESTED', connectionId)).at(-1);
    assert.equal(offer?.channel_definition_id, '8701');
    assert.deepEqual(challengeOf(offer), SMS_OFFER);
    await expectStatus(await userInput(h, connectionId, '8701', [{ id: '304', value: 'true' }]), 204);
    await own.until('LIST_ACCOUNTS_USER_INPUT_REQUESTED', connectionId);
    await expectStatus(
      await userInput(h, connectionId, '8701', [
        { id: '306', value: '123456' },
        { id: '307', value: 'true' },
      ]),
      204,
    );
    await own.until('LIST_ACCOUNTS_SUCCESS', connectionId);
    assert.equal((await accounts(h, connectionId)).length, 3);
  });

  void test('user_sms_sync lists without a challenge and asks it on every SYNC_ALL', async () => {
    const { connectionId, events: own } = await connectRedirect(h, 'user_sms_sync');
    await consentAll(h, connectionId);
    for (let round = 0; round < 2; round += 1) {
      if (round > 0) await expectStatus(await sandboxApi(h, `/v2.1/connections/${connectionId}/synchronize`, { method: 'POST' }), 202);
      const asked = await own.until('SYNC_ALL_USER_INPUT_REQUESTED', connectionId);
      assert.deepEqual(types(asked), ['SYNC_ALL_STARTED', 'SYNC_ALL_USER_INPUT_REQUESTED']);
      assert.deepEqual(asked[1]?.sync_all_user_input_requested, { challenge: SMS_OFFER });
      assert.equal(asked[1]?.list_accounts_user_input_requested, undefined);
      await assertOxlinError(await sandboxApi(h, `/v2.1/connections/${connectionId}/synchronize`, { method: 'POST' }), 409, 'conflict');
      await expectStatus(await userInput(h, connectionId, '8701', [{ id: '304', value: 'true' }]), 204);
      assert.deepEqual(challengeOf((await own.until('SYNC_ALL_USER_INPUT_REQUESTED', connectionId)).at(-1)), smsCodeRequest());
      await expectStatus(
        await userInput(h, connectionId, '8701', [
          { id: '306', value: '123456' },
          { id: '307', value: 'true' },
        ]),
        204,
      );
      await own.until('SYNC_ALL_SUCCESS', connectionId);
    }
  });
});

void describe('oxlin sandbox: scenarios and controls', () => {
  let h: SandboxHarness;
  let key: Key;
  before(async () => {
    h = await startHarness();
    key = await createKey(h);
  });
  after(() => h.sandbox.close());

  const synchronize = (connectionId: string) => sandboxApi(h, `/v2.1/connections/${connectionId}/synchronize`, { method: 'POST' });

  void test('user_action: the first SYNC_ALL ends USER_ACTION_REQUIRED, the next succeeds', async () => {
    const { connectionId, events } = await connectRedirect(h, 'user_action');
    await consentAll(h, connectionId);
    const first = await events.until('SYNC_ALL_FAILED', connectionId);
    assert.deepEqual(types(first), ['SYNC_ALL_STARTED', 'SYNC_ALL_FAILED']);
    assert.equal(statusIn(first[1], '8701'), 'USER_ACTION_REQUIRED');
    assert.equal(first[1]?.resource.status, 'FAILED');
    await expectStatus(await synchronize(connectionId), 202);
    assert.deepEqual(types(await events.until('SYNC_ALL_SUCCESS', connectionId)), ['SYNC_ALL_STARTED', 'SYNC_ALL_SUCCESS']);
    assert.equal((await getConnection(h, connectionId)).status, 'SUCCESS');
  });

  void test('user_pwchange on the bank page: LIST_ACCOUNTS ends PASSWORD_CHANGE_REQUIRED', async () => {
    const back = await bankApprove(h, 'user_pwchange');
    const connectionId = back.searchParams.get('connection_id') ?? '';
    const failed = await Events.of(h, back.searchParams.get('queue_id') ?? '').until('LIST_ACCOUNTS_FAILED', connectionId);
    assert.equal(statusIn(failed.at(-1), '8701'), 'PASSWORD_CHANGE_REQUIRED');
  });

  void test('user_slow: listing takes slowListDelayMs', async () => {
    const startedAt = Date.now();
    const back = await bankApprove(h, 'user_slow');
    const connectionId = back.searchParams.get('connection_id') ?? '';
    await sleep(100);
    assert.equal(channelOf(await getConnection(h, connectionId), '8701').status, 'RUNNING');
    await Events.of(h, back.searchParams.get('queue_id') ?? '').until('LIST_ACCOUNTS_SUCCESS', connectionId);
    assert.ok(Date.now() - startedAt >= 300);
  });

  void test('user_many: 25 REDIRECT accounts, CHECKINGS and CREDIT_CARD', async () => {
    const { connectionId } = await connectRedirect(h, 'user_many');
    const listed = await accounts(h, connectionId);
    assert.equal(listed.length, 25);
    assert.deepEqual(
      listed.map((account) => account.id),
      Array.from({ length: 25 }, (_, index) => `${connectionId}${String(index + 1).padStart(2, '0')}`),
    );
    assert.deepEqual([...new Set(listed.map((account) => account.type))].sort(), ['CHECKINGS', 'CREDIT_CARD']);
    assert.equal(new Set(listed.map((account) => account.name)).size, 25);
  });

  void test('user_short_consent: the REDIRECT channel expires after 10 days, renewed by 10 days', async () => {
    const { connectionId } = await connectRedirect(h, 'user_short_consent');
    assert.equal(channelOf(await getConnection(h, connectionId), '8701').expires, START / 1000 + 10 * DAY_S);
    await setSandboxClock(h, START + 5 * DAY_MS);
    try {
      await bankApprove(h, 'user_short_consent', { connection_id: connectionId, channel_definition_id: '8701' });
      assert.equal(channelOf(await getConnection(h, connectionId), '8701').expires, (START + 5 * DAY_MS) / 1000 + 10 * DAY_S);
    } finally {
      await setSandboxClock(h, START);
    }
  });

  void test('next-sync makes the next SYNC_ALL end as asked, once', async () => {
    const { connectionId, events } = await connectRedirect(h);
    await consentAll(h, connectionId);
    await events.until('SYNC_ALL_SUCCESS', connectionId);

    for (const outcome of ['AUTH_FAILED', 'PASSWORD_CHANGE_REQUIRED', 'USER_ACTION_REQUIRED']) {
      await expectStatus(await nextSync(h, connectionId, outcome), 204);
      await expectStatus(await synchronize(connectionId), 202);
      const failed = await events.until('SYNC_ALL_FAILED', connectionId);
      assert.equal(statusIn(failed.at(-1), '8701'), outcome);
      await expectStatus(await synchronize(connectionId), 202);
      await events.until('SYNC_ALL_SUCCESS', connectionId);
    }

    await expectStatus(await nextSync(h, connectionId, 'CHALLENGE'), 204);
    await expectStatus(await synchronize(connectionId), 202);
    assert.deepEqual(challengeOf((await events.until('SYNC_ALL_USER_INPUT_REQUESTED', connectionId)).at(-1)), SMS_OFFER);
    await expectStatus(await userInput(h, connectionId, '8701', [{ id: '304', value: 'true' }]), 204);
    await events.until('SYNC_ALL_USER_INPUT_REQUESTED', connectionId);
    await expectStatus(
      await userInput(h, connectionId, '8701', [
        { id: '306', value: '123456' },
        { id: '307', value: 'true' },
      ]),
      204,
    );
    await events.until('SYNC_ALL_SUCCESS', connectionId);

    await expectStatus(await nextSync(h, connectionId, 'SUCCESS'), 204);
    await expectStatus(await synchronize(connectionId), 202);
    await events.until('SYNC_ALL_SUCCESS', connectionId);

    assert.match(await assertOxlinError(await nextSync(h, connectionId, 'EXPLODE'), 400, 'invalid_request'), /outcome/);
    await assertOxlinError(await nextSync(h, '404404', 'SUCCESS'), 404, 'not_found');
  });

  void test('next-sync applies to the SYNC_ALL that consents start, on an EMBEDDED channel too', async () => {
    const events = await Events.subscribe(h);
    const connectionId = await createEmbedded(h, key, 'alice');
    await events.until('LIST_ACCOUNTS_SUCCESS', connectionId);
    await expectStatus(await nextSync(h, connectionId, 'AUTH_FAILED'), 204);
    await consentAll(h, connectionId);
    const failed = await events.until('SYNC_ALL_FAILED', connectionId);
    assert.equal(statusIn(failed.at(-1), '8702'), 'AUTH_FAILED');
    const response = await sandboxApi(h, `/v2.1/transactions?account_id=${connectionId}51`);
    assert.equal(response.headers.get('x-total-count'), '0', 'a failed SYNC_ALL brings no data');
  });

  void test('an expired REDIRECT channel fails every SYNC_ALL until it is re-authorized', async () => {
    const { connectionId, events } = await connectRedirect(h);
    await consentAll(h, connectionId);
    await events.until('SYNC_ALL_SUCCESS', connectionId);
    const later = START + 181 * DAY_MS;
    await setSandboxClock(h, later);
    try {
      for (let round = 0; round < 2; round += 1) {
        await expectStatus(await synchronize(connectionId), 202);
        const failed = await events.until('SYNC_ALL_FAILED', connectionId);
        assert.equal(statusIn(failed.at(-1), '8701'), 'AUTH_FAILED');
      }
      const back = await bankApprove(h, 'alice', { connection_id: connectionId, channel_definition_id: '8701' });
      assert.equal(back.searchParams.get('connection_id'), connectionId);
      const renewed = channelOf(await getConnection(h, connectionId), '8701');
      assert.equal(renewed.status, 'SUCCESS');
      assert.equal(renewed.expires, later / 1000 + 180 * DAY_S);
      await expectStatus(await synchronize(connectionId), 202);
      await events.until('SYNC_ALL_SUCCESS', connectionId);
    } finally {
      await setSandboxClock(h, START);
    }
  });

  void test('re-authorizing a REDIRECT channel whose listing failed lists its accounts', async () => {
    const back = await bankApprove(h, 'user_pwchange');
    const connectionId = back.searchParams.get('connection_id') ?? '';
    await Events.of(h, back.searchParams.get('queue_id') ?? '').until('LIST_ACCOUNTS_FAILED', connectionId);
    const renewed = await bankApprove(h, 'alice', { connection_id: connectionId, channel_definition_id: '8701' });
    await Events.of(h, renewed.searchParams.get('queue_id') ?? '').until('LIST_ACCOUNTS_SUCCESS', connectionId);
    assert.equal((await accounts(h, connectionId)).length, 3);
  });

  void test('the sandbox controls need no token; /v2.1 still does', async () => {
    const { connectionId } = await connectRedirect(h);
    await expectStatus(await nextSync(h, connectionId, 'SUCCESS'), 204);
    await assertOxlinError(await sandboxApi(h, `/v2.1/connections/${connectionId}`, { token: false }), 401, 'invalid_token');
  });
});

void describe('oxlin sandbox: queues and disconnection', () => {
  let h: SandboxHarness;
  let key: Key;
  before(async () => {
    h = await startHarness();
    key = await createKey(h);
  });
  after(() => h.sandbox.close());

  void test('every subscribed queue gets its own copy of every event; redirect queues stay scoped', async () => {
    const first = await Events.subscribe(h);
    const second = await Events.subscribe(h);
    const { connectionId: redirected, events: scoped } = await connectRedirect(h);
    const embedded = await createEmbedded(h, key, 'alice');
    for (const queue of [first, second]) {
      assert.deepEqual(types(await queue.until('LIST_ACCOUNTS_SUCCESS', redirected)), ['LIST_ACCOUNTS_STARTED', 'LIST_ACCOUNTS_SUCCESS']);
      assert.deepEqual(types(await queue.until('LIST_ACCOUNTS_SUCCESS', embedded)), ['LIST_ACCOUNTS_STARTED', 'LIST_ACCOUNTS_SUCCESS']);
    }
    assert.deepEqual(await scoped.pending(embedded), [], "the redirect queue has only its connection's events");
  });

  void test('DELETE removes the connection, its accounts and transactions, and stops its events', async () => {
    const events = await Events.subscribe(h);
    const { connectionId } = await connectRedirect(h);
    await consentAll(h, connectionId);
    await events.until('SYNC_ALL_SUCCESS', connectionId);
    await expectStatus(await sandboxApi(h, `/v2.1/transactions?account_id=${connectionId}01`), 200);

    const deleted = await sandboxApi(h, `/v2.1/connections/${connectionId}`, { method: 'DELETE' });
    await expectStatus(deleted, 204);
    assert.equal(await deleted.text(), '');
    await assertOxlinError(await sandboxApi(h, `/v2.1/connections/${connectionId}`), 404, 'not_found');
    await assertOxlinError(await sandboxApi(h, `/v2.1/accounts?connection_id=${connectionId}`), 404, 'not_found');
    await assertOxlinError(await sandboxApi(h, `/v2.1/transactions?account_id=${connectionId}01`), 404, 'not_found');
    await assertOxlinError(await sandboxApi(h, `/v2.1/connections/${connectionId}/synchronize`, { method: 'POST' }), 404, 'not_found');
    await assertOxlinError(await sandboxApi(h, `/v2.1/connections/${connectionId}`, { method: 'DELETE' }), 404, 'not_found');
    await assertOxlinError(await nextSync(h, connectionId, 'SUCCESS'), 404, 'not_found');
  });

  void test('DELETE during a job: its end never comes', async () => {
    const events = await Events.subscribe(h);
    const back = await bankApprove(h, 'user_slow');
    const connectionId = back.searchParams.get('connection_id') ?? '';
    await expectStatus(await sandboxApi(h, `/v2.1/connections/${connectionId}`, { method: 'DELETE' }), 204);
    await sleep(400);
    assert.deepEqual(types(await events.pending(connectionId)), ['LIST_ACCOUNTS_STARTED']);
    const scoped = Events.of(h, back.searchParams.get('queue_id') ?? '');
    assert.deepEqual(types(await scoped.pending(connectionId)), ['LIST_ACCOUNTS_STARTED']);
  });

  void test('DELETE of an EMBEDDED connection waiting for a challenge', async () => {
    const events = await Events.subscribe(h);
    const connectionId = await createEmbedded(h, key, 'user_sms');
    await events.until('LIST_ACCOUNTS_USER_INPUT_REQUESTED', connectionId);
    await expectStatus(await sandboxApi(h, `/v2.1/connections/${connectionId}`, { method: 'DELETE' }), 204);
    await assertOxlinError(await userInput(h, connectionId, '8702', [{ id: '304', value: 'true' }]), 404, 'not_found');
  });
});
