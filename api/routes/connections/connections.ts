import { randomUUID } from 'node:crypto';
import Router from '@koa/router';
import type { Middleware } from 'koa';
import type { Client } from '@temporalio/client';
import { SearchAttributeType, defineSearchAttributeKey } from '@temporalio/common';
import { checkFields, encryptForLinkflow } from '../../../activities/credentials';
import type { Repository } from '../../../activities/store';
import { decodeTransactionCursor } from '../../../activities/store';
import {
  type ConnectionInput,
  type ConnectionState,
  type ConnectionView,
  TERMINAL_STATES,
  addChannelUpdate,
  answerChallengeUpdate,
  disconnectRequestedSignal,
  giveConsentUpdate,
  requestRenewalUpdate,
  submitCredentialsUpdate,
  syncRequestedSignal,
  workflowIdFor,
} from '../../../workflows/messages';
import { ApiError } from '../../errors';
import { tenantOf } from '../../auth';
import { ownedConnection, readConnection, runUpdate } from '../../temporal';
import { parseBody, parseQuery } from '../../validate';
import {
  ChallengeAnswersSchema,
  ChannelSchema,
  ConsentSchema,
  CreateConnectionSchema,
  CredentialsSchema,
  TransactionsQuerySchema,
} from './schema';

export interface ConnectionRoutesDeps {
  client: Client;
  repository: Repository;
  /** Builds Linkflow's callback URL for a provider, e.g. https://linkflow.example/callbacks/oxlin. */
  callbackUrl(provider: string): string;
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
const TENANT_ATTRIBUTE = defineSearchAttributeKey('LinkflowTenant', SearchAttributeType.KEYWORD);
const SYNCABLE: readonly ConnectionState[] = ['active', 'user_action_required', 'renewal_required'];

export function connectionRoutes(deps: ConnectionRoutesDeps): Router {
  const { client, repository } = deps;
  const router = new Router({ prefix: '/v1/connections' });
  router.use(deps.auth);

  router.post('/', async (ctx) => {
    const body = parseBody(CreateConnectionSchema, ctx.request.body);
    const connectionId = randomUUID();
    const tenant = tenantOf(ctx);
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
    const handle = await client.workflow.start('connectionWorkflow', {
      taskQueue: deps.taskQueue,
      workflowId: workflowIdFor(connectionId),
      args: [input],
      // Set at start (not upserted by the workflow) so operators can filter by tenant from the first event.
      typedSearchAttributes: [{ key: TENANT_ATTRIBUTE, value: tenant.id }],
    });
    ctx.status = 201;
    ctx.set('location', `/v1/connections/${connectionId}`);
    ctx.body = await firstAction(() => readConnection(handle));
  });

  const owned = (ctx: { params: Record<string, string | undefined> } & Parameters<typeof tenantOf>[0]) =>
    ownedConnection(client, ctx.params.id, tenantOf(ctx).id);

  router.get('/:id', async (ctx) => {
    ctx.body = (await owned(ctx)).view;
  });

  router.delete('/:id', async (ctx) => {
    const { handle, view } = await owned(ctx);
    if (TERMINAL_STATES.includes(view.state)) throw wrongState(view, 'a connection that has not ended');
    await handle.signal(disconnectRequestedSignal);
    ctx.status = 202;
    ctx.body = await settled(() => readConnection(handle), (v) => v.state === 'disconnected');
  });

  router.post('/:id/sync', async (ctx) => {
    const { handle, view } = await owned(ctx);
    if (!SYNCABLE.includes(view.state)) throw wrongState(view, SYNCABLE.join(', '));
    await handle.signal(syncRequestedSignal);
    ctx.status = 202;
    ctx.body = view;
  });

  router.put('/:id/consents', async (ctx) => {
    const { handle } = await owned(ctx);
    const body = parseBody(ConsentSchema, ctx.request.body);
    ctx.body = await runUpdate(() => handle.executeUpdate(giveConsentUpdate, { args: [body] }));
  });

  router.post('/:id/credentials', async (ctx) => {
    const { handle } = await owned(ctx);
    const body = parseBody(CredentialsSchema, ctx.request.body);
    ctx.body = await runUpdate(() => handle.executeUpdate(submitCredentialsUpdate, { args: [body] }));
  });

  router.post('/:id/challenge', async (ctx) => {
    const { handle, view } = await owned(ctx);
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
    ctx.body = await runUpdate(() => handle.executeUpdate(answerChallengeUpdate, { args: [{ answers: encrypted }] }));
  });

  router.post('/:id/channels', async (ctx) => {
    const { handle } = await owned(ctx);
    const body = parseBody(ChannelSchema, ctx.request.body);
    ctx.body = await runUpdate(() => handle.executeUpdate(addChannelUpdate, { args: [body] }));
  });

  router.post('/:id/renewal', async (ctx) => {
    const { handle } = await owned(ctx);
    ctx.body = await runUpdate(() => handle.executeUpdate(requestRenewalUpdate));
  });

  router.get('/:id/accounts', async (ctx) => {
    const { id } = await owned(ctx);
    const accounts = await repository.listAccounts(id);
    ctx.body = {
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
    };
  });

  router.get('/:id/transactions', async (ctx) => {
    const { id } = await owned(ctx);
    const query = parseQuery(TransactionsQuerySchema, ctx.query);
    const after = query.cursor === undefined ? undefined : decodeTransactionCursor(query.cursor);
    if (after === null) throw new ApiError(400, 'invalid_cursor', 'The cursor is not one this API returned.');
    const page = await repository.listTransactions(id, {
      limit: query.limit,
      ...(query.account_id ? { accountId: query.account_id } : {}),
      ...(after ? { after } : {}),
    });
    ctx.body = {
      data: page.transactions.map((t) => ({
        id: t.providerTransactionId,
        account_id: t.providerAccountId,
        booked_at: t.bookedAt,
        amount: t.amount,
        currency: t.currency,
        label: t.label,
        category: t.category,
        updated_at: t.updatedAt,
      })),
      next_cursor: page.nextCursor,
    };
  });

  return router;
}

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
