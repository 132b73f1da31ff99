import { createHash } from 'node:crypto';
import Router from '@koa/router';
import { buildOpenApiDocument } from '../../openapi';

/**
 * GET /openapi.json (the OpenAPI 3.1 document) and GET /docs (a self-contained HTML reference
 * made from it: no scripts, no CDN). Public: mounted without auth.
 */
export function docsRoutes(options: { publicUrl?: string } = {}): Router {
  const router = new Router();
  let cached: { document: Json; html: string } | undefined;
  const built = () => {
    if (!cached) {
      const document = buildOpenApiDocument(options.publicUrl ? { serverUrl: options.publicUrl } : {});
      cached = { document, html: renderDocsHtml(document) };
    }
    return cached;
  };

  router.get('/openapi.json', (ctx) => {
    ctx.type = 'application/json';
    ctx.body = built().document;
  });

  router.get('/docs', (ctx) => {
    ctx.type = 'text/html; charset=utf-8';
    // The page has one inline style sheet and nothing else: allow exactly that.
    ctx.set('content-security-policy', `default-src 'none'; style-src '${STYLE_HASH}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`);
    ctx.set('x-content-type-options', 'nosniff');
    ctx.body = built().html;
  });

  return router;
}

// ---------------------------------------------------------------------------------------------
// HTML: every interpolated value goes through `html`, which escapes it unless it is already Html.

type Json = Record<string, unknown>;

class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);

function piece(value: unknown): string {
  if (value instanceof Html) return value.value;
  if (Array.isArray(value)) return value.map(piece).join('');
  if (value === undefined || value === null || value === false) return '';
  return escapeHtml(String(value));
}

function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += piece(value) + (strings[i + 1] ?? '');
  });
  return new Html(out);
}

/** Backticks to <code>, the rest escaped. */
const code = (text: string): Html => html`${text.split('`').map((part, i) => (i % 2 ? html`<code>${part}</code>` : part))}`;

/** Text for a block: blank lines make paragraphs. */
function prose(text: unknown): Html {
  if (typeof text !== 'string' || !text) return html``;
  return html`${text.split(/\n{2,}/).map((p) => html`<p>${code(p)}</p>`)}`;
}

/** Text inside a paragraph or a table cell. */
function inline(text: unknown): Html {
  if (typeof text !== 'string' || !text) return html``;
  return html`${text.split(/\n{2,}/).map((p, i) => html`${i ? html`<br>` : ''}${code(p)}`)}`;
}

const obj = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const pretty = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v, null, 2));
const slug = (s: string) => s.replace(/[^A-Za-z0-9_-]/g, '-');
const refName = (ref: string) => ref.replace('#/components/schemas/', '');

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

/** What a JSON Schema is, in a few words (with a link for a component). */
function typeLabel(schema: Json): Html {
  if (typeof schema.$ref === 'string') {
    const name = refName(schema.$ref);
    return html`<a href="#schema-${slug(name)}">${name}</a>`;
  }
  const variants = arr(schema.anyOf ?? schema.oneOf).map(obj);
  if (variants.length) {
    const labels = new Map<string, Html>();
    for (const v of variants) {
      const label = typeLabel(v);
      labels.set(label.value, label);
    }
    return html`${[...labels.values()].map((l, i) => html`${i ? ' | ' : ''}${l}`)}`;
  }
  if ('const' in schema) return html`<code>${JSON.stringify(schema.const)}</code>`;
  const types = Array.isArray(schema.type) ? schema.type.map(String) : typeof schema.type === 'string' ? [schema.type] : [];
  if (!types.length) return html`any`;
  return html`${types.map((t, i) => {
    const sep = i ? ' | ' : '';
    if (t === 'array') return html`${sep}array of ${typeLabel(obj(schema.items))}`;
    if (t === 'string' && typeof schema.format === 'string') return html`${sep}string (${schema.format})`;
    return html`${sep}${t}`;
  })}`;
}

