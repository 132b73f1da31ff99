// Exact contracts (issue 11, part 3): what a client asks is honoured or refused, never silently
// changed, and what the API answers is what /openapi.json documents. Against the real parts: the
// Temporal dev server, the real worker and activities, the provider sandboxes, PGlite, the Koa API.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { encryptCredentials } from '../../api/clients/credentials';
import { buildOpenApiDocument, operations } from '../../api/openapi';
import { REJECTION_STATUS } from '../../api/temporal';
import { CONFIG_VARIABLES, loadConfig } from '../../config';
import { createStateSigner } from '../../domain/redirect-state';
import { OTP_CODE, TEST_PASSWORD } from '../../sandbox/powens/scenarios';
import type { ConnectionView } from '../../contract/messages';
import { type Linkflow, startLinkflow } from '../helpers/linkflow';
import { approveAtBank } from '../helpers/oxlin';
import { approveInWebview } from '../helpers/powens';

const REDIRECT_URL = 'https://client.example/linked';
/** The harness's redirect-state secret (test/helpers/linkflow.ts): lets a test forge a well-signed cursor. */
const HARNESS_STATE_SECRET = 'e2e-secret-e2e-secret-e2e-secret';

describe('exact contracts, end to end', () => {
  let lf: Linkflow;
  /** How far the Oxlin sandbox's clock is ahead of ours (its challenge deadlines follow it). */
  let oxlinAhead = 0;

  before(async () => {
    lf = await startLinkflow({ oxlin: { now: () => Date.now() + oxlinAhead } });
  });
  after(async () => {
    await lf?.stop();
  });

  const create = async (body: Record<string, unknown>, headers?: Record<string, string>) =>
    lf.call('POST', '/v1/connections', { redirect_url: REDIRECT_URL, ...body }, headers);

  async function credentials(values: Record<string, string>) {
    const key = await lf.call('GET', '/v1/keys/credentials');
    return { credentials: await encryptCredentials(key.body.public_key, values) };
  }

  /** No provider's name, path or ids in what a client reads. */
  function assertOwnWords(body: unknown, ...ids: (string | null | undefined)[]) {
    const text = JSON.stringify(body);
    for (const leak of ['Oxlin', 'Powens', 'user_input', '/connections/', 'answered 4', 'wrongpass', ...ids.filter(Boolean)]) {
      assert.ok(!text.includes(leak as string), `the client reads ${leak}: ${text}`);
    }
  }

  it('Idempotency-Key: another request under the same key is 422 idempotency_key_reused; the same one replays', async () => {
    const key = { 'idempotency-key': `contracts-${Date.now()}` };
    const body = { provider: 'oxlin', institution_id: '87', user_ref: 'user-1', sync_interval_seconds: 3600 };
    const first = await create(body, key);
    assert.equal(first.status, 201, JSON.stringify(first.body));

    for (const changed of [{ user_ref: 'user-2' }, { mode: 'embedded' }, { sync_interval_seconds: 7200 }, { user_ref: undefined }]) {
      const again = await create({ ...body, ...changed }, key);
      assert.equal(again.status, 422, `${JSON.stringify(changed)} replayed: ${JSON.stringify(again.body)}`);
      assert.equal(again.body.error.code, 'idempotency_key_reused');
    }
    // The same request, its keys in another order and the default mode spelled out: the same connection.
    const same = await create({ sync_interval_seconds: 3600, mode: 'redirect', user_ref: 'user-1', institution_id: '87', provider: 'oxlin' }, key);
    assert.equal(same.status, 200, JSON.stringify(same.body));
    assert.equal(same.headers.get('idempotent-replayed'), 'true');
    assert.equal(same.body.id, first.body.id);
  });

  it('Idempotency-Key: present but empty (or blank) is a 400 invalid_idempotency_key, not a request without one', async () => {
    // The document says the header is 1 to 255 printable characters; an empty one was taken for no key (schemathesis ST201).
    for (const value of ['', ' ']) {
      const refused = await create({ provider: 'oxlin', institution_id: '87' }, { 'idempotency-key': value });
      assert.equal(refused.status, 400, `${JSON.stringify(value)}: ${JSON.stringify(refused.body)}`);
      assert.equal(refused.body.error.code, 'invalid_idempotency_key');
    }
  });

  describe('cursors belong to one connection', () => {
    let a: ConnectionView;
    let b: ConnectionView;
    before(async () => {
      a = await lf.activeRedirectConnection('alice');
      b = await lf.activeRedirectConnection('bob');
    });

    it("a delta cursor of another connection, one never issued, or one ahead of the last change is 400 invalid_cursor", async () => {
      const ofB = await lf.call('GET', `/v1/connections/${b.id}/transactions/sync?limit=5`);
      assert.equal(ofB.status, 200);
      const ofA = await lf.call('GET', `/v1/connections/${a.id}/transactions/sync?limit=5`);
      assert.equal(ofA.status, 200);
      assert.ok(ofA.body.has_more);

      const foreign = await lf.call('GET', `/v1/connections/${a.id}/transactions/sync?cursor=${ofB.body.next_cursor}`);
      assert.equal(foreign.status, 400, `B's cursor read A's changes: ${JSON.stringify(foreign.body).slice(0, 200)}`);
      assert.equal(foreign.body.error.code, 'invalid_cursor');

      const forged = Buffer.from('changes:0').toString('base64url');
      const neverIssued = await lf.call('GET', `/v1/connections/${a.id}/transactions/sync?cursor=${forged}`);
      assert.equal(neverIssued.status, 400, 'a cursor the API never issued');
      assert.equal(neverIssued.body.error.code, 'invalid_cursor');

      // Well signed, for this connection, but past every change it has (e.g. from a store restored from a backup).
      const signer = createStateSigner(HARNESS_STATE_SECRET);
      const ahead = signer.seal(JSON.stringify(['changes', a.id, '9000000000000']));
      const beyond = await lf.call('GET', `/v1/connections/${a.id}/transactions/sync?cursor=${ahead}`);
      assert.equal(beyond.status, 400, 'a cursor ahead of the last change');
      assert.equal(beyond.body.error.code, 'invalid_cursor');

      // Its own cursor still reads on, to the end, without a gap.
      let cursor = ofA.body.next_cursor as string;
      let seen = ofA.body.added.length as number;
      for (let more = true; more; ) {
        const page = await lf.call('GET', `/v1/connections/${a.id}/transactions/sync?limit=100&cursor=${cursor}`);
        assert.equal(page.status, 200, JSON.stringify(page.body));
        seen += page.body.added.length;
        cursor = page.body.next_cursor;
        more = page.body.has_more;
      }
      assert.equal(seen, (await lf.repository.countTransactions(a.id)));
    });

    it('a list cursor of another connection is 400 invalid_cursor', async () => {
      const ofB = await lf.call('GET', `/v1/connections/${b.id}/transactions?limit=2`);
      assert.equal(ofB.status, 200);
      assert.ok(ofB.body.next_cursor);
      const foreign = await lf.call('GET', `/v1/connections/${a.id}/transactions?limit=2&cursor=${ofB.body.next_cursor}`);
      assert.equal(foreign.status, 400, `B's list cursor paged A: ${JSON.stringify(foreign.body).slice(0, 200)}`);
      assert.equal(foreign.body.error.code, 'invalid_cursor');
      const ofA = await lf.call('GET', `/v1/connections/${a.id}/transactions?limit=2`);
      const next = await lf.call('GET', `/v1/connections/${a.id}/transactions?limit=2&cursor=${ofA.body.next_cursor}`);
      assert.equal(next.status, 200);
      assert.notDeepEqual(next.body.data, ofA.body.data);
    });
  });

  it('every action on an ended connection answers 409 wrong_state, as GET shows it ended', async () => {
    const created = await create({ provider: 'oxlin', institution_id: '87' });
    assert.equal(created.status, 201);
    const id = created.body.id as string;
    assert.equal((await lf.call('DELETE', `/v1/connections/${id}`)).status, 202);
    await lf.until(id, (v) => v.state === 'disconnected');
    const actions: [string, string, unknown?][] = [
      ['POST', 'renewal'],
      ['PUT', 'consents', { consents: [{ account_id: 'x', consent: true }] }],
      ['POST', 'channels', { mode: 'embedded' }],
      ['POST', 'credentials', await credentials({ '300': 'x' })],
      ['POST', 'challenge', { answers: [{ id: '306', value: '123456' }] }],
      ['POST', 'sync'],
      ['DELETE', ''],
    ];
    for (const [method, path, body] of actions) {
      const answer = await lf.call(method, `/v1/connections/${id}${path ? `/${path}` : ''}`, body);
      assert.equal(answer.status, 409, `${method} ${path}: ${JSON.stringify(answer.body)}`);
      assert.equal(answer.body.error.code, 'wrong_state');
      assert.deepEqual(answer.body.error.details, { state: 'disconnected' });
    }
  });

  it("a challenge's expires_at is within the provider's limit; an answer after it is 410 in our words and the connection moves on", async () => {
    const created = await create({ provider: 'oxlin', institution_id: '87' });
    const callback = await approveAtBank(await lf.openLink(created.body.next_action.url), 'approve', 'user_sms');
    assert.equal((await fetch(callback, { redirect: 'manual' })).status, 303);
    const challenged = await lf.until(created.body.id, (v) => v.state === 'challenge_required');
    assert.equal(challenged.next_action?.type, 'challenge');
    const action = challenged.next_action.type === 'challenge' ? challenged.next_action : undefined;
    // Oxlin's step 1 has no TIMEOUT_MSG, but Oxlin ends it after 120 s all the same.
    assert.ok(Date.parse(action?.expires_at ?? '') - Date.now() <= 120_000, `expires_at ${action?.expires_at} promises more than Oxlin's 120 s`);

    oxlinAhead += 121_000;
    const late = await lf.call('POST', `/v1/connections/${created.body.id}/challenge`, { answers: [{ id: '304', value: 'true' }] });
    assert.equal(late.status, 410, JSON.stringify(late.body));
    assert.equal(late.body.error.code, 'challenge_expired');
    assertOwnWords(late.body);
    // It moves on (listing again for a moment, then expired, or a new challenge), never left waiting on the dead one.
    const after = await lf.until(
      created.body.id,
      (v) => !['challenge_required', 'listing_accounts'].includes(v.state) || (v.next_action?.type === 'challenge' && v.next_action.expires_at !== action?.expires_at),
    );
    assert.equal(after.state, 'expired', JSON.stringify(after));
    assert.equal(after.reason, 'CHALLENGE_TIMED_OUT');
  });

  describe('Powens', () => {
    it('a mode the connector has no source for is 422 unsupported_mode, not another mode', async () => {
      for (const [institution, mode, supported] of [
        ['60', 'embedded', 'redirect'],
        ['59', 'redirect', 'embedded'],
      ]) {
        const created = await create({ provider: 'powens', institution_id: institution, mode });
        assert.equal(created.status, 422, `${institution} ${mode}: ${JSON.stringify(created.body)}`);
        assert.equal(created.body.error.code, 'unsupported_mode');
        assert.deepEqual(created.body.error.details, { supported_modes: [supported] });
      }
    });

    it("a wrong password is 422 provider_rejected in our words, and the connection says why; fields keep Powens' description and value labels", async () => {
      const created = await create({ provider: 'powens', institution_id: '59', mode: 'embedded' });
      assert.equal(created.status, 201);
      const fields = created.body.next_action.fields as { id: string; description?: string; values?: unknown }[];
      const website = fields.find((f) => f.id === 'website');
      assert.equal(website?.description, 'Particuliers by default.');
      assert.ok(Array.isArray(website?.values) && website.values.length === 2, JSON.stringify(website));
      for (const v of website.values as { value: string; label: string }[]) assert.ok(v.label && v.value);

      const wrong = await lf.call('POST', `/v1/connections/${created.body.id}/credentials`, await credentials({ login: 'user_otp', password: 'nope-nope' }));
      assert.equal(wrong.status, 422, JSON.stringify(wrong.body));
      assert.equal(wrong.body.error.code, 'provider_rejected');
      assertOwnWords(wrong.body);
      const view = (await lf.call('GET', `/v1/connections/${created.body.id}`)).body as ConnectionView;
      assert.equal(view.reason, 'AUTH_FAILED');
      assert.equal(view.next_action?.type, 'credentials', 'asked again');
    });

    it('a wrong SMS code comes back as an ERROR_MSG; renewal of a credentials-only connection is a documented 422', async () => {
      const created = await create({ provider: 'powens', institution_id: '59', mode: 'embedded' });
      const path = `/v1/connections/${created.body.id}`;
      assert.equal((await lf.call('POST', `${path}/credentials`, await credentials({ login: 'user_otp', password: TEST_PASSWORD }))).status, 200);
      const challenged = await lf.until(created.body.id, (v) => v.state === 'challenge_required');
      const field = challenged.next_action?.type === 'challenge' ? challenged.next_action.fields[0] : undefined;
      assert.ok(field);
      const wrongCode = '000000';
      const wrong = await lf.call('POST', `${path}/challenge`, { answers: [{ id: field.id, value: wrongCode }] });
      assert.equal(wrong.status, 200, JSON.stringify(wrong.body));
      const again = wrong.body.state === 'challenge_required' ? (wrong.body as ConnectionView) : await lf.until(created.body.id, (v) => v.state === 'challenge_required');
      const messages = again.next_action?.type === 'challenge' ? again.next_action.messages : [];
      assert.ok(messages.length > 0 && messages.every((m) => m.type === 'ERROR_MSG'), JSON.stringify(messages));

      assert.equal((await lf.call('POST', `${path}/challenge`, { answers: [{ id: field.id, value: OTP_CODE }] })).status, 200);
      await lf.consentAll(await lf.until(created.body.id, (v) => v.state === 'awaiting_consent'));
      const renewal = await lf.call('POST', `${path}/renewal`);
      assert.equal(renewal.status, 422, JSON.stringify(renewal.body));
      const documented = operations.find((o) => o.operationId === 'requestRenewal')?.errors ?? [];
      assert.ok(documented.some((e) => e.status === 422 && e.code === renewal.body.error.code), `undocumented: ${renewal.body.error.code}`);
    });

    it('NO_MORE_SOURCES is documented where it appears', async () => {
      const doc = JSON.stringify((await lf.call('GET', '/openapi.json')).body);
      assert.ok(doc.includes('NO_MORE_SOURCES'));
      const created = await create({ provider: 'powens', institution_id: '60' });
      assert.equal(created.status, 201);
      const url = await lf.openLink(created.body.next_action.url);
      const callback = await approveInWebview(url, 'alice');
      assert.equal((await fetch(callback, { redirect: 'manual' })).status, 303);
      await lf.consentAll(await lf.until(created.body.id, (v) => v.state === 'awaiting_consent'));
      const none = await lf.call('POST', `/v1/connections/${created.body.id}/channels`, { mode: 'redirect' });
      assert.equal(none.status, 200, JSON.stringify(none.body));
      assert.equal(none.body.reason, 'NO_MORE_SOURCES');
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Every status and error code a route can answer is documented.

const API_DIR = join(__dirname, '..', '..', 'api');

/** `throw new ApiError(409, 'code'` and the helpers that build one, with what each answers. */
const HELPERS: Record<string, [number, string][]> = {
  'notFound(': [[404, 'not_found']],
  'wrongState(': [[409, 'wrong_state']],
  'parseBody(': [[422, 'validation_failed']],
  'parseQuery(': [[400, 'invalid_query']],
};

/** What a route file's handler can throw, per `router.<method>('<path>'`, read from the source. */
function thrownByRoutes(file: string, prefix: string): Map<string, Set<string>> {
  const source = readFileSync(file, 'utf8');
  const routes = new Map<string, Set<string>>();
  const starts = [...source.matchAll(/router\.(get|post|put|delete|patch)\('([^']*)'/g)];
  // Everything after the last route (module helpers) is read for the helpers' own throws.
  for (const [i, match] of starts.entries()) {
    const end = starts[i + 1]?.index ?? source.indexOf('\n}\n', match.index);
    const body = source.slice(match.index, end);
    const found = new Set<string>();
    for (const t of body.matchAll(/new ApiError\(\s*(\d{3}),\s*'([a-z_]+)'/g)) found.add(`${t[1]} ${t[2]}`);
    for (const [helper, answers] of Object.entries(HELPERS)) if (body.includes(helper)) for (const [s, c] of answers) found.add(`${s} ${c}`);
    const path = `${prefix}${match[2] === '/' ? '' : match[2]}`.replace(/:([a-z_]+)/g, '{$1}') || '/';
    routes.set(`${match[1]} ${path}`, found);
  }
  return routes;
}

/** The error codes the built document lists for an operation, as `status code`. */
function documentedErrors(doc: { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> }, method: string, path: string) {
  const responses = doc.paths[path]?.[method]?.responses ?? {};
  const found = new Set<string>();
  for (const [status, response] of Object.entries(responses)) {
    if (Number(status) < 400) continue;
    const examples = (response as { content?: Record<string, { examples?: Record<string, { value: { error: { code: string } } }> }> }).content?.[
      'application/json'
    ]?.examples;
    for (const example of Object.values(examples ?? {})) found.add(`${status} ${example.value.error.code}`);
  }
  return found;
}

describe('the OpenAPI document names every status and error code a route can answer', () => {
  it('connection routes: ApiError throws, helpers, update rejections, ownership, bodies, auth and the middleware', () => {
    const file = join(API_DIR, 'routes/connections/connections.ts');
    const source = readFileSync(file, 'utf8');
    const routes = thrownByRoutes(file, '/v1/connections');
    assert.ok(routes.size >= 14, `found ${routes.size} routes`);
    const middleware = readFileSync(join(API_DIR, 'errors.ts'), 'utf8');
    const fromParser = [...middleware.matchAll(/(\d{3}): '([a-z_]+)'/g)].map((m) => `${m[1]} ${m[2]}`).filter((c) => c !== '405 method_not_allowed');
    const doc = buildOpenApiDocument() as unknown as Parameters<typeof documentedErrors>[0];
    const undocumented: string[] = [];
    for (const [route, thrown] of routes) {
      const [method, path] = route.split(' ') as [string, string];
      const documented = documentedErrors(doc, method, path);
      assert.ok(documented.size > 0, `no OpenAPI entry for ${route}`);
      const localPath = path.replace('/v1/connections', '').replace(/\{([a-z_]+)\}/g, ':$1') || '/';
      const block = source.slice(source.indexOf(`router.${method}('${localPath}'`));
      const handler = block.slice(0, block.indexOf('\n  });') + 1);
      const answers = new Set(thrown);
      const update = /runUpdate\(handle, [^\n]*\)(?:, \{([^}]*)\})?\);/s.exec(handler);
      if (handler.includes('runUpdate(')) {
        answers.add('409 wrong_state').add('422 validation_failed');
        for (const [, type, code] of (update?.[1] ?? '').matchAll(/(\w+): '([a-z_]+)'/g)) {
          answers.add(`${REJECTION_STATUS[type as keyof typeof REJECTION_STATUS]} ${code}`);
        }
      }
      if (handler.includes('owned(ctx)') || handler.includes('open(ctx)')) answers.add('404 not_found');
      if (handler.includes('open(ctx)')) answers.add('409 wrong_state');
      if (handler.includes('parseBody(')) for (const a of fromParser) answers.add(a);
      for (const always of ['401 unauthorized', '429 rate_limited', '500 internal', '504 timeout']) answers.add(always);
      for (const a of answers) if (!documented.has(a)) undocumented.push(`${route}: ${a}`);
    }
    assert.deepEqual(undocumented, []);
  });

  it('institutions route: what its handler throws, the query parser, auth and the middleware', () => {
    const routes = thrownByRoutes(join(API_DIR, 'routes/institutions/institutions.ts'), '/v1/institutions');
    assert.deepEqual([...routes.keys()], ['get /v1/institutions']);
    const doc = buildOpenApiDocument() as unknown as Parameters<typeof documentedErrors>[0];
    const documented = documentedErrors(doc, 'get', '/v1/institutions');
    const answers = [...(routes.get('get /v1/institutions') ?? []), '401 unauthorized', '429 rate_limited', '500 internal', '504 timeout'];
    assert.ok(answers.includes('400 invalid_query') && answers.includes('422 provider_not_configured'), answers.join(', '));
    assert.deepEqual(answers.filter((a) => !documented.has(a)), []);
  });

  it('route files: every ApiError thrown is documented on some operation with that status and code', () => {
    const documented = new Set(operations.flatMap((o) => o.errors.map((e) => `${e.status} ${e.code}`)));
    const missing: string[] = [];
    const files = ['app.ts', 'auth.ts', 'limits.ts', 'errors.ts', 'temporal.ts', 'validate.ts'].map((f) => join(API_DIR, f));
    for (const dir of readdirSync(join(API_DIR, 'routes'))) {
      for (const f of readdirSync(join(API_DIR, 'routes', dir))) if (f.endsWith('.ts')) files.push(join(API_DIR, 'routes', dir, f));
    }
    for (const file of files) {
      for (const t of readFileSync(file, 'utf8').matchAll(/new ApiError\(\s*(\d{3}),\s*'([a-z_]+)'/g)) {
        if (!documented.has(`${t[1]} ${t[2]}`)) missing.push(`${file.slice(API_DIR.length + 1)}: ${t[1]} ${t[2]}`);
      }
    }
    assert.deepEqual(missing, []);
  });
});

// ---------------------------------------------------------------------------------------------
// Configuration: an empty or malformed value stops the process, naming the variable.

describe('configuration', () => {
  const MALFORMED: Record<string, string[]> = {
    port: ['', 'abc', '-1', '70000', '3000.5', ' '],
    seconds: ['', '0', '-5', 'ten', '1.5'],
    url: ['', 'not a url', 'ftp://x.example'],
    text: [''],
    secret: ['', 'short'],
    boolean: [''],
    payloadKeys: ['', 'nokey', 'k1:', 'k1:c2hvcnQ=', 'k1:not base64!', `k1:${Buffer.alloc(32).toString('base64')},k1:${Buffer.alloc(32).toString('base64')}`, `bad id:${Buffer.alloc(32).toString('base64')}`],
    origin: ['', 'not a url', 'ftp://x.example', 'http://localhost:8233/path'],
    cacheSize: ['', '1', '-5', 'ten', '1.5'],
  };
  const KIND: Record<string, keyof typeof MALFORMED> = {
    PORT: 'port',
    TEMPORAL_PORT: 'port',
    TEMPORAL_UI_PORT: 'port',
    SANDBOX_PORT: 'port',
    PUBLIC_URL: 'url',
    SANDBOX_PUBLIC_URL: 'url',
    SANDBOX_WEBHOOK_URL: 'url',
    OXLIN_BASE_URL: 'url',
    FLINKS_BASE_URL: 'url',
    FLINKS_CONNECT_URL: 'url',
    POWENS_BASE_URL: 'url',
    POWENS_WEBVIEW_URL: 'url',
    LNKFI_BASE_URL: 'url',
    LINKFLOW_STATE_SECRET: 'secret',
    LINKFLOW_ADMIN_KEY: 'secret',
    LINKFLOW_METRICS_KEY: 'secret',
    LINKFLOW_WORKER_METRICS_PORT: 'port',
    LINKFLOW_TEMPORAL_METRICS_PORT: 'port',
    OXLIN_WEBHOOK_SECRET: 'secret',
    FLINKS_WEBHOOK_SECRET: 'secret',
    LNKFI_WEBHOOK_SECRET: 'secret',
    LINKFLOW_SYNC_INTERVAL_SECONDS: 'seconds',
    LINKFLOW_REDIRECT_TIMEOUT_SECONDS: 'seconds',
    LINKFLOW_CONSENT_TIMEOUT_SECONDS: 'seconds',
    LINKFLOW_RENEWAL_LEAD_SECONDS: 'seconds',
    LINKFLOW_RATE_LIMIT_PER_MINUTE: 'seconds',
    LINKFLOW_INSTITUTIONS_CACHE_SECONDS: 'seconds',
    LINKFLOW_CONNECT_TOKEN_SECONDS: 'seconds',
    LINKFLOW_REQUEST_TIMEOUT_MS: 'seconds',
    LINKFLOW_WORKER_MAX_CACHED_WORKFLOWS: 'cacheSize',
    LINKFLOW_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: 'seconds',
    LINKFLOW_PAYLOAD_KEYS: 'payloadKeys',
    LINKFLOW_UI_ORIGIN: 'origin',
  };

  it('PORT="" does not start on a random port', () => {
    assert.throws(() => loadConfig({ PORT: '' }), /PORT/);
  });

  it('every variable: empty or malformed stops the process naming it', () => {
    assert.ok(CONFIG_VARIABLES.length >= 39, `config.ts lists its variables (${CONFIG_VARIABLES.length})`);
    const accepted: string[] = [];
    for (const name of CONFIG_VARIABLES) {
      for (const value of MALFORMED[KIND[name] ?? 'text'] ?? []) {
        try {
          loadConfig({ [name]: value });
          accepted.push(`${name}=${JSON.stringify(value)}`);
        } catch (err) {
          assert.match(String(err), new RegExp(`\\b${name}\\b`), `${name}=${JSON.stringify(value)} fails without naming it`);
        }
      }
    }
    assert.deepEqual(accepted, []);
  });

  it('valid values still load, and unset ones take their defaults', () => {
    const config = loadConfig({ PORT: '8080', PUBLIC_URL: 'https://linkflow.example', LINKFLOW_SYNC_INTERVAL_SECONDS: '3600' });
    assert.equal(config.PORT, 8080);
    assert.equal(config.PUBLIC_URL, 'https://linkflow.example');
    assert.equal(config.LINKFLOW_SYNC_INTERVAL_SECONDS, 3600);
    assert.equal(loadConfig({}).PORT, 3000);
    assert.equal(loadConfig({ LINKFLOW_WORKER_MAX_CACHED_WORKFLOWS: '0' }).LINKFLOW_WORKER_MAX_CACHED_WORKFLOWS, 0);
    assert.throws(
      () => loadConfig({ LINKFLOW_WORKER_MAX_CACHED_WORKFLOWS: '10', LINKFLOW_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '11' }),
      /LINKFLOW_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: must be at most LINKFLOW_WORKER_MAX_CACHED_WORKFLOWS \(10\)/,
    );
    // A first-action wait as long as the request timeout would answer a 504 instead of the 202 naming the started connection.
    assert.throws(() => loadConfig({ LINKFLOW_FIRST_ACTION_WAIT_MS: '30000' }), /LINKFLOW_FIRST_ACTION_WAIT_MS: must be at most half of LINKFLOW_REQUEST_TIMEOUT_MS \(15000\)/);
    assert.throws(() => loadConfig({ LINKFLOW_FIRST_ACTION_WAIT_MS: '3000', LINKFLOW_REQUEST_TIMEOUT_MS: '5000' }), /LINKFLOW_FIRST_ACTION_WAIT_MS/);
    assert.equal(loadConfig({ LINKFLOW_FIRST_ACTION_WAIT_MS: '15000' }).LINKFLOW_FIRST_ACTION_WAIT_MS, 15_000);
  });
});
