// Payload encryption on a real Linkflow (embedded: dev server, worker, Oxlin sandbox, API): the
// history Temporal keeps of connections driven through the API holds no plaintext account name or
// phone number, and the API's codec endpoint (what the Web UI calls) opens it for the operator only.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { workflowIdFor } from '../../contract/messages';
import { createPayloadCodec, parsePayloadKeys } from '../../domain/payload-codec';
import { E2E_PAYLOAD_KEYS, type Linkflow, startLinkflow } from '../helpers/linkflow';
import { type JsonPayload, payloadsIn } from '../helpers/temporal';
import { approveAtBank } from '../helpers/oxlin';

const UI = 'http://localhost:8233';
const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
const unb64 = (text: string | undefined) => Buffer.from(text ?? '', 'base64').toString('utf8');


describe('payload encryption and the codec endpoint', () => {
  let lf: Linkflow;
  let accountsHistory: JsonPayload[];
  let challengeHistory: JsonPayload[];

  const codecCall = (operation: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${lf.api}/codec/${operation}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${lf.adminKey}`, 'x-namespace': 'default', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const history = async (connectionId: string) =>
    payloadsIn(JSON.parse(historyToJSON(await lf.env.client.workflow.getHandle(workflowIdFor(connectionId)).fetchHistory())));
  /** The payloads opened by POST /codec/decode, in batches (the body limit is 100 kB), as text. */
  const decodedText = async (payloads: JsonPayload[]) => {
    let text = '';
    for (let i = 0; i < payloads.length; i += 10) {
      const answer = await codecCall('decode', { payloads: payloads.slice(i, i + 10) });
      assert.equal(answer.status, 200, await answer.clone().text());
      const body = (await answer.json()) as { payloads: JsonPayload[] };
      assert.equal(body.payloads.length, payloads.slice(i, i + 10).length);
      text += body.payloads.map((p) => unb64(p.data)).join('\n');
    }
    return text;
  };

  before(async () => {
    lf = await startLinkflow({ uiOrigin: UI });
    // An active connection (its accounts listed and consented) and one at Oxlin's SMS challenge.
    const active = await lf.activeRedirectConnection('alice');
    accountsHistory = await history(active.id);
    const created = await lf.call('POST', '/v1/connections', { provider: 'oxlin', institution_id: '87', redirect_url: 'https://client.example/linked' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const callback = await approveAtBank(await lf.openLink(created.body.next_action.url), 'approve', 'user_sms');
    assert.equal((await fetch(callback, { redirect: 'manual' })).status, 303);
    const challenged = await lf.until(created.body.id, (v) => v.state === 'challenge_required');
    // What the end user sees through the API (decoded by the client's codec) names the phone.
    assert.match(JSON.stringify(challenged.next_action), /0606060606/);
    challengeHistory = await history(created.body.id);
  });
  after(async () => {
    await lf?.stop();
  });

  it("Temporal's history holds ciphertext only: no account name, no phone number, every payload binary/encrypted under the key id", () => {
    for (const payloads of [accountsHistory, challengeHistory]) {
      assert.ok(payloads.length > 10, `${payloads.length} payloads`);
      const raw = payloads.map((p) => unb64(p.data)).join('\n');
      assert.doesNotMatch(raw, /Compte courant|Livret A|0606060606|client\.example/);
      for (const p of payloads) {
        assert.equal(unb64(p.metadata?.encoding), 'binary/encrypted', JSON.stringify(p));
        assert.equal(unb64(p.metadata?.['encryption-key-id']), 'e2e');
      }
    }
  });

  it('POST /codec/decode opens that history for the operator: the account names and the phone number are back', async () => {
    assert.match(await decodedText(accountsHistory), /Compte courant/);
    assert.match(await decodedText(challengeHistory), /0606060606/);
  });

  it('POST /codec/encode seals with the current key; decode opens it again; plaintext payloads pass through decode', async () => {
    const plain = { metadata: { encoding: b64('json/plain') }, data: b64('{"phone":"0606060606"}') };
    const encoded = await codecCall('encode', { payloads: [plain] });
    assert.equal(encoded.status, 200);
    const sealed = ((await encoded.json()) as { payloads: JsonPayload[] }).payloads;
    assert.equal(unb64(sealed[0]?.metadata?.['encryption-key-id']), 'e2e');
    assert.doesNotMatch(unb64(sealed[0]?.data), /0606060606/);
    const opened = await codecCall('decode', { payloads: [...sealed, plain] });
    assert.deepEqual(await opened.json(), { payloads: [plain, plain] });
  });

  it('refuses anyone but the operator: 401, nothing decoded', async () => {
    const body = { payloads: challengeHistory.slice(0, 5) };
    for (const authorization of [undefined, `Bearer ${lf.apiKey}`, 'Bearer not-the-admin-key', 'Basic YWRtaW46YWRtaW4=']) {
      const answer = await fetch(`${lf.api}/codec/decode`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
        body: JSON.stringify(body),
      });
      const text = await answer.text();
      assert.equal(answer.status, 401, `${authorization}: ${text}`);
      assert.equal(answer.headers.get('www-authenticate'), 'Bearer');
      assert.equal(JSON.parse(text).error.code, 'unauthorized');
      assert.doesNotMatch(text, /payloads|0606060606/);
    }
  });

  it('takes batches up to 4 MB (a history with large payloads), only from the operator: over that, or unauthorized, 413/401 before the body is read', async () => {
    // One sealed payload of ~1.5 MB (a large import result, say) and a second one: ~3 MB of JSON.
    const [big] = await createPayloadCodec(parsePayloadKeys(E2E_PAYLOAD_KEYS)).encode([
      { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(JSON.stringify({ rows: 'r'.repeat(1_100_000) })) },
    ]);
    assert.ok(big);
    const json = {
      metadata: Object.fromEntries(Object.entries(big.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('base64')])),
      data: Buffer.from(big.data ?? []).toString('base64'),
    };
    const opened = await codecCall('decode', { payloads: [json, json] });
    assert.equal(opened.status, 200);
    const [first] = ((await opened.json()) as { payloads: JsonPayload[] }).payloads;
    assert.equal(JSON.parse(unb64(first?.data)).rows.length, 1_100_000);

    const tooLarge = await codecCall('decode', { payloads: [json, json, json] });
    assert.equal(tooLarge.status, 413);
    assert.equal(((await tooLarge.json()) as { error: { code: string } }).error.code, 'body_too_large');
    const anonymous = await fetch(`${lf.api}/codec/decode`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ payloads: [json, json] }) });
    assert.equal(anonymous.status, 401);
    // Every other route keeps its 100 kB limit.
    const elsewhere = await lf.call('POST', '/v1/connections', { provider: 'oxlin', institution_id: '87', redirect_url: 'https://client.example/linked', user_ref: 'u'.repeat(200_000) });
    assert.equal(elsewhere.status, 413);
  });

  it('malformed bodies are 4xx JSON, never 5xx; an unknown key id is 422 payload_not_decodable naming it', async () => {
    const cases: [unknown, number, string][] = [
      ['{"payloads": [', 400, 'malformed_request'],
      [{}, 422, 'validation_failed'],
      [{ payloads: 'x' }, 422, 'validation_failed'],
      [{ payloads: [{ data: 'not base64!' }] }, 422, 'validation_failed'],
      [{ payloads: [{ metadata: { encoding: 42 } }] }, 422, 'validation_failed'],
      [{ payloads: Array.from({ length: 1001 }, () => ({})) }, 422, 'validation_failed'],
    ];
    for (const [body, status, code] of cases) {
      const answer = await codecCall('decode', body);
      const json = (await answer.json()) as { error: { code: string } };
      assert.equal(answer.status, status, JSON.stringify(body).slice(0, 80));
      assert.equal(json.error.code, code);
    }
    const notJson = await codecCall('decode', 'payloads', { 'content-type': 'text/plain' });
    assert.equal(notJson.status, 415);

    const other = createPayloadCodec(parsePayloadKeys(`retired:${Buffer.alloc(32, 9).toString('base64')}`));
    const [sealed] = await other.encode([{ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('{}') }]);
    assert.ok(sealed);
    const json = {
      metadata: Object.fromEntries(Object.entries(sealed.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('base64')])),
      data: Buffer.from(sealed.data ?? []).toString('base64'),
    };
    const unknown = await codecCall('decode', { payloads: [json] });
    const error = ((await unknown.json()) as { error: { code: string; message: string } }).error;
    assert.equal(unknown.status, 422);
    assert.equal(error.code, 'payload_not_decodable');
    assert.match(error.message, /key retired, which is not among the configured keys \(e2e\)/);
  });

  it("CORS: the Web UI's origin gets its preflight answered and may read the answers; another origin may not", async () => {
    const preflight = (origin: string) =>
      fetch(`${lf.api}/codec/decode`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-namespace,authorization' },
      });
    const allowed = await preflight(UI);
    assert.equal(allowed.status, 204);
    assert.equal(allowed.headers.get('access-control-allow-origin'), UI);
    assert.match(allowed.headers.get('access-control-allow-methods') ?? '', /POST/);
    for (const header of ['content-type', 'x-namespace', 'authorization']) {
      assert.ok((allowed.headers.get('access-control-allow-headers') ?? '').split(/,\s*/).includes(header), header);
    }
    const denied = await preflight('https://evil.example');
    assert.equal(denied.headers.get('access-control-allow-origin'), null);
    assert.equal(denied.headers.get('access-control-allow-headers'), null);

    const fromUi = await codecCall('decode', { payloads: [] }, { origin: UI });
    assert.equal(fromUi.status, 200);
    assert.equal(fromUi.headers.get('access-control-allow-origin'), UI);
    assert.match(fromUi.headers.get('vary') ?? '', /origin/i);
    // npm start with the API on loopback (as here): the Web UI's origin decodes without a key, since
    // the UI can send no fixed header. Any other origin, or none, still needs the admin key.
    const keyless = await codecCall('decode', { payloads: [] }, { origin: UI, authorization: 'Bearer wrong' });
    assert.equal(keyless.status, 200);
    for (const headers of <Record<string, string>[]>[{ origin: 'https://evil.example', authorization: '' }, { origin: 'https://evil.example', authorization: 'Bearer wrong' }, { authorization: 'Bearer wrong' }]) {
      const refused = await codecCall('decode', { payloads: [] }, headers);
      assert.equal(refused.status, 401, JSON.stringify(headers));
      assert.equal(refused.headers.get('access-control-allow-origin'), null);
    }
    // Other routes get no CORS headers.
    const other = await fetch(`${lf.api}/v1/keys/credentials`, { headers: { origin: UI } });
    assert.equal(other.headers.get('access-control-allow-origin'), null);
  });
});
