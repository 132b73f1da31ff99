import { randomBytes, randomInt } from 'node:crypto';
import type { Connector, ConnectorSource } from './connectors';
import { type GeneratedAccount, formatDate, formatDateTime, generateAccounts, generateTransaction, startOfDay } from './data';
import { PowensApiError, invalidValue, notFound } from './errors';
import {
  DAY_MS,
  LATER_MS,
  MANY_ACCOUNTS,
  OTP_CODE,
  OTP_FIELD,
  PASSWORD_FIELD,
  STATE_MESSAGES,
  TEST_PASSWORD,
  WRONG_CODE_MESSAGE,
  consentDays,
  historyDays,
  scenarioOf,
} from './scenarios';

/** Powens' connection (and source) states; `null` means the last sync went well. */
export const CONNECTION_STATES = [
  'SCARequired',
  'webauthRequired',
  'additionalInformationNeeded',
  'decoupled',
  'validating',
  'actionNeeded',
  'passwordExpired',
  'wrongpass',
  'rateLimiting',
  'websiteUnavailable',
  'bug',
] as const;
export type ConnectionState = (typeof CONNECTION_STATES)[number];

const TEMPORARY_TOKEN_SECONDS = 30 * 60;
export const CODE_SECONDS = 30 * 60;
const SESSION_MS = 30 * 60_000;

interface Token {
  userId: number;
  type: 'temporary' | 'permanent';
  expiresAt: number | null;
}

interface Code {
  userId: number;
  access: 'standard' | 'single';
  expiresAt: number;
}

/** A connector source added to a connection. */
export interface Source {
  id: number;
  definition: ConnectorSource;
  created: number;
  /** The login (credentials) or the user name typed in the webview (webauth): it selects the scenario. */
  user: string;
  /** When the end user last authorized the source (credentials given, webview approved). */
  authorizedAt: number;
  state: ConnectionState | null;
  errorMessage: string | null;
  accessExpire: number | null;
  lastUpdate: number | null;
  passwordExpired: boolean;
  actionDone: boolean;
  /** The pending decoupled (or validating) confirmation. */
  confirmation?: NodeJS.Timeout;
}

export interface Connection {
  id: number;
  userId: number;
  connector: Connector;
  created: number;
  /** Sorted by priority. */
  sources: Source[];
  /** Decrypted form values by field name, shared by the sources they belong to; memory only. */
  values: Map<string, string>;
  /** Set by the next-sync control: how the next sync of the first source ends. */
  nextSync?: { state: ConnectionState | null };
}

export interface Account {
  generated: GeneratedAccount;
  name: string;
  connectionId: number;
  userId: number;
  sourceId: number;
  firstDay: number;
  disabled: number | null;
  /** Transactions exist up to this moment: the latest sync while the account was enabled. */
  syncedUntil: number | null;
  firstSyncedAt: number | null;
  /** `user_coming`: the bank also shows the next day's payment, not yet debited (`coming: true`). */
  comingAhead: boolean;
}

export interface WebviewSession {
  id: string;
  userId: number;
  connector: Connector;
  source: ConnectorSource;
  /** Set by /reconnect: the source is re-authorized on (or added to) that connection. */
  connectionId: number | null;
  redirectUri: string;
  state: string | undefined;
  expiresAt: number;
  used: boolean;
}

export interface SimulatorOptions {
  now: () => number;
  /** How long the end user takes to confirm a decoupled authentication in their bank's app. */
  decoupledDelayMs: number;
  /** How long a webview code lives (default CODE_SECONDS). */
  codeLifetimeSeconds?: number;
}

const EURO = { id: 'EUR', symbol: '€', prefix: false, precision: 2, name: 'Euro' };
const WORDING_PREFIXES = /^(CB |VIR SEPA |VIR |PRLV SEPA )/;

const newToken = (): string => randomBytes(48).toString('base64url');

