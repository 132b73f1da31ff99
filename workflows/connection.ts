import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { isoAt, workflowNow } from './clock';
import {
  type ConnectionInput,
  type ConnectionState,
  type ConnectionView,
  type GiveConsent,
  GiveConsentSchema,
  type ListedAccount,
  type NextAction,
  type RedirectReceived,
  type SyncSummary,
  TERMINAL_STATES,
  UpdateRejection,
  giveConsentUpdate,
  redirectReceivedSignal,
  stateQuery,
} from './messages';

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

const { startAuthorization, giveConsent } = proxyActivities<Activities>(PROVIDER_CALL);
const { listAccounts, syncConnection } = proxyActivities<Activities>(PROVIDER_JOB);

/** A run continues as new after this many sync cycles, so a years-long connection keeps a short history. */
const SYNC_CYCLES_PER_RUN = 50;

type TerminalState = 'expired' | 'cancelled' | 'failed' | 'disconnected';

/** Everything a connection carries from one run to the next (continue-as-new). */
export interface ConnectionMemory {
  state: ConnectionState;
  reason: string | null;
  nextAction: NextAction | null;
  providerConnectionId: string | null;
  providerRef: Record<string, string>;
  accounts: ListedAccount[];
  consents: Record<string, boolean>;
  lastSync: SyncSummary | null;
  createdAt: string;
}

class Connection {
  memory: ConnectionMemory;
  /** The nonce of the authorization a redirect must answer; cleared once one arrives (single use). */
  expectedNonce: string | null = null;
  redirect: RedirectReceived | null = null;
  pendingConsent: GiveConsent | null = null;
  nextSyncAt: number | null = null;

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
      accounts: [],
      consents: {},
      lastSync: null,
      createdAt: isoAt(workflowNow()),
    };
  }

  get state(): ConnectionState {
    return this.memory.state;
  }

  moveTo(state: ConnectionState, nextAction: NextAction | null = null, reason: string | null = null): void {
    if (state !== this.memory.state) log.info('connection state changed', { from: this.memory.state, to: state, reason });
    this.memory = { ...this.memory, state, nextAction, reason };
    upsertSearchAttributes({
      LinkflowState: [state],
      LinkflowNeedsAction: [nextAction !== null && !TERMINAL_STATES.includes(state)],
    });
  }

  end(state: TerminalState, reason: string, message: string): ConnectionView {
    this.moveTo(state, { type: 'reconnect', message }, reason);
    return this.view();
  }

  view(): ConnectionView {
    const m = this.memory;
    return {
      id: this.input.connectionId,
      provider: this.input.provider,
      institution_id: this.input.institutionId,
      user_ref: this.input.userRef ?? null,
      state: m.state,
      reason: m.reason,
      next_action: m.nextAction,
      accounts: m.accounts.map((a) => ({ ...a, consent: m.consents[a.id] ?? null })),
      last_sync: m.lastSync,
      next_sync_at: m.state === 'active' && this.nextSyncAt !== null ? isoAt(this.nextSyncAt) : null,
      redirect_url: this.input.redirectUrl,
      created_at: m.createdAt,
    };
  }

  // Message handlers

  registerHandlers(): void {
    setHandler(stateQuery, () => this.view());

    setHandler(redirectReceivedSignal, (redirect) => {
      // Late, replayed or foreign redirects change nothing.
      if (this.state !== 'awaiting_redirect' || redirect.nonce !== this.expectedNonce) {
        log.warn('redirect ignored', { state: this.state });
        return;
      }
      this.expectedNonce = null;
      this.redirect = redirect;
    });

    setHandler(
      giveConsentUpdate,
      async (consent) => {
        this.pendingConsent = consent;
        await condition(() => this.state !== 'awaiting_consent');
        return this.view();
      },
      {
        validator: (consent: GiveConsent) => {
          if (this.state !== 'awaiting_consent' || this.pendingConsent !== null) {
            throw ApplicationFailure.create({
              type: UpdateRejection.WrongState,
              message: `consent can only be given in state awaiting_consent; the connection is ${this.state}`,
              details: [{ state: this.state }],
            });
          }
          const parsed = GiveConsentSchema.safeParse(consent);
          if (!parsed.success) {
            throw ApplicationFailure.create({ type: UpdateRejection.InvalidInput, message: parsed.error.message });
          }
          const known = new Set(this.memory.accounts.map((a) => a.id));
          const unknown = consent.consents.map((c) => c.account_id).filter((id) => !known.has(id));
          if (unknown.length > 0) {
            throw ApplicationFailure.create({
              type: UpdateRejection.InvalidInput,
              message: `unknown account ids: ${unknown.join(', ')}`,
              details: [{ unknown_account_ids: unknown }],
            });
          }
        },
      },
    );
  }

  // Main logic

  async authorize(): Promise<ConnectionView | undefined> {
    this.moveTo('authorizing');
    const { url, nonce } = await startAuthorization({
      connectionId: this.input.connectionId,
      provider: this.input.provider,
      institutionId: this.input.institutionId,
      callbackUrl: this.input.callbackUrl,
    });
    const timeoutMs = this.input.redirectTimeoutSeconds * 1000;
    this.expectedNonce = nonce;
    this.moveTo('awaiting_redirect', { type: 'redirect', url, expires_at: isoAt(workflowNow() + timeoutMs) });

    if (!(await condition(() => this.redirect !== null, timeoutMs))) {
      this.expectedNonce = null;
      return this.end('expired', 'REDIRECT_TIMEOUT', 'The end user did not come back from the bank in time.');
    }
    const redirect = this.redirect as RedirectReceived;
    if (redirect.outcome === 'denied') {
      return this.end('cancelled', 'ACCESS_DENIED', 'The end user declined access at the bank.');
    }
    if (redirect.outcome === 'failed' || !redirect.providerConnectionId) {
      return this.end('failed', 'PROVIDER_ERROR', redirect.error ?? 'The provider reported a failed authorization.');
    }
    this.memory.providerConnectionId = redirect.providerConnectionId;
    this.memory.providerRef = redirect.providerRef ?? {};
    return undefined;
  }

  async takeConsent(): Promise<ConnectionView | undefined> {
    this.moveTo('listing_accounts');
    this.memory.accounts = await listAccounts(this.providerCall());

    const timeoutMs = this.input.consentTimeoutSeconds * 1000;
    this.moveTo('awaiting_consent', {
      type: 'consent',
      accounts: this.memory.accounts,
      expires_at: isoAt(workflowNow() + timeoutMs),
    });
    if (!(await condition(() => this.pendingConsent !== null, timeoutMs))) {
      return this.end('expired', 'CONSENT_TIMEOUT', 'The end user did not give consent in time.');
    }
    const { consents } = this.pendingConsent as GiveConsent;
    this.memory.consents = Object.fromEntries(consents.map((c) => [c.account_id, c.consent]));
    if (!consents.some((c) => c.consent)) {
      return this.end('cancelled', 'CONSENT_DECLINED', 'The end user consented to no account.');
    }
    this.moveTo('syncing');
    await giveConsent({ ...this.providerCall(), consents });
    return undefined;
  }

  async sync(trigger: boolean): Promise<void> {
    this.moveTo('syncing');
    this.memory.lastSync = await syncConnection({
      ...this.providerCall(),
      connectionId: this.input.connectionId,
      accountIds: Object.keys(this.memory.consents).filter((id) => this.memory.consents[id]),
      trigger,
    });
    this.moveTo('active');
  }

  private providerCall() {
    return {
      provider: this.input.provider,
      providerConnectionId: this.memory.providerConnectionId as string,
      providerRef: this.memory.providerRef,
    };
  }
}

