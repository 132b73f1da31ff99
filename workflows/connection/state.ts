// The connection's state between its phases: what it remembers, what its handlers recorded, how it
// moves (moveTo, announce, end) and waits (waitFor); the phases are in phases.ts and live.ts.
import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  log,
  patched,
  setCurrentDetails,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { ChannelInfo } from '../../providers';
import { isoAt, workflowNow } from '../clock';
import { type ClientAction, statesAllowing } from '../../contract/lifecycle';
import type {
  Challenge,
  ChannelMode,
  ConnectionInput,
  ConnectionState,
  ConnectionView,
  GiveConsent,
  NextAction,
  ProviderEvent,
  RedirectReceived,
  WebhookEvent,
} from '../../contract/messages';
import { TERMINAL_STATES, UpdateRejection } from '../../contract/definitions';
import { BATCHED_WEBHOOK_EVENTS, emitWebhookEvent, emitWebhookEvents } from './calls';
import { currentDetails } from './details';
import type { ConnectionMemory, Intents } from './memory';

/** A redirect the connection offers: its provider URL and the authorization it belongs to. */
export interface RedirectOffer {
  url: string;
  channelId: string;
  nonce: string | null;
  /** Whether it re-authorizes the provider connection held (renewal, repair, added channel). */
  existing: boolean;
}

export type TerminalState = 'expired' | 'cancelled' | 'failed' | 'disconnected';
export type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/**
 * An update's answer when its provider call failed, in Linkflow's words: Linkflow's own field
 * check (InvalidCredentials) keeps its per-field details; a provider's refusal keeps only
 * `fields` (which fields, never what the provider said); an expired challenge says so.
 */
