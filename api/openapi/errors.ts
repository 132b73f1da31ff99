// The error catalogue: each error the API answers with, as api/errors.ts, api/auth.ts,
// api/limits.ts, api/temporal.ts and the routes give them, with when it happens and an example.
import { z } from 'zod';
import type { ConnectionView } from '../../contract/messages';
import type { ErrorDoc } from './types';

/** The one error shape, written by api/errors.ts for every status >= 400. */
export const ErrorSchema = z.object({
  error: z.object({
    code: z.string().meta({ description: 'Stable, machine-readable: branch on this, not on the message.' }),
    message: z.string().meta({ description: 'For humans; may change.' }),
    details: z.unknown().optional().meta({ description: 'Per error code: e.g. one `{path, message}` per invalid field, or `{state}` for `wrong_state`.' }),
    request_id: z.uuid().optional().meta({ description: 'On 5xx only: the `x-request-id` to quote when reporting the error.' }),
  }),
}).meta({ id: 'Error' });

export const E = {
  malformed: { status: 400, code: 'malformed_request', when: 'The body is not valid JSON.', message: 'The request body is not valid JSON.' },
  invalidQuery: {
    status: 400,
    code: 'invalid_query',
    when: 'A query parameter is not valid (one detail per parameter).',
    message: 'The query string is not valid.',
    details: [{ path: 'limit', message: 'Too big: expected number to be <=500' }],
  },
  invalidCursor: {
    status: 400,
    code: 'invalid_cursor',
    when: "The cursor is not one this API returned for this connection (another connection's, altered, or from before cursors were bound to their connection), or it is past the connection's last change.",
    message: 'The cursor is not one this API returned for this connection.',
  },
  invalidListCursor: {
    status: 400,
    code: 'invalid_cursor',
    when: 'The cursor is not one this API returned for these filters.',
    message: 'The cursor is not one this API returned for these filters.',
  },
  unauthorized: {
    status: 401,
    code: 'unauthorized',
    when: 'No API key, or not a valid one (with `WWW-Authenticate: Bearer`).',
    message: 'Send your API key as "Authorization: Bearer <key>".',
  },
  adminUnauthorized: {
    status: 401,
    code: 'unauthorized',
    when: 'No admin key, or not the right one.',
    message: 'Admin routes need the admin key as "Authorization: Bearer <key>".',
  },
  connectionNotFound: {
    status: 404,
    code: 'not_found',
    when: "No such connection for this tenant (another tenant's connection is a 404 too).",
    message: 'connection not found',
  },
  adminOff: { status: 404, code: 'not_found', when: 'No LINKFLOW_ADMIN_KEY is configured: admin routes do not exist.', message: 'route not found' },
  tenantNotFound: { status: 404, code: 'not_found', when: 'No such tenant (or admin routes are off).', message: 'tenant not found' },
  tooLarge: { status: 413, code: 'body_too_large', when: 'The body is over 100 kB.', message: 'request entity too large' },
  notJson: { status: 415, code: 'unsupported_media_type', when: 'The body is not application/json.', message: 'Send request bodies as application/json.' },
  invalidBody: {
    status: 422,
    code: 'validation_failed',
    when: 'A field is missing or not valid (one detail per field).',
    message: 'The request body is not valid.',
    details: [{ path: 'redirect_url', message: 'Invalid URL' }],
  },
  rateLimited: {
    status: 429,
    code: 'rate_limited',
    when: "Over the tenant's requests a minute; wait `Retry-After` seconds.",
    message: 'Too many requests: at most 600 a minute. Retry after 1 s.',
  },
  internal: {
    status: 500,
    code: 'internal',
    when: 'Something failed on our side; quote `request_id`.',
    message: 'An unexpected error occurred; quote the request id when reporting it.',
  },
  invalidText: {
    status: 400,
    code: 'invalid_text',
    when: 'A string in the body, query string or path holds a NUL or an unpaired surrogate (`\\u0000`, `\\ud800`): text the store cannot hold.',
    message: 'Text may not contain NUL characters or unpaired surrogates (\\u0000, \\ud800-\\udfff).',
    details: { in: 'body', path: 'redirect_url' },
  },
  malformedPath: { status: 400, code: 'malformed_path', when: 'The path is not valid percent-encoded UTF-8.', message: 'The path is not valid percent-encoded UTF-8.' },
  malformedQuery: {
    status: 400,
    code: 'malformed_query',
    when: 'The query string is not valid percent-encoded UTF-8.',
    message: 'The query string is not valid percent-encoded UTF-8.',
  },
  requestTimeout: {
    status: 408,
    code: 'request_timeout',
    when: 'The headers or body stopped before they were complete (LINKFLOW_RECEIVE_TIMEOUT_MS, default 10 s).',
    message: 'The request did not arrive in time: its headers or body stopped short.',
  },
  headersTooLarge: {
    status: 431,
    code: 'headers_too_large',
    when: 'The request line and headers are over 16 KiB.',
    message: 'The request line and headers are too large (at most 16 KiB).',
  },
  methodNotAllowed: {
    status: 405,
    code: 'method_not_allowed',
    when: 'The path exists but not with this method (any method Node can parse); the `Allow` header and `details.allow` list the ones it has.',
    message: 'DELETE is not allowed here; allowed: GET, POST.',
    details: { allow: ['GET', 'POST'] },
  },
  timeout: { status: 504, code: 'timeout', when: 'The request took longer than the configured deadline; safe to retry.', message: 'The request took longer than 30 s.' },
} satisfies Record<string, ErrorDoc>;

