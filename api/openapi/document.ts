// The OpenAPI 3.1 document, built from `operations` with zod's own JSON Schema conversion.
import { z } from 'zod';
import { version } from '../../package.json';
import { FIELD_DOCS } from './describe';
import { COMMON, ErrorSchema } from './errors';
import { CONNECTION_ID_PARAM, curlNote } from './examples';
import { operations } from './operations';
import type { OperationDoc, ParamDoc, RequestExample, ResponseDoc, Security } from './types';

type Json = Record<string, unknown>;
interface SchemaMeta {
  id?: string;
  description?: string;
}

const TARGET = 'draft-2020-12';
const componentRef = (name: string) => `#/components/schemas/${name}`;

/**
 * What every string a request sends must match (api/validate.ts: `assertStorable` and
 * `requestTarget`): no NUL and no unpaired surrogate, anywhere in a body, query string or path,
 * else 400 `invalid_text`. One rule for every field, so it is added here to every request string
 * that does not already say more (a `pattern`, a `format`, an `enum` or a `const`), instead of to
 * each zod schema. Surrogate pairs are one code point to a `u`-flag ECMAScript regex (and to
 * Python's), so only unpaired ones fall in the class.
 */
export const STORABLE_TEXT = '^[^\\u0000\\ud800-\\udfff]*$';

/** `node` with STORABLE_TEXT on each plain string schema in it (in place). */
function storableStrings(node: unknown): void {
  if (Array.isArray(node)) node.forEach(storableStrings);
  if (!node || typeof node !== 'object' || Array.isArray(node)) return;
  const schema = node as Json;
  const plain = !('pattern' in schema || 'format' in schema || 'enum' in schema || 'const' in schema);
  if (schema.type === 'string' && plain) schema.pattern = STORABLE_TEXT;
  for (const value of Object.values(schema)) storableStrings(value);
}

/** JSON Schema of one zod schema; `$schema`/`$id` dropped (OpenAPI 3.1's dialect is 2020-12). */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output', metadata: z.core.$ZodRegistry<SchemaMeta>): Json {
  const { $schema: _s, $id: _i, ...rest } = z.toJSONSchema(schema, { target: TARGET, io, metadata }) as Json;
  if (io === 'input') storableStrings(rest);
  return rest;
}

function registries() {
  const input = z.registry<SchemaMeta>();
  const output = z.registry<SchemaMeta>();
  for (const [schema, description] of FIELD_DOCS) {
    input.add(schema, { description });
    output.add(schema, { description });
  }
  return { input, output };
}

/**
 * Registers `schema` as the component `name` (once), keeping any description. `named` holds the
 * names this registry already gave out (zod's registry does not say publicly which schema has an id),
 * so that two different schemas under one name fail loudly.
 */
function register(registry: z.core.$ZodRegistry<SchemaMeta>, named: Map<string, z.ZodType>, schema: z.ZodType, name: string): void {
  const existing = registry.get(schema);
  if (existing?.id && existing.id !== name) throw new Error(`schema registered as both ${existing.id} and ${name}`);
  const other = named.get(name);
  if (other && other !== schema) throw new Error(`two schemas named ${name}`);
  named.set(name, schema);
  registry.add(schema, { ...existing, id: name });
}

function components(registry: z.core.$ZodRegistry<SchemaMeta>, io: 'input' | 'output'): Record<string, Json> {
  const { schemas } = z.toJSONSchema(registry, { target: TARGET, io, metadata: registry, uri: componentRef });
  const out: Record<string, Json> = {};
  for (const [name, schema] of Object.entries(schemas)) {
    // With reused: 'inline' nothing is shared outside the components; say so loudly if that changes.
    if (name === '__shared') throw new Error('unexpected shared $defs in the OpenAPI components');
    const { $schema: _s, $id: _i, ...rest } = schema as Json;
    if (io === 'input') storableStrings(rest);
    out[name] = rest;
  }
  return out;
}

const SECURITY: Record<Security, Json[]> = { apiKey: [{ apiKey: [] }], admin: [{ adminKey: [] }], none: [] };

/** A shell-quoted curl command for a request example. */
function curl(op: OperationDoc, example: RequestExample): string {
  let path = op.path;
  for (const [name, value] of Object.entries(example.params ?? {})) path = path.replace(`{${name}}`, encodeURIComponent(value));
  const query = new URLSearchParams(Object.entries(example.query ?? {}).map(([k, v]): [string, string] => [k, String(v)])).toString();
  const q = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
  const lines = [`curl -X ${op.method.toUpperCase()} "$LINKFLOW"${q(path + (query ? `?${query}` : ''))}`];
  if (op.security === 'apiKey') lines.push('-H "Authorization: Bearer $LINKFLOW_API_KEY"');
  if (op.security === 'admin') lines.push('-H "Authorization: Bearer $LINKFLOW_ADMIN_KEY"');
  for (const [name, value] of Object.entries(example.headers ?? {})) lines.push(`-H ${q(`${name}: ${value}`)}`);
  if (example.body !== undefined) lines.push("-H 'Content-Type: application/json'", `-d ${q(JSON.stringify(example.body))}`);
  return lines.join(' \\\n  ');
}

