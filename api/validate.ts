import type { Middleware } from 'koa';
import type { z } from 'zod';
import { ApiError, zodDetails } from './errors';

/** Request bodies: schema violations are 422 with one detail per field. */
export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  throw new ApiError(422, 'validation_failed', 'The request body is not valid.', zodDetails(result.error));
}

/** Query strings and path parameters: malformed is 400. */
export function parseQuery<T extends z.ZodType>(schema: T, query: unknown): z.infer<T> {
  const result = schema.safeParse(query);
  if (result.success) return result.data;
  throw new ApiError(400, 'invalid_query', 'The query string is not valid.', zodDetails(result.error));
}

/**
 * True when `text` holds a NUL or an unpaired UTF-16 surrogate: both are valid in JSON escapes
 * (`\u0000`, `\ud800`) and in percent-encoding, but PostgreSQL text and jsonb hold neither, and a
 * provider or Temporal search attribute would choke on them further on.
 */
export const unstorable = (text: string): boolean => text.includes('\0') || LONE_SURROGATE.test(text);
// With the u flag a surrogate range matches only surrogates that are not half of a pair.
const LONE_SURROGATE = /[\ud800-\udfff]/u;

/**
 * Refuses (400 `invalid_text`) any string or key in a parsed JSON value that the store could not
 * hold, wherever it is: one rule for every field instead of one per schema. Walks without
 * recursion, so nesting as deep as the body limit allows cannot overflow the stack.
 * `where` names the input in the error's details ("body", "query").
 */
export function assertStorable(value: unknown, where: string): void {
  type Node = { value: unknown; key: string; parent: Node | null };
  const stack: Node[] = [{ value, key: '', parent: null }];
  const refuse = (node: Node): never => {
    const path: string[] = [];
    for (let n: Node | null = node; n?.parent; n = n.parent) path.unshift(n.key);
    throw new ApiError(400, 'invalid_text', 'Text may not contain NUL characters or unpaired surrogates (\\u0000, \\ud800-\\udfff).', {
      in: where,
      path: path.join('.'),
    });
  };
  for (let node = stack.pop(); node; node = stack.pop()) {
    const current = node.value;
    if (typeof current === 'string') {
      if (unstorable(current)) refuse(node);
    } else if (Array.isArray(current)) {
      current.forEach((item, i) => stack.push({ value: item, key: String(i), parent: node }));
    } else if (current !== null && typeof current === 'object') {
      for (const [key, item] of Object.entries(current)) {
        const child = { value: item, key, parent: node };
        if (unstorable(key)) refuse(child);
        stack.push(child);
      }
    }
  }
}

/**
 * The request target, decoded as the router will decode it: malformed percent-encoding is a 400
 * `malformed_path` (not a 404 for a path that could never exist), in the query string a 400
 * `malformed_query`; the decoded path and query string may hold only storable text.
 */
export function requestTarget(): Middleware {
  return async (ctx, next) => {
    let path: string;
    try {
      path = decodeURIComponent(ctx.path);
    } catch {
      throw new ApiError(400, 'malformed_path', 'The path is not valid percent-encoded UTF-8.');
    }
    if (unstorable(path)) {
      throw new ApiError(400, 'invalid_text', 'Text may not contain NUL characters or unpaired surrogates (\\u0000, \\ud800-\\udfff).', { in: 'path' });
    }
    // Koa's query parser quietly turns malformed escapes into U+FFFD: refuse them as the path's are.
    for (const part of ctx.querystring.split(/[&=]/)) {
      try {
        decodeURIComponent(part.replaceAll('+', ' '));
      } catch {
        throw new ApiError(400, 'malformed_query', 'The query string is not valid percent-encoded UTF-8.');
      }
    }
    assertStorable(ctx.query, 'query');
    await next();
  };
}
