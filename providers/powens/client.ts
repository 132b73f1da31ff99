import { ApplicationFailure } from '@temporalio/common';
import type { z } from 'zod';
import { jsonBody, responseParser, sendRequest } from '../http';
import { ErrorBodySchema } from './schemas';

export interface PowensConfig {
  /** The domain's API root, e.g. `https://linkflow-sandbox.biapi.pro` (the client adds `/2.0`). */
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  /** Where the webview lives (`https://webview.powens.com`); the sandbox serves it next to the API. */
  webviewUrl?: string;
  /** Longest wait (ms) between two reads of the connection while the bank works or waits for the end user: reads start 100 ms apart and back off to it (providers/polling.ts; default 1 s, POWENS_POLL_INTERVAL_MS). */
  pollIntervalMs?: number;
  /** Per-request time limit in ms (default 60 s, see POWENS_TIMEOUT_MS); a slow call fails and is retried by Temporal. */
  timeoutMs?: number;
}

export interface PowensResponse {
  status: number;
  body: unknown;
}

/** The error types our activities raise for Powens; the workflow maps them onto states. */
export const PowensFailure = {
  Rejected: 'PowensRequestRejected',
  BadResponse: 'PowensBadResponse',
} as const;

/**
 * Powens' own time limit, longer than DEFAULT_TIMEOUT_MS: adding a connection checks the
 * credentials at the bank within the request, and the reference asks clients to "handle the
 * HTTP connection appropriately to avoid timeouts".
 */
const POWENS_TIMEOUT_MS = 60_000;

const ERRORS = { provider: 'Powens', badResponse: PowensFailure.BadResponse };

export interface RequestOptions {
  /** A user access token; Powens' public resources (connectors, key, auth) need none. */
  token?: string;
  body?: unknown;
  query?: Record<string, string | number>;
  expect?: number[];
}

/**
 * Powens' HTTP API. Transient failures (network, 5xx, 429) are thrown as plain errors for
 * Temporal to retry; a status the caller did not expect is a non-retryable ApplicationFailure.
 */
export class PowensClient {
  constructor(private readonly config: PowensConfig) {}

  async request(method: string, path: string, options: RequestOptions = {}): Promise<PowensResponse> {
    const headers: Record<string, string> = options.token ? { authorization: `Bearer ${options.token}` } : {};
    const request = { method, path: `/2.0${path}`, query: options.query, headers, json: options.body };
    const { response, text } = await sendRequest(this.config.baseUrl, request, this.config.timeoutMs ?? POWENS_TIMEOUT_MS, 'powens');
    const result = { status: response.status, body: jsonBody(text, response, `${method} ${path}`, ERRORS) };
    if ((options.expect ?? [200]).includes(response.status)) return result;
    throw failure(`${method} ${path}`, result);
  }

  /** Requests and parses a JSON body with its schema. */
  async get<T extends z.ZodType>(path: string, schema: T, options: Omit<RequestOptions, 'body'> = {}): Promise<z.infer<T>> {
    return parse(schema, (await this.request('GET', path, options)).body, `GET ${path}`);
  }
}

export const parse = responseParser(ERRORS);

/** Powens' error code in a response body (`wrongpass`, …), if it has one. */
export function errorCode(response: PowensResponse): string | null {
  return ErrorBodySchema.safeParse(response.body).data?.code ?? null;
}

export function failure(what: string, response: PowensResponse): Error {
  const parsed = ErrorBodySchema.safeParse(response.body);
  const description = parsed.success ? `${parsed.data.code}: ${parsed.data.message ?? ''}` : '';
  const message = `Powens ${what} answered ${response.status} ${description}`.trim();
  if (response.status >= 500 || response.status === 429) return new Error(message);
  return ApplicationFailure.create({
    type: PowensFailure.Rejected,
    nonRetryable: true,
    message,
    details: [{ status: response.status, code: parsed.success ? parsed.data.code : null }],
  });
}
