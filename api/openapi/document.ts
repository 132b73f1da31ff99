// The OpenAPI 3.1 document, assembled by zod-openapi (`createDocument`) from `operations`: the zod
// schemas the routes parse requests with and answer with, their descriptions given with `.meta()`.
import { z } from 'zod';
import {
  type ZodOpenApiLinksObject,
  type ZodOpenApiOperationObject,
  type ZodOpenApiPathsObject,
  type ZodOpenApiResponseObject,
  createDocument,
} from 'zod-openapi';
import { version } from '../../package.json';
import { COMMON, ErrorSchema } from './errors';
import { CONNECTION_ID_PARAM, curlNote } from './examples';
import { operations } from './operations';
import type { OperationDoc, ParamDoc, RequestExample, ResponseDoc, Security } from './types';

type Json = Record<string, unknown>;

/**
 * What every string a request sends must match (api/validate.ts: `assertStorable` and
 * `requestTarget`): no NUL and no unpaired surrogate, anywhere in a body, query string or path,
 * else 400 `invalid_text`. One rule for every field, so `storableRequests` adds it to every request
 * string that does not already say more (a `pattern`, a `format`, an `enum` or a `const`), instead
 * of to each zod schema. Surrogate pairs are one code point to a `u`-flag ECMAScript regex (and to
 * Python's), so only unpaired ones fall in the class.
 */
export const STORABLE_TEXT = '^[^\\u0000\\ud800-\\udfff]*$';

/** The names of the components `roots` reference, directly or through other components. */
function componentsReached(schemas: Record<string, Json>, roots: unknown[]): Set<string> {
  const reached = new Set<string>();
  const visit = (node: unknown): void => {
    if (!node || typeof node !== 'object') return;
    const ref = (node as Json).$ref;
    if (typeof ref === 'string' && ref.startsWith(COMPONENT) && !reached.has(ref.slice(COMPONENT.length))) {
      reached.add(ref.slice(COMPONENT.length));
      visit(schemas[ref.slice(COMPONENT.length)]);
    }
    for (const value of Object.values(node)) visit(value);
  };
  roots.forEach(visit);
  return reached;
}

/** `node` with STORABLE_TEXT on each plain string schema in it (in place). */
function storableStrings(node: unknown): void {
  if (Array.isArray(node)) node.forEach(storableStrings);
  if (!node || typeof node !== 'object' || Array.isArray(node)) return;
  const schema = node as Json;
  const plain = !('pattern' in schema || 'format' in schema || 'enum' in schema || 'const' in schema);
  if (schema.type === 'string' && plain) schema.pattern = STORABLE_TEXT;
  for (const value of Object.values(schema)) storableStrings(value);
}

/**
 * STORABLE_TEXT on each plain string schema of every request: parameters, bodies and the components
 * they reference (in place). A step after zod-openapi rather than its `override` hook: the hook sees
 * a string before zod folds `string | null` into `type: ["string", "null"]`, and a pattern there
 * would stop the folding. A component both a request and a response reference fails loudly (it
 * would say STORABLE_TEXT of a response).
 */
function storableRequests(document: Json): void {
  const schemas = (obj(document.components).schemas ?? {}) as Record<string, Json>;
  const ops = documentOperations(document);
  const requests = ops.flatMap((op) => [
    ...((op.parameters as Json[] | undefined) ?? []).map((p) => p.schema),
    ...Object.values(obj(obj(op.requestBody).content)).map((media) => obj(media).schema),
  ]);
  const inRequests = componentsReached(schemas, requests);
  const inResponses = componentsReached(schemas, ops.map((op) => op.responses));
  const both = [...inRequests].filter((name) => inResponses.has(name));
  if (both.length) throw new Error(`components both a request and a response schema: ${both.join(', ')}`);
  for (const node of [...requests, ...[...inRequests].map((name) => schemas[name])]) storableStrings(node);
}

