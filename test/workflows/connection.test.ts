// Time-skipping tests of the connection lifecycle with a scripted fake provider: every timer
// (redirect, consent, challenge, sync interval, renewal, expiry) is crossed without real waiting.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { connectionWorkflow } from '../../workflows';
import {
  type ConnectionInput,
  type ConnectionState,
  type ConnectionView,
  type ListedAccount,
  addChannelUpdate,
  answerChallengeUpdate,
  disconnectRequestedSignal,
  giveConsentUpdate,
  redirectReceivedSignal,
  requestRenewalUpdate,
  stateQuery,
  submitCredentialsUpdate,
  syncRequestedSignal,
} from '../../contract/messages';
import { LIFECYCLE, isDeclaredMove } from '../../contract/lifecycle';
import { ACCOUNTS, FakeProvider, OBSERVED_MOVES, SAVINGS, SMS_CHALLENGE, armored, connectionInput } from '../helpers/fake-provider';
import { runWorkerWhile, stopQuietly, timeSkippingEnv, uniqueTaskQueue } from '../helpers/temporal';

type Handle = WorkflowHandle<typeof connectionWorkflow>;

const redirectOk = (nonce: string) =>
  ({ nonce, outcome: 'success', providerConnectionId: 'ox-1', providerRef: { queueId: 'q-1' } }) as const;
const allConsent = (accounts = ACCOUNTS) => ({ consents: accounts.map((a) => ({ account_id: a.id, consent: true })) });
const credentials = (password = 'correct horse') => ({
  credentials: [
    { id: '3500', value: armored('alice') },
    { id: '3502', value: armored(password) },
  ],
});

