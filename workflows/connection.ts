import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  proxyActivities,
  patched,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities, WebhookActivities } from '../activities';
import type { Authorization, ChannelInfo, JobOutcome, ProviderFailure } from '../providers';
import { isoAt, workflowNow } from './clock';
import { type ClientAction, allows, statesAllowing } from '../contract/lifecycle';
import {
  type AddChannel,
  type AnswerChallenge,
  type Challenge,
  type ChannelMode,
  type ConnectionInput,
  type ConnectionState,
  type ConnectionView,
  type GiveConsent,
  GiveConsentSchema,
  type ListedAccount,
  type NextAction,
  type ProviderEvent,
  type RedirectReceived,
  type SubmitCredentials,
  SubmitCredentialsSchema,
  type SyncSummary,
  type WebhookEvent,
  PROVIDER_CAPABILITIES,
  PROVIDERS,
  TERMINAL_STATES,
  UpdateRejection,
  addChannelUpdate,
  answerChallengeUpdate,
  disconnectRequestedSignal,
  giveConsentUpdate,
  redirectReceivedSignal,
  providerEventSignal,
  requestRenewalUpdate,
  stateQuery,
  submitCredentialsUpdate,
  syncRequestedSignal,
} from '../contract/messages';

// Activities

/** Short calls to the provider: retried by Temporal with backoff on transient errors. */
const PROVIDER_CALL = {
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
} as const;

/** Waiting for the provider to list or sync: long-running, heartbeating, resumable. */
const PROVIDER_JOB = {
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 10 },
} as const;

const { startAuthorization, submitCredentials, answerChallenge, listAccounts, giveConsent, disconnect, linkProviderConnection, bindProviderConnection, completeAuthorization } =
  proxyActivities<Activities>(PROVIDER_CALL);
const { waitForJob, importData } = proxyActivities<Activities>(PROVIDER_JOB);

/**
 * A provider job that answers "pending" at once (Flinks' OPERATION_PENDING): each attempt is one
 * short call and Temporal's backoff spaces them, for about 35 minutes (Flinks allows 30).
 */
const { waitForJob: waitForPendingJob } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 12 },
});
/** Hands an event to the connection's delivery workflow (which retries the client's endpoint for days). */
const { emitWebhookEvent } = proxyActivities<WebhookActivities>(PROVIDER_CALL);

/**
 * A run continues as new after this many sync cycles, so a years-long connection keeps a short
 * history (a few hundred events). Runs that also emit client webhook events continue sooner.
 */
const SYNC_CYCLES_PER_RUN = { before: 20, withWebhookEvents: 15 } as const;
/** When a challenge carries no TIMEOUT_MSG. */
const DEFAULT_CHALLENGE_TIMEOUT_MS = 10 * 60_000;
/** How long a provider that confirms authorizations by webhook (LnkFi) may take after the redirect. */
const CONNECTED_EVENT_TIMEOUT_MS = 60 * 60_000;
/** A provider job still pending after every retry of waitForJob (Flinks' OPERATION_PENDING). */
const JOB_PENDING = 'OPERATION_PENDING';
/** Why an authorization attempt ended when the provider id it came back with was not its own. */
const PROVIDER_CONNECTION_REFUSED = 'PROVIDER_CONNECTION_REFUSED';
/**
 * Provider ids from redirects and webhooks are bound before use (trust rule "Nothing from a browser
 * chooses data"). Deprecate once no open history and no replay fixture has a redirect or
 * `connected` event accepted without it (recorded before this change).
 */
const BIND_PROVIDER_CONNECTION = 'bind-provider-connection';
/** A provider's webhook acts only on connections of that provider. Deprecate with the same rule. */
const OWN_PROVIDER_EVENTS = 'own-provider-events';

const CREDENTIAL_FAILURES: readonly ProviderFailure[] = ['AUTH_FAILED', 'PASSWORD_CHANGE_REQUIRED', 'TOO_MANY_ATTEMPTS'];

type TerminalState = 'expired' | 'cancelled' | 'failed' | 'disconnected';
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/**
 * An update's answer when its provider call failed, in Linkflow's words: Linkflow's own field
 * check (InvalidCredentials) keeps its per-field details; a provider's refusal keeps only
 * `fields` (which fields, never what the provider said); an expired challenge says so.
 */
function providerRejection(type: string | null | undefined, details: unknown[] | null | undefined): ApplicationFailure {
  const detail = details?.[0] as { fields?: { id: string; message: string }[] } | undefined;
  if (type === UpdateRejection.InvalidCredentials) {
    return ApplicationFailure.create({ type, message: 'Some fields are not valid.', details: detail ? [detail] : [] });
  }
  if (type === UpdateRejection.ChallengeExpired) {
    return ApplicationFailure.create({ type, message: 'The bank no longer accepts answers to this challenge.' });
  }
  const fields = Array.isArray(detail?.fields) ? detail.fields.map(({ id }) => ({ id, message: 'was refused by the bank' })) : undefined;
  return ApplicationFailure.create({
    type: UpdateRejection.ProviderRejected,
    message: 'The provider refused the request.',
    details: fields ? [{ fields }] : [],
  });
}

/** Thrown inside a phase when the client asked to disconnect; handled once, at the top. */
class Disconnect extends Error {}

/** A renewal of a redirect channel under way: its authorize URL, and the moment the channel lapses. */
interface Renewal {
  channelId: string;
  nonce: string;
  url: string;
  deadline: number;
}

/** Everything a connection carries from one run to the next (continue-as-new). */
export interface ConnectionMemory {
  state: ConnectionState;
  reason: string | null;
  nextAction: NextAction | null;
  providerConnectionId: string | null;
  providerRef: Record<string, string>;
  channels: ChannelInfo[];
  accounts: ListedAccount[];
  consents: Record<string, boolean>;
  lastSync: SyncSummary | null;
  renewal: Renewal | null;
  /** The provider connection id last recorded for webhook routing. */
  linkedProviderConnectionId?: string | null;
  /** When the workflow last saw a provider job's outcome itself (webhooks from before are stale). */
  providerSeenAt?: string;
  /** Events sent to the client so far (their ids are evt_<connection>_<n>), and the last state announced. */
  eventsSent?: number;
  announcedState?: ConnectionState | null;
  /** What handlers recorded that the run had not yet acted on when it continued as new (see {@link Intents}). */
  intents?: Intents;
  createdAt: string;
}

