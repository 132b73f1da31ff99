// The OpenAPI document against the app itself: every mounted route documented and every
// documented operation mounted, the document well-formed, every example valid against both
// the zod schema the route uses and the generated JSON Schema (Ajv 2020), and /openapi.json
// and /docs served without an API key.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type Router from '@koa/router';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type Koa from 'koa';
import { type AppDeps, createApp } from '../../api/app';
import { type OperationDoc, STORABLE_TEXT, buildOpenApiDocument, operations, pathParamsOf } from '../../api/openapi';
import { DOCS_CSP, RENDERER_PATH } from '../../api/routes/docs/docs';
import { createLogger } from '../../logger';
import { createPayloadCodec, parsePayloadKeys } from '../../domain/payload-codec';
import { createStateSigner } from '../../domain/redirect-state';

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const PUBLIC_URL = 'http://linkflow.test';
const ADMIN_KEY = 'admin-key-admin-key-admin-key-admin-key';

/** Services no request of this test may reach: any use fails loudly. */
function unused<T>(name: string): T {
  return new Proxy({}, {
    get(_, prop) {
      if (prop === 'then') return undefined;
      throw new Error(`the OpenAPI test touched ${name}.${String(prop)}`);
    },
  }) as T;
}

function buildApp(): Koa {
  // Cast: the routers only capture these services when the app is built.
  const deps = {
    client: unused('client'),
    repository: unused('repository'),
    tenants: unused('tenants'),
    webhookEndpoints: unused('webhookEndpoints'),
    providerLinks: unused('providerLinks'),
    // Real: GET /connect/links/{link} checks the link's signature before it reaches any service.
    stateSigner: createStateSigner('openapi-test-state-secret'),
    adminKey: ADMIN_KEY,
    // Real: mounts /codec/decode and /codec/encode (a codec with a test key).
    codec: { codec: createPayloadCodec(parsePayloadKeys(`k2026:${Buffer.alloc(32, 7).toString('base64')}`)), uiOrigin: 'http://localhost:8233' },
    credentialsKey: { publicKeyArmored: '-----BEGIN PGP PUBLIC KEY BLOCK-----\n…\n-----END PGP PUBLIC KEY BLOCK-----\n', fingerprint: 'abc123' },
    publicUrl: PUBLIC_URL,
    defaults: { syncIntervalSeconds: 86_400, redirectTimeoutSeconds: 1_800, consentTimeoutSeconds: 86_400, renewalLeadSeconds: 604_800 },
    logger: createLogger('openapi-test', () => undefined),
  } as AppDeps;
  return createApp(deps);
}

/** `METHOD /path/{param}` for every route of every @koa/router mounted on the app. */
function mountedRoutes(app: Koa): Set<string> {
  const routes = new Set<string>();
  for (const middleware of app.middleware) {
    const router = (middleware as { router?: Router }).router;
    if (!router) continue;
    for (const layer of router.stack) {
      if (!layer.methods.length) continue; // router.use middleware
      assert.equal(typeof layer.path, 'string', `a route with a RegExp path cannot be documented: ${String(layer.path)}`);
      const path = String(layer.path).replace(/:(\w+)/g, '{$1}');
      for (const method of layer.methods) if (method !== 'HEAD') routes.add(`${method} ${path}`);
    }
  }
  return routes;
}

function documentedOperations(doc: Json): Map<string, Json> {
  const ops = new Map<string, Json>();
  for (const [path, item] of Object.entries(obj(doc.paths))) {
    for (const method of METHODS) if (obj(item)[method]) ops.set(`${method.toUpperCase()} ${path}`, obj(obj(item)[method]));
  }
  return ops;
}

/** Every `$ref` in the document, with where it is. */
function refs(node: unknown, at = '#', out: [string, string][] = []): [string, string][] {
  if (Array.isArray(node)) node.forEach((v, i) => refs(v, `${at}/${i}`, out));
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') out.push([at, v]);
      else refs(v, `${at}/${k}`, out);
    }
  }
  return out;
}

