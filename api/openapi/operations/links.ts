// GET /connect/links/{link}: what every `next_action.url` of type `redirect` points at.
import { z } from 'zod';
import type { ErrorDoc, OperationDoc } from '../types';
import { AUTHORIZATION_LINK } from '../examples';

const LINK_ERRORS: ErrorDoc[] = [
  { status: 404, code: 'link_not_found', when: 'Not a link Linkflow signed (malformed, altered, or signed with another secret): nothing changes.', message: 'This is not a link Linkflow issued.' },
  { status: 404, code: 'not_found', when: 'The connection the link names no longer exists.', message: 'connection not found' },
  {
    status: 409,
    code: 'link_not_needed',
    when: 'The connection offers no redirect now (it is `active`, or the end user came back already): nothing changes; `details.state` names its state.',
    message: 'This link is no longer needed: the connection is active.',
    details: { state: 'active' },
  },
  {
    status: 410,
    code: 'link_expired',
    when: "Past the link's expiry (the action's `expires_at`, and at least a day after the link was handed out): read the connection for a new link.",
    message: 'This link has expired: ask the service that sent it for a new one.',
  },
  {
    status: 410,
    code: 'link_not_needed',
    when: 'The connection has ended (`expired`, `cancelled`, `failed`, `disconnected`); `details.state` names how.',
    message: 'This link is no longer needed: the connection is expired.',
    details: { state: 'expired' },
  },
  {
    status: 429,
    code: 'too_many_opens',
    when: "The connection's redirect was opened too often lately (links and the Connect page together: 10 in each 20-minute window, 30 an hour): nothing reached the connection; `Retry-After` and `details.retry_after_seconds` say when to try again.",
    message: 'This link was opened too often; try again in 120 s.',
    details: { retry_after_seconds: 120 },
  },
  { status: 502, code: 'provider_unavailable', when: 'The provider did not give a fresh authorization URL; opening the link again may work.', message: 'The provider did not give a fresh authorization link; try again in a moment.' },
  { status: 503, code: 'temporarily_unavailable', when: 'The connection did not answer in time (Linkflow is restarting, say): nothing changed; opening the link again later works.', message: 'Linkflow could not reach the connection just now; try again in a moment.' },
];

export const linkOperations: OperationDoc[] = [
  {
    operationId: 'openAuthorizationLink',
    method: 'get',
    path: '/connect/links/{link}',
    summary: 'Open an authorization link (browser)',
    description:
      "Where every `next_action.url` of type `redirect` leads (first authorization, repair, renewal), in API answers and webhook events alike; not for API clients, and no API key: the end user's browser opens it. " +
      "Linkflow checks the link (signed, bound to one connection, with an expiry), then asks the connection for the provider's authorization URL minted at this moment " +
      '(a new Powens webview code, which lives 30 minutes) and sends the browser there. A link sent weeks ago for a renewal still works as long as the renewal is awaited. ' +
      'Errors are a small HTML page for a browser (`Accept: text/html`), the JSON error otherwise.',
    tags: ['Callbacks'],
    security: 'none',
    pathParams: { link: { schema: z.string(), description: 'The link token, as the URL Linkflow handed out carries it.' } },
    responses: [
      {
        status: 303,
        description: "On to the provider's authorization page, with a URL minted now.",
        headers: { Location: { schema: z.url(), description: "The provider's authorization URL.", required: true } },
      },
    ],
    errors: LINK_ERRORS,
    requestExamples: [{ name: 'link', summary: 'A link from `next_action.url`', params: { link: AUTHORIZATION_LINK } }],
    responseExamples: [
      {
        name: 'fresh',
        summary: "On to the provider's webview",
        headers: { Location: 'https://webview.powens.example/connect?client_id=linkflow&code=fresh-code&state=k7Qx2mB9.Yp2rT8wK&connector_ids=61' },
      },
    ],
  },
];
