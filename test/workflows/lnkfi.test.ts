// The connection workflow with its real activities: the LnkFi adapter against the LnkFi sandbox
// over HTTP (Xero behind its proxy), the store on PGlite with its sealed provider secrets, on the
// time-skipping test server. The test plays Linkflow's API: it parses the browser's redirect, and
// takes LnkFi's webhooks with the API's own route (verify, claim, store the API key sealed, signal).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import Koa from 'koa';
import { createLnkfiAdapter } from '../../providers/lnkfi/adapter';
import { apiKeySecretName } from '../../providers/lnkfi/webhook';
import type { ProviderSecrets } from '../../providers/types';
import { type Database, type Repository, createProviderLinks, createWebhookClaims } from '../../store';
import { errorMiddleware } from '../../api/errors';
import { providerWebhookRoutes } from '../../api/routes/provider-webhooks/provider-webhooks';
import { createLogger } from '../../logger';
import { type XeroDecision, authorizeAtXero } from '../../sandbox/lnkfi/browser';
import { type LnkfiSandbox, SANDBOX_VENDOR_ID, SANDBOX_XERO_APP, startLnkfiSandbox } from '../../sandbox/lnkfi/server';
import { type ConnectionView, giveConsentUpdate, stateQuery } from '../../contract/messages';
import {
  type ConnectionHandle,
  type RealActivities,
  consentToAll,
  historyText,
  openTestDatabase,
  realActivities,
  returnFromProvider,
  startConnection,
  testSecrets,
  until,
} from '../helpers/real-activities';
import { runWorkerWhile, stopQuietly, timeSkippingEnv, uniqueTaskQueue } from '../helpers/temporal';

const WEBHOOK_SECRET = 'lnkfi-webhook-secret-for-tests';
const LEGAL_NAME = 'Acme Lending, Inc.';

/** Linkflow's POST /webhooks/lnkfi: the API's own route (verify, claim, seal the secrets, signal) on a port. */
interface Ingress {
  url: string;
  /** Every api_key LnkFi handed over (to look for them where they must not be). */
  apiKeys: string[];
  close(): Promise<void>;
}

