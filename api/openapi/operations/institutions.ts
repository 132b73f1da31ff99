// GET /v1/institutions: the configured providers' institutions in one list.
import { InstitutionListSchema, ListInstitutionsQuerySchema } from '../../routes/institutions/schema';
import { E, TENANT } from '../errors';
import type { OperationDoc } from '../types';

/** /v1/institutions. */
export const institutionOperations: OperationDoc[] = [
  {
    operationId: 'listInstitutions',
    method: 'get',
    path: '/v1/institutions',
    summary: 'List institutions',
    description:
      'The institutions a connection can be started with, across the providers this deployment has configured (Oxlin providers, ' +
      'Flinks institutions, Powens connectors, LnkFi systems), sorted by name: pass `provider`, `institution_id` and one of ' +
      '`modes` to POST /v1/connections. Each provider’s list is cached (LINKFLOW_INSTITUTIONS_CACHE_SECONDS, 10 min by ' +
      'default); a provider that cannot be listed is served from its last good list, or left out until it answers (logged), ' +
      'never failing the whole list. Flinks and LnkFi document no listing: theirs are the institutions their references name.',
    tags: ['Institutions'],
    security: 'apiKey',
    query: ListInstitutionsQuerySchema,
    responses: [{ status: 200, description: 'The institutions, sorted by name.', schema: InstitutionListSchema }],
    errors: [
      ...TENANT,
      { ...E.invalidQuery, details: [{ path: 'q', message: 'Too big: expected string to have <=100 characters' }] },
      {
        status: 422,
        code: 'provider_not_configured',
        when: '`provider` is not one this deployment has configured (an unknown name included); `details.providers` lists those it has.',
        message: 'The provider is not one this Linkflow has configured (oxlin, flinks, powens, lnkfi).',
        details: { providers: ['oxlin', 'flinks', 'powens', 'lnkfi'] },
      },
    ],
    requestExamples: [
      { name: 'all', summary: 'Every institution' },
      { name: 'search', summary: 'Search by name or id', query: { q: 'hsbc' } },
      { name: 'oneProvider', summary: "One provider's", query: { provider: 'powens' } },
    ],
    responseExamples: [
      {
        name: 'some',
        summary: 'Institutions of several providers',
        body: {
          data: [
            { provider: 'powens', institution_id: '61', name: 'Banque Multi-Sources', country: null, modes: ['redirect'] },
            { provider: 'flinks', institution_id: 'FlinksCapital', name: 'Flinks Capital', country: null, modes: ['redirect'] },
            { provider: 'oxlin', institution_id: '119', name: 'HSBC', country: 'FRA', modes: ['redirect', 'embedded'] },
            { provider: 'powens', institution_id: '59', name: 'Powens Test Bank', country: null, modes: ['embedded'] },
            { provider: 'lnkfi', institution_id: 'xero', name: 'Xero', country: null, modes: ['redirect'] },
          ],
        },
      },
    ],
  },
];