function resolvePointer(doc: Json, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  let node: unknown = doc;
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (!node || typeof node !== 'object' || !(key in node)) return undefined;
    node = (node as Json)[key];
  }
  return node;
}

/** An Ajv 2020 that resolves the document's `#/components/schemas/…` references. */
function validatorFor(doc: Json) {
  const ajv = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true });
  addFormats(ajv);
  const COMPONENTS = 'urn:linkflow:openapi:components';
  const rewrite = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(rewrite);
    if (!node || typeof node !== 'object') return node;
    return Object.fromEntries(
      Object.entries(node).map(([k, v]) => [
        k,
        k === '$ref' && typeof v === 'string' ? v.replace('#/components/schemas/', `${COMPONENTS}#/$defs/`) : rewrite(v),
      ]),
    );
  };
  ajv.addSchema({ $id: COMPONENTS, $defs: rewrite(obj(doc.components).schemas) });
  return (schema: unknown, value: unknown): string | null => {
    const validate = ajv.compile(rewrite(schema) as Json);
    return validate(value) ? null : ajv.errorsText(validate.errors);
  };
}

/** Every example in the document checked with Ajv against the schema it illustrates. */
function documentExampleProblems(doc: Json): string[] {
  const check = validatorFor(doc);
  const problems: string[] = [];
  const examples = (where: string, schema: unknown, holder: Json) => {
    for (const [name, example] of Object.entries(obj(holder.examples))) {
      const problem = check(schema, obj(example).value);
      if (problem) problems.push(`${where} example ${name}: ${problem}`);
    }
  };
  for (const [key, op] of documentedOperations(doc)) {
    for (const p of Object.values(op.parameters ?? []).map(obj)) examples(`${key} parameter ${String(p.name)}`, p.schema, p);
    for (const [type, media] of Object.entries(obj(obj(op.requestBody).content))) examples(`${key} request ${type}`, obj(media).schema, obj(media));
    for (const [status, response] of Object.entries(obj(op.responses))) {
      for (const [type, media] of Object.entries(obj(obj(response).content))) examples(`${key} ${status} ${type}`, obj(media).schema, obj(media));
      for (const [name, header] of Object.entries(obj(obj(response).headers))) examples(`${key} ${status} header ${name}`, obj(header).schema, obj(header));
    }
  }
  return problems;
}

/** Every example of the registry checked against the zod schemas the routes parse with. */
function zodExampleProblems(ops: OperationDoc[]): string[] {
  const problems: string[] = [];
  const check = (where: string, schema: { safeParse(v: unknown): { success: boolean; error?: unknown } }, value: unknown) => {
    const result = schema.safeParse(value);
    if (!result.success) problems.push(`${where}: ${String(result.error)}`);
  };
  for (const op of ops) {
    const key = `${op.method.toUpperCase()} ${op.path}`;
    const params = pathParamsOf(op);
    for (const e of op.requestExamples) {
      const where = `${key} request example ${e.name}`;
      for (const [name, p] of Object.entries(params)) check(`${where} path ${name}`, p.schema, e.params?.[name]);
      for (const name of Object.keys(e.params ?? {})) if (!params[name]) problems.push(`${where}: undocumented path parameter ${name}`);
      for (const [name, value] of Object.entries(e.headers ?? {})) {
        const header = op.headers?.[name];
        if (header) check(`${where} header ${name}`, header.schema, value);
        else problems.push(`${where}: undocumented header ${name}`);
      }
      if (e.query !== undefined) {
        if (op.query) check(`${where} query`, op.query, e.query);
        else problems.push(`${where}: a query for an operation without one`);
      }
      // An optional body may be left out of an example (the request without one).
      if (op.body && !(op.body.optional && e.body === undefined)) check(`${where} body`, op.body.schema, e.body);
      else if (e.body !== undefined) problems.push(`${where}: a body for an operation without one`);
    }
    for (const e of op.responseExamples) {
      const status = e.status ?? op.responses[0].status;
      const response = op.responses.find((r) => r.status === status);
      const where = `${key} response example ${e.name}`;
      if (!response) {
        problems.push(`${where}: no ${status} response`);
        continue;
      }
      if (response.schema) check(`${where} body`, response.schema, e.body);
      else if (e.body !== undefined) problems.push(`${where}: a body for a response without one`);
      for (const [name, value] of Object.entries(e.headers ?? {})) {
        const header = response.headers?.[name];
        if (header) check(`${where} header ${name}`, header.schema, value);
        else problems.push(`${where}: undocumented header ${name}`);
      }
    }
  }
  return problems;
}

