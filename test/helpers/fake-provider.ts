import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Activities, WebhookActivities } from '../../activities';
import type { ChannelInfo, JobOutcome } from '../../providers';
import { type Challenge, type ConnectionInput, type InputField, type ListedAccount, UpdateRejection, type WebhookEvent } from '../../contract/messages';

export const ACCOUNTS: ListedAccount[] = [
  { id: 'acc-1', name: 'Compte courant', type: 'CHECKINGS', currency: 'EUR', mask: '0001' },
  { id: 'acc-2', name: 'Compte joint', type: 'CHECKINGS', currency: 'EUR' },
  { id: 'acc-3', name: 'Carte', type: 'CREDIT_CARD', currency: 'EUR' },
];

export const SAVINGS: ListedAccount[] = [
  { id: 'acc-4', name: 'Livret A', type: 'SAVINGS', currency: 'EUR' },
  { id: 'acc-5', name: 'Prêt immobilier', type: 'LOAN', currency: 'EUR' },
];

export const SMS_CHALLENGE: Challenge = {
  channelId: 'embedded1',
  fields: [
    { id: '306', label: 'Code', type: 'NUMERIC', regexp: '^[0-9]{6}$', encrypt: false },
    { id: '307', label: 'Valider', type: 'OK_CANCEL', regexp: '.*', encrypt: false },
  ],
  messages: [{ id: '305', type: 'INFO_MSG', text: 'Un code a été envoyé par SMS sur votre téléphone au 0606060606.' }],
  timeoutSeconds: 120,
};

const DAY_MS = 86_400_000;

/** Every state move (`from>to`) a workflow run against any FakeProvider of this process announced. */
export const OBSERVED_MOVES = new Set<string>();

/**
 * A scriptable provider behind the activity interface: each queue holds the outcomes the next
 * calls return (success once it is empty), and every call is recorded for assertions.
 */
export class FakeProvider {
  listing: JobOutcome[] = [];
  syncing: JobOutcome[] = [];
  /** Accounts the provider lists; tests add to it (e.g. a second channel). */
  accounts: ListedAccount[] = [...ACCOUNTS];
  /** When the redirect channel lapses (workflow time); set at the first success and on each renewal. */
  expiresAt: number | null = null;
  channelDays = 180;
  /** What an embedded channel asks for (a Powens source asks nothing the end user already gave). */
  embeddedFields: InputField[] = [
    { id: '3500', label: 'Identifiant', type: 'TEXT', regexp: '.+', encrypt: false },
    { id: '3502', label: 'Mot de passe', type: 'PWD', regexp: '^.{8,}$', encrypt: true },
  ];
  /** How many list reads answer "pending" (Flinks' OPERATION_PENDING) before the data is there. */
  pendingLists = 0;
  /** The provider cannot be reached to disconnect (after Temporal's retries). */
  disconnectFails = false;
  nonces: string[] = [];
  /**
   * New authorizations come back with a code Linkflow exchanges (Oxlin's client-created flow):
   * a sealed code `code:<id>` creates provider connection `<id>`, `refused` is refused.
   */
  completesWithCode = false;
  /** The next submitCredentials calls the bank refuses (Powens' wrongpass), and how long each call takes. */
  credentialsRefusals = 0;
  credentialsDelayMs = 0;
  calls = {
    completions: [] as { nonce: string; sealedCode: string }[],
    authorize: [] as { mode: string; existing: boolean }[],
    credentials: [] as { channelId: string; ids: string[]; values: string[]; existing: boolean }[],
    answers: [] as { ids: string[]; values: string[] }[],
    consents: [] as { account_id: string; consent: boolean }[][],
    syncs: [] as { trigger: boolean }[],
    imports: [] as string[][],
    disconnects: 0,
    links: [] as string[],
    /** URLs refreshAuthorizationUrl was asked to make fresh (a Linkflow link opened). */
    refreshed: [] as { url: string; nonce: string | null; existing: boolean }[],
    /** Client webhook events, in the order the workflow handed them over. */
    events: [] as WebhookEvent[],
    /** How many activity calls handed them over: one an event before batched-webhook-events, one a workflow task after. */
    eventCalls: 0,
  };

  get lastNonce(): string {
    return this.nonces[this.nonces.length - 1] ?? '';
  }

  /** Renews the redirect channel as the provider would on a successful re-authorization. */
  renew(nowMs: number): void {
    this.expiresAt = nowMs + this.channelDays * DAY_MS;
  }

  private channels(): ChannelInfo[] {
    const now = Context.current().info.currentAttemptScheduledTimestampMs;
    if (this.expiresAt === null) this.renew(now);
    return [{ id: 'redirect1', mode: 'redirect', expiresAt: new Date(this.expiresAt as number).toISOString() }];
  }

