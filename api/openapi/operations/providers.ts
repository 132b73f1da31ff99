// What the providers send: one operation per provider, since each has its own query string,
// signature header and body (the route is one: /callbacks/{provider}, /webhooks/{provider}).
import { z } from 'zod';
import { RedirectQuerySchema as FlinksRedirectQuerySchema } from '../../../providers/flinks/schemas';
import {
  RedirectQuerySchema as LnkfiRedirectQuerySchema,
  WebhookHeadersSchema as LnkfiWebhookHeadersSchema,
} from '../../../providers/lnkfi/schemas';
import { RedirectQuerySchema as OxlinRedirectQuerySchema } from '../../../providers/oxlin/schemas';
import { RedirectQuerySchema as PowensRedirectQuerySchema } from '../../../providers/powens/schemas';
import { type ProviderName } from '../../../contract/messages';
import { FlinksWebhookSchema, LnkfiWebhookSchema, OxlinWebhookSchema, ProviderWebhookAckSchema, hmacHex } from '../../routes/provider-webhooks/schema';
import { CALLBACK_ERRORS, webhookErrors } from '../errors';
import { CONNECTION_ID, SIGNED_STATE } from '../examples';
import type { OperationDoc, RequestExample, ResponseDoc } from '../types';

/** GET /callbacks/{provider}, one per provider: each sends the browser back with its own query string. */
export function callbackOperations(): OperationDoc[] {
  const perProvider: { provider: ProviderName; name: string; query: z.ZodObject; examples: [RequestExample, ...RequestExample[]] }[] = [
    {
      provider: 'oxlin',
      name: 'Oxlin',
      query: OxlinRedirectQuerySchema,
      examples: [
        { name: 'code', summary: 'The bank approved; Linkflow creates the connection from the code', query: { state: SIGNED_STATE, code: 'Q2hhbmdlLW1lLXRvLWEtcmVhbC1jb2Rl' } },
        { name: 'success', summary: 'The bank approved a renewal (Oxlin names the connection held)', query: { state: SIGNED_STATE, status: 'SUCCESS', connection_id: '8812', queue_id: '5521' } },
        { name: 'denied', summary: 'The end user refused', query: { state: SIGNED_STATE, status: 'FAILED', error: 'access_denied' } },
      ],
    },
    {
      provider: 'flinks',
      name: 'Flinks',
      query: FlinksRedirectQuerySchema,
      examples: [
        { name: 'success', summary: 'Flinks Connect is done', query: { state: SIGNED_STATE, loginId: '5e7e5e8d-0a2c-4ae4-9d51-08d7c1f2a3b4', institution: 'FlinksCapital' } },
      ],
    },
    {
      provider: 'powens',
      name: 'Powens',
      query: PowensRedirectQuerySchema,
      examples: [
        { name: 'success', summary: 'The webview is done', query: { state: SIGNED_STATE, connection_id: '4213' } },
        { name: 'denied', summary: 'The end user refused', query: { state: SIGNED_STATE, error: 'access_denied', error_description: 'The user cancelled.' } },
      ],
    },
    {
      provider: 'lnkfi',
      name: 'LnkFi',
      query: LnkfiRedirectQuerySchema,
      examples: [{ name: 'success', summary: 'Authorized at the system', query: { state: SIGNED_STATE, result: 'success' } }],
    },
  ];
  return perProvider.map(({ provider, name, query, examples }) => ({
    operationId: `${provider}Callback`,
    method: 'get',
    path: `/callbacks/${provider}`,
    route: '/callbacks/{provider}',
    summary: `${name} redirect (browser)`,
    description:
      `Where ${name} sends the end user's browser back; not for API clients. The signed, single-use \`state\` names the ` +
      "connection; the browser then goes on to the connection's `redirect_url` with `connection_id` and `outcome` " +
      `(\`success\`, \`denied\` or \`failed\`) added. The query string is ${name}'s.`,
    tags: ['Callbacks'],
    security: 'none',
    query,
    responses: [
      {
        status: 303,
        description: "On to the connection's redirect URL.",
        headers: { Location: { schema: z.url(), description: '`redirect_url` with `connection_id` and `outcome` added.', required: true } },
      },
    ],
    errors: CALLBACK_ERRORS,
    requestExamples: examples,
    responseExamples: [
      {
        name: 'success',
        summary: 'On to the client',
        headers: { Location: `https://client.example/linked?session=abc&connection_id=${CONNECTION_ID}&outcome=success` },
      },
    ],
  }));
}

