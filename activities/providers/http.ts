// What every provider client does with an HTTP answer: read its JSON body, and check it against
// the schema the adapter expects. A body that is not what the provider documents is a
// non-retryable failure of the provider's own BadResponse type (retrying would not change it).
import { ApplicationFailure } from '@temporalio/common';
import type { z } from 'zod';

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
