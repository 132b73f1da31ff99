// Request parsing for the Flinks sandbox: bodies are read with a size limit and validated with
// zod; every problem becomes a FlinksError (400 INVALID_REQUEST), never a 500.
import type Koa from 'koa';
import { parseForm, parseJson, readBody, validator } from '../shared/http';
import { FlinksError } from './errors';

const invalidRequest = (message: string, status = 400): FlinksError => new FlinksError(status, 'INVALID_REQUEST', message);

const readFlinksBody = (ctx: Koa.Context): Promise<string> => readBody(ctx, (message) => invalidRequest(message, 413));

/** An API call's JSON body, whatever its content type; an empty body reads as `{}`. */
export async function jsonBody(ctx: Koa.Context): Promise<unknown> {
  const text = await readFlinksBody(ctx);
  return text.trim() === '' ? {} : parseJson(text, () => invalidRequest('The body is not valid JSON.'));
}

/** Form fields; a repeated field becomes an array so that validation rejects it. */
export async function formBody(ctx: Koa.Context): Promise<Record<string, string | string[]>> {
  return parseForm(await readFlinksBody(ctx));
}

/** Parses `input`; a failure names each field and problem (never the value). */
export const validate = validator(invalidRequest);
