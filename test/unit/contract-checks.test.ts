// The workflow's hand-written payload checks (contract/checks.ts) against the zod schemas they stand
// in for (contract/schemas.ts): over a corpus of valid payloads and every mutation of them (a key
// removed, a value replaced by an odd one, an unknown key added) plus edge cases, both must accept
// the same inputs and answer the same output. A difference would change which updates and signals
// a running workflow takes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ZodType } from 'zod';
import { type CheckResult, checkGiveConsent, checkSubmitCredentials, checkWebhookDelivery } from '../../contract/checks';
import { GiveConsentSchema, SubmitCredentialsSchema, WebhookDeliverySchema } from '../../contract/schemas';

const PGP = '-----BEGIN PGP MESSAGE-----\n\nwcBMA0xyz\n-----END PGP MESSAGE-----\n';

/** Values that stand in for a key's value in the mutations: every JSON type, edges of lengths and numbers. */
const ODD: unknown[] = [
  null,
  undefined,
  0,
  -1,
  1.5,
  2 ** 53,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  '',
  'x',
  ' ',
  'x'.repeat(64),
  'x'.repeat(65),
  'x'.repeat(16_385),
  true,
  false,
  [],
  [null],
  ['x'],
  {},
  { a: 1 },
  PGP,
  `${PGP}x`,
  'https://bank.example/a',
  ' https://bank.example/a\n',
  '2026-03-01T10:00:00Z',
  'active',
  'redirect',
];

/** Every variant of `value` with one node changed: removed, replaced by an ODD value, or given an extra key. */
function* mutations(value: unknown): Generator<unknown> {
  if (Array.isArray(value)) {
    yield [];
    yield [...value, ...value];
    yield [...value, value[0]];
    for (let i = 0; i < value.length; i++) {
      yield value.filter((_, j) => j !== i);
      for (const m of mutations(value[i])) yield value.map((v, j) => (j === i ? m : v));
    }
  } else if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    yield { ...record, extra: 1 };
    yield { ...record, __proto__x: null };
    for (const key of Object.keys(record)) {
      const { [key]: _dropped, ...rest } = record;
      yield rest;
      for (const m of mutations(record[key])) yield { ...record, [key]: m };
    }
  }
  for (const odd of ODD) yield odd;
}

function agree<T>(name: string, schema: ZodType, check: (v: unknown) => CheckResult<T>, corpus: unknown[]): { accepted: number; rejected: number } {
  let accepted = 0;
  let rejected = 0;
  for (const input of corpus) {
    const copy = structuredClone(input);
    let zod: { success: boolean; data?: unknown };
    try {
      zod = schema.safeParse(copy);
    } catch {
      // A refine reading a malformed element throws: the update is rejected all the same.
      zod = { success: false };
    }
    const hand = check(structuredClone(input));
    const shown = JSON.stringify(input)?.slice(0, 300);
    assert.equal(hand.success, zod.success, `${name}: zod ${zod.success ? 'accepts' : 'rejects'} but the check does not: ${shown}`);
    if (hand.success) {
      assert.deepStrictEqual(hand.data, zod.data, `${name}: outputs differ for ${shown}`);
      assert.equal(JSON.stringify(hand.data), JSON.stringify(zod.data), `${name}: key order differs for ${shown}`);
      accepted++;
    } else rejected++;
  }
  return { accepted, rejected };
}

const corpusOf = (valid: unknown[], extra: unknown[]): unknown[] => [...valid, ...valid.flatMap((v) => [...mutations(v)]), ...extra];

