import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

const SEALED_VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface Sealer {
  /** AES-256-GCM with a fresh IV; `aad` binds the sealed value to its row (copied elsewhere, it does not open). */
  seal(plaintext: string, aad: string): string;
  /** The plaintext, or a thrown error naming `what` (never a wrong value: a bad tag fails). */
  open(sealed: string, aad: string, what: string): string;
}

/**
 * Seals secrets kept in the store under a key derived (HKDF-SHA256) from a server secret, with
 * HKDF labels of their own per use, so one kind of sealed value never opens as another.
 */
export function createSealer(serverSecret: string, hkdf: { salt: string; info: string }): Sealer {
  if (serverSecret.length < 32) throw new Error('the sealing secret must be at least 32 characters');
  const key = Buffer.from(hkdfSync('sha256', serverSecret, hkdf.salt, hkdf.info, 32));
  // Names the key a value was sealed with, so a rotated server secret fails with a clear message.
  const keyId = createHash('sha256').update(key).digest('base64url').slice(0, 8);

  return {
    seal(plaintext, aad) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES }).setAAD(Buffer.from(aad));
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return [SEALED_VERSION, keyId, iv, ciphertext, cipher.getAuthTag()].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
    },
    open(sealed, aad, what) {
      const [version, sealedKeyId, iv, ciphertext, tag, ...rest] = sealed.split('.');
      if (version !== SEALED_VERSION || !iv || !ciphertext || !tag || rest.length > 0) throw new Error(`${what}: sealed value has an unknown format`);
      if (sealedKeyId !== keyId) throw new Error(`${what}: sealed under key ${sealedKeyId}, not the current ${keyId}`);
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'), { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(aad)).setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
    },
  };
}
