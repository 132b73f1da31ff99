import type { ListedAccount, ProviderName, RedirectReceived } from '../../workflows/messages';
import type { AccountRecord, TransactionRecord } from '../store/repository';

/** Which provider connection a Linkflow connection is bound to, as the provider names it. */
export interface ProviderConnection {
  providerConnectionId: string;
  /** Provider-specific handles the adapter needs later (e.g. Oxlin's event queue id). */
  providerRef: Record<string, string>;
}

/** How a long provider job reports liveness and waits without busy-looping (an activity's Context). */
export interface JobContext {
  heartbeat(details?: unknown): void;
  sleep(ms: number): Promise<void>;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** One provider's API, turned into the lifecycle's steps. Implemented once per folder in providers/. */
export interface ProviderAdapter {
  /** The URL the end user's browser is sent to; `state` comes back on the redirect. */
  authorize(request: { institutionId: string; redirectUri: string; state: string }): Promise<{ url: string }>;
  /** Waits for the provider to list the connection's accounts and returns them for consent. */
  listAccounts(connection: ProviderConnection, job: JobContext): Promise<ListedAccount[]>;
  giveConsent(connection: ProviderConnection, consents: { account_id: string; consent: boolean }[]): Promise<void>;
  /** Asks the provider to refresh its data; a refresh already running counts as started. */
  startSync(connection: ProviderConnection): Promise<void>;
  waitForSync(connection: ProviderConnection, job: JobContext): Promise<void>;
  fetchAccounts(connection: ProviderConnection): Promise<AccountRecord[]>;
  fetchTransactions(connection: ProviderConnection, accountId: string, cursor: string | null): Promise<Page<TransactionRecord>>;
}

export type AdapterRegistry = Record<ProviderName, ProviderAdapter>;

/** A provider's redirect back to Linkflow, parsed: the signed state and what it says happened. */
export interface ParsedRedirect {
  state: string;
  redirect: Omit<RedirectReceived, 'nonce'>;
}