describe('hand-written payload checks agree with the zod schemas', () => {
  it('giveConsent', () => {
    const valid = [
      { consents: [{ account_id: 'acc-1', consent: true }] },
      { consents: [{ account_id: 'acc-1', consent: true }, { account_id: 'acc-2', consent: false }] },
    ];
    const extra = [
      { consents: [{ account_id: 'a', consent: true }, { account_id: 'a', consent: false }] },
      { consents: [null, { account_id: 'a', consent: true }] },
      { consents: [{ account_id: 'x'.repeat(10_000), consent: true }] },
      { consents: 'acc-1' },
      [{ consents: [{ account_id: 'acc-1', consent: true }] }],
      // Keys Object.prototype has, as JSON.parse makes them (own keys): strict objects refuse them.
      JSON.parse('{"__proto__":{"x":1},"consents":[{"account_id":"a","consent":true}]}'),
      JSON.parse('{"consents":[{"__proto__":null,"account_id":"a","consent":true}]}'),
      { consents: [{ account_id: 'a', consent: true, toString: 1 }] },
      { consents: [{ account_id: 'a', consent: true }], constructor: {} },
      { consents: [{ account_id: '\ud800', consent: true }] },
    ];
    const { accepted, rejected } = agree('giveConsent', GiveConsentSchema, checkGiveConsent, corpusOf(valid, extra));
    assert.ok(accepted >= 3 && rejected > 100, `a corpus with both outcomes (${accepted} accepted, ${rejected} rejected)`);
  });

  it('submitCredentials', () => {
    const field = (id: string) => ({ id, value: PGP });
    const valid = [{ credentials: [field('3500')] }, { credentials: [field('3500'), { id: 'x'.repeat(64), value: `${PGP}  \n` }] }];
    const extra = [
      { credentials: Array.from({ length: 20 }, (_, i) => field(`f${i}`)) },
      { credentials: Array.from({ length: 21 }, (_, i) => field(`f${i}`)) },
      { credentials: [field('a'), field('a')] },
      { credentials: [field('a'), null] },
      { credentials: [{ id: 'a', value: `${PGP}${'A'.repeat(16_384 - PGP.length)}`.replace(/-----END[\s\S]*$/, '') }] },
      { credentials: [{ id: 'a', value: `-----BEGIN PGP MESSAGE-----\n${'A'.repeat(16_384 - 57)}\n-----END PGP MESSAGE-----` }] },
      { credentials: [{ id: 'a', value: `-----BEGIN PGP MESSAGE-----\n${'A'.repeat(16_384 - 56)}\n-----END PGP MESSAGE-----` }] },
      { credentials: [{ id: 'a', value: '-----BEGIN PGP MESSAGE----------END PGP MESSAGE-----' }] },
      { credentials: [{ id: 'a', value: ` ${PGP}` }] },
      { credentials: [{ id: 'a', value: 'secret' }] },
      // zod measures lengths in code points: 32 and 33 astral characters are 64 and 66 UTF-16 units.
      { credentials: [{ id: '\u{1F600}'.repeat(32), value: PGP }] },
      { credentials: [{ id: '\u{1F600}'.repeat(33), value: PGP }] },
      { credentials: [{ id: `${'\u{1F600}'.repeat(31)}\ud800x`, value: PGP }] },
      { credentials: [{ id: 'a', value: `-----BEGIN PGP MESSAGE-----\n${'\u{1F600}'.repeat(8_000)}\n-----END PGP MESSAGE-----` }] },
      { credentials: [{ id: 'a', value: `-----BEGIN PGP MESSAGE-----\n${'\u{1F600}'.repeat(16_384 - 55)}\n-----END PGP MESSAGE-----` }] },
      JSON.parse(`{"credentials":[{"id":"a","value":${JSON.stringify(PGP)},"__proto__":1}]}`),
      { credentials: [{ id: 'a', value: PGP, hasOwnProperty: 1 }] },
    ];
    const { accepted, rejected } = agree('submitCredentials', SubmitCredentialsSchema, checkSubmitCredentials, corpusOf(valid, extra));
    assert.ok(accepted >= 4 && rejected > 100, `a corpus with both outcomes (${accepted} accepted, ${rejected} rejected)`);
  });

  it('webhook deliveries', () => {
    const at = '2026-03-01T10:00:00.123Z';
    const envelope = { id: 'evt_c-1_3', tenant_id: 't-1', connection_id: 'c-1', created_at: at };
    const field = { id: '3500', label: 'Login', type: 'TEXT', regexp: null, encrypt: false };
    const actions = [
      { type: 'redirect', url: 'https://bank.example/authorize?s=1', expires_at: at },
      { type: 'redirect', url: ' https://bank.ex\tample/a \n', expires_at: at, terms: 'I agree' },
      { type: 'credentials', channel_id: 'embedded1', fields: [field, { ...field, required: false, description: 'd', values: [{ value: 'v', label: 'l' }] }] },
      { type: 'challenge', fields: [field], messages: [{ id: '305', type: 'INFO_MSG', text: 'code sent' }], expires_at: at },
      { type: 'consent', accounts: [{ id: 'acc-1', name: 'A', type: 'CHECKINGS', currency: 'EUR', mask: '0001' }], expires_at: at },
      { type: 'message', message: 'wait' },
      { type: 'reconnect', message: 'again' },
    ];
    const events = [
      { ...envelope, type: 'connection.state_changed', data: { state: 'active', previous_state: null, reason: null } },
      { ...envelope, tenant_id: null, type: 'connection.state_changed', data: { state: 'expired', previous_state: 'awaiting_redirect', reason: 'TIMEOUT' } },
      ...actions.map((next_action) => ({ ...envelope, type: 'connection.action_required', data: { state: 'awaiting_consent', next_action } })),
      { ...envelope, type: 'connection.synced', data: { synced_at: at, accounts: 3, transactions_added: 10, transactions_modified: 0, transactions_removed: -0 } },
      { ...envelope, type: 'connection.renewal_due', data: { channel_id: 'redirect1', expires_at: at, next_action: null } },
      { ...envelope, type: 'connection.renewal_due', data: { channel_id: 'redirect1', expires_at: at, next_action: actions[0] } },
      { ...envelope, type: 'connection.failed', data: { state: 'failed', reason: 'X', next_action: null } },
      { ...envelope, type: 'connection.disconnected', data: { reason: null } },
    ];
    const valid = events.map((event) => ({ event, endpoint_ids: ['we-1'] }));
    const delivery = (event: unknown) => ({ event, endpoint_ids: ['we-1', 'we-2'] });
    const times = ['2024-02-29T00:00:00Z', '2026-02-29T00:00:00Z', '2026-04-31T00:00:00Z', '2026-03-01T24:00:00Z', '2026-03-01T10:00Z', '2026-03-01T10:00:00+01:00', '2026-03-01t10:00:00z', '2026-03-01T10:00:00.Z', '2026-03-01T10:00:60Z', '1900-02-29T00:00:00Z', '2000-02-29T00:00:00Z'];
    const urls = ['not a url', 'mailto:a@b.c', 'http:example.com', 'https://', '//bank.example', 'https://exa\nmple.com', '\u0000https://bank.example', 'https://[::1]/x', 'a:b'];
    const ids = ['evt_', 'evt_a', `evt_${'a'.repeat(200)}`, `evt_${'a'.repeat(201)}`, 'evt_a b', 'EVT_a', 'evt_a\n'];
    const extra = [
      ...times.map((t) => delivery({ ...envelope, created_at: t, type: 'connection.disconnected', data: { reason: null } })),
      ...urls.map((url) => delivery({ ...envelope, type: 'connection.action_required', data: { state: 'active', next_action: { ...actions[0], url } } })),
      ...ids.map((id) => delivery({ ...envelope, id, type: 'connection.disconnected', data: { reason: null } })),
      delivery({ ...envelope, type: 'connection.failed', data: { state: 'active', reason: null, next_action: null } }),
      delivery({ ...envelope, type: 'connection.unknown', data: {} }),
      delivery({ ...envelope, type: '__proto__', data: {} }),
      delivery({ ...envelope, type: 'toString', data: {} }),
      delivery({ ...envelope, type: 'connection.synced', data: { synced_at: at, accounts: 2 ** 53, transactions_added: 0, transactions_modified: 0, transactions_removed: 0 } }),
      { event: events[0], endpoint_ids: [''] },
      { event: events[0], endpoint_ids: [] },
    ];
    const { accepted, rejected } = agree('webhookDelivery', WebhookDeliverySchema, checkWebhookDelivery, corpusOf(valid, extra));
    assert.ok(accepted >= 50 && rejected > 1000, `a corpus with both outcomes (${accepted} accepted, ${rejected} rejected)`);
  });
});
