// Provider webhooks into Linkflow: the sandboxes send their events signed, Linkflow verifies
// the raw body, claims the event by an id its signature covers and tells the connection's workflow once.
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { connectAtFlinks } from '../../sandbox/flinks/end-user';
import { authenticityKey } from '../../sandbox/flinks/webhook';
import { authorizeAtXero } from '../../sandbox/lnkfi/browser';
import { SANDBOX_VENDOR_ID } from '../../sandbox/lnkfi/server';
import { signWebhook } from '../../sandbox/lnkfi/webhooks';
import { workflowIdFor } from '../../contract/messages';
import type { ConnectionView } from '../../contract/messages';
import { approveAtBank } from '../helpers/oxlin';
import { FLINKS_WEBHOOK_SECRET, LNKFI_WEBHOOK_SECRET, type Linkflow, OXLIN_WEBHOOK_SECRET, startLinkflow } from '../helpers/linkflow';
import { openHistory } from '../helpers/temporal';

describe('provider webhooks', () => {
  let lf: Linkflow;
  before(async () => {
    lf = await startLinkflow();
  });
  after(async () => {
    await lf?.stop();
  });

  async function activeConnection(): Promise<{ view: ConnectionView; providerId: string }> {
    const view = await lf.activeRedirectConnection();
    const [link] = await lf.db.query<{ provider_connection_id: string }>(
      'SELECT provider_connection_id FROM provider_connections WHERE connection_id = $1',
      [view.id],
    );
    assert.ok(link, 'the workflow recorded which Oxlin connection is its own');
    return { view, providerId: link.provider_connection_id };
  }

  const signed = (body: string) => `sha256=${createHmac('sha256', OXLIN_WEBHOOK_SECRET).update(body).digest('hex')}`;
  const post = (body: string, signature: string | null) =>
    fetch(`${lf.api}/webhooks/oxlin`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(signature ? { 'x-oxlin-signature': signature } : {}) },
      body,
    });
  const event = (id: string, providerId: string, type: string, status = 'SUCCESS') =>
    JSON.stringify({
      id,
      event_type: type,
      resource_type: 'CONNECTION',
      channel_definition_id: '8701',
      creation_date: Math.floor(Date.now() / 1000),
      resource: {
        id: providerId,
        provider_id: '87',
        status: 'SUCCESS',
        channels: [{ channel_definition_id: '8701', mode: 'REDIRECT', status, account_types: ['CHECKINGS'], credentials: [] }],
      },
    });
  /** The signals of one name the connection's workflow received, as their payloads' JSON (the sandbox reports our own syncs too). */
  /**
   * The signals of `name` in the connection's history, once the server has written them all: a
   * signal that arrives while a workflow task is in flight is buffered, and enters the history only
   * when that task completes, so a count taken right after the webhook's answer can be one short.
   */
  const signals = async (connectionId: string, name: string): Promise<string[]> => {
    const handle = lf.env.client.workflow.getHandle(workflowIdFor(connectionId));
    for (let i = 0; i < 250; i++) {
      const { raw, status } = await handle.describe();
      if (status.name !== 'RUNNING' || !raw.pendingWorkflowTask) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const history = await openHistory(await handle.fetchHistory(), lf.dataConverter);
    return (history.events ?? [])
      .filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === name)
      .map((e) => JSON.stringify(e.workflowExecutionSignaledEventAttributes?.input?.payloads?.[0]?.data?.toString()));
  };
  const providerSignals = (connectionId: string) => signals(connectionId, 'providerEvent');
  /** What Linkflow answered each of several deliveries sent at the same instant, in order. */
  const statusesOf = async (responses: Response[]): Promise<string[]> =>
    (await Promise.all(responses.map(async (r) => ((await r.json()) as { status: string }).status))).sort();
  const ONCE = ['accepted', 'duplicate', 'duplicate'];

  it('imports the data of a sync Oxlin ran on its own, told by its signed webhook', async () => {
    const { view, providerId } = await activeConnection();
    const before = (await providerSignals(view.id)).length;
    // Oxlin's own syncs come hours later; events within the second Linkflow last looked count as seen.
    await new Promise((r) => setTimeout(r, 1_100));
    const control = await fetch(`${lf.sandbox.url}/sandbox/connections/${providerId}/auto-sync`, { method: 'POST' });
    assert.equal(control.status, 202);
    const synced = await lf.until(view.id, (v) => v.state === 'active' && v.last_sync?.synced_at !== view.last_sync?.synced_at);
    assert.ok(synced.last_sync);
    assert.equal((await providerSignals(view.id)).length, before + 1, 'SYNC_ALL_SUCCESS became one providerEvent; STARTED was not acted on');
  });

  it('rejects a forged or unsigned webhook with 401 and changes nothing', async () => {
    const { view, providerId } = await activeConnection();
    const body = event('forged-1', providerId, 'SYNC_ALL_FAILED', 'AUTH_FAILED');
    for (const signature of [null, 'sha256=' + '0'.repeat(64), signed(body + ' '), 'sha1=abc', signed(body).toUpperCase()]) {
      const response = await post(body, signature);
      assert.equal(response.status, 401, String(signature));
      assert.deepEqual(await response.json(), { error: { code: 'invalid_signature', message: 'The webhook signature does not verify.' } });
    }
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await lf.call('GET', `/v1/connections/${view.id}`)).body.state, 'active');
    assert.ok(!(await providerSignals(view.id)).some((s) => s.includes('forged-1')));
    assert.equal((await lf.db.query("SELECT 1 FROM provider_webhook_events WHERE event_id = 'forged-1'")).length, 0);
  });

  it('applies a redelivered webhook once, and acts on a channel failure it reports', async () => {
    const { view, providerId } = await activeConnection();
    const id = `dup-${view.id}`;
    await new Promise((r) => setTimeout(r, 1_100)); // a failure the provider reports after Linkflow last looked
    const body = event(id, providerId, 'SYNC_ALL_FAILED', 'AUTH_FAILED');
    const first = await post(body, signed(body));
    assert.equal(first.status, 200);
    assert.deepEqual(await first.json(), { status: 'accepted' });
    const again = await post(body, signed(body));
    assert.deepEqual(await again.json(), { status: 'duplicate' });
    const invalid = await lf.until(view.id, (v) => v.state === 'credentials_invalid');
    assert.equal(invalid.reason, 'AUTH_FAILED');
    assert.equal((await providerSignals(view.id)).filter((s) => s.includes(id)).length, 1);
  });

  it('answers 400 to a signed but malformed event, 404 to an unknown provider, and ignores strangers', async () => {
    const bad = '{"id": 1}';
    assert.equal((await post(bad, signed(bad))).status, 400);
    const notJson = 'not json';
    assert.equal((await post(notJson, signed(notJson))).status, 400);
    const unknown = await fetch(`${lf.api}/webhooks/nobody`, { method: 'POST', body: '{}' });
    assert.equal(unknown.status, 404);
    const stranger = event('stranger-1', '999999999', 'SYNC_ALL_SUCCESS');
    assert.deepEqual(await (await post(stranger, signed(stranger))).json(), { status: 'ignored' });
  });
  describe('the same event delivered three times at once is applied once', () => {
    it('Oxlin: one accepted, two duplicates, one providerEvent signal', async () => {
      const { view, providerId } = await activeConnection();
      const id = `burst-${view.id}`;
      const body = event(id, providerId, 'SYNC_ALL_SUCCESS');
      const responses = await Promise.all([1, 2, 3].map(() => post(body, signed(body))));
      assert.deepEqual(responses.map((r) => r.status), [200, 200, 200]);
      assert.deepEqual(await statusesOf(responses), ONCE);
      assert.equal((await providerSignals(view.id)).filter((s) => s.includes(id)).length, 1);
      assert.deepEqual(await (await post(body, signed(body))).json(), { status: 'duplicate' }, 'and later redeliveries too');
    });

    it('Flinks: one accepted, two duplicates, one providerEvent signal', async () => {
      const { view, loginId } = await activeFlinksConnection();
      const requestId = randomUUID();
      // The error shape a failed nightly refresh is reported with (sandbox/flinks/README.md: Webhooks).
      const body = JSON.stringify({
        HttpStatusCode: 401,
        FlinksCode: 'DISABLED_LOGIN',
        Message: 'The login is disabled.',
        RequestId: requestId,
        Login: { Id: loginId, Username: 'burst' },
        Institution: 'FlinksCapital',
      });
      const responses = await Promise.all(
        [1, 2, 3].map(() =>
          fetch(`${lf.api}/webhooks/flinks`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'flinks-authenticity-key': authenticityKey(FLINKS_WEBHOOK_SECRET, body) },
            body,
          }),
        ),
      );
      assert.deepEqual(responses.map((r) => r.status), [200, 200, 200]);
      assert.deepEqual(await statusesOf(responses), ONCE);
      assert.equal((await providerSignals(view.id)).filter((s) => s.includes(requestId)).length, 1);
      assert.equal((await lf.until(view.id, (v) => v.state === 'credentials_invalid')).reason, 'AUTH_FAILED');
    });

    it('LnkFi: one accepted, two duplicates, one providerEvent signal', async () => {
      const { view, lnkfiId } = await activeLnkfiConnection();
      const before = (await providerSignals(view.id)).length;
      const body = lnkfiDisconnected(view.id, lnkfiId);
      const webhookId = `owh_${randomUUID()}`;
      const responses = await Promise.all([1, 2, 3].map(() => postLnkfi(body, webhookId)));
      assert.deepEqual(responses.map((r) => r.status), [200, 200, 200]);
      assert.deepEqual(await statusesOf(responses), ONCE);
      assert.equal((await providerSignals(view.id)).length, before + 1);
    });
  });

  describe('LnkFi: the signed body, not the unsigned X-LnkFi-Webhook-Id, decides new or duplicate', () => {
    it('the same signed body under another X-LnkFi-Webhook-Id is a duplicate', async () => {
      const { view, lnkfiId } = await activeLnkfiConnection();
      const before = (await providerSignals(view.id)).length;
      const revoked = lnkfiDisconnected(view.id, lnkfiId);
      assert.deepEqual(await (await postLnkfi(revoked, `owh_${randomUUID()}`)).json(), { status: 'accepted' });
      // Anyone on the path can change a header the signature does not cover: it must not make a replay new.
      assert.deepEqual(await (await postLnkfi(revoked, `owh_${randomUUID()}`)).json(), { status: 'duplicate' });
      assert.equal((await providerSignals(view.id)).length, before + 1);
    });

    it('another signed body under an X-LnkFi-Webhook-Id already seen is applied, not swallowed', async () => {
      const { view, lnkfiId } = await activeLnkfiConnection();
      const before = (await providerSignals(view.id)).length;
      const webhookId = `owh_${randomUUID()}`;
      assert.deepEqual(await (await postLnkfi(lnkfiDisconnected(view.id, lnkfiId), webhookId)).json(), { status: 'accepted' });
      // A reauthorization LnkFi reports under an id it (or a proxy) used before is still a new event.
      const apiKey = `lnk_${randomUUID().replaceAll('-', '')}`;
      const completed = JSON.stringify({
        type: 'connection_completed',
        system: 'xero',
        api_key: apiKey,
        instances: [{ id: randomUUID(), display: 'Acme' }],
        vendor_id: SANDBOX_VENDOR_ID,
        vendor_external_id: view.id,
        connection_id: lnkfiId,
      });
      assert.deepEqual(await (await postLnkfi(completed, webhookId)).json(), { status: 'accepted' });
      assert.equal((await providerSignals(view.id)).length, before + 2);
      assert.equal(await lf.providerSecrets.get('lnkfi', `connection:${lnkfiId}:api_key`), apiKey, 'its API key was kept');
    });
  });

  describe('redirect callbacks', () => {
    it('the same callback three times at once: one goes on, two are refused, the workflow hears it once', async () => {
      const created = await lf.call('POST', '/v1/connections', { provider: 'oxlin', institution_id: '87', redirect_url: 'https://client.example/linked' });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const callback = await approveAtBank(await lf.openLink(created.body.next_action.url), 'approve', 'burst');
      const responses = await Promise.all([1, 2, 3].map(() => fetch(callback, { redirect: 'manual' })));
      const bodies = await Promise.all(responses.map(async (r) => ({ status: r.status, body: await r.text() })));
      assert.deepEqual(bodies.map((b) => b.status).sort(), [303, 409, 409], JSON.stringify(bodies));
      for (const refused of bodies.filter((b) => b.status === 409)) {
        assert.equal((JSON.parse(refused.body) as { error: { code: string } }).error.code, 'redirect_not_expected');
      }
      await lf.until(created.body.id, (v) => v.state === 'awaiting_consent');
      assert.equal((await signals(created.body.id, 'redirectReceived')).length, 1);
    });
  });

  /** A Flinks connection of the test tenant, through Flinks Connect, consented and active, with its LoginId. */
  async function activeFlinksConnection(): Promise<{ view: ConnectionView; loginId: string }> {
    const created = await lf.call('POST', '/v1/connections', { provider: 'flinks', institution_id: 'FlinksCapital', redirect_url: 'https://client.example/linked' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const callback = await connectAtFlinks(await lf.openLink(created.body.next_action.url), { username: `burst_${randomUUID().slice(0, 8)}` });
    assert.equal((await fetch(callback, { redirect: 'manual' })).status, 303);
    const view = await lf.consentAll(await lf.until(created.body.id, (v) => v.state === 'awaiting_consent'));
    return { view, loginId: await providerConnectionOf(view.id) };
  }

  /** A LnkFi connection of the test tenant, authorized at Xero, consented and active, with LnkFi's connection id. */
  async function activeLnkfiConnection(): Promise<{ view: ConnectionView; lnkfiId: string }> {
    const created = await lf.call('POST', '/v1/connections', { provider: 'lnkfi', institution_id: 'xero', redirect_url: 'https://client.example/linked' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const callback = await authorizeAtXero(await lf.openLink(created.body.next_action.url), 'approve');
    assert.equal((await fetch(callback, { redirect: 'manual' })).status, 303);
    const view = await lf.consentAll(await lf.until(created.body.id, (v) => v.state === 'awaiting_consent'));
    return { view, lnkfiId: await providerConnectionOf(view.id) };
  }

  async function providerConnectionOf(connectionId: string): Promise<string> {
    const [link] = await lf.db.query<{ provider_connection_id: string }>(
      'SELECT provider_connection_id FROM provider_connections WHERE connection_id = $1',
      [connectionId],
    );
    assert.ok(link, 'the workflow recorded which provider connection is its own');
    return link.provider_connection_id;
  }

  /** `connection_disconnected` as the LnkFi sandbox sends it when the end user revokes the app at Xero. */
  const lnkfiDisconnected = (connectionId: string, lnkfiId: string): string =>
    JSON.stringify({ type: 'connection_disconnected', system: 'xero', vendor_id: SANDBOX_VENDOR_ID, vendor_external_id: connectionId, connection_id: lnkfiId, reason: 'revoked' });

  const postLnkfi = (body: string, webhookId: string) =>
    fetch(`${lf.api}/webhooks/lnkfi`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'LnkFi/1.0.0',
        'x-lnkfi-webhook-id': webhookId,
        'x-lnkfi-webhook-vendor-id': SANDBOX_VENDOR_ID,
        'x-lnkfi-webhook-signature': signWebhook(body, LNKFI_WEBHOOK_SECRET),
      },
      body,
    });
});