describe('OpenAPI document', () => {
  const doc = buildOpenApiDocument({ serverUrl: PUBLIC_URL });
  const ops = documentedOperations(doc);

  it('documents every mounted route, and only mounted routes', () => {
    const mounted = mountedRoutes(buildApp());
    assert.ok(mounted.has('POST /v1/connections') && mounted.has('GET /docs'), `routers not found: ${[...mounted].join(', ')}`);
    // Each provider's webhook and callback is documented on its own path, as one instance of the mounted route.
    const routeOf = new Map(operations.map((op) => [`${op.method.toUpperCase()} ${op.path}`, `${op.method.toUpperCase()} ${op.route ?? op.path}`]));
    const documented = new Set([...ops.keys()].map((key) => routeOf.get(key) ?? key));
    // The Connect page (/connect/t/…, /connect/s/…, its assets) is HTML for the end user's browser, not
    // the API: test/browser/ and test/adversarial/connect-page.test.ts cover it.
    const api = [...mounted].filter((r) => !/^\/connect\/(t|s|assets)\//.test(r.split(' ')[1]!));
    assert.ok(api.length < mounted.size, 'the Connect page is mounted');
    const undocumented = api.filter((r) => !documented.has(r));
    const unmounted = [...documented].filter((r) => !mounted.has(r));
    assert.deepEqual(undocumented, [], 'routes missing from api/openapi.ts');
    assert.deepEqual(unmounted, [], 'documented operations the app does not have');
  });

  it('is an OpenAPI 3.1 document whose references all resolve', () => {
    assert.match(String(doc.openapi), /^3\.1\.\d+$/);
    const info = obj(doc.info);
    assert.equal(typeof info.title, 'string');
    assert.equal(typeof info.version, 'string');
    assert.ok(Object.keys(obj(doc.paths)).length > 0);
    for (const path of Object.keys(obj(doc.paths))) assert.match(path, /^\//);

    const unresolved = refs(doc).filter(([, ref]) => resolvePointer(doc, ref) === undefined);
    assert.deepEqual(unresolved, []);
    assert.ok(refs(doc).length > 0);
    const schemes = obj(obj(doc.components).securitySchemes);

    const operationIds = new Set<string>();
    for (const [key, op] of ops) {
      assert.equal(typeof op.operationId, 'string', key);
      assert.ok(!operationIds.has(String(op.operationId)), `duplicate operationId ${String(op.operationId)}`);
      operationIds.add(String(op.operationId));
      assert.ok(op.summary, `${key}: summary`);
      assert.ok(Array.isArray(op.tags) && op.tags.length, `${key}: tags`);
      // Path templates and path parameters agree.
      const path = key.split(' ')[1] ?? '';
      const templated = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      const params = ((op.parameters ?? []) as Json[]).filter((p) => p.in === 'path');
      assert.deepEqual(params.map((p) => p.name).sort(), templated, `${key}: path parameters`);
      assert.ok(params.every((p) => p.required === true), `${key}: path parameters are required`);
      // Security: declared for every operation, naming declared schemes; 401 documented when needed.
      assert.ok(Array.isArray(op.security), `${key}: security`);
      const names = (op.security as Json[]).flatMap((s) => Object.keys(s));
      for (const name of names) assert.ok(schemes[name], `${key}: unknown security scheme ${name}`);
      const operator = path.startsWith('/v1/admin/') || path.startsWith('/codec/');
      const expected = operator ? ['adminKey'] : path.startsWith('/v1/') && path !== '/v1/keys/credentials' ? ['apiKey'] : [];
      assert.deepEqual(names, expected, `${key}: security`);
      const responses = obj(op.responses);
      if (names.length) assert.ok(responses['401'], `${key}: 401 undocumented`);
      // Every error is the one Error shape.
      for (const [status, response] of Object.entries(responses)) {
        if (Number(status) < 400) continue;
        assert.deepEqual(obj(obj(obj(response).content)['application/json']).schema, { $ref: '#/components/schemas/Error' }, `${key} ${status}`);
      }
    }
  });

  it('has a request and a response example for every operation', () => {
    for (const op of operations) {
      const key = `${op.method.toUpperCase()} ${op.path}`;
      const documented = ops.get(key) ?? {};
      assert.ok(op.requestExamples.length > 0 && op.responseExamples.length > 0, key);
      assert.equal((documented['x-codeSamples'] as unknown[]).length, op.requestExamples.length, `${key}: a curl sample per request example`);
      if (op.body) {
        const examples = obj(obj(obj(obj(documented.requestBody).content)['application/json']).examples);
        assert.ok(Object.keys(examples).length > 0, `${key}: request body example`);
      }
      const success = obj(obj(documented.responses)[String(op.responses[0].status)]);
      const shown = [
        ...Object.values(obj(success.content)).flatMap((m) => Object.keys(obj(obj(m).examples))),
        ...Object.values(obj(success.headers)).flatMap((h) => Object.keys(obj(obj(h).examples))),
      ];
      if (success.content || success.headers) assert.ok(shown.length > 0, `${key}: success response example`);
    }
  });

  it('has examples that match the zod schemas the routes use', () => {
    assert.deepEqual(zodExampleProblems(operations), []);
  });

  it('has examples that match the generated JSON Schemas (Ajv, draft 2020-12)', () => {
    assert.deepEqual(documentExampleProblems(doc), []);
  });

  it('says STORABLE_TEXT on every plain request string, and on no response', () => {
    const schemas = obj(obj(doc.components).schemas);
    const plainStrings = (node: unknown, out: Json[] = [], seen = new Set<string>()): Json[] => {
      if (!node || typeof node !== 'object') return out;
      const schema = node as Json;
      const ref = typeof schema.$ref === 'string' ? schema.$ref.replace('#/components/schemas/', '') : undefined;
      if (ref !== undefined && !seen.has(ref)) {
        seen.add(ref);
        plainStrings(schemas[ref], out, seen);
      }
      if (schema.type === 'string' && !('format' in schema || 'enum' in schema || 'const' in schema)) out.push(schema);
      for (const value of Object.values(schema)) plainStrings(value, out, seen);
      return out;
    };
    const requests = [...ops.values()].flatMap((op) => [
      ...((op.parameters ?? []) as Json[]).map((p) => p.schema),
      ...Object.values(obj(obj(op.requestBody).content)).map((m) => obj(m).schema),
    ]);
    const inRequests = new Set<string>();
    const requestStrings = plainStrings(requests, [], inRequests);
    assert.ok(requestStrings.length > 20, `request strings found: ${requestStrings.length}`);
    // A string with a pattern of its own (a cursor, an id) says more than STORABLE_TEXT does.
    assert.deepEqual(requestStrings.filter((s) => typeof s.pattern !== 'string'), []);
    assert.ok(requestStrings.filter((s) => s.pattern === STORABLE_TEXT).length > 10);
    // The responses, and every component no request references (the Error shape among them).
    const responses = JSON.stringify([[...ops.values()].map((op) => op.responses), Object.entries(schemas).filter(([name]) => !inRequests.has(name))]);
    assert.ok(inRequests.has('CreateConnection') && !inRequests.has('Connection') && !inRequests.has('Error'));
    assert.ok(!responses.includes(JSON.stringify(STORABLE_TEXT)), 'STORABLE_TEXT in a response');
  });

  it('catches a wrong example (the checks above can fail)', () => {
    const create = operations.find((o) => o.operationId === 'createConnection');
    assert.ok(create);
    const badRequest = { name: 'bad', summary: 'bad', body: { provider: 'oxlin', institution_id: '87', redirect_url: 'not a url' } };
    const badResponse = { name: 'bad', summary: 'bad', body: { id: 'x', state: 'nowhere' } };
    const broken: OperationDoc = { ...create, requestExamples: [badRequest], responseExamples: [badResponse] };
    assert.equal(zodExampleProblems([broken]).length, 2);

    const mutated = structuredClone(doc);
    const media = obj(obj(obj(obj(obj(obj(mutated.paths)['/v1/connections']).post).requestBody).content)['application/json']);
    media.examples = { bad: { value: badRequest.body } };
    const problems = documentExampleProblems(mutated).filter((p) => p.startsWith('POST /v1/connections request'));
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? '', /redirect_url/);
  });
});

describe('GET /openapi.json and GET /docs', () => {
  let server: Server;
  let url: string;
  before(async () => {
    server = buildApp().listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server?.close();
  });

  it('serves the document without an API key', async () => {
    const response = await fetch(`${url}/openapi.json`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(await response.json(), buildOpenApiDocument({ serverUrl: PUBLIC_URL }));
  });

  it('serves the HTML reference and its renderer from this server, under a CSP that allows nothing else', async () => {
    const response = await fetch(`${url}/docs`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
    const csp = response.headers.get('content-security-policy') ?? '';
    assert.equal(csp, DOCS_CSP);
    const directives = new Map(csp.split(/;\s*/).map((d) => [d.split(' ')[0], d.split(' ').slice(1)] as const));
    assert.deepEqual(directives.get('default-src'), ["'none'"]);
    assert.deepEqual(directives.get('connect-src'), ["'self'"]);
    assert.deepEqual(directives.get('frame-ancestors'), ["'none'"]);
    const scriptSrc = directives.get('script-src') ?? [];
    assert.ok(!scriptSrc.some((s) => s === "'unsafe-inline'" || s === "'unsafe-eval'" || s.includes(':')), `script-src: ${scriptSrc.join(' ')}`);
    // Nothing from another host: every source in the CSP is 'self', a hash, 'none' or data:.
    for (const [name, sources] of directives) {
      for (const source of sources) assert.match(source, /^('self'|'none'|'unsafe-inline'|'sha256-[A-Za-z0-9+/=]+'|data:)$/, `${name} ${source}`);
    }

    const page = await response.text();
    assert.match(page, /^<!doctype html>/);
    assert.ok(!/(https?:)?\/\/[a-z]/i.test(page), 'no URL of another host');
    const external = [...page.matchAll(/<script src="([^"]+)"><\/script>/g)].map((m) => m[1]);
    assert.deepEqual(external, [RENDERER_PATH]);
    // Each inline script runs only because the CSP names its hash.
    const inline = [...page.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1] ?? '');
    assert.equal(inline.length, 1);
    for (const script of inline) {
      assert.ok(scriptSrc.includes(`'sha256-${createHash('sha256').update(script).digest('base64')}'`), 'inline script not allowed by hash');
      assert.match(script, /url":"\/openapi\.json"/);
    }

    const renderer = await fetch(url + RENDERER_PATH);
    assert.equal(renderer.status, 200);
    assert.match(renderer.headers.get('content-type') ?? '', /^text\/javascript/);
    const script = await renderer.text();
    assert.ok(script.length > 1_000_000 && script.includes('createApiReference'), 'the Scalar standalone bundle');
  });

  it('enforces the security each operation declares', async () => {
    for (const op of operations) {
      let path = op.path;
      for (const [name, value] of Object.entries(op.requestExamples[0].params ?? {})) path = path.replace(`{${name}}`, value);
      // No key, no query, no body: a secured operation stops at authentication, before any service.
      const response = await fetch(url + path, { method: op.method.toUpperCase(), redirect: 'manual' });
      const body = await response.text();
      const key = `${op.method.toUpperCase()} ${op.path}`;
      if (op.security === 'none') assert.notEqual(response.status, 401, `${key} should be public`);
      else assert.equal(response.status, 401, `${key} should need a key: ${response.status} ${body}`);
      assert.ok(response.status < 500, `${key}: ${response.status} ${body}`);
    }
  });
});
