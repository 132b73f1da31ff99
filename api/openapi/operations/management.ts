// The client's webhook endpoints, the credentials key, the operator's admin routes, and this reference.
import { z } from 'zod';
import { version } from '../../../package.json';
import { CreateTenantSchema, CreatedTenantSchema, IssuedKeySchema, TenantIdSchema } from '../../routes/admin/schema';
import { OpenApiDocumentSchema } from '../../routes/docs/schema';
import { CredentialsKeySchema } from '../../routes/keys/schema';
import {
  CreateWebhookEndpointSchema,
  CreatedWebhookEndpointSchema,
  WebhookEndpointIdSchema,
  WebhookEndpointListSchema,
} from '../../routes/webhooks/schema';
import { BODY, COMMON, E, TENANT } from '../errors';
import { TENANT_ID, WEBHOOK_ID } from '../examples';
import type { OperationDoc } from '../types';

/** /v1/webhook-endpoints, /v1/keys/credentials and /admin/tenants. */
export const managementOperations: OperationDoc[] = [
  {
    operationId: 'createWebhookEndpoint',
    method: 'post',
    path: '/v1/webhook-endpoints',
    summary: 'Add a webhook endpoint',
    description: 'Linkflow POSTs every event of every connection of the tenant to each endpoint, signed with its secret (shown once, here).',
    tags: ['Webhooks'],
    security: 'apiKey',
    body: { schema: CreateWebhookEndpointSchema },
    responses: [
      {
        status: 201,
        description: 'The endpoint, with its secret.',
        schema: CreatedWebhookEndpointSchema,
        headers: { 'Cache-Control': { schema: z.literal('no-store'), description: 'The secret is in this body only.', required: true } },
      },
    ],
    errors: [
      ...TENANT,
      ...BODY,
      { status: 409, code: 'limit_reached', when: 'The tenant has 10 endpoints already.', message: 'A tenant may have at most 10 webhook endpoints; delete one first.' },
      {
        status: 422,
        code: 'webhook_url_forbidden',
        when: 'The host is, or resolves to, a loopback, private, CGNAT, link-local, metadata or other special-purpose address (in any spelling). Private ones are allowed when the operator sets LINKFLOW_WEBHOOK_ALLOW_PRIVATE=true; every delivery checks again.',
        message:
          'The host hooks.client.example resolves to a private (RFC 1918) address. Webhooks are not allowed to loopback, private, link-local, metadata or other special-purpose addresses (the operator can allow private ones with LINKFLOW_WEBHOOK_ALLOW_PRIVATE=true).',
      },
      { status: 422, code: 'webhook_url_unresolvable', when: "The host name does not resolve (Linkflow's resolver).", message: 'The host hooks.client.example could not be resolved (ENOTFOUND).' },
    ],
    requestExamples: [{ name: 'endpoint', summary: 'An endpoint', body: { url: 'https://client.example/hooks/linkflow' } }],
    responseExamples: [
      {
        name: 'created',
        summary: 'Created: keep the secret',
        body: {
          id: WEBHOOK_ID,
          url: 'https://client.example/hooks/linkflow',
          secret: 'whsec_J8t2xQ5vN1mR7kP3wL9yB4cF6hD0sA2e',
          created_at: '2025-03-04T09:00:00.000Z',
        },
        headers: { 'Cache-Control': 'no-store' },
      },
    ],
  },
  {
    operationId: 'listWebhookEndpoints',
    method: 'get',
    path: '/v1/webhook-endpoints',
    summary: 'List webhook endpoints',
    description: "The tenant's endpoints (never their secrets).",
    tags: ['Webhooks'],
    security: 'apiKey',
    responses: [{ status: 200, description: 'The endpoints.', schema: WebhookEndpointListSchema }],
    errors: [...TENANT],
    requestExamples: [{ name: 'list', summary: 'All endpoints' }],
    responseExamples: [
      { name: 'one', summary: 'One endpoint', body: { data: [{ id: WEBHOOK_ID, url: 'https://client.example/hooks/linkflow', created_at: '2025-03-04T09:00:00.000Z' }] } },
    ],
  },
  {
    operationId: 'deleteWebhookEndpoint',
    method: 'delete',
    path: '/v1/webhook-endpoints/{id}',
    summary: 'Delete a webhook endpoint',
    description: 'No more deliveries to it.',
    tags: ['Webhooks'],
    security: 'apiKey',
    pathParams: { id: { schema: WebhookEndpointIdSchema, description: 'The endpoint id (`whe_…`).' } },
    responses: [{ status: 204, description: 'Deleted.' }],
    errors: [...TENANT, { status: 404, code: 'not_found', when: 'No such endpoint for this tenant.', message: 'webhook endpoint not found' }],
    requestExamples: [{ name: 'delete', summary: 'Delete', params: { id: WEBHOOK_ID } }],
    responseExamples: [{ name: 'deleted', summary: 'Deleted (no body)' }],
  },
  {
    operationId: 'getCredentialsKey',
    method: 'get',
    path: '/v1/keys/credentials',
    summary: 'Credentials public key',
    description: "Linkflow's OpenPGP public key: encrypt each credential value with it before POST …/credentials. Public (browsers fetch it).",
    tags: ['Keys'],
    security: 'none',
    responses: [{ status: 200, description: 'The key.', schema: CredentialsKeySchema }],
    errors: [...COMMON],
    requestExamples: [{ name: 'key', summary: 'The key' }],
    responseExamples: [
      {
        name: 'key',
        summary: 'The key',
        body: {
          key_id: '9f2e6c1ab84d3e07c5d1f0a2b3c4d5e6f7a8b9c0',
          type: 'PGP',
          public_key: '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nxjMEZ3x1bhYJKwYBBAHaRw8BAQdA...\n-----END PGP PUBLIC KEY BLOCK-----\n',
        },
      },
    ],
  },
  {
    operationId: 'createTenant',
    method: 'post',
    path: '/v1/admin/tenants',
    summary: 'Create a tenant',
    description: 'Creates a tenant and its first API key (shown once). Also: `npm run tenant:create -- <name>`.',
    tags: ['Admin'],
    security: 'admin',
    body: { schema: CreateTenantSchema },
    responses: [{ status: 201, description: 'The tenant and its API key.', schema: CreatedTenantSchema }],
    errors: [E.adminUnauthorized, E.adminOff, ...BODY],
    requestExamples: [{ name: 'acme', summary: 'Acme', body: { name: 'Acme' } }],
    responseExamples: [
      {
        name: 'acme',
        summary: 'Acme and its key',
        body: {
          tenant: { id: TENANT_ID, name: 'Acme' },
          api_key: { id: 'key_0e7d5b3c1a9f4e2d8c6b4a2f0e1d3c5b', key: 'lf_q3Zt8W1vR6yN0pL4mK7hJ2gF5dS9aX3cV8bN1mQ4wE', prefix: 'lf_q3Zt8W1' },
        },
      },
    ],
  },
  {
    operationId: 'issueApiKey',
    method: 'post',
    path: '/v1/admin/tenants/{id}/api-keys',
    summary: 'Issue an API key',
    description: 'Another API key for the tenant (shown once), e.g. to rotate keys.',
    tags: ['Admin'],
    security: 'admin',
    pathParams: { id: { schema: TenantIdSchema, description: 'The tenant id (`ten_…`).' } },
    responses: [{ status: 201, description: 'The new key.', schema: IssuedKeySchema }],
    errors: [E.adminUnauthorized, E.tenantNotFound],
    requestExamples: [{ name: 'issue', summary: 'A new key', params: { id: TENANT_ID } }],
    responseExamples: [
      { name: 'key', summary: 'The key', body: { id: 'key_7c5a3e1f9d2b4c6a8e0f1d3b5a7c9e2f', key: 'lf_Zk2pW9xR4tY7uI0oP3aS6dF8gH1jK5lC2vB4nM7qE', prefix: 'lf_Zk2pW9x' } },
    ],
  },
];

