// Flinks' state in memory: Connect sessions, logins and their extractions, API sessions
// (RequestIds). Every date comes from the injected clock; work that "finishes later" (an
// extraction, the nightly refresh) finishes when the clock has passed its time, noticed by
// `advance()` on every request and on a short real-time tick.
import { randomUUID } from 'node:crypto';
import { DAY_MS, type FlinksAccount, flinksTimestamp, generateAccounts, type LoginData } from './data';
import { FlinksError } from './errors';
import { type Scenario, scenarioOf } from './scenarios';

/** A RequestId unused this long (sandbox clock) no longer exists (Flinks: 8 minutes of inactivity). */
export const SESSION_IDLE_MS = 8 * 60_000;
/** How long an end user may take on the Connect page. */
export const CONNECT_SESSION_MS = 30 * 60_000;
/** FlinksCodes a login can be disabled with (`POST /sandbox/logins/{id}/disable`). */
export const DISABLE_CODES = ['DISABLED_LOGIN', 'INVALID_LOGIN'] as const;
export type DisableCode = (typeof DISABLE_CODES)[number];

const REQUEST_LOG_SIZE = 50;

export interface DetailOptions {
  withTransactions: boolean;
  withBalance: boolean;
  withAccountIdentity: boolean;
  days: number;
  accountsFilter: string[] | undefined;
}

/** A data extraction: Flinks Connect's, or the nightly refresh's. */
interface Extraction {
  requestId: string;
  readyAt: number;
  done: boolean;
}

/** What `GET /sandbox/logins/{id}` shows of each RequestId the login had. */
export interface RequestLog {
  RequestId: string;
  Origin: 'Connect' | 'Refresh' | 'Authorize';
  CreatedAt: string;
  GetAccountsDetailCalls: number;
  AsyncPolls: number;
}

export interface Login {
  id: string;
  institution: string;
  username: string;
  scenario: Scenario | undefined;
  createdAt: number;
  /** When the data last extracted was taken (null until the first extraction ends). */
  refreshedAt: number | null;
  nextRefreshAt: number;
  /** The latest Connect extraction; GetAccountsDetail is pending until it is done. */
  connect: Extraction;
  disabled: DisableCode | null;
  /** The account picked in the account selector, which the webhook's data is limited to. */
  selectedAccountId: string | undefined;
  requests: RequestLog[];
}

interface ApiSession {
  requestId: string;
  loginId: string;
  lastUsedAt: number;
  /** Set by a GetAccountsDetail answered 202: what GetAccountsDetailAsync answers once ready. */
  pending: DetailOptions | undefined;
  log: RequestLog;
}

export interface ConnectSession {
  id: string;
  redirectUrl: string;
  institution: string | undefined;
  accountSelector: boolean;
  expiresAt: number;
  step: 'login' | 'mfa' | 'accounts' | 'done';
  /** Set once the username and password are right. */
  user?: { institution: string; username: string; loginId: string };
}

export type DetailResult = { status: 'pending' } | { status: 'ready'; body: object };

export class FlinksSimulator {
  private readonly logins = new Map<string, Login>();
  /** Login ids by institution and username: logging in again gives the same LoginId. */
  private readonly loginIds = new Map<string, string>();
  private readonly sessions = new Map<string, ApiSession>();
  private readonly connectSessions = new Map<string, ConnectSession>();

  constructor(
    private readonly options: {
      now: () => number;
      pendingMs: number;
      onWebhook?: (body: object) => void;
    },
  ) {}

  private now(): number {
    return this.options.now();
  }

  // --- Flinks Connect ---------------------------------------------------------

  createConnectSession(input: { redirectUrl: string; institution: string | undefined; accountSelector: boolean }): ConnectSession {
    const session: ConnectSession = { id: randomUUID(), ...input, expiresAt: this.now() + CONNECT_SESSION_MS, step: 'login' };
    this.connectSessions.set(session.id, session);
    return session;
  }

  /** The Connect session a form names, if it is still at `step`. */
  connectSession(id: string, step: ConnectSession['step']): ConnectSession {
    const session = this.connectSessions.get(id);
    if (!session || session.expiresAt <= this.now()) throw new FlinksError(400, 'SESSION_EXPIRED', 'This Flinks Connect session has expired; start again.');
    if (session.step !== step) throw new FlinksError(400, 'INVALID_REQUEST', 'This step of Flinks Connect is already done.');
    return session;
  }

  /** The username and password were right: remember who logs in, keeping their LoginId if they had one. */
  authenticate(session: ConnectSession, institution: string, username: string): void {
    const loginId = this.loginIds.get(loginKey(institution, username)) ?? randomUUID();
    session.user = { institution, username, loginId };
    session.step = scenarioOf(username) === 'test_mfa' ? 'mfa' : session.accountSelector ? 'accounts' : 'done';
  }

  passMfa(session: ConnectSession): void {
    session.step = session.accountSelector ? 'accounts' : 'done';
  }

