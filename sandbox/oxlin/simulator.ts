import { randomBytes, randomInt } from 'node:crypto';
import { maskCredentials, type MaskedCredential } from './credentials';
import {
  CREDENTIAL_ROLES,
  DAY_SECONDS,
  firstIndexFrom,
  firstTransactionDay,
  generateAccounts,
  generateTransaction,
  transactionCount,
  transferLegs,
  type AccountType,
  type ChannelDefinition,
  type ChannelMode,
  type GeneratedAccount,
  type History,
  type Provider,
  type Transaction,
  type TransactionStatus,
} from './data';
import { ApiError } from './errors';
import {
  CHALLENGE_ATTEMPTS,
  CHALLENGE_TIMEOUT_SECONDS,
  HUGE_ACCOUNTS,
  HUGE_HISTORY_DAYS,
  HUGE_PER_DAY,
  MANY_ACCOUNTS,
  MESSAGE_TYPES,
  SMS_CODE,
  SMS_CODE_FIELD,
  SMS_CONFIRM_ANSWER,
  SMS_OFFER_ANSWER,
  TEST_PASSWORD,
  redirectConsentDays,
  scenarioOf,
  smsCodeRequest,
  smsOffer,
  type ChallengeItem,
} from './scenarios';

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

export type JobKind = 'LIST_ACCOUNTS' | 'SYNC_ALL';
export type EventType = `${JobKind}_${'STARTED' | 'SUCCESS' | 'FAILED' | 'USER_INPUT_REQUESTED'}`;

/** How the next SYNC_ALL of a connection ends (`POST /sandbox/connections/{id}/next-sync`). */
export const SYNC_OUTCOMES = ['AUTH_FAILED', 'PASSWORD_CHANGE_REQUIRED', 'USER_ACTION_REQUIRED', 'CHALLENGE', 'SUCCESS'] as const;
export type SyncOutcome = (typeof SYNC_OUTCOMES)[number];

/** The channel status a job ends with. */
type JobEnd =
  | 'SUCCESS'
  | 'AUTH_FAILED'
  | 'PASSWORD_CHANGE_REQUIRED'
  | 'USER_ACTION_REQUIRED'
  | 'TOO_MANY_ATTEMPTS'
  | 'CHALLENGE_CANCELLED'
  | 'CHALLENGE_TIMED_OUT';

export type AccountStatus = 'PENDING_CONSENT' | 'ACTIVE';

