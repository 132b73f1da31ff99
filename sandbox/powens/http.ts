// Reading and validating requests the way the sandbox's routes need: bounded bodies, JSON or
// form, and zod failures turned into Powens-shaped 400s.
import type Koa from 'koa';
import type { RouterContext } from '@koa/router';
import type { z } from 'zod';
import { PowensApiError, invalidValue, notFound } from './errors';

const MAX_BODY_BYTES = 64 * 1024;

function readBody(ctx: Koa.Context): Promise<string> {
  const tooLarge = () => new PowensApiError(413, 'requestTooLarge', `The body is larger than ${MAX_BODY_BYTES} bytes.`);
  if (Number(ctx.get('content-length') || '0') > MAX_BODY_BYTES) return Promise.reject(tooLarge());
  const chunks: Buffer[] = [];
  let size = 0;
  return new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        ctx.req.off('data', onData);
        // Let the rest of the upload drain so that the 413 reaches the client.
        ctx.req.resume();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    ctx.req.on('data', onData);
    ctx.req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    ctx.req.once('error', reject);
  });
}

/** Form fields; a repeated field becomes an array so that validation rejects it. */
function parseForm(text: string): Record<string, string | string[]> {
  const fields: Record<string, string | string[]> = {};
  for (const [key, value] of new URLSearchParams(text)) {
    const previous = fields[key];
    fields[key] = previous === undefined ? value : [...[previous].flat(), value];
  }
  return fields;
}

/** A body as Powens takes it: JSON with a JSON content type, a form otherwise; empty reads as `{}`. */
export async function requestBody(ctx: Koa.Context): Promise<unknown> {
  const text = await readBody(ctx);
  if (text.trim() === '') return {};
  if (!/^application\/([\w.+-]+\+)?json\b/i.test(ctx.get('content-type'))) return parseForm(text);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw invalidValue('body: not valid JSON.');
  }
}

export function validate<S extends z.ZodType>(schema: S, input: unknown, where: 'body' | 'query'): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  // Messages name the parameter and the problem, never the value (it may be a credential).
  const issues = result.error.issues.map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : where}: ${issue.message}`);
  throw invalidValue(issues.join('; '));
}

export function param(ctx: RouterContext, name: string): string {
  const value = ctx.params[name];
  if (value === undefined) throw notFound(`Missing path parameter ${name}.`);
  return value;
}
