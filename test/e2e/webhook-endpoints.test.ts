// /v1/webhook-endpoints through the HTTP API: protected, tenant-scoped, strict about URLs, and the
// signing secret shown once and never stored in plaintext.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { verifyWebhook } from '../../api/clients/webhooks';
import { MAX_ENDPOINTS_PER_TENANT } from '../../api/routes/webhooks/webhooks';
import { type Linkflow, startLinkflow } from '../helpers/linkflow';
import { startWebhookReceiver } from '../helpers/webhooks';
import { approveAtBank } from '../helpers/oxlin';

const NOT_FOUND = { error: { code: 'not_found', message: 'webhook endpoint not found' } };

describe('webhook endpoints API', () => {
  let lf: Linkflow;
  let otherKey: string;
  before(async () => {
    lf = await startLinkflow();
    const other = await lf.call('POST', '/v1/admin/tenants', { name: 'someone else' }, { authorization: `Bearer ${lf.adminKey}` });
    assert.equal(other.status, 201);
    otherKey = other.body.api_key.key;
  });
  after(async () => {
    await lf?.stop();
  });
  const asOther = () => ({ authorization: `Bearer ${otherKey}` });
  const create = (url: string) => lf.call('POST', '/v1/webhook-endpoints', { url });

  it('is protected: 401 without an API key or with a wrong one', async () => {
    for (const [method, path, body] of [
      ['POST', '/v1/webhook-endpoints', { url: 'https://client.example/hooks' }],
      ['GET', '/v1/webhook-endpoints', undefined],
      ['DELETE', '/v1/webhook-endpoints/whe_00000000000000000000000000000000', undefined],
    ] as const) {
      const anonymous = await lf.call(method, path, body, { authorization: '' });
      assert.equal(anonymous.status, 401, `${method} ${path}`);
      assert.deepEqual(anonymous.body, { error: { code: 'unauthorized', message: 'Send your API key as "Authorization: Bearer <key>".' } });
      assert.equal(anonymous.headers.get('www-authenticate'), 'Bearer');
      const wrong = await lf.call(method, path, body, { authorization: 'Bearer lf_not-a-key' });
      assert.equal(wrong.status, 401);
      assert.deepEqual(wrong.body, { error: { code: 'unauthorized', message: 'The API key is not valid.' } });
    }
  });

  it('creates an endpoint and shows its secret once; the store keeps it sealed', async () => {
    const created = await create('https://client.example/linkflow/hooks?source=linkflow');
    assert.equal(created.status, 201);
    assert.deepEqual(Object.keys(created.body).sort(), ['created_at', 'id', 'secret', 'url']);
    assert.match(created.body.id, /^whe_[0-9a-f]{32}$/);
    assert.equal(created.body.url, 'https://client.example/linkflow/hooks?source=linkflow');
    assert.match(created.body.secret, /^whsec_[A-Za-z0-9_-]{43}$/);
    assert.ok(Math.abs(Date.parse(created.body.created_at) - Date.now()) < 60_000);
    assert.equal(created.headers.get('cache-control'), 'no-store');
    const { id, secret } = created.body as { id: string; secret: string };

    // Listed without it, and no route shows it again.
    const listed = await lf.call('GET', '/v1/webhook-endpoints');
    assert.equal(listed.status, 200);
    const mine = (listed.body.data as { id: string }[]).find((e) => e.id === id);
    assert.deepEqual(mine, { id, url: created.body.url, created_at: created.body.created_at });
    assert.ok(!JSON.stringify(listed.body).includes(secret.slice(6)));
    assert.equal((await lf.call('GET', `/v1/webhook-endpoints/${id}`)).status, 405);

    // Not in the table in any form: neither whole, nor its random part, nor in hex or base64.
    const rows = await lf.db.query<Record<string, unknown>>('SELECT * FROM webhook_endpoints WHERE id = $1', [id]);
    assert.equal(rows.length, 1);
    const stored = JSON.stringify(rows);
    const random = secret.slice('whsec_'.length);
    for (const form of [secret, random, Buffer.from(secret).toString('hex'), Buffer.from(secret).toString('base64'), Buffer.from(random, 'base64url').toString('hex')]) {
      assert.ok(!stored.includes(form), 'the secret is stored in plaintext');
    }
    assert.match(String(rows[0]?.secret_sealed), /^v1\.[A-Za-z0-9_-]{8}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    // Sealed, not lost: the worker opens it to sign.
    assert.equal((await lf.webhookEndpoints.forDelivery(id))?.secret, secret);
    // Bound to its row: moved onto another endpoint's row, it does not open.
    const other = (await create('https://client.example/other')).body as { id: string };
    await lf.db.query('UPDATE webhook_endpoints SET secret_sealed = $1 WHERE id = $2', [rows[0]?.secret_sealed, other.id]);
    await assert.rejects(lf.webhookEndpoints.forDelivery(other.id), /unable to authenticate|unsupported state/i);
    assert.equal((await lf.call('DELETE', `/v1/webhook-endpoints/${other.id}`)).status, 204);
  });

  it('rejects anything but an http(s) URL with 422', async () => {
    for (const body of [
      {},
      { url: '' },
      { url: 'not a url' },
      { url: 'ftp://client.example/hooks' },
      { url: 'javascript:alert(1)' },
      { url: 'https://user:password@client.example/hooks' },
      { url: `https://client.example/${'a'.repeat(2048)}` },
      { url: 42 },
      { url: 'https://client.example/hooks', events: ['connection.synced'] },
    ]) {
      const response = await lf.call('POST', '/v1/webhook-endpoints', body);
      assert.equal(response.status, 422, JSON.stringify(body));
      assert.equal(response.body.error.code, 'validation_failed');
      assert.equal(response.body.error.message, 'The request body is not valid.');
      assert.ok(Array.isArray(response.body.error.details) && response.body.error.details.length > 0);
    }
    const notJson = await lf.call('POST', '/v1/webhook-endpoints', '{"url":');
    assert.equal(notJson.status, 400);
    assert.equal(notJson.body.error.code, 'malformed_request');
    const http = await create('http://127.0.0.1:8080/hooks');
    assert.equal(http.status, 201);
    assert.equal((await lf.call('DELETE', `/v1/webhook-endpoints/${http.body.id}`)).status, 204);
  });

  it("answers 404 for another tenant's endpoint, and lists only the caller's", async () => {
    const { id } = (await create('https://client.example/tenant-scoped')).body as { id: string };

    const listedByOther = await lf.call('GET', '/v1/webhook-endpoints', undefined, asOther());
    assert.equal(listedByOther.status, 200);
    assert.deepEqual(listedByOther.body, { data: [] });
    const deletedByOther = await lf.call('DELETE', `/v1/webhook-endpoints/${id}`, undefined, asOther());
    assert.equal(deletedByOther.status, 404);
    assert.deepEqual(deletedByOther.body, NOT_FOUND);
    // Still there for its owner.
    assert.ok(((await lf.call('GET', '/v1/webhook-endpoints')).body.data as { id: string }[]).some((e) => e.id === id));

    for (const unknown of ['whe_00000000000000000000000000000000', 'nope', "whe_' OR 1=1 --"]) {
      const response = await lf.call('DELETE', `/v1/webhook-endpoints/${encodeURIComponent(unknown)}`);
      assert.equal(response.status, 404, unknown);
      assert.deepEqual(response.body, NOT_FOUND);
    }
  });

  it('deletes an endpoint once: 204, then 404, and it is no longer listed', async () => {
    const { id } = (await create('https://client.example/short-lived')).body as { id: string };
    const deleted = await lf.call('DELETE', `/v1/webhook-endpoints/${id}`);
    assert.equal(deleted.status, 204);
    assert.equal(deleted.body, undefined);
    assert.deepEqual((await lf.call('DELETE', `/v1/webhook-endpoints/${id}`)).body, NOT_FOUND);
    assert.ok(!((await lf.call('GET', '/v1/webhook-endpoints')).body.data as { id: string }[]).some((e) => e.id === id));
    // Kept as disabled: deliveries still queued for it stop instead of failing.
    assert.equal((await lf.webhookEndpoints.forDelivery(id))?.disabled, true);
  });

  it(`allows at most ${MAX_ENDPOINTS_PER_TENANT} endpoints per tenant`, async () => {
    const existing = ((await lf.call('GET', '/v1/webhook-endpoints', undefined, asOther())).body.data as unknown[]).length;
    for (let i = existing; i < MAX_ENDPOINTS_PER_TENANT; i++) {
      assert.equal((await lf.call('POST', '/v1/webhook-endpoints', { url: `https://other.example/${i}` }, asOther())).status, 201);
    }
    const over = await lf.call('POST', '/v1/webhook-endpoints', { url: 'https://other.example/one-too-many' }, asOther());
    assert.equal(over.status, 409);
    assert.equal(over.body.error.code, 'limit_reached');
  });

  it('delivers a connection’s events to the registered endpoint, in order, each signature verifying', async () => {
    const receiver = await startWebhookReceiver();
    const { received } = receiver;
    try {
      const tenant = await lf.call('POST', '/v1/admin/tenants', { name: 'receives events' }, { authorization: `Bearer ${lf.adminKey}` });
      const asTenant = { authorization: `Bearer ${tenant.body.api_key.key}` };
      const url = receiver.url;
      const endpoint = await lf.call('POST', '/v1/webhook-endpoints', { url }, asTenant);
      assert.equal(endpoint.status, 201);

      const created = await lf.call('POST', '/v1/connections', { provider: 'oxlin', institution_id: '87', redirect_url: 'https://x.example' }, asTenant);
      const callback = await approveAtBank(await lf.openLink(created.body.next_action.url));
      await fetch(callback, { redirect: 'manual' });
      const listed = await lf.until(created.body.id, (v) => v.state === 'awaiting_consent', asTenant);
      const consents = listed.accounts.map((a) => ({ account_id: a.id, consent: true }));
      await lf.call('PUT', `/v1/connections/${listed.id}/consents`, { consents }, asTenant);
      await lf.until(listed.id, (v) => v.state === 'active', asTenant);

      for (let i = 0; i < 100 && !received.some((r) => r.body.includes('"connection.synced"')); i++) await new Promise((r) => setTimeout(r, 50));
      const events = received.map((r) => verifyWebhook({ secret: endpoint.body.secret, rawBody: r.body, signatureHeader: r.signature }));
      assert.deepEqual(
        events.map((e) => (e.type === 'connection.state_changed' ? `${e.type}:${e.data.state}` : e.type)).slice(0, 6),
        [
          'connection.state_changed:awaiting_redirect',
          'connection.action_required',
          'connection.state_changed:listing_accounts',
          'connection.state_changed:awaiting_consent',
          'connection.action_required',
          'connection.synced',
        ],
      );
      assert.ok(events.every((e) => e.connection_id === listed.id));
      const synced = events.find((e) => e.type === 'connection.synced');
      // What the sync changed, as counts: added, modified and removed.
      assert.deepEqual(
        synced?.type === 'connection.synced' && [synced.data.transactions_added, synced.data.transactions_modified, synced.data.transactions_removed],
        [3 * 91, 0, 0],
      );
      assert.ok(!received.some((r) => r.body.includes('tenant_id')), 'the tenant id stays inside Linkflow');
    } finally {
      receiver.close();
    }
  });
});
