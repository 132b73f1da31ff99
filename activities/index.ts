import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import {
  type Challenge,
  type ChannelMode,
  type ListedAccount,
  type ProviderName,
  type SyncSummary,
  UpdateRejection,
} from '../contract/messages';
import { type CredentialsKey, checkFields } from '../domain/credentials';
import { AUTHORIZATION_CODE_REFUSED, type AdapterRegistry, type Authorization, type JobContext, type JobOutcome, type ProviderConnection } from '../providers';
import type { StateSigner } from '../domain/redirect-state';
import type { ProviderLinks, Repository } from '../store';
import type { TransactionRecord } from '../contract/records';
import { type ImportPlan, type ImportPosition, type ImportRun, accountStart } from '../store/repository';
import { type WebhookDeps, createWebhookActivities } from './webhooks';

export interface ActivityDeps extends WebhookDeps {
  adapters: AdapterRegistry;
  repository: Repository;
  providerLinks: ProviderLinks;
  stateSigner: StateSigner;
  credentialsKey: CredentialsKey;
}

/** Late bookings and corrections land within this many days of an account's latest transaction. */
const OVERLAP_DAYS = 7;

/** What an import heartbeats: its plan and where it is (for liveness and the Web UI; a retry reads the store). */
export interface ImportHeartbeat {
  plan: ImportPlan;
  position: ImportPosition;
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