function constraints(schema: Json): Html[] {
  const out: Html[] = [];
  if (Array.isArray(schema.enum)) out.push(html`one of ${schema.enum.map((e, i) => html`${i ? ', ' : ''}<code>${JSON.stringify(e)}</code>`)}`);
  if ('default' in schema) out.push(html`default <code>${JSON.stringify(schema.default)}</code>`);
  const limits: [string, string][] = [
    ['minLength', 'min length'],
    ['maxLength', 'max length'],
    ['minimum', 'min'],
    ['maximum', 'max'],
    ['minItems', 'min items'],
    ['maxItems', 'max items'],
  ];
  for (const [key, label] of limits) {
    const limit = schema[key];
    // zod's .int() bounds every integer by the safe range: nothing worth saying.
    if (typeof limit === 'number' && Math.abs(limit) < Number.MAX_SAFE_INTEGER) out.push(html`${label} ${String(limit)}`);
  }
  // A format's own pattern (uuid, date-time) says nothing the format does not.
  if (typeof schema.pattern === 'string' && typeof schema.format !== 'string') out.push(html`pattern <code>${schema.pattern}</code>`);
  return out;
}

interface Row {
  name?: string;
  type?: Html;
  required?: boolean;
  description?: string;
  notes?: Html[];
  /** A heading row (a variant of a union). */
  heading?: Html;
}

/** One row per field, nested fields as `a.b`, array items as `a[].b`, union variants under a heading. */
function fieldRows(schema: Json, prefix: string, rows: Row[] = [], depth = 0): Row[] {
  if (depth > 6) return rows;
  const properties = obj(schema.properties);
  const required = arr(schema.required);
  for (const [key, raw] of Object.entries(properties)) {
    const prop = obj(raw);
    const name = prefix ? `${prefix}.${key}` : key;
    const branches = arr(prop.anyOf).map(obj);
    // A nullable's description may sit on its non-null branch.
    const description = str(prop.description) || str(branches.find((b) => b.description)?.description);
    const notes = constraints(prop).concat(branches.length === 2 ? branches.filter((b) => b.type !== 'null').flatMap(constraints) : []);
    rows.push({ name, type: typeLabel(prop), required: required.includes(key), description, notes });
    nested(prop, name, rows, depth + 1);
  }
  return rows;
}

function nested(schema: Json, name: string, rows: Row[], depth: number): void {
  if (typeof schema.$ref === 'string') return;
  const variants = arr(schema.anyOf ?? schema.oneOf)
    .map(obj)
    .filter((v) => v.type !== 'null');
  if (variants.length === 1) return nested(variants[0] ?? {}, name, rows, depth);
  if (variants.length > 1) {
    for (const variant of variants) {
      if (variant.anyOf || variant.oneOf) {
        nested(variant, name, rows, depth);
        continue;
      }
      if (!variant.properties) continue;
      const discriminator = Object.entries(obj(variant.properties)).find(([, p]) => 'const' in obj(p));
      const heading = discriminator
        ? html`when <code>${name}.${discriminator[0]}</code> is <code>${JSON.stringify(obj(discriminator[1]).const)}</code>`
        : html`variant of <code>${name}</code>`;
      rows.push({ heading });
      fieldRows(variant, name, rows, depth);
    }
    return;
  }
  if (schema.properties) fieldRows(schema, name, rows, depth);
  else if (obj(schema.items).properties || obj(schema.items).anyOf || obj(schema.items).oneOf) nested(obj(schema.items), `${name}[]`, rows, depth);
}

