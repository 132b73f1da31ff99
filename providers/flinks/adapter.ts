import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import type { ListedAccount } from '../../contract/messages';
import type { AccountRecord, TransactionRecord } from '../../contract/records';
import type { AdapterDeps, ChannelInfo, JobContext, JobOutcome, ProviderAdapter, ProviderConnection } from '../types';
import { FlinksClient, type FlinksConfig, FlinksFailure, type FlinksResponse, flinksError, parse, rejected } from './client';
import { flinksInstitutions } from './institutions';
import { AccountsDetailSchema, AuthorizeResponseSchema, type FlinksAccount, type FlinksAccountsDetail, failureOf } from './schemas';

export type { FlinksConfig } from './client';

/** Flinks has one way in, Flinks Connect: Linkflow calls it the `connect` channel. */
export const FLINKS_CHANNEL = 'connect';
const CHANNELS: ChannelInfo[] = [{ id: FLINKS_CHANNEL, mode: 'redirect', expiresAt: null }];
const TRANSACTION_PAGE_SIZE = 500;
const CACHE_ENTRIES = 100;

/** What waitForJob heartbeats: the session a retried attempt goes on polling. */
const ResumeSchema = z.object({ requestId: z.string().min(1) });

type Detail =
  | { status: 'ready'; detail: FlinksAccountsDetail }
  | { status: 'pending' }
  /** The RequestId does not exist (any more), or has nothing pending: open a new session. */
  | { status: 'gone' }
  /** The login itself failed (disabled, credentials changed): a FlinksCode. */
  | { status: 'failed'; code: string };

const pending = (): ApplicationFailure =>
  ApplicationFailure.retryable('Flinks is still extracting the login’s data (OPERATION_PENDING)', FlinksFailure.Pending);

const loginFailed = (code: string): ApplicationFailure =>
  ApplicationFailure.nonRetryable(`Flinks refused the login (${code}); the end user must reconnect`, FlinksFailure.LoginFailed);

/**
 * Flinks through Flinks Connect, in cached mode: the end user connects at Connect (redirect),
 * Flinks extracts the data in the background, and every read opens a new session (/Authorize
 * with MostRecentCached → RequestId) and reads /GetAccountsDetail with it. Flinks keeps no
 * secret of ours: `deps` is unused.
 */
