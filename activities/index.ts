import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import {
  type Challenge,
  type ChannelMode,
  type ListedAccount,
  type ProviderName,
  type SyncSummary,
  UpdateRejection,
} from '../workflows/messages';
import { type CredentialsKey, checkFields } from './credentials';
import type { AdapterRegistry, Authorization, JobContext, JobOutcome, ProviderConnection } from './providers';
import type { StateSigner } from './redirect-state';
import type { ProviderLinks, Repository } from './store';
import { type WebhookDeps, createWebhookActivities } from './webhooks';

export interface ActivityDeps extends WebhookDeps {
  adapters: AdapterRegistry;
  repository: Repository;
  providerLinks: ProviderLinks;
  stateSigner: StateSigner;
  credentialsKey: CredentialsKey;
}

interface ProviderCall extends ProviderConnection {
  provider: ProviderName;
}

type Encrypted = { id: string; value: string }[];

const jobContext = (): JobContext => {
  const ctx = Context.current();
  return {
    heartbeat: (details) => ctx.heartbeat(details),
    sleep: (ms) => ctx.sleep(ms),
    attempt: ctx.info.attempt,
    lastDetails: ctx.info.heartbeatDetails,
  };
};

/** Every activity the worker registers: the connection workflow's, and webhook emission and delivery. */
export function createActivities(deps: ActivityDeps) {
  return { ...connectionActivities(deps), ...createWebhookActivities(deps) };
}

/** Every side effect of the connection workflow. Each activity is safe to run again. */
function connectionActivities({ adapters, repository, providerLinks, stateSigner, credentialsKey }: ActivityDeps) {
  /**
   * Decrypts what the client encrypted for Linkflow. The plaintext lives only in this call's
   * memory; a value that is not ours is reported by field id, never echoed.
   */
  async function decryptAll(values: Encrypted): Promise<{ id: string; value: string }[]> {
    const plain = await Promise.all(values.map(async (v) => ({ id: v.id, value: await credentialsKey.decrypt(v.value) })));
    const unreadable = plain.filter((v) => v.value === null).map((v) => ({ id: v.id, message: "is not encrypted with Linkflow's credentials key" }));
    if (unreadable.length > 0) throw invalidCredentials(unreadable);
    return plain as { id: string; value: string }[];
  }

  return {
    /** A redirect URL carrying a fresh signed state, or the credential fields to ask for. */
    async startAuthorization(input: {
      connectionId: string;
      provider: ProviderName;
      institutionId: string;
      mode: ChannelMode;
      callbackUrl: string;
      existing?: ProviderConnection & { channelId?: string };
    }): Promise<Authorization & { nonce?: string }> {
      const { state, nonce } = stateSigner.issue(input.connectionId);
      const authorization = await adapters[input.provider].authorize({
        connectionId: input.connectionId,
        institutionId: input.institutionId,
        mode: input.mode,
        redirectUri: input.callbackUrl,
        state,
        ...(input.existing ? { existing: input.existing } : {}),
      });
      return authorization.kind === 'redirect' ? { ...authorization, nonce } : authorization;
    },

    /** Checks the end user's credentials against the provider's fields, then sends them. */
    async submitCredentials(input: {
      provider: ProviderName;
      institutionId: string;
      channelId: string;
      credentials: Encrypted;
      /** Absent in histories from before providers kept handles ahead of a connection. */
      providerRef?: Record<string, string>;
      existing?: ProviderConnection;
    }): Promise<ProviderConnection> {
      const adapter = adapters[input.provider];
      const plain = await decryptAll(input.credentials);
      const errors = checkFields(await adapter.credentialFields(input.institutionId, input.channelId), plain, true);
      if (errors.length > 0) throw invalidCredentials(errors);
      return adapter.submitCredentials({
        institutionId: input.institutionId,
        channelId: input.channelId,
        credentials: plain,
        providerRef: input.providerRef ?? input.existing?.providerRef ?? {},
        ...(input.existing ? { existing: input.existing } : {}),
      });
    },

    /** Waits for the provider's listing or sync job; `trigger` first asks the provider to sync. */
    async waitForJob({ provider, job, trigger, ...connection }: ProviderCall & { job: 'list' | 'sync'; trigger: boolean }): Promise<JobOutcome> {
      const adapter = adapters[provider];
      if (trigger) await adapter.startSync(connection);
      return adapter.waitForJob(connection, job, jobContext());
    },

    async answerChallenge({ provider, challenge, answers, ...connection }: ProviderCall & { challenge: Challenge; answers: Encrypted }) {
      const plain = await decryptAll(answers);
      const errors = checkFields(challenge.fields, plain, false);
      if (errors.length > 0) throw invalidCredentials(errors);
      await adapters[provider].answerChallenge(connection, challenge, plain);
    },

    async listAccounts({ provider, ...connection }: ProviderCall): Promise<ListedAccount[]> {
      return adapters[provider].listAccounts(connection);
    },

    async giveConsent({ provider, consents, ...connection }: ProviderCall & { consents: { account_id: string; consent: boolean }[] }) {
      await adapters[provider].giveConsent(connection, consents);
    },

    /**
     * Copies the provider's data for the consented accounts into the store, after a sync. Rows
     * are keyed by the provider's ids, so a retried import adds nothing twice.
     */
    async importData({
      provider,
      connectionId,
      accountIds,
      ...connection
    }: ProviderCall & { connectionId: string; accountIds: string[] }): Promise<SyncSummary> {
      const adapter = adapters[provider];
      const ctx = jobContext();
      const consented = new Set(accountIds);
      const accounts = (await adapter.fetchAccounts(connection)).filter((a) => consented.has(a.providerAccountId));
      await repository.upsertAccounts(connectionId, provider, accounts);
      let added = 0;
      let modified = 0;
      for (const account of accounts) {
        let cursor: string | null = null;
        do {
          const page = await adapter.fetchTransactions(connection, account.providerAccountId, cursor);
          const counts = await repository.upsertTransactions(connectionId, page.items);
          added += counts.added;
          modified += counts.modified;
          cursor = page.nextCursor;
          ctx.heartbeat({ account: account.providerAccountId });
        } while (cursor !== null);
      }
      return { synced_at: new Date().toISOString(), accounts: accounts.length, transactions_added: added, transactions_modified: modified };
    },

    /** Remembers which connection a provider connection id belongs to, for its webhooks. */
    async linkProviderConnection(input: { provider: ProviderName; providerConnectionId: string; connectionId: string }): Promise<void> {
      await providerLinks.link(input.provider, input.providerConnectionId, input.connectionId);
    },

    async disconnect({ provider, ...connection }: ProviderCall): Promise<void> {
      await adapters[provider].disconnect(connection);
    },
  };
}

function invalidCredentials(fields: { id: string; message: string }[]): ApplicationFailure {
  return ApplicationFailure.create({
    type: UpdateRejection.InvalidCredentials,
    nonRetryable: true,
    message: `invalid fields: ${fields.map((f) => f.id).join(', ')}`,
    details: [{ fields }],
  });
}

/** The connection workflow's provider and store activities (what test fakes implement). */
export type Activities = ReturnType<typeof connectionActivities>;
/** `emitWebhookEvent` and `deliverWebhook`: proxy them with their own options. */
export type { WebhookActivities, WebhookDeliveryResult } from './webhooks';
