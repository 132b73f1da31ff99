import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { type Sealer, createSealer } from '../store/sealing';

/**
 * The `state` a provider carries through the bank and back: `<connectionId>.<nonce>.<mac>`.
 * The HMAC binds it to one connection; the nonce binds it to one authorization, which the
 * workflow accepts once.
 */
export interface RedirectState {
  connectionId: string;
  nonce: string;
}

const PART = /^[A-Za-z0-9_-]{1,128}$/;

export function createStateSigner(secret: string) {
  const mac = (payload: string) => createHmac('sha256', secret).update(payload).digest();
  let codes: Sealer | null = null;
  const codeSealer = () => (codes ??= createSealer(secret, { salt: 'linkflow/authorization-codes', info: 'linkflow authorization code sealing v1' }));
  const codeAad = ({ connectionId, nonce }: RedirectState) => `authorization_code:${connectionId}:${nonce}`;

  return {
    issue(connectionId: string): { state: string; nonce: string } {
      const nonce = randomBytes(16).toString('base64url');
      const payload = `${connectionId}.${nonce}`;
      return { state: `${payload}.${mac(payload).toString('base64url')}`, nonce };
    },

    /** An HMAC of `text` for one `purpose` (base64url): e.g. the Connect page's CSRF token for a session. */
    tag(purpose: string, text: string): string {
      return mac(`tag:${purpose}:${text}`).toString('base64url');
    },

    /** The signed state of an authorization already issued (the same text `issue` returned for it). */
    stateOf({ connectionId, nonce }: RedirectState): string {
      const payload = `${connectionId}.${nonce}`;
      return `${payload}.${mac(payload).toString('base64url')}`;
    },

    /** `payload.mac`: tamper-evident (not secret) text, e.g. a list cursor bound to its query. */
    seal(payload: string): string {
      const data = Buffer.from(payload).toString('base64url');
      return `${data}.${mac(`seal:${data}`).toString('base64url')}`;
    },

    unseal(sealed: string): string | null {
      const [data, signature, ...rest] = sealed.split('.');
      if (!data || !signature || rest.length > 0) return null;
      const expected = mac(`seal:${data}`);
      const given = Buffer.from(signature, 'base64url');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
      return Buffer.from(data, 'base64url').toString('utf8');
    },

    /**
     * An authorization code a redirect brought back, sealed (AES-256-GCM) for the workflow's
     * history and bound to the authorization it answers: it opens only with the same connection
     * and nonce. The API seals; the activity that exchanges the code opens.
     */
    sealCode(code: string, authorization: RedirectState): string {
      return codeSealer().seal(code, codeAad(authorization));
    },

    /** The code `sealCode` sealed for this authorization; throws for anything else. */
    openCode(sealed: string, authorization: RedirectState): string {
      return codeSealer().open(sealed, codeAad(authorization), 'authorization code');
    },

    /**
     * A link token `<connectionId>.<expires>.<mac>` (expires: Unix seconds): tamper-evident, bound
     * to one connection and an expiry, with its own MAC domain (never valid as a state or a cursor).
     */
    signLink(connectionId: string, expiresAtMs: number): string {
      const payload = `${connectionId}.${Math.ceil(expiresAtMs / 1000)}`;
      return `${payload}.${mac(`link:${payload}`).toString('base64url')}`;
    },

    /**
     * The connection a link token names and when it expires (ms since the epoch), or null for a
     * token this secret did not sign (malformed, tampered). Expiry is the caller's to judge.
     */
    openLink(link: string): { connectionId: string; expiresAtMs: number } | null {
      const parts = link.split('.');
      if (parts.length !== 3 || !parts.every((p) => PART.test(p)) || !/^\d{1,12}$/.test(parts[1] as string)) return null;
      const [connectionId, expires, signature] = parts as [string, string, string];
      const expected = mac(`link:${connectionId}.${expires}`);
      const given = Buffer.from(signature, 'base64url');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
      return { connectionId, expiresAtMs: Number(expires) * 1000 };
    },

    /** The connection and nonce of a state we signed, or null for anything else. */
    verify(state: string): RedirectState | null {
      const parts = state.split('.');
      if (parts.length !== 3 || !parts.every((p) => PART.test(p))) return null;
      const [connectionId, nonce, signature] = parts as [string, string, string];
      const expected = mac(`${connectionId}.${nonce}`);
      const given = Buffer.from(signature, 'base64url');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
      return { connectionId, nonce };
    },
  };
}

export type StateSigner = ReturnType<typeof createStateSigner>;
