import { ApplicationFailure } from '@temporalio/common';
import { jsonBody, responseParser, sendRequest } from '../http';
import { ErrorBodySchema } from './schemas';

export interface LnkfiConfig {
  /** https://api.lnkfi.com, or the sandbox. */
  baseUrl: string;
  /** Linkflow's vendor id at LnkFi (vnd_…). */
  vendorId: string;
  /** The system connections are made to; the institution id Linkflow uses for LnkFi connections. */
  system: 'xero';
  /** Linkflow's own app at the system (it must allow LnkFi's redirect URI). */
  systemClientId: string;
  systemClientSecret: string;
  /** Fills "[Your Company Name]" in the consent text the end user agrees to. */
  legalName: string;
  /** Per-request time limit in ms (default DEFAULT_TIMEOUT_MS, 15 s); a slow call fails and is retried by Temporal. */
  timeoutMs?: number;
  /** How the adapter tells and waits out time for rate limits (tests drive it); real time by default. */
  clock?: { now(): number; sleep(ms: number): Promise<void> };
}

export interface LnkfiResponse {
  status: number;
  headers: Headers;
  body: unknown;
}

/** The error types our activities raise for LnkFi; the workflow maps them onto states. */
export const LnkfiFailure = {
  Rejected: 'LnkfiRequestRejected',
  BadResponse: 'LnkfiBadResponse',
  /** LnkFi or the system no longer accept the connection (revoked, disconnected, key replaced). */
  Unauthorized: 'LnkfiUnauthorized',
  RateLimited: 'LnkfiRateLimited',
  MissingApiKey: 'LnkfiMissingApiKey',
} as const;

const ERRORS = { provider: 'LnkFi', badResponse: LnkfiFailure.BadResponse };

/**
 * LnkFi's HTTP API. Transient failures (network, 5xx) are plain errors for Temporal to retry;
 * other statuses are returned for the caller to judge. The API key goes in one header and
 * nowhere else: no message or detail ever carries it.
 */
export class LnkfiClient {
  constructor(private readonly config: LnkfiConfig) {}

  async request(method: 'POST' | 'DELETE', path: string, body: unknown, apiKey?: string): Promise<LnkfiResponse> {
    const headers: Record<string, string> = apiKey === undefined ? {} : { authorization: `APIKey ${apiKey}` };
    const { text, response } = await sendRequest(this.config.baseUrl, { method, path, headers, json: body }, this.config.timeoutMs, 'lnkfi');
    if (response.status >= 500) throw new Error(`LnkFi ${method} ${path} answered ${response.status}`);
    return { status: response.status, headers: response.headers, body: jsonBody(text, response, `${method} ${path}`, ERRORS) };
  }
}

export const parse = responseParser(ERRORS);

/** A status the caller did not expect: 401 is its own type (reauthorization needed), the rest are rejections. */
export function failure(what: string, response: LnkfiResponse): ApplicationFailure {
  const parsed = ErrorBodySchema.safeParse(response.body);
  const description = parsed.success ? `${parsed.data.error}: ${parsed.data.message ?? ''}` : '';
  return ApplicationFailure.create({
    type: response.status === 401 ? LnkfiFailure.Unauthorized : LnkfiFailure.Rejected,
    nonRetryable: true,
    message: `LnkFi ${what} answered ${response.status} ${description}`.trim(),
    details: [{ status: response.status, error: parsed.success ? parsed.data.error : null }],
  });
}