describe('connectionWorkflow', () => {
  let env: TestWorkflowEnvironment;
  before(async () => {
    env = await timeSkippingEnv();
  });
  after(async () => {
    await env?.teardown();
  });

  /** Starts a workflow with a worker running the fake provider, and runs `fn` against it. */
  async function withConnection<T>(fake: FakeProvider, overrides: Partial<ConnectionInput>, fn: (handle: Handle) => Promise<T>): Promise<T> {
    const taskQueue = uniqueTaskQueue();
    return runWorkerWhile(env, { taskQueue, activities: fake.activities() }, async () => {
      const handle = await env.client.workflow.start(connectionWorkflow, {
        taskQueue,
        workflowId: `connection-${crypto.randomUUID()}`,
        args: [connectionInput(overrides)],
      });
      try {
        return await fn(handle);
      } finally {
        await stopQuietly(env, handle.workflowId);
      }
    });
  }

  async function waitForState(handle: Handle, state: ConnectionState, also: (v: ConnectionView) => boolean = () => true) {
    for (let i = 0; i < 200; i++) {
      const view = await handle.query(stateQuery);
      if (view.state === state && also(view)) return view;
      await new Promise((r) => setTimeout(r, 25));
    }
    assert.fail(`connection never reached ${state}; it is ${(await handle.query(stateQuery)).state}`);
  }

  /** Redirect path up to `active`, consenting to every account. */
  async function activate(handle: Handle, fake: FakeProvider) {
    await waitForState(handle, 'awaiting_redirect');
    await handle.signal(redirectReceivedSignal, redirectOk(fake.lastNonce));
    await waitForState(handle, 'awaiting_consent');
    await handle.executeUpdate(giveConsentUpdate, { args: [allConsent()] });
    return waitForState(handle, 'active');
  }

  describe('redirect channel', () => {
    it('goes from authorizing to active, syncing the consented accounts', async () => {
      const fake = new FakeProvider();
      await withConnection(fake, {}, async (handle) => {
        const waiting = await waitForState(handle, 'awaiting_redirect');
        assert.equal(waiting.next_action?.type === 'redirect' && waiting.next_action.url, 'https://bank.example/authorize?s=nonce-1');
        await handle.signal(redirectReceivedSignal, redirectOk('nonce-1'));
        const consent = await waitForState(handle, 'awaiting_consent');
        assert.deepEqual(consent.next_action?.type === 'consent' && consent.next_action.accounts.map((a) => a.id), ['acc-1', 'acc-2', 'acc-3']);
        const after = await handle.executeUpdate(giveConsentUpdate, { args: [allConsent()] });
        assert.equal(after.state, 'syncing');
        const active = await waitForState(handle, 'active');
        assert.equal(active.next_action, null);
        assert.ok(active.last_sync && active.next_sync_at);
        assert.deepEqual(active.channels.map((c) => c.mode), ['redirect']);
        assert.deepEqual(fake.calls.syncs, [{ trigger: false }]);
        assert.deepEqual(fake.calls.imports, [['acc-1', 'acc-2', 'acc-3']]);
      });
    });

    it('expires when the redirect never comes, after the timeout and without waiting for it', async () => {
      const started = Date.now();
      const view = await withConnection(new FakeProvider(), { redirectTimeoutSeconds: 1_800 }, async (handle) => {
        await waitForState(handle, 'awaiting_redirect');
        // Moved explicitly: the test server stops skipping time on its own once any test used an update.
        await env.sleep('31 minutes');
        return handle.result();
      });
      assert.equal(view.state, 'expired');
      assert.equal(view.reason, 'AUTHORIZATION_TIMEOUT');
      assert.equal(view.next_action?.type, 'reconnect');
      assert.ok(Date.now() - started < 60_000, 'the 30 minutes were skipped');
    });

    it('ignores a redirect that does not carry the expected nonce', async () => {
      const fake = new FakeProvider();
      await withConnection(fake, {}, async (handle) => {
        await waitForState(handle, 'awaiting_redirect');
        await handle.signal(redirectReceivedSignal, redirectOk('forged'));
        assert.equal((await handle.query(stateQuery)).state, 'awaiting_redirect');
        await handle.signal(redirectReceivedSignal, redirectOk(fake.lastNonce));
        await waitForState(handle, 'awaiting_consent');
      });
    });

    it('ends cancelled when access is denied at the bank', async () => {
      const fake = new FakeProvider();
      const view = await withConnection(fake, {}, async (handle) => {
        await waitForState(handle, 'awaiting_redirect');
        await handle.signal(redirectReceivedSignal, { nonce: fake.lastNonce, outcome: 'denied', error: 'access_denied' });
        return handle.result();
      });
      assert.equal(view.state, 'cancelled');
      assert.equal(view.reason, 'ACCESS_DENIED');
    });
  });

  describe('redirect channel completed with a code (Oxlin client-created flow)', () => {
    const codeRedirect = (nonce: string, sealedAuthorizationCode: string) => ({ nonce, outcome: 'success', sealedAuthorizationCode }) as const;

    it('creates the provider connection from the code and links the id the provider gave, never one from the browser', async () => {
      const fake = new FakeProvider();
      fake.completesWithCode = true;
      await withConnection(fake, {}, async (handle) => {
        await waitForState(handle, 'awaiting_redirect');
        await handle.signal(redirectReceivedSignal, codeRedirect(fake.lastNonce, 'code:ox-77'));
        await waitForState(handle, 'awaiting_consent');
        await handle.executeUpdate(giveConsentUpdate, { args: [allConsent()] });
        await waitForState(handle, 'active');
      });
      assert.deepEqual(fake.calls.completions, [{ nonce: 'nonce-1', sealedCode: 'code:ox-77' }]);
      assert.deepEqual(fake.calls.links, ['ox-77']);
    });

    it('refuses a redirect that names a provider connection instead of bringing a code: nothing is linked or listed', async () => {
      const fake = new FakeProvider();
      fake.completesWithCode = true;
      const view = await withConnection(fake, {}, async (handle) => {
        await waitForState(handle, 'awaiting_redirect');
        await handle.signal(redirectReceivedSignal, redirectOk(fake.lastNonce));
        return handle.result();
      });
      assert.equal(view.state, 'failed');
      assert.equal(view.reason, 'PROVIDER_CONNECTION_REFUSED');
      assert.deepEqual(fake.calls.completions, []);
      assert.deepEqual(fake.calls.links, []);
      assert.deepEqual(fake.calls.consents, []);
    });

    it('fails the authorization when the provider refuses the code', async () => {
      const fake = new FakeProvider();
      fake.completesWithCode = true;
      const view = await withConnection(fake, {}, async (handle) => {
        await waitForState(handle, 'awaiting_redirect');
        await handle.signal(redirectReceivedSignal, codeRedirect(fake.lastNonce, 'refused'));
        return handle.result();
      });
      assert.equal(view.state, 'failed');
      assert.equal(view.reason, 'PROVIDER_ERROR');
      assert.deepEqual(fake.calls.links, []);
    });
  });

  describe('consent', () => {
    it('syncs only the accounts the end user consented to', async () => {
      const fake = new FakeProvider();
      await withConnection(fake, {}, async (handle) => {
        await waitForState(handle, 'awaiting_redirect');
        await handle.signal(redirectReceivedSignal, redirectOk(fake.lastNonce));
        await waitForState(handle, 'awaiting_consent');
        await handle.executeUpdate(giveConsentUpdate, {
          args: [{ consents: [{ account_id: 'acc-1', consent: true }, { account_id: 'acc-2', consent: false }] }],
        });
        const active = await waitForState(handle, 'active');
        assert.deepEqual(fake.calls.imports, [['acc-1']]);
        assert.deepEqual(active.accounts.map((a) => [a.id, a.consent]), [['acc-1', true], ['acc-2', false], ['acc-3', null]]);
      });
    });

    it('asks again about an account left out of a consent (when it lists accounts next), never about a declined one', async () => {
      const fake = new FakeProvider();
      await withConnection(fake, {}, async (handle) => {
        await waitForState(handle, 'awaiting_redirect');
        await handle.signal(redirectReceivedSignal, redirectOk(fake.lastNonce));
        await waitForState(handle, 'awaiting_consent');
        await handle.executeUpdate(giveConsentUpdate, {
          args: [{ consents: [{ account_id: 'acc-1', consent: true }, { account_id: 'acc-2', consent: false }] }],
        });
        await waitForState(handle, 'active');
        // Settled for good until accounts are listed again: no consent is taken in `active`.
        await assert.rejects(handle.executeUpdate(giveConsentUpdate, { args: [{ consents: [{ account_id: 'acc-3', consent: true }] }] }));

        fake.accounts = [...ACCOUNTS, ...SAVINGS];
        await handle.executeUpdate(addChannelUpdate, { args: [{ mode: 'embedded' }] });
        await handle.executeUpdate(submitCredentialsUpdate, { args: [credentials()] });
        const asking = await waitForState(handle, 'awaiting_consent');
        assert.deepEqual(asking.next_action?.type === 'consent' && asking.next_action.accounts.map((a) => a.id), ['acc-3', 'acc-4', 'acc-5']);
        await handle.executeUpdate(giveConsentUpdate, { args: [allConsent([ACCOUNTS[2] as ListedAccount, ...SAVINGS])] });
        const active = await waitForState(handle, 'active');
        assert.deepEqual(active.accounts.map((a) => [a.id, a.consent]), [['acc-1', true], ['acc-2', false], ['acc-3', true], ['acc-4', true], ['acc-5', true]]);
        assert.deepEqual(fake.calls.imports.at(-1), ['acc-1', 'acc-3', 'acc-4', 'acc-5']);
      });
    });

    it('rejects consent for unknown accounts and consent in the wrong state, changing nothing', async () => {
      const fake = new FakeProvider();
      await withConnection(fake, {}, async (handle) => {
        await waitForState(handle, 'awaiting_redirect');
        await assert.rejects(handle.executeUpdate(giveConsentUpdate, { args: [allConsent()] }), (err: Error) =>
          /awaiting_consent; the connection is awaiting_redirect/.test(String((err.cause as Error)?.message)),
        );
        await handle.signal(redirectReceivedSignal, redirectOk(fake.lastNonce));
        await waitForState(handle, 'awaiting_consent');
        await assert.rejects(
          handle.executeUpdate(giveConsentUpdate, { args: [{ consents: [{ account_id: 'nope', consent: true }] }] }),
          (err: Error) => /unknown account ids: nope/.test(String((err.cause as Error)?.message)),
        );
        assert.equal((await handle.query(stateQuery)).state, 'awaiting_consent');
        assert.equal(fake.calls.consents.length, 0);
      });
    });

    it('ends cancelled when the end user consents to no account', async () => {
      const fake = new FakeProvider();
      const view = await withConnection(fake, {}, async (handle) => {
        await waitForState(handle, 'awaiting_redirect');
        await handle.signal(redirectReceivedSignal, redirectOk(fake.lastNonce));
        await waitForState(handle, 'awaiting_consent');
        await handle.executeUpdate(giveConsentUpdate, { args: [{ consents: ACCOUNTS.map((a) => ({ account_id: a.id, consent: false })) }] });
        return handle.result();
      });
      assert.equal(view.state, 'cancelled');
      assert.equal(view.reason, 'CONSENT_DECLINED');
    });

    it('expires when consent never comes', async () => {
      const fake = new FakeProvider();
      const view = await withConnection(fake, { consentTimeoutSeconds: 3_600 }, async (handle) => {
        await waitForState(handle, 'awaiting_redirect');
        await handle.signal(redirectReceivedSignal, redirectOk(fake.lastNonce));
        await waitForState(handle, 'awaiting_consent');
        await env.sleep('61 minutes');
        return handle.result();
      });
      assert.equal(view.state, 'expired');
      assert.equal(view.reason, 'CONSENT_TIMEOUT');
    });
  });

  describe('embedded channel and credentials', () => {
    it('asks for credentials, lists, takes consent and syncs', async () => {
      const fake = new FakeProvider();
      await withConnection(fake, { mode: 'embedded' }, async (handle) => {
        const asking = await waitForState(handle, 'awaiting_credentials');
        assert.equal(asking.next_action?.type, 'credentials');
        assert.deepEqual(asking.next_action.type === 'credentials' && asking.next_action.fields.map((f) => [f.id, f.encrypt]), [
          ['3500', false],
          ['3502', true],
        ]);
        const after = await handle.executeUpdate(submitCredentialsUpdate, { args: [credentials()] });
        assert.notEqual(after.state, 'awaiting_credentials');
        await waitForState(handle, 'awaiting_consent');
        await handle.executeUpdate(giveConsentUpdate, { args: [allConsent()] });
        await waitForState(handle, 'active');
        assert.equal(fake.calls.credentials.length, 1);
        assert.equal(fake.calls.credentials[0]?.existing, false);
      });
    });

    it('rejects credentials in the wrong state, and credentials that are not PGP messages', async () => {
      const fake = new FakeProvider();
      await withConnection(fake, {}, async (handle) => {
        await waitForState(handle, 'awaiting_redirect');
        await assert.rejects(handle.executeUpdate(submitCredentialsUpdate, { args: [credentials()] }), (err: Error) =>
          /awaiting_credentials or credentials_invalid/.test(String((err.cause as Error)?.message)),
        );
      });
      await withConnection(new FakeProvider(), { mode: 'embedded' }, async (handle) => {
        await waitForState(handle, 'awaiting_credentials');
        await assert.rejects(
          handle.executeUpdate(submitCredentialsUpdate, { args: [{ credentials: [{ id: '3500', value: 'plaintext' }] }] }),
          (err: Error) => /PGP message/.test(String((err.cause as Error)?.message)),
        );
        assert.equal((await handle.query(stateQuery)).state, 'awaiting_credentials');
      });
    });

    it('serialises credentials sent twice at once: the second waits for the first, then is judged on what came of it', async () => {
      // Refused by the bank: the second goes on and is accepted.
      const fake = new FakeProvider();
      fake.credentialsDelayMs = 300;
      fake.credentialsRefusals = 1;
      await withConnection(fake, { mode: 'embedded' }, async (handle) => {
        await waitForState(handle, 'awaiting_credentials');
        // Whichever the server delivers first is refused by the bank; the other then goes through.
        const answers = await Promise.allSettled([
          handle.executeUpdate(submitCredentialsUpdate, { args: [credentials('first try')] }),
          handle.executeUpdate(submitCredentialsUpdate, { args: [credentials('second try')] }),
        ]);
        assert.deepEqual(answers.map((a) => a.status).sort(), ['fulfilled', 'rejected']);
        assert.equal(fake.calls.credentials.length, 2, `both reached the bank, one after the other: ${answers.map((a) => (a.status === 'rejected' ? String((a.reason as Error).cause) : 'ok')).join(' / ')}`);
        const accepted = answers.findIndex((a) => a.status === 'fulfilled');
        assert.equal(fake.calls.credentials[1]?.values[1], armored(accepted === 0 ? 'first try' : 'second try'), 'the one called second is the one accepted');
        await waitForState(handle, 'awaiting_consent');
      });
      // Accepted: the second is refused as the state moved on, without reaching the provider.
      const accepting = new FakeProvider();
      accepting.credentialsDelayMs = 300;
      await withConnection(accepting, { mode: 'embedded' }, async (handle) => {
        await waitForState(handle, 'awaiting_credentials');
        const answers = await Promise.allSettled([
          handle.executeUpdate(submitCredentialsUpdate, { args: [credentials()] }),
          handle.executeUpdate(submitCredentialsUpdate, { args: [credentials('another')] }),
        ]);
        assert.deepEqual(answers.map((a) => a.status).sort(), ['fulfilled', 'rejected']);
        const refused = answers.find((a): a is PromiseRejectedResult => a.status === 'rejected');
        assert.match(String((refused?.reason as Error).cause), /allowed only in state awaiting_credentials or credentials_invalid/);
        assert.equal(accepting.calls.credentials.length, 1);
      });
    });

    for (const status of ['AUTH_FAILED', 'PASSWORD_CHANGE_REQUIRED', 'TOO_MANY_ATTEMPTS'] as const) {
      it(`moves to credentials_invalid on ${status} and recovers with new credentials`, async () => {
        const fake = new FakeProvider();
        fake.listing.push({ outcome: 'failed', status, channelId: 'embedded1' });
        await withConnection(fake, { mode: 'embedded' }, async (handle) => {
          await waitForState(handle, 'awaiting_credentials');
          await handle.executeUpdate(submitCredentialsUpdate, { args: [credentials('wrong password')] });
          const invalid = await waitForState(handle, 'credentials_invalid', (v) => v.next_action?.type === 'credentials');
          assert.equal(invalid.reason, status);
          await handle.executeUpdate(submitCredentialsUpdate, { args: [credentials()] });
          await waitForState(handle, 'awaiting_consent');
          assert.deepEqual(fake.calls.credentials.map((c) => c.existing), [false, true]);
        });
      });
    }
  });

  describe('challenges', () => {
    it('puts each challenge to the end user until the provider is satisfied, wrong code included', async () => {
      const fake = new FakeProvider();
      const wrongCode = {
        ...SMS_CHALLENGE,
        messages: [...SMS_CHALLENGE.messages, { id: '309', type: 'ERROR_MSG', text: 'Code invalide. Encore 1 tentatives' }],
      };
      fake.listing.push({ outcome: 'challenge', challenge: SMS_CHALLENGE }, { outcome: 'challenge', challenge: wrongCode });
      await withConnection(fake, { mode: 'embedded' }, async (handle) => {
        await waitForState(handle, 'awaiting_credentials');
        await handle.executeUpdate(submitCredentialsUpdate, { args: [credentials()] });
        const asked = await waitForState(handle, 'challenge_required');
        assert.equal(asked.next_action?.type, 'challenge');
        assert.deepEqual(asked.next_action.type === 'challenge' && asked.next_action.fields.map((f) => f.id), ['306', '307']);
        assert.equal(
          asked.next_action.type === 'challenge' && asked.next_action.messages[0]?.text,
          'Un code a été envoyé par SMS sur votre téléphone au 0606060606.',
        );
        const answer = { answers: [{ id: '306', value: armored('000000') }, { id: '307', value: armored('true') }] };
        const again = await handle.executeUpdate(answerChallengeUpdate, { args: [answer] });
        assert.equal(again.state, 'challenge_required');
        assert.equal(again.next_action?.type === 'challenge' && again.next_action.messages[1]?.type, 'ERROR_MSG');
        await handle.executeUpdate(answerChallengeUpdate, { args: [answer] });
        await waitForState(handle, 'awaiting_consent');
        assert.equal(fake.calls.answers.length, 2);
      });
    });

    it('expires with CHALLENGE_TIMED_OUT when the challenge is not answered in time', async () => {
      const fake = new FakeProvider();
      fake.listing.push({ outcome: 'challenge', challenge: SMS_CHALLENGE });
      const view = await withConnection(fake, {}, async (handle) => {
        await waitForState(handle, 'awaiting_redirect');
        await handle.signal(redirectReceivedSignal, redirectOk(fake.lastNonce));
        const asked = await waitForState(handle, 'challenge_required');
        const expires = asked.next_action?.type === 'challenge' ? Date.parse(asked.next_action.expires_at) : 0;
        assert.ok(expires - Date.parse(asked.created_at) <= 130_000, 'the TIMEOUT_MSG (120 s) sets the deadline');
        await env.sleep('3 minutes');
        return handle.result();
      });
      assert.equal(view.state, 'expired');
      assert.equal(view.reason, 'CHALLENGE_TIMED_OUT');
    });

    it('ends cancelled when the end user cancels the challenge', async () => {
      const fake = new FakeProvider();
      fake.listing.push(
        { outcome: 'challenge', challenge: SMS_CHALLENGE },
        { outcome: 'failed', status: 'CHALLENGE_CANCELLED', channelId: 'embedded1' },
      );
      const view = await withConnection(fake, { mode: 'embedded' }, async (handle) => {
        await waitForState(handle, 'awaiting_credentials');
        await handle.executeUpdate(submitCredentialsUpdate, { args: [credentials()] });
        await waitForState(handle, 'challenge_required');
        await handle.executeUpdate(answerChallengeUpdate, { args: [{ answers: [{ id: '307', value: armored('false') }] }] });
        return handle.result();
      });
      assert.equal(view.state, 'cancelled');
      assert.equal(view.reason, 'CHALLENGE_CANCELLED');
    });

    it('rejects answers to fields the challenge does not have', async () => {
      const fake = new FakeProvider();
      fake.listing.push({ outcome: 'challenge', challenge: SMS_CHALLENGE });
      await withConnection(fake, { mode: 'embedded' }, async (handle) => {
        await waitForState(handle, 'awaiting_credentials');
        await handle.executeUpdate(submitCredentialsUpdate, { args: [credentials()] });
        await waitForState(handle, 'challenge_required');
        await assert.rejects(
          handle.executeUpdate(answerChallengeUpdate, { args: [{ answers: [{ id: '999', value: armored('x') }] }] }),
          (err: Error) => /not fields of the current challenge: 999/.test(String((err.cause as Error)?.message)),
        );
        assert.equal(fake.calls.answers.length, 0);
      });
    });

    it('asks a challenge during a periodic sync and goes back to active once answered', async () => {
      const fake = new FakeProvider();
      await withConnection(fake, {}, async (handle) => {
        await activate(handle, fake);
        fake.syncing.push({ outcome: 'challenge', challenge: SMS_CHALLENGE });
        await handle.signal(syncRequestedSignal);
        await waitForState(handle, 'challenge_required');
        await handle.executeUpdate(answerChallengeUpdate, {
          args: [{ answers: [{ id: '306', value: armored('123456') }, { id: '307', value: armored('true') }] }],
        });
        await waitForState(handle, 'active', (v) => v.reason === null);
        assert.deepEqual(fake.calls.syncs.map((s) => s.trigger), [false, true, false]);
      });
    });
  });

  describe('life after activation', () => {
    it('syncs every interval, and at once on request', async () => {
      const fake = new FakeProvider();
      await withConnection(fake, { syncIntervalSeconds: 86_400 }, async (handle) => {
        await activate(handle, fake);
        await env.sleep('1 day');
        await env.sleep('1 day');
        await waitForState(handle, 'active', () => fake.calls.syncs.length === 3);
        await handle.signal(syncRequestedSignal);
        await waitForState(handle, 'active', () => fake.calls.syncs.length === 4);
        assert.deepEqual(fake.calls.syncs.map((s) => s.trigger), [false, true, true, true]);
      });
    });

    it('goes to user_action_required and back to active at the next successful sync', async () => {
      const fake = new FakeProvider();
      await withConnection(fake, {}, async (handle) => {
        await activate(handle, fake);
        fake.syncing.push({ outcome: 'failed', status: 'USER_ACTION_REQUIRED', channelId: 'redirect1' });
        await handle.signal(syncRequestedSignal);
        const waiting = await waitForState(handle, 'user_action_required');
        assert.equal(waiting.next_action?.type, 'message');
        await env.sleep('1 day');
        await waitForState(handle, 'active');
      });
    });

    it('repairs a redirect channel whose authorization failed with a new redirect', async () => {
      const fake = new FakeProvider();
      await withConnection(fake, {}, async (handle) => {
        await activate(handle, fake);
        fake.syncing.push({ outcome: 'failed', status: 'AUTH_FAILED', channelId: 'redirect1' });
        await handle.signal(syncRequestedSignal);
        const invalid = await waitForState(handle, 'credentials_invalid', (v) => v.next_action?.type === 'redirect');
        assert.equal(invalid.reason, 'AUTH_FAILED');
        assert.deepEqual(fake.calls.authorize.at(-1), { mode: 'redirect', existing: true });
        await handle.signal(redirectReceivedSignal, redirectOk(fake.lastNonce));
        await waitForState(handle, 'active');
      });
    });

    it('asks for renewal before the channel expires, and renews it with a redirect', async () => {
      const fake = new FakeProvider();
      fake.channelDays = 10;
      await withConnection(fake, { renewalLeadSeconds: 7 * 86_400, syncIntervalSeconds: 30 * 86_400 }, async (handle) => {
        const active = await activate(handle, fake);
        assert.ok(active.renewal_due_at);
        await env.sleep('3 days');
        const due = await waitForState(handle, 'renewal_required');
        assert.equal(due.next_action?.type, 'redirect');
        fake.renew(await env.currentTimeMs());
        await handle.signal(redirectReceivedSignal, redirectOk(fake.lastNonce));
        const renewed = await waitForState(handle, 'active', (v) => v.renewal_due_at !== active.renewal_due_at);
        assert.ok(Date.parse(renewed.channels[0]?.expires_at ?? '') > Date.parse(active.channels[0]?.expires_at ?? ''));
      });
    });

    it('expires when the channel lapses without renewal', async () => {
      const fake = new FakeProvider();
      fake.channelDays = 10;
      const view = await withConnection(fake, { syncIntervalSeconds: 30 * 86_400 }, async (handle) => {
        await activate(handle, fake);
        // After an update the test server no longer skips time by itself: move the clock explicitly.
        await env.sleep('11 days');
        return handle.result();
      });
      assert.equal(view.state, 'expired');
      assert.equal(view.reason, 'CONSENT_EXPIRED');
    });

    it('renews on request', async () => {
      const fake = new FakeProvider();
      await withConnection(fake, {}, async (handle) => {
        await activate(handle, fake);
        const view = await handle.executeUpdate(requestRenewalUpdate);
        assert.equal(view.state, 'renewal_required');
        assert.equal(view.next_action?.type, 'redirect');
      });
    });

    it('adds an embedded channel to a redirect connection: both channels’ accounts under one connection', async () => {
      const fake = new FakeProvider();
      await withConnection(fake, {}, async (handle) => {
        await activate(handle, fake);
        fake.accounts = [...ACCOUNTS, ...SAVINGS];
        const asking = await handle.executeUpdate(addChannelUpdate, { args: [{ mode: 'embedded' }] });
        assert.equal(asking.state, 'awaiting_credentials');
        await handle.executeUpdate(submitCredentialsUpdate, { args: [credentials()] });
        const consent = await waitForState(handle, 'awaiting_consent');
        assert.deepEqual(consent.next_action?.type === 'consent' && consent.next_action.accounts.map((a) => a.id), ['acc-4', 'acc-5']);
        await handle.executeUpdate(giveConsentUpdate, { args: [allConsent(SAVINGS)] });
        const active = await waitForState(handle, 'active');
        assert.equal(active.accounts.length, 5);
        assert.deepEqual(fake.calls.imports.at(-1), ['acc-1', 'acc-2', 'acc-3', 'acc-4', 'acc-5']);
        assert.equal(fake.calls.credentials[0]?.existing, true);
      });
    });

    it('adds a channel with nothing left to ask at once (its fields were given for an earlier one)', async () => {
      const fake = new FakeProvider();
      await withConnection(fake, {}, async (handle) => {
        await activate(handle, fake);
        fake.accounts = [...ACCOUNTS, ...SAVINGS];
        fake.embeddedFields = [];
        await handle.executeUpdate(addChannelUpdate, { args: [{ mode: 'embedded' }] });
        await waitForState(handle, 'awaiting_consent');
        assert.deepEqual(fake.calls.credentials, [{ channelId: 'embedded1', ids: [], values: [], existing: true }]);
        await handle.executeUpdate(giveConsentUpdate, { args: [allConsent(SAVINGS)] });
        assert.equal((await waitForState(handle, 'active')).accounts.length, 5);
      });
    });

    it('ends disconnected even when the provider cannot be told, and says so', async () => {
      const fake = new FakeProvider();
      fake.disconnectFails = true;
      const view = await withConnection(fake, {}, async (handle) => {
        await activate(handle, fake);
        await handle.signal(disconnectRequestedSignal);
        return handle.result();
      });
      assert.equal(view.state, 'disconnected');
      assert.equal(view.reason, 'DISCONNECTED_LOCALLY');
      assert.equal(fake.calls.disconnects, 1);
    });

    it('disconnects at the provider and ends disconnected', async () => {
      const fake = new FakeProvider();
      const view = await withConnection(fake, {}, async (handle) => {
        await activate(handle, fake);
        await handle.signal(disconnectRequestedSignal);
        return handle.result();
      });
      assert.equal(view.state, 'disconnected');
      assert.equal(view.next_action, null);
      assert.equal(fake.calls.disconnects, 1);
    });
  });

  describe('webhook events to the client', () => {
    it('announces state changes, actions, syncs, renewal and the end, in order and with sequential ids', async () => {
      const fake = new FakeProvider();
      fake.channelDays = 10;
      await withConnection(fake, { tenantId: 'ten_1', syncIntervalSeconds: 30 * 86_400 }, async (handle) => {
        await activate(handle, fake);
        await env.sleep('4 days');
        await waitForState(handle, 'renewal_required');
        await handle.signal(disconnectRequestedSignal);
        await waitForState(handle, 'disconnected');
      });
      const events = fake.calls.events;
      assert.deepEqual(
        events.map((e) => (e.type === 'connection.state_changed' ? `${e.type}:${e.data.state}` : e.type)),
        [
          'connection.state_changed:awaiting_redirect',
          'connection.action_required',
          'connection.state_changed:listing_accounts',
          'connection.state_changed:awaiting_consent',
          'connection.action_required',
          'connection.synced',
          'connection.state_changed:active',
          'connection.state_changed:renewal_required',
          'connection.action_required',
          'connection.renewal_due',
          'connection.state_changed:disconnected',
          'connection.disconnected',
        ],
      );
      assert.deepEqual(events.map((e) => Number(e.id.split('_').pop())), events.map((_, i) => i + 1));
      assert.ok(events.every((e) => e.tenant_id === 'ten_1'));
      const first = events[0];
      assert.equal(first?.type === 'connection.state_changed' && first.data.previous_state, 'authorizing');
      // The events of one workflow task go out in one activity call (batched-webhook-events): a
      // move's state_changed and action_required, a sync's synced and the move back to active, the
      // renewal's three, the end's two. listing_accounts and awaiting_consent are two tasks apart.
      assert.equal(fake.calls.eventCalls, 6);
    });
  });
});

// Runs after every test above (node:test runs a file's suites in order): the moves they made.
describe('the lifecycle table (contract/lifecycle.ts)', () => {
  it('declares every state move the tests above made', () => {
    const moves = [...OBSERVED_MOVES].map((m) => m.split('>') as [keyof typeof LIFECYCLE, keyof typeof LIFECYCLE]);
    assert.ok(moves.length >= 20, `only ${moves.length} distinct moves seen: ${[...OBSERVED_MOVES].join(', ')}`);
    const undeclared = moves.filter(([from, to]) => !isDeclaredMove(from, to)).map(([from, to]) => `${from} → ${to}`);
    assert.deepEqual(undeclared, []);
  });

  it('ends nowhere: terminal states allow nothing and lead nowhere', () => {
    for (const state of ['expired', 'cancelled', 'failed', 'disconnected'] as const) {
      assert.deepEqual([LIFECYCLE[state].allows, LIFECYCLE[state].next], [[], []]);
    }
    assert.equal(isDeclaredMove('disconnected', 'active'), false);
    assert.equal(isDeclaredMove('awaiting_consent', 'awaiting_redirect'), false);
  });
});
