// The lifecycle's phases for a channel (contract/lifecycle.ts says which state each one enters and
// leaves): connectFirstChannel, addChannel and repairChannel on a shared authorization, listing and
// consent; the provider's jobs with their challenges.
import { ActivityFailure, ApplicationFailure, CancellationScope, condition, log, patched } from '@temporalio/workflow';
import type { Authorization, JobOutcome } from '../../providers';
import { isoAt, workflowNow } from '../clock';
import type { ChannelMode, ConnectionState, ConnectionView, GiveConsent, RedirectReceived } from '../../contract/messages';
import { PROVIDER_CAPABILITIES } from '../../contract/definitions';
import {
  CREDENTIAL_FAILURES,
  startAuthorization,
  submitCredentials,
  listAccounts,
  giveConsent,
  linkProviderConnection,
  bindProviderConnection,
  completeAuthorization,
  waitForJob,
  waitForPendingJob,
  DEFAULT_CHALLENGE_TIMEOUT_MS,
  CONNECTED_EVENT_TIMEOUT_MS,
  JOB_PENDING,
  PROVIDER_CONNECTION_REFUSED,
  BIND_PROVIDER_CONNECTION,
} from './calls';
import { type Connection, DISCONNECT, type Disconnect, type TerminalState } from './state';

/** How a channel's authorization ended: `consented` (the caller runs the first sync), `done`, given up, or DISCONNECT. */
export type Connected = ConnectionView | 'done' | 'consented' | 'abandoned' | Disconnect;
type Purpose = 'initial' | 'add' | 'repair';
type GiveUp = (state: TerminalState, reason: string, message: string) => ConnectionView | 'abandoned';

/**
 * The connection's first channel: authorization (redirect or credentials), listing (with any
 * challenges), consent. Giving up ends the connection. `consented`: consent was given, and the
 * caller runs the first sync (syncAndRepair without a trigger: consent starts it at the provider).
 */
export const connectFirstChannel = (c: Connection, mode: ChannelMode): Promise<Connected> => connect(c, mode, 'initial');

/** Another channel (`POST …/channels`): the same steps; giving up ends the attempt, not the connection. */
export const addChannel = (c: Connection, mode: ChannelMode): Promise<Connected> => connect(c, mode, 'add');

/**
 * A channel whose credentials stopped working (credentials_invalid): fresh authorizations are
 * offered until one works, with no deadline; then its accounts are listed again, and consent asked
 * for any new ones. `done`: nothing new to consent to (always, for a redirect channel).
 */
export const repairChannel = (c: Connection, mode: ChannelMode, channelId: string | undefined): Promise<Connected> =>
  connect(c, mode, 'repair', channelId);

async function connect(c: Connection, mode: ChannelMode, purpose: Purpose, channelId?: string): Promise<Connected> {
  const initial = purpose === 'initial';
  const giveUp: GiveUp = (state, reason, message) => {
    if (initial) return c.end(state, reason, message);
    c.settle(reason);
    return 'abandoned' as const;
  };
  const listed = await authorizeAndList(c, mode, purpose, channelId, giveUp);
  if (listed !== 'listed') return listed;
  return consentToNewAccounts(c, initial, giveUp);
}

/**
 * Authorizes the channel and lists its accounts, offering a new authorization (credentials_invalid)
 * while the provider says the credentials are wrong. `listed`, or how it ended.
 */