export const wrongState = (allowed: string, actual: ConnectionView['state']): ErrorDoc => ({
  status: 409,
  code: 'wrong_state',
  when:
    `The connection is not in a state that allows this (allowed: ${allowed}), or it has ended (\`expired\`, \`cancelled\`, \`failed\`, ` +
    '`disconnected`: only GET and the data routes still answer); `details.state` names its state.',
  message: `allowed only in state ${allowed}; the connection is ${actual}`,
  details: { state: actual },
});

// What any request may get, whatever the route: from api/validate.ts requestTarget and api/server.ts.
export const COMMON: ErrorDoc[] = [E.invalidText, E.malformedPath, E.malformedQuery, E.methodNotAllowed, E.requestTimeout, E.headersTooLarge, E.internal, E.timeout];
export const TENANT: ErrorDoc[] = [E.unauthorized, E.rateLimited];
export const BODY: ErrorDoc[] = [E.malformed, E.tooLarge, E.notJson, E.invalidBody];
export const BY_ID: ErrorDoc[] = [...TENANT, E.connectionNotFound];


// What a browser redirect from a provider may get (GET /callbacks/{provider}).
export const CALLBACK_ERRORS: ErrorDoc[] = [
  { status: 400, code: 'invalid_callback', when: "The query string is not the provider's.", message: 'The redirect is malformed.', details: [{ path: 'state', message: 'Too small: expected string to have >=1 characters' }] },
  {
    status: 400,
    code: 'invalid_state',
    when: 'The `state` is not one Linkflow signed (an HMAC only Linkflow can make: no schema can tell a forged one from a real one).',
    message: 'The redirect state is not one Linkflow issued.',
  },
  {
    status: 403,
    code: 'provider_connection_refused',
    when: 'The redirect names a provider connection that another Linkflow connection holds, or another one than this connection holds (a renewal or repair); nothing changes.',
    message: 'The redirect names a provider connection that belongs to another connection.',
  },
  { status: 404, code: 'not_found', when: 'No such connection.', message: 'connection not found' },
  {
    status: 409,
    code: 'redirect_not_expected',
    when: 'The connection does not wait for a redirect: this one was used already or came too late.',
    message: 'The connection is active; this redirect was already used or came too late.',
    details: { state: 'active' },
  },
];

/** What a provider webhook may get (POST /webhooks/{provider}); `signature` names its signature header. */
export const webhookErrors = (signature: string): ErrorDoc[] => [
  { status: 400, code: 'invalid_event', when: 'Signed, but not an event the provider documents.', message: 'The event is malformed.', details: [{ path: 'resource', message: 'Invalid input: expected object, received undefined' }] },
  E.malformed,
  { status: 401, code: 'invalid_signature', when: `\`${signature}\` is missing or does not verify: nothing changed.`, message: 'The webhook signature does not verify.' },
  { status: 404, code: 'not_found', when: 'No webhook secret is configured for the provider: its webhook endpoint does not exist.', message: 'webhook endpoint not found' },
  { ...E.tooLarge, when: 'The body is over 1 MB.' },
  {
    status: 503,
    code: 'event_in_progress',
    when: 'Another delivery of the same event holds its claim and has not been signalled yet (with `Retry-After`): redeliver.',
    message: 'Another delivery of this event is being applied; try again shortly.',
  },
];
