// LnkFi's state in memory: authorization sessions, Xero's authorization codes, connections
// with their API keys and instances, and each instance's rate-limit budget.
import { randomBytes, randomUUID } from 'node:crypto';
import { DAY_MS, type Organisation, organisationsFor } from './data';
import { LnkfiError } from './errors';
import { type Scenario, scenarioOf } from './scenarios';

export const SYSTEMS = ['xero'] as const;
export type System = (typeof SYSTEMS)[number];

export type ConnectionStatus = 'active' | 'revoked' | 'disconnected';

/** One authorization in progress: created by POST /v1/connection/authorize, used once. */
export interface Session {
  id: string;
  vendorId: string;
  vendorExternalId: string | undefined;
  system: System;
  vendorRedirectUrl: string;
  /** The vendor's own Xero app (from the request, or kept from the connection being reauthorized). */
  systemClientId: string;
  systemClientSecret: string;
  existingConnectionId: string | undefined;
  expiresAt: number;
  used: boolean;
}

/** An authorization code Xero handed to LnkFi's complete endpoint. */
interface Grant {
  sessionId: string;
  email: string;
  expiresAt: number;
}

interface Usage {
  minuteWindow: number;
  minuteCount: number;
  dayWindow: number;
  dayCount: number;
  proxied: number;
  rateLimited: number;
}

export interface Connection {
  id: string;
  vendorId: string;
  vendorExternalId: string | undefined;
  system: System;
  status: ConnectionStatus;
  apiKey: string;
  instances: Organisation[];
  scenario: Scenario | undefined;
  systemClientId: string;
  systemClientSecret: string;
  usage: Map<string, Usage>;
}

export interface RateLimits {
  perMinute: number;
  perDay: number;
}

export type Budget =
  | { allowed: true; minuteRemaining: number; dayRemaining: number }
  | { allowed: false; minuteRemaining: number; dayRemaining: number; retryAfterSeconds: number; exhausted: 'minute' | 'day' };

const SESSION_TTL_MS = 30 * 60_000;
const CODE_TTL_MS = 5 * 60_000;
const MINUTE_MS = 60_000;

const newApiKey = (): string => `lnk_${randomBytes(24).toString('base64url')}`;

export class LnkfiSimulator {
  private readonly sessions = new Map<string, Session>();
  private readonly grants = new Map<string, Grant>();
  private readonly connections = new Map<string, Connection>();

  constructor(
    private readonly now: () => number,
    private readonly limits: RateLimits,
  ) {}

  createSession(input: Omit<Session, 'id' | 'expiresAt' | 'used'>): Session {
    const session: Session = { ...input, id: randomBytes(18).toString('base64url'), expiresAt: this.now() + SESSION_TTL_MS, used: false };
    this.sessions.set(session.id, session);
    return session;
  }

  /** A session the end user may still act on (Xero's page, LnkFi's complete endpoint). */
  usableSession(id: string): Session {
    const session = this.sessions.get(id);
    if (!session) throw new LnkfiError(400, 'invalid_session', 'This authorization link is unknown. Start again from the application.');
    if (session.used) throw new LnkfiError(400, 'invalid_session', 'This authorization link was already used. Start again from the application.');
    if (session.expiresAt <= this.now()) throw new LnkfiError(400, 'invalid_session', 'This authorization link has expired. Start again from the application.');
    return session;
  }

  /** Xero's authorization code for an approved session. */
  issueCode(session: Session, email: string): string {
    const code = randomBytes(24).toString('hex');
    this.grants.set(code, { sessionId: session.id, email, expiresAt: this.now() + CODE_TTL_MS });
    return code;
  }

  /** Ends the session; the code must be the one Xero issued for it. Returns the end user's e-mail at Xero. */
  redeemCode(session: Session, code: string): string | null {
    session.used = true;
    const grant = this.grants.get(code);
    this.grants.delete(code);
    if (!grant || grant.sessionId !== session.id || grant.expiresAt <= this.now()) return null;
    return grant.email;
  }