async function authorizeAndList(
  c: Connection,
  mode: ChannelMode,
  purpose: Purpose,
  channelId: string | undefined,
  giveUp: GiveUp,
): Promise<'listed' | Exclude<Connected, 'consented'>> {
  const initial = purpose === 'initial';
  for (let attempt = 0; ; attempt++) {
    // Repairing waits as long as it takes; a first or added channel waits the authorization timeout.
    const repairing = purpose === 'repair' || attempt > 0;
    const authorized = await authorize(c, mode, initial && attempt === 0 ? null : (channelId ?? null), {
      state: repairing ? 'credentials_invalid' : mode === 'redirect' ? 'awaiting_redirect' : 'awaiting_credentials',
      reason: repairing ? c.memory.reason : null,
      timeoutMs: purpose === 'repair' ? undefined : c.input.redirectTimeoutSeconds * 1000,
    }).catch((err: unknown) => {
      // A channel the provider cannot add (e.g. Powens has no further source) ends that attempt, not the connection.
      if (purpose === 'add' && err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.nonRetryable) {
        return { result: 'failed' as const, error: err.cause.message, reason: err.cause.type ?? 'PROVIDER_ERROR' };
      }
      throw err;
    });
    if (authorized.result === DISCONNECT) return DISCONNECT;
    if (authorized.result !== 'ok' && purpose === 'repair') continue; // still invalid: offer a fresh authorization
    if (authorized.result === 'timeout') return giveUp('expired', 'AUTHORIZATION_TIMEOUT', 'The end user did not finish at the bank in time.');
    if (authorized.result === 'denied') return giveUp('cancelled', 'ACCESS_DENIED', 'The end user declined access at the bank.');
    if (authorized.result === 'failed') return giveUp('failed', ('reason' in authorized && authorized.reason) || 'PROVIDER_ERROR', authorized.error);
    if (authorized.result !== 'ok') continue;
    channelId = authorized.channelId;
    if (mode === 'redirect' && purpose === 'repair') {
      await linkProvider(c);
      return 'done'; // a re-authorized redirect channel has nothing new to list
    }

    c.moveTo('listing_accounts');
    await linkProvider(c);
    const listed = await job(c, 'list', false);
    if (listed === DISCONNECT) return DISCONNECT;
    if (listed.outcome === 'success') {
      c.memory.channels = listed.channels;
      return 'listed';
    }
    if (CREDENTIAL_FAILURES.includes(listed.status)) {
      c.moveTo('credentials_invalid', null, listed.status);
      continue;
    }
    if (listed.status === 'CHALLENGE_CANCELLED') return giveUp('cancelled', listed.status, 'The end user cancelled the bank challenge.');
    if (listed.status === 'CHALLENGE_TIMED_OUT') return giveUp('expired', listed.status, 'The bank challenge was not answered in time.');
    return giveUp('failed', listed.status, `The provider could not list the accounts (${listed.status}).`);
  }

}

/** The channel's accounts, and consent for those not yet decided (the first channel's: at least one). */
async function consentToNewAccounts(c: Connection, initial: boolean, giveUp: GiveUp): Promise<Connected> {
  c.memory.accounts = await listAccounts(c.providerCall());
  const undecided = c.memory.accounts.filter((a) => c.memory.consents[a.id] === undefined);
  if (undecided.length === 0) return 'done';
  const consentMs = c.input.consentTimeoutSeconds * 1000;
  c.moveTo('awaiting_consent', { type: 'consent', accounts: undecided, expires_at: isoAt(workflowNow() + consentMs) });
  const consented = await c.waitFor(() => c.pendingConsent !== null, consentMs, 'Consent deadline: the end user chooses the accounts to share');
  if (consented === DISCONNECT) return DISCONNECT;
  if (!consented) return giveUp('expired', 'CONSENT_TIMEOUT', 'The end user did not give consent in time.');
  const { consents } = c.pendingConsent as GiveConsent;
  c.pendingConsent = null;
  for (const decision of consents) c.memory.consents[decision.account_id] = decision.consent;
  if (initial && !consents.some((decision) => decision.consent)) {
    return c.end('cancelled', 'CONSENT_DECLINED', 'The end user consented to no account.');
  }
  c.moveTo('syncing');
  await giveConsent({ ...c.providerCall(), consents });
  // Consent itself starts the provider's full sync: the caller runs it (syncAndRepair, without a trigger).
  return 'consented';
}