  activities(): Activities & Pick<WebhookActivities, 'emitWebhookEvent' | 'emitWebhookEvents'> {
    const emit = (event: WebhookEvent): void => {
      this.calls.events.push(event);
      if (event.type === 'connection.state_changed') OBSERVED_MOVES.add(`${event.data.previous_state ?? 'authorizing'}>${event.data.state}`);
    };
    return {
      emitWebhookEvent: async (event) => {
        this.calls.eventCalls += 1;
        emit(event);
        return { endpoints: 1 };
      },
      emitWebhookEvents: async (events) => {
        this.calls.eventCalls += 1;
        events.forEach(emit);
        return { endpoints: 1 };
      },
      startAuthorization: async ({ mode, existing }) => {
        this.calls.authorize.push({ mode, existing: existing !== undefined });
        if (mode === 'embedded' && !existing?.channelId?.startsWith('redirect')) {
          return { kind: 'credentials', channelId: 'embedded1', fields: this.embeddedFields };
        }
        const nonce = `nonce-${this.nonces.length + 1}`;
        this.nonces.push(nonce);
        const completion = this.completesWithCode && !existing ? { completion: 'code' as const } : {};
        return { kind: 'redirect', channelId: 'redirect1', url: `https://bank.example/authorize?s=${nonce}`, nonce, ...completion };
      },
      refreshAuthorizationUrl: async ({ url, nonce, existing }) => {
        this.calls.refreshed.push({ url, nonce, existing: existing !== undefined });
        return `${url}&fresh=${this.calls.refreshed.length}`;
      },
      completeAuthorization: async ({ nonce, sealedCode }) => {
        this.calls.completions.push({ nonce, sealedCode });
        if (!sealedCode.startsWith('code:')) return { created: false, error: 'The provider refused the authorization code.' };
        return { created: true, connection: { providerConnectionId: sealedCode.slice(5), providerRef: { queueId: 'q-code' } } };
      },
      submitCredentials: async ({ channelId, credentials, existing }) => {
        this.calls.credentials.push({
          channelId,
          ids: credentials.map((c) => c.id),
          values: credentials.map((c) => c.value),
          existing: existing !== undefined,
        });
        if (this.credentialsDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.credentialsDelayMs));
        if (this.credentialsRefusals > 0) {
          this.credentialsRefusals--;
          throw ApplicationFailure.create({ type: UpdateRejection.ProviderRejected, nonRetryable: true, message: 'wrong password' });
        }
        return existing ?? { providerConnectionId: 'ox-1', providerRef: { queueId: 'q-1' } };
      },
      waitForJob: async ({ job, trigger }) => {
        if (job === 'list' && this.pendingLists > 0) {
          this.pendingLists--;
          throw ApplicationFailure.retryable('the data is not ready yet', 'OPERATION_PENDING');
        }
        if (job === 'list') return this.listing.shift() ?? { outcome: 'success', channels: this.channels() };
        this.calls.syncs.push({ trigger });
        return this.syncing.shift() ?? { outcome: 'success', channels: this.channels() };
      },
      answerChallenge: async ({ answers }) => {
        this.calls.answers.push({ ids: answers.map((a) => a.id), values: answers.map((a) => a.value) });
      },
      listAccounts: async () => this.accounts,
      giveConsent: async ({ consents }) => {
        this.calls.consents.push(consents);
      },
      importData: async ({ accountIds }) => {
        this.calls.imports.push(accountIds);
        return { synced_at: new Date().toISOString(), accounts: accountIds.length, transactions_added: 0, transactions_modified: 0, transactions_removed: 0 };
      },
      bindProviderConnection: async ({ providerConnectionId, held }) => {
        // As the real activity: a re-authorization must name the connection already held.
        if (held !== null && held !== providerConnectionId) return { bound: false, reason: 'not the connection held' };
        if (!this.calls.links.includes(providerConnectionId)) this.calls.links.push(providerConnectionId);
        return { bound: true };
      },
      linkProviderConnection: async ({ providerConnectionId }) => {
        this.calls.links.push(providerConnectionId);
      },
      disconnect: async () => {
        this.calls.disconnects++;
        if (this.disconnectFails) throw ApplicationFailure.nonRetryable('the provider is gone', 'PROVIDER_GONE');
      },
    };
  }
}

export const connectionInput = (overrides: Partial<ConnectionInput> = {}): ConnectionInput => ({
  connectionId: crypto.randomUUID(),
  provider: 'oxlin',
  institutionId: '87',
  redirectUrl: 'https://client.example/done',
  callbackUrl: 'http://localhost:3000/callbacks/oxlin',
  mode: 'redirect',
  syncIntervalSeconds: 86_400,
  redirectTimeoutSeconds: 1_800,
  consentTimeoutSeconds: 86_400,
  renewalLeadSeconds: 7 * 86_400,
  ...overrides,
});

/** A PGP-armored placeholder: the workflow checks the shape, the fake provider does not decrypt. */
export const armored = (label: string): string =>
  `-----BEGIN PGP MESSAGE-----\n\n${Buffer.from(label).toString('base64')}\n-----END PGP MESSAGE-----\n`;