/**
 * What the message handlers record for the main loop to act on. The rule at a run boundary
 * (continue-as-new), field by field:
 * - carried into the next run, which acts on it first: `disconnect`, `sync`, `fullSync`,
 *   `redirect` (a renewal's redirect that arrived during the last sync), `providerEvents`
 *   (webhooks not yet applied) and `seenProviderEvents` (ids already taken, so a redelivery
 *   in the next run is still dropped);
 * - acted on before the run ends, because an update waits for them: a renewal request and an
 *   added channel (`requestRenewal`, `addChannel`); the run ends only once every handler has
 *   finished (`allHandlersFinished`);
 * - never pending in `active`: credentials, challenge answers and consent belong to the phases
 *   before it, which a run never leaves by continuing as new.
 */
export interface Intents {
  disconnect?: boolean;
  sync?: boolean;
  fullSync?: boolean;
  redirect?: RedirectReceived;
  providerEvents?: ProviderEvent[];
  seenProviderEvents?: string[];
}

class Connection {
  memory: ConnectionMemory;
  /** The nonce a redirect must carry; cleared once one arrives (single use). */
  expectedNonce: string | null;
  redirect: RedirectReceived | null = null;
  /** Channel whose credentials the end user is being asked for. */
  credentialsChannel: string | null = null;
  acceptedCredentials = false;
  /** Waits for credentials that have ended (accepted, timed out, disconnected): late credentials change nothing. */
  credentialsWaitsEnded = 0;
  challenge: Challenge | null = null;
  /** Challenges left unanswered in time: an answer still on its way to the provider has nothing to wait for. */
  challengesTimedOut = 0;
  challengeAnswered = false;
  /** The provider closed the challenge before it was answered (its deadline passed): ask the job what came of it. */
  challengeClosed = false;
  /** Counts the provider's answers to waitForJob: an answered challenge waits for the next one. */
  jobAnswers = 0;
  pendingConsent: GiveConsent | null = null;
  syncRequested = false;
  /** The client asked for every transaction to be read again (not only the recent ones). */
  fullSyncRequested = false;
  disconnectRequested = false;
  renewalRequested = false;
  addChannel: ChannelMode | null = null;
  /** Attempts to add a channel that have ended, however they ended (the addChannel update waits for its own). */
  channelAttemptsEnded = 0;
  /** Provider webhooks not yet acted on, and the ids already seen (providers redeliver). */
  providerEvents: ProviderEvent[] = [];
  seenProviderEvents: string[] = [];
  /** An update handler is talking to the provider; a second one must wait its turn. */
  busy = false;
  nextSyncAt: number | null = null;
  /** The search attributes last written, so unchanged ones are not written again. */
  private indexed = '';
  /** Client webhook events go out one after another, in order, without holding up the lifecycle. */
  private outbox: Promise<void> = Promise.resolve();

  constructor(
    readonly input: ConnectionInput,
    memory: ConnectionMemory | undefined,
  ) {
    this.memory = memory ?? {
      state: 'authorizing',
      reason: null,
      nextAction: null,
      providerConnectionId: null,
      providerRef: {},
      channels: [],
      accounts: [],
      consents: {},
      lastSync: null,
      renewal: null,
      // A connection starts out authorizing (what POST /v1/connections answers): events start at its first move.
      announcedState: 'authorizing',
      createdAt: isoAt(workflowNow()),
    };
    this.expectedNonce = this.memory.renewal?.nonce ?? null;
    const carried = this.memory.intents;
    if (carried) {
      this.disconnectRequested = carried.disconnect ?? false;
      this.syncRequested = carried.sync ?? false;
      this.fullSyncRequested = carried.fullSync ?? false;
      this.providerEvents = [...(carried.providerEvents ?? [])];
      this.seenProviderEvents = [...(carried.seenProviderEvents ?? [])];
      if (carried.redirect) {
        // Taken by the previous run already: the same nonce is not accepted twice.
        this.redirect = carried.redirect;
        this.expectedNonce = null;
      }
      delete this.memory.intents;
    }
  }

  /** The memory the next run starts from: this run's, with every intent not yet acted on. */
  carried(): ConnectionMemory {
    const intents: Intents = {
      ...(this.disconnectRequested ? { disconnect: true } : {}),
      ...(this.syncRequested ? { sync: true } : {}),
      ...(this.fullSyncRequested ? { fullSync: true } : {}),
      ...(this.redirect ? { redirect: this.redirect } : {}),
      ...(this.providerEvents.length > 0 ? { providerEvents: this.providerEvents } : {}),
      ...(this.seenProviderEvents.length > 0 ? { seenProviderEvents: this.seenProviderEvents } : {}),
    };
    return { ...this.memory, ...(Object.keys(intents).length > 0 ? { intents } : {}) };
  }

  /** An update handler is waiting for the main loop to act (a renewal, an added channel). */
  private awaitedByUpdate(): boolean {
    return this.renewalRequested || this.addChannel !== null;
  }

  /** The connection has ended: handlers still waiting answer with the final view. */
  private get ended(): boolean {
    return TERMINAL_STATES.includes(this.state);
  }

  get state(): ConnectionState {
    return this.memory.state;
  }

  moveTo(state: ConnectionState, nextAction: NextAction | null = null, reason: string | null = null): void {
    if (state !== this.memory.state) log.info('connection state changed', { from: this.memory.state, to: state, reason });
    const actionChanged = JSON.stringify(nextAction) !== JSON.stringify(this.memory.nextAction);
    this.memory = { ...this.memory, state, nextAction, reason };
    this.announce(state, nextAction, reason, actionChanged);
    // Visibility shows where a connection rests: a routine sync would add two history events a day for nothing.
    if (state === 'syncing') return;
    const needsAction = nextAction !== null && !TERMINAL_STATES.includes(state);
    const indexed = `${state}/${needsAction}`;
    if (indexed === this.indexed) return;
    this.indexed = indexed;
    upsertSearchAttributes({ LinkflowState: [state], LinkflowNeedsAction: [needsAction] });
  }

  /** The client's webhook events for a move: state changes (routine syncs aside), actions, endings. */
  private announce(state: ConnectionState, nextAction: NextAction | null, reason: string | null, actionChanged: boolean): void {
    if (state === 'syncing' || !patched('webhook-events')) return;
    const previous = this.memory.announcedState ?? null;
    if (state !== previous) {
      this.memory.announcedState = state;
      this.emit({ type: 'connection.state_changed', data: { state, previous_state: previous, reason } });
      if (state === 'failed' || state === 'expired' || state === 'cancelled') {
        this.emit({ type: 'connection.failed', data: { state, reason, next_action: nextAction } });
      }
      if (state === 'disconnected') this.emit({ type: 'connection.disconnected', data: { reason } });
    }
    if (nextAction && actionChanged && !TERMINAL_STATES.includes(state)) {
      this.emit({ type: 'connection.action_required', data: { state, next_action: nextAction } });
    }
  }