function fieldTable(schema: Json): Html {
  const rows = fieldRows(schema, '');
  if (!rows.length) return html`<p>Type: ${typeLabel(schema)}${constraints(schema).map((c) => html`; ${c}`)}</p>`;
  return html`<table class="fields"><thead><tr><th>Field</th><th>Type</th><th>Required</th><th>Description</th></tr></thead><tbody>${rows.map((r) =>
    r.heading
      ? html`<tr class="variant"><td colspan="4">${r.heading}</td></tr>`
      : html`<tr><td><code>${r.name}</code></td><td>${r.type}</td><td>${r.required ? 'yes' : ''}</td><td>${inline(r.description)}${
          r.notes?.length ? html`<div class="notes">${r.notes.map((n, i) => html`${i ? ' · ' : ''}${n}`)}</div>` : ''
        }</td></tr>`,
  )}</tbody></table>`;
}

const MAX_INLINE_ROWS = 20;

const resolve = (schema: Json, components: Json): Json =>
  typeof schema.$ref === 'string' ? obj(components[refName(schema.$ref)]) : schema;

function schemaBlock(schema: Json, components: Json, expandRef: boolean): Html {
  const ref = typeof schema.$ref === 'string' ? refName(schema.$ref) : null;
  const resolved = resolve(schema, components);
  // A component's JSON Schema is shown once, in the Schemas section.
  // Small ones are spelled out where they are used too; large ones (a connection) only there.
  if (ref) {
    const expand = expandRef || fieldRows(resolved, '').length <= MAX_INLINE_ROWS;
    return html`<p>Schema: ${typeLabel(schema)}</p>${expand ? fieldTable(resolved) : ''}`;
  }
  return html`${fieldTable(resolved)}<details><summary>JSON Schema</summary><pre>${pretty(resolved)}</pre></details>`;
}

function securityLabel(security: unknown, schemes: Json): Html {
  const names = arr(security).flatMap((s) => Object.keys(obj(s)));
  if (!names.length) return html`<span class="auth none">None: public</span>`;
  return html`${names.map((n) => html`<span class="auth">${n}</span>: ${inline(str(obj(schemes[n]).description))}`)}`;
}

function parametersTable(parameters: Json[]): Html {
  if (!parameters.length) return html``;
  return html`<h4>Parameters</h4><table class="fields"><thead><tr><th>Name</th><th>In</th><th>Type</th><th>Required</th><th>Description</th></tr></thead><tbody>${parameters.map(
    (p) => {
      const schema = obj(p.schema);
      const notes = constraints(schema);
      return html`<tr><td><code>${str(p.name)}</code></td><td>${str(p.in)}</td><td>${typeLabel(schema)}</td><td>${p.required ? 'yes' : ''}</td><td>${inline(
        p.description,
      )}${notes.length ? html`<div class="notes">${notes.map((n, i) => html`${i ? ' · ' : ''}${n}`)}</div>` : ''}</td></tr>`;
    },
  )}</tbody></table>`;
}

function examplesList(examples: Json, status?: string): Html {
  return html`${Object.entries(examples).map(([name, raw]) => {
    const e = obj(raw);
    return html`<div class="example"><p class="example-title">${status ? html`<span class="status">${status}</span> ` : ''}${str(e.summary) || name}</p><pre>${pretty(e.value)}</pre></div>`;
  })}`;
}

