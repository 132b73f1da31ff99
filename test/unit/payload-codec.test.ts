// The payload codec on its own: sealing, opening, key rotation, unknown keys, tampering, and the
// LINKFLOW_PAYLOAD_KEYS format. test/e2e/codec.test.ts checks it on a real history and the API.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { type Payload, defaultPayloadConverter } from '@temporalio/common';
import { loadConfig } from '../../config';
import { ENCRYPTED_ENCODING, KEY_ID_METADATA, PayloadCodecError, createPayloadCodec, generatePayloadKeys, parsePayloadKeys } from '../../domain/payload-codec';

const key = (id: string) => `${id}:${randomBytes(32).toString('base64')}`;
const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('utf8');
const PHONE = { challenge: 'Un code a été envoyé par SMS sur votre téléphone au 0606060606.' };
const plain = (): Payload => defaultPayloadConverter.toPayload(PHONE);

describe('payload codec', () => {
  it('seals a payload: binary/encrypted, the key id in its metadata, nothing of the plaintext left', async () => {
    const codec = createPayloadCodec(parsePayloadKeys(key('k1')));
    const [sealed] = await codec.encode([plain()]);
    assert.ok(sealed);
    assert.equal(text(sealed.metadata?.encoding), ENCRYPTED_ENCODING);
    assert.equal(text(sealed.metadata?.[KEY_ID_METADATA]), 'k1');
    assert.deepEqual(Object.keys(sealed.metadata ?? {}).sort(), ['encoding', KEY_ID_METADATA].sort());
    assert.doesNotMatch(Buffer.from(sealed.data ?? []).toString('latin1'), /0606060606|json\/plain/);
    const [opened] = await codec.decode([sealed]);
    assert.ok(opened);
    assert.deepEqual(defaultPayloadConverter.fromPayload(opened), PHONE);
    assert.equal(text(opened.metadata?.encoding), 'json/plain');
  });

  it('uses a fresh nonce each time: the same payload seals differently', async () => {
    const codec = createPayloadCodec(parsePayloadKeys(key('k1')));
    const [a, b] = await codec.encode([plain(), plain()]);
    assert.notDeepEqual(a?.data, b?.data);
  });

  it('rotation: a payload sealed with the old key opens when that key is second; new payloads use the first', async () => {
    const old = key('old');
    const fresh = key('new');
    const [sealedOld] = await createPayloadCodec(parsePayloadKeys(old)).encode([plain()]);
    assert.ok(sealedOld);
    const rotated = createPayloadCodec(parsePayloadKeys(`${fresh},${old}`));
    const [opened] = await rotated.decode([sealedOld]);
    assert.ok(opened);
    assert.deepEqual(defaultPayloadConverter.fromPayload(opened), PHONE);
    const [sealedNew] = await rotated.encode([plain()]);
    assert.equal(text(sealedNew?.metadata?.[KEY_ID_METADATA]), 'new');
  });

  it('a payload sealed with a key id not configured is a clear error naming it', async () => {
    const [sealed] = await createPayloadCodec(parsePayloadKeys(key('retired'))).encode([plain()]);
    assert.ok(sealed);
    const codec = createPayloadCodec(parsePayloadKeys(`${key('k2')},${key('k3')}`));
    await assert.rejects(codec.decode([sealed]), (err: Error) => {
      assert.ok(err instanceof PayloadCodecError);
      assert.match(err.message, /key retired, which is not among the configured keys \(k2, k3\)/);
      return true;
    });
  });

  it('tampered ciphertext, another key under the same id, or a truncated payload do not open', async () => {
    const codec = createPayloadCodec(parsePayloadKeys(key('k1')));
    const [sealed] = await codec.encode([plain()]);
    assert.ok(sealed?.data);
    const flipped = Buffer.from(sealed.data);
    flipped[flipped.length - 1] = (flipped.at(-1) ?? 0) ^ 1;
    await assert.rejects(codec.decode([{ ...sealed, data: flipped }]), /does not authenticate/);
    await assert.rejects(createPayloadCodec(parsePayloadKeys(key('k1'))).decode([sealed]), /does not authenticate/);
    await assert.rejects(codec.decode([{ ...sealed, data: Buffer.alloc(10) }]), /truncated/);
    // The key id is authenticated: relabelling a payload with another configured key id fails.
    const two = createPayloadCodec(parsePayloadKeys(`${key('a')},${key('b')}`));
    const [sealedA] = await two.encode([plain()]);
    assert.ok(sealedA);
    await assert.rejects(two.decode([{ ...sealedA, metadata: { ...sealedA.metadata, [KEY_ID_METADATA]: Buffer.from('b') } }]), /does not authenticate/);
  });

  it('payloads without the encryption encoding pass through decode unchanged (histories from before)', async () => {
    const codec = createPayloadCodec(parsePayloadKeys(key('k1')));
    const payload = plain();
    const [same] = await codec.decode([payload]);
    assert.equal(same, payload);
  });
});

describe('LINKFLOW_PAYLOAD_KEYS', () => {
  it('parses id:base64key pairs, the first first; standard and URL-safe base64', () => {
    const raw = randomBytes(32);
    const keys = parsePayloadKeys(`k2:${raw.toString('base64url')}, k1:${randomBytes(32).toString('base64')}`);
    assert.deepEqual(keys.map((k) => k.id), ['k2', 'k1']);
    assert.deepEqual(keys[0]?.key, raw);
    assert.equal(parsePayloadKeys(generatePayloadKeys('gen')).length, 1);
  });

  it('refuses what is not a 32-byte key list, naming the variable and never quoting a key', () => {
    const short = Buffer.alloc(16).toString('base64');
    for (const [value, message] of [
      [`k1:${short}`, /key k1 must be 32 bytes \(it has 16\)/],
      ['k1', /entry 1 must be id:base64key/],
      [`k1:${Buffer.alloc(32).toString('base64')},`, /no empty entry/],
      [`k1:${Buffer.alloc(32).toString('base64')},k1:${Buffer.alloc(32, 1).toString('base64')}`, /key id k1 appears twice/],
      ['k1:%%%%', /key k1 is not base64/],
      [`a b:${Buffer.alloc(32).toString('base64')}`, /the key id must be/],
    ] as const) {
      assert.throws(() => loadConfig({ LINKFLOW_PAYLOAD_KEYS: value }), (err: Error) => {
        assert.match(err.message, /LINKFLOW_PAYLOAD_KEYS/);
        assert.match(err.message, message);
        assert.ok(!err.message.includes(short), 'the key is not in the message');
        return true;
      });
    }
  });

  it('LINKFLOW_UI_ORIGIN is an origin, default the dev server UI', () => {
    assert.equal(loadConfig({}).LINKFLOW_UI_ORIGIN, 'http://localhost:8233');
    assert.equal(loadConfig({ LINKFLOW_UI_ORIGIN: 'https://temporal.example:8443/' }).LINKFLOW_UI_ORIGIN, 'https://temporal.example:8443');
    assert.throws(() => loadConfig({ LINKFLOW_UI_ORIGIN: 'https://temporal.example/ui' }), /LINKFLOW_UI_ORIGIN/);
  });
});