/** Records the provider connection id so the provider's webhooks find this connection. */
async function linkProvider(c: Connection): Promise<void> {
  const id = c.memory.providerConnectionId;
  if (!id || id === c.memory.linkedProviderConnectionId || !patched('provider-links')) return;
  await linkProviderConnection({ provider: c.input.provider, providerConnectionId: id, connectionId: c.input.connectionId });
  c.memory.linkedProviderConnectionId = id;
}

/** Asks for a channel's authorization (redirect or credentials) and waits for the end user. */
async function authorize(
  c: Connection,
  mode: ChannelMode,
  channelId: string | null,
  shown: { state: ConnectionState; reason: string | null; timeoutMs: number | undefined },
): Promise<{ result: 'ok'; channelId: string } | { result: 'timeout' | 'denied' | Disconnect } | { result: 'failed'; error: string; reason?: string }> {
  const authorization: Authorization & { nonce?: string } = await startAuthorization({
    connectionId: c.input.connectionId,
    provider: c.input.provider,
    institutionId: c.input.institutionId,
    mode,
    callbackUrl: c.input.callbackUrl,
    ...(c.memory.providerConnectionId
      ? { existing: { ...c.providerConnection(), ...(channelId ? { channelId } : {}) } }
      : {}),
  });

  if (authorization.providerRef) c.memory.providerRef = { ...c.memory.providerRef, ...authorization.providerRef };
  // The provider picks the mechanism of what it offers next (a Powens source): the state says which.
  const state = shown.state === 'credentials_invalid' ? shown.state : authorization.kind === 'credentials' ? 'awaiting_credentials' : 'awaiting_redirect';

  if (authorization.kind === 'credentials' && authorization.fields.length === 0 && c.memory.providerConnectionId) {
    // Nothing to ask (a Powens source whose fields the end user already gave for an earlier one): add it at once.
    const connection = await submitCredentials({
      provider: c.input.provider,
      institutionId: c.input.institutionId,
      channelId: authorization.channelId,
      credentials: [],
      providerRef: c.memory.providerRef,
      existing: c.providerConnection(),
    });
    c.memory.providerRef = { ...c.memory.providerRef, ...connection.providerRef };
    return { result: 'ok', channelId: authorization.channelId };
  }

  if (authorization.kind === 'credentials') {
    c.credentialsChannel = authorization.channelId;
    c.moveTo(state, { type: 'credentials', channel_id: authorization.channelId, fields: authorization.fields }, shown.reason);
    let submitted: boolean | Disconnect;
    try {
      submitted = await c.waitFor(() => c.acceptedCredentials, shown.timeoutMs, 'Credentials deadline: the end user submits the login form');
    } finally {
      c.credentialsChannel = null;
      c.acceptedCredentials = false;
      c.credentialsWaitsEnded++;
    }
    if (submitted === DISCONNECT) return { result: DISCONNECT };
    return submitted ? { result: 'ok', channelId: authorization.channelId } : { result: 'timeout' };
  }

  const expiresAt = shown.timeoutMs === undefined ? null : workflowNow() + shown.timeoutMs;
  c.expectedNonce = authorization.nonce ?? null;
  c.redirect = null;
  c.offer = { url: authorization.url, channelId: authorization.channelId, nonce: authorization.nonce ?? null, existing: c.memory.providerConnectionId !== null };
  c.moveTo(
    state,
    {
      type: 'redirect',
      url: authorization.url,
      expires_at: isoAt(expiresAt ?? workflowNow() + 86_400_000),
      ...(authorization.terms === undefined ? {} : { terms: authorization.terms }),
    },
    shown.reason,
  );
  // A provider that confirms by webhook (LnkFi) may do so before the browser is back, or instead of it.
  const arrived = await c.waitFor(() => c.redirect !== null || c.hasEvent('connected'), shown.timeoutMs, 'Redirect deadline: the end user comes back from the bank');
  c.offer = null;
  if (arrived === DISCONNECT) return { result: DISCONNECT };
  c.expectedNonce = null;
  const redirect = c.redirect as RedirectReceived | null;
  c.redirect = null;
  if (!arrived) return { result: 'timeout' };
  if (redirect?.outcome === 'success' && authorization.completion === 'code') return completeWithCode(c, redirect, authorization.channelId);
  if (redirect?.outcome === 'success' && !redirect.providerConnectionId && patched('connection-by-webhook')) {
    // The redirect says only that it worked: the provider connection comes with the provider's webhook.
    const confirmed = await c.waitFor(() => c.hasEvent('connected'), CONNECTED_EVENT_TIMEOUT_MS, "Wait for the provider's connected webhook");
    if (confirmed === DISCONNECT) return { result: DISCONNECT };
    if (!confirmed) return { result: 'failed', error: 'The provider did not confirm the authorization.' };
  }
  const connected = redirect === null || redirect.outcome === 'success' ? c.takeEvent('connected') : undefined;
  if (connected?.providerConnectionId) {
    const { providerConnectionId, providerRef } = connected;
    return acceptRedirect(c, { outcome: 'success', providerConnectionId, ...(providerRef ? { providerRef } : {}) }, authorization.channelId);
  }
  if (!redirect) return { result: 'timeout' };
  return acceptRedirect(c, redirect, authorization.channelId);
}

