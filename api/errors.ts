import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Context, Middleware } from 'koa';
import { ZodError } from 'zod';
import type { Logger } from '../logger';

/** An error a client caused or may act on: rendered as `{ error: { code, message, details? } }`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export const notFound = (what: string): ApiError => new ApiError(404, 'not_found', `${what} not found`);

/** zod issues as the `details` of a 400/422: where, and what is wrong. */
export const zodDetails = (error: ZodError) =>
  error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));

// Errors thrown by Koa's body parser and friends carry an HTTP status meant for the client.
const CLIENT_ERROR_CODES: Record<number, string> = {
  400: 'malformed_request',
  405: 'method_not_allowed',
  408: 'request_timeout',
  413: 'body_too_large',
  415: 'unsupported_media_type',
  431: 'headers_too_large',
};

/** The JSON error body every error response carries (`request_id` only on a 5xx, to quote when reporting it). */
export function errorBody(error: ApiError, requestId?: string): { error: Record<string, unknown> } {
  return {
    error: {
      code: error.code,
      message: error.message,
      ...(error.details === undefined ? {} : { details: error.details }),
      ...(error.status >= 500 && requestId ? { request_id: requestId } : {}),
    },
  };
}

/**
 * What the router left unanswered, as an error: no route for the path (404), or a route without
 * this method (405, `Allow` already set by the router's allowedMethods).
 */
function unanswered(ctx: Context): ApiError | null {
  if (ctx.body !== undefined && ctx.body !== null) return null;
  if (ctx.status === 404) return notFound('route');
  if (ctx.status === 405) {
    const allow = ctx.response.get('allow');
    return new ApiError(405, 'method_not_allowed', `${ctx.method} is not allowed here; allowed: ${allow}.`, {
      allow: allow.split(/,\s*/).filter(Boolean),
    });
  }
  return null;
}

interface HttpLikeError {
  /** A string for Node and zlib errors, a number for gRPC (Temporal) ones. */
  code?: string | number;
  status?: number;
  statusCode?: number;
  expose?: boolean;
  message?: string;
}

/**
 * A request path as it may be logged: a Connect session's single-use token (`/connect/t/<token>`)
 * and a link's signed token (`/connect/links/<link>`) are bearer secrets, replaced by `…`; also in
 * the spellings no route matches (`/CONNECT/T/<token>`, `//connect/t/<token>`), which are logged raw.
 */
export const loggablePath = (path: string): string => path.replace(/^\/+connect\/+(t|links)\/+[^/]*/i, '/connect/$1/…');

/** The one place that writes error bodies. Every response carries its request id. */
export function errorMiddleware(logger: Logger): Middleware {
  return async (ctx, next) => {
    const requestId = randomUUID();
    ctx.set('x-request-id', requestId);
    try {
      await next();
      const left = unanswered(ctx);
      if (left) throw left;
    } catch (err) {
      const apiError = toApiError(err);
      if (apiError.status >= 500) {
        logger.error('request failed', { requestId, method: ctx.method, path: loggablePath(ctx.path), error: String(err) });
      }
      ctx.status = apiError.status;
      ctx.body = errorBody(apiError, requestId);
      // Refused before its body was read whole (too large, unauthorized, not decodable): the rest of
      // it is still on the socket, so a kept-alive client's next request there would never be
      // parsed (stalled, then reset). Close the connection once this answer is written.
      if (!ctx.req.complete) ctx.set('connection', 'close');
    }
  };
}

function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof ZodError) return new ApiError(422, 'validation_failed', 'The request is not valid.', zodDetails(err));
  if (err instanceof WorkflowNotFoundError) return notFound('connection');
  const httpError = err as HttpLikeError;
  // zlib, inflating a body sent with Content-Encoding gzip/deflate/br that is not what it claims:
  // Z_* for gzip and deflate, ERR__ERROR_* (BROTLI_DECODER_ERROR_* renamed by Node) for br.
  if (typeof httpError.code === 'string' && /^(Z_|ERR__ERROR_)/.test(httpError.code)) return new ApiError(400, 'malformed_request', 'The request body does not decode with its Content-Encoding.');
  const status = httpError.status ?? httpError.statusCode;
  if (status === 400) return new ApiError(400, 'malformed_request', 'The request body is not valid JSON.');
  if (status && status >= 400 && status < 500 && httpError.expose !== false) {
    return new ApiError(status, CLIENT_ERROR_CODES[status] ?? 'bad_request', httpError.message ?? 'Bad request.');
  }
  return new ApiError(500, 'internal', 'An unexpected error occurred; quote the request id when reporting it.');
}
