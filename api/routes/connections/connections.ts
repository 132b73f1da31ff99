import { createHash, randomUUID } from 'node:crypto';
import Router from '@koa/router';
import canonicalize from 'canonicalize';
import type { Middleware } from 'koa';
import { type Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { checkFields, encryptForLinkflow } from '../../../domain/credentials';
import type { StateSigner } from '../../../domain/redirect-state';
import type { LinkMinter } from '../../../domain/links';
import type { Repository } from '../../../store';
import { decodeTransactionCursor } from '../../../store';
import { createCursors } from './cursors';
import type { TransactionCursor } from '../../../store/repository';
import { allows, statesAllowing } from '../../../contract/lifecycle';
import {
  ConnectionStateSchema,
  PROVIDER_CAPABILITIES,
  ProviderSchema,
  type ConnectionInput,
  type ConnectionView,
  type ProviderName,
  UNSUPPORTED_MODE,
  addChannelUpdate,
  answerChallengeUpdate,
  disconnectRequestedSignal,
  giveConsentUpdate,
  requestRenewalUpdate,
  submitCredentialsUpdate,
  syncRequestedSignal,
  workflowIdFor,
} from '../../../contract/messages';
import { ApiError, notFound } from '../../errors';
import { tenantOf } from '../../auth';
import { openConnection, ownedConnection, readConnection, runUpdate } from '../../temporal';
import { parseBody, parseQuery } from '../../validate';
import {
  ChallengeAnswersSchema,
  ChannelSchema,
  ConsentSchema,
  type CreateConnection,
  CreateConnectionSchema,
  CredentialsSchema,
  IdempotencyKeySchema,
  BalancesQuerySchema,
  ListConnectionsQuerySchema,
  SyncBodySchema,
  TransactionChangesQuerySchema,
  TransactionsQuerySchema,
  AccountListSchema,
  BalanceHistorySchema,
  ConnectionListSchema,
  TransactionChangesSchema,
  TransactionPageSchema,
} from './schema';
import { respond } from '../../respond';
import { presentView, NEEDS_ACTION_ATTRIBUTE, PROVIDER_ATTRIBUTE, STATE_ATTRIBUTE, TENANT_ATTRIBUTE, USER_REF_ATTRIBUTE, searchAttribute, transactionBody } from './presenters';

export interface ConnectionRoutesDeps {
  client: Client;
  repository: Repository;
  /** Builds Linkflow's callback URL for a provider, e.g. https://linkflow.example/callbacks/oxlin. */
  callbackUrl(provider: string): string;
  /** Seals list cursors (the redirect-state secret). */
  stateSigner: StateSigner;
  /** Turns the provider URLs of views into Linkflow links (every view this router answers with). */
  links: LinkMinter;
  /** The providers this deployment has settings for. */
  providers: readonly ProviderName[];
  /** Linkflow's credentials public key: the API encrypts challenge answers with it. */
  credentialsPublicKey: string;
  defaults: {
    syncIntervalSeconds: number;
    redirectTimeoutSeconds: number;
    consentTimeoutSeconds: number;
    renewalLeadSeconds: number;
  };
  taskQueue: string;
  /** Resolves the calling tenant (401 without a valid API key). */
  auth: Middleware;
}

/** How long POST /v1/connections waits for the first next action before answering with `authorizing`. */
const FIRST_ACTION_WAIT_MS = 10_000;
/** A UUID (v5 layout) from the tenant and its Idempotency-Key: the same pair, the same connection. */
function idempotentId(tenantId: string, key: string): string {
  const bytes = createHash('sha256').update(`${tenantId}\0${key}`).digest().subarray(0, 16);
  bytes[6] = ((bytes[6] as number) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
/**
 * What an Idempotency-Key promises to repeat: the method, the path and the body as the route
 * parsed it (defaults filled in), canonical JSON (RFC 8785, so key order and spacing do not count),
 * hashed. Any other request under the same key is a 422, never a replay of the first.
 */
function requestFingerprint(method: string, path: string, body: CreateConnection): string {
  return createHash('sha256').update(`${method} ${path}\n${canonicalize(body) ?? ''}`).digest('hex');
}
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

export function connectionRoutes(deps: ConnectionRoutesDeps): Router {
  const { client, repository } = deps;
  /** A view as the API answers it: `next_action.url` of a redirect is a Linkflow link (presenters.ts). */
  const present = (view: ConnectionView) => presentView(deps.links, view);
  const router = new Router({ prefix: '/v1/connections' });
  router.use(deps.auth);

  router.post('/', async (ctx) => {
    const body = parseBody(CreateConnectionSchema, ctx.request.body);
    if (!deps.providers.includes(body.provider)) {
      throw new ApiError(422, 'provider_not_configured', `${body.provider} is not configured on this Linkflow.`, { providers: deps.providers });
    }
    const { modes } = PROVIDER_CAPABILITIES[body.provider];
    if (!modes.includes(body.mode)) {
      throw new ApiError(422, 'unsupported_mode', `${body.provider} connections support mode ${modes.join(' or ')}, not ${body.mode}.`, {
        supported_modes: modes,
      });
    }
    const tenant = tenantOf(ctx);
    // Present but empty (Node trims blanks to '') is a malformed key, not a request without one.
    const keyGiven = ctx.headers['idempotency-key'] !== undefined;
    const idempotencyKey = ctx.get('idempotency-key');
    if (keyGiven && !IdempotencyKeySchema.safeParse(idempotencyKey).success) {
      throw new ApiError(400, 'invalid_idempotency_key', 'Idempotency-Key must be printable ASCII, at most 255 characters.');
    }
    // The same key always names the same connection: Temporal's workflow-id uniqueness makes it idempotent,
    // and the store keeps which request the key was first used for.
    const connectionId = idempotencyKey ? idempotentId(tenant.id, idempotencyKey) : randomUUID();
    if (idempotencyKey) {
      const fingerprint = requestFingerprint('POST', '/v1/connections', body);
      if ((await repository.rememberIdempotentRequest(tenant.id, sha256(idempotencyKey), fingerprint, connectionId)) !== fingerprint) {
        throw new ApiError(422, 'idempotency_key_reused', 'This Idempotency-Key was used for a different request.');
      }
    }
    const input: ConnectionInput = {
      connectionId,
      tenantId: tenant.id,
      provider: body.provider,
      institutionId: body.institution_id,
      ...(body.user_ref ? { userRef: body.user_ref } : {}),
      redirectUrl: body.redirect_url,
      callbackUrl: deps.callbackUrl(body.provider),
      mode: body.mode,
      syncIntervalSeconds: body.sync_interval_seconds ?? deps.defaults.syncIntervalSeconds,
      redirectTimeoutSeconds: body.redirect_timeout_seconds ?? deps.defaults.redirectTimeoutSeconds,
      consentTimeoutSeconds: body.consent_timeout_seconds ?? deps.defaults.consentTimeoutSeconds,
      renewalLeadSeconds: body.renewal_lead_seconds ?? deps.defaults.renewalLeadSeconds,
    };
    const handle = client.workflow.getHandle(workflowIdFor(connectionId));
    try {
      await client.workflow.start('connectionWorkflow', {
        taskQueue: deps.taskQueue,
        workflowId: workflowIdFor(connectionId),
        args: [input],
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        // Set at start (not upserted by the workflow) so operators can filter by tenant from the first event.
        typedSearchAttributes: [{ key: TENANT_ATTRIBUTE, value: tenant.id }],
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError) || !idempotencyKey) throw err;
      // Keys first used before the store kept their request (migration 012) are checked on what the connection shows.
      const existing = await readConnection(handle);
      const same =
        existing.tenant_id === tenant.id &&
        existing.provider === body.provider &&
        existing.institution_id === body.institution_id &&
        existing.redirect_url === body.redirect_url;
      if (!same) {
        throw new ApiError(422, 'idempotency_key_reused', 'This Idempotency-Key was used for a different request.');
      }
      ctx.set('idempotent-replayed', 'true');
      ctx.body = present(existing);
      return;
    }
    const first = await firstAction(() => readConnection(handle));
    // The institution has no channel of this mode to start with (a Powens connector whose first source has the
    // other mechanism): refused, never served in another mode. The connection has ended `failed`.
    if (first.state === 'failed' && first.reason === UNSUPPORTED_MODE) {
      const supported = modes.filter((m) => m !== body.mode);
      throw new ApiError(422, 'unsupported_mode', `${body.institution_id} at ${body.provider} starts with mode ${supported.join(' or ')}, not ${body.mode}.`, {
        supported_modes: supported,
      });
    }
    ctx.status = 201;
    ctx.set('location', `/v1/connections/${connectionId}`);
    ctx.body = present(first);
  });

  router.get('/', async (ctx) => {
    const query = parseQuery(ListConnectionsQuerySchema, ctx.query);
    const tenant = tenantOf(ctx);
    // Every value below is an enum or matched a restricted pattern: nothing to escape.
    const filters = [
      `WorkflowType = 'connectionWorkflow'`,
      `ExecutionStatus != 'ContinuedAsNew'`,
      `LinkflowTenant = '${tenant.id}'`,
      ...(query.state ? [`LinkflowState = '${query.state}'`] : []),
      ...(query.provider ? [`LinkflowProvider = '${query.provider}'`] : []),
      ...(query.user_ref ? [`LinkflowUserRef = '${query.user_ref}'`] : []),
      ...(query.needs_action ? [`LinkflowNeedsAction = ${query.needs_action}`] : []),
    ];
    const visibilityQuery = filters.join(' AND ');
    // The cursor is Temporal's page token, sealed together with the query it pages through.
    let nextPageToken: Buffer | undefined;
    if (query.cursor) {
      const [token, forQuery] = JSON.parse(deps.stateSigner.unseal(query.cursor) ?? '[null,null]') as [string | null, string | null];
      if (!token || forQuery !== visibilityQuery) {
        throw new ApiError(400, 'invalid_cursor', 'The cursor is not one this API returned for these filters.');
      }
      nextPageToken = Buffer.from(token, 'base64');
    }
    const page = await client.workflowService.listWorkflowExecutions({
      namespace: client.options.namespace,
      query: visibilityQuery,
      pageSize: query.limit,
      nextPageToken,
    });
    ctx.body = respond(ConnectionListSchema, {
      data: (page.executions ?? []).map((execution) => {
        const fields = execution.searchAttributes?.indexedFields;
        return {
          id: (execution.execution?.workflowId ?? '').replace(/^connection-/, ''),
          // Written by the workflow; anything else reads as unknown (null), never as an undocumented value.
          provider: ProviderSchema.safeParse(searchAttribute(fields, PROVIDER_ATTRIBUTE, 'string')).data ?? null,
          state: ConnectionStateSchema.safeParse(searchAttribute(fields, STATE_ATTRIBUTE, 'string')).data ?? null,
          needs_action: searchAttribute(fields, NEEDS_ACTION_ATTRIBUTE, 'boolean') ?? false,
          user_ref: searchAttribute(fields, USER_REF_ATTRIBUTE, 'string') ?? null,
        };
      }),
      next_cursor: page.nextPageToken?.length
        ? deps.stateSigner.seal(JSON.stringify([Buffer.from(page.nextPageToken).toString('base64'), visibilityQuery]))
        : null,
    });
  });

  const cursors = createCursors(deps.stateSigner);
  type Ctx = { params: Record<string, string | undefined> } & Parameters<typeof tenantOf>[0];
  const owned = (ctx: Ctx) => ownedConnection(client, ctx.params.id, tenantOf(ctx).id);
  /** For the routes that act on a connection: one that has ended is a 409 `wrong_state` (GET still reads it). */
  const open = (ctx: Ctx) => openConnection(client, ctx.params.id, tenantOf(ctx).id);

  router.get('/:id', async (ctx) => {
    ctx.body = present((await owned(ctx)).view);
  });

  router.delete('/:id', async (ctx) => {
    const { handle } = await open(ctx);
    await handle.signal(disconnectRequestedSignal);
    ctx.status = 202;
    ctx.body = present(await settled(() => readConnection(handle), (v) => v.state === 'disconnected'));
  });

  router.post('/:id/sync', async (ctx) => {
    const { handle, view } = await open(ctx);
    // The body is optional: none (or {}) syncs as usual; {"full": true} reads every transaction again.
    const request = parseBody(SyncBodySchema, ctx.request.body);
    if (!allows(view.state, 'sync')) throw wrongState(view, statesAllowing('sync').join(', '));
    await handle.signal(syncRequestedSignal, request);
    ctx.status = 202;
    ctx.body = present(view);
  });

  router.put('/:id/consents', async (ctx) => {
    const { handle } = await open(ctx);
    const body = parseBody(ConsentSchema, ctx.request.body);
    ctx.body = present(await runUpdate(handle, () => handle.executeUpdate(giveConsentUpdate, { args: [body] })));
  });

  router.post('/:id/credentials', async (ctx) => {
    const { handle } = await open(ctx);
    const body = parseBody(CredentialsSchema, ctx.request.body);
    ctx.body = present(
      await runUpdate(handle, () => handle.executeUpdate(submitCredentialsUpdate, { args: [body] }), {
        InvalidCredentials: 'invalid_credentials',
        ProviderRejected: 'provider_rejected',
      }),
    );
  });

  router.post('/:id/challenge', async (ctx) => {
    const { handle, view } = await open(ctx);
    const { answers } = parseBody(ChallengeAnswersSchema, ctx.request.body);
    if (view.next_action?.type !== 'challenge') throw wrongState(view, 'challenge_required');
    const { fields } = view.next_action;
    const errors = checkFields(fields, answers, false);
    // A confirmation (OK_CANCEL) is always answered; the other inputs unless the end user cancels.
    const cancelled = answers.some((a) => fields.find((f) => f.id === a.id)?.type === 'OK_CANCEL' && a.value === 'false');
    for (const field of fields) {
      if (!answers.some((a) => a.id === field.id) && (field.type === 'OK_CANCEL' || !cancelled)) {
        errors.push({ id: field.id, message: `${field.label} is required` });
      }
    }
    if (errors.length > 0) throw new ApiError(422, 'invalid_answers', 'Some answers are not valid.', { fields: errors });
    // The workflow (and so its history) only ever sees the answers encrypted.
    const encrypted = await Promise.all(
      answers.map(async (a) => ({ id: a.id, value: await encryptForLinkflow(deps.credentialsPublicKey, a.value) })),
    );
    ctx.body = present(
      await runUpdate(handle, () => handle.executeUpdate(answerChallengeUpdate, { args: [{ answers: encrypted }] }), {
        InvalidCredentials: 'invalid_answers',
        ProviderRejected: 'provider_rejected',
        ChallengeExpired: 'challenge_expired',
      }),
    );
  });

  router.post('/:id/channels', async (ctx) => {
    const { handle } = await open(ctx);
    const body = parseBody(ChannelSchema, ctx.request.body);
    ctx.body = present(await runUpdate(handle, () => handle.executeUpdate(addChannelUpdate, { args: [body] })));
  });

  router.post('/:id/renewal', async (ctx) => {
    const { handle } = await open(ctx);
    ctx.body = present(await runUpdate(handle, () => handle.executeUpdate(requestRenewalUpdate)));
  });

  router.get('/:id/accounts', async (ctx) => {
    const { id } = await owned(ctx);
    const accounts = await repository.listAccounts(id);
    ctx.body = respond(AccountListSchema, {
      data: accounts.map((a) => ({
        id: a.providerAccountId,
        name: a.name,
        type: a.type,
        currency: a.currency,
        balance: a.balance,
        iban: a.iban,
        account_number: a.accountNumber,
        updated_at: a.updatedAt,
      })),
    });
  });

  router.get('/:id/accounts/:account_id/balances', async (ctx) => {
    const { id } = await owned(ctx);
    const query = parseQuery(BalancesQuerySchema, ctx.query);
    const accountId = ctx.params.account_id ?? '';
    if (!(await repository.listAccounts(id)).some((a) => a.providerAccountId === accountId)) throw notFound('account');
    const points = await repository.listBalances(id, accountId, query.limit);
    ctx.body = respond(BalanceHistorySchema, { data: points.map((p) => ({ as_of: p.asOf, balance: p.balance, currency: p.currency })) });
  });

  router.get('/:id/transactions/sync', async (ctx) => {
    const { id } = await owned(ctx);
    const query = parseQuery(TransactionChangesQuerySchema, ctx.query);
    const after = query.cursor === undefined ? '0' : cursors.decodeChanges(id, query.cursor);
    if (after === null) throw invalidCursor();
    // A cursor past every change of the connection was never issued for what the store holds.
    if (BigInt(after) > BigInt(await repository.lastChangeSeq(id))) throw invalidCursor();
    const changes = await repository.transactionChanges(id, after, query.limit);
    ctx.body = respond(TransactionChangesSchema, {
      added: changes.added.map(transactionBody),
      modified: changes.modified.map(transactionBody),
      removed: changes.removed.map((t) => ({ id: t.providerTransactionId, account_id: t.providerAccountId })),
      next_cursor: cursors.encodeChanges(id, changes.lastSeq),
      has_more: changes.hasMore,
    });
  });

  router.get('/:id/transactions', async (ctx) => {
    const { id } = await owned(ctx);
    const query = parseQuery(TransactionsQuerySchema, ctx.query);
    let after: TransactionCursor | undefined;
    if (query.cursor !== undefined) {
      const position = cursors.decodeList(id, query.cursor);
      const decoded = position === null ? null : decodeTransactionCursor(position);
      if (decoded === null) throw invalidCursor();
      after = decoded;
    }
    const page = await repository.listTransactions(id, {
      limit: query.limit,
      ...(query.account_id ? { accountId: query.account_id } : {}),
      ...(after ? { after } : {}),
    });
    ctx.body = respond(TransactionPageSchema, { data: page.transactions.map(transactionBody), next_cursor: page.nextCursor && cursors.encodeList(id, page.nextCursor) });
  });

  return router;
}

const invalidCursor = () => new ApiError(400, 'invalid_cursor', 'The cursor is not one this API returned for this connection.');

const wrongState = (view: ConnectionView, allowed: string) =>
  new ApiError(409, 'wrong_state', `allowed only in state ${allowed}; the connection is ${view.state}`, { state: view.state });

/** A new connection is worth returning once it offers its first next action (authorize URL or fields). */
const firstAction = (read: () => Promise<ConnectionView>) => settled(read, (v) => v.state !== 'authorizing');

async function settled(read: () => Promise<ConnectionView>, done: (v: ConnectionView) => boolean): Promise<ConnectionView> {
  const deadline = Date.now() + FIRST_ACTION_WAIT_MS;
  let view = await read();
  while (!done(view) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    view = await read();
  }
  return view;
}