  /** Queues one client webhook event; ids are sequential per connection, so a retried emit is dropped downstream. */
  emit(event: DistributiveOmit<WebhookEvent, 'id' | 'tenant_id' | 'connection_id' | 'created_at'>): void {
    const sequence = (this.memory.eventsSent ?? 0) + 1;
    this.memory.eventsSent = sequence;
    const full = {
      ...event,
      id: `evt_${this.input.connectionId}_${sequence}`,
      tenant_id: this.input.tenantId ?? null,
      connection_id: this.input.connectionId,
      created_at: isoAt(workflowNow()),
    } as WebhookEvent;
    this.outbox = this.outbox
      .then(() => emitWebhookEvent(full))
      .then(
        () => undefined,
        (err: unknown) => log.error('webhook event not queued', { id: full.id, error: String(err) }),
      );
  }

  /** Before the run ends (continue-as-new, or for good): every queued event handed over. */
  flushEvents(): Promise<void> {
    return this.outbox;
  }

  /**
   * Runs `fn` and, when it returns a final view, first hands every queued event over and lets
   * every update still waiting answer with it: the workflow never completes with one in flight.
   */
  async flushedAfter(fn: () => Promise<ConnectionView>): Promise<ConnectionView> {
    const view = await fn();
    await this.flushEvents();
    if (patched('intents-cross-runs')) await condition(allHandlersFinished);
    return view;
  }

  end(state: TerminalState, reason: string, message: string | null): ConnectionView {
    this.moveTo(state, message === null ? null : { type: 'reconnect', message }, reason);
    return this.view();
  }

  /** Active, or renewal_required while a renewal waits for the end user. */
  settle(reason: string | null = null): void {
    const renewal = this.memory.renewal;
    if (renewal) this.moveTo('renewal_required', { type: 'redirect', url: renewal.url, expires_at: isoAt(renewal.deadline) }, reason);
    else this.moveTo('active', null, reason);
  }

  view(): ConnectionView {
    const m = this.memory;
    return {
      id: this.input.connectionId,
      tenant_id: this.input.tenantId ?? null,
      provider: this.input.provider,
      institution_id: this.input.institutionId,
      user_ref: this.input.userRef ?? null,
      state: m.state,
      reason: m.reason,
      next_action: m.nextAction,
      accounts: m.accounts.map((a) => ({ ...a, consent: m.consents[a.id] ?? null })),
      channels: m.channels.map((c) => ({ id: c.id, mode: c.mode, expires_at: c.expiresAt })),
      // Syncs from before removals were counted say nothing of them: none were recorded.
      last_sync: m.lastSync && { ...m.lastSync, transactions_removed: m.lastSync.transactions_removed ?? 0 },
      next_sync_at: this.nextSyncAt !== null && !TERMINAL_STATES.includes(m.state) ? isoAt(this.nextSyncAt) : null,
      renewal_due_at: this.renewalDueAt() === null ? null : isoAt(this.renewalDueAt() as number),
      redirect_url: this.input.redirectUrl,
      created_at: m.createdAt,
    };
  }

  // Message handlers

