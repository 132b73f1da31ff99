import { ApplicationFailure } from '@temporalio/common';
import * as openpgp from 'openpgp';
import { z } from 'zod';
import { type Challenge, type InputField, type ListedAccount, UpdateRejection } from '../../contract/messages';
import type { AccountRecord, TransactionRecord } from '../../contract/records';
import { currentActivity } from '../activity';
import {
  AUTHORIZATION_CODE_REFUSED,
  type ChannelInfo,
  type Institution,
  type JobContext,
  type JobOutcome,
  type Page,
  type ProviderAdapter,
  type ProviderConnection,
  type ProviderFailure,
} from '../types';
import { reauthorizing } from '../reauthorize';
import { pollDelays } from '../polling';
import { OxlinClient, type OxlinConfig, OxlinFailure, parse } from './client';
import {
  AccountSchema,
  ConnectionSchema,
  EventSchema,
  KeySchema,
  type OxlinAccount,
  type OxlinChannel,
  type OxlinChallengeItem,
  type OxlinConnection,
  type OxlinEvent,
  ProviderListItemSchema,
  ProviderSchema,
  TransactionSchema,
} from './schemas';

/** The largest page Oxlin serves. */
const TRANSACTION_PAGE_SIZE = 500;
/** Oxlin statuses of transactions that never moved money. */
const UNSETTLED: ReadonlySet<string> = new Set(['EXPIRED', 'REJECTED', 'CANCELLED']);

/** Channel statuses that end a job without data, as the lifecycle names them. */
const FAILURES: Partial<Record<OxlinChannel['status'], ProviderFailure>> = {
  FAILED: 'FAILED',
  AUTH_FAILED: 'AUTH_FAILED',
  TOO_MANY_ATTEMPTS: 'TOO_MANY_ATTEMPTS',
  PASSWORD_CHANGE_REQUIRED: 'PASSWORD_CHANGE_REQUIRED',
  USER_ACTION_REQUIRED: 'USER_ACTION_REQUIRED',
  CHALLENGE_TIMED_OUT: 'CHALLENGE_TIMED_OUT',
  CHALLENGE_FAILED: 'CHALLENGE_FAILED',
  CHALLENGE_CANCELLED: 'CHALLENGE_CANCELLED',
};

/**
 * How long Oxlin waits for the answer to a challenge step that carries no TIMEOUT_MSG. The
 * reference says answers "are limited in time" and gives 120 s (TIMEOUT_MSG `timeout`) for the
 * code step; the first step (confirm sending the SMS) ends CHALLENGE_TIMED_OUT on the same clock.
 * Promising the end user longer than Oxlin waits would leave them answering into a closed step.
 */
export const OXLIN_CHALLENGE_STEP_SECONDS = 120;

const INPUT_TYPES = new Set(['OK_CANCEL', 'NUMERIC', 'TEXT', 'PWD', 'NUMERIC_PWD', 'DATE']);
const JOB_EVENTS = { list: 'LIST_ACCOUNTS', sync: 'SYNC_ALL' } as const;

/** Oxlin's challenge items split into what the end user answers and what they read, {param}s filled in. */
export function toChallenge(channelId: string, items: OxlinChallengeItem[]): Challenge {
  const fill = (item: OxlinChallengeItem) =>
    item.label.replace(/\{(\w+)\}/g, (whole, name: string) => (item.params?.[name] === undefined ? whole : String(item.params[name])));
  const timeout = items.find((i) => i.type === 'TIMEOUT_MSG')?.params?.timeout;
  const seconds = timeout === undefined ? NaN : Number(timeout);
  return {
    channelId,
    fields: items
      .filter((i) => INPUT_TYPES.has(i.type))
      .map((i) => ({ id: i.id, label: fill(i), type: i.type, regexp: i.regexp ?? null, encrypt: i.encrypt ?? false })),
    messages: items.filter((i) => !INPUT_TYPES.has(i.type)).map((i) => ({ id: i.id, type: i.type, text: fill(i) })),
    timeoutSeconds: Number.isInteger(seconds) && seconds > 0 ? seconds : OXLIN_CHALLENGE_STEP_SECONDS,
  };
}

