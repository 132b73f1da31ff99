// The main paths of a connection, driven against a fake provider: recorded once into
// histories/ (npm run record:histories) and replayed by replay.test.ts on every CI run.
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { connectionWorkflow } from '../../workflows';
import type { ConnectionMemory } from '../../workflows/connection';
import type { ChannelInfo } from '../../providers';
import {
  type ConnectionInput,
  type ConnectionState,
  addChannelUpdate,
  answerChallengeUpdate,
  disconnectRequestedSignal,
  giveConsentUpdate,
  openAuthorizationUpdate,
  providerEventSignal,
  redirectReceivedSignal,
  requestRenewalUpdate,
  stateQuery,
  submitCredentialsUpdate,
  syncRequestedSignal,
} from '../../contract/messages';
import { ACCOUNTS, FakeProvider, SAVINGS, SMS_CHALLENGE, armored } from '../helpers/fake-provider';

type Handle = WorkflowHandle<typeof connectionWorkflow>;

export interface Scenario {
  input: Partial<ConnectionInput>;
  /** A run that continues an earlier one starts from this memory (what continue-as-new carries). */
  memory?: ConnectionMemory;
  prepare?(fake: FakeProvider): void;
  drive(handle: Handle, fake: FakeProvider, env: TestWorkflowEnvironment): Promise<void>;
}

async function reach(handle: Handle, state: ConnectionState): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if ((await handle.query(stateQuery)).state === state) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`never reached ${state}`);
}

const redirect = (fake: FakeProvider) =>
  ({ nonce: fake.lastNonce, outcome: 'success', providerConnectionId: 'ox-1', providerRef: { queueId: 'q-1' } }) as const;
const consentAll = (accounts = ACCOUNTS) => ({ consents: accounts.map((a) => ({ account_id: a.id, consent: true })) });
const credentials = { credentials: [{ id: '3500', value: armored('alice') }, { id: '3502', value: armored('password') }] };

async function activate(handle: Handle, fake: FakeProvider): Promise<void> {
  await reach(handle, 'awaiting_redirect');
  await handle.signal(redirectReceivedSignal, redirect(fake));
  await reach(handle, 'awaiting_consent');
  await handle.executeUpdate(giveConsentUpdate, { args: [consentAll()] });
  await reach(handle, 'active');
}

// Channels an embedded connection reports (the fake's own listing reports its redirect channel).
const EMBEDDED: ChannelInfo[] = [{ id: 'embedded1', mode: 'embedded', expiresAt: null }];
const REDIRECT: ChannelInfo[] = [{ id: 'redirect1', mode: 'redirect', expiresAt: '2099-01-01T00:00:00.000Z' }];
const ok = (channels: ChannelInfo[] = EMBEDDED) => ({ outcome: 'success' as const, channels });
const authFailed = (channelId: string) => ({ outcome: 'failed' as const, status: 'AUTH_FAILED' as const, channelId });

/** Until the workflow asks for credentials (its validator takes them only then), in either state that asks. */
async function askedForCredentials(handle: Handle): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if ((await handle.query(stateQuery)).next_action?.type === 'credentials') return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('never asked for credentials');
}

/** Until the fake has run `count` syncs and the connection rests in `state`. */
async function synced(handle: Handle, fake: FakeProvider, count: number, state: ConnectionState = 'active'): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (fake.calls.syncs.length === count && (await handle.query(stateQuery)).state === state) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`never ${state} after ${count} syncs`);
}

/** An embedded connection brought to active: credentials, consent to every account, the first sync. */
async function activateEmbedded(handle: Handle, fake: FakeProvider): Promise<void> {
  await reach(handle, 'awaiting_credentials');
  await handle.executeUpdate(submitCredentialsUpdate, { args: [credentials] });
  await reach(handle, 'awaiting_consent');
  await handle.executeUpdate(giveConsentUpdate, { args: [consentAll()] });
  await synced(handle, fake, 1);
}

/** After a sync failed AUTH_FAILED: the end user gives credentials again when asked. */
async function repairEmbedded(handle: Handle): Promise<void> {
  await reach(handle, 'credentials_invalid');
  await askedForCredentials(handle);
  await handle.executeUpdate(submitCredentialsUpdate, { args: [credentials] });
}

async function disconnectNow(handle: Handle): Promise<void> {
  await handle.signal(disconnectRequestedSignal);
  await handle.result();
}

