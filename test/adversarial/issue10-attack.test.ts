// Adversarial review of issue 10 ("Nothing a client or a provider says is ever lost"): inputs a
// client or a provider can send that the change must survive. Each test states what must hold.
// Stores: PGlite, and PostgreSQL when TEST_DATABASE_URL names one.
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type Router from '@koa/router';
import type { Client } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import Koa from 'koa';
import { createActivities } from '../../activities';
import { generateCredentialsKey, loadCredentialsKey } from '../../domain/credentials';
import { createLinkMinter } from '../../domain/links';
import type { AdapterRegistry, ProviderAdapter } from '../../providers';
import {
  type Database,
  type Repository,
  createProviderLinks,
  createProviderSecrets,
  createRepository,
  createWebhookClaims,
} from '../../store';
import type { AccountRecord, TransactionRecord } from '../../contract/records';
import { errorMiddleware } from '../../api/errors';
import { connectionRoutes } from '../../api/routes/connections/connections';
import { connectionStarter } from '../../api/routes/connections/start';
import { providerWebhookRoutes } from '../../api/routes/provider-webhooks/provider-webhooks';
import { createLogger } from '../../logger';
import type { SyncSummary } from '../../contract/messages';
import { testSigner, testStores } from '../helpers/real-activities';

const quietLogger = { log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const TENANT = 'tenant-attack';
const cursorOf = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

const tx = (id: string, account: string, day: string, amount: string, extra: Partial<TransactionRecord> = {}): TransactionRecord => ({
  providerTransactionId: id,
  providerAccountId: account,
  bookedAt: `${day}T12:00:00.000Z`,
  amount,
  currency: 'EUR',
  label: id,
  category: null,
  pending: false,
  pendingTransactionId: null,
  ...extra,
});

/** A Temporal client whose workflows all belong to TENANT and take any signal. */
function fakeClient(signals: unknown[] = []): Client {
  return {
    withDeadline: <R>(_deadline: number, fn: () => Promise<R>) => fn(),
    workflow: {
      getHandle: () => ({
        query: async () => ({ tenant_id: TENANT }),
        signal: async (_definition: unknown, arg: unknown) => void signals.push(arg),
      }),
    },
  } as unknown as Client;
}

for (const [store, open] of testStores()) {
  describe(`issue 10 under attack (${store})`, () => {
    let db: Database;
    let repository: Repository;
    const servers: Server[] = [];
    before(async () => {
      db = await open();
      repository = createRepository(db);
    });
    after(async () => {
      for (const server of servers) server.close();
      await db?.close();
    });

    async function serve(router: Router): Promise<string> {
      const app = new Koa();
      app.use(errorMiddleware(createLogger('api', () => undefined)));
      app.use(router.routes());
      const server = createServer(app.callback());
      servers.push(server);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    }

    /** One import of `connectionId` (a fresh activity) against a provider serving `rows` per account. */
    async function importOnce(connectionId: string, rows: TransactionRecord[]): Promise<SyncSummary | Error> {
      const accountIds = [...new Set(rows.map((r) => r.providerAccountId))].sort();
      const adapter: Pick<ProviderAdapter, 'fetchAccounts' | 'fetchTransactions'> = {
        fetchAccounts: async () =>
          accountIds.map((id): AccountRecord => ({ providerAccountId: id, name: id, type: 'CHECKINGS', currency: 'EUR', balance: null, iban: null, accountNumber: null })),
        fetchTransactions: async (_c, accountId) => ({ items: rows.filter((r) => r.providerAccountId === accountId), nextCursor: null }),
      };
      const activities = createActivities({
        adapters: { oxlin: adapter as ProviderAdapter } as AdapterRegistry,
        repository,
        providerLinks: createProviderLinks(db),
        stateSigner: testSigner,
        credentialsKey: await loadCredentialsKey(await generateCredentialsKey()),
      });
      const env = new MockActivityEnvironment(
        { activityId: '7', activityType: 'importData', attempt: 1, heartbeatTimeoutMs: 60_000, workflowExecution: { workflowId: `connection-${connectionId}`, runId: randomUUID() } },
        { logger: quietLogger },
      );
      return env
        .run<[], SyncSummary, () => Promise<SyncSummary>>(() =>
          activities.importData({ provider: 'oxlin', providerConnectionId: 'pc', providerRef: {}, connectionId, accountIds, full: true }),
        )
        .catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
    }

    describe('GET /v1/connections/:id/transactions with a tampered cursor', () => {
      let base: string;
      const connectionId = randomUUID();
      before(async () => {
        const auth: Koa.Middleware = async (ctx, next) => {
          ctx.state.tenant = { id: TENANT };
          await next();
        };
        const client = fakeClient();
        base = await serve(
          connectionRoutes({
            client,
            repository,
            starter: connectionStarter({
              client,
              repository,
              callbackUrl: () => 'http://localhost/callbacks',
              providers: ['oxlin'],
              defaults: { syncIntervalSeconds: 86_400, redirectTimeoutSeconds: 600, consentTimeoutSeconds: 600, renewalLeadSeconds: 86_400 },
              taskQueue: 'q',
            }),
            stateSigner: testSigner,
            links: createLinkMinter({ signer: testSigner, publicUrl: 'http://localhost' }),
            credentialsPublicKey: '',
            auth,
          }),
        );
        assert.equal(await importOnce(connectionId, [tx('T1', 'acc-a', '2024-03-01', '-1.00'), tx('T1', 'acc-b', '2024-03-01', '1.00')]).then((s) => (s instanceof Error ? s : 'ok')), 'ok');
      });

      const tampered: [string, unknown][] = [
        ['a booking time JavaScript reads but PostgreSQL does not ("1")', ['1', 'T1', 'acc-a']],
        ['a year PostgreSQL cannot hold', ['-271821-04-20T00:00:00Z', 'T1']],
        ['a NUL byte in the account', ['2024-03-01T12:00:00.000Z', 'T1', 'acc\u0000a']],
        ['a NUL byte in the id of an old two-part cursor', ['2024-03-01T12:00:00.000Z', 'T\u00001']],
      ];
      for (const [what, value] of tampered) {
        it(`${what}: a 400 invalid_cursor, never a 5xx`, async () => {
          const response = await fetch(`${base}/v1/connections/${connectionId}/transactions?cursor=${cursorOf(value)}`);
          const body = (await response.json()) as { error?: { code: string } };
          assert.equal(response.status, 400, JSON.stringify(body));
          assert.equal(body.error?.code, 'invalid_cursor');
        });
      }

      it('held: a well-formed cursor Linkflow did not issue (naming another account), or garbage base64, is refused cleanly', async () => {
        // List cursors are sealed to their connection (issue 11): a hand-made one is not ours, whatever it names.
        const other = await fetch(`${base}/v1/connections/${connectionId}/transactions?cursor=${cursorOf(['2024-03-01T12:00:00.000Z', 'T1', 'acc-b'])}`);
        assert.equal(other.status, 400);
        assert.equal(((await other.json()) as { error: { code: string } }).error.code, 'invalid_cursor');
        assert.equal((await fetch(`${base}/v1/connections/${connectionId}/transactions?cursor=bm90LWpzb24`)).status, 400);
      });
    });

    describe('provider webhooks with odd event ids (Oxlin: the id is whatever the signed body says)', () => {
      const SECRET = 'attack-oxlin-secret';
      async function ingress() {
        const providerLinks = createProviderLinks(db);
        const providerId = randomUUID();
        await providerLinks.link('oxlin', providerId, randomUUID());
        const signals: unknown[] = [];
        const base = await serve(
          providerWebhookRoutes({
            client: fakeClient(signals),
            providerLinks,
            webhookClaims: createWebhookClaims(db),
            providerSecrets: createProviderSecrets(db, 'attack-sealing-secret-attack-sealing'),
            secrets: { oxlin: SECRET },
          }),
        );
        const deliver = async (id: string, resourceId: string = providerId) => {
          const body = JSON.stringify({ id, event_type: 'SYNC_ALL_SUCCESS', resource_type: 'CONNECTION', resource: { id: resourceId, provider_id: '87', status: 'SUCCESS', channels: [] } });
          const response = await fetch(`${base}/webhooks/oxlin`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-oxlin-signature': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}` },
            body,
          });
          return { status: response.status, body: (await response.json()) as { status?: string; error?: { code: string } } };
        };
        return { deliver, signals };
      }

      const odd: [string, string][] = [
        ['a NUL byte', 'evt-\u0000-1'],
        ['4,000 random hex characters (past the btree row limit once stored)', Array.from({ length: 125 }, () => randomUUID().replace(/-/g, '')).join('')],
      ];
      for (const [what, id] of odd) {
        it(`an event id with ${what}: never a 5xx the provider would redeliver forever; delivered twice, signalled at most once`, async () => {
          const { deliver, signals } = await ingress();
          const first = await deliver(id);
          assert.ok(first.status < 500, `first delivery: ${first.status} ${JSON.stringify(first.body)}`);
          const second = await deliver(id);
          assert.ok(second.status < 500, `second delivery: ${second.status} ${JSON.stringify(second.body)}`);
          assert.ok(signals.length <= 1, `signalled ${signals.length} times`);
        });
      }

      it('a NUL byte in the provider connection id the event names: never a 5xx', async () => {
        const { deliver } = await ingress();
        const response = await deliver(`evt-${randomUUID()}`, 'conn\u0000x');
        assert.ok(response.status < 500, `${response.status} ${JSON.stringify(response.body)}`);
      });

      it('held: unicode ids, and the same event ten times at once, signal once', async () => {
        const { deliver, signals } = await ingress();
        const id = `évènement-${randomUUID()}-🏦`;
        const all = await Promise.all(Array.from({ length: 10 }, () => deliver(id)));
        assert.deepEqual(all.map((r) => r.body.status).sort(), ['accepted', ...Array<string>(9).fill('duplicate')]);
        assert.equal(signals.length, 1);
      });
    });

    describe('provider transaction fields PostgreSQL cannot store as text', () => {
      it('a label with a NUL byte does not fail the import (every attempt, every sync, for good): the other rows land, the label keeps its text', async () => {
        const connectionId = randomUUID();
        const rows = [tx('GOOD-1', 'acc-a', '2024-03-01', '-5.00'), tx('BAD-1', 'acc-a', '2024-03-02', '-6.00', { label: 'CARTE\u0000 X' }), tx('GOOD-2', 'acc-a', '2024-03-03', '-7.00')];
        const summary = await importOnce(connectionId, rows);
        assert.ok(!(summary instanceof Error), `the import failed: ${String(summary)}`);
        assert.equal(summary.transactions_added, 3);
        const labels = (await repository.listTransactions(connectionId, { limit: 10 })).transactions.map((t) => t.label);
        assert.ok(labels.some((l) => l.startsWith('CARTE') && l.endsWith(' X')), JSON.stringify(labels));
      });
    });

    describe('pending matching', () => {
      it('a pending transaction that re-appears after being linked: no live booked row still says it replaced it', async () => {
        const connectionId = randomUUID();
        const pending = tx('P-1', 'acc-a', '2024-03-01', '-10.00', { pending: true });
        const booked = tx('B-1', 'acc-a', '2024-03-02', '-10.00');
        assert.ok(!((await importOnce(connectionId, [pending, tx('OLD', 'acc-a', '2024-02-01', '-1.00')])) instanceof Error));
        assert.ok(!((await importOnce(connectionId, [booked, tx('OLD', 'acc-a', '2024-02-01', '-1.00')])) instanceof Error));
        let listed = (await repository.listTransactions(connectionId, { limit: 10 })).transactions;
        assert.equal(listed.find((t) => t.providerTransactionId === 'B-1')?.pendingTransactionId, 'P-1', 'linked by the matching');

        // The bank had not booked P-1 after all: the provider lists it again, pending, next to B-1.
        assert.ok(!((await importOnce(connectionId, [pending, booked, tx('OLD', 'acc-a', '2024-02-01', '-1.00')])) instanceof Error));
        listed = (await repository.listTransactions(connectionId, { limit: 10 })).transactions;
        const live = new Set(listed.filter((t) => t.pending).map((t) => t.providerTransactionId));
        assert.ok(live.has('P-1'), 'P-1 is live and pending again');
        const stale = listed.filter((t) => t.pendingTransactionId !== null && live.has(t.pendingTransactionId));
        assert.deepEqual(
          stale.map((t) => [t.providerTransactionId, t.pendingTransactionId]),
          [],
          'a booked row names a pending one that is live: a Plaid client drops the pending row it still has to show',
        );
      });

      it('held: two pending of one amount, both booked in one import, pair one to one by date', async () => {
        const connectionId = randomUUID();
        const old = tx('OLD', 'acc-a', '2024-02-01', '-1.00');
        await importOnce(connectionId, [old, tx('P-1', 'acc-a', '2024-03-01', '-10.00', { pending: true }), tx('P-2', 'acc-a', '2024-03-05', '-10.00', { pending: true })]);
        await importOnce(connectionId, [old, tx('B-2', 'acc-a', '2024-03-06', '-10.00'), tx('B-1', 'acc-a', '2024-03-02', '-10.00')]);
        const links = (await repository.listTransactions(connectionId, { limit: 10 })).transactions
          .filter((t) => t.pendingTransactionId !== null)
          .map((t) => [t.providerTransactionId, t.pendingTransactionId])
          .sort();
        assert.deepEqual(links, [
          ['B-1', 'P-1'],
          ['B-2', 'P-2'],
        ]);
      });
    });
  });
}
