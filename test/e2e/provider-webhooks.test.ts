// Provider webhooks into Linkflow: the Oxlin sandbox sends its events signed, Linkflow verifies
// the raw body, de-duplicates by event id and tells the connection's workflow.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { workflowIdFor } from '../../workflows/messages';
import type { ConnectionView } from '../../workflows/messages';
import { type Linkflow, OXLIN_WEBHOOK_SECRET, startLinkflow } from '../helpers/linkflow';

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
  /** The provider events signalled to the connection, by event id (the sandbox reports our own syncs too). */
  const providerSignals = async (connectionId: string): Promise<string[]> => {
    const history = await lf.env.client.workflow.getHandle(workflowIdFor(connectionId)).fetchHistory();
    return (history.events ?? [])
      .filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'providerEvent')
      .map((e) => JSON.stringify(e.workflowExecutionSignaledEventAttributes?.input?.payloads?.[0]?.data?.toString()));
  };

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
});
