// The whole connection lifecycle through the public API against the Oxlin sandbox: embedded
// credentials encrypted with Linkflow's key, challenges, recovery, sync now, a second channel,
// renewal and disconnect — with every 4xx of the credential and challenge endpoints.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { encryptCredentials } from '../../api/clients/credentials';
import { generateCredentialsKey, loadCredentialsKey } from '../../domain/credentials';
import { workflowIdFor } from '../../contract/messages';
import type { ConnectionView } from '../../contract/messages';
import { type Linkflow, startLinkflow } from '../helpers/linkflow';
import { approveAtBank } from '../helpers/oxlin';
import { openHistory } from '../helpers/temporal';

const PASSWORD = 'sandbox-password';

describe('connection lifecycle through the API', () => {
  let lf: Linkflow;
  let publicKey: string;
  before(async () => {
    lf = await startLinkflow();
    const key = await lf.call('GET', '/v1/keys/credentials');
    assert.equal(key.status, 200);
    assert.match(key.body.public_key, /BEGIN PGP PUBLIC KEY BLOCK/);
    assert.equal(key.body.key_id, lf.credentialsKey.fingerprint);
    publicKey = key.body.public_key;
  });
  after(async () => {
    await lf?.stop();
  });

  const start = async (body: Record<string, unknown>): Promise<ConnectionView> => {
    const created = await lf.call('POST', '/v1/connections', {
      provider: 'oxlin',
      institution_id: '87',
      redirect_url: 'https://client.example/linked',
      ...body,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return created.body;
  };
  const embeddedCredentials = (login: string, password = PASSWORD) =>
    encryptCredentials(publicKey, { '300': login, '301': password, '302': 'https://bank.example/config.txt' });
  /** Every payload of the workflow's history (all runs of it), decoded to text. */
  const historyText = async (id: string): Promise<string> => {
    const history = await openHistory(await lf.env.client.workflow.getHandle(workflowIdFor(id)).fetchHistory(), lf.dataConverter);
    // Every string and every payload's bytes, decoded: what an operator could read from the history.
    const texts: string[] = [];
    const walk = (value: unknown): void => {
      if (value instanceof Uint8Array) texts.push(Buffer.from(value).toString('utf8'));
      else if (typeof value === 'string') texts.push(value);
      else if (value && typeof value === 'object') Object.values(value).forEach(walk);
    };
    walk(history);
    return texts.join('\n');
  };

  it('connects an embedded channel with encrypted credentials that never appear in plaintext', async () => {
    const connection = await start({ mode: 'embedded' });
    assert.equal(connection.state, 'awaiting_credentials');
    assert.equal(connection.next_action?.type, 'credentials');
    const fields = connection.next_action.type === 'credentials' ? connection.next_action.fields : [];
    assert.deepEqual(fields.map((f) => [f.id, f.encrypt]), [['300', false], ['301', true], ['302', false]]);

    const path = `/v1/connections/${connection.id}/credentials`;
    const otherKey = await loadCredentialsKey(await generateCredentialsKey());
    const rejected: [unknown, number, string, unknown?][] = [
      [{ credentials: [{ id: '300', value: 'alice' }] }, 422, 'validation_failed'],
      [{ credentials: [] }, 422, 'validation_failed'],
      [{ credentials: await embeddedCredentials('alice'), extra: true }, 422, 'validation_failed'],
      [
        { credentials: (await embeddedCredentials('alice')).filter((c) => c.id !== '302') },
        422,
        'invalid_credentials',
        { fields: [{ id: '302', message: 'URL du fichier de configuration is required' }] },
      ],
      [
        { credentials: await encryptCredentials(publicKey, { '300': 'alice', '301': PASSWORD, '302': 'not a url' }) },
        422,
        'invalid_credentials',
      ],
      [
        { credentials: await encryptCredentials(otherKey.publicKeyArmored, { '300': 'alice', '301': PASSWORD, '302': 'https://x' }) },
        422,
        'invalid_credentials',
      ],
    ];
    for (const [body, status, code, details] of rejected) {
      const response = await lf.call('POST', path, body);
      assert.equal(response.status, status, JSON.stringify(response.body));
      assert.equal(response.body.error.code, code);
      if (details) assert.deepEqual(response.body.error.details, details);
      assert.ok(!JSON.stringify(response.body).includes(PASSWORD));
    }
    assert.equal((await lf.call('POST', path, 'login=alice', { 'content-type': 'text/plain' })).status, 415);
    assert.equal((await lf.call('POST', path, '{"credentials":')).status, 400);
    assert.equal((await lf.call('POST', '/v1/connections/6f1c2d3e-4b5a-4c6d-8e7f-8091a2b3c4d5/credentials', { credentials: await embeddedCredentials('a') })).status, 404);
    assert.equal((await lf.call('GET', `/v1/connections/${connection.id}`)).body.state, 'awaiting_credentials');

    const accepted = await lf.call('POST', path, { credentials: await embeddedCredentials('alice_embedded') });
    assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
    const listed = await lf.until(connection.id, (v) => v.state === 'awaiting_consent');
    assert.deepEqual(listed.accounts.map((a) => a.type).sort(), ['LOAN', 'SAVINGS']);
    const active = await lf.consentAll(listed);
    assert.ok(active.last_sync);
    assert.equal((await lf.call('POST', path, { credentials: await embeddedCredentials('alice_embedded') })).status, 409);

    const history = await historyText(connection.id);
    assert.match(history, /BEGIN PGP MESSAGE/, 'the history does hold the encrypted credentials');
    for (const secret of [PASSWORD, 'alice_embedded']) {
      assert.ok(!history.includes(secret), `${secret} is not in the workflow history`);
      assert.ok(!lf.logs.join('\n').includes(secret), `${secret} is not in the logs`);
    }
    const stored = await lf.db.query<{ row: string }>('SELECT row_to_json(a)::text AS row FROM accounts a UNION ALL SELECT row_to_json(t)::text FROM transactions t');
    assert.ok(stored.length > 0 && stored.every((r) => !r.row.includes(PASSWORD)));
  });

  it('asks to fix credentials the bank refuses, and carries on with the right ones', async () => {
    const connection = await start({ mode: 'embedded' });
    await lf.call('POST', `/v1/connections/${connection.id}/credentials`, { credentials: await embeddedCredentials('alice', 'wrong-password') });
    const invalid = await lf.until(connection.id, (v) => v.state === 'credentials_invalid' && v.next_action !== null);
    assert.equal(invalid.reason, 'AUTH_FAILED');
    assert.equal(invalid.next_action?.type, 'credentials');
    const fixed = await lf.call('POST', `/v1/connections/${connection.id}/credentials`, { credentials: await embeddedCredentials('alice') });
    assert.equal(fixed.status, 200);
    await lf.until(connection.id, (v) => v.state === 'awaiting_consent');
  });

  it('answers the SMS challenge through the API, with every wrong answer refused before it is sent', async () => {
    const connection = await start({ mode: 'embedded' });
    await lf.call('POST', `/v1/connections/${connection.id}/credentials`, { credentials: await embeddedCredentials('user_sms') });
    const first = await lf.until(connection.id, (v) => v.state === 'challenge_required');
    assert.equal(first.next_action?.type, 'challenge');
    const step1 = first.next_action.type === 'challenge' ? first.next_action : assert.fail();
    assert.deepEqual(step1.fields.map((f) => [f.id, f.type]), [['304', 'OK_CANCEL']]);
    assert.match(step1.messages[0]?.text ?? '', /au 0606060606\. Souhaitez vous recevoir ce code/);

    const path = `/v1/connections/${connection.id}/challenge`;
    const refused: [unknown, number, string][] = [
      [{ answers: [{ id: '999', value: 'true' }] }, 422, 'invalid_answers'],
      [{ answers: [{ id: '304', value: 'maybe' }] }, 422, 'invalid_answers'],
      [{ answers: [] }, 422, 'validation_failed'],
      [{ answers: [{ id: '304', value: true }] }, 422, 'validation_failed'],
      [{ answers: [{ id: '304', value: 'true' }, { id: '304', value: 'true' }] }, 422, 'validation_failed'],
    ];
    for (const [body, status, code] of refused) {
      const response = await lf.call('POST', path, body);
      assert.equal(response.status, status, JSON.stringify(response.body));
      assert.equal(response.body.error.code, code);
    }

    const second = await lf.call('POST', path, { answers: [{ id: '304', value: 'true' }] });
    assert.equal(second.status, 200, JSON.stringify(second.body));
    const step2 = await lf.until(connection.id, (v) => v.next_action?.type === 'challenge' && v.next_action.fields.some((f) => f.id === '306'));
    const action = step2.next_action?.type === 'challenge' ? step2.next_action : assert.fail();
    assert.ok(Date.parse(action.expires_at) - Date.now() <= 121_000, 'TIMEOUT_MSG gives the deadline');
    assert.match(action.messages.find((m) => m.type === 'TIMEOUT_MSG')?.text ?? '', /Il vous reste 120/);

    const malformed = await lf.call('POST', path, { answers: [{ id: '306', value: '12' }, { id: '307', value: 'true' }] });
    assert.equal(malformed.status, 422);
    assert.deepEqual(malformed.body.error.details.fields.map((f: { id: string }) => f.id), ['306']);
    const missing = await lf.call('POST', path, { answers: [{ id: '307', value: 'true' }] });
    assert.equal(missing.status, 422);

    const wrong = await lf.call('POST', path, { answers: [{ id: '306', value: '000000' }, { id: '307', value: 'true' }] });
    assert.equal(wrong.status, 200);
    assert.equal(wrong.body.state, 'challenge_required');
    assert.match(wrong.body.next_action.messages.find((m: { type: string }) => m.type === 'ERROR_MSG')?.text ?? '', /Encore 2 tentatives/);

    const right = await lf.call('POST', path, { answers: [{ id: '306', value: '123456' }, { id: '307', value: 'true' }] });
    assert.equal(right.status, 200);
    await lf.until(connection.id, (v) => v.state === 'awaiting_consent');
    assert.equal((await lf.call('POST', path, { answers: [{ id: '304', value: 'true' }] })).status, 409);
    assert.ok(!(await historyText(connection.id)).includes('123456'), 'the code is not in the history');
  });

  it('ends cancelled when the end user cancels the challenge', async () => {
    const connection = await start({ mode: 'embedded' });
    await lf.call('POST', `/v1/connections/${connection.id}/credentials`, { credentials: await embeddedCredentials('user_sms') });
    await lf.until(connection.id, (v) => v.state === 'challenge_required');
    await lf.call('POST', `/v1/connections/${connection.id}/challenge`, { answers: [{ id: '304', value: 'false' }] });
    const ended = await lf.until(connection.id, (v) => v.state === 'cancelled');
    assert.equal(ended.reason, 'CHALLENGE_CANCELLED');
  });


  it('syncs now on request, goes to user_action_required and back, and disconnects', async () => {
    const connection = await lf.activeRedirectConnection();
    const synced = connection.last_sync?.synced_at;
    assert.equal((await lf.call('POST', `/v1/connections/${connection.id}/sync`)).status, 202);
    await lf.until(connection.id, (v) => v.state === 'active' && v.last_sync?.synced_at !== synced);

    const control = await fetch(`${lf.sandbox.url}/sandbox/connections/${await providerId(connection.id)}/next-sync`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ outcome: 'USER_ACTION_REQUIRED' }),
    });
    assert.equal(control.status, 204);
    await lf.call('POST', `/v1/connections/${connection.id}/sync`);
    const acting = await lf.until(connection.id, (v) => v.state === 'user_action_required');
    assert.equal(acting.next_action?.type, 'message');
    await lf.call('POST', `/v1/connections/${connection.id}/sync`);
    await lf.until(connection.id, (v) => v.state === 'active');

    const removed = await lf.call('DELETE', `/v1/connections/${connection.id}`);
    assert.equal(removed.status, 202);
    assert.equal(removed.body.state, 'disconnected');
    assert.equal((await lf.call('DELETE', `/v1/connections/${connection.id}`)).status, 409);
    assert.equal((await lf.call('POST', `/v1/connections/${connection.id}/sync`)).status, 409);
  });

  it('repairs a redirect channel the bank stopped accepting, with a new redirect', async () => {
    const connection = await lf.activeRedirectConnection();
    await fetch(`${lf.sandbox.url}/sandbox/connections/${await providerId(connection.id)}/next-sync`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ outcome: 'AUTH_FAILED' }),
    });
    await lf.call('POST', `/v1/connections/${connection.id}/sync`);
    const invalid = await lf.until(connection.id, (v) => v.state === 'credentials_invalid' && v.next_action?.type === 'redirect');
    assert.equal(invalid.reason, 'AUTH_FAILED');
    const callback = await approveAtBank(await lf.openLink(invalid.next_action?.type === 'redirect' ? invalid.next_action.url : undefined));
    assert.equal((await fetch(callback, { redirect: 'manual' })).status, 303);
    await lf.until(connection.id, (v) => v.state === 'active');
  });

  it('adds the embedded channel to a redirect connection: both channels’ accounts under one connection', async () => {
    const connection = await lf.activeRedirectConnection();
    const added = await lf.call('POST', `/v1/connections/${connection.id}/channels`, { mode: 'embedded' });
    assert.equal(added.status, 200, JSON.stringify(added.body));
    assert.equal(added.body.state, 'awaiting_credentials');
    assert.equal((await lf.call('POST', `/v1/connections/${connection.id}/channels`, { mode: 'nope' })).status, 422);
    await lf.call('POST', `/v1/connections/${connection.id}/credentials`, { credentials: await embeddedCredentials('alice') });
    const consent = await lf.until(connection.id, (v) => v.state === 'awaiting_consent');
    assert.deepEqual(consent.next_action?.type === 'consent' && consent.next_action.accounts.map((a) => a.type).sort(), ['LOAN', 'SAVINGS']);
    const active = await lf.consentAll(consent);
    assert.deepEqual(active.channels.map((c) => c.mode).sort(), ['embedded', 'redirect']);
    const accounts = await lf.call('GET', `/v1/connections/${connection.id}/accounts`);
    assert.deepEqual(accounts.body.data.map((a: { type: string }) => a.type).sort(), ['CHECKINGS', 'CHECKINGS', 'CREDIT_CARD', 'LOAN', 'SAVINGS']);
    const again = await lf.call('POST', `/v1/connections/${connection.id}/channels`, { mode: 'embedded' });
    assert.equal(again.status, 422);
  });

  it('renews the redirect channel on request, through the bank', async () => {
    const connection = await lf.activeRedirectConnection('user_short_consent');
    const before = connection.channels[0]?.expires_at ?? '';
    assert.ok(Date.parse(before) - Date.now() < 11 * 86_400_000, `a 10-day consent: ${JSON.stringify(connection.channels)}`);
    const renewing = await lf.call('POST', `/v1/connections/${connection.id}/renewal`);
    assert.equal(renewing.status, 200, JSON.stringify(renewing.body));
    assert.equal(renewing.body.state, 'renewal_required');
    const callback = await approveAtBank(await lf.openLink(renewing.body.next_action.url));
    assert.equal((await fetch(callback, { redirect: 'manual' })).status, 303);
    const renewed = await lf.until(connection.id, (v) => v.state === 'active' && v.channels[0]?.expires_at !== before);
    assert.ok(Date.parse(renewed.channels[0]?.expires_at ?? '') > Date.parse(before));
  });

  /** The Oxlin connection id behind a Linkflow connection, from the workflow's own history. */
  async function providerId(id: string): Promise<string> {
    const match = /"providerConnectionId":"(\d+)"/.exec(await historyText(id));
    assert.ok(match?.[1]);
    return match[1];
  }
});
