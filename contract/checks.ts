// Hand-written twins of the three zod schemas workflow code validates with (GiveConsentSchema,
// SubmitCredentialsSchema, WebhookDeliverySchema in contract/schemas.ts), so the workflow bundle
// carries no zod: the SDK evaluates the bundle once per cached execution, and zod with every schema
// cost ~1.4 MB per cached connection. Each check accepts exactly what its schema accepts, on the
// JSON values a payload decodes to, and answers the same output (unknown keys stripped where the
// schema strips them, URLs trimmed as z.url() does); test/unit/contract-checks.test.ts runs both
// over a corpus so they cannot drift. Changing what a check accepts changes which updates and
// signals a running workflow takes: it needs patched() like any other workflow change.
import type { GiveConsent, SubmitCredentials, WebhookDelivery } from './schemas';
import { ARMORED_PGP_MESSAGE, CONNECTION_STATES, ENCRYPTED_VALUE_MAX, ENCRYPTED_VALUE_MESSAGE, WEBHOOK_EVENT_ID } from './constants';

/** A check's answer: the value as the schema would output it, or the first problem found (`path: message`). */
export type CheckResult<T> = { success: true; data: T } | { success: false; error: string };

class Invalid extends Error {}

type Parse = (value: unknown, path: string) => unknown;

const fail = (path: string, message: string): never => {
  throw new Invalid(`${path || '(root)'}: ${message}`);
};

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * A string's length as zod's min/max measure it: Unicode code points (a surrogate pair counts once,
 * a lone surrogate as itself), not UTF-16 units.
 */
function codePointLength(text: string): number {
  let count = text.length;
  for (let i = 0; i < text.length - 1; i++) {
    if ((text.charCodeAt(i) & 0xfc00) === 0xd800 && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      count--;
      i++;
    }
  }
  return count;
}

const str =
  (options: { min?: number; max?: number; pattern?: RegExp; message?: string } = {}): Parse =>
  (value, path) => {
    if (typeof value !== 'string') return fail(path, 'expected a string');
    const length = options.min !== undefined || options.max !== undefined ? codePointLength(value) : value.length;
    if (options.min !== undefined && length < options.min) fail(path, `at least ${options.min} characters`);
    if (options.max !== undefined && length > options.max) fail(path, `at most ${options.max} characters`);
    if (options.pattern && !options.pattern.test(value)) fail(path, options.message ?? 'invalid format');
    return value;
  };

const bool: Parse = (value, path) => (typeof value === 'boolean' ? value : fail(path, 'expected a boolean'));

/** z.number().int(): a finite safe integer. */
const int: Parse = (value, path) => (typeof value === 'number' && Number.isSafeInteger(value) ? value : fail(path, 'expected an integer'));

const oneOf =
  (values: readonly string[]): Parse =>
  (value, path) =>
    typeof value === 'string' && values.includes(value) ? value : fail(path, `expected one of ${values.join(', ')}`);

const nullable =
  (inner: Parse): Parse =>
  (value, path) =>
    value === null ? null : inner(value, path);

/** Marks an object key optional: absent (or undefined) passes and stays absent. */
const optional = (inner: Parse): Parse & { optional: true } => Object.assign((value: unknown, path: string) => inner(value, path), { optional: true as const });

const arr =
  (item: Parse, options: { min?: number; max?: number } = {}): Parse =>
  (value, path) => {
    if (!Array.isArray(value)) return fail(path, 'expected an array');
    const out = value.map((v, i) => item(v, `${path}.${i}`));
    if (options.min !== undefined && value.length < options.min) fail(path, `at least ${options.min} items`);
    if (options.max !== undefined && value.length > options.max) fail(path, `at most ${options.max} items`);
    return out;
  };

/** z.object (unknown keys stripped) or, with `strict`, z.strictObject (unknown keys refused). */
const obj =
  (shape: Record<string, Parse & { optional?: true }>, strict = false): Parse =>
  (value, path) => {
    if (!isObject(value)) return fail(path, 'expected an object');
    const out: Record<string, unknown> = {};
    for (const [key, parse] of Object.entries(shape)) {
      const v = value[key];
      if (v === undefined && parse.optional) {
        if (key in value) out[key] = undefined;
        continue;
      }
      out[key] = parse(v, path ? `${path}.${key}` : key);
    }
    if (strict) {
      // Own keys of the shape only: `in` would also take Object.prototype's (__proto__, toString, constructor).
      const extra = Object.keys(value).filter((key) => !Object.hasOwn(shape, key));
      if (extra.length > 0) fail(path, `unrecognized keys ${extra.join(', ')}`);
    }
    return out;
  };

/**
 * z.discriminatedUnion on `type`, each option an object whose `type` is its key: first in the output
 * unless the shape places it (a `type` entry in the shape, as the schema orders its keys).
 */
const byType =
  (options: Record<string, Record<string, Parse & { optional?: true }>>): Parse =>
  (value, path) => {
    if (!isObject(value)) return fail(path, 'expected an object');
    const type = value.type;
    const shape = typeof type === 'string' && Object.hasOwn(options, type) ? options[type] : undefined;
    if (!shape) return fail(path, `unknown type ${String(type)}`);
    const literal = oneOf([type as string]);
    return obj('type' in shape ? { ...shape, type: literal } : { type: literal, ...shape })(value, path);
  };