export function providerRejection(type: string | null | undefined, details: unknown[] | null | undefined): ApplicationFailure {
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

/**
 * What a phase answers when the client asked to disconnect while it waited: each phase hands it
 * back as it is, and the workflow acts on it once, at the top (connectionWorkflow).
 */
export const DISCONNECT = 'disconnect' as const;
export type Disconnect = typeof DISCONNECT;

export class Connection {
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
  /** An update handler is talking to the provider; another one waits its turn (takeTurn). */
  busy = false;
  nextSyncAt: number | null = null;
  /** The search attributes last written, so unchanged ones are not written again. */
  indexed = '';
  /** The redirect authorize() offers now (first authorization, repair, added channel): what openAuthorization refreshes. */
  offer: RedirectOffer | null = null;
  /** Client webhook events go out one after another, in order, without holding up the lifecycle. */
  outbox: Promise<void> = Promise.resolve();
  /** Events queued for the outbox's next batch (BATCHED_WEBHOOK_EVENTS). */
  private pending: WebhookEvent[] = [];

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
  awaitedByUpdate(): boolean {
    return this.renewalRequested || this.addChannel !== null;
  }

  /** The connection has ended: handlers still waiting answer with the final view. */
  get ended(): boolean {
    return TERMINAL_STATES.includes(this.state);
  }

  get state(): ConnectionState {
    return this.memory.state;
  }

  moveTo(state: ConnectionState, nextAction: NextAction | null = null, reason: string | null = null): void {
    if (state !== this.memory.state) log.info('connection state changed', { from: this.memory.state, to: state, reason });
    const actionChanged = JSON.stringify(nextAction) !== JSON.stringify(this.memory.nextAction);
    this.memory = { ...this.memory, state, nextAction, reason };
    this.describe();
    this.announce(state, nextAction, reason, actionChanged);
    // Visibility shows where a connection rests: a routine sync would add two history events a day for nothing.
    if (state === 'syncing') return;
    const needsAction = nextAction !== null && !TERMINAL_STATES.includes(state);
    const indexed = `${state}/${needsAction}`;
    if (indexed === this.indexed) return;
    this.indexed = indexed;
    upsertSearchAttributes({ LinkflowState: [state], LinkflowNeedsAction: [needsAction] });
  }

  /** The Web UI's current details of the connection (details.ts): no command, so it replays unchanged. */
  describe(): void {
    const { state, nextAction, reason, lastSync } = this.memory;
    setCurrentDetails(currentDetails(state, nextAction, reason, lastSync ?? null));
  }

  /** The client's webhook events for a move: state changes (routine syncs aside), actions, endings. */
  announce(state: ConnectionState, nextAction: NextAction | null, reason: string | null, actionChanged: boolean): void {
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
    if (patched(BATCHED_WEBHOOK_EVENTS)) {
      this.queue(full);
      return;
    }
    this.outbox = this.outbox
      .then(() => emitWebhookEvent(full))
      .then(
        () => undefined,
        (err: unknown) => log.error('webhook event not queued', { id: full.id, error: String(err) }),
      );
  }

  /**
   * Adds `event` to the batch the outbox hands over next. The first event of a batch chains the
   * hand-over onto the outbox; it runs once the events before it are handed over, and after the
   * code that queued it has finished its workflow task, so every event of that task goes in it.
   */
  private queue(event: WebhookEvent): void {
    this.pending.push(event);
    if (this.pending.length > 1) return;
    this.outbox = this.outbox.then(() => {
      const batch = this.pending.splice(0);
      return emitWebhookEvents(batch).then(
        () => undefined,
        (err: unknown) => log.error('webhook events not queued', { ids: batch.map((e) => e.id), error: String(err) }),
      );
    });
  }

  /** Before the run ends (continue-as-new, or for good): every queued event handed over. */
  flushEvents(): Promise<void> {
    return this.outbox;
  }

  /**
   * Runs `fn` and, when it returns a final view, first hands every queued event over and lets
   * every update still waiting answer with it: the workflow never completes with one in flight.
   * DISCONNECT is handed back at once: the provider is told first (connectionWorkflow).
   */
  async flushedAfter<T extends ConnectionView | Disconnect>(fn: () => Promise<T>): Promise<T> {
    const view = await fn();
    if (view === DISCONNECT) return view;
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

  /**
   * The redirect the connection offers now, if its next action is one: a renewal's (kept in memory
   * across runs), or what authorize() offered. Null in every other state.
   */
  redirectOffer(): RedirectOffer | null {
    const action = this.memory.nextAction;
    if (this.ended || action?.type !== 'redirect') return null;
    const renewal = this.memory.renewal;
    if (renewal && renewal.url === action.url) return { url: renewal.url, channelId: renewal.channelId, nonce: renewal.nonce, existing: true };
    if (this.offer?.url === action.url) return this.offer;
    return null;
  }

  /** Update validators: a message the current state does not allow (LIFECYCLE) is a WrongState rejection (409). */
  expect(allowed: boolean, action: ClientAction): void {
    if (!allowed) {
      throw ApplicationFailure.create({
        type: UpdateRejection.WrongState,
        message: `allowed only in state ${statesAllowing(action).join(' or ')}; the connection is ${this.state}`,
        details: [{ state: this.state }],
      });
    }
  }

  /**
   * Waits until no other update handler is talking to the provider (Temporal's
   * safe-message-handlers: serialised, not refused). The caller checks again what it needs
   * afterwards, since the lifecycle may have moved meanwhile.
   */
  async takeTurn(): Promise<void> {
    while (this.busy) await condition(() => !this.busy);
  }

  reject(message: string, details?: Record<string, unknown>): never {
    throw ApplicationFailure.create({ type: UpdateRejection.InvalidInput, message, details: details ? [details] : [] });
  }

  /**
   * Runs an activity for an update; its failures become the update's answer, not the workflow's.
   * Since 'provider-rejections' (deprecate once no history recorded before it is running): the
   * answer is typed and worded by Linkflow (InvalidCredentials with our field details,
   * ChallengeExpired, else ProviderRejected); the provider's own message (its paths, ids, codes)
   * goes to the worker's log only.
   */
  async viaProvider<T>(call: () => Promise<T>): Promise<T> {
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

  hasEvent(kind: ProviderEvent['kind']): boolean {
    return this.providerEvents.some((e) => e.kind === kind);
  }

  takeEvent(kind: ProviderEvent['kind']): ProviderEvent | undefined {
    const index = this.providerEvents.findIndex((e) => e.kind === kind);
    return index === -1 ? undefined : this.providerEvents.splice(index, 1)[0];
  }

  /** A provider webhook about something the workflow has not yet seen for itself. */
  isStale(event: ProviderEvent): boolean {
    // Our own jobs are reported by webhook too: what happened up to when we last looked is handled.
    // Providers date events to the second: one in that same second waits for the next sync.
    const seenAt = this.memory.providerSeenAt?.slice(0, 19);
    return event.occurredAt !== undefined && seenAt !== undefined && event.occurredAt.slice(0, 19) <= seenAt;
  }

  renewalDueAt(): number | null {
    const channel = this.renewableChannel();
    if (!channel?.expiresAt || this.memory.renewal) return null;
    return Date.parse(channel.expiresAt) - this.input.renewalLeadSeconds * 1000;
  }

  renewableChannel(): ChannelInfo | undefined {
    return this.memory.channels
      .filter((c) => c.mode === 'redirect')
      .sort((a, b) => (a.expiresAt ?? '9').localeCompare(b.expiresAt ?? '9'))[0];
  }

  /**
   * condition(), also woken by a disconnect request: then DISCONNECT, else whether `done` holds.
   * `summary` names the timer in the Web UI's history ("Consent deadline"); a timer's summary is
   * user metadata, not part of its command, so adding or changing one keeps histories replaying.
   */
  async waitFor(done: () => boolean, timeoutMs: number | undefined, summary: string): Promise<boolean | Disconnect> {
    const met =
      timeoutMs === undefined
        ? (await condition(() => done() || this.disconnectRequested), true)
        : await condition(() => done() || this.disconnectRequested, timeoutMs, { summary });
    if (this.disconnectRequested) return DISCONNECT;
    return met && done();
  }

  providerConnection() {
    return { providerConnectionId: this.memory.providerConnectionId as string, providerRef: this.memory.providerRef };
  }

  providerCall() {
    return { provider: this.input.provider, ...this.providerConnection() };
  }
}
