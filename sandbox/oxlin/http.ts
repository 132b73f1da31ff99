// How the Oxlin sandbox reads requests and answers them: bodies, validation, path parameters,
// client authentication and the EMBEDDED channel definition a request names.
import type Koa from 'koa';
import type { z } from 'zod';
import { paramReader, parseJson, readBody, validator } from '../shared/http';
import type { ChannelDefinition, Provider } from './data';
import { ApiError } from './errors';
import type { tokenBody } from './schemas';

export const invalidRequest = (message: string, status = 400): ApiError => new ApiError(status, 'invalid_request', message);

export const readOxlinBody = (ctx: Koa.Context): Promise<string> => readBody(ctx, (message) => invalidRequest(message, 413));

export const parseOxlinJson = (text: string): unknown => parseJson(text, () => invalidRequest('body: not valid JSON.'));

/**
 * An API call's JSON body, whatever the content type: the reference's own examples send
 * JSON with curl's default form content type. An empty body reads as `{}`.
 */
export async function jsonBody(ctx: Koa.Context): Promise<unknown> {
  const text = await readOxlinBody(ctx);
  return text.trim() === '' ? {} : parseOxlinJson(text);
}

export const validate = validator(invalidRequest);

/** A status with an empty body (Koa would otherwise send the status message). */
export function respondEmpty(ctx: Koa.Context, status: number): void {
  ctx.status = status;
  ctx.body = '';
  ctx.remove('content-type');
}

export const param = paramReader((message) => new ApiError(404, 'not_found', message));

export function clientCredentials(ctx: Koa.Context, body: z.output<typeof tokenBody>): { id: string; secret: string } {
  const basic = /^Basic\s+(\S+)$/i.exec(ctx.get('authorization'));
  if (basic?.[1]) {
    if (body.client_id !== undefined || body.client_secret !== undefined) {
      throw new ApiError(400, 'invalid_request', 'Use one client authentication method: the authorization header or the body.');
    }
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new ApiError(400, 'invalid_request', 'authorization: malformed Basic credentials.');
    try {
      // RFC 6749 §2.3.1: both parts are form-urlencoded before the Basic encoding.
      return { id: decodeURIComponent(decoded.slice(0, colon)), secret: decodeURIComponent(decoded.slice(colon + 1)) };
    } catch {
      throw new ApiError(400, 'invalid_request', 'authorization: malformed Basic credentials.');
    }
  }
  return { id: body.client_id ?? '', secret: body.client_secret ?? '' };
}

/** The EMBEDDED channel definition a new connection uses: the one named, else the provider's first. */
export function embeddedDefinition(provider: Provider, channelDefinitionId: string | undefined): ChannelDefinition {
  if (channelDefinitionId === undefined) {
    const first = provider.channel_definitions.find((definition) => definition.mode === 'EMBEDDED');
    if (!first) throw new ApiError(400, 'invalid_request', `provider_id: provider "${provider.id}" has no EMBEDDED channel definition.`);
    return first;
  }
  const definition = provider.channel_definitions.find((candidate) => candidate.id === channelDefinitionId);
  if (!definition) {
    throw new ApiError(400, 'invalid_request', `channel_definition_id: provider "${provider.id}" has no channel definition "${channelDefinitionId}".`);
  }
  if (definition.mode !== 'EMBEDDED') {
    throw new ApiError(400, 'invalid_request', `channel_definition_id: "${channelDefinitionId}" is ${definition.mode}; use authorize_url for it.`);
  }
  return definition;
}

