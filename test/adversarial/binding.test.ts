// Trust rule "Nothing from a browser chooses data", attacked through the real API with two
// tenants: the dev server, the real worker, the four sandboxes over HTTP, PGlite. Tenant B edits
// the provider id in its own callback (or a webhook names the wrong connection); every attempt is
// refused, B's store holds none of A's rows, and A's provider connection still works.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createTenantStore } from '../../store';
import { connectAtFlinks } from '../../sandbox/flinks/end-user';
import { authorizeAtXero } from '../../sandbox/lnkfi/browser';
import { SANDBOX_VENDOR_ID } from '../../sandbox/lnkfi/server';
import { signWebhook } from '../../sandbox/lnkfi/webhooks';
import type { ConnectionView } from '../../contract/messages';
import { LNKFI_WEBHOOK_SECRET, type Linkflow, startLinkflow } from '../helpers/linkflow';
import { openHistory } from '../helpers/temporal';
import { approveAtBank, issueToken } from '../helpers/oxlin';
import { approveInWebview } from '../helpers/powens';

const REDIRECT_URL = 'https://client.example/linked';
/** Long enough for a signal the API let through to move the workflow (it moves in milliseconds). */
const SETTLE_MS = 1_500;

describe('adversarial: provider ids from a browser or a webhook are bound to the authorization', () => {
  let lf: Linkflow;
  let asB: Record<string, string>;

  before(async () => {
    lf = await startLinkflow();
    const tenants = createTenantStore(lf.db);
    const b = await tenants.createTenant('tenant B');
    asB = { authorization: `Bearer ${(await tenants.issueKey(b.id)).key}` };
  });
  after(async () => {
    await lf?.stop();
  });

  const callB = (method: string, path: string, body?: unknown) => lf.call(method, path, body, asB);

  async function create(provider: string, institution: string, headers: Record<string, string> = {}): Promise<ConnectionView> {
    const created = await lf.call('POST', '/v1/connections', { provider, institution_id: institution, redirect_url: REDIRECT_URL }, headers);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return created.body as ConnectionView;
  }

  /** Where the view's Linkflow link sends the browser: the provider's URL, minted now. */
  const redirectUrl = (view: ConnectionView): Promise<string> => lf.openLink(view.next_action?.type === 'redirect' ? view.next_action.url : assert.fail('no redirect'));

  async function providerIdOf(connectionId: string): Promise<string> {
    const [row] = await lf.db.query<{ provider_connection_id: string }>('SELECT provider_connection_id FROM provider_connections WHERE connection_id = $1', [
      connectionId,
    ]);
    assert.ok(row, `connection ${connectionId} is linked`);
    return row.provider_connection_id;
  }

  async function storedRows(connectionId: string): Promise<number> {
    const [row] = await lf.db.query<{ n: number }>(
      'SELECT (SELECT count(*) FROM accounts WHERE connection_id = $1) + (SELECT count(*) FROM transactions WHERE connection_id = $1) AS n',
      [connectionId],
    );
    return Number(row?.n);
  }

  /** The tampered callback is a JSON 4xx naming why; afterwards B has moved nowhere and holds nothing. */
  async function assertRefused(callback: URL, b: ConnectionView, status: number, code: string): Promise<void> {
    const response = await fetch(callback, { redirect: 'manual' });
    const text = await response.text();
    assert.equal(response.status, status, text);
    assert.equal((JSON.parse(text) as { error: { code: string } }).error.code, code);
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const after = (await callB('GET', `/v1/connections/${b.id}`)).body as ConnectionView;
    assert.equal(after.state, b.state, `B stays ${b.state} (${after.reason})`);
    assert.deepEqual(after.accounts, []);
    assert.equal(await storedRows(b.id), 0, "B's store holds none of A's rows");
  }

  /** A's provider connection still works: a sync asked now reads it again and A stays active. */
  async function assertStillWorks(a: ConnectionView): Promise<void> {
    const before = a.last_sync?.synced_at;
    assert.equal((await lf.call('POST', `/v1/connections/${a.id}/sync`, {})).status, 202);
    const synced = await lf.until(a.id, (v) => v.state === 'active' && v.last_sync?.synced_at !== before);
    assert.equal(synced.reason, null);
    assert.ok((await storedRows(a.id)) > 0);
  }

  /** B's genuine callback still goes through after the tampered one, and reads only B's own data. */
  async function genuineStillWorks(callback: URL, b: ConnectionView, aAccounts: string[]): Promise<void> {
    const response = await fetch(callback, { redirect: 'manual' });
    assert.equal(response.status, 303, await response.text());
    const consenting = await lf.until(b.id, (v) => v.state === 'awaiting_consent', asB);
    const ids = consenting.next_action?.type === 'consent' ? consenting.next_action.accounts.map((x) => x.id) : [];
    assert.ok(ids.length > 0);
    assert.ok(ids.every((id) => !aAccounts.includes(id)), 'B is offered only its own accounts');
  }

  /** Oxlin's callback as the bank would send it for Oxlin-created connections: `status`, `connection_id`, `queue_id`. */
  function oxlinNaming(genuine: URL, connectionId: string): URL {
    const forged = new URL(genuine.pathname, genuine);
    forged.search = new URLSearchParams({ state: genuine.searchParams.get('state') ?? '', status: 'SUCCESS', connection_id: connectionId, queue_id: 'q-forged' }).toString();
    return forged;
  }

  it("Oxlin: the bank sends back a code, never a connection; A's connection_id instead of B's code is refused, next to it ignored", async () => {
    const a = await lf.activeRedirectConnection('alice');
    const aOxlin = await providerIdOf(a.id);
    const b = await create('oxlin', '87', asB);
    const genuine = await approveAtBank(await redirectUrl(b), 'approve', 'bob');
    assert.ok(genuine.searchParams.get('code'), 'Linkflow creates the Oxlin connection from a code');
    assert.equal(genuine.searchParams.get('connection_id'), null, 'the browser never carries one');
    await assertRefused(oxlinNaming(genuine, aOxlin), b, 403, 'provider_connection_refused');
    // Named next to the code, A's id is ignored: B's connection comes from exchanging B's code.
    const added = new URL(genuine);
    added.searchParams.set('connection_id', aOxlin);
    added.searchParams.set('queue_id', 'q-forged');
    await genuineStillWorks(added, b, a.accounts.map((x) => x.id));
    assert.notEqual(await providerIdOf(b.id), aOxlin);
    const history = await historyText(`connection-${b.id}`);
    assert.ok(history.includes('sealedAuthorizationCode'), 'the redirect signal is in the decoded history');
    assert.ok(!history.includes(genuine.searchParams.get('code') ?? '-'), 'the code reaches history sealed only');
    // B's DELETE deletes B's own provider connection only.
    assert.equal((await callB('DELETE', `/v1/connections/${b.id}`)).status, 202);
    await lf.until(b.id, (v) => v.state === 'disconnected', asB);
    await assertStillWorks(a);
  });

  it('Oxlin: a provider connection no Linkflow connection holds, named instead of the code, is refused: nothing is read', async () => {
    // A connection made at Oxlin outside Linkflow (the same client, a code redeemed directly): unlinked.
    const token = await issueToken(lf.sandbox);
    const oxlin = (path: string, body: unknown) =>
      fetch(`${lf.sandbox.url}/v2.1${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const callback = 'https://elsewhere.example/cb';
    const authorize = await oxlin('/providers/87/channels/8701/authorize_url', { redirect_uri: callback, use_client_redirect: true });
    const code = (await approveAtBank(authorize.headers.get('location') ?? '', 'approve', 'carol')).searchParams.get('code') ?? '';
    const made = await oxlin('/connections', { provider_id: '87', channel_definition_id: '8701', redirect_uri: callback, credentials: [{ type: 'AUTHORIZATION_CODE', value: code }] });
    assert.equal(made.status, 201, await made.clone().text());
    const unlinked = (made.headers.get('location') ?? '').split('/').pop() ?? '';

    const b = await create('oxlin', '87', asB);
    const genuine = await approveAtBank(await redirectUrl(b), 'approve', 'bob');
    // No link says otherwise, so the API lets it through; the workflow, which asked for a code, refuses it.
    const response = await fetch(oxlinNaming(genuine, unlinked), { redirect: 'manual' });
    assert.equal(response.status, 303, await response.text());
    const failed = await lf.until(b.id, (v) => v.state === 'failed', asB);
    assert.equal(failed.reason, 'PROVIDER_CONNECTION_REFUSED');
    assert.deepEqual(failed.accounts, []);
    assert.equal(await storedRows(b.id), 0);
    assert.deepEqual(await lf.db.query('SELECT connection_id FROM provider_connections WHERE provider_connection_id = $1', [unlinked]), []);
  });

  it("Flinks: B's callback naming A's loginId is refused", async () => {
    const aCreated = await create('flinks', 'FlinksCapital');
    assert.equal((await fetch(await connectAtFlinks(await redirectUrl(aCreated), { username: `a_${randomUUID().slice(0, 8)}` }), { redirect: 'manual' })).status, 303);
    const a = await lf.consentAll(await lf.until(aCreated.id, (v) => v.state === 'awaiting_consent'));
    const aLogin = await providerIdOf(a.id);
    const b = await create('flinks', 'FlinksCapital', asB);
    const genuine = await connectAtFlinks(await redirectUrl(b), { username: `b_${randomUUID().slice(0, 8)}` });
    const tampered = new URL(genuine);
    tampered.searchParams.set('loginId', aLogin);
    await assertRefused(tampered, b, 403, 'provider_connection_refused');
    await genuineStillWorks(genuine, b, a.accounts.map((x) => x.id));
    await assertStillWorks(a);
  });

  it('Flinks: a login whose connection was deleted (DELETE) can be connected again; while it is held, it cannot', async () => {
    const username = `again_${randomUUID().slice(0, 8)}`;
    const firstCreated = await create('flinks', 'FlinksCapital');
    assert.equal((await fetch(await connectAtFlinks(await redirectUrl(firstCreated), { username }), { redirect: 'manual' })).status, 303);
    const first = await lf.consentAll(await lf.until(firstCreated.id, (v) => v.state === 'awaiting_consent'));
    // Held by the first connection: the same login through another connection is refused.
    const held = await create('flinks', 'FlinksCapital');
    assert.equal((await fetch(await connectAtFlinks(await redirectUrl(held), { username }), { redirect: 'manual' })).status, 403);
    assert.equal((await lf.call('DELETE', `/v1/connections/${first.id}`)).status, 202);
    await lf.until(first.id, (v) => v.state === 'disconnected');
    const again = await create('flinks', 'FlinksCapital');
    assert.equal((await fetch(await connectAtFlinks(await redirectUrl(again), { username }), { redirect: 'manual' })).status, 303);
    const reconnected = await lf.until(again.id, (v) => v.state === 'awaiting_consent');
    assert.deepEqual(reconnected.next_action?.type, 'consent');
  });

  it("Powens: B's webview callback naming A's connection_id is refused", async () => {
    const aCreated = await create('powens', '61');
    assert.equal((await fetch(await approveInWebview(await redirectUrl(aCreated), 'alice'), { redirect: 'manual' })).status, 303);
    const a = await lf.consentAll(await lf.until(aCreated.id, (v) => v.state === 'awaiting_consent'));
    const aPowens = await providerIdOf(a.id);
    const b = await create('powens', '61', asB);
    const genuine = await approveInWebview(await redirectUrl(b), 'bob');
    const tampered = new URL(genuine);
    tampered.searchParams.set('connection_id', aPowens);
    await assertRefused(tampered, b, 403, 'provider_connection_refused');
    await genuineStillWorks(genuine, b, a.accounts.map((x) => x.id));
    await assertStillWorks(a);
  });

  describe('LnkFi', () => {
    async function activeLnkfi(): Promise<{ a: ConnectionView; lnkfiId: string }> {
      const created = await create('lnkfi', 'xero');
      assert.equal((await fetch(await authorizeAtXero(await redirectUrl(created), 'approve'), { redirect: 'manual' })).status, 303);
      const a = await lf.consentAll(await lf.until(created.id, (v) => v.state === 'awaiting_consent'));
      return { a, lnkfiId: await providerIdOf(a.id) };
    }

    const postLnkfi = (body: string) =>
      fetch(`${lf.api}/webhooks/lnkfi`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-lnkfi-webhook-id': `owh_${randomUUID()}`,
          'x-lnkfi-webhook-vendor-id': SANDBOX_VENDOR_ID,
          'x-lnkfi-webhook-signature': signWebhook(body, LNKFI_WEBHOOK_SECRET),
        },
        body,
      });

    const completed = (connectionId: string, lnkfiId: string, apiKey: string) =>
      JSON.stringify({
        type: 'connection_completed',
        system: 'xero',
        api_key: apiKey,
        instances: [{ id: randomUUID(), display: 'Acme' }],
        vendor_id: SANDBOX_VENDOR_ID,
        vendor_external_id: connectionId,
        connection_id: lnkfiId,
      });

    it("B's callback that names A's LnkFi connection is refused (LnkFi's redirect never names one)", async () => {
      const { a, lnkfiId } = await activeLnkfi();
      const b = await create('lnkfi', 'xero', asB);
      const genuine = await authorizeAtXero(await redirectUrl(b), 'approve', 'bob@example.com');
      const tampered = new URL(genuine);
      tampered.searchParams.set('connection_id', lnkfiId);
      const response = await fetch(tampered, { redirect: 'manual' });
      const text = await response.text();
      assert.equal(response.status, 400, text);
      assert.equal((JSON.parse(text) as { error: { code: string } }).error.code, 'invalid_callback');
      // B's own approval at Xero goes on through LnkFi's signed webhook: B gets its own LnkFi connection, never A's.
      await lf.until(b.id, (v) => v.state === 'awaiting_consent', asB);
      const bLnkfi = await providerIdOf(b.id);
      assert.notEqual(bLnkfi, lnkfiId);
      assert.equal(await storedRows(b.id), 0);
      assert.equal((await fetch(genuine, { redirect: 'manual' })).status, 303, 'the genuine callback still goes on');
      await assertStillWorks(a);
    });

    it("a signed connection_completed naming A's LnkFi connection for B's connection changes nothing, A's API key included", async () => {
      const { a, lnkfiId } = await activeLnkfi();
      const aKey = await lf.providerSecrets.get('lnkfi', `connection:${lnkfiId}:api_key`);
      const b = await create('lnkfi', 'xero', asB);
      const answer = await postLnkfi(completed(b.id, lnkfiId, `lnk_${randomUUID().replaceAll('-', '')}`));
      assert.equal(answer.status, 200);
      assert.deepEqual(await answer.json(), { status: 'ignored' });
      await new Promise((r) => setTimeout(r, SETTLE_MS));
      const bAfter = (await callB('GET', `/v1/connections/${b.id}`)).body as ConnectionView;
      assert.equal(bAfter.state, 'awaiting_redirect');
      assert.equal(await storedRows(b.id), 0);
      assert.equal(await lf.providerSecrets.get('lnkfi', `connection:${lnkfiId}:api_key`), aKey, "A's API key was not replaced");
      await assertStillWorks(a);
    });

    it('a signed LnkFi webhook naming an Oxlin connection changes nothing', async () => {
      const a = await lf.activeRedirectConnection('carol');
      const answer = await postLnkfi(
        JSON.stringify({ type: 'connection_disconnected', system: 'xero', vendor_id: SANDBOX_VENDOR_ID, vendor_external_id: a.id, connection_id: randomUUID(), reason: 'revoked' }),
      );
      assert.equal(answer.status, 200);
      assert.deepEqual(await answer.json(), { status: 'ignored' });
      const signalled = await lf.until(a.id, () => true);
      assert.equal(signalled.state, 'active');
      // Also when it reaches the workflow (a signal from before the API checked): dropped there too.
      await lf.env.client.workflow.getHandle(`connection-${a.id}`).signal('providerEvent', {
        eventId: `lnkfi:${randomUUID()}`,
        kind: 'failure',
        status: 'AUTH_FAILED',
        channelId: 'xero',
        providerConnectionId: randomUUID(),
      });
      await new Promise((r) => setTimeout(r, SETTLE_MS));
      const after = (await lf.call('GET', `/v1/connections/${a.id}`)).body as ConnectionView;
      assert.equal(after.state, 'active', `${after.state} (${after.reason})`);
      await assertStillWorks(after);
    });
  });

  it('an id already linked to another connection is refused by the workflow too (the API check bypassed)', async () => {
    const a = await lf.activeRedirectConnection('dave');
    const aOxlin = await providerIdOf(a.id);
    const b = await create('oxlin', '87', asB);
    // The redirect as the API would signal it had it not checked: B's own nonce (from B's history), A's id.
    const handle = lf.env.client.workflow.getHandle(`connection-${b.id}`);
    const nonce = await nonceOf(handle);
    await handle.signal('redirectReceived', { nonce, outcome: 'success', providerConnectionId: aOxlin, providerRef: { queueId: 'forged' } });
    const ended = await lf.until(b.id, (v) => !['awaiting_redirect', 'authorizing'].includes(v.state), asB);
    assert.equal(ended.state, 'failed');
    assert.equal(ended.reason, 'PROVIDER_CONNECTION_REFUSED');
    assert.deepEqual(ended.accounts, []);
    assert.equal(await storedRows(b.id), 0);
    // B's DELETE cannot reach A's provider connection: B never held it.
    assert.equal((await callB('DELETE', `/v1/connections/${b.id}`)).status, 409);
    await assertStillWorks(a);
  });

  it('a renewal redirect naming another provider connection than the one held is refused', async () => {
    const other = await lf.activeRedirectConnection('erin');
    const otherOxlin = await providerIdOf(other.id);
    const a = await lf.activeRedirectConnection('frank');
    const renewing = await lf.call('POST', `/v1/connections/${a.id}/renewal`);
    assert.equal(renewing.status, 200, JSON.stringify(renewing.body));
    assert.equal(renewing.body.state, 'renewal_required');
    const genuine = await approveAtBank(await lf.openLink(renewing.body.next_action.url), 'approve', 'frank');
    const tampered = new URL(genuine);
    tampered.searchParams.set('connection_id', otherOxlin);
    const response = await fetch(tampered, { redirect: 'manual' });
    assert.equal(response.status, 403, await response.text());
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    assert.equal(((await lf.call('GET', `/v1/connections/${a.id}`)).body as ConnectionView).state, 'renewal_required');
    // The genuine renewal redirect still renews.
    assert.equal((await fetch(genuine, { redirect: 'manual' })).status, 303);
    const renewed = await lf.until(a.id, (v) => v.state === 'active' && v.last_sync?.synced_at !== a.last_sync?.synced_at);
    assert.equal(await providerIdOf(a.id), await providerIdOf(a.id));
    assert.ok(renewed.accounts.every((x) => a.accounts.some((y) => y.id === x.id)), "A still reads its own accounts, not the other connection's");
  });

  /** Every payload of a workflow's history, decoded to text. */
  async function historyText(workflowId: string): Promise<string> {
    const history = await openHistory(await lf.env.client.workflow.getHandle(workflowId).fetchHistory(), lf.dataConverter);
    const texts: string[] = [];
    const visit = (value: unknown): void => {
      if (ArrayBuffer.isView(value)) texts.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8'));
      else if (Array.isArray(value)) value.forEach(visit);
      else if (typeof value === 'object' && value !== null) Object.values(value).forEach(visit);
    };
    visit(history.events);
    return texts.join('\n');
  }

  /** The nonce of the redirect a connection waits for, from the signed state in its history (what only the API sees). */
  async function nonceOf(handle: ReturnType<typeof lf.env.client.workflow.getHandle>): Promise<string> {
    const nonce = /"nonce":"([A-Za-z0-9_-]{10,})"/.exec(await historyText(handle.workflowId))?.[1];
    return nonce ?? assert.fail('no nonce in the history');
  }
});
