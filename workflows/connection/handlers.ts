// The connection's signal, update and query handlers: they record what the outside asked, for the
// phases to act on, and answer updates once the lifecycle has moved.
import { ApplicationFailure, condition, log, patched, setHandler } from '@temporalio/workflow';
import type { AddChannel, AnswerChallenge, Challenge, GiveConsent, SubmitCredentials } from '../../contract/messages';
import { checkGiveConsent, checkSubmitCredentials } from '../../contract/checks';
import {
  PROVIDER_CAPABILITIES,
  PROVIDERS,
  UpdateRejection,
  addChannelUpdate,
  answerChallengeUpdate,
  disconnectRequestedSignal,
  firstActionUpdate,
  giveConsentUpdate,
  openAuthorizationUpdate,
  redirectReceivedSignal,
  providerEventSignal,
  requestRenewalUpdate,
  stateQuery,
  submitCredentialsUpdate,
  syncRequestedSignal,
} from '../../contract/definitions';
import { allows } from '../../contract/lifecycle';
import { submitCredentials, answerChallenge, refreshAuthorizationUrl, OWN_PROVIDER_EVENTS } from './calls';
import type { Connection } from './state';

/**
 * Registers the connection's query, signals and updates on `c`. Signals only record (the phases
 * act on them); updates are validated against the lifecycle table (contract/lifecycle.ts) and answer
 * once the lifecycle has moved (or the connection has ended).
 */
