// Links never go stale (issue 13): every `next_action.url` of a redirect is a Linkflow link that
// mints the provider's short-lived URL when it is opened. Real API, worker, dev server and the
// Powens sandbox, whose webview codes are made to live 2 seconds instead of 30 minutes.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { verifyWebhook } from '../../api/clients/webhooks';
import { stateQuery, type ConnectionView } from '../../contract/messages';
import { createStateSigner } from '../../domain/redirect-state';
import { type Linkflow, startLinkflow } from '../helpers/linkflow';
import { startWebhookReceiver } from '../helpers/webhooks';
import { approveInWebview } from '../helpers/powens';
import { approveAtBank } from '../helpers/oxlin';
import { authorizeAtXero } from '../../sandbox/lnkfi/browser';

const CODE_LIFETIME_SECONDS = 2;
/** The secret startLinkflow signs states (and so links) with. */
const E2E_STATE_SECRET = 'e2e-secret-e2e-secret-e2e-secret';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const pastCodeLifetime = () => sleep(CODE_LIFETIME_SECONDS * 1000 + 700);

describe('Linkflow links', () => {
  let lf: Linkflow;
  /** How far ahead of real time the Oxlin and LnkFi sandboxes' clocks run: their authorization sessions live 30 minutes. */
  let ahead = 0;

  before(async () => {
    lf = await startLinkflow({
      powens: { codeLifetimeSeconds: CODE_LIFETIME_SECONDS },
      oxlin: { now: () => Date.now() + ahead },
      lnkfi: { now: () => Date.now() + ahead },
    });
  });
  after(() => lf?.stop());

  const linkOf = (view: ConnectionView): string => (view.next_action?.type === 'redirect' ? view.next_action.url : assert.fail(`no redirect: ${view.state}`));
  /** The provider URL the workflow keeps (what the API offered before links existed). */
  const providerUrlOf = async (id: string): Promise<string> => {
    const view = await lf.env.client.workflow.getHandle(`connection-${id}`).query(stateQuery);
    return view.next_action?.type === 'redirect' ? view.next_action.url : assert.fail('no redirect in the workflow');
  };
  /** The Powens webview refuses a URL whose code has expired (what an end user met before links). */
  const refusedByWebview = async (url: string) => {
    const page = await fetch(url);
    assert.equal(page.status, 400);
    assert.match(await page.text(), /code: unknown or expired/);
  };
  const open = (link: string, headers: Record<string, string> = {}) => fetch(link, { redirect: 'manual', headers });
  const errorOf = async (response: Response) => ((await response.json()) as { error: { code: string; details?: { state?: string } } }).error;

  /** A Powens webauth connection (connector 60), created and authorized through its link, opened after the code's lifetime. */
  async function activePowensConnection(headers?: Record<string, string>): Promise<ConnectionView> {
    const created = await lf.call('POST', '/v1/connections', { provider: 'powens', institution_id: '60', redirect_url: 'https://client.example/linked' }, headers);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.state, 'awaiting_redirect');
    const link = linkOf(created.body);
    const raw = await providerUrlOf(created.body.id);
    assert.ok(!link.includes(new URL(raw).host) && !link.includes(new URL(raw).searchParams.get('code') ?? '-'), 'the link carries nothing of the provider URL');

    await pastCodeLifetime();
    await refusedByWebview(raw);
    const fresh = await lf.openLink(link);
    assert.notEqual(new URL(fresh).searchParams.get('code'), new URL(raw).searchParams.get('code'), 'a new code');
    assert.equal(new URL(fresh).searchParams.get('state'), new URL(raw).searchParams.get('state'), 'the same authorization');
    const callback = await approveInWebview(fresh, 'alice');
    assert.equal((await fetch(callback, { redirect: 'manual' })).status, 303);
    const consenting = await lf.until(created.body.id, (v) => v.state === 'awaiting_consent', headers);
    const consents = consenting.accounts.map((a) => ({ account_id: a.id, consent: true }));
    assert.equal((await lf.call('PUT', `/v1/connections/${consenting.id}/consents`, { consents }, headers)).status, 200);
    return lf.until(consenting.id, (v) => v.state === 'active', headers);
  }

  it('a first authorization opened after the webview code expired still reaches the bank', async () => {
    const active = await activePowensConnection();
    assert.equal(active.next_action, null);
    assert.ok(active.accounts.length > 0);
  });

  it('a renewal link works after the code expired, and asking again gives a working link again', async () => {
    const active = await activePowensConnection();
    for (const round of [1, 2]) {
      const renewing = await lf.call('POST', `/v1/connections/${active.id}/renewal`);
      assert.equal(renewing.status, 200, JSON.stringify(renewing.body));
      assert.equal(renewing.body.state, 'renewal_required');
      const link = linkOf(renewing.body);
      assert.ok(link.startsWith(`${lf.api}/connect/links/`), `round ${round}`);
      assert.equal((await lf.call('GET', `/v1/connections/${active.id}`)).body.next_action.url.split('/').at(-1).split('.')[0], active.id);
      const raw = await providerUrlOf(active.id);
      assert.equal(new URL(raw).pathname, '/reconnect');

      await pastCodeLifetime();
      await refusedByWebview(raw); // the old fault: the provider's own URL is dead after 2 s
      const callback = await approveInWebview(await lf.openLink(link), 'alice');
      assert.equal((await fetch(callback, { redirect: 'manual' })).status, 303);
      const renewed = await lf.until(active.id, (v) => v.state === 'active');
      assert.equal(renewed.next_action, null, `round ${round}: renewed`);

      // Once renewed, the link has nothing to open: a clear refusal, and nothing changes.
      const used = await open(link);
      assert.equal(used.status, 409);
      assert.deepEqual(await errorOf(used), {
        code: 'link_not_needed',
        message: 'This link is no longer needed: the connection is active.',
        details: { state: 'active' },
      });
      assert.equal((await lf.call('GET', `/v1/connections/${active.id}`)).body.state, 'active');
    }
  });

  it("Oxlin's and LnkFi's authorization sessions (30 minutes) are opened anew when the link is", async () => {
    const oxlin = await lf.call('POST', '/v1/connections', { provider: 'oxlin', institution_id: '87', redirect_url: 'https://client.example/o' });
    const lnkfi = await lf.call('POST', '/v1/connections', { provider: 'lnkfi', institution_id: 'xero', redirect_url: 'https://client.example/l' });
    const [oxlinRaw, lnkfiRaw] = [await providerUrlOf(oxlin.body.id), await providerUrlOf(lnkfi.body.id)];
    ahead += 31 * 60_000;
    assert.equal((await fetch(oxlinRaw)).status, 400, "Oxlin's own URL has expired");
    await assert.rejects(authorizeAtXero(lnkfiRaw, 'approve'), /answered 400/, "LnkFi's own URL has expired");

    const oxlinBack = await approveAtBank(await lf.openLink(linkOf(oxlin.body)));
    assert.equal((await fetch(oxlinBack, { redirect: 'manual' })).status, 303);
    assert.equal((await lf.until(oxlin.body.id, (v) => v.state !== 'awaiting_redirect' && v.state !== 'listing_accounts')).state, 'awaiting_consent');
    const lnkfiBack = await authorizeAtXero(await lf.openLink(linkOf(lnkfi.body)), 'approve');
    assert.equal((await fetch(lnkfiBack, { redirect: 'manual' })).status, 303);
    assert.equal((await lf.until(lnkfi.body.id, (v) => v.state !== 'awaiting_redirect' && v.state !== 'listing_accounts')).state, 'awaiting_consent');
  });

  it('refuses tampered, expired and other-connection links, and never shows another tenant anything', async () => {
    const created = await lf.call('POST', '/v1/connections', { provider: 'powens', institution_id: '60', redirect_url: 'https://client.example/a' });
    const link = linkOf(created.body);
    const [connectionId, expires, signature] = (link.split('/').at(-1) ?? '').split('.') as [string, string, string];
    const base = `${lf.api}/connect/links/`;

    // Tenant B's connection, waiting for its own redirect.
    const tenantB = await lf.call('POST', '/v1/admin/tenants', { name: 'tenant B' }, { authorization: `Bearer ${lf.adminKey}` });
    const asB = { authorization: `Bearer ${tenantB.body.api_key.key}` };
    const b = await lf.call('POST', '/v1/connections', { provider: 'powens', institution_id: '60', redirect_url: 'https://b.example/secret-place' }, asB);
    assert.equal(b.status, 201);

    const signer = createStateSigner(E2E_STATE_SECRET);
    const flipped = `${signature.slice(0, -2)}${signature.at(-2) === 'A' ? 'B' : 'A'}${signature.at(-1)}`;
    const refused: [string, string, number, string][] = [
      ['tampered signature', `${base}${connectionId}.${expires}.${flipped}`, 404, 'link_not_found'],
      ['later expiry', `${base}${connectionId}.${Number(expires) + 86_400}.${signature}`, 404, 'link_not_found'],
      ["tenant B's connection under A's signature", `${base}${b.body.id}.${expires}.${signature}`, 404, 'link_not_found'],
      ['not a link', `${base}not-a-link`, 404, 'link_not_found'],
      ['expired', `${base}${signer.signLink(connectionId, Date.now() - 1_000)}`, 410, 'link_expired'],
    ];
    for (const [what, url, status, code] of refused) {
      const response = await open(url);
      const body = await response.text();
      assert.equal(response.status, status, `${what}: ${body}`);
      assert.equal((JSON.parse(body) as { error: { code: string } }).error.code, code, what);
      assert.ok(!body.includes('b.example') && !body.includes(b.body.id), `${what}: nothing of tenant B`);
      assert.equal(response.headers.get('location'), null);
    }
    // A browser gets a small page, not JSON.
    const page = await open(`${base}${connectionId}.${expires}.${flipped}`, { accept: 'text/html,application/xhtml+xml' });
    assert.equal(page.status, 404);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(await page.text(), /not a link Linkflow issued/);
    // Nothing changed: both still wait for their own redirect, with the same provider URL.
    for (const [id, headers] of [[created.body.id, {}], [b.body.id, asB]] as const) {
      assert.equal((await lf.call('GET', `/v1/connections/${id}`, undefined, headers)).body.state, 'awaiting_redirect');
    }

    // A's genuine link opens A's authorization only.
    const location = await lf.openLink(link);
    assert.equal(new URL(location).searchParams.get('state')?.split('.')[0], created.body.id);

    // An ended connection: the link says so.
    assert.equal((await lf.call('DELETE', `/v1/connections/${created.body.id}`)).status, 202);
    await lf.until(created.body.id, (v) => v.state === 'disconnected');
    const ended = await open(link);
    assert.equal(ended.status, 410);
    assert.deepEqual(await errorOf(ended), { code: 'link_not_needed', message: 'This link is no longer needed: the connection is disconnected.', details: { state: 'disconnected' } });
  });

  it('webhook events carry the Linkflow link, never the provider URL', async () => {
    const receiver = await startWebhookReceiver();
    const { received } = receiver;
    try {
      const tenant = await lf.call('POST', '/v1/admin/tenants', { name: 'receives links' }, { authorization: `Bearer ${lf.adminKey}` });
      const asTenant = { authorization: `Bearer ${tenant.body.api_key.key}` };
      const endpoint = await lf.call('POST', '/v1/webhook-endpoints', { url: receiver.url }, asTenant);
      assert.equal(endpoint.status, 201);

      const active = await activePowensConnection(asTenant);
      const renewing = await lf.call('POST', `/v1/connections/${active.id}/renewal`, undefined, asTenant);
      assert.equal(renewing.body.state, 'renewal_required');
      const renewalUrl = await providerUrlOf(active.id);
      const wanted = (e: { type: string }) => e.type === 'connection.renewal_due';
      for (let i = 0; i < 200 && !received.some((r) => wanted(JSON.parse(r.body) as { type: string })); i++) await sleep(50);

      const events = received.map((r) => verifyWebhook({ secret: endpoint.body.secret, rawBody: r.body, signatureHeader: r.signature }));
      const offered = events.flatMap((e) => {
        const action = 'next_action' in e.data ? e.data.next_action : null;
        return action?.type === 'redirect' ? [{ type: e.type, url: action.url }] : [];
      });
      assert.deepEqual(
        offered.map((o) => o.type),
        ['connection.action_required', 'connection.action_required', 'connection.renewal_due'],
        'the first authorization, then the renewal (action and renewal_due)',
      );
      for (const { type, url } of offered) {
        assert.ok(url.startsWith(`${lf.api}/connect/links/${active.id}.`), `${type}: ${url}`);
      }
      const powensHost = new URL(renewalUrl).host;
      assert.ok(received.every((r) => !r.body.includes(powensHost)), 'no provider URL in any event');
      // The renewal's link, from the event, opens the renewal's webview.
      assert.equal(new URL(await lf.openLink(offered.at(-1)?.url)).pathname, '/reconnect');
    } finally {
      receiver.close();
    }
  });
});
