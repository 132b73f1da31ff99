// Links that never go stale: every authorization URL offered to a client or an end user points at
// Linkflow (`GET /connect/links/<link>`), which asks the workflow for a fresh provider URL when the
// link is opened. The workflow keeps the provider's URL in its state; views and webhook events are
// rewritten here, where they leave Linkflow (the API's presenter, the webhook delivery).
import type { ConnectionView, NextAction, WebhookEvent } from '../contract/messages';
import type { StateSigner } from './redirect-state';

/** A link stays usable at least this long after it was handed out, whatever `expires_at` says (a repair's is only indicative). */
export const MIN_LINK_LIFETIME_MS = 24 * 3600_000;

/** The path the links live under: `${publicUrl}${LINK_PATH}/<link>`. */
export const LINK_PATH = '/connect/links';

/**
 * Mints Linkflow links. `publicUrl` is this Linkflow's public base URL as browsers reach it
 * (PUBLIC_URL); `signer` holds the redirect-state secret, shared by API and worker.
 */
export function createLinkMinter({ signer, publicUrl }: { signer: StateSigner; publicUrl: string }) {
  const base = publicUrl.replace(/\/+$/, '');

  /**
   * The Linkflow URL for a connection's redirect action. It expires at the action's `expires_at`,
   * or `MIN_LINK_LIFETIME_MS` after `issuedAtMs` if that is later. Deterministic: the same
   * connection, action and issue time give the same link (a retried webhook delivery signs the same body).
   */
  function linkFor(connectionId: string, expiresAt: string, issuedAtMs: number): string {
    const expiresAtMs = Math.max(Date.parse(expiresAt) || 0, issuedAtMs + MIN_LINK_LIFETIME_MS);
    return `${base}${LINK_PATH}/${signer.signLink(connectionId, expiresAtMs)}`;
  }

  /** `action` with a redirect's provider URL replaced by the Linkflow link; any other action unchanged. */
  function linkedAction<A extends NextAction | null>(connectionId: string, action: A, issuedAtMs: number): A {
    if (action?.type !== 'redirect') return action;
    return { ...action, url: linkFor(connectionId, action.expires_at, issuedAtMs) };
  }

  return {
    linkFor,
    linkedAction,

    /** A connection view as the API answers it: `next_action.url` is a Linkflow link issued now. */
    linkedView(view: ConnectionView, nowMs: number = Date.now()): ConnectionView {
      return { ...view, next_action: linkedAction(view.id, view.next_action, nowMs) };
    },

    /**
     * A client webhook event as it is sent: every `next_action.url` it carries is a Linkflow link
     * issued at the event's `created_at` (so each delivery attempt sends the same bytes).
     */
    linkedEvent(event: WebhookEvent): WebhookEvent {
      const issuedAt = Date.parse(event.created_at);
      const data = event.data as { next_action?: NextAction | null };
      if (!data || !('next_action' in data) || data.next_action?.type !== 'redirect') return event;
      return { ...event, data: { ...data, next_action: linkedAction(event.connection_id, data.next_action, issuedAt) } } as WebhookEvent;
    },

    /**
     * The connection a link names, if it is one Linkflow signed and it has not expired at `nowMs`;
     * else why not: `invalid` (malformed, tampered, another secret's) or `expired`.
     */
    open(link: string, nowMs: number = Date.now()): { ok: true; connectionId: string } | { ok: false; reason: 'invalid' | 'expired' } {
      const opened = signer.openLink(link);
      if (!opened) return { ok: false, reason: 'invalid' };
      if (opened.expiresAtMs <= nowMs) return { ok: false, reason: 'expired' };
      return { ok: true, connectionId: opened.connectionId };
    },
  };
}

export type LinkMinter = ReturnType<typeof createLinkMinter>;
