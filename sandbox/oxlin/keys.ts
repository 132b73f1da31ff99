import { randomInt } from 'node:crypto';
import * as openpgp from 'openpgp';
import { DAY_SECONDS } from './data';

const KEY_LIFETIME_SECONDS = 365 * DAY_SECONDS;
const MAX_PLAINTEXT_BYTES = 16 * 1024;

export interface KeyResource {
  id: string;
  public_key: string;
  type: 'PGP';
  expiration_date: number;
}

interface StoredKey {
  resource: KeyResource;
  privateKey: openpgp.PrivateKey;
}

/** The PGP keys clients encrypt `encrypt: true` credentials with (`/keys`). */
export class KeyStore {
  private readonly keys = new Map<string, StoredKey>();

  constructor(private readonly now: () => number) {}

  async create(): Promise<KeyResource> {
    // The OpenPGP key itself is dated by the real clock: a key dated by a sandbox clock set
    // ahead of it would not yet be valid for the client's openpgp.encrypt. openpgp 6 names
    // ECC Curve25519 (Ed25519 signing, X25519 encryption subkey) 'curve25519Legacy'.
    const { privateKey, publicKey } = await openpgp.generateKey({
      type: 'ecc',
      curve: 'curve25519Legacy',
      userIDs: [{ name: 'Oxlin sandbox' }],
      format: 'armored',
    });
    let id: string;
    do id = String(randomInt(100_000_000, 1_000_000_000));
    while (this.keys.has(id));
    const resource: KeyResource = {
      id,
      public_key: publicKey,
      type: 'PGP',
      expiration_date: Math.floor(this.now() / 1000) + KEY_LIFETIME_SECONDS,
    };
    this.keys.set(id, { resource, privateKey: await openpgp.readPrivateKey({ armoredKey: privateKey }) });
    return resource;
  }

  resource(keyId: string): KeyResource | undefined {
    return this.keys.get(keyId)?.resource;
  }

  /** Whether the key exists and has not expired by the sandbox clock. */
  isUsable(keyId: string): boolean {
    const key = this.keys.get(keyId);
    return key !== undefined && key.resource.expiration_date > Math.floor(this.now() / 1000);
  }

  /** The text of an armored PGP message encrypted for the key, or undefined if it is not one. */
  async decrypt(keyId: string, armoredMessage: string): Promise<string | undefined> {
    const key = this.keys.get(keyId);
    if (!key) return undefined;
    try {
      const message = await openpgp.readMessage({ armoredMessage });
      const { data } = await openpgp.decrypt({
        message,
        decryptionKeys: key.privateKey,
        format: 'utf8',
        // A credential is short; this stops a compressed message from inflating without bound.
        config: { maxDecompressedMessageSize: MAX_PLAINTEXT_BYTES },
      });
      return typeof data === 'string' ? data : undefined;
    } catch {
      return undefined;
    }
  }
}
