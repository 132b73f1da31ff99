// Reading and validating requests the way the sandbox's routes need: bounded bodies, JSON or
// form, and zod failures turned into Powens-shaped 400s.
import type Koa from 'koa';
import { isJsonContentType, paramReader, parseForm, parseJson, readBody, validator } from '../shared/http';
import { PowensApiError, invalidValue, notFound } from './errors';

/** A body as Powens takes it: JSON with a JSON content type, a form otherwise; empty reads as `{}`. */
export async function requestBody(ctx: Koa.Context): Promise<unknown> {
  const text = await readBody(ctx, (message) => new PowensApiError(413, 'requestTooLarge', message));
  if (text.trim() === '') return {};
  if (!isJsonContentType(ctx)) return parseForm(text);
  return parseJson(text, () => invalidValue('body: not valid JSON.'));
}

/** Parses `input`; a failure is a 400 invalidValue naming each field and problem. */
export const validate = validator(invalidValue);

/** A path parameter of the matched route (a 404 if the route has none by that name). */
export const param = paramReader(notFound);