const COMPONENT = '#/components/schemas/';
const obj = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
/** Every operation object of a document. */
const documentOperations = (document: Json): Json[] => Object.values(obj(document.paths)).flatMap((item) => Object.values(obj(item)).map(obj));

const SECURITY: Record<Security, Record<string, string[]>[]> = { apiKey: [{ apiKey: [] }], admin: [{ adminKey: [] }], none: [] };

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
function linksOf(op: OperationDoc, response: ResponseDoc): ZodOpenApiLinksObject | undefined {
  const from =
    op.operationId === 'createConnection' && response.status === 201
      ? '/v1/connections/{id}'
      : op.operationId === 'createWebhookEndpoint'
        ? '/v1/webhook-endpoints/{id}'
        : undefined;
  if (op.operationId === 'createTenant') return { issueApiKey: { operationId: 'issueApiKey', parameters: { id: '$response.body#/tenant/id' } } };
  if (!from) return undefined;
  const links: ZodOpenApiLinksObject = {};
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

/**
 * `schema` as the parameter `name` of `op`: a copy with zod-openapi's `param` metadata, the
 * description (when not the schema's own) and the examples of this operation that give it.
 */
function parameter(op: OperationDoc, p: { schema: z.ZodType; description?: string }, pick: (e: RequestExample) => Record<string, unknown> | undefined, name: string) {
  const description = p.description === undefined ? {} : { description: p.description };
  return p.schema.meta({ param: { ...description, ...parameterExamples(op.requestExamples, pick, name) } });
}

function requestParams(op: OperationDoc): ZodOpenApiOperationObject['requestParams'] {
  const path = Object.entries(pathParamsOf(op)).map(([name, p]) => [name, parameter(op, p, (e) => e.params, name)]);
  const header = Object.entries(op.headers ?? {}).map(([name, p]: [string, ParamDoc]) => [
    name,
    parameter(op, { ...p, schema: p.required ? p.schema : p.schema.optional() }, (e) => e.headers, name),
  ]);
  // The query's own fields carry their descriptions (.meta in the route's schema.ts); only the examples are added.
  const query = op.query && op.query.extend(Object.fromEntries(Object.entries(op.query.shape).map(([name, schema]) => [name, parameter(op, { schema }, (e) => e.query, name)])));
  return {
    ...(path.length ? { path: z.object(Object.fromEntries(path)) } : {}),
    ...(header.length ? { header: z.object(Object.fromEntries(header)) } : {}),
    ...(query ? { query } : {}),
  };
}

function successResponse(op: OperationDoc, r: ResponseDoc): ZodOpenApiResponseObject {
  const ofStatus = op.responseExamples.filter((e) => (e.status ?? op.responses[0].status) === r.status);
  const examples = Object.fromEntries(ofStatus.filter((e) => e.body !== undefined).map((e) => [e.name, { summary: e.summary, value: e.body }]));
  const headers = Object.entries(r.headers ?? {}).map(([name, h]) => {
    const shown = ofStatus.filter((e) => e.headers?.[name] !== undefined).map((e) => [e.name, { summary: e.summary, value: e.headers?.[name] }]);
    const header = { description: h.description, required: h.required ?? false, ...(shown.length ? { examples: Object.fromEntries(shown) } : {}) };
    return [name, (h.required ? h.schema : h.schema.optional()).meta({ header })];
  });
  const links = linksOf(op, r);
  return {
    description: r.description,
    ...(headers.length ? { headers: z.object(Object.fromEntries(headers)) } : {}),
    ...(links ? { links } : {}),
    ...(r.schema
      ? { content: { [r.contentType ?? 'application/json']: { schema: r.schema, ...(Object.keys(examples).length ? { examples } : {}) } } }
      : {}),
  };
}

/** One response per error status, each error code of it an example of the one Error shape. */
function errorResponses(op: OperationDoc): Record<string, ZodOpenApiResponseObject> {
  const errors = [...op.errors, ...(op.errors.some((e) => e.code === 'internal') ? [] : COMMON)];
  const responses: Record<string, ZodOpenApiResponseObject> = {};
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
      content: { 'application/json': { schema: ErrorSchema, examples } },
    };
  }
  return responses;
}