export function registerHandlers(c: Connection): void {
  setHandler(stateQuery, () => c.view());

  // Registered before the workflow's first await, so an update sent with the start (update-with-start) finds it.
  // Waiting adds no command: a connection that never receives it replays as before.
  setHandler(firstActionUpdate, async () => {
    await condition(() => c.state !== 'authorizing' || c.ended);
    return c.view();
  });

  setHandler(redirectReceivedSignal, (redirect) => {
    // Late, replayed or foreign redirects change nothing.
    if (c.expectedNonce === null || redirect.nonce !== c.expectedNonce) {
      log.warn('redirect ignored', { state: c.state });
      return;
    }
    c.expectedNonce = null;
    c.redirect = redirect;
  });

  setHandler(providerEventSignal, (event) => {
    if (c.seenProviderEvents.includes(event.eventId)) return;
    // The API namespaces event ids by the provider that signed them: another provider's event
    // (LnkFi echoes any connection id we gave it) says nothing about this connection.
    const signer = PROVIDERS.find((p) => event.eventId.startsWith(`${p}:`));
    if (signer !== undefined && signer !== c.input.provider && patched(OWN_PROVIDER_EVENTS)) {
      log.warn('another provider\'s event ignored', { provider: c.input.provider });
      return;
    }
    c.seenProviderEvents = [...c.seenProviderEvents.slice(-99), event.eventId];
    c.providerEvents.push(event);
  });

  setHandler(syncRequestedSignal, (request) => {
    c.syncRequested = true;
    if (request?.full) c.fullSyncRequested = true;
  });

  setHandler(disconnectRequestedSignal, () => {
    c.disconnectRequested = true;
  });

  // What each update needs of the connection: checked by its validator, and again once its turn comes.
  const takesCredentials = () => allows(c.state, 'submitCredentials') && c.credentialsChannel !== null && !c.acceptedCredentials;
  const takesAnswers = () => allows(c.state, 'answerChallenge') && c.challenge !== null && !c.challengeAnswered;

  setHandler(
    submitCredentialsUpdate,
    async ({ credentials }) => {
      // Another update is at the provider: wait for it (checked synchronously, so without one nothing
      // is awaited and handlers recorded before this change run exactly as they did), then check again.
      if (c.busy) {
        await c.takeTurn();
        c.expect(takesCredentials(), 'submitCredentials');
      }
      const waits = c.credentialsWaitsEnded;
      c.busy = true;
      try {
        const connection = await c.viaProvider(() =>
          submitCredentials({
            provider: c.input.provider,
            institutionId: c.input.institutionId,
            channelId: c.credentialsChannel as string,
            credentials,
            providerRef: c.memory.providerRef,
            ...(c.memory.providerConnectionId ? { existing: c.providerConnection() } : {}),
          }),
        ).catch((err: unknown) => {
          // The bank refused them (Powens wrongpass): asked again, and the connection says why ('provider-rejections').
          if (err instanceof ApplicationFailure && err.type === UpdateRejection.ProviderRejected && c.credentialsWaitsEnded === waits) {
            if (patched('provider-rejections')) c.moveTo(c.state, c.memory.nextAction, 'AUTH_FAILED');
          }
          throw err;
        });
        // The wait for them ended while the provider checked them (timed out, disconnected): too late.
        if (c.credentialsWaitsEnded !== waits) {
          await condition(() => c.ended || (!c.disconnectRequested && !['awaiting_credentials', 'credentials_invalid'].includes(c.state)));
          return c.view();
        }
        c.memory.providerConnectionId = connection.providerConnectionId;
        c.memory.providerRef = { ...c.memory.providerRef, ...connection.providerRef };
        c.acceptedCredentials = true;
      } finally {
        c.busy = false;
      }
      // A DELETE that came meanwhile is answered with its outcome, not with the state it interrupted.
      await condition(() => (!c.acceptedCredentials && !c.disconnectRequested) || c.ended);
      return c.view();
    },
    {
      validator: (submitted: SubmitCredentials) => {
        // Credentials are taken while authorize() waits for them (credentialsChannel), in the states that allow them.
        c.expect(takesCredentials(), 'submitCredentials');
        const parsed = checkSubmitCredentials(submitted);
        if (!parsed.success) c.reject(parsed.error);
      },
    },
  );

  setHandler(
    answerChallengeUpdate,
    async ({ answers }: AnswerChallenge) => {
      if (c.busy) {
        await c.takeTurn();
        c.expect(takesAnswers(), 'answerChallenge');
      }
      const challenge = c.challenge as Challenge;
      const answersBefore = c.jobAnswers;
      const timedOutBefore = c.challengesTimedOut;
      c.busy = true;
      try {
        await c.viaProvider(() => answerChallenge({ ...c.providerCall(), challenge, answers })).catch((err: unknown) => {
          // The provider closed the challenge (its own deadline): the job is asked what came of it at once. 'challenge-expiry'
          // can be deprecated once no history recorded before it is running (those waited for the workflow's own timer).
          if (err instanceof ApplicationFailure && err.type === UpdateRejection.ChallengeExpired && c.challengesTimedOut === timedOutBefore) {
            if (patched('challenge-expiry')) c.challengeClosed = true;
          }
          throw err;
        });
        // The challenge timed out while the answer was on its way: nothing waits for it any more.
        if (c.challengesTimedOut !== timedOutBefore) return c.view();
        c.challengeAnswered = true;
      } finally {
        c.busy = false;
      }
      // Answered: the update's result is what the provider made of it — a new challenge or the job going on.
      await condition(() => c.jobAnswers !== answersBefore || c.challengesTimedOut !== timedOutBefore || c.ended);
      return c.view();
    },
    {
      validator: ({ answers }: AnswerChallenge) => {
        c.expect(takesAnswers(), 'answerChallenge');
        const known = new Set(c.challenge?.fields.map((f) => f.id));
        const unknown = answers.map((a) => a.id).filter((id) => !known.has(id));
        if (unknown.length > 0) c.reject(`not fields of the current challenge: ${unknown.join(', ')}`, { unknown_field_ids: unknown });
      },
    },
  );

  setHandler(
    giveConsentUpdate,
    async (consent) => {
      c.pendingConsent = consent;
      await condition(() => c.state !== 'awaiting_consent');
      return c.view();
    },
    {
      validator: (consent: GiveConsent) => {
        c.expect(allows(c.state, 'giveConsent') && c.pendingConsent === null, 'giveConsent');
        const parsed = checkGiveConsent(consent);
        if (!parsed.success) c.reject(parsed.error);
        const asked = new Set(c.memory.nextAction?.type === 'consent' ? c.memory.nextAction.accounts.map((a) => a.id) : []);
        const unknown = consent.consents.map((decision) => decision.account_id).filter((id) => !asked.has(id));
        if (unknown.length > 0) c.reject(`unknown account ids: ${unknown.join(', ')}`, { unknown_account_ids: unknown });
      },
    },
  );

  setHandler(
    requestRenewalUpdate,
    async () => {
      c.renewalRequested = true;
      await condition(() => !c.renewalRequested || c.ended);
      return c.view();
    },
    {
      validator: () => {
        c.expect(allows(c.state, 'requestRenewal'), 'requestRenewal');
        if (!c.memory.channels.some((channel) => channel.mode === 'redirect')) c.reject('the connection has no redirect channel to renew');
      },
    },
  );

  // A Linkflow link opened: the provider URL of the redirect offered now, minted fresh. No state moves.
  const notOffered = () =>
    ApplicationFailure.create({
      type: UpdateRejection.WrongState,
      message: `this link is no longer needed: the connection is ${c.state}`,
      details: [{ state: c.state }],
    });
  setHandler(
    openAuthorizationUpdate,
    async () => {
      const offer = c.redirectOffer();
      if (!offer) throw notOffered();
      const url = await c.viaProvider(() =>
        refreshAuthorizationUrl({
          provider: c.input.provider,
          connectionId: c.input.connectionId,
          institutionId: c.input.institutionId,
          callbackUrl: c.input.callbackUrl,
          url: offer.url,
          channelId: offer.channelId,
          nonce: offer.nonce,
          providerRef: c.memory.providerRef,
          ...(offer.existing && c.memory.providerConnectionId ? { existing: c.providerConnection() } : {}),
        }),
      );
      return { url };
    },
    {
      validator: () => {
        if (!c.redirectOffer()) throw notOffered();
      },
    },
  );

  setHandler(
    addChannelUpdate,
    async ({ mode }: AddChannel) => {
      const ended = c.channelAttemptsEnded;
      c.addChannel = mode;
      // Answered once the new channel asks for its authorization (or the attempt ended).
      await condition(
        () =>
          (c.addChannel === null && !['active', 'user_action_required', 'syncing', 'renewal_required'].includes(c.state)) ||
          c.channelAttemptsEnded !== ended ||
          c.ended,
      );
      return c.view();
    },
    {
      validator: ({ mode }: AddChannel) => {
        c.expect(allows(c.state, 'addChannel') && c.addChannel === null, 'addChannel');
        const capabilities = PROVIDER_CAPABILITIES[c.input.provider];
        if (!capabilities.modes.includes(mode)) c.reject(`${c.input.provider} has no ${mode} channels`);
        // Providers whose channels are sequential sources (Powens) add the next one; the provider says when none is left.
        if (!capabilities.sequentialChannels && c.memory.channels.some((channel) => channel.mode === mode)) {
          c.reject(`the connection already has a ${mode} channel`);
        }
      },
    },
  );
}
