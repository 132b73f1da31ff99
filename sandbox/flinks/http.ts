// Request parsing for the Flinks sandbox: bodies are read with a size limit and validated with
// zod; every problem becomes a FlinksError (400 INVALID_REQUEST), never a 500.
import type Koa from 'koa';
import type { z } from 'zod';
import { FlinksError } from './errors';

const MAX_BODY_BYTES = 64 * 1024;

export async function readBody(ctx: Koa.Context): Promise<string> {
  const tooLarge = () => new FlinksError(413, 'INVALID_REQUEST', `The body is larger than ${MAX_BODY_BYTES} bytes.`);
  if (Number(ctx.get('content-length') || '0') > MAX_BODY_BYTES) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  return new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        ctx.req.off('data', onData);
        // Let the rest of the upload drain so the 413 reaches the client.
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

/** An API call's JSON body, whatever its content type; an empty body reads as `{}`. */
export async function jsonBody(ctx: Koa.Context): Promise<unknown> {
  const text = await readBody(ctx);
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new FlinksError(400, 'INVALID_REQUEST', 'The body is not valid JSON.');
  }
}

/** Form fields; a repeated field becomes an array so that validation rejects it. */
export async function formBody(ctx: Koa.Context): Promise<Record<string, string | string[]>> {
  const fields: Record<string, string | string[]> = {};
  for (const [key, value] of new URLSearchParams(await readBody(ctx))) {
    const previous = fields[key];
    fields[key] = previous === undefined ? value : [...[previous].flat(), value];
  }
  return fields;
}

/** Parses `input`; a failure names each field and problem (never the value). */
export function validate<S extends z.ZodType>(schema: S, input: unknown, where: 'body' | 'query'): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : where}: ${issue.message}`);
  throw new FlinksError(400, 'INVALID_REQUEST', problems.join('; '));
}