/** z.url(): any string the WHATWG URL parser takes once trimmed; answers it trimmed, tabs and newlines removed. */
const url: Parse = (value, path) => {
  if (typeof value !== 'string') return fail(path, 'expected a string');
  const trimmed = value.trim();
  if (!canParseUrl(trimmed)) fail(path, 'invalid URL');
  return trimmed.replace(/[\t\n\r]/g, '');
};

function canParseUrl(input: string): boolean {
  try {
    if (typeof URL !== 'undefined' && typeof URL.canParse === 'function') return URL.canParse(input);
    new URL(input);
    return true;
  } catch {
    return false;
  }
}

// z.iso.datetime(): RFC 3339 in UTC (Z), seconds required, any fraction, real calendar dates (zod's own pattern).
const DATE = '(?:(?:\\d\\d[2468][048]|\\d\\d[13579][26]|\\d\\d0[48]|[02468][048]00|[13579][26]00)-02-29|\\d{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\\d|30)|(?:02)-(?:0[1-9]|1\\d|2[0-8])))';
const ISO_DATETIME = new RegExp(`^${DATE}T(?:(?:[01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(?:\\.\\d+)?(?:Z))$`);
const datetime = str({ pattern: ISO_DATETIME });

const unique = (ids: string[], path: string, message: string): void => {
  if (new Set(ids).size !== ids.length) fail(path, message);
};

function run<T>(parse: () => unknown): CheckResult<T> {
  try {
    return { success: true, data: parse() as T };
  } catch (err) {
    if (err instanceof Invalid) return { success: false, error: err.message };
    throw err;
  }
}

// The schemas, shape for shape.

const consentsShape = obj({ consents: arr(obj({ account_id: str({ min: 1 }), consent: bool }, true), { min: 1 }) }, true);

/** GiveConsentSchema's check: one decision per listed account id, at least one, nothing else. */
export const checkGiveConsent = (value: unknown): CheckResult<GiveConsent> =>
  run(() => {
    const out = consentsShape(value, '') as GiveConsent;
    unique(out.consents.map((c) => c.account_id), 'consents', 'each account may appear once');
    return out;
  });

const encrypted = str({ max: ENCRYPTED_VALUE_MAX, pattern: ARMORED_PGP_MESSAGE, message: ENCRYPTED_VALUE_MESSAGE });
const credentialsShape = obj({ credentials: arr(obj({ id: str({ min: 1, max: 64 }), value: encrypted }, true), { min: 1, max: 20 }) }, true);

/** SubmitCredentialsSchema's check: 1–20 fields, ids 1–64 characters and unique, values armored PGP messages. */
export const checkSubmitCredentials = (value: unknown): CheckResult<SubmitCredentials> =>
  run(() => {
    const out = credentialsShape(value, '') as SubmitCredentials;
    unique(out.credentials.map((c) => c.id), 'credentials', 'each field may appear once');
    return out;
  });

const text = str();
const state = oneOf(CONNECTION_STATES);
const inputField = obj({
  id: text,
  label: text,
  type: text,
  regexp: nullable(text),
  required: optional(bool),
  encrypt: bool,
  description: optional(text),
  values: optional(arr(obj({ value: text, label: text }))),
});
const messages = arr(obj({ id: text, type: text, text }));
const nextAction = byType({
  redirect: { url, expires_at: datetime, terms: optional(text) },
  credentials: { channel_id: text, fields: arr(inputField) },
  challenge: { fields: arr(inputField), messages, expires_at: datetime },
  consent: { accounts: arr(obj({ id: text, name: text, type: text, currency: text, mask: optional(text) })), expires_at: datetime },
  message: { message: text },
  reconnect: { message: text },
});
// `type: text` only places the key after the envelope, as the schema does; byType checks its value.
const envelope = { id: str({ pattern: WEBHOOK_EVENT_ID, message: 'must be evt_<connection id>_<sequence>' }), tenant_id: nullable(str({ min: 1 })), connection_id: str({ min: 1 }), created_at: datetime, type: text };
const webhookEvent = byType({
  'connection.state_changed': { ...envelope, data: obj({ state, previous_state: nullable(state), reason: nullable(text) }) },
  'connection.action_required': { ...envelope, data: obj({ state, next_action: nextAction }) },
  'connection.synced': {
    ...envelope,
    data: obj({ synced_at: datetime, accounts: int, transactions_added: int, transactions_modified: int, transactions_removed: int }),
  },
  'connection.renewal_due': { ...envelope, data: obj({ channel_id: text, expires_at: datetime, next_action: nullable(nextAction) }) },
  'connection.failed': { ...envelope, data: obj({ state: oneOf(['failed', 'expired', 'cancelled']), reason: nullable(text), next_action: nullable(nextAction) }) },
  'connection.disconnected': { ...envelope, data: obj({ reason: nullable(text) }) },
});
const deliveryShape = obj({ event: webhookEvent, endpoint_ids: arr(str({ min: 1 }), { min: 1 }) });

/** WebhookDeliverySchema's check: the event (unknown keys stripped, as zod does) and at least one endpoint id. */
export const checkWebhookDelivery = (value: unknown): CheckResult<WebhookDelivery> => run(() => deliveryShape(value, ''));