  /** The session ended without a connection (cancelled or failed at Xero). */
  endSession(session: Session): void {
    session.used = true;
  }

  /**
   * A completed authorization: a new connection, or the reauthorized one (same id, its instances,
   * a new API key; the old key stops working).
   */
  completeConnection(session: Session, email: string): Connection {
    const existing = session.existingConnectionId === undefined ? undefined : this.connections.get(session.existingConnectionId);
    if (existing) {
      existing.status = 'active';
      existing.apiKey = newApiKey();
      existing.vendorExternalId = session.vendorExternalId ?? existing.vendorExternalId;
      return existing;
    }
    const id = `con_${randomUUID()}`;
    const scenario = scenarioOf(email);
    const connection: Connection = {
      id,
      vendorId: session.vendorId,
      vendorExternalId: session.vendorExternalId,
      system: session.system,
      status: 'active',
      apiKey: newApiKey(),
      instances: organisationsFor(id, scenario, this.now()),
      scenario,
      systemClientId: session.systemClientId,
      systemClientSecret: session.systemClientSecret,
      usage: new Map(),
    };
    this.connections.set(id, connection);
    return connection;
  }

  /** The connection an API key belongs to; a key replaced by a reauthorization opens nothing. */
  byApiKey(apiKey: string): Connection | undefined {
    for (const connection of this.connections.values()) if (connection.apiKey === apiKey) return connection;
    return undefined;
  }

  /** A vendor's connection, or 404 (another vendor's connection is not revealed). */
  connectionOf(vendorId: string, id: string): Connection {
    const connection = this.connections.get(id);
    if (!connection || connection.vendorId !== vendorId) throw new LnkfiError(404, 'connection_not_found', `No connection "${id}".`);
    return connection;
  }

  /** Counts one proxied call against the instance's minute and day budgets (fixed UTC windows). */
  consume(connection: Connection, instanceId: string): Budget {
    const now = this.now();
    const minuteWindow = Math.floor(now / MINUTE_MS);
    const dayWindow = Math.floor(now / DAY_MS);
    const usage = connection.usage.get(instanceId) ?? { minuteWindow, minuteCount: 0, dayWindow, dayCount: 0, proxied: 0, rateLimited: 0 };
    connection.usage.set(instanceId, usage);
    if (usage.minuteWindow !== minuteWindow) Object.assign(usage, { minuteWindow, minuteCount: 0 });
    if (usage.dayWindow !== dayWindow) Object.assign(usage, { dayWindow, dayCount: 0 });
    const minuteRemaining = this.limits.perMinute - usage.minuteCount;
    const dayRemaining = this.limits.perDay - usage.dayCount;
    if (dayRemaining <= 0 || minuteRemaining <= 0) {
      usage.rateLimited++;
      const exhausted = dayRemaining <= 0 ? 'day' : 'minute';
      const resetAt = exhausted === 'day' ? (dayWindow + 1) * DAY_MS : (minuteWindow + 1) * MINUTE_MS;
      return {
        allowed: false,
        minuteRemaining: Math.max(0, minuteRemaining),
        dayRemaining: Math.max(0, dayRemaining),
        retryAfterSeconds: Math.max(1, Math.ceil((resetAt - now) / 1000)),
        exhausted,
      };
    }
    usage.minuteCount++;
    usage.dayCount++;
    usage.proxied++;
    return { allowed: true, minuteRemaining: minuteRemaining - 1, dayRemaining: dayRemaining - 1 };
  }

  usageOf(connection: Connection): { proxied: number; rate_limited: number } {
    let proxied = 0;
    let rateLimited = 0;
    for (const usage of connection.usage.values()) {
      proxied += usage.proxied;
      rateLimited += usage.rateLimited;
    }
    return { proxied, rate_limited: rateLimited };
  }
}
