import type { ParsedRedirect } from '../types';
import { RedirectQuerySchema } from './schemas';

/**
 * Oxlin's redirect back (RedirectQuerySchema): an authorization `code` for Linkflow to create the
 * connection with, or `status` with Oxlin's `connection_id` and `queue_id`; our `state` either way.
 * A code comes alone (with `state`): a provider connection id next to it is ignored, since the
 * connection comes from exchanging the code, never from the browser; a code next to a `status` or
 * an `error` is ignored instead (a denial stays a denial, a renewal keeps its `connection_id`).
 * Throws a ZodError when malformed.
 */
export function parseOxlinRedirect(query: unknown): ParsedRedirect {
  const q = RedirectQuerySchema.parse(query);
  // A code stands alone: next to a status or an error (a denial, a renewal's connection_id) it is not Oxlin's.
  if (q.code !== undefined && q.status === undefined && q.error === undefined) {
    return { state: q.state, redirect: { outcome: 'success' }, authorizationCode: q.code };
  }
  if (q.status === 'SUCCESS' && q.connection_id && q.queue_id) {
    return {
      state: q.state,
      redirect: { outcome: 'success', providerConnectionId: q.connection_id, providerRef: { queueId: q.queue_id } },
    };
  }
  if (q.error === 'access_denied') return { state: q.state, redirect: { outcome: 'denied', error: q.error } };
  return { state: q.state, redirect: { outcome: 'failed', error: q.error ?? (q.status === undefined ? "neither a code nor a status" : `status ${q.status} without a connection`) } };
}