export function createFlinksAdapter(config: FlinksConfig, _deps: AdapterDeps): ProviderAdapter {
  const flinks = new FlinksClient(config);
  const cacheMs = config.cacheMs ?? 60_000;
  /**
   * Recent GetAccountsDetail answers by login (and account filter): listing and paging a year of
   * transactions re-read one answer instead of asking Flinks again for each page. Per worker, on
   * purpose, not in the store: it only saves calls. What must be shared is Flinks' session, and it
   * is: the job's RequestId travels in providerRef (workflow state), an answer is used only for
   * that RequestId, and a worker that misses reads the same session with it (one GetAccountsDetail
   * per worker per cacheMs), or opens a new one when Flinks forgot it. Pages are offsets into the
   * oldest-first list, so reads of one login agree whichever worker makes them
   * (test/unit/flinks-sandbox.test.ts, "two workers"). Storing it would write each answer (a year
   * of a login's transactions) to the store to spare one call.
   */
  const cache = new Map<string, { at: number; detail: FlinksAccountsDetail }>();

  const cacheKey = (c: ProviderConnection): string => `${c.providerConnectionId}|${c.providerRef.accountId ?? ''}`;

  function remember(connection: ProviderConnection, detail: FlinksAccountsDetail): void {
    const key = cacheKey(connection);
    cache.delete(key);
    cache.set(key, { at: Date.now(), detail });
    for (const oldest of cache.keys()) {
      if (cache.size <= CACHE_ENTRIES) break;
      cache.delete(oldest);
    }
  }

  /** A new session on the login's most recent cached data; a refused login gives its FlinksCode. */
  async function authorizeSession(loginId: string): Promise<{ requestId: string } | { failed: string }> {
    const response = await flinks.call('POST', 'Authorize', { LoginId: loginId, MostRecentCached: true });
    if (response.status === 200) return { requestId: parse(AuthorizeResponseSchema, response.body, 'Authorize').RequestId };
    const error = flinksError(response);
    if (response.status === 401 && error) return { failed: error.FlinksCode };
    throw rejected('Authorize', response);
  }

  function readDetail(response: FlinksResponse, what: string): Detail {
    if (response.status === 200) return { status: 'ready', detail: parse(AccountsDetailSchema, response.body, what) };
    const error = flinksError(response);
    if (response.status === 202 && error?.FlinksCode === 'OPERATION_PENDING') return { status: 'pending' };
    if (error?.FlinksCode === 'SESSION_NONEXISTENT') return { status: 'gone' };
    if (response.status === 401 && error) return { status: 'failed', code: error.FlinksCode };
    throw rejected(what, response);
  }

  const accountsDetail = async (requestId: string, connection: ProviderConnection): Promise<Detail> =>
    readDetail(
      await flinks.call('POST', 'GetAccountsDetail', {
        RequestId: requestId,
        WithTransactions: true,
        WithBalance: true,
        DaysOfTransactions: config.daysOfTransactions ?? 'Days365',
        // The account chosen at Connect's account selector (providerRef from the redirect).
        ...(connection.providerRef.accountId ? { AccountsFilter: [connection.providerRef.accountId] } : {}),
      }),
      'GetAccountsDetail',
    );

  async function accountsDetailAsync(requestId: string): Promise<Detail> {
    const response = await flinks.call('GET', `GetAccountsDetailAsync/${encodeURIComponent(requestId)}`);
    // 400: nothing pending on that session (the attempt before ended before its GetAccountsDetail).
    if (response.status === 400 && flinksError(response)?.FlinksCode === 'INVALID_REQUEST') return { status: 'gone' };
    return readDetail(response, 'GetAccountsDetailAsync');
  }

  /**
   * The connection's data for listing and importing: the session the last job opened
   * (providerRef.requestId) while Flinks keeps it, else a new one.
   */
  async function currentDetail(connection: ProviderConnection): Promise<FlinksAccountsDetail> {
    const requestId = connection.providerRef.requestId;
    const cached = cache.get(cacheKey(connection));
    if (cached && Date.now() - cached.at < cacheMs && (requestId === undefined || cached.detail.RequestId === requestId)) return cached.detail;
    let result: Detail = requestId ? await accountsDetail(requestId, connection) : { status: 'gone' };
    if (result.status === 'gone') {
      const session = await authorizeSession(connection.providerConnectionId);
      if ('failed' in session) throw loginFailed(session.failed);
      result = await accountsDetail(session.requestId, connection);
    }
    if (result.status === 'pending') throw pending();
    if (result.status === 'failed') throw loginFailed(result.code);
    if (result.status === 'gone') throw new Error('Flinks forgot the RequestId it had just issued'); // transient: retried
    remember(connection, result.detail);
    return result.detail;
  }

  return {
    /** The institutions the reference names (no listing endpoint): see providers/flinks/institutions.ts. */
    listInstitutions: async () => flinksInstitutions(),

    async authorize({ institutionId, mode, redirectUri, state, existing }) {
      if (mode !== 'redirect') throw ApplicationFailure.nonRetryable('Flinks connects through Flinks Connect only (redirect)', FlinksFailure.Unsupported);
      // Flinks Connect has no state parameter: ours rides on the RedirectUrl, and Flinks adds its own.
      const back = new URL(redirectUri);
      back.searchParams.set('state', state);
      const url = new URL(config.connectUrl ?? new URL('v2/', config.baseUrl.endsWith('/') ? config.baseUrl : `${config.baseUrl}/`).toString());
      for (const [name, value] of Object.entries(config.connectParams ?? {})) url.searchParams.set(name, value);
      url.searchParams.set('redirectUrl', back.toString());
      // Re-authorizing: the same institution; logging in again there gives back the same LoginId.
      url.searchParams.set('institution', existing?.providerRef.institution ?? institutionId);
      if (config.accountSelector) url.searchParams.set('accountSelectorEnable', 'true');
      return { kind: 'redirect', channelId: FLINKS_CHANNEL, url: url.toString() };
    },

    credentialFields: async () => [],

    async submitCredentials() {
      throw ApplicationFailure.nonRetryable('Flinks takes credentials at Flinks Connect only', FlinksFailure.Unsupported);
    },

    /**
     * One read of the login's data in cached mode. Each new job opens a new session (/Authorize);
     * while Flinks answers OPERATION_PENDING the activity fails retryably, so that Temporal's
     * backoff waits without holding a worker slot, and the next attempt polls
     * /GetAccountsDetailAsync with the RequestId it finds in the last heartbeat.
     */
    async waitForJob(connection, _job, ctx: JobContext): Promise<JobOutcome> {
      const resumed = ResumeSchema.safeParse(ctx.lastDetails);
      let requestId = resumed.success ? resumed.data.requestId : null;
      let result: Detail = { status: 'gone' };
      if (requestId !== null) {
        ctx.heartbeat({ requestId });
        result = await accountsDetailAsync(requestId);
      }
      if (result.status === 'gone') {
        const session = await authorizeSession(connection.providerConnectionId);
        if ('failed' in session) return { outcome: 'failed', status: failureOf(session.failed), channelId: FLINKS_CHANNEL };
        requestId = session.requestId;
        ctx.heartbeat({ requestId });
        result = await accountsDetail(requestId, connection);
      }
      switch (result.status) {
        case 'pending':
          throw pending();
        case 'failed':
          return { outcome: 'failed', status: failureOf(result.code), channelId: FLINKS_CHANNEL };
        case 'gone':
          throw new Error('Flinks forgot the RequestId it had just issued'); // transient: retried
        case 'ready':
          remember(connection, result.detail);
          return { outcome: 'success', channels: CHANNELS, providerRef: { requestId: result.detail.RequestId } };
      }
    },

    async answerChallenge() {
      throw ApplicationFailure.nonRetryable('Flinks asks its security questions at Flinks Connect, not through Linkflow', FlinksFailure.Unsupported);
    },

    async listAccounts(connection): Promise<ListedAccount[]> {
      return (await currentDetail(connection)).Accounts.map((a) => {
        const mask = maskOf(a);
        return { id: a.Id, name: a.Title, type: typeOf(a), currency: a.Currency, ...(mask ? { mask } : {}) };
      });
    },

    // Linkflow asks the end user per account itself; Flinks has nothing to record.
    async giveConsent() {},

    // Flinks refreshes each login by itself (nightly); the job's /Authorize reads the latest data.
    async startSync() {},

    async fetchAccounts(connection): Promise<AccountRecord[]> {
      return (await currentDetail(connection)).Accounts.map((a) => ({
        providerAccountId: a.Id,
        name: a.Title,
        type: typeOf(a),
        currency: a.Currency,
        balance: typeof a.Balance?.Current === 'number' ? a.Balance.Current.toFixed(2) : null,
        iban: null,
        accountNumber: a.AccountNumber ?? null,
      }));
    },

    // DaysOfTransactions is Flinks' only window: `since` is not Flinks' to honour, every read is whole.
    async fetchTransactions(connection, accountId, cursor) {
      const account = (await currentDetail(connection)).Accounts.find((a) => a.Id === accountId);
      const all = account ? oldestFirst(account) : [];
      const offset = cursor === null ? 0 : Number(cursor);
      const items = all.slice(offset, offset + TRANSACTION_PAGE_SIZE).map((t): TransactionRecord => ({
        providerTransactionId: t.Id,
        providerAccountId: accountId,
        bookedAt: `${t.Date.slice(0, 4)}-${t.Date.slice(5, 7)}-${t.Date.slice(8, 10)}T00:00:00.000Z`,
        amount: (Math.round(((t.Credit ?? 0) - (t.Debit ?? 0)) * 100) / 100).toFixed(2),
        currency: (account as FlinksAccount).Currency,
        label: t.Description,
        category: t.Code ?? null,
        // Flinks lists posted transactions only, with no status field (pending ones show only in
        // Balance.Available less Current): nothing is pending, and nothing links to a pending one.
        pending: false,
        pendingTransactionId: null,
      }));
      const next = offset + items.length;
      return { items, nextCursor: items.length > 0 && next < all.length ? String(next) : null };
    },

    async disconnect(connection) {
      cache.delete(cacheKey(connection));
      const response = await flinks.call('DELETE', `DeleteCard/${encodeURIComponent(connection.providerConnectionId)}`);
      // 404 INVALID_LOGIN: already deleted.
      if (response.status === 200 || (response.status === 404 && flinksError(response)?.FlinksCode === 'INVALID_LOGIN')) return;
      throw rejected('DeleteCard', response);
    },
  };
}

const typeOf = (a: FlinksAccount): string => a.Type ?? a.Category ?? 'Unknown';

/** The account number's last four digits (credit cards come masked: `4510********1234`). */
function maskOf(a: FlinksAccount): string | undefined {
  const digits = (a.AccountNumber ?? '').replace(/\D/g, '');
  return digits.length >= 4 ? digits.slice(-4) : undefined;
}

/**
 * Oldest first, so that paging by offset stays valid when a later read has new transactions
 * (Flinks lists them newest first; same-day ones keep their relative order).
 */
function oldestFirst(account: FlinksAccount) {
  const transactions = account.Transactions ?? [];
  return transactions
    .map((t, index) => ({ t, index }))
    .sort((a, b) => a.t.Date.replace(/-/g, '/').localeCompare(b.t.Date.replace(/-/g, '/')) || b.index - a.index)
    .map(({ t }) => t);
}