/**
 * A redirect of an authorization Linkflow completes itself (Authorization.completion `code`):
 * the provider connection is created from the sealed code it brought, and its id comes from the
 * provider's answer. A redirect that names a provider connection instead is refused: the browser
 * never chooses one. Only histories of authorizations started with `completion` reach here.
 */
async function completeWithCode(c: Connection, redirect: RedirectReceived, channelId: string) {
  if (!redirect.sealedAuthorizationCode) {
    log.warn('provider connection refused', { reason: 'the redirect named a provider connection instead of bringing back a code' });
    return {
      result: 'failed' as const,
      error: "The provider's answer was refused: the redirect named a provider connection instead of bringing back an authorization code.",
      reason: PROVIDER_CONNECTION_REFUSED,
    };
  }
  const completed = await completeAuthorization({
    connectionId: c.input.connectionId,
    provider: c.input.provider,
    institutionId: c.input.institutionId,
    channelId,
    callbackUrl: c.input.callbackUrl,
    nonce: redirect.nonce,
    sealedCode: redirect.sealedAuthorizationCode,
  });
  if (!completed.created) return { result: 'failed' as const, error: completed.error };
  const { providerConnectionId, providerRef } = completed.connection;
  return acceptRedirect(c, { outcome: 'success', providerConnectionId, providerRef }, channelId);
}

/**
 * A redirect's (or a `connected` webhook's) outcome applied to the connection. The provider
 * connection it names is bound first (see the bindProviderConnection activity); a refused one
 * changes nothing and fails the attempt with PROVIDER_CONNECTION_REFUSED.
 */
export async function acceptRedirect(c: Connection, redirect: Omit<RedirectReceived, 'nonce'>, channelId: string) {
  if (redirect.outcome === 'denied') return { result: 'denied' as const };
  if (redirect.outcome === 'failed' || !redirect.providerConnectionId) {
    return { result: 'failed' as const, error: redirect.error ?? 'The provider reported a failed authorization.' };
  }
  if (patched(BIND_PROVIDER_CONNECTION)) {
    const binding = await bindProviderConnection({
      provider: c.input.provider,
      connectionId: c.input.connectionId,
      providerConnectionId: redirect.providerConnectionId,
      providerRef: { ...c.memory.providerRef, ...redirect.providerRef },
      held: c.memory.providerConnectionId,
    });
    if (!binding.bound) {
      log.warn('provider connection refused', { reason: binding.reason });
      // The API refuses what it can check before the bank session is spent; what reaches here
      // came back from a session that is used up, so waiting on would strand the end user.
      return { result: 'failed' as const, error: `The provider's answer was refused: ${binding.reason}.`, reason: PROVIDER_CONNECTION_REFUSED };
    }
    c.memory.linkedProviderConnectionId = redirect.providerConnectionId;
  }
  c.memory.providerConnectionId = redirect.providerConnectionId;
  c.memory.providerRef = { ...c.memory.providerRef, ...redirect.providerRef };
  return { result: 'ok' as const, channelId };
}

