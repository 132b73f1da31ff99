import { ApplicationFailure } from '@temporalio/common';
import type { z } from 'zod';
import { type ProviderRequest, jsonBody, responseParser, sendRequest } from '../http';
import { ErrorBodySchema, TokenResponseSchema } from './schemas';

export interface OxlinConfig {
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  /** Per-request time limit in ms (default DEFAULT_TIMEOUT_MS, 15 s); a slow call fails and is retried by Temporal. */
  timeoutMs?: number;
  /** Longest wait (ms) between two reads of the event queue by a waiting activity: reads start 100 ms apart and back off to it (providers/polling.ts; default 1 s, OXLIN_POLL_INTERVAL_MS). */
  pollIntervalMs?: number;
}

export interface OxlinResponse {
  status: number;
  headers: Headers;
  body: unknown;
}

/** The error types our activities raise for Oxlin; the workflow maps them onto states. */
export const OxlinFailure = {
  Rejected: 'OxlinRequestRejected',
  BadResponse: 'OxlinBadResponse',
} as const;

const ERRORS = { provider: 'Oxlin', badResponse: OxlinFailure.BadResponse };

/**
 * Oxlin's HTTP API with a cached client-credentials token. Transient failures (network,
 * 5xx, 429) are thrown as plain errors for Temporal to retry; a 4xx the caller did not
 * expect is a non-retryable ApplicationFailure.
 */
export class OxlinClient {
  private token: { value: string; expiresAt: number } | null = null;

  constructor(private readonly config: OxlinConfig) {}

  async request(
    method: string,
    path: string,
    options: { body?: unknown; query?: Record<string, string | number>; expect?: number[] } = {},
  ): Promise<OxlinResponse> {
    let response = await this.send(apiRequest(method, path, options, await this.accessToken()));
    if (response.status === 401) {
      // The token may have been revoked early: fetch one new token, once.
      this.token = null;
      response = await this.send(apiRequest(method, path, options, await this.accessToken()));
    }
    const expected = options.expect ?? [200];
    if (expected.includes(response.status)) return response;
    throw failure(`${method} ${path}`, response);
  }

  /** Requests and parses a JSON body with its schema. */
  async get<T extends z.ZodType>(path: string, schema: T, query?: Record<string, string | number>): Promise<z.infer<T>> {
    const response = await this.request('GET', path, { query });
    return parse(schema, response.body, `GET ${path}`);
  }

  private async accessToken(): Promise<string> {
    if (this.token && this.token.expiresAt > Date.now() + 60_000) return this.token.value;
    const response = await this.send({
      method: 'POST',
      path: '/oauth2/token',
      form: { grant_type: 'client_credentials', client_id: this.config.clientId, client_secret: this.config.clientSecret },
    });
    if (response.status !== 200) throw failure('POST /oauth2/token', response);
    const token = parse(TokenResponseSchema, response.body, 'POST /oauth2/token');
    this.token = { value: token.access_token, expiresAt: Date.now() + token.expires_in * 1000 };
    return token.access_token;
  }

  /** One request, its JSON body read; statuses are the caller's to judge. */
  private async send(request: ProviderRequest): Promise<OxlinResponse> {
    const answer = await sendRequest(this.config.baseUrl, request, this.config.timeoutMs, 'oxlin');
    const body = jsonBody(answer.text, answer.response, `${request.method} ${answer.url.pathname}${answer.url.search}`, ERRORS);
    return { status: answer.status, headers: answer.headers, body };
  }
}

/** A call to the API under `/v2.1`, authorized with the access token. */
function apiRequest(method: string, path: string, options: { body?: unknown; query?: Record<string, string | number> }, token: string): ProviderRequest {
  return { method, path: `/v2.1${path}`, query: options.query, headers: { authorization: `Bearer ${token}` }, json: options.body };
}

export const parse = responseParser(ERRORS);

function failure(what: string, response: OxlinResponse): Error {
  const parsed = ErrorBodySchema.safeParse(response.body);
  const description = parsed.success ? `${parsed.data.error}: ${parsed.data.error_description ?? ''}` : '';
  const message = `Oxlin ${what} answered ${response.status} ${description}`.trim();
  if (response.status >= 500 || response.status === 429) return new Error(message);
  return ApplicationFailure.create({
    type: OxlinFailure.Rejected,
    nonRetryable: true,
    message,
    details: [{ status: response.status, error: parsed.success ? parsed.data.error : null }],
  });
}