  registerHandlers(): void {
    setHandler(stateQuery, () => this.view());

    setHandler(redirectReceivedSignal, (redirect) => {
      // Late, replayed or foreign redirects change nothing.
      if (this.expectedNonce === null || redirect.nonce !== this.expectedNonce) {
        log.warn('redirect ignored', { state: this.state });
        return;
      }
      this.expectedNonce = null;
      this.redirect = redirect;
    });

    setHandler(providerEventSignal, (event) => {
      if (this.seenProviderEvents.includes(event.eventId)) return;
      // The API namespaces event ids by the provider that signed them: another provider's event
      // (LnkFi echoes any connection id we gave it) says nothing about this connection.
      const signer = PROVIDERS.find((p) => event.eventId.startsWith(`${p}:`));
      if (signer !== undefined && signer !== this.input.provider && patched(OWN_PROVIDER_EVENTS)) {
        log.warn('another provider\'s event ignored', { provider: this.input.provider });
        return;
      }
      this.seenProviderEvents = [...this.seenProviderEvents.slice(-99), event.eventId];
      this.providerEvents.push(event);
    });

    setHandler(syncRequestedSignal, (request) => {
      this.syncRequested = true;
      if (request?.full) this.fullSyncRequested = true;
    });

    setHandler(disconnectRequestedSignal, () => {
      this.disconnectRequested = true;
    });

    setHandler(
      submitCredentialsUpdate,
      async ({ credentials }) => {
        const waits = this.credentialsWaitsEnded;
        this.busy = true;
        try {
          const connection = await this.viaProvider(() =>
            submitCredentials({
              provider: this.input.provider,
              institutionId: this.input.institutionId,
              channelId: this.credentialsChannel as string,
              credentials,
              providerRef: this.memory.providerRef,
              ...(this.memory.providerConnectionId ? { existing: this.providerConnection() } : {}),
            }),
          ).catch((err: unknown) => {
            // The bank refused them (Powens wrongpass): asked again, and the connection says why ('provider-rejections').
            if (err instanceof ApplicationFailure && err.type === UpdateRejection.ProviderRejected && this.credentialsWaitsEnded === waits) {
              if (patched('provider-rejections')) this.moveTo(this.state, this.memory.nextAction, 'AUTH_FAILED');
            }
            throw err;
          });
          // The wait for them ended while the provider checked them (timed out, disconnected): too late.
          if (this.credentialsWaitsEnded !== waits) {
            await condition(() => this.ended || (!this.disconnectRequested && !['awaiting_credentials', 'credentials_invalid'].includes(this.state)));
            return this.view();
          }
          this.memory.providerConnectionId = connection.providerConnectionId;
          this.memory.providerRef = { ...this.memory.providerRef, ...connection.providerRef };
          this.acceptedCredentials = true;
        } finally {
          this.busy = false;
        }
        // A DELETE that came meanwhile is answered with its outcome, not with the state it interrupted.
        await condition(() => (!this.acceptedCredentials && !this.disconnectRequested) || this.ended);
        return this.view();
      },
      {
        validator: (submitted: SubmitCredentials) => {
          // Credentials are taken while authorize() waits for them (credentialsChannel), in the states that allow them.
          this.expect(allows(this.state, 'submitCredentials') && this.credentialsChannel !== null && !this.acceptedCredentials, 'submitCredentials');
          const parsed = SubmitCredentialsSchema.safeParse(submitted);
          if (!parsed.success) this.reject(parsed.error.message);
        },
      },
    );

    setHandler(
      answerChallengeUpdate,
      async ({ answers }: AnswerChallenge) => {
        const challenge = this.challenge as Challenge;
        const answersBefore = this.jobAnswers;
        const timedOutBefore = this.challengesTimedOut;
        this.busy = true;
        try {
          await this.viaProvider(() => answerChallenge({ ...this.providerCall(), challenge, answers })).catch((err: unknown) => {
            // The provider closed the challenge (its own deadline): the job is asked what came of it at once. 'challenge-expiry'
            // can be deprecated once no history recorded before it is running (those waited for the workflow's own timer).
            if (err instanceof ApplicationFailure && err.type === UpdateRejection.ChallengeExpired && this.challengesTimedOut === timedOutBefore) {
              if (patched('challenge-expiry')) this.challengeClosed = true;
            }
            throw err;
          });
          // The challenge timed out while the answer was on its way: nothing waits for it any more.
          if (this.challengesTimedOut !== timedOutBefore) return this.view();
          this.challengeAnswered = true;
        } finally {
          this.busy = false;
        }
        // Answered: the update's result is what the provider made of it — a new challenge or the job going on.
        await condition(() => this.jobAnswers !== answersBefore || this.challengesTimedOut !== timedOutBefore || this.ended);
        return this.view();
      },
      {
        validator: ({ answers }: AnswerChallenge) => {
          this.expect(allows(this.state, 'answerChallenge') && this.challenge !== null && !this.challengeAnswered, 'answerChallenge');
          const known = new Set(this.challenge?.fields.map((f) => f.id));
          const unknown = answers.map((a) => a.id).filter((id) => !known.has(id));
          if (unknown.length > 0) this.reject(`not fields of the current challenge: ${unknown.join(', ')}`, { unknown_field_ids: unknown });
        },
      },
    );

    setHandler(
      giveConsentUpdate,
      async (consent) => {
        this.pendingConsent = consent;
        await condition(() => this.state !== 'awaiting_consent');
        return this.view();
      },
      {
        validator: (consent: GiveConsent) => {
          this.expect(allows(this.state, 'giveConsent') && this.pendingConsent === null, 'giveConsent');
          const parsed = GiveConsentSchema.safeParse(consent);
          if (!parsed.success) this.reject(parsed.error.message);
          const asked = new Set(this.memory.nextAction?.type === 'consent' ? this.memory.nextAction.accounts.map((a) => a.id) : []);
          const unknown = consent.consents.map((c) => c.account_id).filter((id) => !asked.has(id));
          if (unknown.length > 0) this.reject(`unknown account ids: ${unknown.join(', ')}`, { unknown_account_ids: unknown });
        },
      },
    );

    setHandler(
      requestRenewalUpdate,
      async () => {
        this.renewalRequested = true;
        await condition(() => !this.renewalRequested || this.ended);
        return this.view();
      },
      {
        validator: () => {
          this.expect(allows(this.state, 'requestRenewal'), 'requestRenewal');
          if (!this.memory.channels.some((c) => c.mode === 'redirect')) this.reject('the connection has no redirect channel to renew');
        },
      },
    );

    setHandler(
      addChannelUpdate,
      async ({ mode }: AddChannel) => {
        const ended = this.channelAttemptsEnded;
        this.addChannel = mode;
        // Answered once the new channel asks for its authorization (or the attempt ended).
        await condition(
          () =>
            (this.addChannel === null && !['active', 'user_action_required', 'syncing', 'renewal_required'].includes(this.state)) ||
            this.channelAttemptsEnded !== ended ||
            this.ended,
        );
        return this.view();
      },
      {
        validator: ({ mode }: AddChannel) => {
          this.expect(allows(this.state, 'addChannel') && this.addChannel === null, 'addChannel');
          const capabilities = PROVIDER_CAPABILITIES[this.input.provider];
          if (!capabilities.modes.includes(mode)) this.reject(`${this.input.provider} has no ${mode} channels`);
          // Providers whose channels are sequential sources (Powens) add the next one; the provider says when none is left.
          if (!capabilities.sequentialChannels && this.memory.channels.some((c) => c.mode === mode)) {
            this.reject(`the connection already has a ${mode} channel`);
          }
        },
      },
    );
  }

  /** Update validators: a message the current state does not allow (LIFECYCLE) is a WrongState rejection (409). */
  private expect(allowed: boolean, action: ClientAction): void {
    if (!allowed || this.busy) {
      throw ApplicationFailure.create({
        type: UpdateRejection.WrongState,
        message: `allowed only in state ${statesAllowing(action).join(' or ')}; the connection is ${this.state}${this.busy ? ' (busy with the provider)' : ''}`,
        details: [{ state: this.state }],
      });
    }
  }

  private reject(message: string, details?: Record<string, unknown>): never {
    throw ApplicationFailure.create({ type: UpdateRejection.InvalidInput, message, details: details ? [details] : [] });
  }

