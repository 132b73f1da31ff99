// Which step of the Connect page a session is at, and its page: the connection's state and next
// action decide, after the terms the end user still has to accept.
import { type ConnectionView, TERMINAL_STATES } from '../../../contract/messages';
import { type ConnectSession, type ConnectSettings, termsDigest } from '../../../store/connect-sessions';
import {
  type ChoosableInstitution,
  type PageContext,
  actionStep,
  challengeStep,
  chooseStep,
  consentStep,
  credentialsStep,
  endedStep,
  page,
  redirectStep,
  successStep,
  termsStep,
  waitingStep,
} from './render';

export type Step = 'terms' | 'choose' | 'redirect' | 'credentials' | 'challenge' | 'consent' | 'waiting' | 'success' | 'action' | 'ended';

/** Terms the end user has not accepted yet: the tenant's own first, then the provider's (LnkFi) when its redirect is next. */
export function pendingTerms(session: ConnectSession, settings: ConnectSettings, view: ConnectionView | null): { text: string; digest: string }[] {
  const texts = [settings.terms, view?.next_action?.type === 'redirect' ? view.next_action.terms : undefined].filter((t): t is string => !!t);
  return texts.map((text) => ({ text, digest: termsDigest(text) })).filter((t) => !session.acceptedTerms.includes(t.digest));
}

/** The step for what the connection needs next. */
export function stepOf(session: ConnectSession, settings: ConnectSettings, view: ConnectionView | null): Step {
  const terms = pendingTerms(session, settings, view);
  if (settings.terms && terms.some((t) => t.text === settings.terms)) return 'terms';
  if (!view) return 'choose';
  if (TERMINAL_STATES.includes(view.state)) return 'ended';
  switch (view.next_action?.type) {
    case 'redirect':
      return terms.length > 0 ? 'terms' : 'redirect';
    case 'credentials':
      return 'credentials';
    case 'challenge':
      return 'challenge';
    case 'consent':
      return 'consent';
    case 'message':
    case 'reconnect':
      return 'action';
    default:
      return view.state === 'active' ? 'success' : 'waiting';
  }
}

/** Steps whose page follows the connection by polling `status` (and reloads when the step changes). */
const POLLED: readonly Step[] = ['waiting', 'redirect', 'success'];

/** The page for the session's current step. */
export function renderStep(
  ctx: PageContext,
  step: Step,
  input: {
    session: ConnectSession;
    settings: ConnectSettings;
    view: ConnectionView | null;
    institutions: ChoosableInstitution[];
    query: string;
    credentialsPublicKey: string;
  },
): string {
  const { view, m } = { view: input.view, m: ctx.m };
  const action = view?.next_action ?? null;
  const options = { step, ...(POLLED.includes(step) ? { poll: `${ctx.base}/status` } : {}), ...(view ? { state: view.state } : {}) };
  switch (step) {
    case 'terms':
      return page(ctx, m.termsTitle, termsStep(ctx, pendingTerms(input.session, input.settings, view)), options);
    case 'choose':
      return page(ctx, m.chooseTitle, chooseStep(ctx, input.institutions, input.query), options);
    case 'redirect':
      return page(ctx, view?.state === 'renewal_required' ? m.renewalTitle : m.redirectTitle, redirectStep(ctx, view?.state === 'renewal_required'), options);
    case 'credentials':
      if (action?.type !== 'credentials') break;
      return page(ctx, m.credentialsTitle, credentialsStep(ctx, action.fields, view?.state === 'credentials_invalid', input.credentialsPublicKey), options);
    case 'challenge':
      if (action?.type !== 'challenge') break;
      return page(ctx, m.challengeTitle, challengeStep(ctx, action), options);
    case 'consent':
      if (action?.type !== 'consent') break;
      return page(ctx, m.consentTitle, consentStep(ctx, action.accounts), options);
    case 'success':
      if (!view) break;
      return page(ctx, m.successTitle, successStep(ctx, view), options);
    case 'action':
      if (action?.type !== 'message' && action?.type !== 'reconnect') break;
      return page(ctx, m.actionTitle, actionStep(ctx, action.message), options);
    case 'ended': {
      if (!view) break;
      const title = m[`endedTitle_${view.state as 'expired' | 'cancelled' | 'failed' | 'disconnected'}`] ?? m.endedTitle_failed;
      return page(ctx, title, endedStep(ctx, canRestart(input.session)), options);
    }
    case 'waiting':
      break;
  }
  return page(ctx, m.waitingTitle, waitingStep(ctx, view?.state ?? 'authorizing'), { ...options, step: 'waiting', poll: `${ctx.base}/status` });
}

/** A session can start a new connection when it was made for one (not for an existing connection). */
export const canRestart = (session: ConnectSession): boolean => session.request.start === true;

/**
 * Where the page sends the browser at the end: the client's redirect URL with the connection id
 * and the outcome (`success` once the data is flowing, else the connection's state).
 */
export function clientReturnUrl(session: ConnectSession, view: ConnectionView | null): string {
  const next = new URL(session.redirectUrl);
  if (view) next.searchParams.set('connection_id', view.id);
  next.searchParams.set('outcome', !view ? 'cancelled' : view.state === 'active' || view.state === 'syncing' ? 'success' : view.state);
  return next.toString();
}
