// Request parsing every sandbox does alike. Each provider answers problems in its own error
// shape, so the helpers take the error to throw (or return what the caller turns into one).
import type Koa from 'koa';
import type { RouterContext } from '@koa/router';
import type { z } from 'zod';

const MAX_BODY_BYTES = 64 * 1024;

/** The raw body as text, at most 64 KiB; a larger one rejects with `tooLarge(message)` (a 413). */
export function readBody(ctx: Koa.Context, tooLarge: (message: string) => Error): Promise<string> {
  const message = `The body is larger than ${MAX_BODY_BYTES} bytes.`;
  if (Number(ctx.get('content-length') || '0') > MAX_BODY_BYTES) return Promise.reject(tooLarge(message));
  const chunks: Buffer[] = [];
  let size = 0;
  return new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        ctx.req.off('data', onData);
        // Let the rest of the upload drain so the 413 reaches the client.
        ctx.req.resume();
        reject(tooLarge(message));
        return;
      }
      chunks.push(chunk);
    };
    ctx.req.on('data', onData);
    ctx.req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    ctx.req.once('error', reject);
  });
}

/** JSON text parsed, or `invalid()` thrown. */
export function parseJson(text: string, invalid: () => Error): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw invalid();
  }
}

/** Form fields; a repeated field becomes an array so that validation rejects it. */
export function parseForm(text: string): Record<string, string | string[]> {
  const fields: Record<string, string | string[]> = {};
  for (const [key, value] of new URLSearchParams(text)) {
    const previous = fields[key];
    fields[key] = previous === undefined ? value : [...[previous].flat(), value];
  }
  return fields;
}

/** `application/json` or a `+json` type such as `application/merge-patch+json`. */
export const isJsonContentType = (ctx: Koa.Context): boolean => /^application\/([\w.+-]+\+)?json\b/i.test(ctx.get('content-type'));

/** Each field and its problem, never the value (it may be a credential); `where` names the root. */
export function describeIssues(error: z.ZodError, where: string): string {
  return error.issues.map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : where}: ${issue.message}`).join('; ');
}

/** A provider's `validate(schema, input, where)`: the parsed input, or `invalid(each field and problem)` thrown. */
export const validator =
  (invalid: (message: string) => Error) =>
  <S extends z.ZodType>(schema: S, input: unknown, where: 'body' | 'query' = 'body'): z.output<S> => {
    const result = schema.safeParse(input);
    if (result.success) return result.data;
    throw invalid(describeIssues(result.error, where));
  };

/** A provider's `param(ctx, name)`: a path parameter of the matched route, or `missing(message)` thrown. */
export const paramReader =
  (missing: (message: string) => Error) =>
  (ctx: RouterContext, name: string): string => {
    const value = ctx.params[name];
    if (value === undefined) throw missing(`Missing path parameter ${name}.`);
    return value;
  };

/** The URL this request reached the sandbox at (Koa 3's `ctx.origin` is the Origin header); '' without a Host. */
export const requestOrigin = (ctx: Koa.Context): string => (ctx.host ? `${ctx.protocol}://${ctx.host}` : '');

/**
 * The 4xx that @koa/router's allowedMethods throws as an http-error (405 with its `Allow`
 * header), for the error middleware to answer in the provider's shape; other errors give undefined.
 */
export function clientHttpError(error: unknown): { status: number; message: string; headers: Record<string, string> } | undefined {
  if (!(error instanceof Error && 'status' in error && typeof error.status === 'number' && error.status >= 400 && error.status < 500)) return undefined;
  const headers = 'headers' in error && isStringRecord(error.headers) ? error.headers : {};
  return { status: error.status, message: error.message, headers };
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return typeof value === 'object' && value !== null && Object.values(value).every((item) => typeof item === 'string');
}

/** `url` with `params` set in its query (undefined ones left out): where a provider sends the browser back. */
export function withParams(url: string, params: Record<string, string | undefined>): string {
  const result = new URL(url);
  for (const [name, value] of Object.entries(params)) if (value !== undefined) result.searchParams.set(name, value);
  return result.toString();
}

/**
 * The body of each sandbox's `GET /sandbox/…/transaction-count`: the count per provider account
 * id (in the order given) and their sum, e.g. `{"accounts": {"12301": 91, "12302": 91}, "total": 182}`.
 */
export interface TransactionCounts {
  accounts: Record<string, number>;
  total: number;
}

/** `counts` (provider account id, number of transactions) as a {@link TransactionCounts} body. */
export function transactionCounts(counts: Iterable<readonly [string, number]>): TransactionCounts {
  const accounts: Record<string, number> = {};
  let total = 0;
  for (const [accountId, count] of counts) {
    accounts[accountId] = count;
    total += count;
  }
  return { accounts, total };
}