export interface ChannelResource {
  channel_definition_id: string;
  mode: ChannelMode;
  expires?: number;
  status: ChannelStatus;
  last_success_date?: number;
  last_end_date?: number;
  credentials: MaskedCredential[];
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

export interface UserInputRequest {
  challenge: ChallengeItem[];
}

export interface OxlinEvent {
  id: string;
  event_type: EventType;
  resource_type: 'CONNECTION';
  channel_definition_id: string;
  creation_date: number;
  resource: ConnectionResource;
  list_accounts_user_input_requested?: UserInputRequest;
  sync_all_user_input_requested?: UserInputRequest;
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
  /**
   * `use_client_redirect`: the client creates the connection (reference 001, "You want to create
   * the connection"). The bank sends back an authorization code instead of a connection.
   */
  clientRedirect: boolean;
  expiresAt: number;
  used: boolean;
}

/** What a `use_client_redirect` approval hands the client: a code for `POST /connections`. */
interface AuthorizationGrant {
  session: AuthorizationSession;
  /** The user name typed at the bank: the channel's test user. */
  user: string;
  expiresAt: number;
  /** The connection the code created: the same code sent again answers it (a client's retry). */
  connectionId?: string;
}

export interface Consent {
  account_id: string;
  consent: boolean;
}

export interface UserInput {
  id: string;
  value: string;
}

interface PendingChallenge {
  step: 'offer' | 'code';
  items: ChallengeItem[];
  /** Wrong codes still allowed. */
  remainingAttempts: number;
  /** Sandbox milliseconds; an answer after this is too late. */
  deadline: number;
}

/** A LIST_ACCOUNTS or SYNC_ALL running on one channel. */
interface Job {
  kind: JobKind;
  delayMs: number;
  /** Set by the next-sync control. */
  forced: SyncOutcome | undefined;
  challengePassed: boolean;
  challenge?: PendingChallenge;
  timer?: NodeJS.Timeout;
}

export interface Channel {
  definition: ChannelDefinition;
  /** This channel's accounts are numbered from here, so channels never share an id. */
  firstAccountIndex: number;
  status: ChannelStatus;
  expires?: number;
  lastSuccessDate?: number;
  lastEndDate?: number;
  /** The user name at the bank (REDIRECT) or the login credential (EMBEDDED): it selects the scenario. */
  user?: string;
  /** EMBEDDED credentials by id, decrypted. */
  credentials: Map<string, string>;
  accountsListed: boolean;
  /** `user_action` has had its one USER_ACTION_REQUIRED. */
  userActionDone: boolean;
  job?: Job;
}

export interface Connection {
  id: string;
  provider: Provider;
  creationDate: number;
  channels: Channel[];
  nextSync?: SyncOutcome;
}

interface Account {
  generated: GeneratedAccount;
  connectionId: string;
  providerId: string;
  channelDefinitionId: string;
  status: AccountStatus;
  /** The time of the latest completed SYNC_ALL that covered this account. */
  syncedUntil?: number;
  /** Which SYNC_ALL that was (the simulator counts the ones that succeed): extras show by it. */
  syncedBy?: number;
  history: History;
  /** The provider's corrections of generated transactions (sandbox control), by index. */
  corrections: Map<number, TransactionCorrection>;
  /** Generated transactions the provider dropped (sandbox control), by index. */
  dropped: Set<number>;
  /** Transactions the generator does not make: a scenario's, or added by a sandbox control. */
  extras: ExtraTransaction[];
}

/**
 * A transaction outside the generated history. Like the bank's data behind Oxlin, it shows in
 * reads once a SYNC_ALL numbered `from` or later has covered its account, and, once the bank booked
 * it under another id, no more after one numbered `until` or later. Counting SYNC_ALLs rather than
 * reading the clock keeps "the next synchronization" exact on a clock that tests hold still.
 */
interface ExtraTransaction {
  transaction: Transaction;
  from: number;
  until?: number;
}

export interface TransactionCorrection {
  amount?: number;
  label?: string;
}

/** One existing transaction of an account, as the sandbox controls name it. */
export type TransactionRef = { account: Account } & ({ index: number; extra?: undefined } | { extra: ExtraTransaction; index?: undefined });

/** A transaction a sandbox control adds to an account (the bank shows a new one). */
export interface NewTransaction {
  amount: number;
  label: string;
  status: TransactionStatus;
  /** Default: `{account_id}-X{n}`. */
  id?: string;
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
  /** How long a `user_slow` LIST_ACCOUNTS takes. */
  slowListDelayMs: number;
  /** Called with every event, as queued: the server sends them as webhooks. */
  onEvent?: (event: OxlinEvent) => void;
}

export const TOKEN_LIFETIME_SECONDS = 3600;
const SESSION_LIFETIME_MS = 30 * 60 * 1000;
/** How long an authorization code can be exchanged (RFC 6749 §4.1.2 recommends 10 minutes at most). */
export const AUTHORIZATION_CODE_LIFETIME_MS = 10 * 60 * 1000;
/** Room for the 25 accounts of `user_many` in each channel's block of ids. */
const ACCOUNTS_PER_CHANNEL = 50;

const randomId = (bytes: number): string => randomBytes(bytes).toString('base64url');

const conflict = (connection: Connection): ApiError =>
  new ApiError(409, 'conflict', `A synchronization of connection "${connection.id}" is already running.`);

/** The sandbox's in-memory state and the asynchronous jobs (LIST_ACCOUNTS, SYNC_ALL) acting on it. */
export class OxlinSimulator {
  private readonly tokens = new Map<string, number>();
  private readonly sessions = new Map<string, AuthorizationSession>();
  private readonly grants = new Map<string, AuthorizationGrant>();
  private readonly connections = new Map<string, Connection>();
  private readonly accounts = new Map<string, Account>();
  private readonly queues = new Map<string, Queue>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private lastEventId = 0;
  /** SYNC_ALLs that succeeded (per channel), counted: what each account last saw. */
  private syncsDone = 0;

  constructor(private readonly options: SimulatorOptions) {}

  private nowSeconds(): number {
    return Math.floor(this.options.now() / 1000);
  }