function parameterExamples(examples: RequestExample[], pick: (e: RequestExample) => Record<string, unknown> | undefined, name: string) {
  const out: Record<string, Json> = {};
  for (const e of examples) {
    const value = pick(e)?.[name];
    if (value !== undefined) out[e.name] = { summary: e.summary, value };
  }
  return Object.keys(out).length ? { examples: out } : {};
}


/**
 * OpenAPI links from a response that returns a connection or a webhook endpoint to every operation
 * on it (`$response.body#/id`): what a client does next, and how schemathesis' stateful phase
 * reaches those operations with an id that exists.
 */
function linksOf(op: OperationDoc, response: ResponseDoc): Json | undefined {
  const from =
    op.operationId === 'createConnection' && response.status === 201
      ? '/v1/connections/{id}'
      : op.operationId === 'createWebhookEndpoint'
        ? '/v1/webhook-endpoints/{id}'
        : undefined;
  if (op.operationId === 'createTenant') return { issueApiKey: { operationId: 'issueApiKey', parameters: { id: '$response.body#/tenant/id' } } };
  if (!from) return undefined;
  const links: Json = {};
  for (const target of operations) {
    if (!target.path.startsWith(from) || target === op) continue;
    // A new connection has no accounts yet: `account_id` (balances) is the client's to choose.
    links[target.operationId] = { operationId: target.operationId, parameters: { id: '$response.body#/id' } };
  }
  return links;
}

/** The path parameters of an operation: its own, or the connection id under /v1/connections/{id}. */
export function pathParamsOf(op: OperationDoc): Record<string, ParamDoc> {
  if (op.pathParams) return op.pathParams;
  return op.path.startsWith('/v1/connections/{id}') ? { id: CONNECTION_ID_PARAM } : {};
}

function buildOperation(op: OperationDoc, input: z.core.$ZodRegistry<SchemaMeta>, output: z.core.$ZodRegistry<SchemaMeta>): Json {
  const parameters: Json[] = [];
  for (const [name, p] of Object.entries(pathParamsOf(op))) {
    parameters.push({
      name,
      in: 'path',
      required: true,
      description: p.description,
      schema: jsonSchema(p.schema, 'input', input),
      ...parameterExamples(op.requestExamples, (e) => e.params, name),
    });
  }
  for (const [name, p] of Object.entries(op.headers ?? {})) {
    parameters.push({
      name,
      in: 'header',
      required: p.required ?? false,
      description: p.description,
      schema: jsonSchema(p.schema, 'input', input),
      ...parameterExamples(op.requestExamples, (e) => e.headers, name),
    });
  }
  if (op.query) {
    const query = jsonSchema(op.query, 'input', input) as { properties?: Record<string, Json>; required?: string[] };
    for (const [name, schema] of Object.entries(query.properties ?? {})) {
      const { description, ...rest } = schema;
      parameters.push({
        name,
        in: 'query',
        required: query.required?.includes(name) ?? false,
        ...(typeof description === 'string' ? { description } : {}),
        schema: rest,
        ...parameterExamples(op.requestExamples, (e) => e.query, name),
      });
    }
  }

  const responses: Json = {};
  for (const r of op.responses) {
    const examples: Record<string, Json> = {};
    for (const e of op.responseExamples) {
      if ((e.status ?? op.responses[0].status) === r.status && e.body !== undefined) examples[e.name] = { summary: e.summary, value: e.body };
    }
    const headers: Record<string, Json> = {};
    for (const [name, h] of Object.entries(r.headers ?? {})) {
      const headerExamples: Record<string, Json> = {};
      for (const e of op.responseExamples) {
        const value = e.headers?.[name];
        if ((e.status ?? op.responses[0].status) === r.status && value !== undefined) headerExamples[e.name] = { summary: e.summary, value };
      }
      headers[name] = {
        description: h.description,
        required: h.required ?? false,
        schema: jsonSchema(h.schema, 'output', output),
        ...(Object.keys(headerExamples).length ? { examples: headerExamples } : {}),
      };
    }
    const schema = r.schema && (r.component ? { $ref: componentRef(r.component) } : jsonSchema(r.schema, 'output', output));
    const links = linksOf(op, r);
    responses[String(r.status)] = {
      description: r.description,
      ...(Object.keys(headers).length ? { headers } : {}),
      ...(links ? { links } : {}),
      ...(schema ? { content: { [r.contentType ?? 'application/json']: { schema, ...(Object.keys(examples).length ? { examples } : {}) } } } : {}),
    };
  }
  const errors = [...op.errors, ...(op.errors.some((e) => e.code === 'internal') ? [] : COMMON)];
  for (const status of [...new Set(errors.map((e) => e.status))].sort((a, b) => a - b)) {
    const ofStatus = errors.filter((e) => e.status === status);
    const examples: Record<string, Json> = {};
    for (const e of ofStatus) {
      let key = e.code;
      for (let i = 2; key in examples; i++) key = `${e.code}_${i}`;
      const value = {
        error: {
          code: e.code,
          message: e.message,
          ...(e.details === undefined ? {} : { details: e.details }),
          ...(status >= 500 ? { request_id: 'b7e3c1d2-4f5a-4b6c-9d8e-0f1a2b3c4d5e' } : {}),
        },
      };
      examples[key] = { summary: e.when, value };
    }
    responses[String(status)] = {
      description: ofStatus.map((e) => `\`${e.code}\`: ${e.when}`).join('\n\n'),
      content: { 'application/json': { schema: { $ref: componentRef('Error') }, examples } },
    };
  }

  return {
    operationId: op.operationId,
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    tags: op.tags,
    security: SECURITY[op.security],
    ...(parameters.length ? { parameters } : {}),
    ...(op.body
      ? {
          requestBody: {
            required: !op.body.optional,
            content: {
              'application/json': {
                schema: { $ref: componentRef(op.body.component) },
                examples: Object.fromEntries(
                  op.requestExamples.filter((e) => e.body !== undefined).map((e) => [e.name, { summary: e.summary, value: e.body }]),
                ),
              },
            },
          },
        }
      : {}),
    responses,
    'x-codeSamples': op.requestExamples.map((e) => ({ lang: 'Shell', label: e.summary, source: curl(op, e) })),
  };
}