function operationSection(method: string, path: string, op: Json, document: Json): Html {
  const components = obj(obj(document.components).schemas);
  const schemes = obj(obj(document.components).securitySchemes);
  const parameters = arr(op.parameters).map(obj);
  const body = obj(obj(obj(op.requestBody).content)['application/json']);
  const responses = Object.entries(obj(op.responses));
  const success = responses.filter(([status]) => Number(status) < 400);
  const errors = responses.filter(([status]) => Number(status) >= 400);
  const samples = arr(op['x-codeSamples']).map(obj);

  return html`<section class="op" id="op-${slug(str(op.operationId))}">
<h3><span class="method m-${method}">${method.toUpperCase()}</span> <code class="path">${path}</code></h3>
<p class="summary">${str(op.summary)}</p>
${prose(op.description)}
<p><strong>Auth:</strong> ${securityLabel(op.security, schemes)}</p>
${parametersTable(parameters)}
${body.schema ? html`<h4>Request body <small>application/json</small></h4>${schemaBlock(obj(body.schema), components, true)}${
  resolve(obj(body.schema), components).additionalProperties === false ? html`<p class="small">Fields not listed are refused (422).</p>` : ''
}` : ''}
<h4>Responses</h4>
${success.map(([status, raw]) => {
  const r = obj(raw);
  const content = Object.entries(obj(r.content));
  const headers = Object.entries(obj(r.headers));
  return html`<div class="response"><p><span class="status">${status}</span> ${inline(r.description)}</p>${content.map(
    ([type, media]) => html`<p class="ctype">${type}</p>${schemaBlock(obj(obj(media).schema), components, false)}`,
  )}${
    headers.length
      ? html`<table class="fields"><thead><tr><th>Header</th><th>Type</th><th>Description</th></tr></thead><tbody>${headers.map(
          ([name, h]) => html`<tr><td><code>${name}</code></td><td>${typeLabel(obj(obj(h).schema))}</td><td>${inline(obj(h).description)}</td></tr>`,
        )}</tbody></table>`
      : ''
  }</div>`;
})}
${
  errors.length
    ? html`<h4>Errors</h4><table class="fields errors"><thead><tr><th>Status</th><th>Code</th><th>When</th></tr></thead><tbody>${errors.flatMap(([status, raw]) =>
        Object.values(obj(obj(obj(obj(raw).content)['application/json']).examples)).map((e) => {
          const errorCode = str(obj(obj(obj(e).value).error).code);
          return html`<tr><td>${status}</td><td><code>${errorCode}</code></td><td>${inline(obj(e).summary)}</td></tr>`;
        }),
      )}</tbody></table><p class="small">Every error is an <a href="#schema-Error">Error</a>: <code>{"error": {"code", "message", "details"?}}</code>.</p>`
    : ''
}
<h4>Examples</h4>
${samples.map((s) => html`<div class="example"><p class="example-title">Request: ${str(s.label)}</p><pre>${str(s.source)}</pre></div>`)}
${body.examples ? examplesList(obj(body.examples)) : ''}
${success.map(([status, raw]) =>
  html`${Object.values(obj(obj(raw).content)).map((media) => examplesList(obj(obj(media).examples), status))}${Object.entries(obj(obj(raw).headers)).map(
    ([name, h]) =>
      html`${Object.values(obj(obj(h).examples)).map(
        (e) => html`<div class="example"><p class="example-title"><span class="status">${status}</span> ${str(obj(e).summary)}: header</p><pre>${name}: ${String(obj(e).value)}</pre></div>`,
      )}`,
  )}`,
)}
${
  errors.length
    ? html`<details><summary>Error examples</summary>${errors.map(([status, raw]) =>
        examplesList(obj(obj(obj(obj(raw).content)['application/json']).examples), status),
      )}</details>`
    : ''
}
</section>`;
}

