import { randomBytes, randomInt } from 'node:crypto';
import {
  DAY_SECONDS,
  firstTransactionDay,
  generateAccounts,
  generateTransaction,
  transactionCount,
  type AccountType,
  type ChannelDefinition,
  type ChannelMode,
  type GeneratedAccount,
  type Provider,
  type Transaction,
} from './data';

/** An error answered as `{error, error_description}` with an HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly description: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(`${status} ${code}: ${description}`);
    this.name = 'ApiError';
  }
}

export type ChannelStatus =
  | 'EMPTY'
  | 'NEVER'
  | 'RUNNING'
  | 'SUCCESS'
  | 'FAILED'
  | 'AUTH_FAILED'
  | 'TOO_MANY_ATTEMPTS'
  | 'PASSWORD_CHANGE_REQUIRED'
  | 'USER_ACTION_REQUIRED'
  | 'CHALLENGE_REQUIRED'
  | 'CHALLENGE_TIMED_OUT'
  | 'CHALLENGE_FAILED'
  | 'CHALLENGE_CANCELLED';

const FAILED_CHANNEL_STATUSES: ReadonlySet<ChannelStatus> = new Set<ChannelStatus>([
  'FAILED',
  'AUTH_FAILED',
  'TOO_MANY_ATTEMPTS',
  'PASSWORD_CHANGE_REQUIRED',
  'USER_ACTION_REQUIRED',
  'CHALLENGE_REQUIRED',
  'CHALLENGE_TIMED_OUT',
  'CHALLENGE_FAILED',
  'CHALLENGE_CANCELLED',
]);

export type EventType =
  | 'LIST_ACCOUNTS_STARTED'
  | 'LIST_ACCOUNTS_SUCCESS'
  | 'LIST_ACCOUNTS_FAILED'
  | 'SYNC_ALL_STARTED'
  | 'SYNC_ALL_SUCCESS'
  | 'SYNC_ALL_FAILED';

export type AccountStatus = 'PENDING_CONSENT' | 'ACTIVE';

export interface ChannelResource {
  channel_definition_id: string;
  mode: ChannelMode;
  expires?: number;
  status: ChannelStatus;
  last_success_date?: number;
  last_end_date?: number;
  credentials: [];
  account_types: AccountType[];
}

export interface ConnectionResource {
  id: string;
  provider_id: string;
  name: string;
  status: 'SUCCESS' | 'FAILED';
  creation_date: number;
  auto_sync: true;
  logo_url: string;
  channels: ChannelResource[];
  owner: Record<string, never>;
}

export interface OxlinEvent {
  id: string;
  event_type: EventType;
  resource_type: 'CONNECTION';
  channel_definition_id: string;
  creation_date: number;
  resource: ConnectionResource;
}

export interface AccountResource {
  id: string;
  connection_id: string;
  provider_id: string;
  name: string;
  type: AccountType;
  status: AccountStatus;
  currency: 'EUR';
  balance: number;
  account_number: string;
  iban: string | null;
}

export interface AuthorizationSession {
  id: string;
  provider: Provider;
  channelDefinition: ChannelDefinition;
  redirectUri: string;
  redirectState: string | undefined;
  /** Set when the session re-authorizes an existing connection. */
  connectionId: string | undefined;
  expiresAt: number;
  used: boolean;
}

export interface Consent {
  account_id: string;
  consent: boolean;
}

export interface Channel {
  definition: ChannelDefinition;
  status: ChannelStatus;
  expires?: number;
  lastSuccessDate?: number;
  lastEndDate?: number;
}

export interface Connection {
  id: string;
  provider: Provider;
  creationDate: number;
  channels: Channel[];
  /** A LIST_ACCOUNTS or SYNC_ALL is running. */
  busy: boolean;
}

interface Account {
  generated: GeneratedAccount;
  connectionId: string;
  providerId: string;
  status: AccountStatus;
  /** The time of the latest completed SYNC_ALL that covered this account. */
  syncedUntil?: number;
}

interface Queue {
  /** Undefined for a queue subscribed to the `connections` topic: it gets every connection's events. */
  connectionId: string | undefined;
  events: OxlinEvent[];
}

export interface SimulatorOptions {
  now: () => number;
  listDelayMs: number;
  syncDelayMs: number;
}

export const TOKEN_LIFETIME_SECONDS = 3600;
const SESSION_LIFETIME_MS = 30 * 60 * 1000;
const REDIRECT_CHANNEL_LIFETIME_SECONDS = 180 * DAY_SECONDS;

const randomId = (bytes: number): string => randomBytes(bytes).toString('base64url');

/** The sandbox's in-memory state and the asynchronous jobs (LIST_ACCOUNTS, SYNC_ALL) acting on it. */
export class OxlinSimulator {
  private readonly tokens = new Map<string, number>();
  private readonly sessions = new Map<string, AuthorizationSession>();
  private readonly connections = new Map<string, Connection>();
  private readonly accounts = new Map<string, Account>();
  private readonly queues = new Map<string, Queue>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private lastEventId = 0;

  constructor(private readonly options: SimulatorOptions) {}

