// The institution catalogue: each adapter's listInstitutions against its real sandbox over HTTP,
// and the catalogue over them (one list, search, caching, a provider that fails or hangs).
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createFlinksAdapter } from '../../providers/flinks/adapter';
import { FLINKS_INSTITUTIONS } from '../../providers/flinks/institutions';
import { createLnkfiAdapter } from '../../providers/lnkfi/adapter';
import { LNKFI_SYSTEMS } from '../../providers/lnkfi/institutions';
import { createOxlinAdapter } from '../../providers/oxlin/adapter';
import { createPowensAdapter } from '../../providers/powens/adapter';
import { createInstitutionCatalogue } from '../../providers/catalogue';
import type { Institution, ProviderAdapter, ProviderSecrets } from '../../providers/types';
import { createLogger } from '../../logger';
import { DEFAULT_CUSTOMER_ID, type FlinksSandbox, startFlinksSandbox } from '../../sandbox/flinks/server';
import { INSTITUTIONS as SANDBOX_FLINKS_INSTITUTIONS } from '../../sandbox/flinks/data';
import { type LnkfiSandbox, SANDBOX_VENDOR_ID, SANDBOX_XERO_APP, startLnkfiSandbox } from '../../sandbox/lnkfi/server';
import { SYSTEMS } from '../../sandbox/lnkfi/simulator';
import { type OxlinSandbox, startOxlinSandbox } from '../../sandbox/oxlin/server';
import { type PowensSandbox, startPowensSandbox } from '../../sandbox/powens/server';

/** Provider secrets in memory (Powens keeps each new user's token there). */
const kept = new Map<string, string>();
const secrets: ProviderSecrets = {
  put: async (provider, key, value) => void kept.set(`${provider}/${key}`, value),
  get: async (provider, key) => kept.get(`${provider}/${key}`) ?? null,
  delete: async (provider, key) => void kept.delete(`${provider}/${key}`),
};
const OXLIN_CLIENT = { clientId: 'linkflow-sandbox', clientSecret: 'sandbox-secret' };
const POWENS_CLIENT = { clientId: 'linkflow-sandbox', clientSecret: 'sandbox-secret' };

type Lister = Pick<ProviderAdapter, 'listInstitutions'>;

/** A lister that counts the calls it passes on to `inner`. */
function counted(inner: Lister): Lister & { calls: number } {
  const lister = {
    calls: 0,
    listInstitutions: () => {
      lister.calls += 1;
      return inner.listInstitutions();
    },
  };
  return lister;
}

