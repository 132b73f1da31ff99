// Payload encryption: every payload Linkflow's client and worker hand to Temporal (workflow inputs,
// signals, updates, activity results, memos, queries) is sealed with AES-256-GCM before it leaves
// the process, so Temporal's history holds ciphertext only. The Web UI and the CLI read it through
// the API's codec endpoint (POST /codec/decode), for the operator.
//
// A sealed payload: metadata { encoding: "binary/encrypted", "encryption-key-id": <key id> } and
// data = nonce (12 bytes) ‖ GCM tag (16 bytes) ‖ ciphertext of the whole original Payload message
// (protobuf: its metadata and data), with the key id as additional authenticated data. Several keys
// are accepted for decryption (rotation); the first one encrypts. A payload without that encoding
// (history written before encryption, or by another client) passes through decode unchanged.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { METADATA_ENCODING_KEY, type Payload, type PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

/** The `encoding` metadata of a sealed payload. */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
/** The metadata key naming the key a payload was sealed with. */
export const KEY_ID_METADATA = 'encryption-key-id';

const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;
const BASE64 = /^(?:[A-Za-z0-9+/_-]{4})*(?:[A-Za-z0-9+/_-]{2}(?:==)?|[A-Za-z0-9+/_-]{3}=?)?$/;

/** One AES-256 key and the id payloads sealed with it carry. */
export interface PayloadKey {
  /** 1-64 characters of A-Z a-z 0-9 . _ - */
  id: string;
  /** 32 bytes. */
  key: Buffer;
}

/** A payload could not be sealed or opened: unknown key id, tampered or truncated ciphertext. */
export class PayloadCodecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PayloadCodecError';
  }
}

/**
 * Parses a key list as LINKFLOW_PAYLOAD_KEYS spells it: `id1:base64key,id2:base64key`, each key 32
 * bytes in base64 (standard or URL-safe alphabet), ids unique; the first encrypts. Throws an Error
 * saying what is wrong (never quoting a key).
 */
export function parsePayloadKeys(text: string): PayloadKey[] {
  const entries = text.split(',').map((entry) => entry.trim());
  if (entries.some((entry) => entry === '')) throw new Error('must be id:base64key pairs separated by commas (no empty entry)');
  const keys = entries.map((entry, index) => {
    const colon = entry.indexOf(':');
    if (colon < 0) throw new Error(`entry ${index + 1} must be id:base64key`);
    const id = entry.slice(0, colon);
    const encoded = entry.slice(colon + 1);
    if (!KEY_ID.test(id)) throw new Error(`entry ${index + 1}: the key id must be 1-64 characters of A-Z a-z 0-9 . _ -`);
    if (!BASE64.test(encoded)) throw new Error(`key ${id} is not base64`);
    const key = Buffer.from(encoded, 'base64');
    if (key.length !== KEY_BYTES) throw new Error(`key ${id} must be ${KEY_BYTES} bytes (it has ${key.length}), e.g. openssl rand -base64 32`);
    return { id, key };
  });
  const ids = keys.map((k) => k.id);
  const repeated = ids.find((id, i) => ids.indexOf(id) !== i);
  if (repeated) throw new Error(`key id ${repeated} appears twice`);
  return keys;
}

/** A new key list (`<id>:<base64 of 32 random bytes>`) as LINKFLOW_PAYLOAD_KEYS takes it; the embedded mode keeps one in its data dir. */
export const generatePayloadKeys = (id = `k${new Date().toISOString().slice(0, 10).replaceAll('-', '')}`): string =>
  `${id}:${randomBytes(KEY_BYTES).toString('base64')}`;

const utf8 = (value: string): Uint8Array => Buffer.from(value, 'utf8');
const text = (bytes: Uint8Array | null | undefined): string | undefined => (bytes ? Buffer.from(bytes).toString('utf8') : undefined);

/**
 * The codec for a client's and a worker's `dataConverter.payloadCodecs`. `keys`: at least one; the
 * first seals every payload, each opens those carrying its id. Decode throws PayloadCodecError for a
 * sealed payload whose key id is not in `keys`, or whose ciphertext does not authenticate.
 */
export function createPayloadCodec(keys: readonly PayloadKey[]): PayloadCodec {
  const [current] = keys;
  if (!current) throw new Error('a payload codec needs at least one key');
  const byId = new Map(keys.map((k) => [k.id, k.key]));

  const seal = (payload: Payload): Payload => {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', current.key, nonce);
    cipher.setAAD(utf8(current.id));
    const plaintext = temporal.api.common.v1.Payload.encode(payload).finish();
    const sealed = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return {
      metadata: { [METADATA_ENCODING_KEY]: utf8(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: utf8(current.id) },
      data: Buffer.concat([nonce, cipher.getAuthTag(), sealed]),
    };
  };

  const open = (payload: Payload): Payload => {
    if (text(payload.metadata?.[METADATA_ENCODING_KEY]) !== ENCRYPTED_ENCODING) return payload;
    const keyId = text(payload.metadata?.[KEY_ID_METADATA]);
    if (!keyId) throw new PayloadCodecError(`an encrypted payload has no ${KEY_ID_METADATA}`);
    const key = byId.get(keyId);
    if (!key) throw new PayloadCodecError(`an encrypted payload names key ${keyId}, which is not among the configured keys (${[...byId.keys()].join(', ')})`);
    const data = Buffer.from(payload.data ?? new Uint8Array());
    if (data.length < NONCE_BYTES + TAG_BYTES) throw new PayloadCodecError(`an encrypted payload (key ${keyId}) is truncated`);
    const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, NONCE_BYTES));
    decipher.setAAD(utf8(keyId));
    decipher.setAuthTag(data.subarray(NONCE_BYTES, NONCE_BYTES + TAG_BYTES));
    let plaintext: Buffer;
    try {
      plaintext = Buffer.concat([decipher.update(data.subarray(NONCE_BYTES + TAG_BYTES)), decipher.final()]);
    } catch {
      throw new PayloadCodecError(`an encrypted payload (key ${keyId}) does not authenticate: tampered, or sealed with another key of that id`);
    }
    const decoded = temporal.api.common.v1.Payload.decode(plaintext);
    return { metadata: decoded.metadata ?? {}, data: decoded.data ?? new Uint8Array() };
  };

  return {
    encode: async (payloads) => payloads.map(seal),
    decode: async (payloads) => payloads.map(open),
  };
}