/**
 * One bank connection, from authorization to years of periodic syncs.
 * authorizing → awaiting_redirect → listing_accounts → awaiting_consent → syncing → active ⟲
 */
export async function connectionWorkflow(input: ConnectionInput, memory?: ConnectionMemory): Promise<ConnectionView> {
  const connection = new Connection(input, memory);
  connection.registerHandlers();
  upsertSearchAttributes({
    LinkflowProvider: [input.provider],
    ...(input.userRef ? { LinkflowUserRef: [input.userRef] } : {}),
  });
  try {
    return await run(connection, memory === undefined);
  } catch (err) {
    // A provider call that failed for good (after Temporal's retries) ends this attempt visibly.
    if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) {
      return connection.end('failed', err.cause.type ?? 'PROVIDER_ERROR', err.cause.message);
    }
    throw err;
  }
}

async function run(connection: Connection, firstRun: boolean): Promise<ConnectionView> {
  if (firstRun) {
    const ended = (await connection.authorize()) ?? (await connection.takeConsent());
    if (ended) return ended;
    // Consent itself starts the provider's first full sync.
    await connection.sync(false);
  } else {
    connection.moveTo(connection.state, connection.memory.nextAction, connection.memory.reason);
  }

  const intervalMs = connection.input.syncIntervalSeconds * 1000;
  for (let cycle = 0; cycle < SYNC_CYCLES_PER_RUN && !workflowInfo().continueAsNewSuggested; cycle++) {
    connection.nextSyncAt = workflowNow() + intervalMs;
    await sleep(intervalMs);
    await connection.sync(true);
  }

  await condition(allHandlersFinished);
  return continueAsNew<typeof connectionWorkflow>(connection.input, connection.memory);
}
