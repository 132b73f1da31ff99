import { z } from 'zod';
import { doc } from '../../openapi/describe';

/** GET /v1/keys/credentials: the key clients encrypt credential values with. */
export const CredentialsKeySchema = z.object({
  key_id: doc(z.string(), "The key's OpenPGP fingerprint."),
  type: z.literal('PGP'),
  public_key: doc(z.string(), 'ASCII-armored OpenPGP public key: encrypt each credential value with it.'),
});