/** Waits for the provider's job, putting each challenge to the end user until it ends. */
export async function job(c: Connection, kind: 'list' | 'sync', trigger: boolean): Promise<Exclude<JobOutcome, { outcome: 'challenge' }> | Disconnect> {
  for (let first = true; ; first = false) {
    const outcome = PROVIDER_CAPABILITIES[c.input.provider].dataWebhook
      ? await waitForJobOrWebhook(c, kind, trigger && first)
      : await waitForJob({ ...c.providerCall(), job: kind, trigger: trigger && first });
    c.jobAnswers++;
    c.memory.providerSeenAt = isoAt(workflowNow());
    if (outcome.outcome === 'success') {
      if (outcome.providerRef) c.memory.providerRef = { ...c.memory.providerRef, ...outcome.providerRef };
    }
    if (outcome.outcome !== 'challenge') return outcome;

    const { challenge } = outcome;
    const timeoutMs = challenge.timeoutSeconds === null ? DEFAULT_CHALLENGE_TIMEOUT_MS : challenge.timeoutSeconds * 1000;
    c.challenge = challenge;
    c.challengeAnswered = false;
    c.challengeClosed = false;
    c.moveTo('challenge_required', {
      type: 'challenge',
      fields: challenge.fields,
      messages: challenge.messages,
      expires_at: isoAt(workflowNow() + timeoutMs),
    });
    const answered = await c.waitFor(() => c.challengeAnswered || c.challengeClosed, timeoutMs, 'Challenge deadline: the end user answers the bank');
    if (answered === DISCONNECT) return DISCONNECT;
    c.challenge = null;
    if (c.challengeClosed && !c.challengeAnswered) {
      // Closed at the provider: its job says what follows (a new challenge, or CHALLENGE_TIMED_OUT), never a stuck challenge.
      c.challengeClosed = false;
      c.moveTo(kind === 'list' ? 'listing_accounts' : 'syncing');
      continue;
    }
    if (!answered) c.challengesTimedOut++;
    if (!answered) return { outcome: 'failed', status: 'CHALLENGE_TIMED_OUT', channelId: challenge.channelId };
    c.challengeAnswered = false;
    c.moveTo(kind === 'list' ? 'listing_accounts' : 'syncing');
  }
}

/**
 * waitForJob for a provider that says by webhook when the data is ready (Flinks): the activity
 * answers at once or fails as pending, and Temporal retries it with backoff, so no worker slot
 * is held meanwhile. Whichever comes first wins: the next retry, or the provider's webhook, which
 * cancels the backoff and looks again at once. Still pending after every retry: a failed job.
 */
async function waitForJobOrWebhook(c: Connection, kind: 'list' | 'sync', trigger: boolean): Promise<JobOutcome> {
  for (;;) {
    const scope = new CancellationScope();
    const pending = scope.run(() => waitForPendingJob({ ...c.providerCall(), job: kind, trigger }));
    let settled = false;
    pending.then(
      () => (settled = true),
      () => (settled = true),
    );
    await condition(() => settled || c.providerEvents.some((e) => e.kind !== 'connected' && !c.isStale(e)));
    if (!settled) {
      c.providerEvents = c.providerEvents.filter((e) => e.kind === 'connected');
      scope.cancel();
      await pending.catch(() => undefined);
      trigger = false;
      continue;
    }
    try {
      return await pending;
    } catch (err) {
      if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.type === JOB_PENDING) {
        return { outcome: 'failed', status: 'FAILED', channelId: null };
      }
      throw err;
    }
  }
}