/** Oxlin's channel definition mode for each of Linkflow's modes. */
const OXLIN_MODES = { redirect: 'REDIRECT', embedded: 'EMBEDDED' } as const;

/** The HTTP status an OxlinRequestRejected failure carries in its details. */
const statusOf = (failure: ApplicationFailure): number | undefined => (failure.details?.[0] as { status?: number } | undefined)?.status;

const channelInfo = (connection: OxlinConnection): ChannelInfo[] =>
  connection.channels
    .filter((c) => c.status !== 'EMPTY' && c.status !== 'NEVER')
    .map((c) => ({
      id: c.channel_definition_id,
      mode: c.mode === 'REDIRECT' ? 'redirect' : 'embedded',
      expiresAt: c.expires === undefined ? null : new Date(c.expires * 1000).toISOString(),
    }));

export function createOxlinAdapter(config: OxlinConfig): ProviderAdapter {
  const oxlin = new OxlinClient(config);
  let providerKey: { id: string; key: openpgp.PublicKey; expiresAt: number } | null = null;

  const provider = (institutionId: string) => oxlin.get(`/providers/${encodeURIComponent(institutionId)}`, ProviderSchema);
  const connectionResource = (c: ProviderConnection) => oxlin.get(`/connections/${c.providerConnectionId}`, ConnectionSchema);

  async function channelDefinition(institutionId: string, channelId: string) {
    const definition = (await provider(institutionId)).channel_definitions.find((c) => c.id === channelId);
    if (!definition) throw ApplicationFailure.nonRetryable(`Oxlin provider ${institutionId} has no channel ${channelId}`, 'UnsupportedInstitution');
    return definition;
  }

  const fieldsOf = (definition: Awaited<ReturnType<typeof channelDefinition>>): InputField[] =>
    (definition.credentials ?? []).map((c) => ({ id: c.id, label: c.label, type: c.type, regexp: c.regexp, encrypt: c.encrypt }));

  /** Oxlin's PGP key for `encrypt: true` values (POST /keys, then GET /keys/{id}), reused until it nears expiry. */
  async function encryptionKey(): Promise<{ id: string; key: openpgp.PublicKey }> {
    if (providerKey && providerKey.expiresAt > Date.now() + 3_600_000) return providerKey;
    const created = await oxlin.request('POST', '/keys', { body: { type: 'PGP' }, expect: [201] });
    const location = parse(z.string().regex(/\/keys\/[^/]+$/), created.headers.get('location'), 'POST /keys location');
    const key = await oxlin.get(`/keys/${location.split('/').pop()}`, KeySchema);
    providerKey = {
      id: key.id,
      key: await openpgp.readKey({ armoredKey: key.public_key }),
      expiresAt: key.expiration_date ? key.expiration_date * 1000 : Date.now() + 86_400_000,
    };
    return providerKey;
  }

  async function encryptForOxlin(fields: Pick<InputField, 'id' | 'encrypt'>[], values: { id: string; value: string }[]) {
    const encrypted = new Set(fields.filter((f) => f.encrypt).map((f) => f.id));
    const key = values.some((v) => encrypted.has(v.id)) ? await encryptionKey() : null;
    const credentials = await Promise.all(
      values.map(async ({ id, value }) => {
        if (!encrypted.has(id) || !key) return { id, value };
        const message = await openpgp.createMessage({ text: value });
        return { id, value: await openpgp.encrypt({ message, encryptionKeys: key.key, format: 'armored' }) };
      }),
    );
    return { keyId: key?.id, credentials };
  }

  const decide = (job: 'list' | 'sync', event: OxlinEvent): JobOutcome | null => {
    const prefix = JOB_EVENTS[job];
    const request = job === 'list' ? event.list_accounts_user_input_requested : event.sync_all_user_input_requested;
    if (event.event_type === `${prefix}_USER_INPUT_REQUESTED` && request) {
      const channelId = event.channel_definition_id ?? event.resource.channels.find((c) => c.status === 'CHALLENGE_REQUIRED')?.channel_definition_id;
      if (!channelId) throw ApplicationFailure.nonRetryable('Oxlin challenge event names no channel', 'OxlinBadResponse');
      return { outcome: 'challenge', challenge: toChallenge(channelId, request.challenge) };
    }
    if (event.event_type === `${prefix}_FAILED`) return failed(event.resource.channels);
    return null;
  };

  const adapter: ProviderAdapter = {
    /** `GET /v2.1/providers`: each available provider, its modes from its channel definitions. */
    async listInstitutions() {
      const providers = await oxlin.get('/providers', z.array(ProviderListItemSchema));
      return providers.flatMap((p): Institution[] => {
        const modes = (['redirect', 'embedded'] as const).filter((mode) => p.channel_definitions.some((d) => d.mode === OXLIN_MODES[mode]));
        if (p.unavailable === true || modes.length === 0) return [];
        return [{ provider: 'oxlin', id: p.id, name: p.name, country: p.country_code || null, modes }];
      });
    },

    async authorize({ institutionId, mode, redirectUri, state, existing }) {
      const definitions = (await provider(institutionId)).channel_definitions;
      const definition = existing?.channelId
        ? definitions.find((c) => c.id === existing.channelId)
        : definitions.find((c) => c.mode === OXLIN_MODES[mode]);
      if (!definition) {
        throw ApplicationFailure.nonRetryable(`Oxlin provider ${institutionId} has no ${mode} channel`, 'UnsupportedInstitution');
      }
      if (definition.mode === 'EMBEDDED') return { kind: 'credentials', channelId: definition.id, fields: fieldsOf(definition) };
      const response = await oxlin.request(
        'POST',
        `/providers/${encodeURIComponent(institutionId)}/channels/${encodeURIComponent(definition.id)}/authorize_url`,
        {
          body: {
            redirect_uri: redirectUri,
            redirect_state: state,
            // A new connection is created by Linkflow from the code the bank sends back (reference
            // 001, "You want to create the connection"), so the browser never names one; a renewal
            // re-authorizes the connection already held.
            ...(existing ? { connection_id: existing.providerConnectionId, channel_definition_id: definition.id } : { use_client_redirect: true }),
          },
          expect: [201],
        },
      );
      const url = parse(z.url(), response.headers.get('location'), 'authorize_url location');
      return { kind: 'redirect', channelId: definition.id, url, ...(existing ? {} : { completion: 'code' as const }) };
    },

    async completeAuthorization({ institutionId, channelId, code, redirectUri }) {
      // A retry whose earlier attempt's answer was lost goes on with what that attempt recorded
      // (heartbeat details): its queue, subscribed before Oxlin created the connection, holds the
      // connection's first LIST_ACCOUNTS events (a queue subscribed now would miss those already
      // sent, e.g. an SMS challenge); and the connection it created is the one to keep, even once
      // the code has expired (Oxlin would refuse it, leaving that connection behind).
      const earlier = earlierCompletion();
      if (earlier?.providerConnectionId) return { providerConnectionId: earlier.providerConnectionId, providerRef: { queueId: earlier.queueId } };
      const queueId = earlier?.queueId ?? (await subscribeQueue());
      recordCompletion({ queueId });
      let created;
      try {
        created = await oxlin.request('POST', '/connections', {
          body: { provider_id: institutionId, channel_definition_id: channelId, redirect_uri: redirectUri, credentials: [{ type: 'AUTHORIZATION_CODE', value: code }] },
          expect: [201],
        });
      } catch (err) {
        if (err instanceof ApplicationFailure && err.type === OxlinFailure.Rejected && statusOf(err) === 400) {
          throw ApplicationFailure.create({ type: AUTHORIZATION_CODE_REFUSED, nonRetryable: true, message: 'Oxlin refused the authorization code.', cause: err });
        }
        throw err;
      }
      const providerConnectionId = connectionIdOf(created.headers.get('location'));
      recordCompletion({ queueId, providerConnectionId });
      return { providerConnectionId, providerRef: { queueId } };
    },

    credentialFields: async (institutionId, channelId) => fieldsOf(await channelDefinition(institutionId, channelId)),

    async submitCredentials({ institutionId, channelId, credentials, existing }) {
      const { keyId, credentials: sent } = await encryptForOxlin(fieldsOf(await channelDefinition(institutionId, channelId)), credentials);
      if (existing) {
        await oxlin.request('PUT', `/connections/${existing.providerConnectionId}/channels/${encodeURIComponent(channelId)}`, {
          body: { id: channelId, ...(keyId ? { key_id: keyId } : {}), credentials: sent },
          expect: [204],
        });
        return existing;
      }
      const queueId = await subscribeQueue();
      const created = await oxlin.request('POST', '/connections', {
        body: { provider_id: institutionId, channel_definition_id: channelId, ...(keyId ? { key_id: keyId } : {}), credentials: sent },
        expect: [201],
      });
      return { providerConnectionId: connectionIdOf(created.headers.get('location')), providerRef: { queueId } };
    },

    /**
     * Follows the connection's event queue until the job ends or asks for user input. Reading
     * the queue consumes events, so a retried attempt may find it empty: the heartbeat keeps the
     * challenge it saw, and the channels' own statuses settle the rest.
     */
    async waitForJob(connection, job, ctx: JobContext): Promise<JobOutcome> {
      const queueId = connection.providerRef.queueId;
      if (!queueId) throw ApplicationFailure.nonRetryable('Oxlin connection has no event queue', 'OxlinMissingQueue');
      const seen = lastChallenge();
      const delays = pollDelays(config.pollIntervalMs);
      for (;;) {
        const events = await oxlin.get(`/queues/${queueId}`, z.array(EventSchema));
        const mine = events.filter((e) => e.resource.id === connection.providerConnectionId);
        for (const event of mine) {
          const outcome = decide(job, event);
          if (outcome?.outcome === 'challenge') ctx.heartbeat({ challenge: outcome.challenge });
          if (outcome) return outcome;
          if (event.event_type === `${JOB_EVENTS[job]}_SUCCESS`) {
            return { outcome: 'success', channels: channelInfo(await connectionResource(connection)) };
          }
        }
        const resource = await connectionResource(connection);
        const channels = resource.channels.filter((c) => c.status !== 'EMPTY' && c.status !== 'NEVER');
        if (channels.length > 0 && !channels.some((c) => c.status === 'RUNNING' || c.status === 'CHALLENGE_REQUIRED')) {
          return channels.some((c) => FAILURES[c.status]) ? failed(channels) : { outcome: 'success', channels: channelInfo(resource) };
        }
        if (seen && channels.some((c) => c.status === 'CHALLENGE_REQUIRED') && mine.length === 0) {
          return { outcome: 'challenge', challenge: seen };
        }
        ctx.heartbeat({ waiting: job });
        await ctx.sleep(delays.next().value);
      }
    },

    async answerChallenge(connection, challenge, answers) {
      const { credentials } = await encryptForOxlin(challenge.fields, answers);
      const path = `/connections/${connection.providerConnectionId}/channels/${encodeURIComponent(challenge.channelId)}/user_input`;
      try {
        await oxlin.request('POST', path, { body: { credentials }, expect: [204] });
      } catch (err) {
        // 409: no challenge waits on the channel any more (Oxlin's deadline passed, or the job ended).
        if (err instanceof ApplicationFailure && err.type === OxlinFailure.Rejected && statusOf(err) === 409) {
          throw ApplicationFailure.create({
            type: UpdateRejection.ChallengeExpired,
            nonRetryable: true,
            message: 'The bank no longer waits for an answer to this challenge.',
            cause: err,
          });
        }
        throw err;
      }
    },

    async listAccounts(connection): Promise<ListedAccount[]> {
      return (await fetchOxlinAccounts(connection)).map((a) => ({
        id: a.id,
        name: a.name,
        type: a.type,
        currency: a.currency,
        ...(a.account_number ? { mask: a.account_number.slice(-4) } : {}),
      }));
    },

    async giveConsent(connection, consents) {
      await oxlin.request('PUT', `/connections/${connection.providerConnectionId}/consents`, { body: { consents }, expect: [204] });
    },

    async startSync(connection) {
      // Events of earlier jobs (Oxlin's own scheduled syncs, already reported by webhook) would
      // otherwise be taken for this sync's outcome.
      const queueId = connection.providerRef.queueId;
      if (queueId) await oxlin.get(`/queues/${queueId}`, z.array(EventSchema));
      // 409: a synchronization is already running, which is what we asked for.
      await oxlin.request('POST', `/connections/${connection.providerConnectionId}/synchronize`, { expect: [202, 409] });
    },

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

    async fetchTransactions(connection, accountId, cursor, since): Promise<Page<TransactionRecord>> {
      const offset = cursor === null ? 0 : Number(cursor);
      const response = await oxlin.request('GET', '/transactions', {
        query: { account_id: accountId, limit: TRANSACTION_PAGE_SIZE, offset, ...(since === null ? {} : { min_date: since }) },
      });
      const transactions = parse(z.array(TransactionSchema), response.body, 'GET /transactions');
      const total = parse(z.coerce.number().int().nonnegative(), response.headers.get('x-total-count'), 'x-total-count');
      const next = offset + transactions.length;
      return {
        // A pending one that expired, was rejected or cancelled never moved money: left out, so the
        // removal check reports it gone.
        items: transactions.filter((t) => !UNSETTLED.has(t.status ?? 'BOOKED')).map((t) => ({
          providerTransactionId: t.id,
          providerAccountId: t.account_id,
          bookedAt: new Date(t.date * 1000).toISOString(),
          amount: t.amount.toFixed(2),
          currency: t.currency,
          label: t.label,
          category: t.category_id === null || t.category_id === undefined ? null : String(t.category_id),
          pending: t.status === 'PENDING',
          // Oxlin does not say which pending transaction a booked one replaces.
          pendingTransactionId: null,
        })),
        nextCursor: transactions.length > 0 && next < total ? String(next) : null,
      };
    },

    async disconnect(connection) {
      await oxlin.request('DELETE', `/connections/${connection.providerConnectionId}`, { expect: [204, 404] });
    },
    // The authorization session behind the URL lives 30 minutes: a Linkflow link opens a new one.
    refreshAuthorizationUrl: (request) => reauthorizing(adapter.authorize)(request),
  };
  return adapter;

  /** A queue on the `connections` topic, subscribed before a connection is created so it holds its LIST_ACCOUNTS events. */
  async function subscribeQueue(): Promise<string> {
    const queue = await oxlin.request('POST', '/queues/subscribe', { body: { topics: ['connections'] }, expect: [201] });
    return parse(z.string().regex(/\/queues\/[^/]+$/), queue.headers.get('location'), 'queue location').split('/').pop() as string;
  }

  function fetchOxlinAccounts(connection: ProviderConnection): Promise<OxlinAccount[]> {
    return oxlin.get('/accounts', z.array(AccountSchema), { connection_id: connection.providerConnectionId });
  }
}

