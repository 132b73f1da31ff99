// The operations on connections: start one, take it through authorization and consent, manage it.
import { z } from 'zod';
import {
  ChallengeAnswersSchema,
  ChannelSchema,
  ConnectionListSchema,
  ConsentSchema,
  CreateConnectionSchema,
  CredentialsSchema,
  IdempotencyKeySchema,
  ListConnectionsQuerySchema,
  SyncBodySchema,
} from '../../routes/connections/schema';
import { BODY, BY_ID, E, TENANT, wrongState } from '../errors';
import {
  ARMORED,
  CONNECTION_ID,
  active,
  awaitingConsent,
  awaitingCredentials,
  awaitingRedirect,
  byId,
  challenge,
  channel,
  connectionResponse,
  disconnected,
  renewal,
  syncing,
} from '../examples';
import type { OperationDoc } from '../types';

/** POST /v1/connections, GET /v1/connections and the routes under /v1/connections/{id} that act on one. */
export const connectionOperations: OperationDoc[] = [
  {
    operationId: 'createConnection',
    method: 'post',
    path: '/v1/connections',
    summary: 'Start a connection',
    description:
      'Starts the connection workflow and answers, in the same call, its first next action: ' +
      'a `redirect` to the bank, or the `credentials` fields of an embedded channel (201). When that takes longer than ' +
      '`LINKFLOW_FIRST_ACTION_WAIT_MS` (default 10 s), the connection has started all the same: 202 with its id, `Location` and ' +
      'state `authorizing` (no `next_action` yet); read it with GET or wait for its `connection.action_required` webhook event. ' +
      'With an `Idempotency-Key`, repeating the same request (method, path and body, key order aside), also concurrently or ' +
      'after a 202 or a lost answer, answers 200 with the same connection instead of starting another; the key with any ' +
      'other body is a 422 `idempotency_key_reused`.',
    tags: ['Connections'],
    security: 'apiKey',
    headers: {
      'Idempotency-Key': { schema: IdempotencyKeySchema, description: 'Any printable ASCII up to 255 characters: the same key, the same connection.' },
    },
    body: { schema: CreateConnectionSchema },
    responses: [
      connectionResponse(201, 'Started: the connection with its first next action.', {
        Location: { schema: z.string(), description: 'The connection: `/v1/connections/{id}`.', required: true },
      }),
      connectionResponse(202, 'Started, first next action not there yet: the connection, still `authorizing` with no `next_action`. GET it later.', {
        Location: { schema: z.string(), description: 'The connection: `/v1/connections/{id}`.', required: true },
      }),
      connectionResponse(200, 'Replayed: this `Idempotency-Key` already started this connection.', {
        'Idempotent-Replayed': { schema: z.literal('true'), description: 'Present on a replay.', required: true },
      }),
    ],
    errors: [
      ...TENANT,
      ...BODY,
      { status: 400, code: 'invalid_idempotency_key', when: 'The Idempotency-Key is not printable ASCII or too long.', message: 'Idempotency-Key must be printable ASCII, at most 255 characters.' },
      { status: 422, code: 'idempotency_key_reused', when: 'The Idempotency-Key was used for a different request.', message: 'This Idempotency-Key was used for a different request.' },
      {
        status: 422,
        code: 'unsupported_mode',
        when:
          "The provider has no channel of this mode (Flinks and LnkFi: redirect only), or the institution starts with the other one (a Powens connector whose first source is `webauth` starts `redirect`, `credentials` starts `embedded`); `details.supported_modes` says which. Never answered with another mode.",
        message: 'flinks connections support mode redirect, not embedded.',
        details: { supported_modes: ['redirect'] },
      },
      { status: 422, code: 'provider_not_configured', when: 'This deployment has no settings for the provider.', message: 'powens is not configured on this Linkflow.' },
    ],
    requestExamples: [
      {
        name: 'redirect',
        summary: "Through the bank's own page",
        headers: { 'Idempotency-Key': 'user-42-link-1' },
        body: { provider: 'oxlin', institution_id: '87', redirect_url: 'https://client.example/linked?session=abc', user_ref: 'user-42' },
      },
      {
        name: 'embedded',
        summary: 'With a credentials form in your app, syncing every 6 hours',
        body: {
          provider: 'oxlin',
          institution_id: '87',
          redirect_url: 'https://client.example/linked',
          mode: 'embedded',
          sync_interval_seconds: 21_600,
        },
      },
    ],
    responseExamples: [
      { name: 'redirect', summary: 'Redirect channel: send the end user to `next_action.url`', body: awaitingRedirect, headers: { Location: `/v1/connections/${CONNECTION_ID}` } },
      { name: 'embedded', summary: 'Embedded channel: ask for these fields', body: awaitingCredentials, headers: { Location: `/v1/connections/${CONNECTION_ID}` } },
      {
        name: 'pending',
        summary: 'Started; the first next action took longer than the wait',
        status: 202,
        body: { ...awaitingRedirect, state: 'authorizing', next_action: null },
        headers: { Location: `/v1/connections/${CONNECTION_ID}` },
      },
      { name: 'replayed', summary: 'The same Idempotency-Key again', status: 200, body: awaitingRedirect, headers: { 'Idempotent-Replayed': 'true' } },
    ],
  },
  {
    operationId: 'listConnections',
    method: 'get',
    path: '/v1/connections',
    summary: 'List connections',
    description: "The tenant's connections, newest first, as the workflows' search attributes describe them (they lag a moment behind).",
    tags: ['Connections'],
    security: 'apiKey',
    query: ListConnectionsQuerySchema,
    responses: [{ status: 200, description: 'A page of connections.', schema: ConnectionListSchema }],
    errors: [...TENANT, E.invalidQuery, E.invalidListCursor],
    requestExamples: [
      { name: 'needsAction', summary: 'Connections waiting for their end user', query: { needs_action: 'true', limit: 50 } },
      { name: 'byUser', summary: "One end user's active connections", query: { user_ref: 'user-42', state: 'active' } },
    ],
    responseExamples: [
      {
        name: 'page',
        summary: 'A page with more to come',
        body: {
          data: [
            { id: CONNECTION_ID, provider: 'oxlin', state: 'challenge_required', needs_action: true, user_ref: 'user-42' },
            { id: '9a1d7c52-0f3e-4b8a-a6d2-5e4f3c2b1a09', provider: 'oxlin', state: 'awaiting_consent', needs_action: true, user_ref: null },
          ],
          next_cursor: 'CiQ5YTFkN2M1Mi0wZjNlLTRiOGEtYTZkMi01ZTRmM2MyYjFhMDk',
        },
      },
    ],
  },
  {
    operationId: 'getConnection',
    method: 'get',
    path: '/v1/connections/{id}',
    summary: 'Get a connection',
    description: 'Its state, next action, accounts (with consent), channels, last sync and what is due next.',
    tags: ['Connections'],
    security: 'apiKey',
    responses: [connectionResponse(200, 'The connection.')],
    errors: [...BY_ID],
    requestExamples: [{ name: 'get', summary: 'A connection', params: byId }],
    responseExamples: [
      { name: 'active', summary: 'Active: data flowing', body: active },
      { name: 'challenge', summary: 'The bank asks for an SMS code', body: challenge },
      { name: 'consent', summary: 'Waiting for consent', body: awaitingConsent },
    ],
  },
  {
    operationId: 'deleteConnection',
    method: 'delete',
    path: '/v1/connections/{id}',
    summary: 'Disconnect',
    description: 'Disconnects at the provider; the connection ends `disconnected` (answers once it has, or after 10 s).',
    tags: ['Connections'],
    security: 'apiKey',
    responses: [connectionResponse(202, 'Disconnecting or disconnected.')],
    errors: [...BY_ID, wrongState('a connection that has not ended', 'expired')],
    requestExamples: [{ name: 'delete', summary: 'Disconnect', params: byId }],
    responseExamples: [{ name: 'disconnected', summary: 'Disconnected', body: disconnected }],
  },
  {
    operationId: 'syncConnection',
    method: 'post',
    path: '/v1/connections/{id}/sync',
    summary: 'Sync now',
    description: 'Syncs outside the periodic schedule; answers at once with the connection as it was.',
    tags: ['Connections'],
    security: 'apiKey',
    body: { schema: SyncBodySchema, optional: true },
    responses: [connectionResponse(202, 'Sync requested.')],
    errors: [...BY_ID, ...BODY, wrongState('active, user_action_required, renewal_required', 'awaiting_consent')],
    requestExamples: [
      { name: 'sync', summary: 'Sync now (recent transactions, with an overlap)', params: byId },
      { name: 'full', summary: 'Read every transaction again', params: byId, body: { full: true } },
    ],
    responseExamples: [{ name: 'requested', summary: 'Requested', body: active }],
  },
  {
    operationId: 'giveConsent',
    method: 'put',
    path: '/v1/connections/{id}/consents',
    summary: 'Give consent per account',
    description: 'In `awaiting_consent`: consent (or not) for each listed account; the consented ones are synced.',
    tags: ['Connections'],
    security: 'apiKey',
    body: { schema: ConsentSchema },
    responses: [connectionResponse(200, 'The connection, now syncing.')],
    errors: [
      ...BY_ID,
      ...BODY.filter((e) => e !== E.invalidBody),
      { ...E.invalidBody, when: 'A field is not valid, or names accounts the connection does not have.', message: 'unknown accounts', details: { unknown_account_ids: ['not-an-account'] } },
      wrongState('awaiting_consent', 'active'),
    ],
    requestExamples: [
      {
        name: 'consent',
        summary: 'The checking account only',
        params: byId,
        body: { consents: [{ account_id: 'acc_checking', consent: true }, { account_id: 'acc_savings', consent: false }] },
      },
    ],
    responseExamples: [{ name: 'syncing', summary: 'Syncing the consented account', body: syncing }],
  },
  {
    operationId: 'submitCredentials',
    method: 'post',
    path: '/v1/connections/{id}/credentials',
    summary: 'Submit credentials (embedded)',
    description:
      'In `awaiting_credentials` or `credentials_invalid` on an embedded channel. Encrypt each value with GET /v1/keys/credentials ' +
      '(`api/clients/credentials.ts` does it in one call): plaintext credentials are refused.',
    tags: ['Connections'],
    security: 'apiKey',
    body: { schema: CredentialsSchema },
    responses: [connectionResponse(200, 'The connection: listing accounts, or a challenge.')],
    errors: [
      ...BY_ID,
      ...BODY,
      wrongState('awaiting_credentials', 'active'),
      {
        status: 422,
        code: 'invalid_credentials',
        when: "A field is missing or fails the provider's regexp (one detail per field).",
        message: 'Some fields are not valid.',
        details: { fields: [{ id: '300', message: 'Login does not match ^\\d{8}$' }] },
      },
      {
        status: 422,
        code: 'provider_rejected',
        when: "The bank refused the credentials (e.g. a wrong password): the fields are asked again and the connection's `reason` is `AUTH_FAILED`; `details.fields` names the fields refused.",
        message: 'The provider refused the request.',
        details: { fields: [{ id: 'password', message: 'was refused by the bank' }] },
      },
    ],
    requestExamples: [
      {
        name: 'credentials',
        summary: 'Login and password, each encrypted',
        params: byId,
        body: { credentials: [{ id: '300', value: ARMORED }, { id: '301', value: ARMORED }] },
      },
    ],
    responseExamples: [{ name: 'challenge', summary: 'The bank asks for a code', body: challenge }],
  },
  {
    operationId: 'answerChallenge',
    method: 'post',
    path: '/v1/connections/{id}/challenge',
    summary: 'Answer a challenge',
    description:
      "In `challenge_required`: one answer per field, in plaintext over TLS. Checked against each field's regexp and type, " +
      'then encrypted by the API before the workflow sees them. A wrong code answers with a new challenge.',
    tags: ['Connections'],
    security: 'apiKey',
    body: { schema: ChallengeAnswersSchema },
    responses: [connectionResponse(200, 'The connection after the answer.')],
    errors: [
      ...BY_ID,
      ...BODY,
      wrongState('challenge_required', 'active'),
      {
        status: 422,
        code: 'invalid_answers',
        when: "An answer is missing, or fails its field's regexp or type.",
        message: 'Some answers are not valid.',
        details: { fields: [{ id: '1001', message: 'Code received by SMS is required' }] },
      },
      { status: 422, code: 'provider_rejected', when: 'The provider refused the answers.', message: 'The provider refused the request.' },
      {
        status: 410,
        code: 'challenge_expired',
        when: "The bank closed the challenge before the answer arrived (its own deadline, which `expires_at` never exceeds): the connection moves on to a new challenge or ends `expired` (`CHALLENGE_TIMED_OUT`); read it.",
        message: 'The bank no longer accepts answers to this challenge; read the connection for what comes next.',
      },
    ],
    requestExamples: [{ name: 'sms', summary: 'An SMS code', params: byId, body: { answers: [{ id: '1001', value: '123456' }] } }],
    responseExamples: [{ name: 'accepted', summary: 'Accepted: accounts listed, consent next', body: awaitingConsent }],
  },
  {
    operationId: 'addChannel',
    method: 'post',
    path: '/v1/connections/{id}/channels',
    summary: 'Add a channel',
    description:
      "Adds the institution's other channel (e.g. embedded, for savings and loans) to the connection. Powens adds its connector's sources " +
      'one after the other in priority order: the next source must be of the mode asked (else the connection stays as it was with ' +
      '`reason` `UNSUPPORTED_MODE`), and once every source is on the connection the answer is the connection unchanged with `reason` `NO_MORE_SOURCES`.',
    tags: ['Connections'],
    security: 'apiKey',
    body: { schema: ChannelSchema },
    responses: [connectionResponse(200, 'The connection, authorizing the new channel.')],
    errors: [...BY_ID, ...BODY, wrongState('active', 'awaiting_consent')],
    requestExamples: [{ name: 'embedded', summary: 'Add the embedded channel', params: byId, body: { mode: 'embedded' } }],
    responseExamples: [
      { name: 'credentials', summary: 'Now asking for credentials', body: { ...awaitingCredentials, channels: [channel] } },
    ],
  },
  {
    operationId: 'requestRenewal',
    method: 'post',
    path: '/v1/connections/{id}/renewal',
    summary: 'Renew now',
    description: 'Renews the redirect channel before it expires: `renewal_required` with a fresh authorize URL for the existing connection.',
    tags: ['Connections'],
    security: 'apiKey',
    responses: [connectionResponse(200, 'The connection, with a redirect next action.')],
    errors: [
      ...BY_ID,
      wrongState('active', 'awaiting_consent'),
      {
        status: 422,
        code: 'validation_failed',
        when: 'The connection has no redirect channel to renew (credentials channels do not expire: a Powens `credentials` source, an Oxlin embedded channel).',
        message: 'the connection has no redirect channel to renew',
      },
    ],
    requestExamples: [{ name: 'renew', summary: 'Renew', params: byId }],
    responseExamples: [{ name: 'renewal', summary: 'Send the end user to the bank again', body: renewal }],
  },
];
