// The Connect page and Linkflow links attacked as a hostile browser and environment would:
// concurrent and duplicate form posts (one connection per choice, however many arrive), tokens
// opened at once, links opened many times at once, malformed headers and bytes in every input,
// expired sessions, a callback carrying another session's cookie. Each: a clear 4xx (or the one
// success), nothing changed, never a 5xx, never another connection's data.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { randomUUID } from 'node:crypto';
import { createStateSigner } from '../../domain/redirect-state';
import { openedSession, postForm } from '../helpers/connect';
import { E2E_STATE_SECRET, type Linkflow, startLinkflow } from '../helpers/linkflow';
import { approveAtBank } from '../helpers/oxlin';

const REDIRECT_URL = 'https://client.example/linked';

describe('Connect attacked', () => {
  let lf: Linkflow;

  before(async () => {
    lf = await startLinkflow();
  });
  after(async () => {
    await lf?.stop();
  });

  /** A fresh tenant: its API key and id (so its connections can be counted). */
  async function tenant(): Promise<{ key: string; id: string }> {
    const made = await lf.call('POST', '/v1/admin/tenants', { name: `attack-${Math.random()}` }, { authorization: `Bearer ${lf.adminKey}` });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    return { key: made.body.api_key.key, id: made.body.tenant.id };
  }

  /** How many connection workflows a tenant has (Temporal's visibility, read until it settles). */
  async function connectionsOf(tenantId: string): Promise<number> {
    let last = -1;
    for (let i = 0; i < 20; i++) {
      const { count } = await lf.env.client.workflow.count(`LinkflowTenant = '${tenantId}'`);
      if (count === last && i > 4) return count;
      last = count;
      await new Promise((r) => setTimeout(r, 200));
    }
    return last;
  }

  const opened = (body: Record<string, unknown>, key?: string) => openedSession(lf, body, key);
  const post = (path: string, form: Record<string, string>, headers: Record<string, string>) => postForm(lf, path, form, headers);

  it('a token opened ten times at once: exactly one browser gets the session', async () => {
    const created = await lf.call('POST', '/v1/connect-sessions', { redirect_url: REDIRECT_URL });
    const answers = await Promise.all(Array.from({ length: 10 }, () => fetch(created.body.connect_url, { redirect: 'manual' })));
    const statuses = answers.map((a) => a.status).sort();
    assert.deepEqual(statuses, [303, ...Array(9).fill(410)], statuses.join(' '));
    assert.equal(answers.filter((a) => a.headers.get('set-cookie')).length, 1);
  });

  it('two choices posted at once (the same institution, or two) start one connection, never an orphan', async () => {
    const { key, id } = await tenant();
    const institutions = (await lf.call('GET', '/v1/institutions?provider=oxlin', undefined, { authorization: `Bearer ${key}` })).body.data as {
      institution_id: string;
      modes: string[];
    }[];
    const redirects = institutions.filter((i) => i.modes.includes('redirect')).slice(0, 2);
    assert.equal(redirects.length, 2, 'two Oxlin institutions with a redirect channel');
    const pairs: [(typeof redirects)[number], (typeof redirects)[number]][] = [
      [redirects[0]!, redirects[0]!],
      [redirects[0]!, redirects[1]!],
    ];
    for (const [first, second] of pairs) {
      const before = await connectionsOf(id);
      const { path, cookie, csrf } = await opened({ provider: 'oxlin' }, key);
      const answers = await Promise.all(
        [first, second].map((i) => post(`${path}/choose`, { csrf, institution: `oxlin:redirect:${i.institution_id}` }, { cookie })),
      );
      for (const answer of answers) assert.equal(answer.status, 303);
      assert.equal((await connectionsOf(id)) - before, 1, `${first.institution_id} and ${second.institution_id} at once: one connection started`);
    }
  });

  it('restart posted twice at once starts one new connection', async () => {
    const { key, id } = await tenant();
    const { path, cookie, created } = await opened({ provider: 'oxlin', institution_id: '87' }, key);
    const auth = { authorization: `Bearer ${key}` };
    assert.equal((await lf.call('DELETE', `/v1/connections/${created.connection_id}`, undefined, auth)).status < 300, true);
    await lf.until(created.connection_id, (v) => ['disconnected', 'cancelled'].includes(v.state), auth);
    assert.equal(await connectionsOf(id), 1);
    const ended = await (await fetch(lf.api + path, { headers: { cookie } })).text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(ended)?.[1] ?? assert.fail('the ended page offers to start again');
    const answers = await Promise.all([0, 1].map(() => post(`${path}/restart`, { csrf }, { cookie })));
    for (const answer of answers) assert.equal(answer.status, 303);
    assert.equal(await connectionsOf(id), 2, 'the ended connection and one new one');
    const status = (await (await fetch(`${lf.api}${path}/status`, { headers: { cookie } })).json()) as { step: string };
    assert.equal(status.step, 'redirect');
  });

  it('a malformed Referer (no Origin) is a 403, not a 5xx', async () => {
    const { path, cookie, csrf } = await opened({ provider: 'oxlin', institution_id: '87', mode: 'embedded' });
    for (const referer of ['http://[', 'http://exa mple.com/', '::::']) {
      const response = await fetch(`${lf.api}${path}/consent`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, referer },
        body: new URLSearchParams({ csrf, account: 'x' }).toString(),
      });
      assert.equal(response.status, 403, `Referer ${referer}`);
    }
  });

  it('odd bytes in session requests and settings: 4xx, never 5xx', async () => {
    const bodies: unknown[] = [
      { redirect_url: 'https://client.example/\u0000' },
      { redirect_url: REDIRECT_URL, user_ref: 'a\u0000b' },
      { redirect_url: REDIRECT_URL, user_ref: '\ud800' },
      { redirect_url: REDIRECT_URL, provider: 'oxlin', institution_id: '8\u00007' },
      { redirect_url: [REDIRECT_URL] },
      `{"redirect_url":"${REDIRECT_URL}","__proto__":{"provider":"oxlin"}}`,
    ];
    for (const body of bodies) {
      const response = await lf.call('POST', '/v1/connect-sessions', body);
      assert.ok(response.status >= 400 && response.status < 500, `${JSON.stringify(body).slice(0, 80)}: ${response.status} ${JSON.stringify(response.body)}`);
    }
    for (const terms of ['a\u0000b', '\ud800 terms']) {
      const response = await lf.call('PUT', '/v1/connect/settings', { frame_ancestors: [], terms });
      assert.ok(response.status < 500, `${JSON.stringify(terms)}: ${response.status} ${JSON.stringify(response.body)}`);
    }
    await lf.call('PUT', '/v1/connect/settings', { frame_ancestors: [], terms: null });
  });

  it('odd bytes in the page query (q, error, fields): never a 5xx, never echoed unescaped', async () => {
    const { path, cookie } = await opened({});
    for (const query of ['q=%00', 'q=%ED%A0%80', 'q=%E0%A4%A', 'q[a]=1', 'q=<script>x</script>', 'error=<b>', 'fields=<img src=x>', `fields=${'a,'.repeat(5000)}`, 'error[]=form']) {
      const response = await fetch(`${lf.api}${path}?${query}`, { headers: { cookie } });
      const html = await response.text();
      assert.ok(response.status < 500, `${query}: ${response.status}`);
      assert.doesNotMatch(html, /<script>x|<b>|<img src=x/, query);
    }
  });

  it('an expired session is refused everywhere, and changes nothing', async () => {
    const { path, cookie, csrf, created } = await opened({ provider: 'oxlin', institution_id: '87' });
    await lf.db.query("UPDATE connect_sessions SET expires_at = now() - interval '1 second' WHERE id = $1", [created.id]);
    for (const suffix of ['', '/status', '/bank', '/done']) {
      assert.equal((await fetch(lf.api + path + suffix, { headers: { cookie }, redirect: 'manual' })).status, 403, suffix);
    }
    for (const action of ['terms', 'choose', 'restart', 'consent', 'credentials', 'challenge']) {
      assert.equal((await post(`${path}/${action}`, { csrf, accept: 'yes' }, { cookie })).status, 403, action);
    }
    assert.equal((await lf.call('GET', `/v1/connections/${created.connection_id}`)).body.state, 'awaiting_redirect');
  });

  it('HEAD of a session URL (a mail scanner, a link preview) does not spend its token', async () => {
    const created = await lf.call('POST', '/v1/connect-sessions', { redirect_url: REDIRECT_URL });
    const head = await fetch(created.body.connect_url, { method: 'HEAD', redirect: 'manual' });
    assert.ok(head.status < 500, String(head.status));
    assert.equal(head.headers.get('set-cookie'), null);
    assert.equal((await fetch(created.body.connect_url, { redirect: 'manual' })).status, 303, 'the end user still opens it');
    // Nor does a HEAD of the bank step mint a provider URL.
    const { path, cookie } = await opened({ provider: 'oxlin', institution_id: '87' });
    const bank = await fetch(`${lf.api}${path}/bank`, { method: 'HEAD', headers: { cookie }, redirect: 'manual' });
    assert.equal(bank.headers.get('location'), null);
  });

  it('a link opened twenty times at once: each answer a redirect or a clear 4xx/503, never a 500', async () => {
    const created = await lf.call('POST', '/v1/connections', { provider: 'oxlin', institution_id: '87', redirect_url: REDIRECT_URL });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const link = created.body.next_action.url as string;
    const answers = await Promise.all(Array.from({ length: 20 }, () => fetch(link, { redirect: 'manual', headers: { accept: 'text/html' } })));
    const statuses = answers.map((a) => a.status);
    assert.ok(statuses.every((s) => s === 303 || s === 429), statuses.join(' '));
    assert.ok(statuses.filter((s) => s === 303).length >= 1, statuses.join(' '));
    assert.equal((await lf.call('GET', `/v1/connections/${created.body.id}`)).body.state, 'awaiting_redirect');
  });

  it("a link opened over and over is throttled before it floods the workflow's history and the provider", async () => {
    const created = await lf.call('POST', '/v1/connections', { provider: 'oxlin', institution_id: '87', redirect_url: REDIRECT_URL });
    const link = created.body.next_action.url as string;
    const history = async () => (await lf.env.client.workflow.getHandle(`connection-${created.body.id}`).fetchHistory()).events?.length ?? 0;
    const before = await history();
    const statuses: number[] = [];
    for (let i = 0; i < 60; i++) statuses.push((await fetch(link, { redirect: 'manual' })).status);
    assert.ok(statuses.filter((s) => s === 303).length <= 11, statuses.join(' '));
    const refused = await fetch(link, { redirect: 'manual', headers: { accept: 'text/html' } });
    assert.equal(refused.status, 429);
    assert.ok(Number(refused.headers.get('retry-after')) > 0);
    assert.match(await refused.text(), /opened too often/);
    assert.ok((await history()) - before <= 11 * 12, `history grew by ${(await history()) - before} events`);
    // Another connection's link is not affected.
    const other = await lf.call('POST', '/v1/connections', { provider: 'oxlin', institution_id: '87', redirect_url: REDIRECT_URL });
    assert.equal((await fetch(other.body.next_action.url, { redirect: 'manual' })).status, 303);
  });

  it('a link whose workflow gets no answer (its worker down) is a clear 503, not a hung request or a 5xx of another kind', async () => {
    const id = randomUUID();
    // A connection workflow no worker polls for: its updates are never taken, as with a worker killed.
    await lf.env.client.workflow.start('connectionWorkflow', { taskQueue: `nobody-${id}`, workflowId: `connection-${id}`, args: [{}] });
    const signer = createStateSigner(E2E_STATE_SECRET);
    const link = `${lf.api}/connect/links/${signer.signLink(id, Date.now() + 3_600_000)}`;
    const started = Date.now();
    const response = await fetch(link, { redirect: 'manual' });
    assert.equal(response.status, 503, await response.text());
    assert.ok(Date.now() - started < 29_000, 'answered before the request deadline');
    await lf.env.client.workflow.getHandle(`connection-${id}`).terminate('test over');
  });

  it("back from the bank with another connection's state and this browser's Connect cookie: the other connection's own way, nothing of this one", async () => {
    const other = await tenant();
    const mine = await opened({ provider: 'oxlin', institution_id: '87' });
    const theirs = await lf.call(
      'POST',
      '/v1/connections',
      { provider: 'oxlin', institution_id: '87', redirect_url: 'https://other.example/back' },
      { authorization: `Bearer ${other.key}` },
    );
    const theirBank = await approveAtBank(await lf.openLink(theirs.body.next_action.url));
    const back = await fetch(theirBank, { headers: { cookie: mine.cookie }, redirect: 'manual' });
    assert.equal(back.status, 303);
    const location = back.headers.get('location') ?? '';
    assert.ok(location.startsWith('https://other.example/back?'), location);
    assert.ok(!location.includes(mine.created.connection_id) && !location.includes(mine.created.id), location);
    // Its own connection, with its own cookie: back to its Connect page, which goes on at consent.
    const myBank = await approveAtBank(await lf.openLink((await lf.call('GET', `/v1/connections/${mine.created.connection_id}`)).body.next_action.url));
    const mineBack = await fetch(myBank, { headers: { cookie: mine.cookie }, redirect: 'manual' });
    assert.equal(mineBack.headers.get('location'), mine.path);
  });

  it('consent posted twice at once: one consent, both answers a redirect to the page, never a 5xx', async () => {
    const { path, cookie, created } = await opened({ provider: 'oxlin', institution_id: '87' });
    const bank = await approveAtBank(await lf.openLink((await lf.call('GET', `/v1/connections/${created.connection_id}`)).body.next_action.url));
    await fetch(bank, { headers: { cookie }, redirect: 'manual' });
    const atConsent = await lf.until(created.connection_id, (v) => v.next_action?.type === 'consent');
    const accounts = atConsent.next_action?.type === 'consent' ? atConsent.next_action.accounts.map((a) => a.id) : [];
    const page = await (await fetch(lf.api + path, { headers: { cookie } })).text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(page)?.[1] ?? assert.fail('the consent page has a form');
    const form = new URLSearchParams([['csrf', csrf], ...accounts.map((a) => ['account', a] as [string, string])]).toString();
    const answers = await Promise.all(
      [0, 1, 2].map(() =>
        fetch(`${lf.api}${path}/consent`, {
          method: 'POST',
          redirect: 'manual',
          headers: { 'content-type': 'application/x-www-form-urlencoded', origin: lf.api, cookie },
          body: form,
        }),
      ),
    );
    assert.deepEqual(answers.map((a) => a.status), [303, 303, 303]);
    const active = await lf.until(created.connection_id, (v) => v.state === 'active');
    assert.equal(active.state, 'active');
  });
});