/** The connection id in `POST /connections`' `location` header. */
function connectionIdOf(location: string | null): string {
  return parse(z.string().regex(/\/connections\/[^/]+$/), location, 'connection location').split('/').pop() as string;
}

/** What an earlier attempt of completeAuthorization recorded: its queue, and the connection Oxlin created, if it got that far. */
interface CompletionProgress {
  queueId: string;
  providerConnectionId?: string;
}

function earlierCompletion(): CompletionProgress | null {
  const details = currentActivity()?.info.heartbeatDetails as Partial<CompletionProgress> | undefined;
  if (typeof details?.queueId !== 'string') return null;
  return { queueId: details.queueId, ...(typeof details.providerConnectionId === 'string' ? { providerConnectionId: details.providerConnectionId } : {}) };
}

function recordCompletion(progress: CompletionProgress): void {
  currentActivity()?.heartbeat(progress);
}

/** The challenge a previous attempt of this activity saw (and consumed from the queue), if any. */
function lastChallenge(): Challenge | null {
  const details: unknown = currentActivity()?.info.heartbeatDetails;
  return (details as { challenge?: Challenge } | undefined)?.challenge ?? null;
}

function failed(channels: OxlinChannel[]): Extract<JobOutcome, { outcome: 'failed' }> {
  const channel = channels.find((c) => FAILURES[c.status]);
  return { outcome: 'failed', status: channel ? (FAILURES[channel.status] as ProviderFailure) : 'FAILED', channelId: channel?.channel_definition_id ?? null };
}