/** GET /openapi.json, GET /docs and the renderer /docs loads. */
export const referenceOperations: OperationDoc[] = [
  {
    operationId: 'getOpenApiDocument',
    method: 'get',
    path: '/openapi.json',
    summary: 'This document',
    description: 'The OpenAPI 3.1 document, generated from the zod schemas the API validates requests with.',
    tags: ['Reference'],
    security: 'none',
    responses: [{ status: 200, description: 'The OpenAPI document.', schema: OpenApiDocumentSchema }],
    errors: [...COMMON],
    requestExamples: [{ name: 'get', summary: 'The document' }],
    responseExamples: [{ name: 'document', summary: 'Abridged', body: { openapi: '3.1.0', info: { title: 'Linkflow API', version }, paths: { '/v1/connections': {} } } }],
  },
  {
    operationId: 'getDocs',
    method: 'get',
    path: '/docs',
    summary: 'API reference (HTML)',
    description: 'This document as an interactive HTML reference (rendered in the browser by Scalar from GET /openapi.json).',
    tags: ['Reference'],
    security: 'none',
    responses: [{ status: 200, description: 'The page.', contentType: 'text/html', schema: z.string() }],
    errors: [...COMMON],
    requestExamples: [{ name: 'get', summary: 'The page' }],
    responseExamples: [{ name: 'page', summary: 'Abridged', body: '<!doctype html><html lang="en"><head><title>Linkflow API</title></head>…</html>' }],
  },
  {
    operationId: 'getDocsRenderer',
    method: 'get',
    path: '/docs/scalar.js',
    summary: 'API reference renderer (JavaScript)',
    description: "The script GET /docs runs: @scalar/api-reference's standalone bundle, served from this server.",
    tags: ['Reference'],
    security: 'none',
    responses: [{ status: 200, description: 'The script.', contentType: 'text/javascript', schema: z.string() }],
    errors: [...COMMON],
    requestExamples: [{ name: 'get', summary: 'The script' }],
    responseExamples: [{ name: 'script', summary: 'Abridged', body: '/*! @scalar/api-reference */ …' }],
  },
];
