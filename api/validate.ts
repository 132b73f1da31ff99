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