  /**
   * Runs an activity for an update; its failures become the update's answer, not the workflow's.
   * Since 'provider-rejections' (deprecate once no history recorded before it is running): the
   * answer is typed and worded by Linkflow (InvalidCredentials with our field details,
   * ChallengeExpired, else ProviderRejected); the provider's own message (its paths, ids, codes)
   * goes to the worker's log only.
   */
  private async viaProvider<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) {
        const { type, message, details } = err.cause;
        if (patched('provider-rejections')) {
          log.warn('the provider refused an update', { type, message });
          throw providerRejection(type, details);
        }
        const rejection = type === UpdateRejection.InvalidCredentials ? type : UpdateRejection.ProviderRejected;
        throw ApplicationFailure.create({ type: rejection, message, details: details ? [...details] : [] });
      }
      throw err;
    }
  }

  // Main logic

  /**
   * Authorizes a channel and brings its accounts in: redirect or credentials, listing (with
   * any challenges), consent for the accounts not yet decided, first sync. `initial` is the
   * connection's first channel: there, giving up ends the connection; later (added or repaired
   * channels) it only ends the attempt.
   */
  async connect(mode: ChannelMode, purpose: 'initial' | 'add' | 'repair', channelId?: string): Promise<ConnectionView | 'done' | 'abandoned'> {
    const initial = purpose === 'initial';
    const giveUp = (state: TerminalState, reason: string, message: string) => {
      if (initial) return this.end(state, reason, message);
      this.settle(reason);
      return 'abandoned' as const;
    };

    for (let attempt = 0; ; attempt++) {
      // Repairing waits as long as it takes; a first or added channel waits the authorization timeout.
      const repairing = purpose === 'repair' || attempt > 0;
      const authorized = await this.authorize(mode, initial && attempt === 0 ? null : (channelId ?? null), {
        state: repairing ? 'credentials_invalid' : mode === 'redirect' ? 'awaiting_redirect' : 'awaiting_credentials',
        reason: repairing ? this.memory.reason : null,
        timeoutMs: purpose === 'repair' ? undefined : this.input.redirectTimeoutSeconds * 1000,
      }).catch((err: unknown) => {
        // A channel the provider cannot add (e.g. Powens has no further source) ends that attempt, not the connection.
        if (purpose === 'add' && err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.nonRetryable) {
          return { result: 'failed' as const, error: err.cause.message, reason: err.cause.type ?? 'PROVIDER_ERROR' };
        }
        throw err;
      });
      if (authorized.result !== 'ok' && purpose === 'repair') continue; // still invalid: offer a fresh authorization
      if (authorized.result === 'timeout') return giveUp('expired', 'AUTHORIZATION_TIMEOUT', 'The end user did not finish at the bank in time.');
      if (authorized.result === 'denied') return giveUp('cancelled', 'ACCESS_DENIED', 'The end user declined access at the bank.');
      if (authorized.result === 'failed') return giveUp('failed', ('reason' in authorized && authorized.reason) || 'PROVIDER_ERROR', authorized.error);
      if (authorized.result !== 'ok') continue;
      channelId = authorized.channelId;
      if (mode === 'redirect' && purpose === 'repair') {
        await this.linkProvider();
        return 'done'; // a re-authorized redirect channel has nothing new to list
      }

      this.moveTo('listing_accounts');
      await this.linkProvider();
      const listed = await this.job('list', false);
      if (listed.outcome === 'success') {
        this.memory.channels = listed.channels;
        break;
      }
      if (CREDENTIAL_FAILURES.includes(listed.status)) {
        this.moveTo('credentials_invalid', null, listed.status);
        continue;
      }
      if (listed.status === 'CHALLENGE_CANCELLED') return giveUp('cancelled', listed.status, 'The end user cancelled the bank challenge.');
      if (listed.status === 'CHALLENGE_TIMED_OUT') return giveUp('expired', listed.status, 'The bank challenge was not answered in time.');
      return giveUp('failed', listed.status, `The provider could not list the accounts (${listed.status}).`);
    }

    this.memory.accounts = await listAccounts(this.providerCall());
    const undecided = this.memory.accounts.filter((a) => this.memory.consents[a.id] === undefined);
    if (undecided.length === 0) return 'done';
    const consentMs = this.input.consentTimeoutSeconds * 1000;
    this.moveTo('awaiting_consent', { type: 'consent', accounts: undecided, expires_at: isoAt(workflowNow() + consentMs) });
    if (!(await this.waitFor(() => this.pendingConsent !== null, consentMs))) {
      return giveUp('expired', 'CONSENT_TIMEOUT', 'The end user did not give consent in time.');
    }
    const { consents } = this.pendingConsent as GiveConsent;
    this.pendingConsent = null;
    for (const c of consents) this.memory.consents[c.account_id] = c.consent;
    if (initial && !consents.some((c) => c.consent)) {
      return this.end('cancelled', 'CONSENT_DECLINED', 'The end user consented to no account.');
    }
    this.moveTo('syncing');
    await giveConsent({ ...this.providerCall(), consents });
    // Consent itself starts the provider's full sync.
    await this.sync(false);
    return 'done';
  }

  /** Records the provider connection id so the provider's webhooks find this connection. */
  private async linkProvider(): Promise<void> {
    const id = this.memory.providerConnectionId;
    if (!id || id === this.memory.linkedProviderConnectionId || !patched('provider-links')) return;
    await linkProviderConnection({ provider: this.input.provider, providerConnectionId: id, connectionId: this.input.connectionId });
    this.memory.linkedProviderConnectionId = id;
  }

  /** Asks for a channel's authorization (redirect or credentials) and waits for the end user. */
  private async authorize(
    mode: ChannelMode,
    channelId: string | null,
    shown: { state: ConnectionState; reason: string | null; timeoutMs: number | undefined },
  ): Promise<{ result: 'ok'; channelId: string } | { result: 'timeout' | 'denied' } | { result: 'failed'; error: string; reason?: string }> {
    const authorization: Authorization & { nonce?: string } = await startAuthorization({
      connectionId: this.input.connectionId,
      provider: this.input.provider,
      institutionId: this.input.institutionId,
      mode,
      callbackUrl: this.input.callbackUrl,
      ...(this.memory.providerConnectionId
        ? { existing: { ...this.providerConnection(), ...(channelId ? { channelId } : {}) } }
        : {}),
    });

    if (authorization.providerRef) this.memory.providerRef = { ...this.memory.providerRef, ...authorization.providerRef };
    // The provider picks the mechanism of what it offers next (a Powens source): the state says which.
    const state = shown.state === 'credentials_invalid' ? shown.state : authorization.kind === 'credentials' ? 'awaiting_credentials' : 'awaiting_redirect';

    if (authorization.kind === 'credentials' && authorization.fields.length === 0 && this.memory.providerConnectionId) {
      // Nothing to ask (a Powens source whose fields the end user already gave for an earlier one): add it at once.
      const connection = await submitCredentials({
        provider: this.input.provider,
        institutionId: this.input.institutionId,
        channelId: authorization.channelId,
        credentials: [],
        providerRef: this.memory.providerRef,
        existing: this.providerConnection(),
      });
      this.memory.providerRef = { ...this.memory.providerRef, ...connection.providerRef };
      return { result: 'ok', channelId: authorization.channelId };
    }

    if (authorization.kind === 'credentials') {
      this.credentialsChannel = authorization.channelId;
      this.moveTo(state, { type: 'credentials', channel_id: authorization.channelId, fields: authorization.fields }, shown.reason);
      let submitted: boolean;
      try {
        submitted = await this.waitFor(() => this.acceptedCredentials, shown.timeoutMs);
      } finally {
        this.credentialsChannel = null;
        this.acceptedCredentials = false;
        this.credentialsWaitsEnded++;
      }
      return submitted ? { result: 'ok', channelId: authorization.channelId } : { result: 'timeout' };
    }

    const expiresAt = shown.timeoutMs === undefined ? null : workflowNow() + shown.timeoutMs;
    this.expectedNonce = authorization.nonce ?? null;
    this.redirect = null;
    this.moveTo(
      state,
      {
        type: 'redirect',
        url: authorization.url,
        expires_at: isoAt(expiresAt ?? workflowNow() + 86_400_000),
        ...(authorization.terms === undefined ? {} : { terms: authorization.terms }),
      },
      shown.reason,
    );
    // A provider that confirms by webhook (LnkFi) may do so before the browser is back, or instead of it.
    const arrived = await this.waitFor(() => this.redirect !== null || this.hasEvent('connected'), shown.timeoutMs);
    this.expectedNonce = null;
    const redirect = this.redirect as RedirectReceived | null;
    this.redirect = null;
    if (!arrived) return { result: 'timeout' };
    if (redirect?.outcome === 'success' && authorization.completion === 'code') return this.completeWithCode(redirect, authorization.channelId);
    if (redirect?.outcome === 'success' && !redirect.providerConnectionId && patched('connection-by-webhook')) {
      // The redirect says only that it worked: the provider connection comes with the provider's webhook.
      if (!(await this.waitFor(() => this.hasEvent('connected'), CONNECTED_EVENT_TIMEOUT_MS))) {
        return { result: 'failed', error: 'The provider did not confirm the authorization.' };
      }
    }
    const connected = redirect === null || redirect.outcome === 'success' ? this.takeEvent('connected') : undefined;
    if (connected?.providerConnectionId) {
      const { providerConnectionId, providerRef } = connected;
      return this.acceptRedirect({ outcome: 'success', providerConnectionId, ...(providerRef ? { providerRef } : {}) }, authorization.channelId);
    }
    if (!redirect) return { result: 'timeout' };
    return this.acceptRedirect(redirect, authorization.channelId);
  }

  /**
   * A redirect of an authorization Linkflow completes itself (Authorization.completion `code`):
   * the provider connection is created from the sealed code it brought, and its id comes from the
   * provider's answer. A redirect that names a provider connection instead is refused: the browser
   * never chooses one. Only histories of authorizations started with `completion` reach here.
   */
  private async completeWithCode(redirect: RedirectReceived, channelId: string) {
    if (!redirect.sealedAuthorizationCode) {
      log.warn('provider connection refused', { reason: 'the redirect named a provider connection instead of bringing back a code' });
      return {
        result: 'failed' as const,
        error: "The provider's answer was refused: the redirect named a provider connection instead of bringing back an authorization code.",
        reason: PROVIDER_CONNECTION_REFUSED,
      };
    }
    const completed = await completeAuthorization({
      connectionId: this.input.connectionId,
      provider: this.input.provider,
      institutionId: this.input.institutionId,
      channelId,
      callbackUrl: this.input.callbackUrl,
      nonce: redirect.nonce,
      sealedCode: redirect.sealedAuthorizationCode,
    });
    if (!completed.created) return { result: 'failed' as const, error: completed.error };
    const { providerConnectionId, providerRef } = completed.connection;
    return this.acceptRedirect({ outcome: 'success', providerConnectionId, providerRef }, channelId);
  }

  private hasEvent(kind: ProviderEvent['kind']): boolean {
    return this.providerEvents.some((e) => e.kind === kind);
  }

  private takeEvent(kind: ProviderEvent['kind']): ProviderEvent | undefined {
    const index = this.providerEvents.findIndex((e) => e.kind === kind);
    return index === -1 ? undefined : this.providerEvents.splice(index, 1)[0];
  }

  /** A provider webhook about something the workflow has not yet seen for itself. */
  private isStale(event: ProviderEvent): boolean {
    // Our own jobs are reported by webhook too: what happened up to when we last looked is handled.
    // Providers date events to the second: one in that same second waits for the next sync.
    const seenAt = this.memory.providerSeenAt?.slice(0, 19);
    return event.occurredAt !== undefined && seenAt !== undefined && event.occurredAt.slice(0, 19) <= seenAt;
  }

  /**
   * A redirect's (or a `connected` webhook's) outcome applied to the connection. The provider
   * connection it names is bound first (see the bindProviderConnection activity); a refused one
   * changes nothing and fails the attempt with PROVIDER_CONNECTION_REFUSED.
   */
  private async acceptRedirect(redirect: Omit<RedirectReceived, 'nonce'>, channelId: string) {
    if (redirect.outcome === 'denied') return { result: 'denied' as const };
    if (redirect.outcome === 'failed' || !redirect.providerConnectionId) {
      return { result: 'failed' as const, error: redirect.error ?? 'The provider reported a failed authorization.' };
    }
    if (patched(BIND_PROVIDER_CONNECTION)) {
      const binding = await bindProviderConnection({
        provider: this.input.provider,
        connectionId: this.input.connectionId,
        providerConnectionId: redirect.providerConnectionId,
        providerRef: { ...this.memory.providerRef, ...redirect.providerRef },
        held: this.memory.providerConnectionId,
      });
      if (!binding.bound) {
        log.warn('provider connection refused', { reason: binding.reason });
        // The API refuses what it can check before the bank session is spent; what reaches here
        // came back from a session that is used up, so waiting on would strand the end user.
        return { result: 'failed' as const, error: `The provider's answer was refused: ${binding.reason}.`, reason: PROVIDER_CONNECTION_REFUSED };
      }
      this.memory.linkedProviderConnectionId = redirect.providerConnectionId;
    }
    this.memory.providerConnectionId = redirect.providerConnectionId;
    this.memory.providerRef = { ...this.memory.providerRef, ...redirect.providerRef };
    return { result: 'ok' as const, channelId };
  }

  /** Waits for the provider's job, putting each challenge to the end user until it ends. */
  async job(kind: 'list' | 'sync', trigger: boolean): Promise<Exclude<JobOutcome, { outcome: 'challenge' }>> {
    for (let first = true; ; first = false) {
      const outcome = PROVIDER_CAPABILITIES[this.input.provider].dataWebhook
        ? await this.waitForJobOrWebhook(kind, trigger && first)
        : await waitForJob({ ...this.providerCall(), job: kind, trigger: trigger && first });
      this.jobAnswers++;
      this.memory.providerSeenAt = isoAt(workflowNow());
      if (outcome.outcome === 'success') {
        if (outcome.providerRef) this.memory.providerRef = { ...this.memory.providerRef, ...outcome.providerRef };
      }
      if (outcome.outcome !== 'challenge') return outcome;

      const { challenge } = outcome;
      const timeoutMs = challenge.timeoutSeconds === null ? DEFAULT_CHALLENGE_TIMEOUT_MS : challenge.timeoutSeconds * 1000;
      this.challenge = challenge;
      this.challengeAnswered = false;
      this.challengeClosed = false;
      this.moveTo('challenge_required', {
        type: 'challenge',
        fields: challenge.fields,
        messages: challenge.messages,
        expires_at: isoAt(workflowNow() + timeoutMs),
      });
      const answered = await this.waitFor(() => this.challengeAnswered || this.challengeClosed, timeoutMs);
      this.challenge = null;
      if (this.challengeClosed && !this.challengeAnswered) {
        // Closed at the provider: its job says what follows (a new challenge, or CHALLENGE_TIMED_OUT), never a stuck challenge.
        this.challengeClosed = false;
        this.moveTo(kind === 'list' ? 'listing_accounts' : 'syncing');
        continue;
      }
      if (!answered) this.challengesTimedOut++;
      if (!answered) return { outcome: 'failed', status: 'CHALLENGE_TIMED_OUT', channelId: challenge.channelId };
      this.challengeAnswered = false;
      this.moveTo(kind === 'list' ? 'listing_accounts' : 'syncing');
    }
  }

  /**
   * waitForJob for a provider that says by webhook when the data is ready (Flinks): the activity
   * answers at once or fails as pending, and Temporal retries it with backoff, so no worker slot
   * is held meanwhile. Whichever comes first wins: the next retry, or the provider's webhook, which
   * cancels the backoff and looks again at once. Still pending after every retry: a failed job.
   */
  private async waitForJobOrWebhook(kind: 'list' | 'sync', trigger: boolean): Promise<JobOutcome> {
    for (;;) {
      const scope = new CancellationScope();
      const pending = scope.run(() => waitForPendingJob({ ...this.providerCall(), job: kind, trigger }));
      let settled = false;
      pending.then(
        () => (settled = true),
        () => (settled = true),
      );
      await condition(() => settled || this.providerEvents.some((e) => e.kind !== 'connected' && !this.isStale(e)));
      if (!settled) {
        this.providerEvents = this.providerEvents.filter((e) => e.kind === 'connected');
        scope.cancel();
        await pending.catch(() => undefined);
        trigger = false;
        continue;
      }
      try {
        return await pending;
      } catch (err) {
        if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.type === JOB_PENDING) {
          return { outcome: 'failed', status: 'FAILED', channelId: null };
        }
        throw err;
      }
    }
  }

  /** One sync; failures move the connection to the state the end user can act on. */
  async sync(trigger: boolean): Promise<void> {
    this.syncRequested = false;
    this.moveTo('syncing');
    await this.afterSync(await this.job('sync', trigger));
  }

  /** A sync's outcome (ours, or one the provider reported by webhook) applied to the connection. */
  private async afterSync(outcome: Exclude<JobOutcome, { outcome: 'challenge' }>): Promise<void> {
    if (outcome.outcome === 'success') {
      this.moveTo('syncing');
      this.memory.channels = outcome.channels;
      const full = this.fullSyncRequested;
      // Taken by this import's plan: a full refresh asked while it runs asks for another one.
      if (full) this.fullSyncRequested = false;
      this.memory.lastSync = await importData({
        ...this.providerCall(),
        connectionId: this.input.connectionId,
        accountIds: Object.keys(this.memory.consents).filter((id) => this.memory.consents[id]),
        ...(full ? { full } : {}),
      });
      if (patched('webhook-events')) this.emit({ type: 'connection.synced', data: this.memory.lastSync });
      this.settle();
      return;
    }
    if (CREDENTIAL_FAILURES.includes(outcome.status)) {
      await this.repair(outcome.status, outcome.channelId);
      return;
    }
    if (outcome.status === 'USER_ACTION_REQUIRED') {
      this.moveTo(
        'user_action_required',
        { type: 'message', message: "The bank asks the end user to act on its website; Linkflow retries at the next sync." },
        outcome.status,
      );
      return;
    }
    // A challenge left unanswered or a provider error skips this sync; the next one tries again.
    this.settle(outcome.status);
  }

  /** credentials_invalid: new credentials (embedded) or a new redirect, then a sync. */
  private async repair(reason: ProviderFailure, channelId: string | null): Promise<void> {
    const channel = this.memory.channels.find((c) => c.id === channelId) ?? this.memory.channels[0];
    this.moveTo('credentials_invalid', null, reason);
    const result = await this.connect(channel?.mode ?? this.input.mode, 'repair', channel?.id);
    if (result === 'done') await this.sync(true);
  }

  /** The renewal of a redirect channel: a fresh authorize URL for the existing connection. */
  async startRenewal(): Promise<void> {
    const channel = this.renewableChannel();
    if (!channel) return;
    const authorization = await startAuthorization({
      connectionId: this.input.connectionId,
      provider: this.input.provider,
      institutionId: this.input.institutionId,
      mode: 'redirect',
      callbackUrl: this.input.callbackUrl,
      existing: { ...this.providerConnection(), channelId: channel.id },
    });
    if (authorization.kind !== 'redirect' || !authorization.nonce) return;
    const deadline = channel.expiresAt ? Date.parse(channel.expiresAt) : workflowNow() + this.input.renewalLeadSeconds * 1000;
    this.memory.renewal = { channelId: channel.id, nonce: authorization.nonce, url: authorization.url, deadline };
    this.expectedNonce = authorization.nonce;
    this.settle();
    if (patched('webhook-events')) {
      this.emit({
        type: 'connection.renewal_due',
        data: { channel_id: channel.id, expires_at: isoAt(deadline), next_action: this.memory.nextAction },
      });
    }
  }

  renewalDueAt(): number | null {
    const channel = this.renewableChannel();
    if (!channel?.expiresAt || this.memory.renewal) return null;
    return Date.parse(channel.expiresAt) - this.input.renewalLeadSeconds * 1000;
  }

  private renewableChannel(): ChannelInfo | undefined {
    return this.memory.channels
      .filter((c) => c.mode === 'redirect')
      .sort((a, b) => (a.expiresAt ?? '9').localeCompare(b.expiresAt ?? '9'))[0];
  }

  /** Active life: periodic syncs, syncs on request, renewals, added channels — until disconnected. */
  async live(): Promise<ConnectionView> {
    const intervalMs = this.input.syncIntervalSeconds * 1000;
    const cyclesPerRun = patched('webhook-events') ? SYNC_CYCLES_PER_RUN.withWebhookEvents : SYNC_CYCLES_PER_RUN.before;
    this.nextSyncAt = workflowNow() + intervalMs;
    for (let cycle = 0; ; ) {
      if ((cycle >= cyclesPerRun || workflowInfo().continueAsNewSuggested) && (await this.readyToContinueAsNew())) break;
      const renewal = this.memory.renewal;
      const wakeAt = Math.min(this.nextSyncAt, renewal?.deadline ?? Infinity, this.renewalDueAt() ?? Infinity);
      await this.waitFor(
        () =>
          this.syncRequested ||
          this.redirect !== null ||
          this.renewalRequested ||
          this.addChannel !== null ||
          this.providerEvents.length > 0,
        Math.max(0, wakeAt - workflowNow()),
      );
      const now = workflowNow();

      if (this.redirect && renewal) {
        const redirect = this.redirect;
        this.redirect = null;
        this.memory.renewal = null;
        const accepted = await this.acceptRedirect(redirect, renewal.channelId);
        if (accepted.result !== 'ok') await this.startRenewal();
        else await this.sync(true);
        continue;
      }
      this.redirect = null;
      if (renewal && now >= renewal.deadline) {
        return this.end('expired', 'CONSENT_EXPIRED', 'The bank authorization expired before the end user renewed it.');
      }
      if (this.renewalRequested || (this.renewalDueAt() ?? Infinity) <= now) {
        if (!this.memory.renewal) await this.startRenewal();
        this.renewalRequested = false;
        continue;
      }
      const event = this.providerEvents.shift();
      // A confirmation nobody waits for any more (a redelivery, or after the attempt ended) has nothing to act on.
      const stale = event !== undefined && (event.kind === 'connected' || this.isStale(event));
      if (event && !stale) {
        await this.afterSync(
          event.kind === 'data_available'
            ? { outcome: 'success', channels: this.memory.channels }
            : { outcome: 'failed', status: (event.status ?? 'FAILED') as ProviderFailure, channelId: event.channelId },
        );
        continue;
      }
      if (event) continue;
      if (this.addChannel) {
        const mode = this.addChannel;
        this.addChannel = null;
        try {
          await this.connect(mode, 'add');
        } finally {
          this.channelAttemptsEnded++;
        }
        continue;
      }
      if (this.syncRequested || now >= this.nextSyncAt) {
        cycle++;
        await this.sync(true);
        this.nextSyncAt = workflowNow() + intervalMs;
      }
    }
    return continueAsNew<typeof connectionWorkflow>(this.input, this.carried());
  }

  /**
   * Whether this run may end now and continue as new. An update still waiting for the main loop
   * (a renewal, an added channel) is served first, and a disconnect is acted on here; what the
   * signals recorded meanwhile is carried (see {@link Intents}). Each await yields to handlers,
   * so the answer is decided only after the last one, with nothing left in flight.
   */
  private async readyToContinueAsNew(): Promise<boolean> {
    if (!patched('intents-cross-runs')) {
      // Runs recorded before intents were carried ended as soon as their handlers had finished.
      await condition(allHandlersFinished);
      await this.flushEvents();
      return true;
    }
    await this.waitFor(() => allHandlersFinished() || this.awaitedByUpdate(), undefined);
    if (this.awaitedByUpdate()) return false;
    await this.flushEvents();
    return allHandlersFinished() && !this.awaitedByUpdate() && !this.disconnectRequested;
  }

  /** condition(), also woken by a disconnect request, which it turns into a Disconnect. */
  private async waitFor(done: () => boolean, timeoutMs: number | undefined): Promise<boolean> {
    const met =
      timeoutMs === undefined
        ? (await condition(() => done() || this.disconnectRequested), true)
        : await condition(() => done() || this.disconnectRequested, timeoutMs);
    if (this.disconnectRequested) throw new Disconnect();
    return met && done();
  }

  providerConnection() {
    return { providerConnectionId: this.memory.providerConnectionId as string, providerRef: this.memory.providerRef };
  }

  providerCall() {
    return { provider: this.input.provider, ...this.providerConnection() };
  }
}