/** The sandbox's in-memory Powens: users and their tokens, connections, sources, accounts and syncs. */
export class PowensSimulator {
  private readonly users = new Set<number>();
  private readonly tokens = new Map<string, Token>();
  private readonly codes = new Map<string, Code>();
  private readonly connections = new Map<number, Connection>();
  private readonly accounts = new Map<number, Account>();
  private readonly sessions = new Map<string, WebviewSession>();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly options: SimulatorOptions) {}

  private now(): number {
    return this.options.now();
  }

  /** Cancels pending decoupled confirmations. */
  dispose(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  // --- users, tokens and codes ---------------------------------------------

  /** POST /auth/init: a new user and its first token. */
  createUser(type: Token['type']): { auth_token: string; type: Token['type']; id_user: number; expires_in?: number } {
    let userId: number;
    do userId = randomInt(100_000, 1_000_000);
    while (this.users.has(userId));
    this.users.add(userId);
    const token = this.issueToken(userId, type);
    return { auth_token: token, type, id_user: userId, ...(type === 'temporary' ? { expires_in: TEMPORARY_TOKEN_SECONDS } : {}) };
  }

  private issueToken(userId: number, type: Token['type']): string {
    const token = newToken();
    this.tokens.set(token, { userId, type, expiresAt: type === 'temporary' ? this.now() + TEMPORARY_TOKEN_SECONDS * 1000 : null });
    return token;
  }

  /** The user a bearer token stands for, if the token is known and not expired. */
  userOf(token: string): number | undefined {
    const found = this.tokens.get(token);
    if (!found || (found.expiresAt !== null && found.expiresAt <= this.now())) return undefined;
    return found.userId;
  }

  /** POST /auth/token/access: a permanent token for the user behind a temporary token or code. */
  exchange(code: string): string | undefined {
    const userId = this.tokens.get(code)?.type === 'temporary' ? this.userOf(code) : this.redeemCode(code);
    if (userId === undefined) return undefined;
    this.codes.delete(code);
    return this.issueToken(userId, 'permanent');
  }

  /** GET /auth/token/code: a temporary code (for the webview) standing for the user. */
  issueCode(userId: number, access: Code['access']): { code: string; type: 'temporary'; access: Code['access']; expires_in: number } {
    const code = newToken();
    const lifetime = this.options.codeLifetimeSeconds ?? CODE_SECONDS;
    this.codes.set(code, { userId, access, expiresAt: this.now() + lifetime * 1000 });
    return { code, type: 'temporary', access, expires_in: lifetime };
  }

  /** The user behind a webview code; a `single` code is used up. */
  redeemCode(code: string): number | undefined {
    const found = this.codes.get(code);
    if (!found || found.expiresAt <= this.now()) return undefined;
    if (found.access === 'single') this.codes.delete(code);
    return found.userId;
  }

  /** DELETE /users/me: the user, its tokens, codes, connections and their data. */
  deleteUser(userId: number): void {
    for (const connection of this.connectionsOf(userId)) this.deleteConnection(connection);
    for (const [token, found] of this.tokens) if (found.userId === userId) this.tokens.delete(token);
    for (const [code, found] of this.codes) if (found.userId === userId) this.codes.delete(code);
    this.users.delete(userId);
  }

  // --- connections -----------------------------------------------------------

  connectionsOf(userId: number): Connection[] {
    return [...this.connections.values()].filter((connection) => connection.userId === userId);
  }

  /** The user's connection, or a 404 (another user's connection is not found either). */
  connectionOf(userId: number, connectionId: string): Connection {
    const connection = /^\d{1,15}$/.test(connectionId) ? this.connections.get(Number(connectionId)) : undefined;
    if (!connection || connection.userId !== userId) throw notFound(`No connection with id ${connectionId}.`);
    return connection;
  }

  /** Refuses credentials the bank would refuse: nothing is created or changed. */
  checkPassword(connector: Connector, source: ConnectorSource, values: ReadonlyMap<string, string>): void {
    const hasPassword = connector.fields.some((field) => field.name === PASSWORD_FIELD && field.connector_sources.includes(source.name));
    if (hasPassword && values.get(PASSWORD_FIELD) !== TEST_PASSWORD) {
      throw new PowensApiError(400, 'wrongpass', STATE_MESSAGES.wrongpass as string, 'The bank refused the login or the password.');
    }
  }

  /** A connection through a credentials source, with its first sync. */
  createConnection(userId: number, connector: Connector, definition: ConnectorSource, values: ReadonlyMap<string, string>): Connection {
    const connection = this.newConnection(userId, connector, values);
    this.syncSource(connection, this.addSource(connection, definition, values.get('login') ?? ''));
    return connection;
  }

  private newConnection(userId: number, connector: Connector, values: ReadonlyMap<string, string>): Connection {
    let id: number;
    do id = randomInt(100_000, 1_000_000);
    while (this.connections.has(id));
    const connection: Connection = { id, userId, connector, created: this.now(), sources: [], values: new Map(values) };
    this.connections.set(id, connection);
    return connection;
  }

  private addSource(connection: Connection, definition: ConnectorSource, user: string): Source {
    const now = this.now();
    const source: Source = {
      id: connection.id * 10 + connection.connector.sources.indexOf(definition),
      definition,
      created: now,
      user,
      authorizedAt: now,
      state: null,
      errorMessage: null,
      accessExpire: definition.auth_mechanism === 'webauth' ? now + consentDays(user) * DAY_MS : null,
      lastUpdate: null,
      passwordExpired: scenarioOf(user) === 'user_pwexpired',
      actionDone: false,
    };
    connection.sources = [...connection.sources, source].sort((a, b) => a.definition.priority - b.definition.priority);
    return source;
  }

  /**
   * POST /users/me/connections/{id}?source=: new credentials for a source of the connection,
   * or a new credentials source added to it; either way that source syncs.
   */
  putCredentials(connection: Connection, definition: ConnectorSource, values: ReadonlyMap<string, string>): void {
    for (const [name, value] of values) connection.values.set(name, value);
    const existing = connection.sources.find((source) => source.definition.id === definition.id);
    if (!existing) {
      this.syncSource(connection, this.addSource(connection, definition, connection.values.get('login') ?? ''));
      return;
    }
    existing.user = connection.values.get('login') ?? existing.user;
    // The end user renewed the password at the bank before giving it again.
    if (values.has(PASSWORD_FIELD)) existing.passwordExpired = false;
    this.reauthorized(connection, existing);
  }

  private reauthorized(connection: Connection, source: Source): void {
    source.authorizedAt = this.now();
    source.actionDone = false;
    this.setState(connection, source, null);
    this.syncSource(connection, source);
  }

  /** The source waiting for the end user's answer (additionalInformationNeeded), if any. */
  pendingAnswer(connection: Connection): Source | undefined {
    return connection.sources.find((source) => source.state === 'additionalInformationNeeded');
  }

  /** The one-time code for a pending source: the right one resumes its sync, a wrong one asks again. */
  answer(connection: Connection, source: Source, values: ReadonlyMap<string, string>): void {
    if (values.get(OTP_FIELD.name) === OTP_CODE) this.complete(connection, source);
    else source.errorMessage = WRONG_CODE_MESSAGE;
  }

  /** PUT /users/me/connections/{id}: every source syncs now, and the response says how it went. */
  sync(connection: Connection): void {
    const forced = connection.nextSync;
    connection.nextSync = undefined;
    connection.sources.forEach((source, index) => this.syncSource(connection, source, index === 0 ? forced : undefined));
  }

  private syncSource(connection: Connection, source: Source, forced?: { state: ConnectionState | null }): void {
    // The end user has not confirmed in their app yet: that sync is still under way.
    if (source.confirmation) return;
    const now = this.now();
    if (forced) {
      if (forced.state === null) this.complete(connection, source);
      else this.setState(connection, source, forced.state);
      return;
    }
    const state = this.outcome(source, now);
    if (state === 'actionNeeded') source.actionDone = true;
    if (state === null) this.complete(connection, source);
    else this.setState(connection, source, state);
  }

  /** How a sync of the source ends, first match wins (README: Test users). */
  private outcome(source: Source, now: number): ConnectionState | null {
    const scenario = scenarioOf(source.user);
    const first = source.lastUpdate === null;
    const later = now - source.authorizedAt >= LATER_MS;
    if (source.accessExpire !== null && source.accessExpire <= now) return 'webauthRequired';
    if (source.passwordExpired) return 'passwordExpired';
    if (scenario === 'user_bug') return 'bug';
    if (scenario === 'user_otp' && first) return 'additionalInformationNeeded';
    if (scenario === 'user_decoupled' && first) return 'decoupled';
    if (scenario === 'user_sca_later' && later) return 'SCARequired';
    if (scenario === 'user_action' && later && !source.actionDone) return 'actionNeeded';
    if (scenario === 'user_wrongpass_later' && later) return 'wrongpass';
    return null;
  }

  private setState(connection: Connection, source: Source, state: ConnectionState | null): void {
    if (source.confirmation) {
      clearTimeout(source.confirmation);
      this.timers.delete(source.confirmation);
      source.confirmation = undefined;
    }
    source.state = state;
    source.errorMessage = state === null ? null : (STATE_MESSAGES[state] ?? null);
    if (state === 'decoupled' || state === 'validating') {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        source.confirmation = undefined;
        if (this.connections.get(connection.id) === connection && source.state === state) this.complete(connection, source);
      }, this.options.decoupledDelayMs);
      timer.unref();
      this.timers.add(timer);
      source.confirmation = timer;
    }
  }

  /** A sync that went well: accounts found on the first one, new transactions on enabled accounts. */
  private complete(connection: Connection, source: Source): void {
    const now = this.now();
    this.setState(connection, source, null);
    source.lastUpdate = now;
    const mine = [...this.accounts.values()].filter((account) => account.sourceId === source.id);
    if (mine.length === 0) {
      const types = source.definition.account_types;
      const count = scenarioOf(source.user) === 'user_many' ? MANY_ACCOUNTS : types.length;
      const firstId = connection.id * 1000 + connection.connector.sources.indexOf(source.definition) * 100 + 1;
      const firstDay = startOfDay(source.created) - historyDays(source.user) * DAY_MS;
      for (const generated of generateAccounts(firstId, connection.connector.code ?? '30000', types, count)) {
        this.accounts.set(generated.id, {
          generated,
          name: generated.name,
          connectionId: connection.id,
          userId: connection.userId,
          sourceId: source.id,
          firstDay,
          // GDPR: found accounts wait for the end user's explicit activation.
          disabled: now,
          syncedUntil: null,
          firstSyncedAt: null,
          comingAhead: scenarioOf(source.user) === 'user_coming',
        });
      }
    }
    for (const account of mine) {
      if (account.disabled !== null) continue;
      account.syncedUntil = now;
      account.firstSyncedAt ??= now;
    }
  }

  deleteConnection(connection: Connection): void {
    for (const source of connection.sources) this.setState(connection, source, null);
    for (const [id, account] of this.accounts) if (account.connectionId === connection.id) this.accounts.delete(id);
    this.connections.delete(connection.id);
  }

  setNextSync(connection: Connection, state: ConnectionState | null): void {
    connection.nextSync = { state };
  }

  /** The end user revoked the access at the bank: the webauth sources' access ends now. */
  revoke(connection: Connection): void {
    for (const source of connection.sources) if (source.accessExpire !== null) source.accessExpire = this.now();
  }

  /** A connection of any user, for the sandbox controls. */
  anyConnection(connectionId: string): Connection {
    const connection = /^\d{1,15}$/.test(connectionId) ? this.connections.get(Number(connectionId)) : undefined;
    if (!connection) throw notFound(`No connection with id ${connectionId}.`);
    return connection;
  }

  // --- webview ---------------------------------------------------------------

  createSession(input: Omit<WebviewSession, 'id' | 'expiresAt' | 'used'>): WebviewSession {
    const session: WebviewSession = { ...input, id: randomBytes(24).toString('base64url'), expiresAt: this.now() + SESSION_MS, used: false };
    this.sessions.set(session.id, session);
    return session;
  }

  usableSession(sessionId: string): WebviewSession {
    const session = this.sessions.get(sessionId);
    if (!session) throw invalidValue('Unknown webview session.');
    if (session.used) throw invalidValue('This webview session has already been used.');
    if (session.expiresAt <= this.now()) throw invalidValue('This webview session has expired.');
    return session;
  }

  /** The end user authorized the source at the bank: a new connection, or the source renewed or added. */
  approve(session: WebviewSession, user: string): Connection {
    session.used = true;
    if (session.connectionId === null) {
      const connection = this.newConnection(session.userId, session.connector, new Map());
      this.syncSource(connection, this.addSource(connection, session.source, user));
      return connection;
    }
    const connection = this.connectionOf(session.userId, String(session.connectionId));
    const existing = connection.sources.find((source) => source.definition.id === session.source.id);
    if (!existing) {
      this.syncSource(connection, this.addSource(connection, session.source, user));
      return connection;
    }
    existing.user = user;
    existing.accessExpire = this.now() + consentDays(user) * DAY_MS;
    this.reauthorized(connection, existing);
    return connection;
  }

  deny(session: WebviewSession): void {
    session.used = true;
  }

  // --- accounts and transactions --------------------------------------------

  /** Accounts of a user or of one of its connections; disabled ones only with `all`. */
  accountsOf(filter: { userId: number; connectionId?: number }, all: boolean): Account[] {
    return [...this.accounts.values()]
      .filter((account) => account.userId === filter.userId && (filter.connectionId === undefined || account.connectionId === filter.connectionId))
      .filter((account) => all || account.disabled === null)
      .sort((a, b) => a.generated.id - b.generated.id);
  }

  /** One of the user's accounts; a disabled one is found only with `all`, as in Powens. */
  account(userId: number, accountId: string, all: boolean): Account {
    const account = /^\d{1,15}$/.test(accountId) ? this.accounts.get(Number(accountId)) : undefined;
    if (!account || account.userId !== userId || (!all && account.disabled !== null)) throw notFound(`No account with id ${accountId}.`);
    return account;
  }

  /**
   * Disables or enables an account. An account enabled for the first time gets its history as of
   * its source's last sync at once; later syncs bring the new days.
   */
  updateAccount(account: Account, patch: { disabled?: boolean; name?: string }): void {
    if (patch.name !== undefined) account.name = patch.name;
    if (patch.disabled === true) account.disabled ??= this.now();
    if (patch.disabled !== false || account.disabled === null) return;
    account.disabled = null;
    const source = this.connections.get(account.connectionId)?.sources.find((candidate) => candidate.id === account.sourceId);
    if (account.syncedUntil === null && source?.lastUpdate != null) {
      account.syncedUntil = source.lastUpdate;
      account.firstSyncedAt = this.now();
    }
  }

  /**
   * An account's transactions, newest first, and how many there are; with `minDay` (midnight UTC)
   * only those dated that day or later.
   */
  transactions(account: Account, limit: number, offset: number, minDay?: number): { items: Record<string, unknown>[]; total: number } {
    const days = account.syncedUntil === null ? 0 : Math.floor((account.syncedUntil - account.firstDay) / DAY_MS) + 1;
    const skipped = minDay === undefined ? 0 : Math.min(days, Math.max(0, Math.ceil((minDay - account.firstDay) / DAY_MS)));
    // `user_coming`: the newest is the coming payment of the day after the last synced day.
    const coming = account.comingAhead && days > 0 && (minDay === undefined || account.firstDay + days * DAY_MS >= minDay) ? 1 : 0;
    const total = coming + days - skipped;
    const items: Record<string, unknown>[] = [];
    for (let index = offset; index < Math.min(total, offset + limit); index++) {
      items.push(index < coming ? this.transactionResource(account, days, true) : this.transactionResource(account, days - 1 - (index - coming)));
    }
    return { items, total };
  }

  // --- resources -------------------------------------------------------------

  connectionResource(connection: Connection, expand: ReadonlySet<string>): Record<string, unknown> {
    const failing = connection.sources.find((source) => source.state !== null);
    const updates = connection.sources.flatMap((source) => (source.lastUpdate === null ? [] : [source.lastUpdate]));
    const expiries = connection.sources.flatMap((source) => (source.accessExpire === null ? [] : [source.accessExpire]));
    const lastUpdate = updates.length > 0 ? Math.max(...updates) : null;
    const { connector } = connection;
    const mine = { userId: connection.userId, connectionId: connection.id };
    return {
      id: connection.id,
      id_user: connection.userId,
      id_connector: connector.id,
      connector_uuid: connector.uuid,
      created: formatDateTime(connection.created),
      active: true,
      state: failing?.state ?? null,
      error: failing?.state ?? null,
      error_message: failing?.errorMessage ?? null,
      ...(failing?.state === 'additionalInformationNeeded' ? { fields: [OTP_FIELD] } : {}),
      last_update: lastUpdate === null ? null : formatDateTime(lastUpdate),
      next_try: lastUpdate === null || failing ? null : formatDateTime(lastUpdate + DAY_MS),
      expire: expiries.length > 0 ? formatDateTime(Math.max(...expiries)) : null,
      last_push: null,
      ...(expand.has('connector') ? { connector: { id: connector.id, uuid: connector.uuid, name: connector.name } } : {}),
      ...(expand.has('sources') ? { sources: connection.sources.map((source) => this.sourceResource(connection, source)) } : {}),
      ...(expand.has('accounts') ? { accounts: this.accountsOf(mine, false).map((a) => this.accountResource(a)) } : {}),
      ...(expand.has('all_accounts') ? { all_accounts: this.accountsOf(mine, true).map((a) => this.accountResource(a)) } : {}),
    };
  }

  private sourceResource(connection: Connection, source: Source): Record<string, unknown> {
    return {
      id: source.id,
      id_connection: connection.id,
      id_connector_source: source.definition.id,
      name: source.definition.name,
      created: formatDateTime(source.created),
      state: source.state,
      last_update: source.lastUpdate === null ? null : formatDateTime(source.lastUpdate),
      disabled: null,
      next_try: null,
      access_expire: source.accessExpire === null ? null : formatDateTime(source.accessExpire),
    };
  }

  accountResource(account: Account): Record<string, unknown> {
    const { generated } = account;
    return {
      id: generated.id,
      id_connection: account.connectionId,
      id_user: account.userId,
      id_source: account.sourceId,
      id_parent: null,
      number: generated.number,
      original_name: generated.name,
      name: account.name,
      type: generated.type,
      id_type: generated.idType,
      display: true,
      bookmarked: false,
      usage: 'priv',
      balance: generated.balance,
      coming: null,
      currency: EURO,
      iban: generated.iban,
      last_update: account.syncedUntil === null ? null : formatDateTime(account.syncedUntil),
      deleted: null,
      disabled: account.disabled === null ? null : formatDateTime(account.disabled),
      loan: null,
    };
  }

  /**
   * The transaction of day `dayIndex`; `coming`: the same payment shown ahead of its day, not yet
   * debited, under an id of its own (once debited it is the day's booked transaction, and Powens
   * says nothing of which coming one it was).
   */
  private transactionResource(account: Account, dayIndex: number, coming = false): Record<string, unknown> {
    const tx = generateTransaction(account.generated.id, account.generated.type, account.firstDay, dayIndex);
    const date = formatDate(tx.day);
    const seen = formatDateTime(coming ? (account.syncedUntil ?? tx.day) : Math.max(tx.day, account.firstSyncedAt ?? tx.day));
    return {
      id: coming ? comingId(account.generated.id, dayIndex) : tx.id,
      id_account: account.generated.id,
      application_date: date,
      date,
      datetime: null,
      rdate: date,
      rdatetime: null,
      vdate: date,
      bdate: date,
      value: tx.value,
      gross_value: tx.value,
      original_value: null,
      original_currency: null,
      commission: null,
      type: tx.type,
      original_wording: tx.wording,
      simplified_wording: tx.wording.replace(WORDING_PREFIXES, ''),
      wording: tx.wording.replace(WORDING_PREFIXES, ''),
      id_category: tx.category,
      coming,
      active: true,
      date_scraped: seen,
      last_update: seen,
      deleted: null,
      card: null,
      comment: null,
      counterparty: null,
    };
  }
}

/** The id of an account's coming transaction for day `dayIndex`: apart from the booked ones' (`account * 10000 + day`). */
export const comingId = (accountId: number, dayIndex: number): number => accountId * 10_000 + 5_000 + dayIndex;
