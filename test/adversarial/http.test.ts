// HTTP as a robust server does it: every method, framing (Content-Length or chunked), a body that
// stops half way, a BOM, bytes the store cannot hold, oversized headers and malformed paths get a
// JSON 4xx — never a 5xx, never an ERROR log line. Requests are written byte for byte on raw
// sockets (node:net) so what reaches the server is exactly what a hostile or sloppy client sends.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { ConnectionView } from '../../contract/messages';
import { SANDBOX_VENDOR_ID } from '../../sandbox/lnkfi/server';
import { LNKFI_WEBHOOK_SECRET, type Linkflow, startLinkflow } from '../helpers/linkflow';

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read JSON bodies field by field
  body: any;
  ms: number;
}

interface RawRequest {
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Send the body with Transfer-Encoding: chunked, a few bytes a chunk. */
  chunked?: boolean;
  /** Write the head and body as given and keep the socket open (the body is cut short). */
  truncated?: { declaredLength?: number };
  /** Authenticate as the test tenant (default true). */
  auth?: boolean;
}

/** Head of a response and its body (de-chunked). */
function parseResponse(raw: Buffer, ms: number): RawResponse {
  const split = raw.indexOf('\r\n\r\n');
  assert.ok(split > 0, `no HTTP response: ${JSON.stringify(raw.toString('latin1').slice(0, 200))}`);
  const [statusLine = '', ...lines] = raw.subarray(0, split).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1]);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  let rest = raw.subarray(split + 4);
  if (headers['transfer-encoding'] === 'chunked') {
    const parts: Buffer[] = [];
    for (;;) {
      const eol = rest.indexOf('\r\n');
      const size = parseInt(rest.subarray(0, eol).toString('latin1'), 16);
      if (!size) break;
      parts.push(rest.subarray(eol + 2, eol + 2 + size));
      rest = rest.subarray(eol + 4 + size);
    }
    rest = Buffer.concat(parts);
  }
  const text = rest.toString('utf8');
  let body: unknown;
  if (text && (headers['content-type'] ?? '').startsWith('application/json')) body = JSON.parse(text);
  return { status, headers, text, body, ms };
}

