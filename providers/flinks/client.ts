import { ApplicationFailure } from '@temporalio/common';
import { jsonBody, responseParser, sendRequest } from '../http';
import { ErrorSchema, type FlinksErrorBody } from './schemas';

export interface FlinksConfig {
  /** The Flinks API host, e.g. `https://toolbox-api.private.fin.ag` (or the sandbox's url). */
  baseUrl: string;
  /** The customer id of the Flinks instance: part of every API path. */
  customerId: string;
  /** Flinks Connect, e.g. `https://toolbox-iframe.private.fin.ag/v2/`; the sandbox serves it at `${baseUrl}/v2/` (the default). */
  connectUrl?: string;
  /** More Flinks Connect parameters (theme, language, consentEnable…), passed as they are. */
  connectParams?: Record<string, string>;
  /** `accountSelectorEnable`: the end user picks one account at Flinks Connect, and only its data is read. */
  accountSelector?: boolean;
  /** How much history each read asks for (default `Days365`). */
  daysOfTransactions?: 'Days90' | 'Days365';
  /** Per-request time limit in ms (default DEFAULT_TIMEOUT_MS, 15 s); a slow call fails and is retried by Temporal. */
  timeoutMs?: number;
  /** How long one GetAccountsDetail answer is reused for listing and paging (default 60 s). */
  cacheMs?: number;
}

export interface FlinksResponse {
  status: number;
  body: unknown;
}

/** The error types our activities raise for Flinks; the workflow sees them as ApplicationFailure types. */
export const FlinksFailure = {
  /** The data is not extracted yet: Temporal retries the activity with backoff. */
  Pending: 'OPERATION_PENDING',
  Rejected: 'FlinksRequestRejected',
  BadResponse: 'FlinksBadResponse',
  /** The login can no longer be read (reconnect at Flinks Connect). */
  LoginFailed: 'FlinksLoginFailed',
  /** Something Flinks does not do through Linkflow (credentials, challenges). */
  Unsupported: 'FlinksUnsupported',
} as const;

const ERRORS = { provider: 'Flinks', badResponse: FlinksFailure.BadResponse };

/**
 * Flinks' API under `/v3/{customerId}/BankingServices`. Transient failures (network, 5xx, 429)
 * are thrown as plain errors for Temporal to retry; every other answer goes back to the caller,
 * which knows what a 202 or a 401 means for its call.
 */
export class FlinksClient {
  constructor(private readonly config: FlinksConfig) {}

  async call(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<FlinksResponse> {
    const apiPath = `v3/${encodeURIComponent(this.config.customerId)}/BankingServices/${path}`;
    const { status, text, response } = await sendRequest(this.config.baseUrl, { method, path: apiPath, json: body }, this.config.timeoutMs, 'flinks');
    const what = `${method} ${path.split('/')[0]}`;
    if (status >= 500 || status === 429) throw new Error(`Flinks ${what} answered ${status}`);
    // Flinks answers JSON whatever its content-type says.
    return { status, body: jsonBody(text, response, what, ERRORS, true) };
  }
}

/** The Flinks error in a response, if it is one. */
export function flinksError(response: FlinksResponse): FlinksErrorBody | null {
  const parsed = ErrorSchema.safeParse(response.body);
  return parsed.success ? parsed.data : null;
}

export const parse = responseParser(ERRORS);

/** An answer the caller did not expect: non-retryable, with Flinks' code (never the body). */
export function rejected(what: string, response: FlinksResponse): ApplicationFailure {
  const error = flinksError(response);
  return ApplicationFailure.create({
    type: FlinksFailure.Rejected,
    nonRetryable: true,
    message: `Flinks ${what} answered ${response.status}${error ? ` ${error.FlinksCode}` : ''}`,
    details: [{ status: response.status, flinksCode: error?.FlinksCode ?? null }],
  });
}
