// Adversarial: webhook endpoints may not point Linkflow at itself, its network or the cloud's
// metadata service. Every spelling of a forbidden address is refused at registration (422, nothing
// stored); a name is judged by what it resolves to; a delivery checks again and connects to the
// address it checked (DNS rebinding), never follows a redirect, and the operator can opt in.
// Names are resolved by an injected resolver (names under .test), or the system's (localhost);
// every connection this test makes is to 127.0.0.1.
import assert from 'node:assert/strict';
import { lookup } from 'node:dns/promises';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { createTenantStore, migrate, openDatabase, type Database } from '../../store';
import { type WebhookEndpointStore, createWebhookEndpointStore } from '../../store/webhooks';
import { WebhookFailure, createWebhookActivities } from '../../activities/webhooks';
import type { ResolvedAddress, WebhookTargetPolicy } from '../../activities/webhook-targets';
import { type AppDeps, createApp } from '../../api/app';
import { loadConfig } from '../../config';
import { createLogger } from '../../logger';
import { type WebhookEvent, webhookEventId } from '../../contract/messages';

/** Services no request of this test may reach. */
function unused<T>(name: string): T {
  return new Proxy({}, {
    get(_, prop) {
      if (prop === 'then') return undefined;
      throw new Error(`the SSRF test touched ${name}.${String(prop)}`);
    },
  }) as T;
}

const PUBLIC_V4 = '93.184.215.14';
const PUBLIC_V6 = '2606:2800:21f:cb07:6820:80da:af6b:8b2c';

/** Names under .test resolve from this table (a function: a different answer each call); others through the system. */
function resolverFrom(table: Record<string, ResolvedAddress[] | (() => ResolvedAddress[])>) {
  const calls: string[] = [];
  const resolve = async (hostname: string): Promise<ResolvedAddress[]> => {
    calls.push(hostname);
    const entry = table[hostname];
    if (entry) return typeof entry === 'function' ? entry() : entry;
    if (hostname.endsWith('.test')) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return (await lookup(hostname, { all: true, verbatim: true })) as ResolvedAddress[];
  };
  return { resolve, calls };
}

const v4 = (address: string): ResolvedAddress => ({ address, family: 4 });
const v6 = (address: string): ResolvedAddress => ({ address, family: 6 });

interface Api {
  url: string;
  server: Server;
  key: string;
  tenantId: string;
}

async function startApi(db: Database, endpoints: WebhookEndpointStore, webhookTargets: WebhookTargetPolicy): Promise<Api> {
  const tenants = createTenantStore(db);
  const tenant = await tenants.createTenant('ssrf tenant');
  const key = (await tenants.issueKey(tenant.id)).key;
  const deps = {
    client: unused('client'),
    repository: unused('repository'),
    tenants,
    webhookEndpoints: endpoints,
    webhookTargets,
    providerLinks: unused('providerLinks'),
    webhookClaims: unused('webhookClaims'),
    redirectClaims: unused('redirectClaims'),
    providerSecrets: unused('providerSecrets'),
    stateSigner: unused('stateSigner'),
    credentialsKey: { publicKeyArmored: 'unused', fingerprint: 'unused' },
    publicUrl: 'http://linkflow.test',
    defaults: { syncIntervalSeconds: 86_400, redirectTimeoutSeconds: 1_800, consentTimeoutSeconds: 86_400, renewalLeadSeconds: 604_800 },
    logger: createLogger('ssrf-test', () => undefined),
  } as AppDeps;
  const server = createApp(deps).listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, key, tenantId: tenant.id };
}

