// GET /v1/institutions end to end: the API process's catalogue over the four real sandboxes
// (test/helpers/linkflow.ts), through the tenant API.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Linkflow, startLinkflow } from '../helpers/linkflow';

/** Each provider's list is asked again after 1 s, so a provider taken down is noticed. */
const CACHE_SECONDS = 1;

describe('GET /v1/institutions', () => {
  let lf: Linkflow;
  before(async () => {
    lf = await startLinkflow({ institutionsCacheSeconds: CACHE_SECONDS });
  });
  after(async () => {
    await lf?.stop();
  });

  const list = (query = '') => lf.call('GET', `/v1/institutions${query}`);
  const keys = (body: { data: { provider: string; institution_id: string }[] }) => body.data.map((i) => `${i.provider}:${i.institution_id}`);

  it('lists the four providers’ institutions in one list, sorted by name, each with its modes', async () => {
    const all = await list();
    assert.equal(all.status, 200, JSON.stringify(all.body));
    assert.deepEqual(all.body.data, [
      { provider: 'powens', institution_id: '61', name: 'Banque Multi-Sources', country: null, modes: ['redirect'] },
      { provider: 'flinks', institution_id: 'FlinksCapital', name: 'Flinks Capital', country: null, modes: ['redirect'] },
      { provider: 'oxlin', institution_id: '119', name: 'HSBC', country: 'FRA', modes: ['redirect', 'embedded'] },
      { provider: 'oxlin', institution_id: '87', name: 'Linxo Test Bank', country: 'FRA', modes: ['redirect', 'embedded'] },
      { provider: 'powens', institution_id: '60', name: 'Powens Open Banking', country: null, modes: ['redirect'] },
      { provider: 'powens', institution_id: '59', name: 'Powens Test Bank', country: null, modes: ['embedded'] },
      { provider: 'lnkfi', institution_id: 'xero', name: 'Xero', country: null, modes: ['redirect'] },
    ]);
  });

  it('an institution listed starts a connection with the mode listed', async () => {
    const listed = (await list('?provider=powens&q=test')).body.data[0];
    const created = await lf.call('POST', '/v1/connections', {
      provider: listed.provider,
      institution_id: listed.institution_id,
      mode: listed.modes[0],
      redirect_url: 'https://client.example/linked',
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.next_action.type, 'credentials');
  });

  it('searches by q (name or id, any case) and filters by provider', async () => {
    assert.deepEqual(keys((await list('?q=HSBC')).body), ['oxlin:119']);
    assert.deepEqual(keys((await list('?q=bank')).body), ['oxlin:87', 'powens:60', 'powens:59']);
    assert.deepEqual(keys((await list('?q=flinkscapital')).body), ['flinks:FlinksCapital']);
    assert.deepEqual(keys((await list(`?q=${encodeURIComponent('Xéro')}`)).body), ['lnkfi:xero']);
    assert.deepEqual(keys((await list('?q=no+such+bank')).body), []);
    assert.deepEqual(keys((await list('?provider=oxlin')).body), ['oxlin:119', 'oxlin:87']);
    assert.deepEqual(keys((await list('?provider=powens&q=banque')).body), ['powens:61']);
    assert.equal((await list('?q=')).body.data.length, 7, 'an empty q filters nothing');
  });

  it('refuses an unknown provider (422), a bad query (400) and a missing key (401)', async () => {
    const unknown = await list('?provider=plaid');
    assert.equal(unknown.status, 422);
    assert.equal(unknown.body.error.code, 'provider_not_configured');
    assert.deepEqual(unknown.body.error.details, { providers: ['oxlin', 'flinks', 'powens', 'lnkfi'] });
    assert.doesNotMatch(unknown.body.error.message, /plaid/, 'the input is not echoed');

    const long = await list(`?q=${'a'.repeat(101)}`);
    assert.equal(long.status, 400);
    assert.equal(long.body.error.code, 'invalid_query');
    assert.equal(long.body.error.details[0].path, 'q');
    assert.equal((await list(`?q=${'a'.repeat(100)}`)).status, 200);
    for (const query of ['?q=a&q=b', '?provider=oxlin&provider=powens', '?limit=5']) {
      const bad = await list(query);
      assert.equal(bad.status, 400, query);
      assert.equal(bad.body.error.code, 'invalid_query', query);
    }

    const anonymous = await lf.call('GET', '/v1/institutions', undefined, { authorization: '' });
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.body.error.code, 'unauthorized');
    const wrongKey = await lf.call('GET', '/v1/institutions', undefined, { authorization: 'Bearer lf_not_a_key' });
    assert.equal(wrongKey.status, 401);
  });

  it('a provider that is down still lets the others answer: its last good list is served, with a warning', async () => {
    assert.deepEqual(keys((await list('?provider=powens')).body), ['powens:61', 'powens:60', 'powens:59']);
    await lf.sandboxes.powens.close();
    await new Promise((resolve) => setTimeout(resolve, CACHE_SECONDS * 1000 + 100));
    const answered = await list();
    assert.equal(answered.status, 200, JSON.stringify(answered.body));
    assert.deepEqual(keys(answered.body), ['powens:61', 'flinks:FlinksCapital', 'oxlin:119', 'oxlin:87', 'powens:60', 'powens:59', 'lnkfi:xero']);
    const warning = lf.logs.find((line) => /"level":"warn"|WARN/.test(line) && line.includes('institutions of powens could not be listed'));
    assert.ok(warning, lf.logs.slice(-5).join('\n'));
    assert.match(warning, /serving its last good list/);
  });
});
