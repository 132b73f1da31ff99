// Helpers for describing schemas in the OpenAPI document. Descriptions and examples are given with
// zod's own `.meta()` in each route's schema.ts; zod-openapi (api/openapi/document.ts) writes them
// into the document. The shared schemas (contract/messages.ts, the provider schemas) carry none: the
// routes' schema.ts files describe them through described variants (`.extend` / `.meta()` copies).
import { z } from 'zod';

/** An ISO 8601 date-time string (what `Date.toISOString` writes). */
export const isoDateTime = () => z.iso.datetime();

/** A decimal amount as a string (`-12.30`), documented with `what`. */
export const decimal = (what: string) => z.string().regex(/^-?\d+(\.\d+)?$/).meta({ description: what });

/**
 * A host whose last label is a number (decimal or 0x hex): the WHATWG URL parser reads it as an
 * IPv4 address (`1.2.3` is 1.2.0.3, `a.9` fails), so HOSTNAME leaves it to IPV4.
 */
const ENDS_IN_NUMBER = '(?:[^:/?#.]*\\.)*(?:[0-9]+|0[xX][0-9a-fA-F]*)\\.?(?:[:/?#]|$)';

/** An IPv4 address in its one canonical spelling: four decimal octets 0-255, no leading zeros. */
const OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])';
export const IPV4 = `(?:${OCTET}\\.){3}${OCTET}`;

/**
 * z.regexes.hostname without its anchors, less the names whose last label is a number (what
 * `httpUrl` and `endpointUrl` check the parsed host with, besides the JSON Schema pattern itself).
 */
export const HOSTNAME = `(?=[^:/?#]{1,253}(?:[:/?#]|$))(?!${ENDS_IN_NUMBER})[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[-0-9a-zA-Z]{0,61}[0-9a-zA-Z])?)*\\.?`;


/** An IPv6 address as RFC 3986 writes it (section 3.2.2, IPv6address), without brackets. */
const H16 = '[0-9a-fA-F]{1,4}';
const LS32 = `(?:${H16}:${H16}|${IPV4})`;
export const IPV6 = `(?:${[
  `(?:${H16}:){6}${LS32}`,
  `::(?:${H16}:){5}${LS32}`,
  `(?:${H16})?::(?:${H16}:){4}${LS32}`,
  `(?:(?:${H16}:){0,1}${H16})?::(?:${H16}:){3}${LS32}`,
  `(?:(?:${H16}:){0,2}${H16})?::(?:${H16}:){2}${LS32}`,
  `(?:(?:${H16}:){0,3}${H16})?::${H16}:${LS32}`,
  `(?:(?:${H16}:){0,4}${H16})?::${LS32}`,
  `(?:(?:${H16}:){0,5}${H16})?::${H16}`,
  `(?:(?:${H16}:){0,6}${H16})?::`,
].join('|')})`;

/** A TCP port as URLs write it: 0-65535, five digits at most (a leading zero allowed). */
const PORT = '(?:[0-9]{1,4}|[0-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])';

/** RFC 3986 `pchar`: unreserved, sub-delims, `:`, `@`, or a percent-encoded octet. */
const PCHAR = "(?:[A-Za-z0-9\\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2})";

/**
 * The JSON Schema `pattern` of an http(s) URL with this host, an optional port, no user name or
 * password, and a path, query and fragment as RFC 3986 writes them (anything else percent-encoded).
 * `format: uri` alone allows any scheme and any host. The routes check this very pattern, so what
 * the document allows is what they take (and each such URL also parses as a WHATWG URL).
 */
export const httpUrlPattern = (host: string) =>
  `^[hH][tT][tT][pP][sS]?://${host}(?::${PORT})?(?:/(?:${PCHAR}|/)*)?(?:\\?(?:${PCHAR}|[/?])*)?(?:#(?:${PCHAR}|[/?])*)?$`;