  /** The accounts the account selector offers (those the login will have). */
  selectableAccounts(session: ConnectSession): FlinksAccount[] {
    const user = connectUser(session);
    const existing = this.logins.get(user.loginId);
    const now = this.now();
    return generateAccounts(
      { loginId: user.loginId, scenario: scenarioOf(user.username), createdAt: existing?.createdAt ?? now, refreshedAt: now },
      false,
      0,
    );
  }

  /**
   * The end of Flinks Connect: the login exists (again enabled, if it was disabled) and its data
   * extraction starts. Returns the LoginId for the redirect.
   */
  finishConnect(session: ConnectSession, accountId: string | undefined): Login {
    const user = connectUser(session);
    session.step = 'done';
    this.connectSessions.delete(session.id);
    const now = this.now();
    const scenario = scenarioOf(user.username);
    const extraction: Extraction = { requestId: randomUUID(), readyAt: now + (scenario === 'test_pending' ? this.options.pendingMs : 0), done: false };
    let login = this.logins.get(user.loginId);
    if (!login) {
      login = {
        id: user.loginId,
        institution: user.institution,
        username: user.username,
        scenario,
        createdAt: now,
        refreshedAt: null,
        nextRefreshAt: now + DAY_MS,
        connect: extraction,
        disabled: null,
        selectedAccountId: undefined,
        requests: [],
      };
      this.logins.set(login.id, login);
      this.loginIds.set(loginKey(user.institution, user.username), login.id);
    }
    login.connect = extraction;
    login.disabled = null;
    login.selectedAccountId = accountId;
    this.openSession(login, extraction.requestId, 'Connect');
    this.advance();
    return login;
  }

  // --- the API ----------------------------------------------------------------

  /** `/Authorize` in cached mode: a new RequestId for an enabled login. */
  authorize(loginId: string): { requestId: string; login: Login } {
    const login = this.logins.get(loginId);
    if (!login) throw new FlinksError(401, 'INVALID_LOGIN', `No login with LoginId ${loginId}.`);
    if (login.disabled) throw disabledError(login);
    const requestId = randomUUID();
    this.openSession(login, requestId, 'Authorize');
    return { requestId, login };
  }

  /** `/GetAccountsDetail`: the data, or 202 while the login's Connect extraction runs. */
  accountsDetail(requestId: string, options: DetailOptions): DetailResult {
    const { session, login } = this.usableSession(requestId);
    session.log.GetAccountsDetailCalls++;
    if (!login.connect.done || login.refreshedAt === null) {
      session.pending = options;
      return { status: 'pending' };
    }
    return { status: 'ready', body: this.detailBody(login, requestId, options) };
  }

  /** `/GetAccountsDetailAsync/{RequestId}`: follows a GetAccountsDetail that answered 202. */
  accountsDetailAsync(requestId: string): DetailResult {
    const { session, login } = this.usableSession(requestId);
    if (!session.pending) {
      throw new FlinksError(400, 'INVALID_REQUEST', 'No GetAccountsDetail is pending for this RequestId; call /GetAccountsDetail first.', requestId);
    }
    session.log.AsyncPolls++;
    if (!login.connect.done || login.refreshedAt === null) return { status: 'pending' };
    return { status: 'ready', body: this.detailBody(login, requestId, session.pending) };
  }

  /** `/DeleteCard/{LoginId}`: the login, its data and its RequestIds are gone. */
  deleteLogin(loginId: string): void {
    const login = this.logins.get(loginId);
    if (!login) throw new FlinksError(404, 'INVALID_LOGIN', `No login with LoginId ${loginId}.`);
    this.logins.delete(loginId);
    this.loginIds.delete(loginKey(login.institution, login.username));
    for (const [id, session] of this.sessions) if (session.loginId === loginId) this.sessions.delete(id);
  }

  // --- sandbox controls ---------------------------------------------------------

  login(loginId: string): Login {
    const login = this.logins.get(loginId);
    if (!login) throw new FlinksError(404, 'INVALID_LOGIN', `No login with LoginId ${loginId}.`);
    return login;
  }

  /**
   * How many transactions `/GetAccountsDetail` (WithTransactions, `days` of them, `accountsFilter`
   * if given) would list for each of the login's accounts now, by account Id, from the same
   * generation; nothing while the first extraction runs (GetAccountsDetail answers 202 then).
   * A 404 `INVALID_LOGIN` for an unknown LoginId.
   */
  transactionCounts(loginId: string, days: number, accountsFilter: string[] | undefined): Array<[string, number]> {
    const login = this.login(loginId);
    if (!login.connect.done || login.refreshedAt === null) return [];
    const options: DetailOptions = { withTransactions: true, withBalance: false, withAccountIdentity: false, days, accountsFilter };
    return this.detailAccounts(login, options).map((account) => [account.Id, account.Transactions?.length ?? 0]);
  }

  disable(loginId: string, code: DisableCode): void {
    this.login(loginId).disabled = code;
  }

  // --- time -----------------------------------------------------------------------