  private schedule(delayMs: number, job: () => void): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      job();
    }, delayMs);
    timer.unref();
    this.timers.add(timer);
    return timer;
  }

  private cancel(timer: NodeJS.Timeout): void {
    clearTimeout(timer);
    this.timers.delete(timer);
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

  /**
   * The end user `user` approved at the bank: creates the connection, or renews the
   * channel of an existing one (and lists its accounts if it has none listed yet).
   */
  approve(session: AuthorizationSession, user: string): { connectionId: string; queueId: string } {
    session.used = true;
    const connection = session.connectionId === undefined ? this.newConnection(session.provider) : this.connection(session.connectionId);
    const channel = this.authorizeAtBank(connection, session, user);
    const queueId = this.subscribe(connection.id);
    if (channel.job === undefined) {
      if (channel.accountsListed) channel.status = 'SUCCESS';
      else this.startJob(connection, channel, 'LIST_ACCOUNTS');
    }
    return { connectionId: connection.id, queueId };
  }

  deny(session: AuthorizationSession): void {
    session.used = true;
  }

  /** The end user `user` approved a `use_client_redirect` session: the code the browser takes back. */
  issueCode(session: AuthorizationSession, user: string): string {
    session.used = true;
    const code = randomId(24);
    this.grants.set(code, { session, user, expiresAt: this.options.now() + AUTHORIZATION_CODE_LIFETIME_MS });
    return code;
  }

  /**
   * `POST /connections` with an AUTHORIZATION_CODE: creates the connection the code stands for
   * and lists its REDIRECT channel's accounts. The code must have been issued for this provider,
   * channel definition and `redirect_uri` (RFC 6749 §4.1.3), within its lifetime. Sent again
   * within that lifetime it answers the connection it created, so a client whose first call's
   * answer was lost loses nothing; never a second connection. Every refusal is `400 invalid_grant`.
   */
  redeemCode(code: string, request: { providerId: string; channelDefinitionId: string; redirectUri: string }): Connection {
    const grant = this.grants.get(code);
    if (!grant || grant.expiresAt <= this.options.now()) {
      throw new ApiError(400, 'invalid_grant', 'The authorization code is unknown or has expired.');
    }
    const { session } = grant;
    if (session.provider.id !== request.providerId || session.channelDefinition.id !== request.channelDefinitionId || session.redirectUri !== request.redirectUri) {
      throw new ApiError(400, 'invalid_grant', 'The authorization code was issued for another provider, channel definition or redirect_uri.');
    }
    if (grant.connectionId !== undefined) {
      const created = this.connections.get(grant.connectionId);
      if (!created) throw new ApiError(400, 'invalid_grant', 'The authorization code was used for a connection that has since been deleted.');
      return created;
    }
    const connection = this.newConnection(session.provider);
    const channel = this.authorizeAtBank(connection, session, grant.user);
    this.startJob(connection, channel, 'LIST_ACCOUNTS');
    grant.connectionId = connection.id;
    return connection;
  }

  // --- connections ---------------------------------------------------------

  private newConnection(provider: Provider): Connection {
    let id: string;
    do id = String(randomInt(100_000_000, 1_000_000_000));
    while (this.connections.has(id));
    const connection: Connection = {
      id,
      provider,
      creationDate: this.nowSeconds(),
      channels: provider.channel_definitions.map((definition, position) => ({
        definition,
        firstAccountIndex: position * ACCOUNTS_PER_CHANNEL + 1,
        status: 'EMPTY',
        credentials: new Map(),
        accountsListed: false,
        userActionDone: false,
      })),
    };
    this.connections.set(id, connection);
    return connection;
  }

  /** Creates a connection through an EMBEDDED channel with checked credentials; LIST_ACCOUNTS starts. */
  createEmbeddedConnection(provider: Provider, channelDefinition: ChannelDefinition, credentials: ReadonlyMap<string, string>): Connection {
    const connection = this.newConnection(provider);
    const channel = this.channel(connection, channelDefinition.id);
    this.setCredentials(channel, credentials);
    this.startJob(connection, channel, 'LIST_ACCOUNTS');
    return connection;
  }

  /** The connection, or a 404. Challenges past their deadline expire first. */
  connection(connectionId: string): Connection {
    this.expireChallenges();
    const connection = this.connections.get(connectionId);
    if (!connection) throw new ApiError(404, 'not_found', `No connection with id "${connectionId}".`);
    return connection;
  }

  private channel(connection: Connection, channelDefinitionId: string): Channel {
    const channel = connection.channels.find((candidate) => candidate.definition.id === channelDefinitionId);
    if (!channel) throw new ApiError(404, 'not_found', `Connection "${connection.id}" has no channel "${channelDefinitionId}".`);
    return channel;
  }

  /** The EMBEDDED channel definition of a connection; 404 if unknown, 400 if it is a REDIRECT one. */
  embeddedChannelDefinition(connection: Connection, channelDefinitionId: string): ChannelDefinition {
    const { definition } = this.channel(connection, channelDefinitionId);
    if (definition.mode !== 'EMBEDDED') {
      throw new ApiError(
        400,
        'invalid_request',
        `Channel "${channelDefinitionId}" is REDIRECT: renew it through authorize_url with connection_id and channel_definition_id.`,
      );
    }
    return definition;
  }

  /** The channel definition a credential belongs to; 409 while that channel has no credentials yet. */
  credentialChannelDefinition(connection: Connection, credentialId: string): ChannelDefinition {
    const channel = connection.channels.find((candidate) => candidate.definition.credentials.some((credential) => credential.id === credentialId));
    if (!channel) throw new ApiError(404, 'not_found', `Connection "${connection.id}" has no credential "${credentialId}".`);
    if (channel.credentials.size === 0) {
      throw new ApiError(
        409,
        'conflict',
        `Channel "${channel.definition.id}" is EMPTY: add it with PUT /connections/${connection.id}/channels/${channel.definition.id}.`,
      );
    }
    return channel.definition;
  }

  /** 409 while a job runs (or waits for user input) on the connection. */
  assertIdle(connection: Connection): void {
    if (connection.channels.some((channel) => channel.job !== undefined)) throw conflict(connection);
  }

  /**
   * Sets checked credentials of an EMBEDDED channel (all of them, or `merge` a few into the
   * current ones) and lists its accounts; on an EMPTY channel this adds the channel.
   */
  updateCredentials(connection: Connection, channelDefinitionId: string, credentials: ReadonlyMap<string, string>, merge: boolean): void {
    this.assertIdle(connection);
    const channel = this.channel(connection, channelDefinitionId);
    this.setCredentials(channel, merge ? new Map([...channel.credentials, ...credentials]) : credentials);
    this.startJob(connection, channel, 'LIST_ACCOUNTS');
  }

  /** The session's REDIRECT channel, authorized at the bank by `user`: its test user, and when its consent lapses. */
  private authorizeAtBank(connection: Connection, session: AuthorizationSession, user: string): Channel {
    const channel = this.channel(connection, session.channelDefinition.id);
    this.setUser(channel, user);
    channel.expires = this.nowSeconds() + redirectConsentDays(user) * DAY_SECONDS;
    return channel;
  }

  private setCredentials(channel: Channel, credentials: ReadonlyMap<string, string>): void {
    channel.credentials = new Map(credentials);
    const roles = CREDENTIAL_ROLES[channel.definition.id];
    this.setUser(channel, roles && credentials.get(roles.login));
  }

  private setUser(channel: Channel, user: string | undefined): void {
    if (channel.user === user) return;
    channel.user = user;
    channel.userActionDone = false;
  }

  /** Removes the connection, its accounts (and so their transactions) and its pending jobs. */
  deleteConnection(connection: Connection): void {
    for (const channel of connection.channels) {
      if (channel.job?.timer) this.cancel(channel.job.timer);
      channel.job = undefined;
    }
    for (const [accountId, account] of this.accounts) {
      if (account.connectionId === connection.id) this.accounts.delete(accountId);
    }
    this.connections.delete(connection.id);
  }

  setNextSync(connection: Connection, outcome: SyncOutcome): void {
    connection.nextSync = outcome;
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
        credentials: maskCredentials(channel.definition, channel.credentials),
        account_types: [...channel.definition.account_types],
      })),
      owner: {},
    };
  }

  // --- jobs ------------------------------------------------------------------

  private startJob(connection: Connection, channel: Channel, kind: JobKind, forced?: SyncOutcome): void {
    const listDelayMs = scenarioOf(channel.user) === 'user_slow' ? this.options.slowListDelayMs : this.options.listDelayMs;
    const job: Job = { kind, delayMs: kind === 'LIST_ACCOUNTS' ? listDelayMs : this.options.syncDelayMs, forced, challengePassed: false };
    channel.job = job;
    channel.status = 'RUNNING';
    this.emit(connection, channel, `${kind}_STARTED`);
    this.proceedLater(connection, channel, job);
  }

  /** After the job's delay, it asks for the SMS challenge or ends. */
  private proceedLater(connection: Connection, channel: Channel, job: Job): void {
    job.timer = this.schedule(job.delayMs, () => {
      job.timer = undefined;
      if (channel.job !== job) return;
      const outcome = this.outcome(channel, job);
      if (outcome === 'CHALLENGE') this.askChallenge(connection, channel, job, 'offer', CHALLENGE_ATTEMPTS);
      else this.finish(connection, channel, job, outcome);
    });
  }

  private outcome(channel: Channel, job: Job): SyncOutcome {
    const scenario = scenarioOf(channel.user);
    if (channel.definition.mode === 'REDIRECT' && channel.expires !== undefined && channel.expires <= this.nowSeconds()) return 'AUTH_FAILED';
    if (!this.passwordAccepted(channel)) return 'AUTH_FAILED';
    if (scenario === 'user_pwchange') return 'PASSWORD_CHANGE_REQUIRED';
    if (job.forced !== undefined) return job.forced === 'CHALLENGE' && job.challengePassed ? 'SUCCESS' : job.forced;
    const asksCode = job.kind === 'LIST_ACCOUNTS' ? scenario === 'user_sms' : scenario === 'user_sms_sync';
    if (asksCode && !job.challengePassed) return 'CHALLENGE';
    if (job.kind === 'SYNC_ALL' && scenario === 'user_action' && !channel.userActionDone) return 'USER_ACTION_REQUIRED';
    return 'SUCCESS';
  }

  private passwordAccepted(channel: Channel): boolean {
    const roles = CREDENTIAL_ROLES[channel.definition.id];
    if (channel.definition.mode !== 'EMBEDDED' || !roles) return true;
    return scenarioOf(channel.user) !== 'user_wrongpass' && channel.credentials.get(roles.password) === TEST_PASSWORD;
  }

  private askChallenge(connection: Connection, channel: Channel, job: Job, step: PendingChallenge['step'], remainingAttempts: number): void {
    const items = step === 'offer' ? smsOffer() : smsCodeRequest(remainingAttempts);
    job.challenge = { step, items, remainingAttempts, deadline: this.options.now() + CHALLENGE_TIMEOUT_SECONDS * 1000 };
    channel.status = 'CHALLENGE_REQUIRED';
    this.emit(connection, channel, `${job.kind}_USER_INPUT_REQUESTED`, items);
  }

  private finish(connection: Connection, channel: Channel, job: Job, end: JobEnd): void {
    if (job.timer) this.cancel(job.timer);
    channel.job = undefined;
    const now = this.nowSeconds();
    channel.lastEndDate = now;
    if (end === 'SUCCESS') {
      channel.lastSuccessDate = now;
      // A SYNC_ALL also finds the accounts of a channel whose LIST_ACCOUNTS never succeeded.
      if (job.kind === 'LIST_ACCOUNTS' || !channel.accountsListed) this.listAccounts(connection, channel);
      if (job.kind === 'SYNC_ALL') {
        this.syncsDone += 1;
        for (const account of this.accounts.values()) {
          if (account.connectionId === connection.id && account.channelDefinitionId === channel.definition.id && account.status === 'ACTIVE') {
            account.syncedUntil = now;
            account.syncedBy = this.syncsDone;
          }
        }
      }
    } else if (end === 'USER_ACTION_REQUIRED') {
      channel.userActionDone = true;
    }
    channel.status = end;
    this.emit(connection, channel, `${job.kind}_${end === 'SUCCESS' ? 'SUCCESS' : 'FAILED'}`);
  }

  private listAccounts(connection: Connection, channel: Channel): void {
    const scenario = scenarioOf(channel.user);
    const count = scenario === 'user_many' ? MANY_ACCOUNTS : scenario === 'user_huge' ? HUGE_ACCOUNTS : undefined;
    const generated = generateAccounts(connection.id, connection.provider.id, channel.definition.account_types, {
      firstIndex: channel.firstAccountIndex,
      ...(count !== undefined && { count }),
    });
    const history: History =
      scenario === 'user_huge'
        ? { firstDay: firstTransactionDay(connection.creationDate, HUGE_HISTORY_DAYS), perDay: HUGE_PER_DAY }
        : { firstDay: firstTransactionDay(connection.creationDate), perDay: 1 };
    for (const account of generated) {
      if (this.accounts.has(account.id)) continue;
      this.accounts.set(account.id, {
        generated: account,
        connectionId: connection.id,
        providerId: connection.provider.id,
        channelDefinitionId: channel.definition.id,
        status: 'PENDING_CONSENT',
        history,
        corrections: new Map(),
        dropped: new Set(),
        extras: [],
      });
    }
    // `user_transfer`: both legs of an internal transfer on the day of creation, one id on two
    // accounts, shown from the first SYNC_ALL on.
    const [from, to] = generated.map((account) => this.accounts.get(account.id));
    if (scenario === 'user_transfer' && from && to && from.extras.length === 0 && to.extras.length === 0) {
      const [debit, credit] = transferLegs(from.generated.id, to.generated.id, firstTransactionDay(connection.creationDate, 0));
      from.extras.push({ transaction: debit, from: 0 });
      to.extras.push({ transaction: credit, from: 0 });
    }
    channel.accountsListed = true;
  }

  /** Ends the challenges nobody answered in time; runs before the connections and queues are read. */
  private expireChallenges(): void {
    const now = this.options.now();
    for (const connection of this.connections.values()) {
      for (const channel of connection.channels) {
        const job = channel.job;
        if (job?.challenge && now > job.challenge.deadline) this.finish(connection, channel, job, 'CHALLENGE_TIMED_OUT');
      }
    }
  }

  /** Starts a SYNC_ALL of every channel in use; 409 while another job runs on the connection. */
  synchronize(connection: Connection): void {
    this.assertIdle(connection);
    const forced = connection.nextSync;
    connection.nextSync = undefined;
    for (const channel of connection.channels) {
      if (channel.status !== 'EMPTY') this.startJob(connection, channel, 'SYNC_ALL', forced);
    }
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
    this.assertIdle(connection);
    for (const consent of consents) {
      const account = this.accounts.get(consent.account_id);
      if (!account) continue;
      if (consent.consent) account.status = 'ACTIVE';
      else this.accounts.delete(consent.account_id);
    }
    this.synchronize(connection);
  }

  // --- user input ------------------------------------------------------------

  /** The user's answer to the challenge pending on a channel (`user_input`). */
  answerChallenge(connection: Connection, channelDefinitionId: string, answers: readonly UserInput[]): void {
    const channel = this.channel(connection, channelDefinitionId);
    const job = channel.job;
    const challenge = job?.challenge;
    if (!job || !challenge) {
      throw new ApiError(409, 'conflict', `No challenge is pending on channel "${channelDefinitionId}" of connection "${connection.id}".`);
    }
    const given = this.checkAnswers(challenge, answers);
    const required = (id: string): string => {
      const value = given.get(id);
      if (value === undefined) throw new ApiError(400, 'invalid_request', `credentials: "${id}" is required.`);
      return value;
    };

    if (challenge.step === 'offer') {
      if (required(SMS_OFFER_ANSWER) === 'false') this.finish(connection, channel, job, 'CHALLENGE_CANCELLED');
      else this.askChallenge(connection, channel, job, 'code', CHALLENGE_ATTEMPTS);
      return;
    }
    if (required(SMS_CONFIRM_ANSWER) === 'false') {
      this.finish(connection, channel, job, 'CHALLENGE_CANCELLED');
      return;
    }
    if (required(SMS_CODE_FIELD) === SMS_CODE) {
      job.challenge = undefined;
      job.challengePassed = true;
      channel.status = 'RUNNING';
      this.proceedLater(connection, channel, job);
      return;
    }
    const remainingAttempts = challenge.remainingAttempts - 1;
    if (remainingAttempts === 0) this.finish(connection, channel, job, 'TOO_MANY_ATTEMPTS');
    else this.askChallenge(connection, channel, job, 'code', remainingAttempts);
  }

  /** The answers by id, each an input of the challenge and matching its regexp. */
  private checkAnswers(challenge: PendingChallenge, answers: readonly UserInput[]): Map<string, string> {
    const inputs = new Map(challenge.items.filter((item) => !MESSAGE_TYPES.has(item.type)).map((item) => [item.id, item]));
    const given = new Map<string, string>();
    for (const { id, value } of answers) {
      const item = inputs.get(id);
      if (!item) {
        const expected = [...inputs.keys()].map((input) => `"${input}"`).join(', ');
        throw new ApiError(400, 'invalid_request', `credentials: "${id}" is not an input of the pending challenge (expected ${expected}).`);
      }
      if (given.has(id)) throw new ApiError(400, 'invalid_request', `credentials: "${id}" is given more than once.`);
      if (item.type === 'OK_CANCEL' && value !== 'true' && value !== 'false') {
        throw new ApiError(400, 'invalid_request', `credentials: "${id}" is OK_CANCEL; its value is "true" or "false".`);
      }
      if (!new RegExp(item.regexp).test(value)) {
        throw new ApiError(400, 'invalid_request', `credentials: the value of "${id}" does not match ${item.regexp}.`);
      }
      given.set(id, value);
    }
    return given;
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
    this.expireChallenges();
    const queue = this.queues.get(queueId);
    if (!queue) throw new ApiError(404, 'not_found', `No queue with id "${queueId}".`);
    return queue.events.splice(0);
  }

  private emit(connection: Connection, channel: Channel, eventType: EventType, challenge?: ChallengeItem[]): void {
    this.lastEventId += 1;
    const input: Partial<OxlinEvent> =
      challenge === undefined
        ? {}
        : eventType === 'LIST_ACCOUNTS_USER_INPUT_REQUESTED'
          ? { list_accounts_user_input_requested: { challenge } }
          : { sync_all_user_input_requested: { challenge } };
    const event: OxlinEvent = {
      id: String(this.lastEventId),
      event_type: eventType,
      resource_type: 'CONNECTION',
      channel_definition_id: channel.definition.id,
      creation_date: this.nowSeconds(),
      resource: this.connectionResource(connection),
      ...input,
    };
    for (const queue of this.queues.values()) {
      if (queue.connectionId === undefined || queue.connectionId === connection.id) queue.events.push(structuredClone(event));
    }
    this.options.onEvent?.(structuredClone(event));
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

  /**
   * One page of an account's transactions, newest first, and how many there are in all; with
   * `fromDay` (midnight UTC, Unix seconds) only those booked that day or later. Only the page's
   * own transactions are generated, whatever the account's history holds.
   */
  transactions(accountId: string, limit: number, offset: number, fromDay?: number): { page: Transaction[]; total: number } {
    const account = this.accounts.get(accountId);
    if (!account) throw new ApiError(404, 'not_found', `No account with id "${accountId}".`);
    if (account.status !== 'ACTIVE' || account.syncedUntil === undefined) return { page: [], total: 0 };
    // Indexes [start, end) are in range, oldest first; dropped ones are skipped.
    const end = transactionCount(account.history, account.syncedUntil);
    const start = fromDay === undefined ? 0 : Math.min(end, firstIndexFrom(account.history, fromDay));
    const droppedInRange = [...account.dropped].filter((index) => index >= start && index < end).sort((a, b) => b - a);
    const shownFrom = (low: number) => end - low - droppedInRange.filter((index) => index >= low).length;
    // The few extras, newest first, each placed before the generated ones of its day: its position
    // is the number of generated transactions booked after it, plus the extras before it.
    const extras = this.shownExtras(account)
      .filter((extra) => fromDay === undefined || extra.transaction.date >= fromDay)
      .sort((a, b) => b.transaction.date - a.transaction.date || b.from - a.from);
    const positions = extras.map((extra, rank) => shownFrom(Math.min(end, Math.max(start, firstIndexFrom(account.history, extra.transaction.date + 1)))) + rank);
    const total = shownFrom(start) + extras.length;
    let next = positions.findIndex((position) => position >= offset);
    if (next < 0) next = extras.length;
    // The generated transaction at `offset`: the (offset - extras before it)-th from the newest, not dropped.
    let index = end - 1 - (offset - next);
    for (const dropped of droppedInRange) {
      if (dropped < index) break;
      index -= 1;
    }
    const page: Transaction[] = [];
    for (let position = offset; position < total && page.length < limit; position++) {
      const extra = extras[next];
      if (extra && positions[next] === position) {
        page.push({ ...extra.transaction });
        next++;
        continue;
      }
      while (account.dropped.has(index)) index -= 1;
      page.push(this.transactionAt(account, index));
      index -= 1;
    }
    return { page, total };
  }

  /** The extras the account shows as of its latest SYNC_ALL. */
  private shownExtras(account: Account): ExtraTransaction[] {
    const synced = account.syncedBy;
    if (synced === undefined) return [];
    return account.extras.filter((extra) => synced >= extra.from && (extra.until === undefined || synced < extra.until));
  }

  private transactionAt(account: Account, index: number): Transaction {
    const transaction = generateTransaction(account.generated.id, account.generated.type, account.history, index);
    return { ...transaction, ...account.corrections.get(index) };
  }

  /** A transaction the account currently shows (`${accountId}-${index}`, or one of its extras), or a 404. */
  transaction(accountId: string, transactionId: string): TransactionRef {
    const account = this.accounts.get(accountId);
    if (!account) throw new ApiError(404, 'not_found', `No account with id "${accountId}".`);
    const extra = account.status === 'ACTIVE' ? this.shownExtras(account).find((e) => e.transaction.id === transactionId) : undefined;
    if (extra) return { account, extra };
    const rest = transactionId.startsWith(`${accountId}-`) ? transactionId.slice(accountId.length + 1) : '';
    const index = /^(0|[1-9]\d{0,14})$/.test(rest) ? Number(rest) : -1;
    const shown =
      index >= 0 &&
      account.status === 'ACTIVE' &&
      account.syncedUntil !== undefined &&
      index < transactionCount(account.history, account.syncedUntil) &&
      !account.dropped.has(index);
    if (!shown) throw new ApiError(404, 'not_found', `No transaction "${transactionId}" on account "${accountId}".`);
    return { account, index };
  }

  /** The provider corrects a transaction: later reads show the new values. */
  correctTransaction({ account, index, extra }: TransactionRef, correction: TransactionCorrection): void {
    if (extra) Object.assign(extra.transaction, correction);
    else account.corrections.set(index, { ...account.corrections.get(index), ...correction });
  }

  /** The provider drops a transaction: later reads no longer show it. */
  dropTransaction({ account, index, extra }: TransactionRef): void {
    if (extra) {
      account.extras.splice(account.extras.indexOf(extra), 1);
      return;
    }
    account.corrections.delete(index);
    account.dropped.add(index);
  }

  /**
   * The bank shows a new transaction on an ACTIVE account, dated today (the sandbox clock's UTC
   * day): reads show it from the next SYNC_ALL on. Answers its id.
   */
  addTransaction(accountId: string, input: NewTransaction): string {
    const account = this.accounts.get(accountId);
    if (!account || account.status !== 'ACTIVE') throw new ApiError(404, 'not_found', `No ACTIVE account with id "${accountId}".`);
    const now = this.nowSeconds();
    const id = this.newTransactionId(account, input.id);
    account.extras.push({
      transaction: {
        id,
        account_id: accountId,
        date: firstTransactionDay(now, 0),
        amount: input.amount,
        currency: 'EUR',
        label: input.label,
        category_id: '0',
        status: input.status,
      },
      from: this.syncsDone + 1,
    });
    return id;
  }

  /**
   * The bank books a pending transaction under a new id: from the next SYNC_ALL on, reads show a
   * BOOKED one (same amount, label and category, dated today) instead of the pending one, and
   * nothing says which pending one it was (Oxlin gives no such link). Answers the new id.
   */
  postTransaction(ref: TransactionRef, newId?: string): string {
    const { account, extra } = ref;
    if (!extra || extra.transaction.status !== 'PENDING' || extra.until !== undefined) {
      throw new ApiError(409, 'conflict', `Transaction "${extra?.transaction.id ?? `${account.generated.id}-${ref.index}`}" is not pending.`);
    }
    const id = this.newTransactionId(account, newId);
    extra.until = this.syncsDone + 1;
    account.extras.push({
      transaction: { ...extra.transaction, id, date: firstTransactionDay(this.nowSeconds(), 0), status: 'BOOKED' },
      from: this.syncsDone + 1,
    });
    return id;
  }

  /** A new transaction id for the account: the one asked for, if no transaction has it, else `{account_id}-X{n}`. */
  private newTransactionId(account: Account, wanted: string | undefined): string {
    const accountId = account.generated.id;
    const taken = (id: string) => account.extras.some((extra) => extra.transaction.id === id) || /^\d+$/.test(id.startsWith(`${accountId}-`) ? id.slice(accountId.length + 1) : '');
    if (wanted !== undefined) {
      if (taken(wanted)) throw new ApiError(409, 'conflict', `Account "${accountId}" already has a transaction "${wanted}".`);
      return wanted;
    }
    let n = account.extras.length + 1;
    while (taken(`${accountId}-X${n}`)) n++;
    return `${accountId}-X${n}`;
  }
}
