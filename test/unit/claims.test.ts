// Exactly once at the edges: inbound events are claimed atomically before they are signalled.
// The claims on PGlite and, when TEST_DATABASE_URL names one, on a real PostgreSQL server (where
// concurrent claims really race on separate connections); then the two routes that use them, with
// a Temporal client whose signal fails, hangs or never comes (a crash between claim and signal).
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type Router from '@koa/router';
import type { Client } from '@temporalio/client';
import Koa from 'koa';
import { createStateSigner } from '../../domain/redirect-state';
import {
  type Claim,
  type Database,
  createProviderLinks,
  createProviderSecrets,
  createRedirectClaims,
  createWebhookClaims,
} from '../../store';
import { errorMiddleware } from '../../api/errors';
import { createConnectSessions } from '../../store/connect-sessions';
import { callbackRoutes } from '../../api/routes/callbacks/callbacks';
import { providerWebhookRoutes } from '../../api/routes/provider-webhooks/provider-webhooks';
import { createLogger } from '../../logger';
import type { ConnectionView } from '../../contract/messages';
import { openTestDatabase, testStores } from '../helpers/real-activities';

const outcomes = (claims: Claim[]): string[] => claims.map((c) => c.outcome).sort();
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

for (const [name, open] of testStores()) {
  describe(`inbound claims on ${name}`, () => {
    let db: Database;
    before(async () => {
      db = await open();
    });
    after(async () => {
      await db?.close();
    });

    it('ten deliveries of one webhook event at once: one claim, nine pending; once signalled, a duplicate', async () => {
      const claims = createWebhookClaims(db);
      const id = randomUUID();
      const all = await Promise.all(Array.from({ length: 10 }, () => claims.claim('oxlin', id)));
      assert.deepEqual(outcomes(all), ['claimed', ...Array<string>(9).fill('pending')]);
      await claims.markSignalled('oxlin', id);
      assert.deepEqual(await claims.claim('oxlin', id), { outcome: 'signalled' });
    });

    it('keeps two providers\u2019 event ids apart', async () => {
      const claims = createWebhookClaims(db);
      const id = randomUUID();
      assert.equal((await claims.claim('oxlin', id)).outcome, 'claimed');
      assert.equal((await claims.claim('flinks', id)).outcome, 'claimed');
      assert.equal((await claims.claim('lnkfi', id)).outcome, 'claimed');
    });

    it('a claim released after a failed signal lets the redelivery through; only its own token releases it', async () => {
      const claims = createWebhookClaims(db);
      const id = randomUUID();
      const first = await claims.claim('flinks', id);
      assert.equal(first.outcome, 'claimed');
      await claims.release('flinks', id, randomUUID());
      assert.equal((await claims.claim('flinks', id)).outcome, 'pending', 'another token releases nothing');
      if (first.outcome === 'claimed') await claims.release('flinks', id, first.token);
      const redelivery = await claims.claim('flinks', id);
      assert.equal(redelivery.outcome, 'claimed');
      await claims.markSignalled('flinks', id);
      if (redelivery.outcome === 'claimed') await claims.release('flinks', id, redelivery.token);
      assert.deepEqual(await claims.claim('flinks', id), { outcome: 'signalled' }, 'a signalled claim is never released');
    });

    it('a claim never signalled (its process died) is taken over after the lease, once; a signalled one never', async () => {
      const claims = createWebhookClaims(db, 200);
      const id = randomUUID();
      const dead = await claims.claim('lnkfi', id);
      assert.equal(dead.outcome, 'claimed');
      assert.equal((await claims.claim('lnkfi', id)).outcome, 'pending', 'within the lease');
      await sleep(300);
      const takeovers = await Promise.all(Array.from({ length: 5 }, () => claims.claim('lnkfi', id)));
      assert.deepEqual(outcomes(takeovers), ['claimed', 'pending', 'pending', 'pending', 'pending']);
      // The dead claimant's token no longer releases the claim that replaced it.
      if (dead.outcome === 'claimed') await claims.release('lnkfi', id, dead.token);
      assert.equal((await claims.claim('lnkfi', id)).outcome, 'pending');
      await claims.markSignalled('lnkfi', id);
      await sleep(300);
      assert.deepEqual(await claims.claim('lnkfi', id), { outcome: 'signalled' });
    });

    it('redirect states: one claim among many at once, released on a failed signal, taken over after the lease, spent once signalled', async () => {
      const claims = createRedirectClaims(db, 200);
      const nonce = randomUUID();
      const connectionId = randomUUID();
      const all = await Promise.all(Array.from({ length: 10 }, () => claims.claim(nonce, connectionId)));
      assert.deepEqual(outcomes(all), ['claimed', ...Array<string>(9).fill('pending')]);
      const winner = all.find((c) => c.outcome === 'claimed');
      if (winner?.outcome === 'claimed') await claims.release(nonce, winner.token);
      assert.equal((await claims.claim(nonce, connectionId)).outcome, 'claimed', 'released: the retry claims it');
      await sleep(300);
      assert.equal((await claims.claim(nonce, connectionId)).outcome, 'claimed', 'unsignalled past the lease: taken over');
      await claims.markSignalled(nonce, connectionId);
      await sleep(300);
      assert.deepEqual(await claims.claim(nonce, connectionId), { outcome: 'signalled' });
    });

    it('rows from before claims, or from an older replica mid-deploy (written after signalling), count as signalled', async () => {
      const id = randomUUID();
      await db.query('INSERT INTO provider_webhook_events (provider, event_id) VALUES ($1, $2)', ['oxlin', id]);
      assert.deepEqual(await createWebhookClaims(db).claim('oxlin', id), { outcome: 'signalled' });
      const nonce = randomUUID();
      await db.query('INSERT INTO redirect_claims (nonce, connection_id) VALUES ($1, $2)', [nonce, randomUUID()]);
      assert.deepEqual(await createRedirectClaims(db).claim(nonce, randomUUID()), { outcome: 'signalled' });
    });
  });
}

