import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Queryable } from './db';

/**
 * What POST /v1/connections would take, kept with a Connect session so the page can start the
 * connection once the end user has chosen (`provider` and `institution_id` absent until then) or
 * start it again after it ended. Field names as the API's (snake_case).
 */
export interface ConnectRequest {
  /** The session starts its own connection (not one given by `connection_id`), and may start it again. */
  start?: true;
  provider?: string;
  institution_id?: string;
  mode?: 'redirect' | 'embedded';
  user_ref?: string;
  sync_interval_seconds?: number;
  redirect_timeout_seconds?: number;
  consent_timeout_seconds?: number;
  renewal_lead_seconds?: number;
}

/** A Connect session as the page reads it. Times are ISO 8601 strings. */
export interface ConnectSession {
  id: string;
  tenantId: string;
  /** Null until the end user has chosen an institution (or the session was made for an existing connection). */
  connectionId: string | null;
  request: ConnectRequest;
  /** The client's own URL the browser goes back to, with `connection_id` and `outcome`. */
  redirectUrl: string;
  /** `en` or `fr` when the client chose; null: the browser's Accept-Language decides. */
  locale: string | null;
  /** SHA-256 (hex) of each terms text the end user accepted. */
  acceptedTerms: string[];
  /** Until when the browser that opened the token may go on. */
  expiresAt: string;
}

/** A tenant's settings for the Connect page. */
export interface ConnectSettings {
  /** Origins allowed to embed the page (CSP `frame-ancestors`); empty: nobody. */
  frameAncestors: string[];
  /** The tenant's own terms, shown (and accepted) before anything else; null: none. */
  terms: string | null;
}

/** Why opening a token failed: unknown (never issued, or tampered), already used, or past its life. */
export type OpenFailure = 'unknown' | 'used' | 'expired';

/** How long a start may hold a session's lease (two starts of up to ~10 s each, with room): seconds. */
export const START_LEASE_SECONDS = 60;

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');
const secret = (): string => randomBytes(32).toString('base64url');

interface SessionRow {
  id: string;
  tenant_id: string;
  connection_id: string | null;
  request: ConnectRequest;
  redirect_url: string;
  locale: string | null;
  accepted_terms: string[];
  expires_at: Date | string;
}

const toSession = (row: SessionRow): ConnectSession => ({
  id: row.id,
  tenantId: row.tenant_id,
  connectionId: row.connection_id,
  request: row.request,
  redirectUrl: row.redirect_url,
  locale: row.locale,
  acceptedTerms: row.accepted_terms,
  expiresAt: new Date(row.expires_at).toISOString(),
});

const COLUMNS = 'id, tenant_id, connection_id, request, redirect_url, locale, accepted_terms, expires_at';

/**
 * Connect sessions (store/migrations/015_connect_sessions.sql). The URL token and the browser's
 * cookie secret are random 256-bit values of which only SHA-256 hashes are stored; a token opens
 * once (one UPDATE decides between concurrent opens), and only before it expires.
 */
