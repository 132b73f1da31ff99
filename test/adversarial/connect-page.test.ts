// Attacks on Linkflow Connect without a browser: every way to reach a session that is not yours
// (no cookie, another session's cookie, a forged one, a used or expired token, another tenant's
// connection), forms without their CSRF token or from another origin, odd bodies and methods;
// each answered with a clear 4xx that changes nothing, never a 5xx, never another connection's data.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { randomUUID } from 'node:crypto';
import { loggablePath } from '../../api/errors';
import { createConnectSessions } from '../../store/connect-sessions';
import { openedSession, postForm } from '../helpers/connect';
import { type Linkflow, startLinkflow } from '../helpers/linkflow';

const REDIRECT_URL = 'https://client.example/linked';

describe('Connect page under attack', () => {
  let lf: Linkflow;
  let otherKey: string;

  before(async () => {
    lf = await startLinkflow();
    const tenant = await lf.call('POST', '/v1/admin/tenants', { name: 'other' }, { authorization: `Bearer ${lf.adminKey}` });
    assert.equal(tenant.status, 201, JSON.stringify(tenant.body));
    otherKey = tenant.body.api_key.key;
  });
  after(async () => {
    await lf?.stop();
  });

  const opened = (body: Record<string, unknown> = { provider: 'oxlin', institution_id: '87' }, key?: string) => openedSession(lf, body, key);
  const post = (path: string, form: Record<string, string>, headers: Record<string, string>) => postForm(lf, path, form, headers);

  it('the page is strict: CSP without third-party origins, no framing by default, no referrer to others, not cached', async () => {
    const { page, html } = await opened();
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self';/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /https?:\/\//, 'no origin but self');
    assert.equal(page.headers.get('referrer-policy'), 'same-origin');
    assert.equal(page.headers.get('cache-control'), 'no-store');
    assert.doesNotMatch(html, /<script>|<style>|\sstyle=|\son\w+=/, 'no inline script or style');
  });

  it("frame-ancestors follow the tenant's settings", async () => {
    const saved = await lf.call('PUT', '/v1/connect/settings', { frame_ancestors: ['https://app.client.example'], terms: null });
    assert.equal(saved.status, 200, JSON.stringify(saved.body));
    const { page } = await opened();
    assert.match(page.headers.get('content-security-policy') ?? '', /frame-ancestors https:\/\/app\.client\.example$/);
    await lf.call('PUT', '/v1/connect/settings', { frame_ancestors: [], terms: null });
    for (const bad of [['javascript:alert(1)'], ["https://a.example 'unsafe-inline'"], ['https://a.example; script-src *'], ['*']]) {
      const refused = await lf.call('PUT', '/v1/connect/settings', { frame_ancestors: bad, terms: null });
      assert.equal(refused.status, 422, `${JSON.stringify(bad)}: ${JSON.stringify(refused.body)}`);
    }
  });

  it('a token opens once; used, unknown and tampered tokens get a clear page', async () => {
    const { created, token } = await opened();
    const again = await fetch(created.connect_url, { redirect: 'manual' });
    assert.equal(again.status, 410);
    assert.equal(again.headers.get('set-cookie'), null);
    const body = await again.text();
    assert.match(body, /already used/);
    assert.doesNotMatch(body, new RegExp(created.connection_id));
    for (const bad of [`${token.slice(0, -1)}A`, 'x', 'a'.repeat(5000), '%00', '..%2F..%2Fv1%2Fconnections', '%E0%A4%A']) {
      const response = await fetch(`${lf.api}/connect/t/${bad}`, { redirect: 'manual' });
      assert.ok(response.status >= 400 && response.status < 500, `${bad.slice(0, 20)}: ${response.status}`);
    }
  });

  it('an expired token gets a clear page', async () => {
    const { created } = await opened();
    const fresh = await lf.call('POST', '/v1/connect-sessions', { redirect_url: REDIRECT_URL });
    await lf.db.query("UPDATE connect_sessions SET token_expires_at = now() - interval '1 second' WHERE id = $1", [fresh.body.id]);
    const response = await fetch(fresh.body.connect_url, { redirect: 'manual' });
    assert.equal(response.status, 410);
    assert.match(await response.text(), /expired/);
    assert.ok(created);
  });

  it("a session's page needs its own browser's cookie", async () => {
    const a = await opened();
    const b = await opened();
    const sid = a.path.split('/').pop()!;
    const attempts: Record<string, string>[] = [
      {},
      { cookie: b.cookie },
      { cookie: b.cookie.replace(/^lfc_cs_[0-9a-f]+/, `lfc_${sid}`) },
      { cookie: `lfc_${sid}=${'A'.repeat(43)}` },
      { cookie: `lfc_${sid}=${a.cookie.split('=')[1]}x` },
    ];
    for (const headers of attempts) {
      for (const suffix of ['', '/status', '/bank', '/done']) {
        const response = await fetch(lf.api + a.path + suffix, { headers, redirect: 'manual' });
        assert.equal(response.status, 403, `${suffix} ${JSON.stringify(headers)}`);
        const text = await response.text();
        assert.doesNotMatch(text, new RegExp(`${a.created.connection_id}|awaiting|oxlin|bank/authorize`));
      }
    }
  });

  it('forms need the CSRF token and this origin; anything else changes nothing', async () => {
    const { path, cookie, csrf, created } = await opened({ provider: 'oxlin', institution_id: '87', mode: 'embedded' });
    const before = (await lf.call('GET', `/v1/connections/${created.connection_id}`)).body;
    assert.equal(before.state, 'awaiting_credentials');
    const form = { 'credential:300': 'x' };
    const cases: [Record<string, string>, Record<string, string>][] = [
      [form, { cookie }],
      [{ ...form, csrf: `${csrf}x` }, { cookie }],
      [{ ...form, csrf }, { cookie, origin: 'https://evil.example' }],
      [{ ...form, csrf }, { cookie, origin: 'null' }],
      [{ ...form, csrf }, { cookie, 'sec-fetch-site': 'cross-site' }],
      [{ ...form, csrf }, {}],
    ];
    for (const [body, headers] of cases) {
      for (const action of ['credentials', 'challenge', 'consent', 'terms', 'choose', 'restart']) {
        const response = await post(`${path}/${action}`, body, headers);
        assert.equal(response.status, 403, `${action} ${JSON.stringify(headers)} ${JSON.stringify(body).slice(0, 40)}`);
      }
    }
    assert.equal((await lf.call('GET', `/v1/connections/${created.connection_id}`)).body.state, 'awaiting_credentials');
  });

  it('odd bodies, encodings and methods are 4xx, never 5xx', async () => {
    const { path, cookie, csrf } = await opened({ provider: 'oxlin', institution_id: '87', mode: 'embedded' });
    const raw = (body: string, type: string, method = 'POST') =>
      fetch(`${lf.api}${path}/credentials`, { method, redirect: 'manual', headers: { cookie, origin: lf.api, 'content-type': type }, body });
    const statuses = [
      (await raw(JSON.stringify({ csrf }), 'application/json')).status,
      (await raw(`csrf=${csrf}&credential:300=%ZZ`, 'application/x-www-form-urlencoded')).status,
      (await raw(`csrf=${csrf}&credential:300=%00`, 'application/x-www-form-urlencoded')).status,
      (await raw(`csrf=${csrf}&credential:300=not-pgp`, 'application/x-www-form-urlencoded')).status,
      (await raw(`csrf=${csrf}&csrf=${csrf}`, 'application/x-www-form-urlencoded')).status,
      (await raw(`csrf=${csrf}&${'a'.repeat(200_000)}=1`, 'application/x-www-form-urlencoded')).status,
      (await raw(`csrf[a]=${csrf}`, 'application/x-www-form-urlencoded')).status,
      (await raw('', 'text/plain', 'PUT')).status,
      (await fetch(`${lf.api}${path}/consent`, { method: 'DELETE', headers: { cookie } })).status,
      (await fetch(`${lf.api}/connect/assets/..%2F..%2F..%2Fpackage.json`)).status,
      (await fetch(`${lf.api}/connect/assets/connect.ts`)).status,
    ];
    for (const status of statuses) assert.ok(status >= 300 && status < 500, `statuses: ${statuses.join(' ')}`);
    // Form posts that pass the checks but carry what is not an encrypted credential: back to the page with an error.
    const refused = await raw(`csrf=${csrf}&credential:300=not-pgp`, 'application/x-www-form-urlencoded');
    assert.equal(refused.status, 303);
    assert.match(refused.headers.get('location') ?? '', /error=invalid_credentials/);
  });

  it("a session never reaches another tenant's connection", async () => {
    const mine = await lf.call('POST', '/v1/connections', { provider: 'oxlin', institution_id: '87', redirect_url: REDIRECT_URL });
    const theirs = await lf.call('POST', '/v1/connect-sessions', { connection_id: mine.body.id, redirect_url: REDIRECT_URL }, { authorization: `Bearer ${otherKey}` });
    assert.equal(theirs.status, 404, JSON.stringify(theirs.body));
    for (const action of ['renew', 'add_channel']) {
      const attempt = await lf.call(
        'POST',
        '/v1/connect-sessions',
        { connection_id: mine.body.id, action, ...(action === 'add_channel' ? { mode: 'embedded' } : {}), redirect_url: REDIRECT_URL },
        { authorization: `Bearer ${otherKey}` },
      );
      assert.equal(attempt.status, 404);
    }
    assert.equal((await lf.call('GET', `/v1/connections/${mine.body.id}`)).body.state, 'awaiting_redirect');
  });

  it('session requests are validated', async () => {
    const cases: [Record<string, unknown>, number][] = [
      [{}, 422],
      [{ redirect_url: 'javascript:alert(1)' }, 422],
      [{ redirect_url: REDIRECT_URL, institution_id: '87' }, 422],
      [{ redirect_url: REDIRECT_URL, connection_id: '3f2c6a1e-8b4d-4c2a-9f1e-2b7d5c9a0e41', provider: 'oxlin' }, 422],
      [{ redirect_url: REDIRECT_URL, action: 'renew' }, 422],
      [{ redirect_url: REDIRECT_URL, locale: 'de' }, 422],
      [{ redirect_url: REDIRECT_URL, connection_id: '3f2c6a1e-8b4d-4c2a-9f1e-2b7d5c9a0e41' }, 404],
      [{ redirect_url: REDIRECT_URL, provider: 'flinks', institution_id: 'FlinksCapital', mode: 'embedded' }, 422],
    ];
    for (const [body, status] of cases) {
      const response = await lf.call('POST', '/v1/connect-sessions', body);
      assert.equal(response.status, status, `${JSON.stringify(body)}: ${JSON.stringify(response.body)}`);
    }
    assert.equal((await lf.call('POST', '/v1/connect-sessions', { redirect_url: REDIRECT_URL }, { authorization: 'Bearer nope' })).status, 401);
  });

  it('tokens and browser secrets are never logged, nor stored in the clear', async () => {
    const { token, cookie } = await opened();
    const secret = cookie.split('=')[1]!;
    const logs = lf.logs.join('\n');
    assert.ok(!logs.includes(token) && !logs.includes(secret));
    const rows = JSON.stringify(await lf.db.query('SELECT * FROM connect_sessions'));
    assert.ok(!rows.includes(token) && !rows.includes(secret));
    // The path of a failed request is logged without its bearer token.
    assert.equal(loggablePath(`/connect/t/${token}`), '/connect/t/…');
    assert.equal(loggablePath('/connect/links/abc.def.ghi'), '/connect/links/…');
    assert.equal(loggablePath('/v1/connections'), '/v1/connections');
  });

  it("a connection whose worker does not answer gets a page saying to try again, not a JSON 5xx", async () => {
    const id = randomUUID();
    // A connection workflow on a task queue nothing polls: its state query never gets an answer.
    await lf.env.client.workflow.start('connectionWorkflow', { taskQueue: `nobody-${id}`, workflowId: `connection-${id}`, args: [{}] });
    const sessions = createConnectSessions(lf.db);
    const tenantId = (await lf.db.query<{ tenant_id: string }>('SELECT tenant_id FROM api_keys LIMIT 1'))[0]!.tenant_id;
    const created = await sessions.create({ tenantId, connectionId: id, request: {}, redirectUrl: REDIRECT_URL, locale: 'fr', tokenSeconds: 60, sessionSeconds: 60 });
    const open = await fetch(`${lf.api}/connect/t/${created.token}`, { redirect: 'manual' });
    const cookie = (open.headers.get('set-cookie') ?? '').split(';')[0]!;
    const page = await fetch(lf.api + open.headers.get('location')!, { headers: { cookie } });
    assert.equal(page.status, 503);
    assert.equal(page.headers.get('retry-after'), '5');
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await page.text(), /Veuillez réessayer/);
    await lf.env.client.workflow.getHandle(`connection-${id}`).terminate();
  });
});
