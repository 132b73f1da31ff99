import type { ParsedRedirect } from '../types';
import { RedirectQuerySchema } from './schemas';

/**
 * LnkFi's redirect back: our `state` (appended to vendor_redirect_url) and LnkFi's `result`.
 * A success names no connection: it arrives with the connection_completed webhook. Throws a
 * ZodError when malformed (no state, a missing or unknown result).
 */
export function parseLnkfiRedirect(query: unknown): ParsedRedirect {
  const { state, result } = RedirectQuerySchema.parse(query);
  switch (result) {
    case 'success':
      return { state, redirect: { outcome: 'success' } };
    case 'canceled':
      return { state, redirect: { outcome: 'denied', error: 'canceled' } };
    case 'error':
      return { state, redirect: { outcome: 'failed', error: 'LnkFi could not complete the authorization with the system.' } };
  }
}
