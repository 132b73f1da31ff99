import { ApplicationFailure } from '@temporalio/common';
import type { z } from 'zod';
import type { ListedAccount } from '../../contract/messages';
import type { AccountRecord, TransactionRecord } from '../../contract/records';
import type { AdapterDeps, ChannelInfo, JobOutcome, Page, ProviderAdapter, ProviderConnection } from '../types';
import { reauthorizing } from '../reauthorize';
import { LnkfiClient, type LnkfiConfig, LnkfiFailure, failure, parse } from './client';
import { lnkfiInstitutions } from './institutions';
import { RateLimiter } from './rate-limit';
import {
  AccountsResponseSchema,
  AuthorizeResponseSchema,
  BankAccountSchema,
  BankTransactionsResponseSchema,
  DisconnectResponseSchema,
  OrganisationResponseSchema,
  type XeroBankAccount,
} from './schemas';
import { apiKeySecretName } from './webhook';

export type { LnkfiConfig } from './client';

const XERO_API = 'https://api.xero.com/api.xro/2.0/';
/** Xero's page size for BankTransactions when `page` is given. */
const XERO_PAGE_SIZE = 100;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The consent LnkFi requires the end user to give (reference: consent_given); "[Your Company Name]" is ours. */
const CONSENT_TEXT =
  'I consent to [Your Company Name] and LnkFi using the data I have submitted here (including my user credentials to pull ' +
  'the applicable data from the Third Party Services associated with such user credentials) on my behalf, and to LnkFi ' +
  'providing that applicable data to [Your Company Name]. I agree that I have reviewed any applicable Third Party Service ' +
  'legal terms and have authority to send data to [Your Company Name] via LnkFi.';

export const lnkfiConsentText = (legalName: string): string => CONSENT_TEXT.replaceAll('[Your Company Name]', legalName);

/**
 * LnkFi as a provider: LnkFi authorizes a connection to a system (Xero) and then proxies the
 * system's own API. There is no job at LnkFi (no listing, no sync to wait for): the data is read
 * live through the proxy, with the connection's API key from the sealed ProviderSecrets (read on
 * every call, so a reauthorization's new key is used at once).
 */