describe('HTTP as a robust server does it', () => {
  let lf: Linkflow;
  let port: number;
  /** Every status the raw requests got: none may be a 5xx. */
  const seen: { line: string; status: number }[] = [];

  before(async () => {
    lf = await startLinkflow({ api: { receiveTimeoutMs: 1_000 } });
    port = Number(new URL(lf.api).port);
  });
  after(async () => {
    await lf?.stop();
  });

  /** One request on its own connection; answers when the server closes it (Connection: close). */
  function send(method: string, target: string, request: RawRequest = {}): Promise<RawResponse> {
    const body = request.body === undefined ? undefined : Buffer.from(request.body);
    const headers: Record<string, string> = {
      host: `127.0.0.1:${port}`,
      connection: 'close',
      ...(request.auth === false ? {} : { authorization: `Bearer ${lf.apiKey}` }),
      ...request.headers,
    };
    if (request.chunked) headers['transfer-encoding'] = 'chunked';
    else if ((body !== undefined || request.truncated) && headers['content-length'] === undefined) headers['content-length'] = String(request.truncated?.declaredLength ?? body?.length ?? 0);
    const head = `${method} ${target} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
    let payload = body ?? Buffer.alloc(0);
    if (request.chunked) {
      const chunks: Buffer[] = [];
      for (let i = 0; i < payload.length; i += 5) {
        const piece = payload.subarray(i, i + 5);
        chunks.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'));
      }
      if (!request.truncated) chunks.push(Buffer.from('0\r\n\r\n'));
      payload = Buffer.concat(chunks);
    }
    const started = Date.now();
    return new Promise((resolve, reject) => {
      const received: Buffer[] = [];
      const socket = connect(port, '127.0.0.1', () => {
        socket.write(Buffer.concat([Buffer.from(head, 'latin1'), payload]));
      });
      const giveUp = setTimeout(() => {
        socket.destroy();
        reject(new Error(`${method} ${target}: no complete answer in 8 s`));
      }, 8_000);
      socket.on('data', (chunk) => received.push(chunk));
      socket.on('error', () => undefined); // a reset after the answer is fine: the answer is what counts
      socket.on('close', () => {
        clearTimeout(giveUp);
        try {
          const response = parseResponse(Buffer.concat(received), Date.now() - started);
          seen.push({ line: `${method} ${target.slice(0, 80)}`, status: response.status });
          resolve(response);
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      });
    });
  }

  const json = (value: unknown, headers: Record<string, string> = {}) => ({
    body: typeof value === 'string' ? value : JSON.stringify(value),
    headers: { 'content-type': 'application/json', ...headers },
  });

  /** The one error shape: `{ error: { code, message, details? } }` as JSON, and nothing else. */
  function assertError(response: RawResponse, status: number, code: string, context = ''): void {
    assert.equal(response.status, status, `${context} ${response.status} ${response.text}`);
    assert.match(response.headers['content-type'] ?? '', /^application\/json/, context);
    assert.deepEqual(Object.keys(response.body), ['error'], context);
    const { error } = response.body;
    assert.equal(error.code, code, `${context} ${response.text}`);
    assert.equal(typeof error.message, 'string');
    assert.ok(error.message.length > 0);
    for (const key of Object.keys(error)) assert.ok(['code', 'message', 'details'].includes(key), `${context}: unexpected ${key}`);
  }

  const uuid = '00000000-0000-4000-8000-000000000000';
  // A sample of routes with the methods each has (HEAD comes with GET).
  const routes: [string, string[]][] = [
    ['/v1/connections', ['GET', 'POST']],
    [`/v1/connections/${uuid}`, ['GET', 'DELETE']],
    [`/v1/connections/${uuid}/sync`, ['POST']],
    [`/v1/connections/${uuid}/consents`, ['PUT']],
    [`/v1/connections/${uuid}/transactions`, ['GET']],
    ['/v1/webhook-endpoints', ['GET', 'POST']],
    ['/v1/webhook-endpoints/whe_0123', ['DELETE']],
    ['/v1/keys/credentials', ['GET']],
    ['/v1/admin/tenants', ['POST']],
    ['/callbacks/oxlin', ['GET']],
    ['/webhooks/oxlin', ['POST']],
    ['/openapi.json', ['GET']],
  ];
  // What Node's parser accepts: the usual ones, and WebDAV/cache/odd ones no route has.
  const methods = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'PROPFIND', 'PURGE', 'SEARCH', 'LOCK'];

  it('answers a method a route does not have with 405 and Allow, OPTIONS with Allow', async () => {
    for (const [path, has] of routes) {
      const allow = [...has, ...(has.includes('GET') ? ['HEAD'] : [])].sort();
      for (const method of methods) {
        if (allow.includes(method)) continue;
        const response = await send(method, path);
        const context = `${method} ${path}`;
        if (method === 'OPTIONS') {
          assert.ok([200, 204].includes(response.status), `${context}: ${response.status} ${response.text}`);
        } else if (method === 'HEAD') {
          assert.equal(response.status, 405, context);
        } else {
          assertError(response, 405, 'method_not_allowed', context);
        }
        assert.deepEqual((response.headers.allow ?? '').split(/,\s*/).sort(), allow, context);
      }
    }
  });

  it('answers a path no route has with a JSON 404, whatever the method', async () => {
    for (const path of ['/nope', '/v1/nope', `/v1/connections/${uuid}/nope`, '/callbacks', '/v1']) {
      for (const method of methods) {
        const response = await send(method, path);
        if (method === 'HEAD') assert.equal(response.status, 404, `${method} ${path}`);
        else assertError(response, 404, 'not_found', `${method} ${path}`);
      }
    }
  });

  it('answers methods and request lines the HTTP parser refuses with a JSON 4xx', async () => {
    for (const method of ['FOO', 'BREW', 'GETX']) {
      assertError(await send(method, '/v1/connections'), 400, 'malformed_request', method);
    }
    assertError(await send('CONNECT', 'example.com:443'), 400, 'malformed_request', 'CONNECT');
    // Not HTTP at all.
    const garbage = await new Promise<RawResponse>((resolve) => {
      const received: Buffer[] = [];
      const started = Date.now();
      const socket = connect(port, '127.0.0.1', () => socket.write('\x00\x01\x02 hello\r\n\r\n'));
      socket.on('data', (c) => received.push(c));
      socket.on('error', () => undefined);
      socket.on('close', () => resolve(parseResponse(Buffer.concat(received), Date.now() - started)));
    });
    assertError(garbage, 400, 'malformed_request', 'garbage');
  });

  it('reads a chunked body as it reads one with Content-Length: {"full":true} runs a full sync', async () => {
    const connection: ConnectionView = await lf.activeRedirectConnection('chunky');
    const accountId = connection.accounts[0]?.id as string;
    // An old transaction changed at the bank: only a full sync reads that far back.
    const old = await fetch(`${lf.sandbox.url}/sandbox/accounts/${accountId}/transactions/${accountId}-5/modify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ label: 'CORRECTED LONG AGO' }),
    });
    assert.equal(old.status, 204);
    const requested = await send('POST', `/v1/connections/${connection.id}/sync`, { ...json({ full: true }), chunked: true });
    assert.equal(requested.status, 202, requested.text);
    const synced = await lf.until(connection.id, (v) => v.state === 'active' && v.last_sync?.synced_at !== connection.last_sync?.synced_at);
    assert.equal(synced.last_sync?.transactions_modified, 1, 'a full sync found the old change');

    // A chunked body is validated as any other: a wrong one changes nothing.
    const bad = await send('POST', `/v1/connections/${connection.id}/sync`, { ...json({ full: 'yes' }), chunked: true });
    assertError(bad, 422, 'validation_failed');
    // And a chunked create works like a plain one.
    const created = await send('POST', '/v1/connections', {
      ...json({ provider: 'oxlin', institution_id: '87', redirect_url: 'https://client.example/chunked' }),
      chunked: true,
    });
    assert.equal(created.status, 201, created.text);
  });

  it('refuses a body that is not JSON with 415, chunked or not', async () => {
    const body = JSON.stringify({ url: 'https://client.example/hook-415' });
    for (const chunked of [false, true]) {
      const types: Record<string, string>[] = [{}, { 'content-type': 'text/plain' }, { 'content-type': 'application/x-www-form-urlencoded' }];
      for (const headers of types) {
        assertError(await send('POST', '/v1/webhook-endpoints', { body, headers, chunked }), 415, 'unsupported_media_type', `${chunked} ${JSON.stringify(headers)}`);
        assertError(await send('POST', `/v1/connections/${uuid}/sync`, { body, headers, chunked }), 415, 'unsupported_media_type');
      }
    }
    const endpoints = await lf.call('GET', '/v1/webhook-endpoints');
    assert.ok(!endpoints.body.data.some((e: { url: string }) => e.url.endsWith('hook-415')), 'nothing created');
  });

  it('answers a body that stops before its declared length with a fast 408', async () => {
    const cut = await send('POST', '/v1/webhook-endpoints', { ...json('{"url":"https://'), truncated: { declaredLength: 200 } });
    assertError(cut, 408, 'request_timeout');
    assert.ok(cut.ms < 4_000, `answered after ${cut.ms} ms`);
    const chunkedCut = await send('POST', '/v1/webhook-endpoints', { ...json('{"url":"https://'), chunked: true, truncated: {} });
    assertError(chunkedCut, 408, 'request_timeout');
    assert.ok(chunkedCut.ms < 4_000, `answered after ${chunkedCut.ms} ms`);
    // The provider webhook route reads its raw body itself: the same rule.
    const webhookCut = await send('POST', '/webhooks/lnkfi', { ...json('{"type":'), truncated: { declaredLength: 500 } });
    assertError(webhookCut, 408, 'request_timeout');
    // Headers that never end: the same.
    const headCut = await new Promise<RawResponse>((resolve) => {
      const received: Buffer[] = [];
      const started = Date.now();
      const socket = connect(port, '127.0.0.1', () => socket.write('GET /v1/connections HTTP/1.1\r\nhost: x\r\nx-slow: 1\r\n'));
      socket.on('data', (c) => received.push(c));
      socket.on('error', () => undefined);
      socket.on('close', () => resolve(parseResponse(Buffer.concat(received), Date.now() - started)));
    });
    assertError(headCut, 408, 'request_timeout');
    assert.ok(headCut.ms < 4_000, `answered after ${headCut.ms} ms`);
  });

  it('accepts a UTF-8 byte order mark wherever it accepts JSON', async () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    for (const chunked of [false, true]) {
      const url = `https://client.example/bom-${chunked}`;
      const created = await send('POST', '/v1/webhook-endpoints', {
        body: Buffer.concat([bom, Buffer.from(JSON.stringify({ url }))]),
        headers: { 'content-type': 'application/json; charset=utf-8' },
        chunked,
      });
      assert.equal(created.status, 201, created.text);
      assert.equal(created.body.url, url);
    }
    // Provider webhooks: the signature covers the bytes as sent, BOM included; the JSON is read without it.
    const raw = Buffer.concat([bom, Buffer.from(JSON.stringify({ type: 'something_else', system: 'xero', vendor_id: SANDBOX_VENDOR_ID, connection_id: 'c-bom' }))]);
    const delivered = await send('POST', '/webhooks/lnkfi', lnkfiDelivery(raw));
    assert.equal(delivered.status, 200, delivered.text);
    assert.deepEqual(delivered.body, { status: 'ignored' });
  });

  function lnkfiDelivery(raw: Buffer): RawRequest {
    return {
      body: raw,
      auth: false,
      headers: {
        'content-type': 'application/json',
        'x-lnkfi-webhook-id': 'owh_robust',
        'x-lnkfi-webhook-vendor-id': SANDBOX_VENDOR_ID,
        'x-lnkfi-webhook-signature': createHmac('sha256', LNKFI_WEBHOOK_SECRET).update(raw).digest('hex'),
      },
    };
  }

  // NUL, and lone surrogates (valid JSON escapes, but PostgreSQL text holds neither).
  const unstorable = ['\\u0000', '\\ud800', '\\udfff'];
  const inJson = (text: string, escape: string) => text.replace('@', escape);

  it('refuses NUL and lone surrogates in every JSON body field with 400, and stores nothing', async () => {
    let n = 0;
    for (const escape of unstorable) {
      const fields: Record<string, string> = {
        institution_id: '"87@"',
        redirect_url: '"https://client.example/x@y"',
        user_ref: '"user@"',
      };
      for (const [field, value] of Object.entries(fields)) {
        const key = `robust-${n++}`;
        const body = { provider: '"oxlin"', institution_id: '"87"', redirect_url: '"https://client.example/ok"', [field]: inJson(value, escape) };
        const text = `{${Object.entries(body).map(([k, v]) => `"${k}":${v}`).join(',')}}`;
        const refused = await send('POST', '/v1/connections', json(text, { 'idempotency-key': key }));
        assertError(refused, 400, 'invalid_text', `${field} ${escape}`);
        // Nothing was started under that key: the same key with a good body creates, not replays.
        const fresh = await send('POST', '/v1/connections', json({ provider: 'oxlin', institution_id: '87', redirect_url: 'https://client.example/ok' }, { 'idempotency-key': key }));
        assert.equal(fresh.status, 201, `${field} ${escape}: ${fresh.text}`);
      }
      // In a key, too (a strict schema would call it unknown: it is refused before).
      assertError(await send('POST', '/v1/connections', json(`{"provider":"oxlin","x${escape}":1}`)), 400, 'invalid_text', `key ${escape}`);

      assertError(await send('POST', '/v1/webhook-endpoints', json(`{"url":"https://client.example/h${escape}"}`)), 400, 'invalid_text', `url ${escape}`);
      assertError(await send('PUT', `/v1/connections/${uuid}/consents`, json(`{"consents":[{"account_id":"a${escape}","consent":true}]}`)), 400, 'invalid_text');
      assertError(await send('POST', `/v1/connections/${uuid}/challenge`, json(`{"answers":[{"id":"otp","value":"1${escape}"}]}`)), 400, 'invalid_text');

      const tenantName = `tenant-${escape}`;
      const admin = await send('POST', '/v1/admin/tenants', { ...json(`{"name":"${tenantName}"}`, { authorization: `Bearer ${lf.adminKey}` }), auth: false });
      assertError(admin, 400, 'invalid_text', `tenant ${escape}`);
    }
    const endpoints = await lf.call('GET', '/v1/webhook-endpoints');
    assert.ok(!endpoints.body.data.some((e: { url: string }) => e.url.includes('/h')), 'no endpoint stored');
    const tenants = await lf.db.query<{ name: string }>(`SELECT name FROM tenants WHERE name LIKE 'tenant-%'`);
    assert.deepEqual(tenants, []);
  });

  it('refuses NUL and lone surrogates in query strings, path parameters and headers with 400', async () => {
    const connection = (await lf.call('POST', '/v1/connections', { provider: 'oxlin', institution_id: '87', redirect_url: 'https://client.example/q' })).body as ConnectionView;
    for (const bad of ['%00', '%ED%A0%80', 'a%00b']) {
      const targets = [
        `/v1/connections?user_ref=${bad}`,
        `/v1/connections?cursor=${bad}`,
        `/v1/connections?${bad}=1`,
        `/v1/connections/${connection.id}/transactions?account_id=${bad}`,
        `/v1/connections/${connection.id}/transactions?cursor=${bad}`,
        `/v1/connections/${connection.id}/transactions/sync?cursor=${bad}`,
        `/v1/connections/${connection.id}/accounts/${bad}/balances`,
        `/v1/connections/${bad}`,
        `/v1/webhook-endpoints/${bad}`,
        `/callbacks/oxlin?state=${bad}&code=1`,
        `/callbacks/${bad}`,
      ];
      for (const target of targets) {
        const method = target.startsWith('/v1/webhook-endpoints/') ? 'DELETE' : 'GET';
        const response = await send(method, target);
        assert.equal(response.status, 400, `${target}: ${response.status} ${response.text}`);
        assert.ok(['invalid_text', 'malformed_path', 'malformed_query'].includes(response.body.error.code), `${target}: ${response.text}`);
      }
    }
    // A NUL in a header never reaches a route: the parser refuses it, the answer is still JSON.
    const key = await send('POST', '/v1/connections', json({ provider: 'oxlin' }, { 'idempotency-key': 'a\x00b' }));
    assertError(key, 400, 'malformed_request');
  });

  it('refuses NUL and lone surrogates in a verified provider webhook with 400, and claims nothing', async () => {
    for (const escape of unstorable) {
      const raw = Buffer.from(`{"type":"connection_disconnected","system":"xero","vendor_id":"${SANDBOX_VENDOR_ID}","connection_id":"c${escape}"}`);
      assertError(await send('POST', '/webhooks/lnkfi', lnkfiDelivery(raw)), 400, 'invalid_text', escape);
    }
    const claims = await lf.db.query(`SELECT event_id FROM provider_webhook_events WHERE provider = 'lnkfi'`);
    assert.deepEqual(claims, []);
  });

  it('answers oversized headers and URLs with a JSON 431', async () => {
    assertError(await send('GET', '/v1/connections', { headers: { 'x-big': 'a'.repeat(20_000) } }), 431, 'headers_too_large');
    assertError(await send('GET', `/v1/connections?user_ref=${'a'.repeat(20_000)}`), 431, 'headers_too_large');
    const many: Record<string, string> = {};
    for (let i = 0; i < 2_000; i++) many[`x-h${i}`] = String(i);
    const crowded = await send('GET', '/v1/keys/credentials', { headers: many });
    assert.ok([431, 400].includes(crowded.status), `${crowded.status} ${crowded.text}`);
    assert.ok(crowded.body?.error?.code, crowded.text);
  });

  it('answers malformed percent-encoding in a path with 400', async () => {
    for (const target of ['/v1/connections/%E0%A4%A', '/v1/connections/%', '/v1/connections/%zz/sync', '/callbacks/%E0%A4%A', '/webhooks/%C0%AF', '/%']) {
      const method = target.endsWith('/sync') || target.startsWith('/webhooks') ? 'POST' : 'GET';
      assertError(await send(method, target, method === 'POST' ? json({}) : {}), 400, 'malformed_path', target);
    }
  });

  it('answers JSON that is malformed, not an object, huge, deep or repetitive with a 4xx', async () => {
    const path = '/v1/webhook-endpoints';
    assertError(await send('POST', path, json('{"url":')), 400, 'malformed_request');
    assertError(await send('POST', path, json('{"url":"https://a.example/"} trailing')), 400, 'malformed_request');
    for (const notObject of ['"a string"', '42', 'null', 'true']) {
      const response = await send('POST', path, json(notObject));
      assert.ok([400, 422].includes(response.status), `${notObject}: ${response.text}`);
      assert.ok(response.body.error.code);
    }
    assertError(await send('POST', path, json('[]')), 422, 'validation_failed');
    assertError(await send('POST', path, json('[{"url":"https://a.example/"}]')), 422, 'validation_failed');
    // A number beyond any double, and a huge integer, where an integer is expected.
    const big = await send('POST', '/v1/connections', json('{"provider":"oxlin","institution_id":"87","redirect_url":"https://a.example/","sync_interval_seconds":1e400}'));
    assertError(big, 422, 'validation_failed');
    const long = await send('POST', '/v1/connections', json(`{"provider":"oxlin","institution_id":"87","redirect_url":"https://a.example/","sync_interval_seconds":${'9'.repeat(5000)}}`));
    assertError(long, 422, 'validation_failed');
    // Deep nesting inside and outside known fields, within the size limit.
    for (const text of [`{"url":${'['.repeat(20_000)}${']'.repeat(20_000)}}`, `{"x":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}`, `${'['.repeat(40_000)}${']'.repeat(40_000)}`]) {
      const deep = await send('POST', path, json(text));
      assert.ok(deep.status >= 400 && deep.status < 500, `${deep.status} ${deep.text.slice(0, 200)}`);
      assert.ok(deep.body.error.code);
    }
    // Duplicate keys: the last one counts (as JSON.parse has it); a bad first one cannot sneak through.
    const duplicate = await send('POST', path, json('{"url":"https://dup-first.example/","url":"not a url"}'));
    assertError(duplicate, 422, 'validation_failed');
    // Prototype pollution attempts are refused, not merged.
    assertError(await send('POST', path, json('{"url":"https://a.example/","__proto__":{"admin":true}}')), 400, 'malformed_request');
    // Too large is 413, chunked or not.
    const huge = JSON.stringify({ url: `https://a.example/${'a'.repeat(200_000)}` });
    assertError(await send('POST', path, json(huge)), 413, 'body_too_large');
    assertError(await send('POST', path, { ...json(huge), chunked: true }), 413, 'body_too_large');
  });

  it('answers odd framing and encodings with a JSON 4xx', async () => {
    const body = JSON.stringify({ url: 'https://client.example/framing' });
    // Both framings at once (request smuggling's raw material), or two lengths: the parser refuses.
    const both = await send('POST', '/v1/webhook-endpoints', { ...json(body, { 'transfer-encoding': 'chunked' }) });
    assertError(both, 400, 'malformed_request', 'both');
    const twoLengths = await send('POST', '/v1/webhook-endpoints', { ...json(body, { 'content-length': `${body.length}, ${body.length + 1}` }) });
    assertError(twoLengths, 400, 'malformed_request', 'two lengths');
    // A body that says it is compressed but is not, or in a coding nobody knows.
    assertError(await send('POST', '/v1/webhook-endpoints', json(body, { 'content-encoding': 'gzip' })), 400, 'malformed_request');
    assertError(await send('POST', '/v1/webhook-endpoints', json(body, { 'content-encoding': 'x-made-up' })), 415, 'unsupported_media_type');
    // An upgrade nobody serves is an ordinary request.
    const upgrade = await send('GET', '/v1/keys/credentials', { headers: { connection: 'upgrade, close', upgrade: 'websocket' } });
    assert.equal(upgrade.status, 200, upgrade.text);
    // Expect: 100-continue is honoured, and the body then read.
    const expecting = await send('POST', '/v1/webhook-endpoints', json('{"url":1}', { expect: '100-continue' }));
    assert.match(expecting.text, /validation_failed/);
    assert.equal(expecting.status, 100);
    assert.ok(expecting.text.includes('HTTP/1.1 422'), expecting.text);
  });

  it('answered no request with a 5xx and logged no ERROR line', () => {
    assert.ok(seen.length > 300, `only ${seen.length} requests`);
    assert.deepEqual(seen.filter((s) => s.status >= 500 || !s.status), []);
    assert.deepEqual(lf.logs.filter((line) => /"level":"error"| ERROR /.test(line)), []);
  });
});