const obj = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
/** z.regexes.hostname without its anchors (what `httpUrl` and `endpointUrl` check the parsed host with). */
const HOSTNAME = `(?=[^:/?#]{1,253}(?:[:/?#]|$))[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[-0-9a-zA-Z]{0,61}[0-9a-zA-Z])?)*\\.?`;
/** An http(s) URL with this host, an optional port, and no user name or password. */
const httpUrlPattern = (host: string) => `^[hH][tT][tT][pP][sS]?://${host}(?::[0-9]{1,5})?(?:[/?#][^\\s]*)?$`;

/** The OpenAPI 3.1 document of every operation in `operations`. */
export function buildOpenApiDocument(options: { serverUrl?: string } = {}): Json {
  const { input, output } = registries();
  const inputNames = new Map<string, z.ZodType>();
  const outputNames = new Map<string, z.ZodType>();
  register(output, outputNames, ErrorSchema, 'Error');
  for (const op of operations) {
    if (op.body) register(input, inputNames, op.body.schema, op.body.component);
    for (const r of op.responses) if (r.schema && r.component) register(output, outputNames, r.schema, r.component);
  }
  const schemas = { ...components(output, 'output') };
  for (const [name, schema] of Object.entries(components(input, 'input'))) {
    if (name in schemas) throw new Error(`component ${name} is both a request and a response schema`);
    schemas[name] = schema;
  }

  // `format: uri` alone allows any scheme and any host; the routes take http(s) with a DNS host name
  // (z.regexes.hostname: labels of at most 63, 253 in all) or, for webhook endpoints, a bracketed IPv6 literal.
  const urlProperty = (component: string, property: string) => (obj(obj(schemas[component]).properties)[property] ?? {}) as Json;
  urlProperty('CreateConnection', 'redirect_url').pattern = httpUrlPattern(HOSTNAME);
  urlProperty('CreateWebhookEndpoint', 'url').pattern = httpUrlPattern(`(?:\\[[0-9a-fA-F:.]+\\]|${HOSTNAME})`);

  const paths: Record<string, Json> = {};
  for (const op of operations) {
    const item = (paths[op.path] ??= {});
    if (item[op.method]) throw new Error(`${op.method.toUpperCase()} ${op.path} is documented twice`);
    item[op.method] = buildOperation(op, input, output);
  }

  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'Linkflow API',
      version,
      description:
        'Bank connections as durable Temporal workflows. Every error is `{"error": {"code", "message", "details"?}}`; ' +
        `every response carries an \`x-request-id\`. ${curlNote}`,
    },
    servers: [{ url: options.serverUrl ?? '/' }],
    tags: [
      { name: 'Connections', description: 'Start a connection, take it through authorization and consent, and manage it.' },
      { name: 'Data', description: 'What the syncs stored: accounts and transactions.' },
      { name: 'Webhooks', description: 'Where Linkflow sends signed events about the connections.' },
      { name: 'Keys', description: 'The public key clients encrypt credentials with.' },
      { name: 'Admin', description: "The operator's: tenants and their API keys (LINKFLOW_ADMIN_KEY)." },
      { name: 'Callbacks', description: 'What providers send: browser redirects and webhooks.' },
      { name: 'Reference', description: 'This documentation.' },
    ],
    paths,
    components: {
      schemas,
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: "A tenant's API key (`lf_…`) as `Authorization: Bearer <key>`." },
        adminKey: { type: 'http', scheme: 'bearer', description: 'The operator\'s LINKFLOW_ADMIN_KEY as `Authorization: Bearer <key>`.' },
      },
    },
  };
}