export function createConnectSessions(db: Queryable) {
  return {
    /**
     * A new session; answers its id and the URL token (shown once). `tokenSeconds`: how long the
     * token may be opened; `sessionSeconds`: how long the browser that opened it may go on.
     */
    async create(session: {
      tenantId: string;
      connectionId: string | null;
      request: ConnectRequest;
      redirectUrl: string;
      locale: string | null;
      tokenSeconds: number;
      sessionSeconds: number;
    }): Promise<{ id: string; token: string; tokenExpiresAt: string }> {
      const id = `cs_${randomBytes(16).toString('hex')}`;
      const token = secret();
      const [row] = await db.query<{ token_expires_at: Date | string }>(
        `INSERT INTO connect_sessions (id, tenant_id, token_hash, connection_id, request, redirect_url, locale, token_expires_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, now() + $8::int * interval '1 second', now() + $9::int * interval '1 second')
         RETURNING token_expires_at`,
        [id, session.tenantId, sha256(token), session.connectionId, JSON.stringify(session.request), session.redirectUrl, session.locale, session.tokenSeconds, session.tokenSeconds + session.sessionSeconds],
      );
      return { id, token, tokenExpiresAt: new Date(row!.token_expires_at).toISOString() };
    },

    /**
     * Spends a URL token: binds its session to a new browser secret (for the cookie) and answers
     * both, or why not. Exactly one of concurrent opens of the same token wins.
     */
    async open(token: string): Promise<{ session: ConnectSession; browserSecret: string } | { failure: OpenFailure }> {
      if (token.length > 200) return { failure: 'unknown' };
      const browserSecret = secret();
      const [row] = await db.query<SessionRow>(
        `UPDATE connect_sessions SET browser_secret_hash = $2, opened_at = now()
         WHERE token_hash = $1 AND opened_at IS NULL AND token_expires_at > now()
         RETURNING ${COLUMNS}`,
        [sha256(token), sha256(browserSecret)],
      );
      if (row) return { session: toSession(row), browserSecret };
      const [known] = await db.query<{ used: boolean }>('SELECT opened_at IS NOT NULL AS used FROM connect_sessions WHERE token_hash = $1', [sha256(token)]);
      return { failure: !known ? 'unknown' : known.used ? 'used' : 'expired' };
    },

    /** The session the browser holding `browserSecret` opened, while it lasts; null for anything else. */
    async forBrowser(id: string, browserSecret: string): Promise<ConnectSession | null> {
      const [row] = await db.query<SessionRow & { browser_secret_hash: string | null }>(
        `SELECT ${COLUMNS}, browser_secret_hash FROM connect_sessions WHERE id = $1 AND expires_at > now()`,
        [id],
      );
      if (!row?.browser_secret_hash) return null;
      const given = Buffer.from(sha256(browserSecret), 'hex');
      const stored = Buffer.from(row.browser_secret_hash, 'hex');
      return given.length === stored.length && timingSafeEqual(given, stored) ? toSession(row) : null;
    },

    /**
     * Binds the session to the connection the end user's choice started, once: answers false when
     * it is bound to another already (a second choice submitted concurrently), unless `replacing`
     * names the connection it may replace (starting again after an ended one).
     */
    async bindConnection(id: string, connectionId: string, replacing: string | null = null): Promise<boolean> {
      const rows = await db.query(
        `UPDATE connect_sessions SET connection_id = $2
         WHERE id = $1 AND (connection_id IS NULL OR connection_id = $2 OR connection_id = $3) RETURNING 1`,
        [id, connectionId, replacing],
      );
      return rows.length === 1;
    },

    /**
     * Leases the session for starting a connection, while it is bound to `from` (null: none yet,
     * the chooser; else the ended connection it starts again after) and no other start holds it:
     * true for exactly one of concurrent callers. The lease ends with `endStart`, or by itself after
     * `leaseSeconds` (an API that crashed mid-start).
     */
    async beginStart(id: string, from: string | null, leaseSeconds = START_LEASE_SECONDS): Promise<boolean> {
      const rows = await db.query(
        `UPDATE connect_sessions SET starting_until = now() + $3::int * interval '1 second'
         WHERE id = $1 AND connection_id IS NOT DISTINCT FROM $2 AND (starting_until IS NULL OR starting_until <= now())
         RETURNING 1`,
        [id, from, leaseSeconds],
      );
      return rows.length === 1;
    },

    /** Ends the lease `beginStart` took (whether the start succeeded or not). */
    async endStart(id: string): Promise<void> {
      await db.query('UPDATE connect_sessions SET starting_until = NULL WHERE id = $1', [id]);
    },

    /** Moves the session off an ended connection: onto the one started again, or back to the chooser (null). */
    async rebind(id: string, from: string, to: string | null): Promise<void> {
      await db.query('UPDATE connect_sessions SET connection_id = $3 WHERE id = $1 AND connection_id = $2', [id, from, to]);
    },

    /** Records that the end user accepted this terms text (idempotent). */
    async acceptTerms(id: string, terms: string): Promise<void> {
      await db.query(
        `UPDATE connect_sessions SET accepted_terms = accepted_terms || to_jsonb($2::text)
         WHERE id = $1 AND NOT accepted_terms ? $2`,
        [id, sha256(terms)],
      );
    },

    /** A tenant's Connect settings (defaults when it never set any). */
    async settings(tenantId: string): Promise<ConnectSettings> {
      const [row] = await db.query<{ frame_ancestors: string[]; terms: string | null }>(
        'SELECT frame_ancestors, terms FROM connect_settings WHERE tenant_id = $1',
        [tenantId],
      );
      return { frameAncestors: row?.frame_ancestors ?? [], terms: row?.terms ?? null };
    },

    /** Replaces a tenant's Connect settings. */
    async saveSettings(tenantId: string, settings: ConnectSettings): Promise<void> {
      await db.query(
        `INSERT INTO connect_settings (tenant_id, frame_ancestors, terms) VALUES ($1, $2, $3)
         ON CONFLICT (tenant_id) DO UPDATE SET frame_ancestors = EXCLUDED.frame_ancestors, terms = EXCLUDED.terms`,
        [tenantId, JSON.stringify(settings.frameAncestors), settings.terms],
      );
    },
  };
}

export type ConnectSessions = ReturnType<typeof createConnectSessions>;

/** SHA-256 (hex) of a terms text, as `acceptedTerms` holds it. */
export const termsDigest = sha256;