const webhookAck: [ResponseDoc] = [{ status: 200, description: 'Verified; what became of the event.', schema: ProviderWebhookAckSchema }];
const WEBHOOK_COMMON =
  "Events the provider pushes about its connections; not for API clients. The raw body is verified with the provider's own " +
  'signature before anything is read; a verified event is claimed by an id the signature covers and signalled to its connection ' +
  'once, however many deliveries arrive together. Exists only when the provider\'s webhook secret is configured (else 404).';

/** POST /webhooks/{provider}, one per provider with a webhook (Powens has none): each signs its own way. */
export function providerWebhookOperations(): OperationDoc[] {
  return [
    {
      operationId: 'oxlinWebhook',
      method: 'post',
      path: '/webhooks/oxlin',
      route: '/webhooks/{provider}',
      summary: 'Oxlin webhook (server to server)',
      description:
        `${WEBHOOK_COMMON} Oxlin signs with \`X-Oxlin-Signature: sha256=<hex HMAC-SHA256 of the raw body>\` keyed with ` +
        'OXLIN_WEBHOOK_SECRET; the event is claimed by its `id`. `SYNC_ALL_SUCCESS` means new data; a `…_FAILED` event with a failed channel, trouble; the rest is `ignored`.',
      tags: ['Callbacks'],
      security: 'none',
      headers: {
        'X-Oxlin-Signature': {
          schema: z.string().regex(/^sha256=[0-9a-f]{64}$/),
          description: '`sha256=` and the lowercase hex HMAC-SHA256 of the raw body, keyed with OXLIN_WEBHOOK_SECRET.',
          required: true,
        },
      },
      body: { schema: OxlinWebhookSchema },
      responses: webhookAck,
      errors: webhookErrors('X-Oxlin-Signature'),
      requestExamples: [
        {
          name: 'synced',
          summary: 'New data at the provider',
          headers: { 'X-Oxlin-Signature': 'sha256=3b1f0c6e2a9d48f7b5c4e3a2d1f0e9b8c7a6d5e4f3a2b1c0d9e8f7a6b5c4d3e2' },
          body: {
            id: '7731',
            event_type: 'SYNC_ALL_SUCCESS',
            resource_type: 'CONNECTION',
            channel_definition_id: '8701',
            creation_date: 1_741_079_832,
            resource: {
              id: '8812',
              provider_id: '87',
              status: 'SUCCESS',
              channels: [{ channel_definition_id: '8701', mode: 'REDIRECT', status: 'SUCCESS', expires: 1_748_855_760, account_types: ['CHECKINGS', 'CREDIT_CARD'] }],
            },
          },
        },
      ],
      responseExamples: [{ name: 'accepted', summary: 'Signalled to the connection', body: { status: 'accepted' } }],
    },
    {
      operationId: 'flinksWebhook',
      method: 'post',
      path: '/webhooks/flinks',
      route: '/webhooks/{provider}',
      summary: 'Flinks webhook (server to server)',
      description:
        `${WEBHOOK_COMMON} Flinks signs with \`flinks-authenticity-key: <base64 HMAC-SHA256>\` keyed with the ASCII bytes of ` +
        "FLINKS_WEBHOOK_SECRET over the ASCII bytes of the body (any other character counts as `?`, as .NET's Encoding.ASCII has it); " +
        'the event is claimed by its `RequestId`. The body is the GetAccountsDetail of a finished extraction (new data) or the error shape with its `Login` (a failed one).',
      tags: ['Callbacks'],
      security: 'none',
      headers: {
        'flinks-authenticity-key': {
          schema: z.string().regex(/^[A-Za-z0-9+/]{43}=$/),
          description: 'Base64 of the HMAC-SHA256 of the body, keyed with FLINKS_WEBHOOK_SECRET (both as ASCII bytes).',
          required: true,
        },
      },
      body: { schema: FlinksWebhookSchema },
      responses: webhookAck,
      errors: webhookErrors('flinks-authenticity-key'),
      requestExamples: [
        {
          name: 'extracted',
          summary: 'A finished extraction',
          headers: { 'flinks-authenticity-key': 'mZ4Y0c2W8x1Lq7Vt3Pb9Nk5Rj6Hf2Ds0Ga8Ue4Io1Ty=' },
          body: {
            HttpStatusCode: 200,
            RequestId: 'b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e',
            Login: { Id: '5e7e5e8d-0a2c-4ae4-9d51-08d7c1f2a3b4', Username: 'Greatday', IsScheduledRefresh: false, LastRefresh: '2025-03-04T09:17:11.2457187', Type: 'Personal' },
            Institution: 'FlinksCapital',
            Accounts: [
              {
                Id: '0a1b2c3d-4e5f-4a6b-9c7d-8e9f0a1b2c3d',
                Title: 'Chequing CAD',
                AccountNumber: '1111000',
                Category: 'Operations',
                Type: 'Chequing',
                Currency: 'CAD',
                Balance: { Available: 1520.35, Current: 1520.35, Limit: null },
                Transactions: [{ Id: '7d6c5b4a-3f2e-4d1c-8b0a-9f8e7d6c5b4a', Date: '2025/03/03', Code: null, Description: 'Interac e-Transfer', Debit: 42.5, Credit: null, Balance: 1520.35 }],
              },
            ],
          },
        },
      ],
      responseExamples: [{ name: 'accepted', summary: 'Signalled to the connection', body: { status: 'accepted' } }],
    },
    {
      operationId: 'lnkfiWebhook',
      method: 'post',
      path: '/webhooks/lnkfi',
      route: '/webhooks/{provider}',
      summary: 'LnkFi webhook (server to server)',
      description:
        `${WEBHOOK_COMMON} LnkFi signs with \`X-LnkFi-Webhook-Signature: <hex HMAC-SHA256 of the raw body>\` keyed with ` +
        'LNKFI_WEBHOOK_SECRET. `X-LnkFi-Webhook-Id` is not signed, so the event is claimed by the SHA-256 of the body instead; ' +
        '`X-LnkFi-Webhook-Vendor-Id` must name the `vendor_id` of the body. `connection_completed` hands over the connection\'s ' +
        'API key (sealed at once, never in the event); `connection_disconnected` asks for a reauthorization; other types are `ignored`.',
      tags: ['Callbacks'],
      security: 'none',
      headers: {
        'X-LnkFi-Webhook-Signature': { schema: hmacHex, description: 'Hex HMAC-SHA256 of the raw body, keyed with LNKFI_WEBHOOK_SECRET.', required: true },
        'X-LnkFi-Webhook-Id': { schema: LnkfiWebhookHeadersSchema.shape['x-lnkfi-webhook-id'], description: "LnkFi's delivery id (`owh_…`); not signed.", required: true },
        'X-LnkFi-Webhook-Vendor-Id': {
          schema: LnkfiWebhookHeadersSchema.shape['x-lnkfi-webhook-vendor-id'],
          description: 'The vendor the webhook is for: the same as the body\'s `vendor_id`.',
          required: true,
        },
      },
      body: { schema: LnkfiWebhookSchema },
      responses: webhookAck,
      errors: webhookErrors('X-LnkFi-Webhook-Signature'),
      requestExamples: [
        {
          name: 'completed',
          summary: 'A connection authorized at Xero',
          headers: {
            'X-LnkFi-Webhook-Signature': '9c4d1e7f2a5b8c0d3e6f9a2b5c8d1e4f7a0b3c6d9e2f5a8b1c4d7e0f3a6b9c2d',
            'X-LnkFi-Webhook-Id': 'owh_2b7f4c1e-9d3a-4e8b-a6c5-0f1e2d3c4b5a',
            'X-LnkFi-Webhook-Vendor-Id': 'vnd_00000000-0000-0000-0000-000000000001',
          },
          body: {
            type: 'connection_completed',
            system: 'xero',
            vendor_id: 'vnd_00000000-0000-0000-0000-000000000001',
            vendor_external_id: CONNECTION_ID,
            connection_id: 'con_6a0f3e2d-1c4b-4a59-8e7d-6f5a4b3c2d1e',
            api_key: 'lnk_live_Q2x8Vt4Pb9Nk5Rj6Hf2Ds0Ga8Ue4Io1T',
            instances: [{ id: '7d0f1a9e-3c2b-4d5e-8f6a-1b2c3d4e5f60', display: 'Demo Company (UK)' }],
          },
        },
      ],
      responseExamples: [{ name: 'accepted', summary: 'Signalled to the connection', body: { status: 'accepted' } }],
    },
  ];
}
