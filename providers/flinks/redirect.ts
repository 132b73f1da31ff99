import type { ParsedRedirect } from '../types';
import { RedirectQuerySchema } from './schemas';

/**
 * Flinks Connect's redirect back: our `state` (carried on the RedirectUrl) plus `loginId` and
 * `institution`, and `accountId` when the account selector was on. Flinks Connect only redirects
 * after a successful connection, so one without a loginId is a failure. Throws a ZodError when malformed.
 */
export function parseFlinksRedirect(query: unknown): ParsedRedirect {
  const q = RedirectQuerySchema.parse(query);
  if (!q.loginId) return { state: q.state, redirect: { outcome: 'failed', error: 'Flinks Connect came back without a loginId' } };
  return {
    state: q.state,
    redirect: {
      outcome: 'success',
      providerConnectionId: q.loginId,
      providerRef: { ...(q.institution ? { institution: q.institution } : {}), ...(q.accountId ? { accountId: q.accountId } : {}) },
    },
  };
}