/** A Temporal client as far as the two routes use it; each signal is answered by `onSignal`. */
interface FakeTemporal {
  client: Client;
  /** Signals that went through: [workflow id, signal name, argument]. */
  delivered: [string, string, unknown][];
  attempts: number;
}

function fakeTemporal(onSignal: (attempt: number) => Promise<void>, view?: ConnectionView): FakeTemporal {
  const fake: FakeTemporal = { client: undefined as unknown as Client, delivered: [], attempts: 0 };
  fake.client = {
    withDeadline: <R>(_deadline: number, fn: () => Promise<R>) => fn(),
    workflow: {
      getHandle: (workflowId: string) => ({
        query: async () => view,
        signal: async (definition: { name: string }, arg: unknown) => {
          await onSignal(++fake.attempts);
          fake.delivered.push([workflowId, definition.name, arg]);
        },
      }),
    },
  } as unknown as Client;
  return fake;
}

const unavailable = () => Object.assign(new Error('14 UNAVAILABLE: Temporal is unreachable'), { code: 14 });

describe('the inbound routes when the signal fails, hangs or never comes', () => {
  const SECRET = 'claims-test-oxlin-secret';
  let db: Database;
  const servers: Server[] = [];
  before(async () => {
    db = await openTestDatabase();
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

  /** POST /webhooks/oxlin on a fresh route over `db`, for one Oxlin connection linked to a Linkflow one. */
  async function oxlinIngress(temporal: FakeTemporal, leaseMs?: number) {
    const providerLinks = createProviderLinks(db);
    const providerId = randomUUID();
    await providerLinks.link('oxlin', providerId, randomUUID());
    const webhookClaims = createWebhookClaims(db, leaseMs);
    const base = await serve(
      providerWebhookRoutes({
        client: temporal.client,
        providerLinks,
        webhookClaims,
        providerSecrets: createProviderSecrets(db, 'claims-test-sealing-secret-claims-test'),
        secrets: { oxlin: SECRET },
      }),
    );
    const id = `evt-${randomUUID()}`;
    const body = JSON.stringify({
      id,
      event_type: 'SYNC_ALL_SUCCESS',
      resource_type: 'CONNECTION',
      resource: { id: providerId, provider_id: '87', status: 'SUCCESS', channels: [] },
    });
    const deliver = async () => {
      const response = await fetch(`${base}/webhooks/oxlin`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-oxlin-signature': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}` },
        body,
      });
      return { status: response.status, body: (await response.json()) as { status?: string; error?: { code: string } }, headers: response.headers };
    };
    return { id, deliver, webhookClaims };
  }

  it('a webhook whose signal fails is answered 500 and released: the redelivery is accepted and signalled once', async () => {
    const temporal = fakeTemporal(async (attempt) => {
      if (attempt === 1) throw unavailable();
    });
    const { id, deliver } = await oxlinIngress(temporal);
    assert.equal((await deliver()).status, 500);
    assert.deepEqual((await deliver()).body, { status: 'accepted' });
    assert.deepEqual((await deliver()).body, { status: 'duplicate' });
    assert.equal(temporal.attempts, 2);
    assert.deepEqual(
      temporal.delivered.map(([, name, arg]) => [name, (arg as { eventId: string }).eventId]),
      [['providerEvent', `oxlin:${id}`]],
      'namespaced by provider for the workflow too',
    );
  });

  it('a delivery arriving while the claimant signals waits for it: a duplicate once signalled, never a second signal', async () => {
    let letGo = () => {};
    const temporal = fakeTemporal((attempt) => (attempt === 1 ? new Promise<void>((resolve) => (letGo = resolve)) : Promise.resolve()));
    const { deliver } = await oxlinIngress(temporal);
    const first = deliver();
    await sleep(200); // the first holds the claim, its signal in flight
    const second = deliver();
    await sleep(200);
    letGo();
    assert.deepEqual((await Promise.all([first, second])).map((r) => r.body.status), ['accepted', 'duplicate']);
    assert.equal(temporal.attempts, 1);
  });

  it("when the claimant's signal fails, the delivery waiting behind it claims the event and signals it", async () => {
    let fail = () => {};
    const temporal = fakeTemporal((attempt) =>
      attempt === 1 ? new Promise<void>((_resolve, reject) => (fail = () => reject(unavailable()))) : Promise.resolve(),
    );
    const { deliver } = await oxlinIngress(temporal);
    const first = deliver();
    await sleep(200);
    const second = deliver();
    await sleep(200);
    fail();
    assert.deepEqual((await Promise.all([first, second])).map((r) => r.status), [500, 200]);
    assert.equal((await second).body.status, 'accepted');
    assert.equal(temporal.delivered.length, 1);
  });

  it('a delivery still waiting on an unsignalled claim at the end of its wait is a 503 (retry), not a duplicate', async () => {
    const temporal = fakeTemporal(async () => undefined);
    const { id, deliver, webhookClaims } = await oxlinIngress(temporal);
    assert.equal((await webhookClaims.claim('oxlin', id)).outcome, 'claimed'); // a claimant that is slow, or dead
    const started = Date.now();
    const response = await deliver();
    assert.equal(response.status, 503, 'providers redeliver on a 5xx');
    assert.equal(response.body.error?.code, 'event_in_progress');
    assert.equal(response.headers.get('retry-after'), '1');
    assert.ok(Date.now() - started >= 1_900, 'it waited for the claimant first');
    assert.equal(temporal.attempts, 0);
  });

  it('a claim left unsignalled by a crash is taken over after the lease: the redelivery is signalled', async () => {
    const temporal = fakeTemporal(async () => undefined);
    const { id, deliver, webhookClaims } = await oxlinIngress(temporal, 300);
    assert.equal((await webhookClaims.claim('oxlin', id)).outcome, 'claimed'); // then the process died
    assert.deepEqual((await deliver()).body, { status: 'accepted' });
    assert.equal(temporal.delivered.length, 1);
  });

  /** GET /callbacks/oxlin on a fresh route, for a connection waiting for its redirect. */
  async function oxlinCallback(onSignal: (attempt: number) => Promise<void>, leaseMs?: number) {
    const signer = createStateSigner('claims-test-state-secret-claims-test');
    const connectionId = randomUUID();
    const view = {
      id: connectionId,
      provider: 'oxlin',
      state: 'awaiting_redirect',
      next_action: { type: 'redirect', url: 'https://bank.example/authorize', expires_at: new Date(Date.now() + 60_000).toISOString() },
      redirect_url: 'https://client.example/linked',
    } as unknown as ConnectionView;
    const temporal = fakeTemporal(onSignal, view);
    const redirectClaims = createRedirectClaims(db, leaseMs);
    const base = await serve(callbackRoutes({ client: temporal.client, stateSigner: signer, redirectClaims, providerLinks: createProviderLinks(db), connectSessions: createConnectSessions(db) }));
    const { state, nonce } = signer.issue(connectionId);
    const url = `${base}/callbacks/oxlin?${new URLSearchParams({ state, status: 'SUCCESS', connection_id: '4242', queue_id: '7' })}`;
    const visit = async () => (await fetch(url, { redirect: 'manual' })).status;
    return { temporal, visit, nonce, connectionId, redirectClaims };
  }

  it('a redirect whose signal fails leaves its state usable: the reload goes on, signalled once', async () => {
    const { temporal, visit } = await oxlinCallback(async (attempt) => {
      if (attempt === 1) throw unavailable();
    });
    assert.equal(await visit(), 500);
    assert.equal(await visit(), 303);
    assert.equal(await visit(), 409, 'then the state is spent');
    assert.deepEqual(temporal.delivered.map(([, name]) => name), ['redirectReceived']);
  });

  it('three identical redirects at once: one signal', async () => {
    const { temporal, visit } = await oxlinCallback(() => sleep(50));
    assert.deepEqual((await Promise.all([visit(), visit(), visit()])).sort(), [303, 409, 409]);
    assert.equal(temporal.delivered.length, 1);
  });

  it('a redirect claimed by a process that died before signalling goes through once the lease is over', async () => {
    const { temporal, visit, nonce, connectionId, redirectClaims } = await oxlinCallback(async () => undefined, 300);
    assert.equal((await redirectClaims.claim(nonce, connectionId)).outcome, 'claimed');
    assert.equal(await visit(), 409, 'within the lease');
    await sleep(400);
    assert.equal(await visit(), 303);
    assert.equal(temporal.delivered.length, 1);
  });
});