const STYLE = `
:root { color-scheme: light dark; --fg: #1b1f24; --muted: #57606a; --line: #d0d7de; --bg2: #f6f8fa; --accent: #0969da; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --muted: #9198a1; --line: #3d444d; --bg2: #151b23; --accent: #4493f8; } }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); margin: 0; display: flex; }
nav { position: sticky; top: 0; height: 100vh; overflow: auto; width: 19rem; flex: none; border-right: 1px solid var(--line); padding: 1rem; box-sizing: border-box; font-size: 13px; }
nav ul { list-style: none; padding: 0; margin: 0 0 1rem; } nav li { margin: .2rem 0; } nav h3 { margin: 1rem 0 .3rem; font-size: 13px; text-transform: uppercase; color: var(--muted); }
main { padding: 1rem 2rem 4rem; max-width: 64rem; min-width: 0; }
a { color: var(--accent); text-decoration: none; } a:hover { text-decoration: underline; }
code, pre { font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
pre { background: var(--bg2); border: 1px solid var(--line); border-radius: 6px; padding: .75rem; overflow: auto; white-space: pre; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0; } th, td { border: 1px solid var(--line); padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: var(--bg2); } td p { margin: 0; } tr.variant td { background: var(--bg2); font-style: italic; }
.notes, .small, .ctype { color: var(--muted); font-size: 13px; }
.op { border-top: 2px solid var(--line); margin-top: 2rem; padding-top: .5rem; }
.method { display: inline-block; min-width: 4.2rem; text-align: center; border-radius: 4px; padding: 0 .4rem; color: #fff; font-size: 13px; }
.m-get { background: #1f6feb; } .m-post { background: #1a7f37; } .m-put { background: #9a6700; } .m-patch { background: #8250df; } .m-delete { background: #cf222e; }
.summary { font-size: 17px; font-weight: 600; margin: .3rem 0; }
.status { font-weight: 600; font-family: ui-monospace, monospace; }
.auth { font-weight: 600; } .example-title { margin: .8rem 0 .2rem; font-weight: 600; }
details { margin: .5rem 0; } summary { cursor: pointer; color: var(--accent); }
`;
const STYLE_HASH = `sha256-${createHash('sha256').update(STYLE).digest('base64')}`;

/** The reference page for an OpenAPI document made by buildOpenApiDocument. */
export function renderDocsHtml(document: Json): string {
  const info = obj(document.info);
  const paths = obj(document.paths);
  const components = obj(obj(document.components).schemas);
  const ops = Object.entries(paths).flatMap(([path, item]) =>
    METHODS.filter((m) => obj(item)[m]).map((method) => ({ method, path, op: obj(obj(item)[method]) })),
  );
  const tags = arr(document.tags).map(obj);
  const tagNames = [...new Set([...tags.map((t) => str(t.name)), ...ops.flatMap((o) => arr(o.op.tags).map(String))])];
  const inTag = (tag: string) => ops.filter((o) => arr(o.op.tags)[0] === tag);
  const title = str(info.title) || 'API';

  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} ${str(info.version)}</title><style>${new Html(STYLE)}</style></head>
<body>
<nav><p><strong>${title}</strong> ${str(info.version)}</p>
${tagNames.map(
  (tag) =>
    html`<h3>${tag}</h3><ul>${inTag(tag).map(
      (o) => html`<li><a href="#op-${slug(str(o.op.operationId))}"><span class="method m-${o.method}">${o.method.toUpperCase()}</span> ${o.path}</a></li>`,
    )}</ul>`,
)}
<h3>Schemas</h3><ul>${Object.keys(components).map((name) => html`<li><a href="#schema-${slug(name)}">${name}</a></li>`)}</ul>
</nav>
<main>
<h1>${title} <small>${str(info.version)}</small></h1>
${prose(info.description)}
<p>Machine-readable: <a href="openapi.json">openapi.json</a> (OpenAPI ${str(document.openapi)}).</p>
<h2>Authentication</h2>
<ul>${Object.entries(obj(obj(document.components).securitySchemes)).map(
    ([name, s]) => html`<li><span class="auth">${name}</span>: HTTP ${str(obj(s).scheme)}. ${inline(obj(s).description)}</li>`,
  )}</ul>
${tagNames.map(
  (tag) =>
    html`<h2 id="tag-${slug(tag)}">${tag}</h2>${prose(tags.find((t) => t.name === tag)?.description)}${inTag(tag).map((o) =>
      operationSection(o.method, o.path, o.op, document),
    )}`,
)}
<h2>Schemas</h2>
${Object.entries(components).map(
  ([name, schema]) =>
    html`<section class="op" id="schema-${slug(name)}"><h3>${name}</h3>${prose(obj(schema).description)}${fieldTable(obj(schema))}<details><summary>JSON Schema</summary><pre>${pretty(
      schema,
    )}</pre></details></section>`,
)}
</main>
</body></html>
`.value;
}
