import type { ParsedRedirect } from '../types';
import { RedirectQuerySchema } from './schemas';

/**
 * Oxlin's redirect back (RedirectQuerySchema): an authorization `code` for Linkflow to create the
 * connection with, or `status` with Oxlin's `connection_id` and `queue_id`; our `state` either way.
 * With a code, whatever else the query names is ignored: the provider connection comes from
 * exchanging the code, never from the browser. Throws a ZodError when malformed.
 */
export function parseOxlinRedirect(query: unknown): ParsedRedirect {
  const q = RedirectQuerySchema.parse(query);
  if (q.code !== undefined) return { state: q.state, redirect: { outcome: 'success' }, authorizationCode: q.code };
  if (q.status === 'SUCCESS' && q.connection_id && q.queue_id) {
    return {
      state: q.state,
      redirect: { outcome: 'success', providerConnectionId: q.connection_id, providerRef: { queueId: q.queue_id } },
    };
  }
  if (q.error === 'access_denied') return { state: q.state, redirect: { outcome: 'denied', error: q.error } };
  return { state: q.state, redirect: { outcome: 'failed', error: q.error ?? (q.status === undefined ? "neither a code nor a status" : `status ${q.status} without a connection`) } };
}