  private nowSeconds(): number {
    return Math.floor(this.options.now() / 1000);
  }

  private schedule(delayMs: number, job: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      job();
    }, delayMs);
    timer.unref();
    this.timers.add(timer);
  }

  /** Cancels the pending jobs. */
  dispose(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  // --- tokens --------------------------------------------------------------

  issueToken(): string {
    const token = randomId(32);
    this.tokens.set(token, this.options.now() + TOKEN_LIFETIME_SECONDS * 1000);
    return token;
  }

  isValidToken(token: string): boolean {
    const expiresAt = this.tokens.get(token);
    if (expiresAt === undefined) return false;
    if (expiresAt <= this.options.now()) {
      this.tokens.delete(token);
      return false;
    }
    return true;
  }

  // --- authorization sessions ---------------------------------------------

  createSession(input: Omit<AuthorizationSession, 'id' | 'expiresAt' | 'used'>): AuthorizationSession {
    const session: AuthorizationSession = { ...input, id: randomId(24), expiresAt: this.options.now() + SESSION_LIFETIME_MS, used: false };
    this.sessions.set(session.id, session);
    return session;
  }

  /** The session behind a bank page, or a 400 saying why it cannot be used. */
  usableSession(sessionId: string): AuthorizationSession {
    const session = this.sessions.get(sessionId);
    if (!session) throw new ApiError(400, 'invalid_request', 'Unknown authorization session.');
    if (session.used) throw new ApiError(400, 'invalid_request', 'This authorization session has already been used.');
    if (session.expiresAt <= this.options.now()) throw new ApiError(400, 'invalid_request', 'This authorization session has expired.');
    return session;
  }

  /** The end user approved at the bank: creates or renews the connection. */
  approve(session: AuthorizationSession): { connectionId: string; queueId: string } {
    session.used = true;
    if (session.connectionId !== undefined) {
      const connection = this.connection(session.connectionId);
      const channel = this.channel(connection, session.channelDefinition.id);
      channel.expires = this.nowSeconds() + REDIRECT_CHANNEL_LIFETIME_SECONDS;
      if (channel.status !== 'RUNNING') channel.status = 'SUCCESS';
      return { connectionId: connection.id, queueId: this.subscribe(connection.id) };
    }
    const connection = this.createConnection(session.provider, session.channelDefinition);
    const queueId = this.subscribe(connection.id);
    this.listAccounts(connection, this.channel(connection, session.channelDefinition.id));
    return { connectionId: connection.id, queueId };
  }

  deny(session: AuthorizationSession): void {
    session.used = true;
  }

  // --- connections ---------------------------------------------------------

  private createConnection(provider: Provider, authorized: ChannelDefinition): Connection {
    let id: string;
    do id = String(randomInt(100_000_000, 1_000_000_000));
    while (this.connections.has(id));
    const now = this.nowSeconds();
    const connection: Connection = {
      id,
      provider,
      creationDate: now,
      channels: provider.channel_definitions.map((definition): Channel =>
        definition.id === authorized.id
          ? { definition, status: 'NEVER', expires: now + REDIRECT_CHANNEL_LIFETIME_SECONDS }
          : { definition, status: 'EMPTY' },
      ),
      busy: false,
    };
    this.connections.set(id, connection);
    return connection;
  }

  /** The connection, or a 404. */
  connection(connectionId: string): Connection {
    const connection = this.connections.get(connectionId);
    if (!connection) throw new ApiError(404, 'not_found', `No connection with id "${connectionId}".`);
    return connection;
  }

  private channel(connection: Connection, channelDefinitionId: string): Channel {
    const channel = connection.channels.find((candidate) => candidate.definition.id === channelDefinitionId);
    if (!channel) throw new Error(`connection ${connection.id} has no channel ${channelDefinitionId}`);
    return channel;
  }

  connectionResource(connection: Connection): ConnectionResource {
    const failed = connection.channels.some((channel) => FAILED_CHANNEL_STATUSES.has(channel.status));
    return {
      id: connection.id,
      provider_id: connection.provider.id,
      name: connection.provider.name,
      status: failed ? 'FAILED' : 'SUCCESS',
      creation_date: connection.creationDate,
      auto_sync: true,
      logo_url: connection.provider.logo_url,
      channels: connection.channels.map((channel) => ({
        channel_definition_id: channel.definition.id,
        mode: channel.definition.mode,
        ...(channel.expires !== undefined && { expires: channel.expires }),
        status: channel.status,
        ...(channel.lastSuccessDate !== undefined && { last_success_date: channel.lastSuccessDate }),
        ...(channel.lastEndDate !== undefined && { last_end_date: channel.lastEndDate }),
        credentials: [],
        account_types: [...channel.definition.account_types],
      })),
      owner: {},
    };
  }

  private listAccounts(connection: Connection, channel: Channel): void {
    connection.busy = true;
    channel.status = 'RUNNING';
    this.emit(connection, channel, 'LIST_ACCOUNTS_STARTED');
    this.schedule(this.options.listDelayMs, () => {
      for (const generated of generateAccounts(connection.id, connection.provider.id, channel.definition.account_types)) {
        if (this.accounts.has(generated.id)) continue;
        this.accounts.set(generated.id, { generated, connectionId: connection.id, providerId: connection.provider.id, status: 'PENDING_CONSENT' });
      }
      const now = this.nowSeconds();
      channel.status = 'SUCCESS';
      channel.lastSuccessDate = now;
      channel.lastEndDate = now;
      connection.busy = false;
      this.emit(connection, channel, 'LIST_ACCOUNTS_SUCCESS');
    });
  }

  /** Starts a SYNC_ALL of every channel in use; 409 while another job runs on the connection. */
  synchronize(connection: Connection): void {
    if (connection.busy) throw new ApiError(409, 'conflict', `A synchronization of connection "${connection.id}" is already running.`);
    const channels = connection.channels.filter((channel) => channel.status !== 'EMPTY');
    connection.busy = true;
    for (const channel of channels) {
      channel.status = 'RUNNING';
      this.emit(connection, channel, 'SYNC_ALL_STARTED');
    }
    this.schedule(this.options.syncDelayMs, () => {
      const now = this.nowSeconds();
      for (const account of this.accounts.values()) {
        if (account.connectionId === connection.id && account.status === 'ACTIVE') account.syncedUntil = now;
      }
      connection.busy = false;
      for (const channel of channels) {
        channel.status = 'SUCCESS';
        channel.lastSuccessDate = now;
        channel.lastEndDate = now;
        this.emit(connection, channel, 'SYNC_ALL_SUCCESS');
      }
    });
  }

  /** Applies the user's consents (true: ACTIVE, false: deleted), then starts a SYNC_ALL. */
  setConsents(connection: Connection, consents: readonly Consent[]): void {
    const unknown = consents
      .map((consent) => consent.account_id)
      .filter((accountId) => this.accounts.get(accountId)?.connectionId !== connection.id);
    if (unknown.length > 0) {
      throw new ApiError(400, 'invalid_request', `consents: no account ${unknown.map((id) => `"${id}"`).join(', ')} on connection "${connection.id}".`);
    }
    const seen = new Set<string>();
    for (const { account_id: accountId } of consents) {
      if (seen.has(accountId)) throw new ApiError(400, 'invalid_request', `consents: account "${accountId}" is listed more than once.`);
      seen.add(accountId);
    }
    if (connection.busy) throw new ApiError(409, 'conflict', `A synchronization of connection "${connection.id}" is already running.`);
    for (const consent of consents) {
      const account = this.accounts.get(consent.account_id);
      if (!account) continue;
      if (consent.consent) account.status = 'ACTIVE';
      else this.accounts.delete(consent.account_id);
    }
    this.synchronize(connection);
  }

  // --- queues and events ---------------------------------------------------

  /** A new queue; with a connection id it only receives that connection's events. */
  subscribe(connectionId?: string): string {
    const id = randomId(16);
    this.queues.set(id, { connectionId, events: [] });
    return id;
  }

  /** The waiting events, oldest first; reading removes them. */
  drainQueue(queueId: string): OxlinEvent[] {
    const queue = this.queues.get(queueId);
    if (!queue) throw new ApiError(404, 'not_found', `No queue with id "${queueId}".`);
    return queue.events.splice(0);
  }

  private emit(connection: Connection, channel: Channel, eventType: EventType): void {
    this.lastEventId += 1;
    const event: OxlinEvent = {
      id: String(this.lastEventId),
      event_type: eventType,
      resource_type: 'CONNECTION',
      channel_definition_id: channel.definition.id,
      creation_date: this.nowSeconds(),
      resource: this.connectionResource(connection),
    };
    for (const queue of this.queues.values()) {
      if (queue.connectionId === undefined || queue.connectionId === connection.id) queue.events.push(structuredClone(event));
    }
  }

  // --- accounts and transactions ------------------------------------------

  accountsOf(connection: Connection): AccountResource[] {
    return [...this.accounts.values()]
      .filter((account) => account.connectionId === connection.id)
      .sort((a, b) => a.generated.id.localeCompare(b.generated.id))
      .map((account) => ({
        id: account.generated.id,
        connection_id: account.connectionId,
        provider_id: account.providerId,
        name: account.generated.name,
        type: account.generated.type,
        status: account.status,
        currency: 'EUR',
        balance: account.generated.balance,
        account_number: account.generated.account_number,
        iban: account.generated.iban,
      }));
  }

  /** One page of an account's transactions, newest first, and how many there are in all. */
  transactions(accountId: string, limit: number, offset: number): { page: Transaction[]; total: number } {
    const account = this.accounts.get(accountId);
    if (!account) throw new ApiError(404, 'not_found', `No account with id "${accountId}".`);
    if (account.status !== 'ACTIVE' || account.syncedUntil === undefined) return { page: [], total: 0 };
    const firstDay = firstTransactionDay(this.connection(account.connectionId).creationDate);
    const total = transactionCount(firstDay, account.syncedUntil);
    const page: Transaction[] = [];
    for (let rank = offset; rank < Math.min(total, offset + limit); rank += 1) {
      page.push(generateTransaction(accountId, account.generated.type, firstDay, total - 1 - rank));
    }
    return { page, total };
  }
}
