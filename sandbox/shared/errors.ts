// The error every sandbox throws from its routes and the middleware that answers it: each
// provider has its own codes and body shape, and its browser pages answer errors as HTML.
import type Koa from 'koa';
import { clientHttpError } from './http';

/**
 * An error a sandbox answers with `status`, its provider's error `code` and a `description`
 * for people (never a credential), plus response `headers` (e.g. `www-authenticate`).
 */
export class SandboxError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly description: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(`${status} ${code}: ${description}`);
    this.name = 'SandboxError';
  }
}

/** How one provider answers errors: its error class, its codes, its JSON body and its error page. */
export interface ErrorAnswers<E extends SandboxError> {
  /** Names the provider in the log line of an unexpected error, e.g. `oxlin`. */
  provider: string;
  type: abstract new (...args: never[]) => E;
  /** Builds the provider's error; `headers` come from the router's own 4xx. */
  create(status: number, code: string, description: string, headers: Readonly<Record<string, string>>): E;
  /** The codes of an unknown route (404), a wrong method (405), another router 4xx, and a bug (500). */
  codes: { notFound: string; methodNotAllowed: string; invalid: string; internal: string };
  /** The JSON body of an error. */
  body(error: E): unknown;
  /** Paths a browser opens get `render(description)` as an HTML page, with `headers`. */
  page?: { at(path: string): boolean; render(description: string): string; headers?: Readonly<Record<string, string>> };
}

/** `error` as the provider's error: itself, a router 4xx (405…) in the provider's codes, or a logged 500. */
export function toSandboxError<E extends SandboxError>(error: unknown, answers: ErrorAnswers<E>): E {
  if (error instanceof answers.type) return error;
  const httpError = clientHttpError(error);
  if (httpError) {
    const code = httpError.status === 405 ? answers.codes.methodNotAllowed : answers.codes.invalid;
    return answers.create(httpError.status, code, httpError.message, httpError.headers);
  }
  console.error(`${answers.provider} sandbox: unexpected error`, error);
  return answers.create(500, answers.codes.internal, 'Unexpected sandbox error.', {});
}

/**
 * The outermost middleware: a route nobody answered is the provider's 404, and every error is
 * answered in the provider's shape (an HTML page on browser paths), never as Koa's plain text.
 */
export function errorMiddleware<E extends SandboxError>(answers: ErrorAnswers<E>): Koa.Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body == null) {
        throw answers.create(404, answers.codes.notFound, `No route for ${ctx.method} ${ctx.path}.`, {});
      }
    } catch (caught) {
      const error = toSandboxError(caught, answers);
      ctx.status = error.status;
      ctx.set(error.headers);
      if (answers.page?.at(ctx.path)) {
        ctx.set(answers.page.headers ?? {});
        ctx.type = 'html';
        ctx.body = answers.page.render(error.description);
      } else {
        ctx.body = answers.body(error);
      }
    }
  };
}
