// For Linkflow's clients: encrypt an end user's credentials before they leave your backend (or
// the browser: openpgp runs there too). Usage:
//   const { public_key } = await (await fetch(`${linkflow}/v1/keys/credentials`)).json();
//   const body = { credentials: await encryptCredentials(public_key, { '300': login, '301': password }) };
//   await fetch(`${linkflow}/v1/connections/${id}/credentials`, { method: 'POST', body: JSON.stringify(body), … });
import { encryptForLinkflow } from '../../domain/credentials';

export async function encryptCredentials(publicKeyArmored: string, values: Record<string, string>): Promise<{ id: string; value: string }[]> {
  return Promise.all(Object.entries(values).map(async ([id, value]) => ({ id, value: await encryptForLinkflow(publicKeyArmored, value) })));
}
