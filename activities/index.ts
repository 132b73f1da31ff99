import { Context } from '@temporalio/activity';
import type { ListedAccount, ProviderName } from '../workflows/messages';
import type { AdapterRegistry, JobContext, ProviderConnection } from './providers';
import type { StateSigner } from './redirect-state';
import type { Repository } from './store';

export interface ActivityDeps {
  adapters: AdapterRegistry;
  repository: Repository;
  stateSigner: StateSigner;
}

interface ProviderCall extends ProviderConnection {
  provider: ProviderName;
}

export interface SyncResult {
  synced_at: string;
  accounts: number;
  transactions_added: number;
  transactions_modified: number;
}

const jobContext = (): JobContext => {
  const ctx = Context.current();
  return { heartbeat: (details) => ctx.heartbeat(details), sleep: (ms) => ctx.sleep(ms) };
};

/** Every side effect of the connection workflow. Each activity is safe to run again. */
export function createActivities({ adapters, repository, stateSigner }: ActivityDeps) {
  return {
    /** A fresh, signed redirect state and the provider's authorize URL carrying it. */
    async startAuthorization(input: {
      connectionId: string;
      provider: ProviderName;
      institutionId: string;
      callbackUrl: string;
    }): Promise<{ url: string; nonce: string }> {
      const { state, nonce } = stateSigner.issue(input.connectionId);
      const { url } = await adapters[input.provider].authorize({
        institutionId: input.institutionId,
        redirectUri: input.callbackUrl,
        state,
      });
      return { url, nonce };
    },

    async listAccounts({ provider, ...connection }: ProviderCall): Promise<ListedAccount[]> {
      return adapters[provider].listAccounts(connection, jobContext());
    },

    async giveConsent({
      provider,
      consents,
      ...connection
    }: ProviderCall & { consents: { account_id: string; consent: boolean }[] }): Promise<void> {
      await adapters[provider].giveConsent(connection, consents);
    },

    /**
     * Refreshes the provider's data and upserts it into the store. Only consented accounts
     * are written; rows are keyed by the provider's ids, so a retry adds nothing twice.
     */
    async syncConnection({
      provider,
      connectionId,
      accountIds,
      trigger,
      ...connection
    }: ProviderCall & { connectionId: string; accountIds: string[]; trigger: boolean }): Promise<SyncResult> {
      const adapter = adapters[provider];
      const ctx = jobContext();
      if (trigger) await adapter.startSync(connection);
      await adapter.waitForSync(connection, ctx);

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
      return {
        synced_at: new Date().toISOString(),
        accounts: accounts.length,
        transactions_added: added,
        transactions_modified: modified,
      };
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
