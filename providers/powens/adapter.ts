import { ApplicationFailure } from '@temporalio/common';
import * as openpgp from 'openpgp';
import { z } from 'zod';
import { type Challenge, type ChannelMode, type InputField, type ListedAccount, UNSUPPORTED_MODE, UpdateRejection } from '../../contract/messages';
import type { AccountRecord, TransactionRecord } from '../../contract/records';
import { pollDelays } from '../polling';
import type { AdapterDeps, ChannelInfo, Institution, JobContext, JobOutcome, Page, ProviderAdapter, ProviderConnection, ProviderFailure } from '../types';
import { PowensClient, type PowensConfig, errorCode, failure, parse } from './client';
import {
  AccessTokenSchema,
  AccountSchema,
  AccountsSchema,
  AuthCodeSchema,
  AuthInitSchema,
  ConnectionSchema,
  ConnectorListSchema,
  ConnectorSchema,
  type PowensConnection,
  type PowensConnector,
  type PowensField,
  type PowensSource,
  type PowensState,
  PublicKeySchema,
  TransactionsSchema,
} from './schemas';

const TRANSACTION_PAGE_SIZE = 500;
const KEY_TTL_MS = 3_600_000;

/** The failure type of authorize when every usable source of the connector is on the connection already. */
export const NO_MORE_SOURCES = 'NO_MORE_SOURCES';

/** States that end a job without data, as the lifecycle names them. */
const FAILURES: Record<Exclude<PowensState, 'decoupled' | 'validating' | 'additionalInformationNeeded'>, ProviderFailure> = {
  SCARequired: 'USER_ACTION_REQUIRED',
  webauthRequired: 'USER_ACTION_REQUIRED',
  actionNeeded: 'USER_ACTION_REQUIRED',
  wrongpass: 'AUTH_FAILED',
  passwordExpired: 'PASSWORD_CHANGE_REQUIRED',
  bug: 'FAILED',
  rateLimiting: 'FAILED',
  websiteUnavailable: 'FAILED',
};

/** A user's access token as kept in the secrets store (never in providerRef, which is workflow history). */
const StoredTokenSchema = z.object({ token: z.string().min(1), type: z.enum(['temporary', 'permanent']) });
type StoredToken = z.infer<typeof StoredTokenSchema>;

const tokenKey = (userId: string): string => `user:${userId}:token`;

const modeOf = (source: PowensSource): ChannelMode => (source.auth_mechanism === 'webauth' ? 'redirect' : 'embedded');

/** The sources a client may add, in the order Powens requires: disabled ones skipped, lowest `priority` first. */
export function usableSources(connector: Pick<PowensConnector, 'sources'>): PowensSource[] {
  return connector.sources.filter((source) => !source.disabled).sort((a, b) => a.priority - b.priority);
}

/**
 * The form fields to ask for a source: its own fields for its mechanism, without those of the
 * usable sources before it. Sources are added one after the other in priority order, so those are
 * exactly the sources already on the connection, whose values Powens holds (the reference: "filter
 * out fields that are associated with sources already added").
 */
export function fieldsFor(connector: PowensConnector, source: PowensSource): InputField[] {
  const usable = usableSources(connector);
  const earlier = new Set(usable.slice(0, usable.indexOf(source)).map((candidate) => candidate.name));
  const everySource = connector.sources.map((candidate) => candidate.name);
  return connector.fields
    .filter((field) => (field.auth_mechanisms ?? [source.auth_mechanism]).includes(source.auth_mechanism))
    .filter((field) => {
      const owners = field.connector_sources ?? everySource;
      return owners.includes(source.name) && !owners.some((owner) => earlier.has(owner));
    })
    .map(toInputField);
}

