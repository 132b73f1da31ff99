import { randomUUID } from 'node:crypto';
import Router from '@koa/router';
import type { Client } from '@temporalio/client';
import type { Repository } from '../../../activities/store';
import { decodeTransactionCursor } from '../../../activities/store';
import {
  type ConnectionInput,
  type ConnectionView,
  giveConsentUpdate,
  workflowIdFor,
} from '../../../workflows/messages';
import { ApiError } from '../../errors';
import { connectionHandle, readConnection, runUpdate } from '../../temporal';
import { parseBody, parseQuery } from '../../validate';
import { ConsentSchema, CreateConnectionSchema, TransactionsQuerySchema } from './schema';

export interface ConnectionRoutesDeps {
  client: Client;
  repository: Repository;
  /** Builds Linkflow's callback URL for a provider, e.g. https://linkflow.example/callbacks/oxlin. */
  callbackUrl(provider: string): string;
  defaults: { syncIntervalSeconds: number; redirectTimeoutSeconds: number; consentTimeoutSeconds: number };
  taskQueue: string;
}

/** How long POST /v1/connections waits for the authorize URL before answering with `authorizing`. */
const FIRST_ACTION_WAIT_MS = 10_000;

export function connectionRoutes({ client, repository, callbackUrl, defaults, taskQueue }: ConnectionRoutesDeps): Router {
  const router = new Router({ prefix: '/v1/connections' });

  router.post('/', async (ctx) => {
    const body = parseBody(CreateConnectionSchema, ctx.request.body);
    const connectionId = randomUUID();
    const input: ConnectionInput = {
      connectionId,
      provider: body.provider,
      institutionId: body.institution_id,
      ...(body.user_ref ? { userRef: body.user_ref } : {}),
      redirectUrl: body.redirect_url,
      callbackUrl: callbackUrl(body.provider),
      syncIntervalSeconds: body.sync_interval_seconds ?? defaults.syncIntervalSeconds,
      redirectTimeoutSeconds: body.redirect_timeout_seconds ?? defaults.redirectTimeoutSeconds,
      consentTimeoutSeconds: body.consent_timeout_seconds ?? defaults.consentTimeoutSeconds,
    };
    const handle = await client.workflow.start('connectionWorkflow', {
      taskQueue,
      workflowId: workflowIdFor(connectionId),
      args: [input],
    });
    ctx.status = 201;
    ctx.set('location', `/v1/connections/${connectionId}`);
    ctx.body = await firstAction(() => readConnection(handle));
  });

  router.get('/:id', async (ctx) => {
    ctx.body = await readConnection(connectionHandle(client, ctx.params.id).handle);
  });

  router.put('/:id/consents', async (ctx) => {
    const { handle } = connectionHandle(client, ctx.params.id);
    const body = parseBody(ConsentSchema, ctx.request.body);
    await handle.describe(); // 404 before anything else for an unknown connection
    ctx.body = await runUpdate(() => handle.executeUpdate(giveConsentUpdate, { args: [body] }));
  });

  router.get('/:id/accounts', async (ctx) => {
    const { id, handle } = connectionHandle(client, ctx.params.id);
    await handle.describe();
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
    const { id, handle } = connectionHandle(client, ctx.params.id);
    const query = parseQuery(TransactionsQuerySchema, ctx.query);
    const after = query.cursor === undefined ? undefined : decodeTransactionCursor(query.cursor);
    if (after === null) throw new ApiError(400, 'invalid_cursor', 'The cursor is not one this API returned.');
    await handle.describe();
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

/** A new connection is worth returning once it offers its first next action (the authorize URL). */
async function firstAction(read: () => Promise<ConnectionView>): Promise<ConnectionView> {
  const deadline = Date.now() + FIRST_ACTION_WAIT_MS;
  let view = await read();
  while (view.state === 'authorizing' && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    view = await read();
  }
  return view;
}
