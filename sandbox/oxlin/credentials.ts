// EMBEDDED credentials as a provider checks them. Error messages name credential ids and
// never contain a value.
import type { ChannelDefinition, CredentialDefinition } from './data';
import type { KeyStore } from './keys';
import { ApiError } from './errors';

export interface CredentialInput {
  id: string;
  value: string;
}

export interface MaskedCredential {
  id: string;
  masked_value: string;
}

const SECRET_TYPES: ReadonlySet<string> = new Set(['PWD', 'NUMERIC_PWD']);

const invalid = (description: string): ApiError => new ApiError(400, 'invalid_request', description);

const idList = (ids: readonly string[]): string => ids.map((id) => `"${id}"`).join(', ');

function matches(definition: CredentialDefinition, value: string): boolean {
  // Compiled without the `u` flag, as the reference's patterns (e.g. `[\a-z]`) need.
  return new RegExp(definition.regexp).test(value);
}

/**
 * Checks credentials against a channel definition and returns their plain values by id.
 * `complete`: every credential of the definition must be given (creation, channel update);
 * otherwise only the given ones are checked (single-credential update).
 */
export async function checkCredentials(
  channelDefinition: ChannelDefinition,
  keyId: string | undefined,
  input: readonly CredentialInput[],
  keys: KeyStore,
  complete: boolean,
): Promise<Map<string, string>> {
  const seen = new Set<string>();
  for (const { id } of input) {
    if (seen.has(id)) throw invalid(`credentials: credential "${id}" is given more than once.`);
    seen.add(id);
  }
  const known = new Map(channelDefinition.credentials.map((definition) => [definition.id, definition]));
  const unknown = input.map((credential) => credential.id).filter((id) => !known.has(id));
  if (unknown.length > 0) {
    throw invalid(
      `credentials: channel definition "${channelDefinition.id}" has no credential ${idList(unknown)} (expected ${idList([...known.keys()])}).`,
    );
  }
  if (complete) {
    const missing = [...known.keys()].filter((id) => !seen.has(id));
    if (missing.length > 0) throw invalid(`credentials: missing credential ${idList(missing)}.`);
  }
  const encrypted = input.filter((credential) => known.get(credential.id)?.encrypt === true);
  if (keyId !== undefined && !keys.isUsable(keyId)) {
    throw invalid(keys.resource(keyId) ? `key_id: key "${keyId}" has expired.` : `key_id: no key "${keyId}".`);
  }
  if (encrypted.length > 0 && keyId === undefined) {
    throw invalid(`key_id: required to decrypt credential ${idList(encrypted.map((credential) => credential.id))}.`);
  }

  const values = new Map<string, string>();
  for (const credential of input) {
    const definition = known.get(credential.id);
    if (!definition) continue;
    let value = credential.value;
    if (definition.encrypt && keyId !== undefined) {
      const decrypted = await keys.decrypt(keyId, credential.value);
      if (decrypted === undefined) throw invalid(`credential ${definition.id} is not a PGP message encrypted with key ${keyId}.`);
      value = decrypted;
    }
    if (!matches(definition, value)) {
      throw invalid(`credential ${definition.id} (${definition.label}): the value does not match ${definition.regexp}.`);
    }
    values.set(definition.id, value);
  }
  return values;
}

/** What the connection resource shows of a channel's credentials: the non-secret ones, masked. */
export function maskCredentials(channelDefinition: ChannelDefinition, values: ReadonlyMap<string, string>): MaskedCredential[] {
  const shown: MaskedCredential[] = [];
  for (const definition of channelDefinition.credentials) {
    const value = values.get(definition.id);
    if (value === undefined || definition.encrypt || SECRET_TYPES.has(definition.type)) continue;
    // Short values would be given away by their last two characters.
    shown.push({ id: definition.id, masked_value: value.length >= 4 ? `**${value.slice(-2)}` : '**' });
  }
  return shown;
}
