import type { ParsedRedirect } from '../types';
import { RedirectQuerySchema } from './schemas';

/** Oxlin's redirect back: `connection_id`, `status`, `queue_id`, and our `state`. Throws a ZodError when malformed. */
export function parseOxlinRedirect(query: unknown): ParsedRedirect {
  const q = RedirectQuerySchema.parse(query);
  if (q.status === 'SUCCESS' && q.connection_id && q.queue_id) {
    return {
      state: q.state,
      redirect: { outcome: 'success', providerConnectionId: q.connection_id, providerRef: { queueId: q.queue_id } },
    };
  }
  if (q.error === 'access_denied') return { state: q.state, redirect: { outcome: 'denied', error: q.error } };
  return { state: q.state, redirect: { outcome: 'failed', error: q.error ?? `status ${q.status} without a connection` } };
}
