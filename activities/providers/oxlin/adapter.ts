import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import type { ListedAccount } from '../../../workflows/messages';
import type { AccountRecord, TransactionRecord } from '../../store/repository';
import type { JobContext, Page, ProviderAdapter, ProviderConnection } from '../types';
import { OxlinClient, type OxlinConfig, parse } from './client';
import {
  AccountSchema,
  ConnectionSchema,
  EventSchema,
  type OxlinAccount,
  type OxlinChannel,
  ProviderSchema,
  TransactionSchema,
} from './schemas';

const TRANSACTION_PAGE_SIZE = 500;

type Job = 'LIST_ACCOUNTS' | 'SYNC_ALL';

/** Channel statuses that end a job without success, as the failure type the workflow sees. */
const FAILED_STATUSES: Partial<Record<OxlinChannel['status'], string>> = {
  FAILED: 'ProviderJobFailed',
  AUTH_FAILED: 'AUTH_FAILED',
  TOO_MANY_ATTEMPTS: 'TOO_MANY_ATTEMPTS',
  PASSWORD_CHANGE_REQUIRED: 'PASSWORD_CHANGE_REQUIRED',
  USER_ACTION_REQUIRED: 'USER_ACTION_REQUIRED',
  CHALLENGE_TIMED_OUT: 'CHALLENGE_TIMED_OUT',
  CHALLENGE_FAILED: 'CHALLENGE_FAILED',
  CHALLENGE_CANCELLED: 'CHALLENGE_CANCELLED',
};

export function createOxlinAdapter(config: OxlinConfig): ProviderAdapter {
  const oxlin = new OxlinClient(config);

  const queueId = (connection: ProviderConnection): string => {
    const id = connection.providerRef.queueId;
    if (!id) throw ApplicationFailure.nonRetryable('Oxlin connection has no event queue', 'OxlinMissingQueue');
    return id;
  };

  /**
   * Waits for a LIST_ACCOUNTS or SYNC_ALL job through the connection's event queue. Reading
   * the queue consumes events, so a retried attempt may find it empty: the channels' own
   * statuses on the connection resource then settle the outcome.
   */
  async function waitForJob(connection: ProviderConnection, job: Job, ctx: JobContext): Promise<void> {
    for (;;) {
      const events = await oxlin.get(`/queues/${queueId(connection)}`, z.array(EventSchema));
      const mine = events.filter((e) => e.resource.id === connection.providerConnectionId);
      for (const event of mine) {
        ctx.heartbeat({ event: event.event_type });
        if (event.event_type === `${job}_SUCCESS`) return;
        if (event.event_type === `${job}_FAILED`) throw jobFailed(job, event.resource.channels);
      }
      if (mine.length === 0) {
        const resource = await oxlin.get(`/connections/${connection.providerConnectionId}`, ConnectionSchema);
        const active = resource.channels.filter((c) => c.status !== 'EMPTY' && c.status !== 'NEVER');
        if (active.length > 0 && active.every((c) => c.status !== 'RUNNING')) {
          if (active.some((c) => FAILED_STATUSES[c.status])) throw jobFailed(job, active);
          return;
        }
        ctx.heartbeat({ waiting: job });
      }
      await ctx.sleep(config.pollIntervalMs ?? 1_000);
    }
  }

  const fetchOxlinAccounts = (connection: ProviderConnection): Promise<OxlinAccount[]> =>
    oxlin.get('/accounts', z.array(AccountSchema), { connection_id: connection.providerConnectionId });

  return {
    async authorize({ institutionId, redirectUri, state }) {
      const provider = await oxlin.get(`/providers/${encodeURIComponent(institutionId)}`, ProviderSchema);
      const channel = provider.channel_definitions.find((c) => c.mode === 'REDIRECT');
      if (!channel) {
        throw ApplicationFailure.nonRetryable(`Oxlin provider ${institutionId} has no REDIRECT channel`, 'UnsupportedInstitution');
      }
      const response = await oxlin.request(
        'POST',
        `/providers/${encodeURIComponent(provider.id)}/channels/${encodeURIComponent(channel.id)}/authorize_url`,
        { body: { redirect_uri: redirectUri, redirect_state: state }, expect: [201] },
      );
      const url = parse(z.url(), response.headers.get('location'), 'authorize_url location');
      return { url };
    },

    async listAccounts(connection, ctx): Promise<ListedAccount[]> {
      await waitForJob(connection, 'LIST_ACCOUNTS', ctx);
      return (await fetchOxlinAccounts(connection)).map((a) => ({
        id: a.id,
        name: a.name,
        type: a.type,
        currency: a.currency,
        ...(a.account_number ? { mask: a.account_number.slice(-4) } : {}),
      }));
    },

    async giveConsent(connection, consents) {
      await oxlin.request('PUT', `/connections/${connection.providerConnectionId}/consents`, {
        body: { consents },
        expect: [204],
      });
    },

    async startSync(connection) {
      // 409: a synchronization is already running, which is what we asked for.
      await oxlin.request('POST', `/connections/${connection.providerConnectionId}/synchronize`, { expect: [202, 409] });
    },

    waitForSync: (connection, ctx) => waitForJob(connection, 'SYNC_ALL', ctx),

    async fetchAccounts(connection): Promise<AccountRecord[]> {
      return (await fetchOxlinAccounts(connection)).map((a) => ({
        providerAccountId: a.id,
        name: a.name,
        type: a.type,
        currency: a.currency,
        balance: a.balance === null || a.balance === undefined ? null : a.balance.toFixed(2),
        iban: a.iban ?? null,
        accountNumber: a.account_number ?? null,
      }));
    },

    async fetchTransactions(connection, accountId, cursor): Promise<Page<TransactionRecord>> {
      const offset = cursor === null ? 0 : Number(cursor);
      const response = await oxlin.request('GET', '/transactions', {
        query: { account_id: accountId, limit: TRANSACTION_PAGE_SIZE, offset },
      });
      const transactions = parse(z.array(TransactionSchema), response.body, 'GET /transactions');
      const total = parse(z.coerce.number().int().nonnegative(), response.headers.get('x-total-count'), 'x-total-count');
      const next = offset + transactions.length;
      return {
        items: transactions.map((t) => ({
          providerTransactionId: t.id,
          providerAccountId: t.account_id,
          bookedAt: new Date(t.date * 1000).toISOString(),
          amount: t.amount.toFixed(2),
          currency: t.currency,
          label: t.label,
          category: t.category_id === null || t.category_id === undefined ? null : String(t.category_id),
        })),
        nextCursor: transactions.length > 0 && next < total ? String(next) : null,
      };
    },
  };
}

function jobFailed(job: Job, channels: OxlinChannel[]): ApplicationFailure {
  const failed = channels.find((c) => FAILED_STATUSES[c.status]);
  const status = failed?.status ?? 'FAILED';
  return ApplicationFailure.create({
    type: FAILED_STATUSES[status] ?? 'ProviderJobFailed',
    nonRetryable: true,
    message: `Oxlin ${job} ended with channel status ${status}`,
    details: [{ job, channel: failed?.channel_definition_id ?? null, status }],
  });
}
