// End to end through the HTTP API: the Temporal dev server, the real worker and activities,
// the Oxlin sandbox, PGlite, and the Koa app on a real port. The test plays the client's
// backend (HTTP calls) and the end user's browser (the bank page and the redirects).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ConnectionView } from '../../contract/messages';
import { type Linkflow, startLinkflow } from '../helpers/linkflow';
import { approveAtBank } from '../helpers/oxlin';

describe('Linkflow API, end to end on Oxlin', () => {
  let lf: Linkflow;
  let api: string;
  before(async () => {
    lf = await startLinkflow();
    api = lf.api;
  });
  after(async () => {
    await lf?.stop();
  });
  const call: Linkflow['call'] = (...args) => lf.call(...args);
  const until: Linkflow['until'] = (...args) => lf.until(...args);

  const start = async () => {
    const created = await call('POST', '/v1/connections', {
      provider: 'oxlin',
      institution_id: '87',
      redirect_url: 'https://client.example/linked?session=abc',
      user_ref: 'user-42',
    });
    assert.equal(created.status, 201);
    assert.equal(created.headers.get('location'), `/v1/connections/${created.body.id}`);
    return created.body as ConnectionView;
  };

  it('starts a connection, follows the bank redirect, takes consent and serves accounts and transactions', async () => {
    const connection = await start();
    assert.equal(connection.state, 'awaiting_redirect');
    assert.equal(connection.next_action?.type, 'redirect');
    assert.equal(connection.user_ref, 'user-42');

    // The browser: the bank, then Linkflow's callback, then on to the client's redirect URL.
    const callback = await approveAtBank(await lf.openLink(connection.next_action.type === 'redirect' ? connection.next_action.url : undefined));
    assert.equal(callback.origin, api);
    assert.equal(callback.pathname, '/callbacks/oxlin');
    const landing = await fetch(callback, { redirect: 'manual' });
    assert.equal(landing.status, 303);
    const final = new URL(landing.headers.get('location') ?? '');
    assert.equal(final.origin + final.pathname, 'https://client.example/linked');
    assert.equal(final.searchParams.get('session'), 'abc');
    assert.equal(final.searchParams.get('connection_id'), connection.id);
    assert.equal(final.searchParams.get('outcome'), 'success');

    // The same redirect again is refused and changes nothing.
    const replay = await call('GET', callback.pathname + callback.search);
    assert.equal(replay.status, 409);
    assert.equal(replay.body.error.code, 'redirect_not_expected');

    const listed = await until(connection.id, (v) => v.state === 'awaiting_consent');
    assert.equal(listed.next_action?.type, 'consent');
    assert.equal(listed.accounts.length, 3);
    const [keep, drop, card] = listed.accounts.map((a) => a.id);

    const unknown = await call('PUT', `/v1/connections/${connection.id}/consents`, {
      consents: [{ account_id: 'not-an-account', consent: true }],
    });
    assert.equal(unknown.status, 422);
    assert.deepEqual(unknown.body.error.details, { unknown_account_ids: ['not-an-account'] });

    const consented = await call('PUT', `/v1/connections/${connection.id}/consents`, {
      consents: [
        { account_id: keep, consent: true },
        { account_id: drop, consent: false },
        { account_id: card, consent: true },
      ],
    });
    assert.equal(consented.status, 200);
    assert.equal(consented.body.state, 'syncing');

    const active = await until(connection.id, (v) => v.state === 'active');
    assert.equal(active.next_action, null);
    assert.equal(active.last_sync?.transactions_added, 2 * 91);
    assert.ok(active.next_sync_at);

    const again = await call('PUT', `/v1/connections/${connection.id}/consents`, { consents: [{ account_id: keep, consent: true }] });
    assert.equal(again.status, 409);
    assert.deepEqual(again.body, {
      error: {
        code: 'wrong_state',
        message: 'allowed only in state awaiting_consent; the connection is active',
        details: { state: 'active' },
      },
    });

    const accounts = await call('GET', `/v1/connections/${connection.id}/accounts`);
    assert.equal(accounts.status, 200);
    assert.deepEqual(accounts.body.data.map((a: { id: string }) => a.id).sort(), [keep, card].sort());

    // Page through every transaction with the cursor: all there, none twice, newest first.
    const seen: { id: string; booked_at: string }[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: { data: { id: string; booked_at: string }[]; next_cursor: string | null } } =
        await call('GET', `/v1/connections/${connection.id}/transactions?limit=50${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(page.status, 200);
      seen.push(...page.body.data);
      cursor = page.body.next_cursor;
    } while (cursor);
    assert.equal(seen.length, 2 * 91);
    assert.equal(new Set(seen.map((t) => t.id)).size, seen.length);
    assert.ok(seen.every((t, i) => i === 0 || seen[i - 1]!.booked_at >= t.booked_at));

    const only = await call('GET', `/v1/connections/${connection.id}/transactions?account_id=${card}&limit=500`);
    assert.equal(only.body.data.length, 91);

    // Operators find it in the Temporal Web UI by the same search attributes.
    let found = false;
    for (let i = 0; i < 100 && !found; i++) {
      for await (const wf of lf.env.client.workflow.list({ query: `LinkflowState = 'active' AND LinkflowUserRef = 'user-42'` })) {
        if (wf.workflowId === `connection-${connection.id}`) found = true;
      }
      if (!found) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(found, 'the connection is listed by its search attributes');
  });

  it('ends cancelled when the end user declines at the bank', async () => {
    const connection = await start();
    const callback = await approveAtBank(await lf.openLink(connection.next_action?.type === 'redirect' ? connection.next_action.url : undefined), 'deny');
    const landing = await fetch(callback, { redirect: 'manual' });
    assert.equal(new URL(landing.headers.get('location') ?? '').searchParams.get('outcome'), 'denied');
    const ended = await until(connection.id, (v) => v.state === 'cancelled');
    assert.equal(ended.reason, 'ACCESS_DENIED');
    assert.equal(ended.next_action?.type, 'reconnect');
  });

  it('answers every malformed request with a clear 4xx and changes nothing', async () => {
    const connection = await start();
    const id = connection.id;
    const cases: [string, string, unknown, Record<string, string>, number, string][] = [
      ['POST', '/v1/connections', { provider: 'nope', institution_id: '87', redirect_url: 'https://x.example' }, {}, 422, 'validation_failed'],
      ['POST', '/v1/connections', { provider: 'oxlin', institution_id: '87', redirect_url: 'javascript:alert(1)' }, {}, 422, 'validation_failed'],
      ['POST', '/v1/connections', { provider: 'oxlin', institution_id: '87', redirect_url: 'https://x.example', extra: 1 }, {}, 422, 'validation_failed'],
      ['POST', '/v1/connections', '{not json', {}, 400, 'malformed_request'],
      ['POST', '/v1/connections', 'provider=oxlin', { 'content-type': 'application/x-www-form-urlencoded' }, 415, 'unsupported_media_type'],
      ['POST', '/v1/connections', JSON.stringify({ pad: 'x'.repeat(200_000) }), {}, 413, 'body_too_large'],
      ['GET', '/v1/connections/not-a-uuid', undefined, {}, 404, 'not_found'],
      ['GET', '/v1/connections/6f1c2d3e-4b5a-4c6d-8e7f-8091a2b3c4d5', undefined, {}, 404, 'not_found'],
      ['GET', '/v1/connections/6f1c2d3e-4b5a-4c6d-8e7f-8091a2b3c4d5/accounts', undefined, {}, 404, 'not_found'],
      ['GET', `/v1/connections/${id}/transactions?limit=0`, undefined, {}, 400, 'invalid_query'],
      ['GET', `/v1/connections/${id}/transactions?cursor=bm9wZQ`, undefined, {}, 400, 'invalid_cursor'],
      ['PUT', `/v1/connections/${id}/consents`, { consents: [] }, {}, 422, 'validation_failed'],
      ['PUT', `/v1/connections/${id}/consents`, { consents: [{ account_id: 'a', consent: true }] }, {}, 409, 'wrong_state'],
      ['GET', '/callbacks/oxlin?status=SUCCESS', undefined, {}, 400, 'invalid_callback'],
      ['GET', `/callbacks/oxlin?status=SUCCESS&connection_id=1&queue_id=q&state=${id}.forged.c2lnbmF0dXJl`, undefined, {}, 400, 'invalid_state'],
      ['GET', '/callbacks/unknown?state=x', undefined, {}, 404, 'not_found'],
      ['DELETE', '/v1/connections', undefined, {}, 405, 'method_not_allowed'],
      ['GET', '/nowhere', undefined, {}, 404, 'not_found'],
    ];
    for (const [method, path, body, headers, status, code] of cases) {
      const response = await call(method, path, body, headers);
      assert.equal(response.status, status, `${method} ${path} → ${JSON.stringify(response.body)}`);
      assert.equal(response.body?.error?.code, code, `${method} ${path}`);
      assert.equal(typeof response.body.error.message, 'string');
    }
    const after = await call('GET', `/v1/connections/${id}`);
    assert.equal(after.body.state, 'awaiting_redirect');
  });

  it('protects every connection endpoint: 401 without a valid key, 404 for another tenant', async () => {
    const connection = await start();
    const other = await call('POST', '/v1/admin/tenants', { name: 'Other fintech' }, { authorization: `Bearer ${lf.adminKey}` });
    assert.equal(other.status, 201, JSON.stringify(other.body));
    assert.match(other.body.api_key.key, /^lf_/);
    const otherKey = { authorization: `Bearer ${other.body.api_key.key}` };
    const id = connection.id;
    const routes: [string, string, unknown?][] = [
      ['POST', '/v1/connections', { provider: 'oxlin', institution_id: '87', redirect_url: 'https://x.example' }],
      ['GET', '/v1/connections'],
      ['GET', `/v1/connections/${id}`],
      ['DELETE', `/v1/connections/${id}`],
      ['POST', `/v1/connections/${id}/sync`],
      ['PUT', `/v1/connections/${id}/consents`, { consents: [{ account_id: 'a', consent: true }] }],
      ['POST', `/v1/connections/${id}/credentials`, { credentials: [{ id: '1', value: 'x' }] }],
      ['POST', `/v1/connections/${id}/challenge`, { answers: [{ id: '1', value: 'x' }] }],
      ['POST', `/v1/connections/${id}/channels`, { mode: 'embedded' }],
      ['POST', `/v1/connections/${id}/renewal`],
      ['GET', `/v1/connections/${id}/accounts`],
      ['GET', `/v1/connections/${id}/transactions`],
    ];
    for (const [method, path, body] of routes) {
      for (const authorization of ['', 'Bearer lf_not-a-key', 'Basic dXNlcjpwYXNz']) {
        const response = await call(method, path, body, { authorization });
        assert.equal(response.status, 401, `${method} ${path} with "${authorization}"`);
        assert.equal(response.headers.get('www-authenticate'), 'Bearer');
        assert.equal(response.body.error.code, 'unauthorized');
      }
      if (path === '/v1/connections') continue;
      const foreign = await call(method, path, body, otherKey);
      assert.equal(foreign.status, 404, `${method} ${path} as another tenant → ${JSON.stringify(foreign.body)}`);
      assert.deepEqual(foreign.body, { error: { code: 'not_found', message: 'connection not found' } });
    }
    assert.equal((await call('GET', `/v1/connections/${id}`)).body.state, 'awaiting_redirect', 'nothing changed');

    const admin = await call('POST', '/v1/admin/tenants', { name: 'x' }, { authorization: `Bearer ${lf.apiKey}` });
    assert.equal(admin.status, 401);
    assert.equal((await call('POST', '/v1/admin/tenants', { name: '' }, { authorization: `Bearer ${lf.adminKey}` })).status, 422);
    const secondKey = await call('POST', `/v1/admin/tenants/${other.body.tenant.id}/api-keys`, undefined, { authorization: `Bearer ${lf.adminKey}` });
    assert.equal(secondKey.status, 201);
    const viaSecond = await call('POST', '/v1/connections', { provider: 'oxlin', institution_id: '87', redirect_url: 'https://x.example' }, {
      authorization: `Bearer ${secondKey.body.key}`,
    });
    assert.equal(viaSecond.status, 201);
    assert.equal(viaSecond.body.tenant_id, other.body.tenant.id);
  });

  it('lists and searches the tenant’s connections from Temporal visibility, page by page', async () => {
    const ref = `user-${Date.now()}`;
    const mine = [];
    for (let i = 0; i < 3; i++) {
      const created = await call('POST', '/v1/connections', { provider: 'oxlin', institution_id: '87', redirect_url: 'https://x.example', user_ref: ref });
      mine.push(created.body.id as string);
    }
    const other = await call('POST', '/v1/admin/tenants', { name: 'Lister' }, { authorization: `Bearer ${lf.adminKey}` });
    await call('POST', '/v1/connections', { provider: 'oxlin', institution_id: '87', redirect_url: 'https://x.example', user_ref: ref }, {
      authorization: `Bearer ${other.body.api_key.key}`,
    });

    // Visibility is eventually consistent: wait until all three are indexed as awaiting_redirect.
    const query = `/v1/connections?user_ref=${ref}&state=awaiting_redirect&needs_action=true&provider=oxlin`;
    let listed: { id: string; state: string; needs_action: boolean; user_ref: string }[] = [];
    for (let i = 0; i < 100 && listed.length < 3; i++) {
      listed = (await call('GET', query)).body.data;
      if (listed.length < 3) await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(listed.map((c) => c.id).sort(), [...mine].sort(), 'exactly this tenant’s three');
    assert.ok(listed.every((c) => c.state === 'awaiting_redirect' && c.needs_action && c.user_ref === ref));

    const first = await call('GET', `/v1/connections?user_ref=${ref}&limit=2`);
    assert.equal(first.body.data.length, 2);
    assert.ok(first.body.next_cursor);
    const second = await call('GET', `/v1/connections?user_ref=${ref}&limit=2&cursor=${first.body.next_cursor}`);
    assert.deepEqual([...first.body.data, ...second.body.data].map((c: { id: string }) => c.id).sort(), [...mine].sort());
    assert.equal((await call('GET', `/v1/connections?user_ref=${ref}&state=active`)).body.data.length, 0);

    for (const bad of ['state=sleeping', 'limit=1000', "user_ref=a'%20OR%20'1'='1", 'cursor=!!', 'unknown=1']) {
      const response = await call('GET', `/v1/connections?${bad}`);
      assert.equal(response.status, 400, bad);
      assert.equal(response.body.error.code, 'invalid_query');
    }
    assert.equal((await call('GET', '/v1/connections?cursor=bm90LWEtY3Vyc29y')).status, 400);
    const forged = await call('GET', `/v1/connections?user_ref=${ref}&state=active&cursor=${first.body.next_cursor}`);
    assert.equal(forged.status, 400, 'a cursor pages only through the query that made it');
    assert.equal(forged.body.error.code, 'invalid_cursor');
  });

  it('returns the same connection for the same Idempotency-Key', async () => {
    const body = { provider: 'oxlin', institution_id: '87', redirect_url: 'https://x.example/idem' };
    const key = { 'idempotency-key': `order-${Date.now()}` };
    const first = await call('POST', '/v1/connections', body, key);
    assert.equal(first.status, 201);
    const again = await call('POST', '/v1/connections', body, key);
    assert.equal(again.status, 200);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.equal(again.body.id, first.body.id);
    const changed = await call('POST', '/v1/connections', { ...body, institution_id: '119' }, key);
    assert.equal(changed.status, 422);
    assert.equal(changed.body.error.code, 'idempotency_key_reused');
    const other = await call('POST', '/v1/admin/tenants', { name: 'Idem' }, { authorization: `Bearer ${lf.adminKey}` });
    const theirs = await call('POST', '/v1/connections', body, { ...key, authorization: `Bearer ${other.body.api_key.key}` });
    assert.equal(theirs.status, 201, 'keys are per tenant');
    assert.notEqual(theirs.body.id, first.body.id);
    const bad = await call('POST', '/v1/connections', body, { 'idempotency-key': 'é'.repeat(3) });
    assert.equal(bad.status, 400);
  });
});