async function register(api: Api, url: string): Promise<{ status: number; body: { id?: string; error?: { code: string; message: string } } }> {
  const response = await fetch(`${api.url}/v1/webhook-endpoints`, {
    method: 'POST',
    headers: { authorization: `Bearer ${api.key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ url }),
  });
  return { status: response.status, body: (await response.json()) as never };
}

/** A receiver on 127.0.0.1 answering `status` (with `location` for a 3xx); every request is recorded. */
async function receiver(status: number, location?: string): Promise<{ port: number; hits: string[]; server: Server }> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    req.resume();
    res.writeHead(status, location ? { location } : {}).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, hits, server };
}

function eventFor(tenantId: string): WebhookEvent {
  const connectionId = '7f3c8a52-6a43-4b52-9d0e-1c2f3a4b5c6d';
  return {
    id: webhookEventId(connectionId, 1),
    type: 'connection.state_changed',
    tenant_id: tenantId,
    connection_id: connectionId,
    created_at: '2025-03-01T10:00:00.000Z',
    data: { state: 'awaiting_consent', previous_state: 'listing_accounts', reason: null },
  };
}

/** One delivery attempt through the real activity, as the worker runs it. */
function deliver(endpoints: WebhookEndpointStore, webhookTargets: WebhookTargetPolicy, endpointId: string, event: WebhookEvent) {
  const activities = createWebhookActivities({ webhookEndpoints: endpoints, webhookTargets });
  return new MockActivityEnvironment().run(activities.deliverWebhook, { endpointId, event });
}

const failureType = (err: unknown) => (err instanceof ApplicationFailure ? err.type : String(err));

describe('webhook endpoints and server-side request forgery', () => {
  let db: Database;
  let endpoints: WebhookEndpointStore;
  const servers: Server[] = [];
  const stored = async (tenantId: string) =>
    (await db.query<{ n: number | string }>('SELECT count(*) AS n FROM webhook_endpoints WHERE tenant_id = $1', [tenantId]))[0]?.n;

  before(async () => {
    db = await openDatabase({});
    await migrate(db);
    endpoints = createWebhookEndpointStore(db, 'ssrf-test-sealing-secret-0123456789');
  });
  after(async () => {
    for (const server of servers) server.close();
    await db?.close();
  });

  describe('with the guard on (the default)', () => {
    const { resolve } = resolverFrom({
      'public.test': [v4(PUBLIC_V4), v6(PUBLIC_V6)],
      'internal.test': [v4('10.1.2.3')],
      'mixed.test': [v4(PUBLIC_V4), v4('127.0.0.1')],
      'ula.test': [v6('fd12:3456::1')],
      'mapped.test': [v6('::ffff:127.0.0.1')],
      'metadata.google.internal': [v4('169.254.169.254')],
    });
    let api: Api;
    before(async () => {
      api = await startApi(db, endpoints, { allowPrivate: false, resolve });
    });
    after(() => api.server.close());

    const FORBIDDEN = [
      // The cloud metadata service, and this machine's Temporal (gRPC and Web UI).
      'http://169.254.169.254/latest/meta-data/iam/security-credentials/',
      'http://169.254.169.254./latest/meta-data/',
      'http://127.0.0.1:8233/namespaces/default/workflows',
      'http://127.0.0.1:7233/',
      // Loopback, however it is spelled.
      'http://2130706433/',
      'http://0177.0.0.1/',
      'http://0x7f.1/',
      'http://0x7f000001/',
      'http://017700000001/',
      'http://127.1/',
      'http://127.0.0.1./',
      'http://127.255.255.254/',
      'HTTP://127.0.0.1/',
      'hTtPs://127.0.0.1/',
      'http://127.0.0.1\\@public.test/',
      // An empty user info is no user info to WHATWG URL: this is plain 127.0.0.1.
      'http://:@127.0.0.1/',
      'http://[::1]/',
      'http://[0:0:0:0:0:0:0:1]/',
      'http://[::ffff:127.0.0.1]/',
      'http://[::ffff:7f00:1]/',
      'http://[::127.0.0.1]/',
      'http://[64:ff9b::127.0.0.1]/',
      'http://[2002:7f00:1::1]/',
      'http://localhost/',
      'http://LOCALHOST:3000/',
      'http://localhost./',
      'http://api.localhost/',
      // Unspecified (Linux connects it to loopback), private, CGNAT, link-local, multicast, broadcast.
      'http://0.0.0.0:3000/',
      'http://0/',
      'http://[::]/',
      'http://10.0.0.1/',
      'http://172.16.5.4/',
      'http://192.168.1.1/',
      'http://100.64.0.1/',
      'http://100.100.100.200/latest/meta-data/',
      'http://169.254.0.1/',
      'http://[fe80::1]/',
      'http://[fd00::1]/',
      'http://[fc00::1]/',
      'http://[fd00:ec2::254]/latest/meta-data/',
      'http://[::ffff:169.254.169.254]/',
      'http://[::ffff:a9fe:a9fe]/',
      'http://[::ffff:10.0.0.1]/',
      'http://224.0.0.1/',
      'http://[ff02::1]/',
      'http://255.255.255.255/',
      // Names that resolve to any of them (one bad address among good ones is enough).
      'https://internal.test/hooks',
      'https://mixed.test/hooks',
      'https://ula.test/hooks',
      'https://mapped.test/hooks',
      'http://metadata.google.internal/computeMetadata/v1/',
    ];

    it('refuses every spelling of a loopback, private, link-local, metadata or special address: 422, nothing stored', async () => {
      for (const url of FORBIDDEN) {
        const response = await register(api, url);
        assert.equal(response.status, 422, `${url} was accepted: ${JSON.stringify(response.body)}`);
        // A host the URL parser reads as IPv4 in a non-canonical spelling (127.1, 0x7f.1, 2130706433, a
        // trailing dot) is not one the document's pattern allows: refused as such, before any lookup.
        if (response.body.error?.code === 'validation_failed') {
          assert.match(JSON.stringify(response.body.error), /an http\(s\) URL with a DNS name, an IPv4 address/, url);
          continue;
        }
        assert.equal(response.body.error?.code, 'webhook_url_forbidden', `${url}: ${JSON.stringify(response.body)}`);
        assert.match(String(response.body.error?.message), /not allowed/, url);
      }
      assert.equal(Number(await stored(api.tenantId)), 0);
    });

    it('refuses user-info tricks and other schemes as invalid URLs, storing nothing', async () => {
      for (const url of ['http://a@127.0.0.1/', 'http://public.test@127.0.0.1/', 'http://a:b@public.test/', 'file:///etc/passwd', 'gopher://127.0.0.1:6379/_', 'ws://public.test/']) {
        const response = await register(api, url);
        assert.equal(response.status, 422, url);
        assert.equal(response.body.error?.code, 'validation_failed', url);
      }
      assert.equal(Number(await stored(api.tenantId)), 0);
    });

    it('refuses a name that does not resolve, with its own code', async () => {
      const response = await register(api, 'https://nowhere.test/hooks');
      assert.equal(response.status, 422);
      assert.equal(response.body.error?.code, 'webhook_url_unresolvable');
      assert.equal(Number(await stored(api.tenantId)), 0);
    });

    it('accepts a name that resolves only to public addresses, and public literals', async () => {
      for (const url of ['https://public.test/hooks', `https://${PUBLIC_V4}/hooks`, `https://[${PUBLIC_V6}]/hooks`, 'https://public.test:8443/a?b=c']) {
        const response = await register(api, url);
        assert.equal(response.status, 201, `${url}: ${JSON.stringify(response.body)}`);
        assert.equal((await fetch(`${api.url}/v1/webhook-endpoints/${response.body.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${api.key}` } })).status, 204);
      }
    });

    it('refuses, at delivery, a name that resolved publicly at registration and privately now (DNS rebinding)', async () => {
      const target = await receiver(200);
      servers.push(target.server);
      let answers = 0;
      const rebinding = resolverFrom({
        // Public while Linkflow looks at registration, this machine's loopback by the time it delivers.
        'rebind.test': () => (answers++ === 0 ? [v4(PUBLIC_V4)] : [v4('127.0.0.1')]),
      });
      const rebindApi = await startApi(db, endpoints, { allowPrivate: false, resolve: rebinding.resolve });
      try {
        const created = await register(rebindApi, `http://rebind.test:${target.port}/hooks`);
        assert.equal(created.status, 201, JSON.stringify(created.body));
        await assert.rejects(
          deliver(endpoints, { allowPrivate: false, resolve: rebinding.resolve }, created.body.id as string, eventFor(rebindApi.tenantId)),
          (err) => {
            assert.equal(failureType(err), WebhookFailure.Forbidden);
            assert.equal((err as ApplicationFailure).nonRetryable, true);
            return true;
          },
        );
        assert.deepEqual(target.hits, [], 'the signed event reached a loopback address');
        assert.deepEqual(rebinding.calls, ['rebind.test', 'rebind.test']);
      } finally {
        rebindApi.server.close();
      }
    });

    it('refuses, at delivery, a stored endpoint whose literal address is forbidden (stored before the guard)', async () => {
      const target = await receiver(200);
      servers.push(target.server);
      const tenantId = (await createTenantStore(db).createTenant('legacy')).id;
      for (const host of ['127.0.0.1', '[::ffff:127.0.0.1]', '2130706433', 'localhost']) {
        const old = await endpoints.create(tenantId, `http://${host}:${target.port}/hooks`);
        await assert.rejects(deliver(endpoints, { allowPrivate: false }, old.id, eventFor(tenantId)), (err) => failureType(err) === WebhookFailure.Forbidden);
      }
      assert.deepEqual(target.hits, []);
    });
  });

  describe('with the operator opting in (LINKFLOW_WEBHOOK_ALLOW_PRIVATE=true)', () => {
    it('accepts loopback and private addresses, still never the metadata service, multicast or unspecified', async () => {
      const api = await startApi(db, endpoints, { allowPrivate: true, resolve: resolverFrom({}).resolve });
      try {
        for (const url of ['http://127.0.0.1:8080/hooks', 'http://localhost:8080/hooks', 'http://[::1]:8080/', 'http://10.0.0.1/', 'http://192.168.1.1/', 'http://[fd00::1]/']) {
          const response = await register(api, url);
          assert.equal(response.status, 201, `${url}: ${JSON.stringify(response.body)}`);
        }
        for (const url of ['http://169.254.169.254/latest/meta-data/', 'http://[::ffff:a9fe:a9fe]/', 'http://[fd00:ec2::254]/', 'http://100.100.100.200/', 'http://0.0.0.0/', 'http://224.0.0.1/']) {
          const response = await register(api, url);
          assert.equal(response.status, 422, url);
          assert.equal(response.body.error?.code, 'webhook_url_forbidden', url);
        }
      } finally {
        api.server.close();
      }
    });

    it('delivers to the address it checked: the name is not resolved again on connecting', async () => {
      const target = await receiver(204);
      servers.push(target.server);
      let answers = 0;
      // Checked as 127.0.0.1, where the receiver is; a second look-up would answer 127.0.0.2, where nothing listens.
      const pinned = resolverFrom({ 'pinned.test': () => [v4(answers++ === 0 ? '127.0.0.1' : '127.0.0.2')] });
      const tenantId = (await createTenantStore(db).createTenant('pinned')).id;
      const endpoint = await endpoints.create(tenantId, `http://pinned.test:${target.port}/hooks`);
      const result = await deliver(endpoints, { allowPrivate: true, resolve: pinned.resolve }, endpoint.id, eventFor(tenantId));
      assert.deepEqual(result, { outcome: 'delivered', status: 204 });
      assert.deepEqual(target.hits, ['POST /hooks']);
      assert.deepEqual(pinned.calls, ['pinned.test']);
    });

    it('does not follow a redirect: a 3xx is a failed delivery, and its Location gets nothing', async () => {
      const elsewhere = await receiver(200);
      const redirecting = await receiver(307, `http://127.0.0.1:${elsewhere.port}/stolen`);
      servers.push(elsewhere.server, redirecting.server);
      const tenantId = (await createTenantStore(db).createTenant('redirect')).id;
      const endpoint = await endpoints.create(tenantId, `http://127.0.0.1:${redirecting.port}/hooks`);
      await assert.rejects(deliver(endpoints, { allowPrivate: true }, endpoint.id, eventFor(tenantId)), (err) => {
        assert.equal(failureType(err), WebhookFailure.Rejected);
        assert.equal((err as ApplicationFailure).nonRetryable, true);
        return true;
      });
      assert.deepEqual(redirecting.hits, ['POST /hooks']);
      assert.deepEqual(elsewhere.hits, []);
    });
  });

  it('reads LINKFLOW_WEBHOOK_ALLOW_PRIVATE strictly: true or false, nothing else', () => {
    assert.equal(loadConfig({}).LINKFLOW_WEBHOOK_ALLOW_PRIVATE, undefined);
    assert.equal(loadConfig({ LINKFLOW_WEBHOOK_ALLOW_PRIVATE: 'true' }).LINKFLOW_WEBHOOK_ALLOW_PRIVATE, true);
    assert.equal(loadConfig({ LINKFLOW_WEBHOOK_ALLOW_PRIVATE: 'false' }).LINKFLOW_WEBHOOK_ALLOW_PRIVATE, false);
    for (const bad of ['yes', '1', 'TRUE ', '']) {
      assert.throws(() => loadConfig({ LINKFLOW_WEBHOOK_ALLOW_PRIVATE: bad }), /LINKFLOW_WEBHOOK_ALLOW_PRIVATE/, JSON.stringify(bad));
    }
  });
});
