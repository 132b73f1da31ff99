// Webhook delivery on the time-skipping server, to a real HTTP receiver on 127.0.0.1: events of a
// connection arrive in order, signed, through an hour of receiver downtime (retry backoff timers
// are skipped), without duplicates, and with 4xx answers and deleted endpoints not retried.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { type IncomingHttpHeaders, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { MockActivityEnvironment, type TestWorkflowEnvironment } from '@temporalio/testing';
import { type Database, createTenantStore, migrate, openDatabase } from '../../store';
import { type WebhookEndpointStore, createWebhookEndpointStore } from '../../store/webhooks';
import { type WebhookActivities, createWebhookActivities } from '../../activities/webhooks';
import { verifyWebhook } from '../../api/clients/webhooks';
import { type WebhookEvent, webhookEventId, webhooksWorkflowIdFor } from '../../contract/messages';
import { runWorkerWhile, timeSkippingEnv, uniqueTaskQueue } from '../helpers/temporal';

interface Attempt {
  eventId: string;
  status: number;
  rawBody: string;
  headers: IncomingHttpHeaders;
  /** Test-server time of the attempt. */
  at: number;
}

/** A client's webhook endpoint: `answer` decides each status; every attempt is recorded. */
async function startReceiver(answer: (eventId: string, at: number) => number): Promise<{ url: string; attempts: Attempt[]; server: Server }> {
  const attempts: Attempt[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const eventId = String(req.headers['linkflow-event-id']);
    const at = await clock();
    const status = answer(eventId, at);
    attempts.push({ eventId, status, rawBody: Buffer.concat(chunks).toString('utf8'), headers: req.headers, at });
    res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'not now');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/linkflow`, attempts, server };
}

let clock: () => Promise<number>;

const HOUR_MS = 3_600_000;

describe('webhookDeliveryWorkflow', () => {
  let env: TestWorkflowEnvironment;
  let db: Database;
  let endpoints: WebhookEndpointStore;
  const servers: Server[] = [];

  before(async () => {
    env = await timeSkippingEnv();
    clock = () => env.currentTimeMs();
    db = await openDatabase({});
    await migrate(db);
    endpoints = createWebhookEndpointStore(db, 'test-webhook-sealing-secret-0123456789');
  });
  after(async () => {
    for (const server of servers) server.close();
    await db?.close();
    await env?.teardown();
  });

  /** A tenant per test: its endpoints receive that test's events only. */
  const newTenant = async () => (await createTenantStore(db).createTenant('webhook tenant')).id;

  const receiver = async (answer: (eventId: string, at: number) => number) => {
    const r = await startReceiver(answer);
    servers.push(r.server);
    return r;
  };

  /** Runs `fn` with a worker for the delivery workflow; emits go through the real activity. */
  async function withWorker<T>(
    connectionId: string,
    fn: (emit: (event: WebhookEvent) => Promise<{ endpoints: number }>, emitBatch: (events: WebhookEvent[]) => Promise<{ endpoints: number }>) => Promise<T>,
  ): Promise<T> {
    const taskQueue = uniqueTaskQueue();
    // The receivers are on 127.0.0.1: opted in as an operator would (LINKFLOW_WEBHOOK_ALLOW_PRIVATE=true).
    const activities: WebhookActivities = createWebhookActivities({ client: env.client, webhookEndpoints: endpoints, webhookTargets: { allowPrivate: true } });
    // The connection workflow's worker runs emitWebhookEvent; here a mock activity context on the same task queue.
    const emit = (event: WebhookEvent): Promise<{ endpoints: number }> =>
      new MockActivityEnvironment({ taskQueue }).run(activities.emitWebhookEvent, event);
    const emitBatch = (batch: WebhookEvent[]): Promise<{ endpoints: number }> =>
      new MockActivityEnvironment({ taskQueue }).run(activities.emitWebhookEvents, batch);
    return runWorkerWhile(env, { taskQueue, activities }, async () => {
      try {
        return await fn(emit, emitBatch);
      } finally {
        await stop(webhooksWorkflowIdFor(connectionId));
      }
    });
  }

  /**
   * A workflow left waiting with nobody polling its task queue would stall time skipping for the
   * next test; one terminated with an activity in flight leaves the server's time lock held.
   */
  async function stop(workflowId: string): Promise<void> {
    const handle = env.client.workflow.getHandle(workflowId);
    for (let i = 0; i < 100; i++) {
      const description = await handle.describe().catch(() => undefined);
      if (description?.status.name !== 'RUNNING') return;
      if ((description.raw.pendingActivities ?? []).length === 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await handle.terminate('test over');
  }

  const events = (tenantId: string, connectionId: string): WebhookEvent[] => {
    const base = { tenant_id: tenantId, connection_id: connectionId, created_at: '2025-03-01T10:00:00.000Z' };
    return [
      { ...base, id: webhookEventId(connectionId, 1), type: 'connection.state_changed', data: { state: 'awaiting_consent', previous_state: 'listing_accounts', reason: null } },
      {
        ...base,
        id: webhookEventId(connectionId, 2),
        type: 'connection.action_required',
        data: { state: 'awaiting_consent', next_action: { type: 'consent', accounts: [{ id: 'acc-1', name: 'Courant', type: 'CHECKINGS', currency: 'EUR' }], expires_at: '2025-03-02T10:00:00.000Z' } },
      },
      {
        ...base,
        id: webhookEventId(connectionId, 3),
        type: 'connection.synced',
        data: { synced_at: '2025-03-01T10:05:00.000Z', accounts: 1, transactions_added: 42, transactions_modified: 0, transactions_removed: 0 },
      },
    ];
  };

  async function until(what: string, done: () => boolean, timeoutMs = 20_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!done()) {
      if (Date.now() > end) assert.fail(`gave up waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  it('delivers every event in order, signed, to a receiver that is down for an hour', async () => {
    const [tenantId, connectionId] = [await newTenant(), randomUUID()];
    const downUntil = (await env.currentTimeMs()) + HOUR_MS;
    const { url, attempts } = await receiver((_id, at) => (at < downUntil ? 503 : 200));
    const { secret } = await endpoints.create(tenantId, url);
    const emitted = events(tenantId, connectionId);

    await withWorker(connectionId, async (emit) => {
      for (const event of emitted) assert.deepEqual(await emit(event), { endpoints: 1 });
      // A retried emit (the activity ran, its completion was lost) signals the same event again.
      await emit(emitted[0] as WebhookEvent);

      // Real seconds: the first attempt and a retry after the 1 s initial interval, both refused.
      await until('a retry of the first event', () => attempts.length >= 2);
      // The hour the client is down passes in skipped time: the backoff timers fire without waiting.
      await env.sleep('1 hour');
      // The backoff has reached its 5-minute ceiling: the next retry is at most that far away.
      await env.sleep('5 minutes');
      await until('all three events accepted', () => attempts.filter((a) => a.status === 200).length >= 3);
    });

    const refused = attempts.filter((a) => a.status === 503);
    const accepted = attempts.filter((a) => a.status === 200);
    // In order: nothing of the second event is attempted before the first is accepted.
    assert.deepEqual(
      attempts.slice(0, refused.length + 1).map((a) => a.eventId),
      Array(refused.length + 1).fill(emitted[0]?.id),
    );
    // Retried with exponential backoff capped at 5 minutes across the hour: more than a handful,
    // far fewer than one a second.
    assert.ok(refused.length >= 10 && refused.length <= 40, `${refused.length} refused attempts`);
    assert.ok(accepted.every((a) => a.at >= downUntil));

    // Delivery is at least once: a 200 lost on the way back (timeout, crash) would legitimately bring
    // the same event again, which the client drops by its id. Nothing here loses a 200, so the receiver
    // must have accepted each event exactly once, the re-emitted first one included.
    assert.deepEqual(accepted.map((a) => a.eventId), emitted.map((e) => e.id));
    for (const [i, attempt] of accepted.entries()) {
      const verified = verifyWebhook({ secret, rawBody: attempt.rawBody, signatureHeader: attempt.headers['linkflow-signature'] });
      const { tenant_id: _tenant, ...expected } = emitted[i] as WebhookEvent;
      assert.deepEqual(verified, expected);
      assert.equal(attempt.headers['content-type'], 'application/json');
      assert.equal(attempt.headers['user-agent'], 'Linkflow-Webhooks/1');
      assert.equal(attempt.headers['linkflow-event-id'], expected.id);
      assert.match(String(attempt.headers['linkflow-signature']), /^t=\d+,v1=[0-9a-f]{64}$/);
    }
  });

  it('does not retry a 4xx answer, and stops delivering to an endpoint deleted meanwhile', async () => {
    const [tenantId, connectionId] = [await newTenant(), randomUUID()];
    const [first, second] = events(tenantId, connectionId) as [WebhookEvent, WebhookEvent];
    const rejecting = await receiver((id) => (id === first.id ? 422 : 200));
    const down = await receiver(() => 503);
    await endpoints.create(tenantId, rejecting.url);
    const doomed = await endpoints.create(tenantId, down.url);

    await withWorker(connectionId, async (emit) => {
      assert.deepEqual(await emit(first), { endpoints: 2 });
      assert.deepEqual(await emit(second), { endpoints: 2 });
      await until('retries to the endpoint that is down', () => down.attempts.length >= 2);
      assert.ok(await endpoints.disable(tenantId, doomed.id));
      const attemptsWhenDeleted = down.attempts.length;

      await env.sleep('10 minutes');
      await until('the second event', () => rejecting.attempts.some((a) => a.eventId === second.id));
      // At most the attempt that was under way when the endpoint was deleted.
      assert.ok(down.attempts.length <= attemptsWhenDeleted + 1, `${down.attempts.length - attemptsWhenDeleted} attempts after deletion`);
      assert.ok(down.attempts.every((a) => a.eventId === first.id));
    });

    assert.deepEqual(
      rejecting.attempts.map((a) => [a.eventId, a.status]),
      [
        [first.id, 422],
        [second.id, 200],
      ],
    );
  });

  it('continues as new after 100 events, carrying its queue, still in order', async () => {
    const [tenantId, connectionId] = [await newTenant(), randomUUID()];
    const { url, attempts } = await receiver(() => 200);
    await endpoints.create(tenantId, url);
    const base = events(tenantId, connectionId)[2] as WebhookEvent;
    const many = Array.from({ length: 105 }, (_, i): WebhookEvent => ({ ...base, id: webhookEventId(connectionId, i + 1) }));

    await withWorker(connectionId, async (emit) => {
      await emit(many[0] as WebhookEvent);
      const handle = env.client.workflow.getHandle(webhooksWorkflowIdFor(connectionId));
      const firstRun = (await handle.describe()).runId;
      for (const event of many.slice(1)) await emit(event);
      await until('105 events', () => attempts.length >= many.length, 60_000);
      assert.notEqual((await handle.describe()).runId, firstRun);
    });
    assert.deepEqual(attempts.map((a) => a.eventId), many.map((e) => e.id));
  });

  it('a batch with one invalid event still queues the others, in order, and refuses that one', async () => {
    const [tenantId, connectionId] = [await newTenant(), randomUUID()];
    const [first, second, third] = events(tenantId, connectionId) as [WebhookEvent, WebhookEvent, WebhookEvent];
    const ok = await receiver(() => 200);
    await endpoints.create(tenantId, ok.url);
    // The workflow hands over the events of one task in one call; the middle one is malformed.
    const bad = { ...second, data: { ...second.data, state: 'nonsense' } } as unknown as WebhookEvent;
    await withWorker(connectionId, async (_emit, emitBatch) => {
      await assert.rejects(emitBatch([first, bad, third]), /not valid/);
      await until('the valid events delivered', () => ok.attempts.filter((a) => a.status === 200).length >= 2);
      assert.deepEqual(ok.attempts.filter((a) => a.status === 200).map((a) => a.eventId), [first.id, third.id]);
    });
  });

  it('starts nothing for a tenant without endpoints', async () => {
    const [lonely, connectionId] = [await newTenant(), randomUUID()];
    const event = events(lonely, connectionId)[0] as WebhookEvent;
    await withWorker(connectionId, async (emit) => {
      assert.deepEqual(await emit(event), { endpoints: 0 });
      assert.deepEqual(await emit({ ...event, tenant_id: null }), { endpoints: 0 });
      await assert.rejects(env.client.workflow.getHandle(webhooksWorkflowIdFor(connectionId)).describe(), /not found/i);
    });
  });
});
