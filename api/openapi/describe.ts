// Helpers for describing schemas in the OpenAPI document. Descriptions and examples are given with
// zod's own `.meta()` in each route's schema.ts; zod-openapi (api/openapi/document.ts) writes them
// into the document. The shared schemas (contract/messages.ts, the provider schemas) carry none: the
// routes' schema.ts files describe them through described variants (`.extend` / `.meta()` copies).
import { z } from 'zod';

/** An ISO 8601 date-time string (what `Date.toISOString` writes). */
export const isoDateTime = () => z.iso.datetime();

/** A decimal amount as a string (`-12.30`), documented with `what`. */
export const decimal = (what: string) => z.string().regex(/^-?\d+(\.\d+)?$/).meta({ description: what });

/** z.regexes.hostname without its anchors (what `httpUrl` and `endpointUrl` check the parsed host with). */
export const HOSTNAME = `(?=[^:/?#]{1,253}(?:[:/?#]|$))[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[-0-9a-zA-Z]{0,61}[0-9a-zA-Z])?)*\\.?`;

/**
 * The JSON Schema `pattern` of an http(s) URL with this host, an optional port, and no user name or
 * password. `format: uri` alone allows any scheme and any host; the routes take http(s) with a DNS
 * host name (z.regexes.hostname: labels of at most 63, 253 in all) or, for webhook endpoints, a
 * bracketed IPv6 literal.
 */
export const httpUrlPattern = (host: string) => `^[hH][tT][tT][pP][sS]?://${host}(?::[0-9]{1,5})?(?:[/?#][^\\s]*)?$`;
