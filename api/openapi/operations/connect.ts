// Linkflow Connect, the tenant's side: Connect sessions for the hosted page and its settings. The
// page itself (/connect/…) is HTML for the end user's browser, not part of this API.
import { ConnectSessionSchema, ConnectSettingsSchema, ConnectSettingsViewSchema, CreateConnectSessionSchema } from '../../routes/connect/schema';
import { BODY, E, TENANT, wrongState } from '../errors';
import { CONNECTION_ID } from '../examples';
import type { OperationDoc } from '../types';

/** POST /v1/connect-sessions, GET and PUT /v1/connect/settings. */
export const connectOperations: OperationDoc[] = [
  {
    operationId: 'createConnectSession',
    method: 'post',
    path: '/v1/connect-sessions',
    summary: 'Create a Connect session',
    description:
      "A `connect_url` for the end user's browser: Linkflow's hosted page takes the end user through whatever the connection " +
      'needs (choosing an institution, terms, the bank, credentials, challenges, consent) and sends the browser back to ' +
      '`redirect_url` with `connection_id` and `outcome`. The URL holds a single-use token (LINKFLOW_CONNECT_TOKEN_SECONDS, 30 min ' +
      'by default); no API key reaches the browser. Give `provider` and `institution_id` to start the connection now (answered ' +
      'in `connection_id`), leave them out to let the end user choose, or give `connection_id` to repair, renew (`action: renew`) or ' +
      'extend (`action: add_channel`) an existing one.',
    tags: ['Connect'],
    security: 'apiKey',
    body: { schema: CreateConnectSessionSchema },
    responses: [{ status: 201, description: 'The session: send the end user to `connect_url`.', schema: ConnectSessionSchema }],
    errors: [
      ...TENANT,
      ...BODY,
      { ...E.connectionNotFound, when: "`connection_id` is not a connection of this tenant (another tenant's is a 404 too)." },
      wrongState('renewal: active, renewal_required; add_channel: active', 'disconnected'),
      {
        status: 422,
        code: 'unsupported_mode',
        when: 'The provider has no channel of `mode`, or the institution starts with the other one; `details.supported_modes` says which.',
        message: 'flinks connections support mode redirect, not embedded.',
        details: { supported_modes: ['redirect'] },
      },
      { status: 422, code: 'provider_not_configured', when: 'This deployment has no settings for the provider.', message: 'powens is not configured on this Linkflow.' },
      {
        status: 422,
        code: 'validation_failed',
        when: '`action: renew` on a connection without a redirect channel (credentials channels do not expire).',
        message: 'the connection has no redirect channel to renew',
      },
    ],
    requestExamples: [
      { name: 'choose', summary: 'The end user chooses the bank', body: { redirect_url: 'https://client.example/linked', user_ref: 'user-42' } },
      { name: 'oneBank', summary: 'A given bank, in French', body: { provider: 'oxlin', institution_id: '87', redirect_url: 'https://client.example/linked', locale: 'fr' } },
      { name: 'renew', summary: 'Renew an existing connection', body: { connection_id: CONNECTION_ID, action: 'renew', redirect_url: 'https://client.example/renewed' } },
    ],
    responseExamples: [
      {
        name: 'created',
        summary: 'A session for a given bank',
        body: {
          id: 'cs_9c1f0e2d3b4a59687766554433221100',
          connect_url: 'https://linkflow.example/connect/t/q3JrX1m0c2Vzc2lvbi10b2tlbi1leGFtcGxlLXh5ejEyMw',
          expires_at: '2025-03-04T09:30:00.000Z',
          connection_id: CONNECTION_ID,
        },
      },
    ],
  },
  {
    operationId: 'getConnectSettings',
    method: 'get',
    path: '/v1/connect/settings',
    summary: 'Read the Connect settings',
    description: 'The origins that may frame the Connect page, and your own terms shown before anything else.',
    tags: ['Connect'],
    security: 'apiKey',
    responses: [{ status: 200, description: 'The settings (defaults: nobody may frame the page, no terms).', schema: ConnectSettingsViewSchema }],
    errors: [...TENANT],
    requestExamples: [{ name: 'read', summary: 'Read them' }],
    responseExamples: [{ name: 'defaults', summary: 'Never set', body: { frame_ancestors: [], terms: null } }],
  },
  {
    operationId: 'putConnectSettings',
    method: 'put',
    path: '/v1/connect/settings',
    summary: 'Replace the Connect settings',
    description:
      "`frame_ancestors`: origins allowed to embed the page in a frame (the page's Content-Security-Policy `frame-ancestors`); " +
      "`terms`: your own text, which the end user must accept before choosing or signing in.",
    tags: ['Connect'],
    security: 'apiKey',
    body: { schema: ConnectSettingsSchema },
    responses: [{ status: 200, description: 'The settings as saved.', schema: ConnectSettingsViewSchema }],
    errors: [...TENANT, ...BODY],
    requestExamples: [
      { name: 'embed', summary: 'Embedded in your app, with terms', body: { frame_ancestors: ['https://app.client.example'], terms: 'By continuing you agree to share your account data with Client Ltd.' } },
    ],
    responseExamples: [
      { name: 'saved', summary: 'Saved', body: { frame_ancestors: ['https://app.client.example'], terms: 'By continuing you agree to share your account data with Client Ltd.' } },
    ],
  },
];
