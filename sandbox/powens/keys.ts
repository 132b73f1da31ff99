import * as openpgp from 'openpgp';

const MAX_PLAINTEXT_BYTES = 16 * 1024;

/**
 * The sandbox's OpenPGP key pair: clients encrypt every form field value with the public key
 * (GET /2.0/publickey) and only the sandbox can read them.
 */
export interface FieldKey {
  publicKeyArmored: string;
  fingerprint: string;
  /** The text of an armored PGP message encrypted for this key, or undefined if it is not one. */
  decrypt(armoredMessage: string): Promise<string | undefined>;
}

export async function generateFieldKey(): Promise<FieldKey> {
  // Dated by the real clock (a key dated by a sandbox clock set ahead would not yet be valid for
  // the client's openpgp.encrypt). openpgp 6 names ECC Curve25519 'curve25519Legacy'.
  const { privateKey: armored } = await openpgp.generateKey({
    type: 'ecc',
    curve: 'curve25519Legacy',
    userIDs: [{ name: 'Powens sandbox' }],
    format: 'armored',
  });
  const privateKey = await openpgp.readPrivateKey({ armoredKey: armored });
  return {
    publicKeyArmored: privateKey.toPublic().armor(),
    fingerprint: privateKey.getFingerprint(),
    async decrypt(armoredMessage) {
      try {
        const message = await openpgp.readMessage({ armoredMessage });
        const { data } = await openpgp.decrypt({
          message,
          decryptionKeys: privateKey,
          format: 'utf8',
          // A field value is short; this stops a compressed message from inflating without bound.
          config: { maxDecompressedMessageSize: MAX_PLAINTEXT_BYTES },
        });
        return typeof data === 'string' ? data : undefined;
      } catch {
        return undefined;
      }
    },
  };
}