function buildOperation(op: OperationDoc): ZodOpenApiOperationObject {
  if (op.body && !z.globalRegistry.get(op.body.schema)?.id) throw new Error(`${op.operationId}: name its body schema with .meta({ id })`);
  const responses: Record<string, ZodOpenApiResponseObject> = {};
  for (const r of op.responses) responses[String(r.status)] = successResponse(op, r);
  const params = requestParams(op);
  return {
    operationId: op.operationId,
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    tags: op.tags,
    security: SECURITY[op.security],
    ...(params && Object.keys(params).length ? { requestParams: params } : {}),
    ...(op.body
      ? {
          requestBody: {
            required: !op.body.optional,
            content: {
              'application/json': {
                schema: op.body.schema,
                examples: Object.fromEntries(
                  op.requestExamples.filter((e) => e.body !== undefined).map((e) => [e.name, { summary: e.summary, value: e.body }]),
                ),
              },
            },
          },
        }
      : {}),
    responses: { ...responses, ...errorResponses(op) },
    'x-codeSamples': op.requestExamples.map((e) => ({ lang: 'Shell', label: e.summary, source: curl(op, e) })),
  };
}

/**
 * Parameters and response headers as this document has always written them: zod-openapi puts the
 * description on the parameter (header) and on its schema too, and leaves `required` out when false;
 * here the description is said once, on the parameter, and `required: false` is written out.
 */
function tidyParameters(document: Json): void {
  for (const op of documentOperations(document)) {
    const holders = ((op.parameters as Json[] | undefined) ?? []).map(obj);
    for (const response of Object.values(obj(op.responses))) holders.push(...Object.values(obj(obj(response).headers)).map(obj));
    for (const holder of holders) {
      const schema = obj(holder.schema);
      if (schema.description === holder.description) delete schema.description;
      holder.required ??= false;
    }
  }
}

/** The OpenAPI 3.1 document of every operation in `operations`. */
export function buildOpenApiDocument(options: { serverUrl?: string } = {}): Json {
  const paths: ZodOpenApiPathsObject = {};
  for (const op of operations) {
    const item = (paths[op.path] ??= {});
    if (item[op.method]) throw new Error(`${op.method.toUpperCase()} ${op.path} is documented twice`);
    item[op.method] = buildOperation(op);
  }

  const document = createDocument(
    {
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
        { name: 'Connect', description: "Linkflow Connect: a hosted page that takes the end user through the whole flow; you create a session, the end user's browser opens its URL." },
        { name: 'Data', description: 'What the syncs stored: accounts and transactions.' },
        { name: 'Institutions', description: 'The institutions a connection can be started with, across the configured providers.' },
        { name: 'Webhooks', description: 'Where Linkflow sends signed events about the connections.' },
        { name: 'Keys', description: 'The public key clients encrypt credentials with.' },
        { name: 'Admin', description: "The operator's (LINKFLOW_ADMIN_KEY): tenants and their API keys, and the codec endpoint the Temporal Web UI decodes history through." },
        { name: 'Callbacks', description: 'What providers send: browser redirects and webhooks.' },
        { name: 'Reference', description: 'This documentation.' },
        { name: 'Operations', description: 'For operators and orchestrators: Prometheus metrics, liveness and readiness. No tenant key.' },
      ],
      paths,
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', description: "A tenant's API key (`lf_…`) as `Authorization: Bearer <key>`." },
          adminKey: { type: 'http', scheme: 'bearer', description: 'The operator\'s LINKFLOW_ADMIN_KEY as `Authorization: Bearer <key>`.' },
        },
      },
    },
  ) as unknown as Json;
  tidyParameters(document);
  storableRequests(document);
  return document;
}
