// Reading and validating requests the way the sandbox's routes need: bounded bodies, JSON or
// form, and zod failures turned into Powens-shaped 400s.
import type Koa from 'koa';
import type { RouterContext } from '@koa/router';
import type { z } from 'zod';
import { describeIssues, isJsonContentType, parseForm, parseJson, readBody } from '../shared/http';
import { PowensApiError, invalidValue, notFound } from './errors';

/** A body as Powens takes it: JSON with a JSON content type, a form otherwise; empty reads as `{}`. */
export async function requestBody(ctx: Koa.Context): Promise<unknown> {
  const text = await readBody(ctx, (message) => new PowensApiError(413, 'requestTooLarge', message));
  if (text.trim() === '') return {};
  if (!isJsonContentType(ctx)) return parseForm(text);
  return parseJson(text, () => invalidValue('body: not valid JSON.'));
}

export function validate<S extends z.ZodType>(schema: S, input: unknown, where: 'body' | 'query'): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw invalidValue(describeIssues(result.error, where));
}

export function param(ctx: RouterContext, name: string): string {
  const value = ctx.params[name];
  if (value === undefined) throw notFound(`Missing path parameter ${name}.`);
  return value;
}