/**
 * One bank connection, from authorization to years of periodic syncs.
 * authorizing → awaiting_redirect | awaiting_credentials → listing_accounts (⇄ challenge_required)
 * → awaiting_consent → syncing → active ⟲, with renewal_required, credentials_invalid and
 * user_action_required on the way, until expired, cancelled, failed or disconnected.
 */
export async function connectionWorkflow(input: ConnectionInput, memory?: ConnectionMemory): Promise<ConnectionView> {
  const connection = new Connection(input, memory);
  connection.registerHandlers();
  upsertSearchAttributes({
    LinkflowProvider: [input.provider],
    ...(input.userRef ? { LinkflowUserRef: [input.userRef] } : {}),
  });
  try {
    return await connection.flushedAfter(async () => {
      if (memory === undefined) {
        const connected = await connection.connect(input.mode, 'initial');
        if (typeof connected !== 'string') return connected;
      } else {
        connection.moveTo(connection.state, connection.memory.nextAction, connection.memory.reason);
      }
      return connection.live();
    });
  } catch (err) {
    if (err instanceof Disconnect) {
      let reason = 'DISCONNECTED';
      if (connection.memory.providerConnectionId) {
        // The client asked to disconnect: Linkflow stops either way, and says when the provider could not be told.
        await disconnect(connection.providerCall()).catch((failure: unknown) => {
          if (!(failure instanceof ActivityFailure)) throw failure;
          log.warn('the provider could not be told of the disconnection', { error: String(failure.cause?.message ?? failure.message) });
          reason = 'DISCONNECTED_LOCALLY';
        });
      }
      return connection.flushedAfter(async () => connection.end('disconnected', reason, null));
    }
    // A provider call that failed for good (after Temporal's retries) ends this attempt visibly.
    if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) {
      const { type, message } = err.cause;
      return connection.flushedAfter(async () => connection.end('failed', type ?? 'PROVIDER_ERROR', message));
    }
    throw err;
  }
}