function toInputField(field: PowensField): InputField {
  // A list field without a regex is checked against its values, so Linkflow can pre-validate it.
  const choices = field.values?.map((option) => option.value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return {
    id: field.name,
    label: field.label,
    type: field.type,
    regexp: field.regex ?? (choices ? `^(${choices.join('|')})$` : null),
    required: field.required,
    // The reference: "present the label and description texts with the input control"; a list shows its values' labels.
    ...(field.description ? { description: field.description } : {}),
    ...(field.values ? { values: field.values.map(({ value, label }) => ({ value, label })) } : {}),
    // Powens wants every field value end-to-end encrypted.
    encrypt: true,
  };
}

/** Powens' accounts have a currency object; "XXX" (no currency, ISO 4217) when it has none. */
const currencyOf = (account: { currency?: { id: string } | null }): string => account.currency?.id ?? 'XXX';

function userIdOf(providerRef: Record<string, string>): string {
  const userId = providerRef.userId;
  if (!userId) throw ApplicationFailure.nonRetryable('Powens connection has no user (providerRef.userId)', 'PowensMissingUser');
  return userId;
}

/**
 * The bank refused the credentials (`400 wrongpass`): the provider's refusal (422 `provider_rejected`,
 * the connection's reason AUTH_FAILED), not Linkflow's own field check; the end user is asked again.
 */
function refused(credentials: { id: string }[]): ApplicationFailure {
  return ApplicationFailure.create({
    type: UpdateRejection.ProviderRejected,
    nonRetryable: true,
    message: 'Powens: the bank refused the credentials (wrongpass)',
    details: [{ fields: credentials.map(({ id }) => ({ id, message: 'was refused by the bank' })) }],
  });
}

export function createPowensAdapter(config: PowensConfig, deps: AdapterDeps): ProviderAdapter {
  const powens = new PowensClient(config);
  let fieldKey: { key: openpgp.PublicKey; fetchedAt: number } | null = null;

  // --- the user and its token ---------------------------------------------------

  async function storedToken(userId: string): Promise<StoredToken> {
    const raw = await deps.secrets.get('powens', tokenKey(userId));
    const stored = raw === null ? undefined : StoredTokenSchema.safeParse(safeJson(raw)).data;
    if (!stored) throw ApplicationFailure.nonRetryable(`No Powens access token kept for user ${userId}`, 'PowensMissingToken');
    return stored;
  }

  /** A new (temporary) Powens user for a new connection: its token goes to the secrets store, its id to providerRef. */
  async function newUser(): Promise<string> {
    const response = await powens.request('POST', '/auth/init', { body: { client_id: config.clientId } });
    const user = parse(AuthInitSchema, response.body, 'POST /auth/init');
    const userId = String(user.id_user);
    await deps.secrets.put('powens', tokenKey(userId), JSON.stringify({ token: user.auth_token, type: user.type } satisfies StoredToken));
    return userId;
  }

  /** The user's token, exchanged for a permanent one once a connection exists (once: the stored type says so). */
  async function permanentToken(userId: string): Promise<string> {
    const stored = await storedToken(userId);
    if (stored.type === 'permanent') return stored.token;
    const response = await powens.request('POST', '/auth/token/access', {
      body: { grant_type: 'authorization_code', code: stored.token, client_id: config.clientId, client_secret: config.clientSecret },
    });
    const { access_token } = parse(AccessTokenSchema, response.body, 'POST /auth/token/access');
    await deps.secrets.put('powens', tokenKey(userId), JSON.stringify({ token: access_token, type: 'permanent' } satisfies StoredToken));
    return access_token;
  }

  const tokenOf = async (connection: ProviderConnection): Promise<string> => (await storedToken(userIdOf(connection.providerRef))).token;

  // --- connectors and encryption -----------------------------------------------

  async function connectorOf(institutionId: string): Promise<PowensConnector> {
    const unsupported = () => ApplicationFailure.nonRetryable(`Powens has no connector ${institutionId}`, 'UnsupportedInstitution');
    if (!/^[\w-]{1,64}$/.test(institutionId)) throw unsupported();
    const response = await powens.request('GET', `/connectors/${institutionId}`, { query: { expand: 'sources,fields' }, expect: [200, 404] });
    if (response.status === 404) throw unsupported();
    return parse(ConnectorSchema, response.body, 'GET /connectors/{id}');
  }

  function sourceNamed(connector: PowensConnector, name: string): PowensSource {
    const source = usableSources(connector).find((candidate) => candidate.name === name);
    if (!source) throw ApplicationFailure.nonRetryable(`Powens connector ${connector.id} has no usable source ${name}`, 'UnsupportedInstitution');
    return source;
  }

  /** Every value encrypted with Powens' public key (GET /publickey), as the reference requires of all field values. */
  async function encryptAll(values: { id: string; value: string }[]): Promise<Record<string, string>> {
    if (!fieldKey || fieldKey.fetchedAt < Date.now() - KEY_TTL_MS) {
      const { public_key } = await powens.get('/publickey', PublicKeySchema);
      fieldKey = { key: await openpgp.readKey({ armoredKey: public_key }), fetchedAt: Date.now() };
    }
    const encryptionKeys = fieldKey.key;
    const entries = await Promise.all(
      values.map(async ({ id, value }) => {
        const message = await openpgp.createMessage({ text: value });
        return [id, await openpgp.encrypt({ message, encryptionKeys, format: 'armored' })] as const;
      }),
    );
    return Object.fromEntries(entries);
  }

  // --- connections -------------------------------------------------------------

  const connectionPath = (connection: ProviderConnection) => `/users/me/connections/${encodeURIComponent(connection.providerConnectionId)}`;

  const readConnection = (token: string, connection: ProviderConnection): Promise<PowensConnection> =>
    powens.get(connectionPath(connection), ConnectionSchema, { token, query: { expand: 'sources' } });

  /** The connection's sources as channels: id = source name, mode from its mechanism, expiry from its access. */
  async function channelsOf(resource: PowensConnection): Promise<ChannelInfo[]> {
    const connector = await connectorOf(String(resource.id_connector));
    return (resource.sources ?? [])
      .filter((source) => !source.disabled)
      .flatMap((source) => {
        const definition = connector.sources.find((candidate) => candidate.name === source.name);
        return definition ? [{ id: source.name, mode: modeOf(definition), expiresAt: source.access_expire ?? null }] : [];
      });
  }

  /** What the connection's state means for a job: an end, a question for the end user, or null to keep waiting. */
  async function decide(resource: PowensConnection): Promise<JobOutcome | null> {
    const state = resource.state ?? null;
    if (state === null) return resource.last_update ? { outcome: 'success', channels: await channelsOf(resource) } : null;
    // The bank waits for the end user elsewhere (their bank's app): the job goes on.
    if (state === 'decoupled' || state === 'validating') return null;
    const channelId = resource.sources?.find((source) => source.state === state)?.name ?? resource.sources?.[0]?.name ?? null;
    if (state === 'additionalInformationNeeded' && channelId !== null && (resource.fields ?? []).length > 0) {
      const challenge: Challenge = {
        channelId,
        fields: (resource.fields ?? []).map(toInputField),
        messages: resource.error_message ? [{ id: 'error_message', type: 'ERROR_MSG', text: resource.error_message }] : [],
        timeoutSeconds: null,
      };
      return { outcome: 'challenge', challenge };
    }
    const status = state === 'additionalInformationNeeded' ? 'USER_ACTION_REQUIRED' : FAILURES[state];
    return { outcome: 'failed', status, channelId };
  }

  async function accountsOf(connection: ProviderConnection, all: boolean) {
    const response = await powens.get(`${connectionPath(connection)}/accounts`, AccountsSchema, {
      token: await tokenOf(connection),
      ...(all ? { query: { all: '' } } : {}),
    });
    return response.accounts.filter((account) => !account.deleted);
  }

  return {
    /**
     * `GET /connectors?expand=sources`: each connector with a usable source. Its mode is that of
     * the first usable source, the only one authorize starts a new connection with (the next ones
     * are added later as channels, in priority order); a connector without one is left out.
     */
    async listInstitutions() {
      const { connectors } = await powens.get('/connectors', ConnectorListSchema, { query: { expand: 'sources' } });
      return connectors.flatMap((connector): Institution[] => {
        const first = usableSources(connector)[0];
        return first ? [{ provider: 'powens', id: String(connector.id), name: connector.name, country: null, modes: [modeOf(first)] }] : [];
      });
    },

    /**
     * The next source to authorize: the first usable one for a new connection, the next one not on
     * the connection when adding (`existing` without a channel), or that channel again (renewal,
     * repair). Its mechanism decides the kind, whatever `mode` asked: Powens wants the order kept.
     */
    async authorize({ institutionId, mode, redirectUri, state, existing }) {
      const connector = await connectorOf(institutionId);
      // Sources are added in priority order, so the next one decides the mechanism: a client asking for the
      // other mode is refused (UNSUPPORTED_MODE), never sent through a channel it did not ask for.
      const refuseOtherMode = (next: PowensSource) => {
        if (modeOf(next) !== mode) {
          throw ApplicationFailure.nonRetryable(`The next source of Powens connector ${connector.id} is ${modeOf(next)}, not ${mode}`, UNSUPPORTED_MODE);
        }
      };
      if (!existing) {
        const first = usableSources(connector)[0];
        if (!first) throw ApplicationFailure.nonRetryable(`Powens connector ${connector.id} has no usable source`, 'UnsupportedInstitution');
        refuseOtherMode(first);
      }
      const userId = existing ? userIdOf(existing.providerRef) : await newUser();
      let source: PowensSource | undefined;
      if (existing?.channelId) {
        source = sourceNamed(connector, existing.channelId);
      } else if (existing) {
        const token = (await storedToken(userId)).token;
        const added = new Set((await readConnection(token, existing)).sources?.map((candidate) => candidate.name));
        source = usableSources(connector).find((candidate) => !added.has(candidate.name));
        if (!source) throw ApplicationFailure.nonRetryable(`Every usable source of Powens connector ${connector.id} is on the connection`, NO_MORE_SOURCES);
        refuseOtherMode(source);
      } else {
        source = usableSources(connector)[0];
        if (!source) throw ApplicationFailure.nonRetryable(`Powens connector ${connector.id} has no usable source`, 'UnsupportedInstitution');
      }
      const providerRef = { userId };
      if (source.auth_mechanism === 'credentials') return { kind: 'credentials', channelId: source.name, fields: fieldsFor(connector, source), providerRef };

      // webauth: the webview, opened with a temporary code rather than the user's token. The token is
      // made permanent first: the link may be opened after the temporary one's 30 minutes (refreshAuthorizationUrl).
      const token = await permanentToken(userId);
      const { code } = await powens.get('/auth/token/code', AuthCodeSchema, { token });
      const url = new URL(`${(config.webviewUrl ?? config.baseUrl).replace(/\/+$/, '')}/${existing ? 'reconnect' : 'connect'}`);
      const params: Record<string, string> = {
        domain: new URL(config.baseUrl).host,
        client_id: config.clientId,
        redirect_uri: redirectUri,
        code,
        state,
        source: source.name,
        ...(existing ? { connection_id: existing.providerConnectionId } : { connector_ids: String(connector.id) }),
      };
      for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
      return { kind: 'redirect', channelId: source.name, url: url.toString(), providerRef };
    },

    /** The webview URL with a new `code` (they live 30 minutes), minted with the user's token. */
    async refreshAuthorizationUrl({ url, providerRef }) {
      const fresh = new URL(url);
      if (!fresh.searchParams.has('code')) return url;
      const { code } = await powens.get('/auth/token/code', AuthCodeSchema, { token: await permanentToken(userIdOf(providerRef)) });
      fresh.searchParams.set('code', code);
      return fresh.toString();
    },

    async credentialFields(institutionId, channelId) {
      const connector = await connectorOf(institutionId);
      return fieldsFor(connector, sourceNamed(connector, channelId));
    },

    async submitCredentials({ institutionId, channelId, credentials, providerRef, existing }) {
      const userId = userIdOf({ ...existing?.providerRef, ...providerRef });
      const token = (await storedToken(userId)).token;
      const values = await encryptAll(credentials);
      const query = { source: channelId };
      const what = existing ? 'POST /users/me/connections/{id}' : 'POST /users/me/connections';
      const response = existing
        ? await powens.request('POST', connectionPath(existing), { token, query, body: values, expect: [200, 400] })
        : await powens.request('POST', '/users/me/connections', {
            token,
            query,
            body: { id_connector: (await connectorOf(institutionId)).id, ...values },
            expect: [200, 201, 400],
          });
      // wrongpass: Powens created nothing; the end user is asked again.
      if (response.status === 400) throw errorCode(response) === 'wrongpass' ? refused(credentials) : failure(what, response);
      const connection = parse(ConnectionSchema, response.body, what);
      await permanentToken(userId);
      return { providerConnectionId: String(connection.id), providerRef: { userId } };
    },

    /**
     * Reads the connection until its state settles. Powens syncs while answering (creation, the
     * webview, PUT), so a job has usually ended by the first read; a decoupled authentication
     * waits for the end user's app, polled with heartbeats.
     */
    async waitForJob(connection, _job, ctx: JobContext): Promise<JobOutcome> {
      // The first call once a connection exists (a webview one included): the user is kept for good.
      const token = await permanentToken(userIdOf(connection.providerRef));
      const delays = pollDelays(config.pollIntervalMs);
      for (;;) {
        const resource = await readConnection(token, connection);
        const outcome = await decide(resource);
        if (outcome) return outcome;
        ctx.heartbeat({ waiting: resource.state ?? 'first sync' });
        await ctx.sleep(delays.next().value);
      }
    },

    async answerChallenge(connection, _challenge, answers) {
      await powens.request('POST', connectionPath(connection), { token: await tokenOf(connection), body: await encryptAll(answers) });
    },

    async listAccounts(connection): Promise<ListedAccount[]> {
      // With `all`: accounts stay disabled until the end user consents, and are listed all the same.
      return (await accountsOf(connection, true)).map((account) => {
        const mask = (account.number ?? account.iban)?.slice(-4);
        return { id: String(account.id), name: account.name, type: account.type, currency: currencyOf(account), ...(mask ? { mask } : {}) };
      });
    },

    async giveConsent(connection, consents) {
      const token = await tokenOf(connection);
      for (const { account_id, consent } of consents) {
        // `all`: a disabled account is found only with it. One Powens no longer has counts as done.
        await powens.request('PUT', `/users/me/accounts/${encodeURIComponent(account_id)}`, {
          token,
          query: { all: '' },
          body: { disabled: !consent },
          expect: [200, 404],
        });
      }
    },

    async startSync(connection) {
      await powens.request('PUT', connectionPath(connection), { token: await tokenOf(connection) });
    },

    async fetchAccounts(connection): Promise<AccountRecord[]> {
      // Without `all`: only the activated accounts.
      return (await accountsOf(connection, false)).map((account) => ({
        providerAccountId: String(account.id),
        name: account.name,
        type: account.type,
        currency: currencyOf(account),
        balance: account.balance === null || account.balance === undefined ? null : account.balance.toFixed(2),
        iban: account.iban ?? null,
        accountNumber: account.number ?? null,
      }));
    },

    async fetchTransactions(connection, accountId, cursor, since): Promise<Page<TransactionRecord>> {
      const token = await tokenOf(connection);
      const path = `/users/me/accounts/${encodeURIComponent(accountId)}`;
      const currency = currencyOf(await powens.get(path, AccountSchema, { token }));
      const offset = cursor === null ? 0 : Number(cursor);
      const { transactions, total } = await powens.get(`${path}/transactions`, TransactionsSchema, {
        token,
        query: { limit: TRANSACTION_PAGE_SIZE, offset, ...(since === null ? {} : { min_date: since }) },
      });
      const next = offset + transactions.length;
      return {
        // `coming`: not debited yet (pending). Deleted ones are left out: the removal check reports them gone.
        items: transactions
          .filter((t) => !t.deleted)
          .map((t) => ({
            providerTransactionId: String(t.id),
            providerAccountId: String(t.id_account),
            bookedAt: `${t.date}T00:00:00.000Z`,
            amount: t.value.toFixed(2),
            currency,
            label: t.original_wording ?? t.wording ?? '',
            category: t.id_category === null || t.id_category === undefined ? null : String(t.id_category),
            pending: t.coming,
            // Powens does not say which coming transaction a debited one replaces.
            pendingTransactionId: null,
          })),
        nextCursor: transactions.length > 0 && next < total ? String(next) : null,
      };
    },

    /** Removes the connection and its Powens user (one per Linkflow connection), then forgets the token. */
    /**
     * Powens lists connections per user, and each Linkflow connection has its own user (from
     * /auth/init): a connection id the webview redirect names is this authorization's only if this
     * user's token can read it (another user's is a 404).
     */
    async ownsConnection(candidate) {
      const token = await permanentToken(userIdOf(candidate.providerRef));
      const response = await powens.request('GET', connectionPath(candidate), { token, expect: [200, 404] });
      return response.status === 200;
    },

    async disconnect(connection) {
      const userId = userIdOf(connection.providerRef);
      const raw = await deps.secrets.get('powens', tokenKey(userId));
      const token = raw === null ? undefined : StoredTokenSchema.safeParse(safeJson(raw)).data?.token;
      if (token === undefined) return; // forgotten by an earlier attempt: already removed
      await powens.request('DELETE', connectionPath(connection), { token, expect: [204, 404] });
      await powens.request('DELETE', '/users/me', { token, expect: [204, 401, 404] });
      await deps.secrets.delete('powens', tokenKey(userId));
    },
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
