import * as openpgp from 'openpgp';
import type { InputField } from '../contract/messages';

/**
 * Linkflow's OpenPGP key for credentials. Clients encrypt every credential value with its
 * public key (served at GET /v1/keys/credentials); only activities that call a provider
 * decrypt, in memory, right before the call.
 */
export interface CredentialsKey {
  publicKeyArmored: string;
  fingerprint: string;
  /** The plaintext of a message encrypted to this key, or null when it is not one. */
  decrypt(armoredMessage: string): Promise<string | null>;
}

export async function generateCredentialsKey(): Promise<string> {
  const { privateKey } = await openpgp.generateKey({
    type: 'ecc',
    curve: 'curve25519Legacy',
    userIDs: [{ name: 'Linkflow credentials' }],
    format: 'armored',
  });
  return privateKey;
}

export async function loadCredentialsKey(armoredPrivateKey: string): Promise<CredentialsKey> {
  const privateKey = await openpgp.readPrivateKey({ armoredKey: armoredPrivateKey });
  return {
    publicKeyArmored: privateKey.toPublic().armor(),
    fingerprint: privateKey.getFingerprint(),
    async decrypt(armoredMessage) {
      try {
        const message = await openpgp.readMessage({ armoredMessage });
        const { data } = await openpgp.decrypt({ message, decryptionKeys: privateKey, format: 'utf8' });
        return data;
      } catch {
        return null;
      }
    },
  };
}

/** Encrypts values for Linkflow with its public key: what a client (or the API) sends. */
export async function encryptForLinkflow(publicKeyArmored: string, value: string): Promise<string> {
  const encryptionKeys = await openpgp.readKey({ armoredKey: publicKeyArmored });
  return openpgp.encrypt({ message: await openpgp.createMessage({ text: value }), encryptionKeys, format: 'armored' });
}

export interface FieldError {
  id: string;
  message: string;
}

/**
 * Checks values against a provider's field definitions: every required field present (when `requireAll`),
 * no unknown field, each value matching the field's regexp. Messages never include values.
 */
export function checkFields(fields: InputField[], values: { id: string; value: string }[], requireAll: boolean): FieldError[] {
  const errors: FieldError[] = [];
  const byId = new Map(fields.map((f) => [f.id, f]));
  const given = new Set(values.map((v) => v.id));
  for (const { id, value } of values) {
    const field = byId.get(id);
    if (!field) {
      errors.push({ id, message: 'is not a field of this form' });
      continue;
    }
    const pattern = compile(field.regexp);
    if (pattern && !pattern.test(value)) errors.push({ id, message: `${field.label} does not have the expected format` });
    if (field.type === 'OK_CANCEL' && value !== 'true' && value !== 'false') errors.push({ id, message: 'must be "true" or "false"' });
    if ((field.type === 'NUMERIC' || field.type === 'NUMERIC_PWD') && !/^[0-9]+$/.test(value)) {
      errors.push({ id, message: `${field.label} must be digits` });
    }
    if (field.type === 'DATE' && Number.isNaN(Date.parse(value))) errors.push({ id, message: `${field.label} must be a date` });
  }
  if (requireAll) {
    for (const field of fields) if (field.required !== false && !given.has(field.id)) errors.push({ id: field.id, message: `${field.label} is required` });
  }
  return errors;
}

/** Providers write regexps for Java/PCRE; one JavaScript cannot compile is not enforced here (the provider still checks). */
function compile(regexp: string | null): RegExp | null {
  if (!regexp) return null;
  try {
    return new RegExp(regexp);
  } catch {
    return null;
  }
}
