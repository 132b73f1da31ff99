import type { ParsedRedirect } from '../types';
import { RedirectQuerySchema } from './schemas';

/**
 * The webview's redirect back: `connection_id` and our `state`, or `error` (`access_denied` when
 * the end user declined) and `error_description`. Throws a ZodError when malformed.
 */
export function parsePowensRedirect(query: unknown): ParsedRedirect {
  const q = RedirectQuerySchema.parse(query);
  if (q.error === undefined && q.connection_id !== undefined) {
    return { state: q.state, redirect: { outcome: 'success', providerConnectionId: q.connection_id } };
  }
  if (q.error === 'access_denied') return { state: q.state, redirect: { outcome: 'denied', error: q.error } };
  return { state: q.state, redirect: { outcome: 'failed', error: q.error ?? 'no connection_id' } };
}
