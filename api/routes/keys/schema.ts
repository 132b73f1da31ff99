import { z } from 'zod';

/** GET /v1/keys/credentials: the key clients encrypt credential values with. */
export const CredentialsKeySchema = z.object({
  key_id: z.string().meta({ description: "The key's OpenPGP fingerprint." }),
  type: z.literal('PGP'),
  public_key: z.string().meta({ description: 'ASCII-armored OpenPGP public key: encrypt each credential value with it.' }),
}).meta({ id: 'CredentialsKey' });
