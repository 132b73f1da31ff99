import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Middleware } from 'koa';
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
  413: 'body_too_large',
  415: 'unsupported_media_type',
};

interface HttpLikeError {
  status?: number;
  statusCode?: number;
  expose?: boolean;
  message?: string;
}

/** The one place that writes error bodies. Every response carries its request id. */
export function errorMiddleware(logger: Logger): Middleware {
  return async (ctx, next) => {
    const requestId = randomUUID();
    ctx.set('x-request-id', requestId);
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw notFound('route');
    } catch (err) {
      const apiError = toApiError(err);
      if (apiError.status >= 500) {
        logger.error('request failed', { requestId, method: ctx.method, path: ctx.path, error: String(err) });
      }
      ctx.status = apiError.status;
      ctx.body = {
        error: {
          code: apiError.code,
          message: apiError.message,
          ...(apiError.details === undefined ? {} : { details: apiError.details }),
          ...(apiError.status >= 500 ? { request_id: requestId } : {}),
        },
      };
    }
  };
}

function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof ZodError) return new ApiError(422, 'validation_failed', 'The request is not valid.', zodDetails(err));
  if (err instanceof WorkflowNotFoundError) return notFound('connection');
  const httpError = err as HttpLikeError;
  const status = httpError.status ?? httpError.statusCode;
  if (status === 400) return new ApiError(400, 'malformed_request', 'The request body is not valid JSON.');
  if (status && status >= 400 && status < 500 && httpError.expose !== false) {
    return new ApiError(status, CLIENT_ERROR_CODES[status] ?? 'bad_request', httpError.message ?? 'Bad request.');
  }
  return new ApiError(500, 'internal', 'An unexpected error occurred; quote the request id when reporting it.');
}
