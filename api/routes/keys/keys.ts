import Router from '@koa/router';
import { respond } from '../../respond';
import { CredentialsKeySchema } from './schema';

/** GET /v1/keys/credentials: the OpenPGP public key clients encrypt credential values with. */
export function keyRoutes(key: { publicKeyArmored: string; fingerprint: string }): Router {
  const router = new Router({ prefix: '/v1/keys', sensitive: true });
  router.get('/credentials', (ctx) => {
    ctx.body = respond(CredentialsKeySchema, { key_id: key.fingerprint, type: 'PGP', public_key: key.publicKeyArmored });
  });
  return router;
}
