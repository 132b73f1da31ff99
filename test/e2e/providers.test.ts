// Flinks, Powens and LnkFi end to end through the public API, on the dev server, with their
// sandboxes over HTTP: the same routes as Oxlin, only `provider` changes.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { encryptCredentials } from '../../api/clients/credentials';
import { OTP_CODE, TEST_PASSWORD } from '../../sandbox/powens/scenarios';
import { connectAtFlinks } from '../../sandbox/flinks/end-user';
import { authorizeAtXero } from '../../sandbox/lnkfi/browser';
import type { ConnectionView } from '../../contract/messages';
import { type Linkflow, startLinkflow } from '../helpers/linkflow';
import { openHistory } from '../helpers/temporal';
import { approveInWebview } from '../helpers/powens';

const REDIRECT_URL = 'https://client.example/linked';

describe('every provider through the same API', () => {
  let lf: Linkflow;

  before(async () => {
    lf = await startLinkflow({ flinks: { pendingMs: 300 } });
  });
  after(async () => {
    await lf?.stop();
  });

  /** Starts a connection and checks the API's first answer. */
  async function create(body: Record<string, unknown>): Promise<ConnectionView> {
    const created = await lf.call('POST', '/v1/connections', { redirect_url: REDIRECT_URL, ...body });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return created.body as ConnectionView;
  }

  /** The browser comes back to Linkflow's callback, which sends it on to the client. */
  async function backToLinkflow(callback: URL, outcome: string): Promise<void> {
    assert.equal(callback.origin + callback.pathname, `${lf.api}/callbacks/${callback.pathname.split('/').pop()}`);
    const response = await fetch(callback, { redirect: 'manual' });
    assert.equal(response.status, 303, await response.text());
    const next = new URL(response.headers.get('location') ?? '');
    assert.equal(next.origin + next.pathname, REDIRECT_URL);
    assert.equal(next.searchParams.get('outcome'), outcome);
  }

  async function transactionsOf(id: string): Promise<unknown[]> {
    const page = await lf.call('GET', `/v1/connections/${id}/transactions?limit=500`);
    assert.equal(page.status, 200);
    return page.body.data as unknown[];
  }

  it('a client asks for a mode the provider does not have: 422 naming the modes it has', async () => {
    for (const provider of ['flinks', 'lnkfi']) {
      const created = await lf.call('POST', '/v1/connections', { provider, institution_id: 'x', redirect_url: REDIRECT_URL, mode: 'embedded' });
      assert.equal(created.status, 422);
      assert.equal(created.body.error.code, 'unsupported_mode');
      assert.deepEqual(created.body.error.details, { supported_modes: ['redirect'] });
    }
  });

  describe('Flinks', () => {
    it('Connect, redirect with loginId, cached /Authorize and /GetAccountsDetail, consent, data', async () => {
      const connection = await create({ provider: 'flinks', institution_id: 'FlinksCapital' });
      assert.equal(connection.state, 'awaiting_redirect');
      assert.equal(connection.next_action?.type, 'redirect');
      const url = await lf.openLink(connection.next_action?.type === 'redirect' ? connection.next_action.url : undefined);
      const callback = await connectAtFlinks(url);
      assert.ok(callback.searchParams.get('loginId'), 'Flinks adds the LoginId');
      assert.equal(callback.searchParams.get('institution'), 'FlinksCapital');
      await backToLinkflow(callback, 'success');

      const active = await lf.consentAll(await lf.until(connection.id, (v) => v.state === 'awaiting_consent'));
      assert.equal(active.accounts.length, 3);
      assert.ok((active.last_sync?.transactions_added ?? 0) > 0);
      assert.equal((await transactionsOf(connection.id)).length, active.last_sync?.transactions_added);

      const deleted = await lf.call('DELETE', `/v1/connections/${connection.id}`);
      assert.equal(deleted.status, 202);
      assert.equal((await lf.until(connection.id, (v) => v.state === 'disconnected')).reason, 'DISCONNECTED');
    });

    it('OPERATION_PENDING: the signed data webhook wakes the waiting connection, which then reads the data', async () => {
      const connection = await create({ provider: 'flinks', institution_id: 'FlinksCapital' });
      const url = await lf.openLink(connection.next_action?.type === 'redirect' ? connection.next_action.url : undefined);
      await backToLinkflow(await connectAtFlinks(url, { username: 'test_pending' }), 'success');
      const consenting = await lf.until(connection.id, (v) => v.state === 'awaiting_consent');
      const active = await lf.consentAll(consenting);
      assert.ok((active.last_sync?.transactions_added ?? 0) > 0);
      // The sandbox's signed webhook reached POST /webhooks/flinks and woke the wait, cutting the retry backoff short.
      const events = (await lf.env.client.workflow.getHandle(`connection-${connection.id}`).fetchHistory()).events ?? [];
      assert.ok(events.some((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'providerEvent'));
      assert.ok(events.some((e) => e.activityTaskCancelRequestedEventAttributes), 'the pending wait was cancelled by the webhook');
    });
  });

  describe('Powens', () => {
    async function credentials(values: Record<string, string>) {
      const key = await lf.call('GET', '/v1/keys/credentials');
      return { credentials: await encryptCredentials(key.body.public_key, values) };
    }

    it('credentials: fields with regexp and required, wrongpass asked again, an SMS code, accounts activated by consent', async () => {
      const connection = await create({ provider: 'powens', institution_id: '59', mode: 'embedded' });
      assert.equal(connection.state, 'awaiting_credentials');
      const fields = connection.next_action?.type === 'credentials' ? connection.next_action.fields : [];
      assert.deepEqual(
        fields.map((f) => [f.id, f.required ?? true, f.encrypt]),
        [['login', true, true], ['password', true, true], ['website', false, true]],
      );
      const path = `/v1/connections/${connection.id}/credentials`;
      const missing = await lf.call('POST', path, await credentials({ login: 'user_otp' }));
      assert.equal(missing.status, 422);
      assert.deepEqual(missing.body.error.details.fields.map((f: { id: string }) => f.id), ['password']);

      const wrong = await lf.call('POST', path, await credentials({ login: 'user_otp', password: 'not-the-password' }));
      assert.equal(wrong.status, 422, JSON.stringify(wrong.body));
      assert.equal((await lf.call('GET', `/v1/connections/${connection.id}`)).body.state, 'awaiting_credentials');

      assert.equal((await lf.call('POST', path, await credentials({ login: 'user_otp', password: TEST_PASSWORD }))).status, 200);
      const challenged = await lf.until(connection.id, (v) => v.state === 'challenge_required');
      const otp = challenged.next_action?.type === 'challenge' ? challenged.next_action.fields[0] : undefined;
      assert.ok(otp);
      const answered = await lf.call('POST', `/v1/connections/${connection.id}/challenge`, { answers: [{ id: otp.id, value: OTP_CODE }] });
      assert.equal(answered.status, 200, JSON.stringify(answered.body));

      const active = await lf.consentAll(await lf.until(connection.id, (v) => v.state === 'awaiting_consent'));
      assert.ok(active.accounts.length > 0);
      assert.ok((await transactionsOf(connection.id)).length > 0);
    });

    it('webauth, then more account types: the next sources in priority order, disabled ones skipped, until none is left', async () => {
      const connection = await create({ provider: 'powens', institution_id: '61' });
      const url = await lf.openLink(connection.next_action?.type === 'redirect' ? connection.next_action.url : undefined);
      await backToLinkflow(await approveInWebview(url, 'alice'), 'success');
      const first = await lf.consentAll(await lf.until(connection.id, (v) => v.state === 'awaiting_consent'));
      assert.deepEqual(first.channels.map((c) => [c.id, c.mode]), [['openapi', 'redirect']]);

      // The next usable source is `directaccess` (credentials): `legacy` is disabled.
      const added = await lf.call('POST', `/v1/connections/${connection.id}/channels`, { mode: 'embedded' });
      assert.equal(added.status, 200, JSON.stringify(added.body));
      assert.equal(added.body.state, 'awaiting_credentials');
      assert.equal(added.body.next_action.channel_id, 'directaccess');
      assert.deepEqual(added.body.next_action.fields.map((f: { id: string }) => f.id), ['login', 'password']);
      const sent = await lf.call('POST', `/v1/connections/${connection.id}/credentials`, await credentials({ login: 'alice', password: TEST_PASSWORD }));
      assert.equal(sent.status, 200, JSON.stringify(sent.body));
      const second = await lf.consentAll(await lf.until(connection.id, (v) => v.state === 'awaiting_consent'));
      assert.deepEqual(second.channels.map((c) => c.id).sort(), ['directaccess', 'openapi']);
      assert.ok(second.accounts.length > first.accounts.length);

      // login and password were given for directaccess: wealth asks only for what it adds.
      const third = await lf.call('POST', `/v1/connections/${connection.id}/channels`, { mode: 'embedded' });
      assert.equal(third.body.next_action.channel_id, 'wealth');
      assert.deepEqual(third.body.next_action.fields.map((f: { id: string }) => f.id), ['wealth_pin']);
      assert.equal((await lf.call('POST', `/v1/connections/${connection.id}/credentials`, await credentials({ wealth_pin: '1234' }))).status, 200);
      await lf.consentAll(await lf.until(connection.id, (v) => v.state === 'awaiting_consent'));

      const none = await lf.call('POST', `/v1/connections/${connection.id}/channels`, { mode: 'embedded' });
      assert.equal(none.status, 200);
      assert.equal(none.body.state, 'active');
      assert.equal(none.body.reason, 'NO_MORE_SOURCES');
    });
  });

  describe('LnkFi', () => {
    it('consent text in the next action, success redirect, signed connection_completed webhook, data by proxy', async () => {
      const connection = await create({ provider: 'lnkfi', institution_id: 'xero' });
      assert.equal(connection.next_action?.type, 'redirect');
      const action = connection.next_action?.type === 'redirect' ? connection.next_action : null;
      assert.match(action?.terms ?? '', /^I consent to Acme Lending and LnkFi using the data I have submitted here/);

      const callback = await authorizeAtXero(await lf.openLink(action?.url), 'approve');
      assert.equal(callback.searchParams.get('result'), 'success');
      await backToLinkflow(callback, 'success');
      const active = await lf.consentAll(await lf.until(connection.id, (v) => v.state === 'awaiting_consent'));
      assert.ok(active.accounts.length > 0);
      assert.ok((await transactionsOf(connection.id)).length > 0);

      // The API key the webhook carried is kept sealed: not in history, logs or the store in the clear.
      const lnkfiId = await lnkfiConnectionId(connection.id);
      const apiKey = await lf.providerSecrets.get('lnkfi', `connection:${lnkfiId}:api_key`);
      assert.ok(apiKey && apiKey.length >= 16, 'the webhook stored the API key');
      const history = JSON.stringify((await openHistory(await lf.env.client.workflow.getHandle(`connection-${connection.id}`).fetchHistory(), lf.dataConverter)).events);
      assert.ok(!history.includes(apiKey), 'the API key is not in the history');
      assert.ok(lf.logs.every((line) => !line.includes(apiKey)), 'the API key is not in the logs');
      const [stored] = await lf.db.query<{ sealed: string }>("SELECT sealed FROM provider_secrets WHERE provider = 'lnkfi' AND name = $1", [
        `connection:${lnkfiId}:api_key`,
      ]);
      assert.ok(stored && !stored.sealed.includes(apiKey));

      assert.equal((await lf.call('DELETE', `/v1/connections/${connection.id}`)).status, 202);
      assert.equal((await lf.until(connection.id, (v) => v.state === 'disconnected')).reason, 'DISCONNECTED');
    });

    it('canceled and error at the system are two different endings', async () => {
      const cancelled = await create({ provider: 'lnkfi', institution_id: 'xero' });
      const cancelUrl = await lf.openLink(cancelled.next_action?.type === 'redirect' ? cancelled.next_action.url : undefined);
      await backToLinkflow(await authorizeAtXero(cancelUrl, 'cancel'), 'denied');
      assert.equal((await lf.until(cancelled.id, (v) => v.state === 'cancelled')).reason, 'ACCESS_DENIED');

      const failed = await create({ provider: 'lnkfi', institution_id: 'xero' });
      const errorUrl = await lf.openLink(failed.next_action?.type === 'redirect' ? failed.next_action.url : undefined);
      await backToLinkflow(await authorizeAtXero(errorUrl, 'error'), 'failed');
      assert.equal((await lf.until(failed.id, (v) => v.state === 'failed')).reason, 'PROVIDER_ERROR');
    });
  });

  /** LnkFi's connection id for a Linkflow connection, from the provider links Linkflow keeps. */
  async function lnkfiConnectionId(connectionId: string): Promise<string> {
    const [row] = await lf.db.query<{ provider_connection_id: string }>(
      "SELECT provider_connection_id FROM provider_connections WHERE provider = 'lnkfi' AND connection_id = $1",
      [connectionId],
    );
    assert.ok(row, 'the LnkFi connection is linked');
    return row.provider_connection_id;
  }
});
