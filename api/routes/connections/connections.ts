import Router from '@koa/router';
import type { Middleware } from 'koa';
import type { StateSigner } from '../../../domain/redirect-state';
import type { LinkMinter } from '../../../domain/links';
import { decodeTransactionCursor } from '../../../store';
import { createCursors } from './cursors';
import type { TransactionCursor } from '../../../store/repository';
import { allows, statesAllowing } from '../../../contract/lifecycle';
import {
  ConnectionStateSchema,
  ProviderSchema,
  type ConnectionView,
  addChannelUpdate,
  answerChallengeUpdate,
  disconnectRequestedSignal,
  giveConsentUpdate,
  requestRenewalUpdate,
  submitCredentialsUpdate,
  syncRequestedSignal,
} from '../../../contract/messages';
import { ApiError, notFound } from '../../errors';
import { tenantOf } from '../../auth';
import { openConnection, ownedConnection, readConnection, runUpdate } from '../../temporal';
import { parseBody, parseQuery } from '../../validate';
import {
  ChallengeAnswersSchema,
  ChannelSchema,
  ConsentSchema,
  CreateConnectionSchema,
  CredentialsSchema,
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
import { type ConnectionStarter, type ConnectionStarterDeps, settled } from './start';
import { encryptedChallengeAnswers } from './challenge';
import { presentView, NEEDS_ACTION_ATTRIBUTE, PROVIDER_ATTRIBUTE, STATE_ATTRIBUTE, USER_REF_ATTRIBUTE, searchAttribute, transactionBody } from './presenters';

/** What the connection routes need: the connection starter the Connect sessions share (start.ts), and the rest. */
export interface ConnectionRoutesDeps extends Pick<ConnectionStarterDeps, 'client' | 'repository'> {
  /** Starts connections (POST /v1/connections); one per app, shared with POST /v1/connect-sessions. */
  starter: ConnectionStarter;
  /** Seals list cursors (the redirect-state secret). */
  stateSigner: StateSigner;
  /** Turns the provider URLs of views into Linkflow links (every view this router answers with). */
  links: LinkMinter;
  /** Linkflow's credentials public key: the API encrypts challenge answers with it. */
  credentialsPublicKey: string;
  /** Resolves the calling tenant (401 without a valid API key). */
  auth: Middleware;
}

export function connectionRoutes(deps: ConnectionRoutesDeps): Router {
  const { client, repository, starter } = deps;
  /** A view as the API answers it: `next_action.url` of a redirect is a Linkflow link (presenters.ts). */
  const present = (view: ConnectionView) => presentView(deps.links, view);
  const router = new Router({ prefix: '/v1/connections', sensitive: true });
  router.use(deps.auth);

  router.post('/', async (ctx) => {
    const body = parseBody(CreateConnectionSchema, ctx.request.body);
    // Present but empty (Node trims blanks to '') is a malformed key, not a request without one.
    const idempotencyKey = ctx.headers['idempotency-key'] === undefined ? null : ctx.get('idempotency-key');
    const started = await starter.start(tenantOf(ctx).id, body, idempotencyKey);
    if (started.replayed) {
      ctx.set('idempotent-replayed', 'true');
      ctx.body = present(started.view);
      return;
    }
    // Started; 202 when its first next action had not come yet (GET it, or wait for its webhook event).
    ctx.status = started.pending ? 202 : 201;
    ctx.set('location', `/v1/connections/${started.view.id}`);
    ctx.body = present(started.view);
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
    // The workflow (and so its history) only ever sees the answers encrypted.
    const encrypted = await encryptedChallengeAnswers(view.next_action.fields, answers, deps.credentialsPublicKey);
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