async function startIngress(client: Client, secrets: ProviderSecrets, db: Database): Promise<Ingress> {
  const apiKeys: string[] = [];
  const recorded: ProviderSecrets = {
    put: async (provider, key, value) => {
      apiKeys.push(value);
      await secrets.put(provider, key, value);
    },
    get: (provider, key) => secrets.get(provider, key),
    delete: (provider, key) => secrets.delete(provider, key),
  };
  const app = new Koa();
  app.use(errorMiddleware(createLogger('api', (line) => console.error(line))));
  const routes = providerWebhookRoutes({
    client,
    providerLinks: createProviderLinks(db),
    webhookClaims: createWebhookClaims(db),
    providerSecrets: recorded,
    secrets: { lnkfi: WEBHOOK_SECRET },
  });
  app.use(routes.routes());
  const server: Server = createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/lnkfi`,
    apiKeys,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('connectionWorkflow with the LnkFi sandbox and the store', () => {
  let env: TestWorkflowEnvironment;
  let sandbox: LnkfiSandbox;
  let ingress: Ingress;
  let db: Database;
  let repository: Repository;
  let secrets: ProviderSecrets;
  let activities: RealActivities['activities'];
  // The sandbox's clock follows the test server's.
  let clock = 0;

  before(async () => {
    env = await timeSkippingEnv();
    clock = await env.currentTimeMs();
    db = await openTestDatabase();
    secrets = testSecrets(db);
    ingress = await startIngress(env.client, secrets, db);
    sandbox = await startLnkfiSandbox({ now: () => clock, webhook: { url: ingress.url, secret: WEBHOOK_SECRET }, lateWebhookDelayMs: 1_000 });
    const lnkfi = createLnkfiAdapter(
      {
        baseUrl: sandbox.url,
        vendorId: SANDBOX_VENDOR_ID,
        system: 'xero',
        systemClientId: SANDBOX_XERO_APP.clientId,
        systemClientSecret: SANDBOX_XERO_APP.clientSecret,
        legalName: LEGAL_NAME,
      },
      { secrets },
    );
    ({ activities, repository } = await realActivities(db, { lnkfi }));
  });
  after(async () => {
    await sandbox?.close();
    await ingress?.close();
    await db?.close();
    await env?.teardown();
  });

  async function start(taskQueue: string, connectionId: string): Promise<ConnectionHandle> {
    clock = await env.currentTimeMs();
    return startConnection(env, taskQueue, { connectionId, provider: 'lnkfi', institutionId: 'xero', mode: 'redirect' });
  }

  /** The end user at Xero (via LnkFi), then Linkflow's callback as the API handles it: parse, verify the state, signal. */
  async function atXeroAndBack(handle: WorkflowHandle, connectionId: string, view: ConnectionView, decision: XeroDecision, email?: string) {
    assert.equal(view.next_action?.type, 'redirect');
    return returnFromProvider(handle, connectionId, 'lnkfi', await authorizeAtXero(view.next_action.url, decision, email));
  }

  it("shows LnkFi's consent, connects by webhook, imports the consented accounts, and keeps the API key out of history", async () => {
    const connectionId = randomUUID();
    const taskQueue = uniqueTaskQueue();
    await runWorkerWhile(env, { taskQueue, activities }, async () => {
      const handle = await start(taskQueue, connectionId);
      const waiting = await until(handle, (v) => v.state === 'awaiting_redirect');
      assert.equal(waiting.next_action?.type, 'redirect');
      assert.ok(waiting.next_action.terms?.startsWith(`I consent to ${LEGAL_NAME} and LnkFi`), 'the consent, before the browser goes to LnkFi');
      assert.equal(new URL(waiting.next_action.url).pathname, '/xero/identity/connect/authorize');

      const redirect = await atXeroAndBack(handle, connectionId, waiting, 'approve');
      assert.deepEqual(redirect, { outcome: 'success' }, 'the redirect names no connection; the webhook does');

      const listed = await until(handle, (v) => v.state === 'awaiting_consent');
      assert.deepEqual(
        listed.accounts.map((a) => [a.name, a.type, a.currency]),
        [
          ['Business Cheque Account', 'BANK', 'USD'],
          ['Business Savings Account', 'BANK', 'USD'],
          ['Business Visa Card', 'CREDITCARD', 'USD'],
        ],
      );
      assert.deepEqual(listed.channels, [{ id: 'xero', mode: 'redirect', expires_at: null }]);
      const [cheque, savings, card] = listed.accounts;
      assert.ok(cheque && savings && card);
      await handle.executeUpdate(giveConsentUpdate, {
        args: [{ consents: [{ account_id: cheque.id, consent: true }, { account_id: savings.id, consent: false }, { account_id: card.id, consent: true }] }],
      });
      const active = await until(handle, (v) => v.state === 'active');
      // 90 days of history and today, less the one transaction Xero lists as DELETED, per consented account.
      assert.equal(active.last_sync?.accounts, 2);
      assert.equal(active.last_sync?.transactions_added, 2 * 90);
      assert.deepEqual((await repository.listAccounts(connectionId)).map((a) => a.providerAccountId).sort(), [cheque.id, card.id].sort());

      const apiKey = ingress.apiKeys.at(-1);
      assert.ok(apiKey);
      const history = await historyText(handle);
      assert.ok(history.includes(cheque.id), 'the history is readable here');
      assert.ok(!history.includes(apiKey), 'the API key is not in workflow history');
      const [row] = await db.query<{ sealed: string }>(`SELECT sealed FROM provider_secrets WHERE provider = 'lnkfi'`);
      assert.ok(row && !row.sealed.includes(apiKey), 'the API key is stored sealed');
      await stopQuietly(env, handle.workflowId);
    });
  });

  it('waits for the webhook when the browser comes back first (late_webhook)', async () => {
    const connectionId = randomUUID();
    const taskQueue = uniqueTaskQueue();
    await runWorkerWhile(env, { taskQueue, activities }, async () => {
      const handle = await start(taskQueue, connectionId);
      const waiting = await until(handle, (v) => v.state === 'awaiting_redirect');
      const keysBefore = ingress.apiKeys.length;
      await atXeroAndBack(handle, connectionId, waiting, 'approve', 'late_webhook@example.com');
      assert.equal(ingress.apiKeys.length, keysBefore, 'the webhook is not there yet');
      const active = await consentToAll(handle);
      assert.equal(ingress.apiKeys.length, keysBefore + 1);
      assert.equal(active.last_sync?.transactions_added, 3 * 90);
      await stopQuietly(env, handle.workflowId);
    });
  });

  for (const [decision, state, reason] of [
    ['cancel', 'cancelled', 'ACCESS_DENIED'],
    ['error', 'failed', 'PROVIDER_ERROR'],
  ] as const) {
    it(`ends ${state} when the end user ${decision === 'cancel' ? 'cancels at Xero' : 'meets an error at Xero'}`, async () => {
      const connectionId = randomUUID();
      const taskQueue = uniqueTaskQueue();
      await runWorkerWhile(env, { taskQueue, activities }, async () => {
        const handle = await start(taskQueue, connectionId);
        const waiting = await until(handle, (v) => v.state === 'awaiting_redirect');
        await atXeroAndBack(handle, connectionId, waiting, decision);
        const ended = await handle.result();
        assert.equal(ended.state, state);
        assert.equal(ended.reason, reason);
        assert.equal(ended.next_action?.type, 'reconnect');
      });
    });
  }

  it('asks for reauthorization when the connection is revoked at Xero, and carries on with the same connection and a new API key', async () => {
    const connectionId = randomUUID();
    const taskQueue = uniqueTaskQueue();
    await runWorkerWhile(env, { taskQueue, activities }, async () => {
      const handle = await start(taskQueue, connectionId);
      await atXeroAndBack(handle, connectionId, await until(handle, (v) => v.state === 'awaiting_redirect'), 'approve');
      const active = await consentToAll(handle);
      const [link] = await db.query<{ provider_connection_id: string }>(
        `SELECT provider_connection_id FROM provider_connections WHERE provider = 'lnkfi' AND connection_id = $1`,
        [connectionId],
      );
      assert.ok(link);
      const lnkfiConnection = link.provider_connection_id;
      const firstKey = await secrets.get('lnkfi', apiKeySecretName(lnkfiConnection));

      // The end user removes the app at Xero: LnkFi says so by webhook.
      const revoked = await fetch(`${sandbox.url}/sandbox/connections/${lnkfiConnection}/revoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      assert.equal(revoked.status, 204);
      const invalid = await until(handle, (v) => v.state === 'credentials_invalid' && v.next_action?.type === 'redirect');
      assert.equal(invalid.reason, 'AUTH_FAILED');

      await atXeroAndBack(handle, connectionId, invalid, 'approve');
      const again = await until(handle, (v) => v.state === 'active' && v.last_sync?.synced_at !== active.last_sync?.synced_at);
      assert.equal(again.id, connectionId);
      assert.equal(again.last_sync?.transactions_added, 0, 'the same data, read again with the new key');
      const sandboxView = (await (await fetch(`${sandbox.url}/sandbox/connections/${lnkfiConnection}`)).json()) as { status: string; vendor_external_id: string };
      assert.deepEqual([sandboxView.status, sandboxView.vendor_external_id], ['active', connectionId], 'the same LnkFi connection');
      const newKey = await secrets.get('lnkfi', apiKeySecretName(lnkfiConnection));
      assert.ok(newKey && newKey !== firstKey);
      await stopQuietly(env, handle.workflowId);
    });
  });

  it('notices a revocation LnkFi did not announce at the next periodic sync (the proxy answers 401)', async () => {
    const connectionId = randomUUID();
    const taskQueue = uniqueTaskQueue();
    await runWorkerWhile(env, { taskQueue, activities }, async () => {
      const handle = await start(taskQueue, connectionId);
      await atXeroAndBack(handle, connectionId, await until(handle, (v) => v.state === 'awaiting_redirect'), 'approve');
      await consentToAll(handle);
      const [link] = await db.query<{ provider_connection_id: string }>(
        `SELECT provider_connection_id FROM provider_connections WHERE provider = 'lnkfi' AND connection_id = $1`,
        [connectionId],
      );
      assert.ok(link);
      const revoked = await fetch(`${sandbox.url}/sandbox/connections/${link.provider_connection_id}/revoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"notify":false}',
      });
      assert.equal(revoked.status, 204);
      assert.equal((await handle.query(stateQuery)).state, 'active', 'nothing told the workflow');

      clock += 86_400_000;
      await env.sleep('1 day');
      // credentials_invalid first, then with the re-authorization's URL once LnkFi gave one.
      const invalid = await until(handle, (v) => v.state === 'credentials_invalid' && v.next_action !== null);
      assert.equal(invalid.reason, 'AUTH_FAILED');
      assert.equal(invalid.next_action?.type, 'redirect');
      await stopQuietly(env, handle.workflowId);
    });
  });
});
