import Router from '@koa/router';

/** GET /v1/keys/credentials: the OpenPGP public key clients encrypt credential values with. */
export function keyRoutes(key: { publicKeyArmored: string; fingerprint: string }): Router {
  const router = new Router({ prefix: '/v1/keys' });
  router.get('/credentials', (ctx) => {
    ctx.body = { key_id: key.fingerprint, type: 'PGP', public_key: key.publicKeyArmored };
  });
  return router;
}