  /**
   * An import's first attempt: the consented accounts the provider lists now, stored with their
   * balances, and each one's window read from the store before this import writes anything. The
   * plan is stored with the import (a concurrent or earlier attempt's stored plan wins).
   */
  async function planImport(
    syncId: string,
    { provider, connectionId, accountIds, full, ...connection }: ProviderCall & { connectionId: string; accountIds: string[]; full: boolean },
  ): Promise<ImportRun> {
    const consented = new Set(accountIds);
    const accounts = (await adapters[provider].fetchAccounts(connection))
      .filter((a) => consented.has(a.providerAccountId))
      .sort((a, b) => a.providerAccountId.localeCompare(b.providerAccountId));
    await repository.upsertAccounts(connectionId, provider, accounts);
    await repository.recordBalances(connectionId, accounts, new Date().toISOString());
    const windows: ImportPlan['accounts'] = [];
    for (const { providerAccountId } of accounts) {
      windows.push({ providerAccountId, since: full ? null : await repository.incrementalSince(connectionId, providerAccountId, OVERLAP_DAYS) });
    }
    return repository.beginSync(syncId, connectionId, { full, accounts: windows });
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

    /**
     * The provider URL of a redirect the connection offers, usable now (ProviderAdapter
     * refreshAuthorizationUrl); `url` unchanged for providers whose URLs do not expire. The state
     * is the authorization's own (same nonce): the redirect it brings back is still the awaited one.
     */
    async refreshAuthorizationUrl(input: {
      provider: ProviderName;
      connectionId: string;
      institutionId: string;
      callbackUrl: string;
      url: string;
      channelId: string;
      nonce: string | null;
      providerRef: Record<string, string>;
      existing?: ProviderConnection;
    }): Promise<string> {
      const refresh = adapters[input.provider].refreshAuthorizationUrl;
      if (!refresh) return input.url;
      return refresh({
        url: input.url,
        providerRef: input.providerRef,
        authorization: {
          connectionId: input.connectionId,
          institutionId: input.institutionId,
          channelId: input.channelId,
          redirectUri: input.callbackUrl,
          state: input.nonce === null ? null : stateSigner.stateOf({ connectionId: input.connectionId, nonce: input.nonce }),
          ...(input.existing ? { existing: input.existing } : {}),
        },
      });
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
     * Copies the provider's data for the consented accounts into the store, after a sync, page by
     * page. The first attempt fixes the import's plan and stores it (which accounts, in which order,
     * each one's window: incremental unless `full`, from the account's latest booking less an
     * overlap); each page is upserted (keyed by the provider's ids) in one transaction with the
     * import's new position. A retry after a crash reads plan and position back from the store —
     * never from the rows the crashed attempt wrote, nor from a heartbeat that may have been lost —
     * so it re-reads at most the page that was in flight, and nothing is added twice. What the
     * provider no longer returns in a window is marked removed. Only counts travel back to the
     * workflow; heartbeats carry the plan and position for liveness and the Web UI.
     */
    async importData({
      provider,
      connectionId,
      accountIds,
      full = false,
      ...connection
    }: ProviderCall & { connectionId: string; accountIds: string[]; full?: boolean }): Promise<SyncSummary> {
      const adapter = adapters[provider];
      const ctx = Context.current();
      // The same for every retry of this activity, and different for any other import.
      const syncId = `${ctx.info.workflowExecution?.runId ?? 'standalone'}/${ctx.info.activityId}`;
      const run = (await repository.importRun(syncId)) ?? (await planImport(syncId, { provider, connectionId, accountIds, full, ...connection }));
      const { plan } = run;
      let position = run.position;
      const beat = () => ctx.heartbeat({ plan, position } satisfies ImportHeartbeat);
      beat();
      while (position.account < plan.accounts.length) {
        const { providerAccountId: accountId, since } = plan.accounts[position.account] as ImportPlan['accounts'][number];
        while (position.pages === 0 || position.cursor !== null) {
          const page = await adapter.fetchTransactions(connection, accountId, position.cursor, since);
          const items = page.items.filter(hasStorableIds);
          if (items.length < page.items.length) {
            ctx.log.warn('transactions left out: their ids cannot be stored', { provider, account: position.account, count: page.items.length - items.length });
          }
          const next: ImportPosition = { ...position, pages: position.pages + 1, cursor: page.nextCursor, oldest: oldestBooking(position.oldest, items) };
          await repository.applyPage(connectionId, syncId, items, { from: position, to: next });
          position = next;
          beat();
        }
        // Removals are judged only where the provider was asked and answered: from `since`, or on a
        // full read from the oldest booking it still returns (Flinks keeps 365 days); an empty
        // full answer judges nothing. The move to the next account commits with the removals.
        const window = since ?? position.oldest?.slice(0, 10) ?? null;
        const next = accountStart(position.account + 1);
        const move = { from: position, to: next };
        if (window !== null) await repository.removeUnread(connectionId, accountId, syncId, window, move);
        else await repository.moveImport(syncId, move);
        position = next;
        beat();
      }
      const counts = await repository.finishSync(syncId, connectionId);
      return {
        synced_at: new Date().toISOString(),
        accounts: plan.accounts.length,
        transactions_added: counts.added,
        transactions_modified: counts.modified,
        transactions_removed: counts.removed,
      };
    },

    /**
     * Binds a provider connection id that arrived through a browser redirect or a provider webhook
     * to this connection, or refuses it (DESIGN.md, trust rule "Nothing from a browser chooses
     * data"). Refused: an id other than the one the connection already holds (`held`: renewals,
     * repairs and added channels re-authorize that one), one the provider says is not this
     * authorization's, one linked to another Linkflow connection. Accepted: linked to this
     * connection. Idempotent: a retry finds its own link. A refusal is an answer, not a failure, so
     * the workflow records it and nothing is read or deleted with the id.
     */
    async bindProviderConnection(input: {
      provider: ProviderName;
      connectionId: string;
      providerConnectionId: string;
      providerRef: Record<string, string>;
      held: string | null;
    }): Promise<{ bound: true } | { bound: false; reason: string }> {
      const { provider, connectionId, providerConnectionId } = input;
      if (input.held !== null && input.held !== providerConnectionId) {
        return { bound: false, reason: `names ${provider} connection ${providerConnectionId}, not the one this connection holds` };
      }
      const owner = await providerLinks.connectionFor(provider, providerConnectionId);
      if (owner !== null && owner !== connectionId) return { bound: false, reason: `${provider} connection ${providerConnectionId} belongs to another connection` };
      const owns = adapters[provider].ownsConnection;
      if (owner === null && owns && !(await owns({ providerConnectionId, providerRef: input.providerRef }))) {
        return { bound: false, reason: `${provider} says connection ${providerConnectionId} is not part of this authorization` };
      }
      // Claimed atomically: two connections naming one id at once cannot both have it.
      if ((await providerLinks.claim(provider, providerConnectionId, connectionId)) !== connectionId) {
        return { bound: false, reason: `${provider} connection ${providerConnectionId} belongs to another connection` };
      }
      return { bound: true };
    },

    /**
     * Creates the provider connection from the authorization code a redirect brought back
     * (Authorization.completion `code`, Oxlin's client-created flow). The code arrives sealed by
     * the API and opens only for this connection and authorization (`nonce`); `callbackUrl` is
     * the `redirect_uri` the authorization was started with. A code the provider refuses is an
     * answer (`created: false`), not a failure; a retry after a lost answer gets the same
     * connection (the provider's exchange is idempotent per code).
     */
    async completeAuthorization(input: {
      connectionId: string;
      provider: ProviderName;
      institutionId: string;
      channelId: string;
      callbackUrl: string;
      nonce: string;
      sealedCode: string;
    }): Promise<{ created: true; connection: ProviderConnection } | { created: false; error: string }> {
      const complete = adapters[input.provider].completeAuthorization;
      if (!complete) return { created: false, error: `${input.provider} does not complete authorizations with a code.` };
      const code = stateSigner.openCode(input.sealedCode, { connectionId: input.connectionId, nonce: input.nonce });
      try {
        const connection = await complete({ institutionId: input.institutionId, channelId: input.channelId, code, redirectUri: input.callbackUrl });
        return { created: true, connection };
      } catch (err) {
        if (err instanceof ApplicationFailure && err.type === AUTHORIZATION_CODE_REFUSED) {
          return { created: false, error: 'The provider refused the authorization code.' };
        }
        throw err;
      }
    },

    /** Remembers which connection a provider connection id belongs to, for its webhooks. */
    async linkProviderConnection(input: { provider: ProviderName; providerConnectionId: string; connectionId: string }): Promise<void> {
      await providerLinks.link(input.provider, input.providerConnectionId, input.connectionId);
    },

    /**
     * Deletes the connection at the provider, then forgets its link: a login the provider no longer
     * holds for us may be connected again (Flinks gives the same LoginId to the same login).
     */
    async disconnect({ provider, ...connection }: ProviderCall): Promise<void> {
      await adapters[provider].disconnect(connection);
      await providerLinks.release(provider, connection.providerConnectionId);
    },
  };
}

/** Longest provider id the store keys on (its primary key index holds rows of about 2.7 kB at most). */
const MAX_ID_LENGTH = 512;

/**
 * Whether a transaction's ids can key a row: a provider that sends an id with a NUL byte, or one
 * longer than MAX_ID_LENGTH, would otherwise fail the page on every attempt of every import, and
 * the connection would never import again. Such a row is left out (and logged) instead.
 */
function hasStorableIds(t: TransactionRecord): boolean {
  return [t.providerTransactionId, t.providerAccountId].every((id) => id.length > 0 && id.length <= MAX_ID_LENGTH && !id.includes('\u0000'));
}

/** The older of `oldest` (ISO 8601, or null for none yet) and every booking on `page`. */
function oldestBooking(oldest: string | null, page: TransactionRecord[]): string | null {
  for (const t of page) if (oldest === null || t.bookedAt < oldest) oldest = t.bookedAt;
  return oldest;
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
