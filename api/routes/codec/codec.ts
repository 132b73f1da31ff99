import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import type { Payload, PayloadCodec } from '@temporalio/common';
import type { Context, Middleware } from 'koa';
import { PayloadCodecError } from '../../../domain/payload-codec';
import { requireAdmin } from '../../auth';
import { ApiError } from '../../errors';
import { respond } from '../../respond';
import { assertStorable, parseBody } from '../../validate';
import { type CodecPayloads, CodecPayloadsSchema } from './schema';

/** What the codec endpoint needs: the payload codec of the client and the worker, and who may call it. */
export interface CodecRouteDeps {
  codec: PayloadCodec;
  /** The Temporal Web UI's origin (LINKFLOW_UI_ORIGIN): the one origin allowed by CORS. */
  uiOrigin: string;
  /**
   * `npm start` only, with the API on loopback: a request from the Web UI's origin needs no key,
   * so a developer sees decoded payloads at once (the UI can send no fixed header; the operator
   * on this machine holds the admin key in .data/ anyway). Everywhere else: the admin key.
   */
  trustUiOrigin?: boolean;
}

/** The paths of the codec endpoint: the Web UI appends /decode and /encode to its codec URL. */
export const CODEC_PATHS = ['/codec/decode', '/codec/encode'];

/**
 * The codec endpoint's body limit: the Web UI sends a history's payloads in batches, and one payload
 * may be up to Temporal's default blob size limit (2 MB), so a batch may be twice that. Read only
 * once the caller is the operator: anyone else is refused before a byte of the body is read.
 */
const CODEC_BODY_LIMIT = '4mb';

/** The request headers the Web UI sends to a codec server (a preflight asks for them). */
const ALLOWED_HEADERS = 'content-type, x-namespace, authorization';

/**
 * CORS for the codec endpoint, for the Web UI's origin only: every answer (errors too) carries
 * Access-Control-Allow-Origin when the request's Origin is `uiOrigin`; a preflight (OPTIONS) is a 204
 * naming POST and the headers the UI sends. Other paths are untouched. Mounted before the routers.
 */
export function codecCors(uiOrigin: string): Middleware {
  return async (ctx, next) => {
    if (!CODEC_PATHS.includes(ctx.path)) return next();
    ctx.vary('Origin');
    const allowed = ctx.get('origin') === uiOrigin;
    if (allowed) {
      ctx.set('access-control-allow-origin', uiOrigin);
      ctx.set('access-control-allow-credentials', 'true');
    }
    if (ctx.method === 'OPTIONS') {
      ctx.set('allow', 'POST, OPTIONS');
      if (allowed) {
        ctx.set('access-control-allow-methods', 'POST, OPTIONS');
        ctx.set('access-control-allow-headers', ALLOWED_HEADERS);
        ctx.set('access-control-max-age', '600');
      }
      ctx.status = 204;
      return;
    }
    await next();
  };
}

const fromJson = ({ metadata, data }: CodecPayloads['payloads'][number]): Payload => ({
  metadata: Object.fromEntries(Object.entries(metadata ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64')])),
  data: Buffer.from(data ?? '', 'base64'),
});

const toJson = ({ metadata, data }: Payload): CodecPayloads['payloads'][number] => ({
  metadata: Object.fromEntries(Object.entries(metadata ?? {}).map(([key, value]) => [key, Buffer.from(value ?? new Uint8Array()).toString('base64')])),
  data: Buffer.from(data ?? new Uint8Array()).toString('base64'),
});

/**
 * POST /codec/decode and /codec/encode (Temporal's codec-server protocol), for the operator only
 * (LINKFLOW_ADMIN_KEY as a bearer token; 401 otherwise, 404 when no admin key is configured). A
 * payload that cannot be opened (a key id not configured, tampered ciphertext) is a 422
 * `payload_not_decodable` naming the cause, and nothing of the batch is returned.
 */
export function codecRoutes(deps: CodecRouteDeps, adminKey: string | undefined): Router {
  // Exactly CODEC_PATHS (no trailing slash either): what app.ts exempts from the global body parser.
  const router = new Router({ prefix: '/codec', sensitive: true, strict: true });
  const admin = requireAdmin(adminKey);
  router.use((ctx, next) => (deps.trustUiOrigin && ctx.get('origin') === deps.uiOrigin ? next() : admin(ctx, next)));
  const parseJson = bodyParser({ enableTypes: ['json'], jsonLimit: CODEC_BODY_LIMIT, encoding: 'utf-8' });
  router.use((ctx, next) => parseJson(ctx, async () => {
    assertStorable(ctx.request.body, 'body');
    await next();
  }));

  const run = (operation: 'decode' | 'encode') => async (ctx: Context) => {
    const { payloads } = parseBody(CodecPayloadsSchema, ctx.request.body);
    let result: Payload[];
    try {
      result = await deps.codec[operation](payloads.map(fromJson));
    } catch (err) {
      if (err instanceof PayloadCodecError) throw new ApiError(422, 'payload_not_decodable', err.message);
      throw err;
    }
    ctx.set('cache-control', 'no-store');
    ctx.body = respond(CodecPayloadsSchema, { payloads: result.map(toJson) });
  };
  router.post('/decode', run('decode'));
  router.post('/encode', run('encode'));
  return router;
}