export const SCENARIOS: Record<string, Scenario> = {
  // Linkflow links opened: the first authorization's and a renewal's provider URLs minted fresh (openAuthorization).
  'authorization-links-opened': {
    input: {},
    async drive(handle, fake) {
      await reach(handle, 'awaiting_redirect');
      const first = await handle.executeUpdate(openAuthorizationUpdate);
      if (first.url !== `https://bank.example/authorize?s=${fake.lastNonce}&fresh=1`) throw new Error(`unexpected ${first.url}`);
      await handle.signal(redirectReceivedSignal, redirect(fake));
      await reach(handle, 'awaiting_consent');
      await handle.executeUpdate(giveConsentUpdate, { args: [consentAll()] });
      await reach(handle, 'active');
      await handle.executeUpdate(requestRenewalUpdate);
      await reach(handle, 'renewal_required');
      await handle.executeUpdate(openAuthorizationUpdate);
      await handle.signal(redirectReceivedSignal, redirect(fake));
      await reach(handle, 'active');
    },
  },
  // Oxlin's client-created flow: the redirect brings a (sealed) code, exchanged by completeAuthorization.
  'redirect-completed-with-code': {
    input: {},
    prepare(fake) {
      fake.completesWithCode = true;
    },
    async drive(handle, fake) {
      await reach(handle, 'awaiting_redirect');
      await handle.signal(redirectReceivedSignal, { nonce: fake.lastNonce, outcome: 'success', sealedAuthorizationCode: 'code:ox-1' });
      await reach(handle, 'awaiting_consent');
      await handle.executeUpdate(giveConsentUpdate, { args: [consentAll()] });
      await reach(handle, 'active');
    },
  },
  'redirect-active-daily-sync': {
    input: {},
    async drive(handle, fake, env) {
      await activate(handle, fake);
      await env.sleep('1 day');
      await handle.signal(syncRequestedSignal);
      await reach(handle, 'active');
    },
  },
  'embedded-challenge-wrong-code': {
    input: { mode: 'embedded' },
    prepare(fake) {
      fake.listing.push({ outcome: 'challenge', challenge: SMS_CHALLENGE }, { outcome: 'challenge', challenge: SMS_CHALLENGE });
    },
    async drive(handle) {
      await reach(handle, 'awaiting_credentials');
      await handle.executeUpdate(submitCredentialsUpdate, { args: [credentials] });
      const answer = { answers: [{ id: '306', value: armored('000000') }, { id: '307', value: armored('true') }] };
      await reach(handle, 'challenge_required');
      await handle.executeUpdate(answerChallengeUpdate, { args: [answer] });
      await handle.executeUpdate(answerChallengeUpdate, { args: [answer] });
      await reach(handle, 'awaiting_consent');
      await handle.executeUpdate(giveConsentUpdate, { args: [consentAll()] });
      await reach(handle, 'active');
    },
  },
  'credentials-invalid-repaired': {
    input: { mode: 'embedded' },
    prepare(fake) {
      fake.listing.push({ outcome: 'failed', status: 'AUTH_FAILED', channelId: 'embedded1' });
    },
    async drive(handle) {
      await reach(handle, 'awaiting_credentials');
      await handle.executeUpdate(submitCredentialsUpdate, { args: [credentials] });
      await reach(handle, 'credentials_invalid');
      await handle.executeUpdate(submitCredentialsUpdate, { args: [credentials] });
      await reach(handle, 'awaiting_consent');
    },
  },
  'renewal-then-user-action-then-disconnect': {
    input: { syncIntervalSeconds: 30 * 86_400 },
    prepare(fake) {
      fake.channelDays = 10;
    },
    async drive(handle, fake, env) {
      await activate(handle, fake);
      await env.sleep('4 days');
      await reach(handle, 'renewal_required');
      fake.renew(await env.currentTimeMs());
      await handle.signal(redirectReceivedSignal, redirect(fake));
      await reach(handle, 'active');
      fake.syncing.push({ outcome: 'failed', status: 'USER_ACTION_REQUIRED', channelId: 'redirect1' });
      await handle.signal(syncRequestedSignal);
      await reach(handle, 'user_action_required');
      await handle.signal(disconnectRequestedSignal);
      await handle.result();
    },
  },
  'add-embedded-channel': {
    input: {},
    async drive(handle, fake) {
      await activate(handle, fake);
      fake.accounts = [...ACCOUNTS, ...SAVINGS];
      await handle.executeUpdate(addChannelUpdate, { args: [{ mode: 'embedded' }] });
      await handle.executeUpdate(submitCredentialsUpdate, { args: [credentials] });
      await reach(handle, 'awaiting_consent');
      await handle.executeUpdate(giveConsentUpdate, { args: [consentAll(SAVINGS)] });
      await reach(handle, 'active');
    },
  },
  'continue-as-new': {
    input: { syncIntervalSeconds: 86_400 },
    async drive(handle, fake, env) {
      await activate(handle, fake);
      await env.sleep('25 days'); // past a run's sync cycles (20, or 15 with webhook events): the first run continued as new
    },
  },
  'authorization-confirmed-by-webhook': {
    // LnkFi: the redirect says only `result=success`; the connection arrives with the provider's webhook.
    input: { provider: 'lnkfi', institutionId: 'xero' },
    async drive(handle, fake) {
      await reach(handle, 'awaiting_redirect');
      await handle.signal(redirectReceivedSignal, { nonce: fake.lastNonce, outcome: 'success' });
      await handle.signal(providerEventSignal, {
        eventId: 'owh_1',
        kind: 'connected',
        channelId: 'xero',
        providerConnectionId: 'con_1',
        providerRef: { instanceId: 'org-1' },
      });
      await reach(handle, 'awaiting_consent');
      await handle.executeUpdate(giveConsentUpdate, { args: [consentAll()] });
      await reach(handle, 'active');
    },
  },
  'pending-job-woken-by-webhook': {
    // Flinks: the first read is OPERATION_PENDING; the data webhook cuts the retry backoff short.
    input: { provider: 'flinks', institutionId: 'FlinksCapital' },
    prepare(fake) {
      fake.pendingLists = 1;
    },
    async drive(handle, fake) {
      await reach(handle, 'awaiting_redirect');
      await handle.signal(redirectReceivedSignal, redirect(fake));
      await reach(handle, 'listing_accounts');
      await handle.signal(providerEventSignal, { eventId: 'req-1', kind: 'data_available', channelId: 'connect' });
      await reach(handle, 'awaiting_consent');
      await handle.executeUpdate(giveConsentUpdate, { args: [consentAll()] });
      await reach(handle, 'active');
    },
  },
  'intents-carried-across-runs': {
    // A run continued from one that ended while a webhook, a sync request and a DELETE were not yet
    // acted on: the DELETE comes first, and the rest is moot.
    input: {},
    memory: {
      state: 'active',
      reason: null,
      nextAction: null,
      providerConnectionId: 'ox-1',
      providerRef: { queueId: 'q-1' },
      channels: [{ id: 'redirect1', mode: 'redirect', expiresAt: '2099-01-01T00:00:00.000Z' }],
      accounts: ACCOUNTS,
      consents: Object.fromEntries(ACCOUNTS.map((a) => [a.id, true])),
      lastSync: null,
      renewal: null,
      linkedProviderConnectionId: 'ox-1',
      eventsSent: 3,
      announcedState: 'active',
      intents: {
        sync: true,
        disconnect: true,
        providerEvents: [{ eventId: 'evt-2', kind: 'failure', status: 'USER_ACTION_REQUIRED', channelId: 'redirect1' }],
        seenProviderEvents: ['evt-1', 'evt-2'],
      },
      createdAt: '2026-01-01T00:00:00.000Z',
    },
    async drive(handle) {
      await handle.result();
    },
  },
  // Recorded by the code before the lifecycle became one loop (e2918d4, tag v4b): the repair paths.
  // A repaired embedded channel lists new accounts: consent again, then a sync without a trigger and one with.
  'repair-consent-again': {
    input: { mode: 'embedded' },
    prepare(fake) {
      fake.listing.push(ok(), ok());
      fake.syncing.push(ok(), authFailed('embedded1'), ok(), ok());
    },
    async drive(handle, fake) {
      await activateEmbedded(handle, fake);
      fake.accounts = [...ACCOUNTS, ...SAVINGS];
      await handle.signal(syncRequestedSignal);
      await repairEmbedded(handle);
      await reach(handle, 'awaiting_consent');
      await handle.executeUpdate(giveConsentUpdate, { args: [consentAll(SAVINGS)] });
      await synced(handle, fake, 4);
    },
  },
  // The first sync after a repair's consent fails AUTH_FAILED again: a repair inside the repair.
  'nested-repair-consent': {
    input: { mode: 'embedded' },
    prepare(fake) {
      fake.listing.push(ok(), ok(), ok());
      fake.syncing.push(ok(), authFailed('embedded1'), authFailed('embedded1'), ok(), ok());
    },
    async drive(handle, fake) {
      await activateEmbedded(handle, fake);
      fake.accounts = [...ACCOUNTS, ...SAVINGS];
      await handle.signal(syncRequestedSignal);
      await repairEmbedded(handle);
      await reach(handle, 'awaiting_consent');
      await handle.executeUpdate(giveConsentUpdate, { args: [consentAll(SAVINGS)] });
      await synced(handle, fake, 3, 'credentials_invalid');
      await repairEmbedded(handle);
      await synced(handle, fake, 5);
    },
  },
  // A provider webhook reports AUTH_FAILED: the redirect channel is authorized again, then synced.
  'webhook-failure-repair': {
    input: {},
    async drive(handle, fake) {
      await activate(handle, fake);
      await handle.signal(providerEventSignal, { eventId: 'evt-f1', kind: 'failure', status: 'AUTH_FAILED', channelId: 'redirect1' });
      await reach(handle, 'credentials_invalid');
      for (let i = 0; i < 400 && fake.nonces.length < 2; i++) await new Promise((r) => setTimeout(r, 25));
      await handle.signal(redirectReceivedSignal, redirect(fake));
      await synced(handle, fake, 2);
    },
  },
  // An added embedded channel's first sync fails AUTH_FAILED: repaired inside the attempt.
  'add-channel-repair': {
    input: {},
    prepare(fake) {
      fake.listing.push(ok(REDIRECT), ok([...REDIRECT, ...EMBEDDED]), ok([...REDIRECT, ...EMBEDDED]));
      fake.syncing.push(ok(REDIRECT), authFailed('embedded1'), ok([...REDIRECT, ...EMBEDDED]));
    },
    async drive(handle, fake) {
      await activate(handle, fake);
      fake.accounts = [...ACCOUNTS, ...SAVINGS];
      await handle.executeUpdate(addChannelUpdate, { args: [{ mode: 'embedded' }] });
      await handle.executeUpdate(submitCredentialsUpdate, { args: [credentials] });
      await reach(handle, 'awaiting_consent');
      await handle.executeUpdate(giveConsentUpdate, { args: [consentAll(SAVINGS)] });
      await synced(handle, fake, 2, 'credentials_invalid');
      await repairEmbedded(handle);
      await synced(handle, fake, 3);
    },
  },
  // DELETE while a challenge put during a periodic sync waits for its answer.
  'delete-at-sync-challenge': {
    input: {},
    prepare(fake) {
      fake.syncing.push(ok(REDIRECT), { outcome: 'challenge', challenge: SMS_CHALLENGE });
    },
    async drive(handle, fake) {
      await activate(handle, fake);
      await handle.signal(syncRequestedSignal);
      await reach(handle, 'challenge_required');
      await disconnectNow(handle);
    },
  },
  // DELETE while a repair waits for new credentials.
  'delete-at-repair-credentials': {
    input: { mode: 'embedded' },
    prepare(fake) {
      fake.listing.push(ok());
      fake.syncing.push(ok(), authFailed('embedded1'));
    },
    async drive(handle, fake) {
      await activateEmbedded(handle, fake);
      await handle.signal(syncRequestedSignal);
      await reach(handle, 'credentials_invalid');
      await disconnectNow(handle);
    },
  },
  // DELETE while a repair waits for consent to the accounts it found.
  'delete-at-repair-consent': {
    input: { mode: 'embedded' },
    prepare(fake) {
      fake.listing.push(ok(), ok());
      fake.syncing.push(ok(), authFailed('embedded1'));
    },
    async drive(handle, fake) {
      await activateEmbedded(handle, fake);
      fake.accounts = [...ACCOUNTS, ...SAVINGS];
      await handle.signal(syncRequestedSignal);
      await repairEmbedded(handle);
      await reach(handle, 'awaiting_consent');
      await disconnectNow(handle);
    },
  },
  // DELETE while an added channel waits for consent.
  'delete-at-added-channel-consent': {
    input: {},
    async drive(handle, fake) {
      await activate(handle, fake);
      fake.accounts = [...ACCOUNTS, ...SAVINGS];
      await handle.executeUpdate(addChannelUpdate, { args: [{ mode: 'embedded' }] });
      await handle.executeUpdate(submitCredentialsUpdate, { args: [credentials] });
      await reach(handle, 'awaiting_consent');
      await disconnectNow(handle);
    },
  },
};