  /**
   * Ends the extractions whose time has come and runs the nightly refreshes due, each with its
   * webhook. Idempotent; called on every request and on the sandbox's tick.
   */
  advance(): void {
    const now = this.now();
    for (const [id, session] of this.sessions) if (session.lastUsedAt + SESSION_IDLE_MS <= now) this.sessions.delete(id);
    for (const [id, session] of this.connectSessions) if (session.expiresAt <= now) this.connectSessions.delete(id);
    for (const login of this.logins.values()) {
      if (!login.connect.done && login.connect.readyAt <= now) {
        login.connect.done = true;
        login.refreshedAt = login.connect.readyAt;
        this.options.onWebhook?.(this.detailBody(login, login.connect.requestId, webhookOptions(login)));
      }
      if (login.nextRefreshAt <= now && login.refreshedAt !== null) this.nightlyRefresh(login, now);
    }
  }

  /** Flinks refreshes every login once a day; only the latest refresh due is run after a jump of the clock. */
  private nightlyRefresh(login: Login, now: number): void {
    const at = login.nextRefreshAt + Math.floor((now - login.nextRefreshAt) / DAY_MS) * DAY_MS;
    login.nextRefreshAt = at + DAY_MS;
    if (login.scenario === 'test_revoked') login.disabled ??= 'DISABLED_LOGIN';
    const requestId = randomUUID();
    if (login.disabled) {
      this.options.onWebhook?.({ ...disabledError(login, requestId).body(), Login: loginView(login), Institution: login.institution });
      return;
    }
    this.openSession(login, requestId, 'Refresh');
    login.refreshedAt = at;
    this.options.onWebhook?.(this.detailBody(login, requestId, webhookOptions(login)));
  }

  // --- helpers --------------------------------------------------------------------

  private openSession(login: Login, requestId: string, origin: RequestLog['Origin']): void {
    const now = this.now();
    const log: RequestLog = { RequestId: requestId, Origin: origin, CreatedAt: flinksTimestamp(now), GetAccountsDetailCalls: 0, AsyncPolls: 0 };
    login.requests = [...login.requests.slice(1 - REQUEST_LOG_SIZE), log];
    this.sessions.set(requestId, { requestId, loginId: login.id, lastUsedAt: now, pending: undefined, log });
  }

  private usableSession(requestId: string): { session: ApiSession; login: Login } {
    const session = this.sessions.get(requestId);
    if (!session || session.lastUsedAt + SESSION_IDLE_MS <= this.now()) {
      throw new FlinksError(401, 'SESSION_NONEXISTENT', 'The RequestId does not exist or has expired; call /Authorize again.', requestId);
    }
    const login = this.logins.get(session.loginId);
    if (!login) throw new FlinksError(401, 'SESSION_NONEXISTENT', 'The login of this RequestId was deleted.', requestId);
    if (login.disabled) throw disabledError(login, requestId);
    session.lastUsedAt = this.now();
    return { session, login };
  }

  /** The login's accounts as of its last extraction, as GetAccountsDetail lists them with `options` (before the fields it leaves out). */
  private detailAccounts(login: Login, options: DetailOptions): FlinksAccount[] {
    const data: LoginData = { loginId: login.id, scenario: login.scenario, createdAt: login.createdAt, refreshedAt: login.refreshedAt ?? login.createdAt };
    return generateAccounts(data, options.withTransactions, options.days).filter(
      (a) => options.accountsFilter === undefined || options.accountsFilter.includes(a.Id),
    );
  }

  private detailBody(login: Login, requestId: string, options: DetailOptions): object {
    const accounts = this.detailAccounts(login, options)
      .map(({ Balance, Holder, ...account }) => ({
        ...account,
        ...(options.withBalance ? { Balance } : {}),
        ...(options.withAccountIdentity ? { Holder } : {}),
      }));
    return { HttpStatusCode: 200, Accounts: accounts, Login: loginView(login), Institution: login.institution, RequestId: requestId };
  }
}

const loginKey = (institution: string, username: string): string => `${institution}\u0000${username.toLowerCase()}`;

function connectUser(session: ConnectSession): NonNullable<ConnectSession['user']> {
  if (!session.user) throw new FlinksError(400, 'INVALID_REQUEST', 'Log in first.');
  return session.user;
}

export function loginView(login: Login) {
  return {
    Id: login.id,
    Username: login.username,
    IsScheduledRefresh: true,
    LastRefresh: login.refreshedAt === null ? null : flinksTimestamp(login.refreshedAt),
    Type: 'Personal',
  };
}

function disabledError(login: Login, requestId?: string): FlinksError {
  const message =
    login.disabled === 'INVALID_LOGIN'
      ? 'The credentials of this login are no longer valid at the institution; the end user must reconnect with Flinks Connect.'
      : 'This login is disabled; the end user must reconnect with Flinks Connect.';
  return new FlinksError(401, login.disabled ?? 'DISABLED_LOGIN', message, requestId);
}

/** What a webhook carries: every account (or the one selected) with 90 days of transactions. */
const webhookOptions = (login: Login): DetailOptions => ({
  withTransactions: true,
  withBalance: true,
  withAccountIdentity: true,
  days: 90,
  accountsFilter: login.selectedAccountId === undefined ? undefined : [login.selectedAccountId],
});