export function createLnkfiAdapter(config: LnkfiConfig, deps: AdapterDeps): ProviderAdapter {
  const lnkfi = new LnkfiClient(config);
  const limiter = new RateLimiter(config.clock, deps.budgetResets);
  const channels = (): ChannelInfo[] => [{ id: config.system, mode: 'redirect', expiresAt: null }];

  async function apiKey(connection: ProviderConnection): Promise<string> {
    const key = await deps.secrets.get('lnkfi', apiKeySecretName(connection.providerConnectionId));
    if (key) return key;
    throw ApplicationFailure.nonRetryable(
      `LnkFi connection ${connection.providerConnectionId} has no API key stored (its connection_completed webhook was not received)`,
      LnkfiFailure.MissingApiKey,
    );
  }

  /** GETs a Xero resource through LnkFi's proxy, for the connection's instance (Xero organisation). */
  async function xero<T extends z.ZodType>(connection: ProviderConnection, resource: string, query: Record<string, string>, schema: T): Promise<z.infer<T>> {
    const instanceId = connection.providerRef.instanceId;
    if (!instanceId) throw ApplicationFailure.nonRetryable(`LnkFi connection ${connection.providerConnectionId} has no instance`, LnkfiFailure.BadResponse);
    const key = await apiKey(connection);
    const budget = `${connection.providerConnectionId}/${instanceId}`;
    await limiter.beforeCall(budget);
    const url = `${XERO_API}${resource}${Object.keys(query).length > 0 ? `?${new URLSearchParams(query).toString()}` : ''}`;
    const response = await lnkfi.request('POST', '/v1/connection/proxy', { connection_id: connection.providerConnectionId, url, instance_id: instanceId }, key);
    await limiter.record(budget, response);
    if (response.status !== 200) throw failure(`proxy GET ${resource}`, response);
    return parse(schema, response.body, `proxy GET ${resource}`);
  }

  async function bankAccounts(connection: ProviderConnection): Promise<XeroBankAccount[]> {
    const { Accounts } = await xero(connection, 'Accounts', { where: 'Type=="BANK"' }, AccountsResponseSchema);
    return Accounts.filter((a) => a.Type === 'BANK' && a.Status === 'ACTIVE').map((a) => parse(BankAccountSchema, a, 'bank account'));
  }

  const unsupported = (what: string) => ApplicationFailure.nonRetryable(`LnkFi has no ${what}`, 'UnsupportedMode');

  const adapter: ProviderAdapter = {
    /** The configured system, as the reference names it (no listing endpoint): see providers/lnkfi/institutions.ts. */
    listInstitutions: async () => lnkfiInstitutions(config.system),

    async authorize({ connectionId, institutionId, mode, redirectUri, state, existing }) {
      if (mode !== 'redirect') throw unsupported(`${mode} channel`);
      if (institutionId !== config.system) {
        throw ApplicationFailure.nonRetryable(`LnkFi connects ${config.system}, not ${institutionId}`, 'UnsupportedInstitution');
      }
      // LnkFi has no state parameter: ours rides on the redirect URL, LnkFi adds `result`.
      const redirect = new URL(redirectUri);
      redirect.searchParams.set('state', state);
      const body = {
        system: config.system,
        vendor_id: config.vendorId,
        vendor_external_id: connectionId,
        vendor_redirect_url: redirect.toString(),
        // The end user is shown the terms (the next action) before the browser goes to LnkFi.
        consent_given: true,
        ...(existing
          ? { existing_connection_id: existing.providerConnectionId }
          : { system_client_id: config.systemClientId, system_client_secret: config.systemClientSecret }),
      };
      const response = await lnkfi.request('POST', '/v1/connection/authorize', body);
      if (response.status !== 200) throw failure('POST /v1/connection/authorize', response);
      const { authorization_url } = parse(AuthorizeResponseSchema, response.body, 'POST /v1/connection/authorize');
      return { kind: 'redirect', channelId: config.system, url: authorization_url, terms: lnkfiConsentText(config.legalName) };
    },

    credentialFields: async () => [],

    submitCredentials: async () => {
      throw unsupported('credentials channel');
    },

    /**
     * Nothing runs at LnkFi; one cheap proxied read (the organisation) tells whether the
     * connection still works, so a revocation at the system is met as AUTH_FAILED (reauthorize)
     * rather than as a failed import.
     */
    async waitForJob(connection): Promise<JobOutcome> {
      try {
        await xero(connection, 'Organisation', {}, OrganisationResponseSchema);
      } catch (error) {
        if (error instanceof ApplicationFailure && error.type === LnkfiFailure.Unauthorized) {
          return { outcome: 'failed', status: 'AUTH_FAILED', channelId: config.system };
        }
        throw error;
      }
      return { outcome: 'success', channels: channels() };
    },

    answerChallenge: async () => {
      throw unsupported('challenges');
    },

    async listAccounts(connection): Promise<ListedAccount[]> {
      return (await bankAccounts(connection)).map((a) => ({
        id: a.AccountID,
        name: a.Name,
        type: a.BankAccountType ?? a.Type,
        currency: a.CurrencyCode,
        ...(a.BankAccountNumber ? { mask: a.BankAccountNumber.replace(/\D/g, '').slice(-4) } : {}),
      }));
    },

    // Consent is Linkflow's own (importData reads only consented accounts): LnkFi has nothing to tell.
    giveConsent: async () => undefined,

    // Reads go to Xero live through the proxy: there is nothing to start.
    startSync: async () => undefined,

    async fetchAccounts(connection): Promise<AccountRecord[]> {
      return (await bankAccounts(connection)).map((a) => ({
        providerAccountId: a.AccountID,
        name: a.Name,
        type: a.BankAccountType ?? a.Type,
        currency: a.CurrencyCode,
        balance: null, // Xero's Accounts carry no balance
        iban: null,
        accountNumber: a.BankAccountNumber ?? null,
      }));
    },

    /** One Xero page (100 transactions) per call; the cursor is the next page number. Deleted ones are left out. */
    // Every read is whole: LnkFi's proxy passes no date filter of ours on (`since` ignored).
    async fetchTransactions(connection, accountId, cursor): Promise<Page<TransactionRecord>> {
      if (!GUID.test(accountId)) throw ApplicationFailure.nonRetryable(`not a Xero account id: ${accountId}`, LnkfiFailure.BadResponse);
      const page = cursor === null ? 1 : Number(cursor);
      const { BankTransactions, pagination } = await xero(
        connection,
        'BankTransactions',
        { where: `BankAccount.AccountID=guid("${accountId}")`, page: String(page) },
        BankTransactionsResponseSchema,
      );
      const more = pagination ? page < pagination.pageCount : BankTransactions.length >= XERO_PAGE_SIZE;
      return {
        items: BankTransactions.filter((t) => t.Status === 'AUTHORISED' && t.BankAccount.AccountID === accountId).map((t) => ({
          providerTransactionId: t.BankTransactionID,
          providerAccountId: accountId,
          bookedAt: new Date(t.Date).toISOString(),
          amount: (t.Type.startsWith('SPEND') ? -t.Total : t.Total).toFixed(2),
          currency: t.CurrencyCode,
          label: t.Reference || t.Contact?.Name || t.Type,
          category: null,
          // Xero bank transactions are booked: no pending state, nothing to link.
          pending: false,
          pendingTransactionId: null,
        })),
        nextCursor: more ? String(page + 1) : null,
      };
    },

    /** DELETE /v1/connection; one LnkFi no longer knows counts as removed. */
    async disconnect(connection) {
      const key = await apiKey(connection);
      const response = await lnkfi.request('DELETE', '/v1/connection', { vendor_id: config.vendorId, connection_id: connection.providerConnectionId }, key);
      if (response.status === 404) return;
      if (response.status !== 200) throw failure('DELETE /v1/connection', response);
      parse(DisconnectResponseSchema, response.body, 'DELETE /v1/connection');
    },
    // The authorization session behind the URL lives 30 minutes: a Linkflow link opens a new one.
    refreshAuthorizationUrl: (request) => reauthorizing(adapter.authorize)(request),
  };
  return adapter;
}
