import type { ConnectionState } from './messages';

/**
 * What a client may ask of a connection, by the workflow message the API turns the call into:
 * the updates (`POST …/credentials`, `POST …/challenge`, `PUT …/consents`, `POST …/renewal`,
 * `POST …/channels`) and the `syncRequested` signal (`POST …/sync`). `DELETE` and `GET` are not
 * listed: every state takes them (a DELETE of an ended connection is a 409 in the API).
 */
export type ClientAction = 'submitCredentials' | 'answerChallenge' | 'giveConsent' | 'requestRenewal' | 'addChannel' | 'sync';

/** One row of the lifecycle table. */
export interface LifecycleRow {
  /** What the client may ask in this state; anything else is a 409 `wrong_state`. */
  allows: readonly ClientAction[];
  /**
   * The states the workflow can move to from here (besides `disconnected`, which a DELETE reaches
   * from every live state, and `failed`, which a provider call failing for good reaches).
   */
  next: readonly ConnectionState[];
  /** Where in `workflows/connection/` this state is entered and left (file: function). */
  code: string;
}

/** States no connection leaves. */
const ENDED: LifecycleRow = { allows: [], next: [], code: 'state.ts: end(); the workflow returns its view' };

/**
 * The connection lifecycle (DESIGN.md, "The connection lifecycle"), state by state: what the
 * client may do there, where it goes next and which code does it. The update validators and the
 * API's route checks read `allows` from here (`allows(state, action)`); the time-skipping tests
 * check every move they see against `next` (test/workflows/connection.test.ts, "the lifecycle table").
 *
 * A first channel: authorizing → awaiting_redirect | awaiting_credentials → listing_accounts
 * (⇄ challenge_required) → awaiting_consent → syncing → active. Then, for years: syncing ⇄ active,
 * with renewal_required, credentials_invalid and user_action_required on the way, and added channels
 * going through the first-channel states again from active. Ends: expired, cancelled, failed,
 * disconnected.
 */
export const LIFECYCLE: Readonly<Record<ConnectionState, LifecycleRow>> = {
  authorizing: {
    allows: [],
    next: ['awaiting_redirect', 'awaiting_credentials'],
    code: 'phases.ts: connectFirstChannel() / addChannel() → authorize(), startAuthorization',
  },
  awaiting_redirect: {
    allows: [],
    // The first channel ends expired/cancelled; an added one given up goes back to where it was.
    next: ['listing_accounts', 'expired', 'cancelled', 'active', 'renewal_required'],
    code: 'phases.ts: authorize() waits for redirectReceived (acceptRedirect, completeWithCode)',
  },
  awaiting_credentials: {
    allows: ['submitCredentials'],
    next: ['listing_accounts', 'expired', 'active', 'renewal_required'],
    code: 'phases.ts: authorize() waits; handlers.ts: the submitCredentials update',
  },
  listing_accounts: {
    allows: [],
    next: ['challenge_required', 'awaiting_consent', 'credentials_invalid', 'syncing', 'cancelled', 'expired', 'active', 'renewal_required'],
    code: "phases.ts: authorizeAndList() → job('list'), then consentToNewAccounts()",
  },
  challenge_required: {
    allows: ['answerChallenge'],
    next: ['listing_accounts', 'syncing', 'expired', 'active', 'renewal_required'],
    code: 'phases.ts: job() waits; handlers.ts: the answerChallenge update',
  },
  awaiting_consent: {
    allows: ['giveConsent'],
    next: ['syncing', 'expired', 'cancelled', 'active', 'renewal_required'],
    code: 'phases.ts: consentToNewAccounts() waits; handlers.ts: the giveConsent update',
  },
  syncing: {
    allows: [],
    next: ['active', 'renewal_required', 'user_action_required', 'credentials_invalid', 'challenge_required'],
    code: "live.ts: syncAndRepair() → job('sync') → afterSync(), importData",
  },
  active: {
    allows: ['sync', 'requestRenewal', 'addChannel'],
    // An added channel that asks nothing (a Powens source whose fields were given) lists at once.
    next: ['syncing', 'renewal_required', 'awaiting_redirect', 'awaiting_credentials', 'listing_accounts', 'credentials_invalid', 'user_action_required'],
    code: 'live.ts: live() waits for the next sync, a request, a provider event or a renewal',
  },
  renewal_required: {
    allows: ['sync', 'requestRenewal'],
    next: ['syncing', 'active', 'expired', 'credentials_invalid', 'user_action_required'],
    code: 'live.ts: startRenewal(), then live(): the renewal redirect (acceptRedirect) or its deadline',
  },
  credentials_invalid: {
    allows: ['submitCredentials'],
    next: ['listing_accounts', 'syncing'],
    code: 'live.ts: syncAndRepair() → phases.ts: repairChannel(), a fresh authorization until one works, then its syncs',
  },
  user_action_required: {
    allows: ['sync', 'requestRenewal', 'addChannel'],
    next: ['syncing', 'active', 'renewal_required', 'awaiting_redirect', 'awaiting_credentials', 'listing_accounts', 'credentials_invalid'],
    code: 'live.ts: afterSync() on USER_ACTION_REQUIRED; live() retries at the next sync',
  },
  expired: ENDED,
  cancelled: ENDED,
  failed: ENDED,
  disconnected: ENDED,
};

/** Whether `state` takes `action` (LIFECYCLE[state].allows). */
export const allows = (state: ConnectionState, action: ClientAction): boolean => LIFECYCLE[state].allows.includes(action);

/** The states that take `action`, in the table's order (for error messages). */
export const statesAllowing = (action: ClientAction): ConnectionState[] =>
  (Object.keys(LIFECYCLE) as ConnectionState[]).filter((state) => allows(state, action));

/**
 * Whether a move the client saw (`connection.state_changed`, whose events leave out `syncing`)
 * is one the table declares: directly, through `syncing`, or to `disconnected`/`failed`.
 */
export function isDeclaredMove(from: ConnectionState, to: ConnectionState): boolean {
  if (to === from || to === 'disconnected' || to === 'failed') return LIFECYCLE[from].next.length > 0 || to === from;
  const { next } = LIFECYCLE[from];
  return next.includes(to) || (next.includes('syncing') && LIFECYCLE.syncing.next.includes(to));
}
