import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Router from '@koa/router';
import { buildOpenApiDocument } from '../../openapi';

/** Where GET /docs loads the renderer from (documented as the operation `getDocsRenderer`). */
export const RENDERER_PATH = '/docs/scalar.js';

/**
 * Scalar's configuration: the document from this server, no fonts, proxy, agent or telemetry from
 * Scalar's hosts (the CSP would block them anyway), and no "Open API client" button (it loads the
 * client from Scalar's CDN).
 */
const RENDERER_CONFIG = {
  url: '/openapi.json',
  withDefaultFonts: false,
  hideClientButton: true,
  showDeveloperTools: 'never',
  telemetry: false,
  agent: { disabled: true },
  mcp: { disabled: true },
  documentDownloadType: 'json',
};

/** The one inline script: starts the renderer on `#app`. Allowed by its hash, not by 'unsafe-inline'. */
const INIT_SCRIPT = `Scalar.createApiReference('#app', ${JSON.stringify(RENDERER_CONFIG)});`;
const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/**
 * The page's Content-Security-Policy. Scripts: the renderer from this origin and the init script
 * by hash. Styles: the renderer writes `style` attributes and `<style>` elements at run time, so
 * style-src needs 'unsafe-inline' (styles cannot run code). Fetches: this origin only (the
 * document, and "try it" requests against this server). Nothing may frame the page.
 */
export const DOCS_CSP = [
  "default-src 'none'",
  `script-src 'self' ${sha256(INIT_SCRIPT)}`,
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The HTML of GET /docs: an empty `#app` the renderer fills from GET /openapi.json. */
export const DOCS_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Linkflow API</title>
<link rel="icon" href="data:,">
</head>
<body>
<div id="app"></div>
<script src="${RENDERER_PATH}"></script>
<script>${INIT_SCRIPT}</script>
</body>
</html>
`;

/**
 * The standalone browser bundle of @scalar/api-reference (`dist/browser/standalone.js`, ~5 MB),
 * read once from node_modules (no CDN). The package does not export that file, so it is found
 * next to the package's entry point (`dist/index.js`).
 */
let renderer: string | undefined;
const rendererScript = (): string =>
  (renderer ??= readFileSync(join(dirname(require.resolve('@scalar/api-reference')), 'browser', 'standalone.js'), 'utf8'));

/**
 * GET /openapi.json (the OpenAPI 3.1 document), GET /docs (the API reference, rendered in the
 * browser by Scalar from that document) and GET /docs/scalar.js (the renderer, served from
 * node_modules). Public: mounted without auth.
 */
export function docsRoutes(options: { publicUrl?: string } = {}): Router {
  const router = new Router({ sensitive: true });
  let document: Record<string, unknown> | undefined;

  router.get('/openapi.json', (ctx) => {
    ctx.type = 'application/json';
    ctx.body = document ??= buildOpenApiDocument(options.publicUrl ? { serverUrl: options.publicUrl } : {});
  });

  router.get('/docs', (ctx) => {
    ctx.type = 'text/html; charset=utf-8';
    ctx.set('content-security-policy', DOCS_CSP);
    ctx.set('x-content-type-options', 'nosniff');
    ctx.body = DOCS_HTML;
  });

  router.get(RENDERER_PATH, (ctx) => {
    ctx.type = 'text/javascript; charset=utf-8';
    ctx.set('x-content-type-options', 'nosniff');
    ctx.set('cache-control', 'public, max-age=3600');
    ctx.body = rendererScript();
  });

  return router;
}
