// What every provider client does over HTTP: send one request the same way (base URL + path,
// JSON or form body, no redirects followed, one time limit), read the answer's JSON body, and
// check it against the schema the adapter expects. A body that is not what the provider
// documents is a non-retryable failure of the provider's own BadResponse type (retrying would
// not change it). Each client keeps its own auth and its own mapping of statuses to failures.
import { ApplicationFailure } from '@temporalio/common';
import type { z } from 'zod';
import { observeProviderCall } from '../metrics';

/** A request's time limit when the provider's config sets none: a slow call fails, and Temporal retries it. */
export const DEFAULT_TIMEOUT_MS = 15_000;

/**
 * `path` under `baseUrl`, with `query` (numbers as decimal text): one slash between them whatever
 * either has, and the base's own path kept (`https://h/api/` + `/v1/x` is `https://h/api/v1/x`).
 */
export function joinUrl(baseUrl: string, path: string, query?: Readonly<Record<string, string | number>>): URL {
  const url = new URL(`${baseUrl.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`);
  if (query) url.search = new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)])).toString();
  return url;
}

export interface ProviderRequest {
  method: string;
  /** Joined onto the base URL with `joinUrl`. */
  path: string;
  query?: Readonly<Record<string, string | number>>;
  /** The provider's auth and any other headers; `accept: application/json` is always sent. */
  headers?: Readonly<Record<string, string>>;
  /** Sent as JSON (`content-type: application/json`) unless undefined. */
  json?: unknown;
  /** Sent as `application/x-www-form-urlencoded` (OAuth2 token requests). */
  form?: Readonly<Record<string, string>>;
}

export interface ProviderAnswer {
  /** Where the request went. */
  url: URL;
  status: number;
  headers: Headers;
  /** The body as text, read whole; `jsonBody` parses it. */
  text: string;
  response: Response;
}

/**
 * Sends one request to a provider and reads the whole answer. Redirects are answers, never
 * followed (`redirect: 'manual'`). A network error or the `timeoutMs` limit (default
 * DEFAULT_TIMEOUT_MS) rejects with fetch's own error, which Temporal retries like any plain error.
 * Each call is counted under `provider` (lower-case name, e.g. `oxlin`) in the provider metrics
 * (metrics.ts: duration by outcome, errors when no answer or a 5xx came).
 */
export async function sendRequest(baseUrl: string, request: ProviderRequest, timeoutMs = DEFAULT_TIMEOUT_MS, provider = 'unknown'): Promise<ProviderAnswer> {
  const contentType = request.form ? 'application/x-www-form-urlencoded' : request.json === undefined ? undefined : 'application/json';
  const url = joinUrl(baseUrl, request.path, request.query);
  const started = performance.now();
  try {
    const response = await fetch(url, {
      method: request.method,
      headers: { accept: 'application/json', ...request.headers, ...(contentType ? { 'content-type': contentType } : {}) },
      body: request.form ? new URLSearchParams(request.form).toString() : request.json === undefined ? undefined : JSON.stringify(request.json),
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    const answer = { url, status: response.status, headers: response.headers, text: await response.text(), response };
    observeProviderCall(provider, request.method, started, answer);
    return answer;
  } catch (error) {
    observeProviderCall(provider, request.method, started, { error });
    throw error;
  }
}

/** Names a provider's failures: `Oxlin GET /x: …`, typed e.g. `OxlinBadResponse`. */
export interface ResponseErrors {
  provider: string;
  badResponse: string;
}

/**
 * An answer's body (its text, already read): parsed JSON when it has any (declared JSON, or any
 * text when `anyContentType`, for providers that do not say), else the text as it came.
 */
export function jsonBody(text: string, response: Response, what: string, errors: ResponseErrors, anyContentType = false): unknown {
  if (!text || !(anyContentType || response.headers.get('content-type')?.includes('json'))) return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw ApplicationFailure.nonRetryable(`${errors.provider} ${what} sent invalid JSON (${response.status})`, errors.badResponse);
  }
}

/** A provider's `parse(schema, body, what)`: the body as the schema types it, or a BadResponse failure naming what differs. */
export function responseParser(errors: ResponseErrors) {
  return function parse<T extends z.ZodType>(schema: T, body: unknown, what: string): z.infer<T> {
    const result = schema.safeParse(body);
    if (result.success) return result.data;
    throw ApplicationFailure.create({
      type: errors.badResponse,
      nonRetryable: true,
      message: `${errors.provider} ${what}: unexpected response shape`,
      details: [result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)],
    });
  };
}
