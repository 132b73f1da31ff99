// Where Linkflow may send a tenant's webhooks. A tenant chooses the URL, so without a check Linkflow
// would POST signed events to its own loopback (the Temporal Web UI, the API), the private network,
// or the cloud's metadata service. URLs are parsed with WHATWG URL (which turns 2130706433, 0177.0.0.1,
// 0x7f.1 and 127.1 into 127.0.0.1), names are resolved, and every resolved address is classified with
// ipaddr.js; a delivery connects only to the addresses it checked (see `pinnedLookup`).
import { lookup } from 'node:dns/promises';
import type { LookupAddress, LookupOptions } from 'node:dns';
import { type LookupFunction, isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/** One address a name resolves to, as `dns.lookup(name, { all: true })` returns it. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Every address `hostname` resolves to; rejects (ENOTFOUND, …) when it resolves to none. */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

/**
 * The operator's rule for webhook targets. `allowPrivate` (LINKFLOW_WEBHOOK_ALLOW_PRIVATE=true) also
 * lets loopback, RFC 1918, CGNAT, link-local and unique-local addresses through, for receivers on
 * the operator's own network; metadata, unspecified, multicast, broadcast and reserved addresses are
 * refused whatever it says. `resolve` defaults to the system resolver (tests inject their own).
 */
export interface WebhookTargetPolicy {
  allowPrivate: boolean;
  resolve?: Resolver;
}

/** The guard on, with the system resolver: what a deployment gets unless its operator says otherwise. */
export const DEFAULT_WEBHOOK_TARGET_POLICY: WebhookTargetPolicy = { allowPrivate: false };

/** How long a name may take to resolve before the check gives up on it. */
export const RESOLVE_TIMEOUT_MS = 5_000;

/**
 * An address's standing: `public` may always be a target, `private` only with `allowPrivate`,
 * `forbidden` never. `range` names why (ipaddr.js's range names, plus `metadata` and `ipv4Compatible`).
 */
export interface AddressClass {
  kind: 'public' | 'private' | 'forbidden';
  range: string;
}

/**
 * Cloud metadata services (AWS, GCP, Azure, OpenStack: 169.254.169.254; AWS ECS: 169.254.170.2; AWS
 * DNS: 169.254.169.253; Alibaba: 100.100.100.200; AWS over IPv6: fd00:ec2::254). They hand out
 * credentials to whatever asks, so not even an operator who allows private addresses reaches them.
 */
const METADATA = new Set(['169.254.169.254', '169.254.169.253', '169.254.170.2', '100.100.100.200', 'fd00:ec2::254']);
const PRIVATE_V4 = new Set(['loopback', 'private', 'linkLocal', 'carrierGradeNat']);
const PRIVATE_V6 = new Set(['loopback', 'linkLocal', 'uniqueLocal', 'deprecatedSiteLocal']);

function classifyV4(address: ipaddr.IPv4): AddressClass {
  if (METADATA.has(address.toString())) return { kind: 'forbidden', range: 'metadata' };
  const range = address.range();
  if (range === 'unicast') return { kind: 'public', range };
  return { kind: PRIVATE_V4.has(range) ? 'private' : 'forbidden', range };
}

/** The IPv4 address in the last 32 bits of an IPv6 one (mapped, translated, NAT64, compatible forms). */
const low32 = (address: ipaddr.IPv6): ipaddr.IPv4 => {
  const bytes = address.toByteArray();
  return new ipaddr.IPv4(bytes.slice(12, 16));
};

/**
 * Classifies an IP address (either family, any textual form ipaddr.js parses). IPv6 forms that carry an
 * IPv4 address (::ffff:a.b.c.d, ::ffff:0:a.b.c.d, 64:ff9b::a.b.c.d, 2002:AABB:CCDD::) are judged by that
 * address; the deprecated IPv4-compatible ::a.b.c.d and the rest of the special IPv6 ranges are forbidden.
 * Throws on a string that is not an IP address.
 */
export function classifyAddress(text: string): AddressClass {
  const parsed = ipaddr.parse(text);
  if (parsed.kind() === 'ipv4') return classifyV4(parsed as ipaddr.IPv4);
  const address = parsed as ipaddr.IPv6;
  // toString() is the compact RFC 5952 form, as METADATA spells it.
  if (METADATA.has(address.toString())) {
    return { kind: 'forbidden', range: 'metadata' };
  }
  const range = address.range();
  // ::a.b.c.d (IPv4-compatible, deprecated): ipaddr.js calls it unicast; no receiver lives there.
  if (range === 'unicast' && address.match(ipaddr.IPv6.parse('::'), 96)) return { kind: 'forbidden', range: 'ipv4Compatible' };
  switch (range) {
    case 'unicast':
      return { kind: 'public', range };
    case 'ipv4Mapped':
    case 'rfc6145':
      return classifyV4(low32(address));
    case 'rfc6052':
      // 64:ff9b::/96 is NAT64 of a public address (an IPv6-only network reaches IPv4 that way);
      // the local-use 64:ff9b:1::/48 is not.
      return address.match(ipaddr.IPv6.parse('64:ff9b::'), 96) ? classifyV4(low32(address)) : { kind: 'forbidden', range };
    case '6to4': {
      const bytes = address.toByteArray();
      return classifyV4(new ipaddr.IPv4(bytes.slice(2, 6)));
    }
    default:
      break;
  }
  return { kind: PRIVATE_V6.has(range) ? 'private' : 'forbidden', range };
}

const allowed = (c: AddressClass, policy: WebhookTargetPolicy) => c.kind === 'public' || (c.kind === 'private' && policy.allowPrivate);

/** Why a target is refused: `forbidden` by the rule above, or `unresolvable` (no address to judge). */
export type TargetRefusal = { reason: 'forbidden' | 'unresolvable'; message: string };
export type TargetCheck = { ok: true; url: URL; addresses: ResolvedAddress[] } | ({ ok: false } & TargetRefusal);

const systemResolver: Resolver = async (hostname) => (await lookup(hostname, { all: true, verbatim: true })) as ResolvedAddress[];

/** RFC 6761: `localhost` and every name under it are loopback, whatever a resolver says. */
const isLocalhostName = (hostname: string) => /(^|\.)localhost\.?$/i.test(hostname);

const RANGE_WORDS: Record<string, string> = {
  loopback: 'a loopback',
  private: 'a private (RFC 1918)',
  uniqueLocal: 'a unique-local (fc00::/7)',
  linkLocal: 'a link-local',
  carrierGradeNat: 'a carrier-grade NAT (100.64.0.0/10)',
  metadata: "a cloud metadata service's",
  unspecified: 'an unspecified',
  multicast: 'a multicast',
  broadcast: 'the broadcast',
};
const rangeWords = (range: string) => RANGE_WORDS[range] ?? `a special-purpose (${range})`;

/**
 * Parses `url` (WHATWG) and resolves its host, then checks every address against `policy`: one
 * refused address refuses the target (a resolver may hand out any of them). On success, `addresses`
 * are the ones a connection may use, in the resolver's order. Never throws for a bad URL or a
 * failed look-up: those are refusals with a message that names the host, never the addresses.
 */
export async function checkWebhookTarget(url: string, policy: WebhookTargetPolicy): Promise<TargetCheck> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, reason: 'forbidden', message: 'The URL is not valid.' };
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return { ok: false, reason: 'forbidden', message: 'Only http and https URLs are allowed.' };
  }
  // WHATWG keeps IPv6 literals in brackets; IPv4 literals come out in dotted-decimal whatever the spelling.
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  const refuse = (what: string): TargetCheck => ({
    ok: false,
    reason: 'forbidden',
    message: policy.allowPrivate
      ? `${what} Webhooks are not allowed to metadata, unspecified, multicast or other special-purpose addresses.`
      : `${what} Webhooks are not allowed to loopback, private, link-local, metadata or other special-purpose addresses (the operator can allow private ones with LINKFLOW_WEBHOOK_ALLOW_PRIVATE=true).`,
  });

  let addresses: ResolvedAddress[];
  if (isIP(host)) {
    addresses = [{ address: host, family: isIP(host) as 4 | 6 }];
  } else if (isLocalhostName(host) && !policy.allowPrivate) {
    return refuse(`The host ${parsed.hostname} is this machine.`);
  } else {
    try {
      addresses = await withTimeout((policy.resolve ?? systemResolver)(host), RESOLVE_TIMEOUT_MS);
    } catch (err) {
      const code = (err as { code?: string }).code;
      return { ok: false, reason: 'unresolvable', message: `The host ${parsed.hostname} could not be resolved${code ? ` (${code})` : ''}.` };
    }
    if (addresses.length === 0) return { ok: false, reason: 'unresolvable', message: `The host ${parsed.hostname} has no address.` };
  }
  for (const { address } of addresses) {
    let standing: AddressClass;
    try {
      standing = classifyAddress(address);
    } catch {
      return refuse(`The host ${parsed.hostname} resolves to something that is not an IP address.`);
    }
    if (!allowed(standing, policy)) {
      return refuse(isIP(host) ? `${parsed.hostname} is ${rangeWords(standing.range)} address.` : `The host ${parsed.hostname} resolves to ${rangeWords(standing.range)} address.`);
    }
  }
  return { ok: true, url: parsed, addresses };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error('DNS look-up timed out'), { code: 'ETIMEOUT' })), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * A `lookup` for http(s).request / net.connect that answers with `addresses` (already checked) and
 * never asks DNS again, so the connection goes to an address that was judged, not to whatever the
 * name resolves to a moment later (DNS rebinding). TLS still verifies the certificate against the
 * URL's host name. Honours `family` and `all` as dns.lookup does.
 */
export function pinnedLookup(addresses: ResolvedAddress[]): LookupFunction {
  return (_hostname: string, options: LookupOptions, callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void): void => {
    const family = options.family === 4 || options.family === 'IPv4' ? 4 : options.family === 6 || options.family === 'IPv6' ? 6 : 0;
    const usable = family === 0 ? addresses : addresses.filter((a) => a.family === family);
    const first = usable[0];
    if (!first) {
      callback(Object.assign(new Error(`no IPv${family} address was checked for this host`), { code: 'ENOTFOUND' }), '', 0);
      return;
    }
    if (options.all) callback(null, usable);
    else callback(null, first.address, first.family);
  };
}
