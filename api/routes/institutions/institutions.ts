import Router from '@koa/router';
import type { Middleware } from 'koa';
import type { ProviderName } from '../../../contract/messages';
import type { InstitutionCatalogue } from '../../../providers/catalogue';
import { ApiError } from '../../errors';
import { respond } from '../../respond';
import { parseQuery } from '../../validate';
import { InstitutionListSchema, ListInstitutionsQuerySchema } from './schema';

export interface InstitutionRoutesDeps {
  catalogue: InstitutionCatalogue;
  /** The providers this deployment has settings for: another `provider` is a 422. */
  providers: readonly ProviderName[];
  /** Resolves the calling tenant (401 without a valid API key). */
  auth: Middleware;
}

/**
 * GET /v1/institutions: the configured providers' institutions in one list, filtered by `provider`
 * and `q`, sorted by name. A provider that cannot be listed right now is served from its last good
 * list, or left out (see InstitutionCatalogue): never a 5xx for the whole list.
 */
export function institutionRoutes({ catalogue, providers, auth }: InstitutionRoutesDeps): Router {
  const router = new Router({ prefix: '/v1/institutions', sensitive: true });
  router.use(auth);

  router.get('/', async (ctx) => {
    const query = parseQuery(ListInstitutionsQuerySchema, ctx.query);
    const provider = providers.find((name) => name === query.provider);
    if (query.provider !== undefined && provider === undefined) {
      throw new ApiError(422, 'provider_not_configured', `The provider is not one this Linkflow has configured (${providers.join(', ')}).`, { providers });
    }
    const institutions = await catalogue.list({ ...(provider ? { provider } : {}), ...(query.q ? { q: query.q } : {}) });
    ctx.body = respond(InstitutionListSchema, {
      data: institutions.map((i) => ({ provider: i.provider, institution_id: i.id, name: i.name, country: i.country, modes: i.modes })),
    });
  });

  return router;
}