describe('institutions', () => {
  let oxlin: OxlinSandbox;
  let flinks: FlinksSandbox;
  let powens: PowensSandbox;
  let lnkfi: LnkfiSandbox;
  let adapters: Record<'oxlin' | 'flinks' | 'powens' | 'lnkfi', ProviderAdapter>;

  before(async () => {
    [oxlin, flinks, powens, lnkfi] = await Promise.all([
      startOxlinSandbox({ port: 0 }),
      startFlinksSandbox({ port: 0 }),
      startPowensSandbox({ port: 0 }),
      startLnkfiSandbox({ port: 0 }),
    ]);
    adapters = {
      oxlin: createOxlinAdapter({ baseUrl: oxlin.url, ...OXLIN_CLIENT }),
      flinks: createFlinksAdapter({ baseUrl: flinks.url, customerId: DEFAULT_CUSTOMER_ID }, { secrets }),
      powens: createPowensAdapter({ baseUrl: powens.url, ...POWENS_CLIENT }, { secrets }),
      lnkfi: createLnkfiAdapter(
        {
          baseUrl: lnkfi.url,
          vendorId: SANDBOX_VENDOR_ID,
          system: 'xero',
          systemClientId: SANDBOX_XERO_APP.clientId,
          systemClientSecret: SANDBOX_XERO_APP.clientSecret,
          legalName: 'Acme Lending',
        },
        { secrets },
      ),
    };
  });
  after(async () => {
    await Promise.all([oxlin?.close(), flinks?.close(), powens?.close(), lnkfi?.close()]);
  });

  describe("each adapter's listInstitutions against its sandbox", () => {
    it('Oxlin: GET /v2.1/providers, modes from the channel definitions, country_code as given', async () => {
      const listed = await adapters.oxlin.listInstitutions();
      assert.deepEqual(listed, [
        { provider: 'oxlin', id: '87', name: 'Linxo Test Bank', country: 'FRA', modes: ['redirect', 'embedded'] },
        { provider: 'oxlin', id: '119', name: 'HSBC', country: 'FRA', modes: ['redirect', 'embedded'] },
      ]);
      // The ids are the ones the sandbox's provider resource answers to.
      for (const institution of listed) {
        const fields = await adapters.oxlin.credentialFields(institution.id, institution.id === '87' ? '8702' : 'embedded1');
        assert.ok(fields.length > 0, `provider ${institution.id} has its EMBEDDED channel's fields`);
      }
    });

    it('Powens: GET /2.0/connectors?expand=sources, the mode of the first usable source', async () => {
      const listed = await adapters.powens.listInstitutions();
      assert.deepEqual(listed, [
        { provider: 'powens', id: '59', name: 'Powens Test Bank', country: null, modes: ['embedded'] },
        { provider: 'powens', id: '60', name: 'Powens Open Banking', country: null, modes: ['redirect'] },
        // Sources out of order, one disabled: openapi (webauth, priority 1) starts the connection.
        { provider: 'powens', id: '61', name: 'Banque Multi-Sources', country: null, modes: ['redirect'] },
      ]);
      // What the catalogue says a connector starts with is what authorize starts it with.
      for (const institution of listed) {
        const mode = institution.modes[0] ?? assert.fail('no mode');
        const started = await adapters.powens.authorize({
          connectionId: 'c-1',
          institutionId: institution.id,
          mode,
          redirectUri: 'https://linkflow.example/callbacks/powens',
          state: 's',
        });
        assert.equal(started.kind, mode === 'redirect' ? 'redirect' : 'credentials', `connector ${institution.id}`);
      }
    });

    it('Flinks: the institutions the reference and the sandbox name, each one Flinks Connect opens on', async () => {
      const listed = await adapters.flinks.listInstitutions();
      assert.deepEqual(listed, [{ provider: 'flinks', id: 'FlinksCapital', name: 'Flinks Capital', country: null, modes: ['redirect'] }]);
      assert.deepEqual(FLINKS_INSTITUTIONS, SANDBOX_FLINKS_INSTITUTIONS);
      const open = async (institutionId: string) => {
        const started = await adapters.flinks.authorize({ connectionId: 'c-1', institutionId, mode: 'redirect', redirectUri: 'https://linkflow.example/callbacks/flinks', state: 's' });
        assert.equal(started.kind, 'redirect');
        return fetch(started.kind === 'redirect' ? started.url : '');
      };
      for (const institution of listed) {
        const page = await open(institution.id);
        assert.equal(page.status, 200);
        assert.match(await page.text(), new RegExp(`name="institution" value="${institution.id}"`));
      }
      assert.equal((await open('NoSuchBank')).status, 400, 'Flinks Connect refuses an institution it does not offer');
    });

    it('LnkFi: the configured system, one LnkFi authorizes', async () => {
      const listed = await adapters.lnkfi.listInstitutions();
      assert.deepEqual(listed, [{ provider: 'lnkfi', id: 'xero', name: 'Xero', country: null, modes: ['redirect'] }]);
      assert.deepEqual(Object.keys(LNKFI_SYSTEMS), [...SYSTEMS]);
      for (const institution of listed) {
        const started = await adapters.lnkfi.authorize({ connectionId: 'c-1', institutionId: institution.id, mode: 'redirect', redirectUri: 'https://linkflow.example/callbacks/lnkfi', state: 's' });
        assert.equal(started.kind, 'redirect');
      }
    });
  });

  describe('the catalogue', () => {
    const quiet = () => {
      const lines: string[] = [];
      return { logger: createLogger('institutions', (line) => lines.push(line)), lines };
    };

    it('one list across the providers, sorted by name; q searches names and ids, case- and accent-insensitively; provider filters', async () => {
      const { logger } = quiet();
      const catalogue = createInstitutionCatalogue({ adapters, logger });
      assert.deepEqual(catalogue.providers, ['oxlin', 'flinks', 'powens', 'lnkfi']);
      const all = await catalogue.list();
      assert.deepEqual(
        all.map((i) => `${i.provider}:${i.id}`),
        ['powens:61', 'flinks:FlinksCapital', 'oxlin:119', 'oxlin:87', 'powens:60', 'powens:59', 'lnkfi:xero'],
      );
      const ids = (list: Institution[]) => list.map((i) => i.id);
      assert.deepEqual(ids(await catalogue.list({ q: 'hsbc' })), ['119']);
      assert.deepEqual(ids(await catalogue.list({ q: 'POWENS' })), ['60', '59']);
      assert.deepEqual(ids(await catalogue.list({ q: 'flinkscap' })), ['FlinksCapital'], 'the id matches too');
      assert.deepEqual(ids(await catalogue.list({ q: 'XÉRO' })), ['xero'], 'accents and case folded');
      assert.deepEqual(ids(await catalogue.list({ q: '8' })), ['87'], 'an id substring');
      assert.deepEqual(ids(await catalogue.list({ q: 'nothing like it' })), []);
      assert.deepEqual(ids(await catalogue.list({ provider: 'oxlin' })), ['119', '87']);
      assert.deepEqual(ids(await catalogue.list({ provider: 'powens', q: 'banque' })), ['61']);
      // A caller changing what it got does not change the catalogue.
      all[0]?.modes.push('embedded');
      assert.deepEqual((await catalogue.list({ provider: 'powens', q: 'banque' }))[0]?.modes, ['redirect']);
    });

    it('asks each provider once per ttl, concurrent requests included', async () => {
      const clock = { now: 1_000_000 };
      const oxlinCounted = counted(adapters.oxlin);
      const catalogue = createInstitutionCatalogue({ adapters: { oxlin: oxlinCounted }, logger: quiet().logger, ttlMs: 60_000, now: () => clock.now });
      await Promise.all([catalogue.list(), catalogue.list({ q: 'hsbc' }), catalogue.list()]);
      assert.equal(oxlinCounted.calls, 1);
      clock.now += 59_999;
      await catalogue.list();
      assert.equal(oxlinCounted.calls, 1);
      clock.now += 1;
      assert.equal((await catalogue.list()).length, 2);
      assert.equal(oxlinCounted.calls, 2);
    });

    it('a provider that fails is served from its last good list, or left out when it never answered, with a warning: the others still answer', async () => {
      const clock = { now: 1_000_000 };
      const { logger, lines } = quiet();
      const down = await startPowensSandbox({ port: 0 });
      const powensDown = counted(createPowensAdapter({ baseUrl: down.url, ...POWENS_CLIENT }, { secrets }));
      // A port nothing listens on: the Oxlin adapter's requests fail at once.
      const closed = createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const deadUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
      await new Promise((resolve) => closed.close(resolve));
      const oxlinDead = counted(createOxlinAdapter({ baseUrl: deadUrl, ...OXLIN_CLIENT }));
      const catalogue = createInstitutionCatalogue({
        adapters: { oxlin: oxlinDead, powens: powensDown, lnkfi: adapters.lnkfi },
        logger,
        ttlMs: 1_000,
        retryMs: 500,
        now: () => clock.now,
      });

      const first = await catalogue.list();
      assert.deepEqual(first.map((i) => `${i.provider}:${i.id}`), ['powens:61', 'powens:60', 'powens:59', 'lnkfi:xero'], 'Oxlin left out');
      assert.equal(lines.filter((l) => l.includes('"level":"warn"') && l.includes('oxlin') && l.includes('left out of the catalogue')).length, 1, lines.join('\n'));

      await down.close();
      clock.now += 1_000;
      const second = await catalogue.list();
      assert.deepEqual(second, first, 'Powens served from its last good list');
      assert.equal(powensDown.calls, 2, 'Powens was asked again');
      assert.ok(lines.some((l) => l.includes('"level":"warn"') && l.includes('powens') && l.includes('serving its last good list')), lines.join('\n'));

      // Within retryMs of a failure, a failing provider is not asked again.
      clock.now += 499;
      await catalogue.list();
      assert.equal(powensDown.calls, 2);
      assert.equal(oxlinDead.calls, 2);
      clock.now += 1;
      await catalogue.list();
      assert.equal(powensDown.calls, 3);
      assert.equal(oxlinDead.calls, 3);
    });

    it('a provider that does not answer in time is answered without, and its late answer fills the cache', async () => {
      const held: { release?: () => void } = {};
      // A real HTTP server that holds each request until released.
      const slow = createServer((req, res) => {
        held.release = () => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ connectors: [{ id: 7, name: 'Slow Bank', sources: [{ id: 70, name: 'openapi', priority: 1, disabled: null, auth_mechanism: 'webauth' }] }] }));
        };
      });
      await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
      const slowUrl = `http://127.0.0.1:${(slow.address() as AddressInfo).port}`;
      try {
        const { logger, lines } = quiet();
        const catalogue = createInstitutionCatalogue({
          adapters: { powens: createPowensAdapter({ baseUrl: slowUrl, ...POWENS_CLIENT }, { secrets }), lnkfi: adapters.lnkfi },
          logger,
          waitMs: 100,
        });
        const started = Date.now();
        assert.deepEqual((await catalogue.list()).map((i) => i.id), ['xero']);
        assert.ok(Date.now() - started < 2_000);
        assert.ok(lines.some((l) => l.includes('powens') && l.includes('no answer within 100 ms')), lines.join('\n'));
        held.release?.();
        await new Promise((resolve) => setTimeout(resolve, 100));
        assert.deepEqual(await catalogue.list({ provider: 'powens' }), [{ provider: 'powens', id: '7', name: 'Slow Bank', country: null, modes: ['redirect'] }]);
      } finally {
        slow.closeAllConnections();
        await new Promise((resolve) => slow.close(resolve));
      }
    });
  });
});
