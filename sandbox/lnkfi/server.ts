import Koa from 'koa';
import Router from '@koa/router';
import { z } from 'zod';
import { parseForm, parseJson, readBody, requestOrigin, transactionCounts, validator } from '../shared/http';
import { PAGE_HEADERS } from '../shared/html';
import { type ErrorAnswers, errorMiddleware } from '../shared/errors';
import { type ListeningSandbox, startSandbox } from '../shared/listen';
import { LnkfiError } from './errors';
import { type Connection, LnkfiSimulator, type RateLimits, SYSTEMS } from './simulator';
import { WebhookSender, type WebhookTarget } from './webhooks';
import { XERO_API_ORIGIN, bankTransactionCounts, xeroRequest } from './xero';
import { XERO_AUTHORIZE_PATH, renderErrorPage, renderXeroLogin } from './xero-page';

/** The vendor the sandbox knows unless told otherwise (Linkflow's default LNKFI_VENDOR_ID). */
export const SANDBOX_VENDOR_ID = 'vnd_00000000-0000-0000-0000-000000000001';
/** The vendor's Xero app, as the sandbox's Xero knows it (Linkflow's default LNKFI_SYSTEM_CLIENT_ID / _SECRET). */
export const SANDBOX_XERO_APP = { clientId: 'linkflow-xero-client', clientSecret: 'linkflow-xero-secret' } as const;

export interface LnkfiSandboxOptions {
  port?: number;
  host?: string;
  /** Milliseconds since the epoch; sessions, rate-limit windows and Xero data follow it. */
  now?: () => number;
  /** Where browsers reach the Xero page and LnkFi's complete endpoint, when not where the API client reached the sandbox. */
  publicUrl?: string;
  /** The vendor's webhook endpoint and secret; without it no webhook is sent. */
  webhook?: WebhookTarget;
  vendorId?: string;
  /** The one Xero app the sandbox's Xero accepts (defaults: SANDBOX_XERO_APP). */
  xeroApp?: { clientId: string; clientSecret: string };
  /** Proxied calls per instance and window (Xero's own limits by default: 60 a minute, 5000 a day). */
  rateLimits?: Partial<RateLimits>;
  /** How long after the redirect the `late_webhook` user's connection_completed is sent (default 1000 ms). */
  lateWebhookDelayMs?: number;
}

/** A running LnkFi sandbox: its `url` (e.g. `http://127.0.0.1:41234`) and `close`. */
export type LnkfiSandbox = ListeningSandbox;

export interface LnkfiSandboxApp {
  app: Koa;
  /** Stops webhook retries and delayed webhooks. */
  dispose(): void;
}

const COMPLETE_PATH = (system: string) => `/v1/connection/authorize/${system}/complete`;
const XERO_SCOPES = 'openid profile email accounting.settings.read accounting.transactions.read offline_access';

// --- request parsing -------------------------------------------------------

const invalidRequest = (message: string, status = 400): LnkfiError => new LnkfiError(status, 'invalid_request', message);

const readLnkfiBody = (ctx: Koa.Context): Promise<string> => readBody(ctx, (message) => invalidRequest(message, 413));

/** The reference: "Content-Type … Should always be application/json." */
async function jsonBody(ctx: Koa.Context): Promise<unknown> {
  if (!/^application\/json\b/i.test(ctx.get('content-type'))) {
    throw new LnkfiError(415, 'unsupported_media_type', 'Content-Type must be application/json.');
  }
  return parseJson(await readLnkfiBody(ctx), () => invalidRequest('The body is not valid JSON.'));
}

const validate = validator(invalidRequest);

// --- schemas ----------------------------------------------------------------

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
const id = z.string({ error: 'required' }).min(1).max(255);

const authorizeBody = z
  .strictObject({
    system: z.string({ error: 'required' }),
    vendor_id: id,
    vendor_external_id: id.optional(),
    system_client_id: id.optional(),
    system_client_secret: id.optional(),
    vendor_redirect_url: httpUrl.max(2048),
    consent_given: z.boolean({ error: 'must be a boolean' }).optional(),
    existing_connection_id: id.optional(),
  })
  .superRefine((body, ctx) => {
    if (body.existing_connection_id !== undefined) return;
    if (body.consent_given !== true) {
      ctx.addIssue({ code: 'custom', path: ['consent_given'], message: "must be true: display LnkFi's consent text to the end user and obtain their consent" });
    }
    for (const field of ['system_client_id', 'system_client_secret'] as const) {
      if (body[field] === undefined) ctx.addIssue({ code: 'custom', path: [field], message: 'required unless existing_connection_id is given' });
    }
  });

const deleteBody = z.strictObject({ vendor_id: id, connection_id: id });

const proxyBody = z.strictObject({
  connection_id: id,
  url: z
    .url({ error: 'must be a URL' })
    .max(4096)
    .refine((url) => URL.canParse(url) && new URL(url).origin === XERO_API_ORIGIN, `must be a ${XERO_API_ORIGIN} URL (the connection's system)`),
  instance_id: id,
});

const xeroPageQuery = z.object({
  response_type: z.literal('code', { error: 'must be "code"' }),
  client_id: z.string({ error: 'required' }).min(1),
  redirect_uri: httpUrl,
  scope: z.string().optional(),
  state: z.string({ error: 'required' }).min(1),
});

const xeroForm = z.strictObject({
  state: z.string({ error: 'required' }).min(1),
  email: z.string().max(254).optional(),
  password: z.string().max(200).optional(),
  decision: z.enum(['approve', 'cancel', 'error']),
});

// Xero's redirect to LnkFi: `code` (and `scope`, `session_state`) on success, `error` otherwise.
const completeQuery = z.object({
  state: z.string({ error: 'required' }).min(1),
  code: z.string().min(1).optional(),
  error: z.string().min(1).optional(),
  error_description: z.string().optional(),
  scope: z.string().optional(),
  session_state: z.string().optional(),
});

const revokeBody = z.strictObject({ notify: z.boolean().optional() });

const transactionCountQuery = z.strictObject({ instance_id: id.optional() });

const isBrowserPath = (path: string): boolean => path.startsWith('/xero/') || /^\/v1\/connection\/authorize\/[^/]+\/complete$/.test(path);

/** Errors as LnkFi answers them; the pages a browser opens (Xero's, the complete endpoint) answer with an HTML error page. */
const ERRORS: ErrorAnswers<LnkfiError> = {
  provider: 'lnkfi',
  type: LnkfiError,
  create: (status, code, description) => new LnkfiError(status, code, description),
  codes: { notFound: 'not_found', methodNotAllowed: 'method_not_allowed', invalid: 'invalid_request', internal: 'server_error' },
  body: (error) => ({ error: error.code, message: error.description }),
  page: { at: isBrowserPath, render: renderErrorPage },
};

// --- the app ------------------------------------------------------------------

export function createLnkfiSandboxApp(options: LnkfiSandboxOptions = {}): LnkfiSandboxApp {
  const now = options.now ?? Date.now;
  const vendorId = options.vendorId ?? SANDBOX_VENDOR_ID;
  const xeroApp = options.xeroApp ?? SANDBOX_XERO_APP;
  const lateWebhookDelayMs = options.lateWebhookDelayMs ?? 1_000;
  const sim = new LnkfiSimulator(now, { perMinute: options.rateLimits?.perMinute ?? 60, perDay: options.rateLimits?.perDay ?? 5_000 });
  const webhooks = options.webhook ? new WebhookSender(options.webhook, vendorId) : null;
  const timers = new Set<NodeJS.Timeout>();
  const publicBase = (ctx: Koa.Context): string => options.publicUrl ?? requestOrigin(ctx);

  const app = new Koa();
  const router = new Router();

  app.use(errorMiddleware(ERRORS));

  /** The connection the `Authorization: APIKey <api_key>` header opens, checked against the one named. */
  function authenticate(ctx: Koa.Context, connectionId: string): Connection {
    const match = /^APIKey\s+(\S+)$/i.exec(ctx.get('authorization'));
    const challenge = { 'www-authenticate': 'APIKey realm="lnkfi"' };
    if (!match?.[1]) throw new LnkfiError(401, 'unauthorized', 'Missing "Authorization: APIKey <api_key>" header.', challenge);
    const connection = sim.byApiKey(match[1]);
    if (!connection) throw new LnkfiError(401, 'invalid_api_key', 'Unknown API key.', challenge);
    if (connection.id !== connectionId) throw new LnkfiError(403, 'forbidden', `The API key is not the key of connection "${connectionId}".`);
    return connection;
  }

  function knownVendor(id: string): void {
    if (id !== vendorId) throw new LnkfiError(400, 'invalid_vendor', `vendor_id: unknown vendor "${id}".`);
  }

  router.post('/v1/connection/authorize', async (ctx) => {
    const body = validate(authorizeBody, await jsonBody(ctx));
    knownVendor(body.vendor_id);
    const system = SYSTEMS.find((s) => s === body.system);
    if (!system) throw new LnkfiError(400, 'unsupported_system', `system: "${body.system}" is not supported; supported systems: ${SYSTEMS.join(', ')}.`);
    const existing = body.existing_connection_id === undefined ? undefined : sim.connectionOf(body.vendor_id, body.existing_connection_id);
    if (existing && existing.system !== system) {
      throw new LnkfiError(400, 'invalid_request', `existing_connection_id: the connection is a ${existing.system} connection.`);
    }
    const session = sim.createSession({
      vendorId: body.vendor_id,
      vendorExternalId: body.vendor_external_id ?? existing?.vendorExternalId,
      system,
      vendorRedirectUrl: body.vendor_redirect_url,
      systemClientId: body.system_client_id ?? existing?.systemClientId ?? '',
      systemClientSecret: body.system_client_secret ?? existing?.systemClientSecret ?? '',
      existingConnectionId: existing?.id,
    });
    const authorizationUrl = new URL(XERO_AUTHORIZE_PATH, publicBase(ctx));
    authorizationUrl.search = new URLSearchParams({
      response_type: 'code',
      client_id: session.systemClientId,
      redirect_uri: `${publicBase(ctx)}${COMPLETE_PATH(system)}`,
      scope: XERO_SCOPES,
      state: session.id,
    }).toString();
    ctx.body = {
      authorization_url: authorizationUrl.toString(),
      system,
      vendor_id: body.vendor_id,
      vendor_external_id: session.vendorExternalId,
      ...(existing ? { existing_connection_id: existing.id } : {}),
    };
  });

  router.delete('/v1/connection', async (ctx) => {
    const body = validate(deleteBody, await jsonBody(ctx));
    knownVendor(body.vendor_id);
    const connection = authenticate(ctx, body.connection_id);
    connection.status = 'disconnected';
    ctx.body = { status: 'disconnected' };
  });

  router.post('/v1/connection/proxy', async (ctx) => {
    const body = validate(proxyBody, await jsonBody(ctx));
    const connection = authenticate(ctx, body.connection_id);
    if (connection.status === 'disconnected') {
      throw new LnkfiError(401, 'connection_disconnected', 'The connection is disconnected; reauthorize it with existing_connection_id.');
    }
    if (connection.status === 'revoked') {
      throw new LnkfiError(401, 'connection_revoked', 'Xero no longer authorizes this connection; reauthorize it with existing_connection_id.');
    }
    const instance = connection.instances.find((i) => i.id === body.instance_id);
    if (!instance) throw new LnkfiError(404, 'instance_not_found', `The connection has no instance "${body.instance_id}".`);
    const budget = sim.consume(connection, instance.id);
    ctx.set({
      'x-ratelimit-day-remaining': String(budget.dayRemaining),
      'x-ratelimit-minute-remaining': String(budget.minuteRemaining),
    });
    if (!budget.allowed) {
      throw new LnkfiError(429, 'rate_limited', `The ${budget.exhausted} limit of proxied requests for this instance is reached.`, {
        'retry-after': String(budget.retryAfterSeconds),
        'x-ratelimit-day-remaining': String(budget.dayRemaining),
        'x-ratelimit-minute-remaining': String(budget.minuteRemaining),
      });
    }
    const answer = xeroRequest(instance, new URL(body.url), now());
    ctx.status = answer.status;
    ctx.body = answer.body;
  });

  // --- the end user's browser: Xero's login page, then LnkFi's complete endpoint -------------

  router.get(XERO_AUTHORIZE_PATH, (ctx) => {
    const query = validate(xeroPageQuery, ctx.query);
    if (query.client_id !== xeroApp.clientId) throw new LnkfiError(400, 'unauthorized_client', 'Xero does not know this client_id (unauthorized_client).');
    if (new URL(query.redirect_uri).pathname !== COMPLETE_PATH('xero')) {
      throw new LnkfiError(400, 'invalid_request', "redirect_uri is not one of the app's redirect URIs.");
    }
    const session = sim.usableSession(query.state);
    ctx.set(PAGE_HEADERS);
    ctx.type = 'html';
    ctx.body = renderXeroLogin(session.id, session.existingConnectionId !== undefined);
  });

  router.post(XERO_AUTHORIZE_PATH, async (ctx) => {
    const form = validate(xeroForm, parseForm(await readLnkfiBody(ctx)));
    const session = sim.usableSession(form.state);
    const back = new URL(`${publicBase(ctx)}${COMPLETE_PATH(session.system)}`);
    if (form.decision === 'approve') {
      if (!form.email?.includes('@')) {
        ctx.status = 400;
        ctx.type = 'html';
        ctx.body = renderXeroLogin(session.id, session.existingConnectionId !== undefined, 'Enter your e-mail address.');
        return;
      }
      back.searchParams.set('code', sim.issueCode(session, form.email));
      back.searchParams.set('scope', XERO_SCOPES);
      back.searchParams.set('session_state', session.id.slice(0, 12));
    } else if (form.decision === 'cancel') {
      back.searchParams.set('error', 'access_denied');
    } else {
      back.searchParams.set('error', 'server_error');
      back.searchParams.set('error_description', 'Xero could not complete the request.');
    }
    back.searchParams.set('state', session.id);
    ctx.status = 303;
    ctx.redirect(back.toString());
  });

  router.get('/v1/connection/authorize/:system/complete', async (ctx) => {
    const query = validate(completeQuery, ctx.query);
    const session = sim.usableSession(query.state);
    if (ctx.params.system !== session.system) throw new LnkfiError(400, 'invalid_request', `This authorization is for ${session.system}.`);
    const done = (result: 'success' | 'canceled' | 'error') => {
      const url = new URL(session.vendorRedirectUrl);
      url.searchParams.set('result', result);
      ctx.redirect(url.toString());
    };
    if (query.code === undefined) {
      sim.endSession(session);
      return done(query.error === 'access_denied' ? 'canceled' : 'error');
    }
    const email = sim.redeemCode(session, query.code);
    // LnkFi exchanges the code with the vendor's Xero app: a wrong client secret fails here.
    if (email === null || session.systemClientId !== xeroApp.clientId || session.systemClientSecret !== xeroApp.clientSecret) {
      return done('error');
    }
    const connection = sim.completeConnection(session, email);
    const delivery = () => webhooks?.deliver(completedWebhook(connection)) ?? Promise.resolve();
    if (connection.scenario === 'late_webhook') {
      const timer = setTimeout(() => {
        timers.delete(timer);
        void delivery();
      }, lateWebhookDelayMs);
      timers.add(timer);
    } else {
      await delivery();
    }
    done('success');
  });

  // --- sandbox-only controls, without an API key so that tests can drive them ---------------

  router.post('/sandbox/connections/:id/revoke', async (ctx) => {
    const connection = sim.connectionOf(vendorId, ctx.params.id ?? '');
    const body = validate(revokeBody, await jsonBody(ctx));
    if (connection.status !== 'active') throw new LnkfiError(409, 'conflict', `The connection is ${connection.status}.`);
    connection.status = 'revoked';
    if (body.notify !== false) await webhooks?.deliver(disconnectedWebhook(connection));
    ctx.status = 204;
  });

  /**
   * Ground truth for tests in another process: `GET /sandbox/connections/{id}/transaction-count`
   * → `200 {"accounts": {"<Xero AccountID>": <count>, …}, "total": <sum>, "deleted": <n>}` for the
   * active bank accounts of the connection's instances (or of the one `?instance_id=` names).
   * Each count is how many `AUTHORISED` bank transactions the proxied
   * `GET BankTransactions?where=BankAccount.AccountID=guid("…")` lists now, from the same function;
   * the `DELETED` ones Xero lists too (voided, no money moved: Linkflow leaves them out) are not
   * in the counts but in `deleted`. `404 connection_not_found` for an unknown connection,
   * `404 instance_not_found` for an instance it does not have.
   */
  router.get('/sandbox/connections/:id/transaction-count', (ctx) => {
    const query = validate(transactionCountQuery, ctx.query, 'query');
    const connection = sim.connectionOf(vendorId, ctx.params.id ?? '');
    const instances = connection.instances.filter((i) => query.instance_id === undefined || i.id === query.instance_id);
    if (instances.length === 0) throw new LnkfiError(404, 'instance_not_found', `The connection has no instance "${query.instance_id ?? ''}".`);
    const counts = instances.flatMap((instance) => bankTransactionCounts(instance, now()));
    ctx.body = {
      ...transactionCounts(counts.map((count) => [count.accountId, count.authorised] as const)),
      deleted: counts.reduce((sum, count) => sum + count.deleted, 0),
    };
  });

  router.get('/sandbox/connections/:id', (ctx) => {
    const connection = sim.connectionOf(vendorId, ctx.params.id ?? '');
    ctx.body = {
      connection_id: connection.id,
      status: connection.status,
      vendor_external_id: connection.vendorExternalId ?? null,
      scenario: connection.scenario ?? null,
      instances: connection.instances.map((i) => ({ id: i.id, display: i.name })),
      usage: sim.usageOf(connection),
    };
  });

  app.use(router.routes());
  app.use(router.allowedMethods({ throw: true }));

  function completedWebhook(connection: Connection): Record<string, unknown> {
    return {
      type: 'connection_completed',
      system: connection.system,
      api_key: connection.apiKey,
      instances: connection.instances.map((i) => ({ id: i.id, display: i.name })),
      vendor_id: connection.vendorId,
      ...(connection.vendorExternalId === undefined ? {} : { vendor_external_id: connection.vendorExternalId }),
      connection_id: connection.id,
    };
  }

  function disconnectedWebhook(connection: Connection): Record<string, unknown> {
    return {
      type: 'connection_disconnected',
      system: connection.system,
      vendor_id: connection.vendorId,
      ...(connection.vendorExternalId === undefined ? {} : { vendor_external_id: connection.vendorExternalId }),
      connection_id: connection.id,
      reason: 'revoked',
    };
  }

  return {
    app,
    dispose: () => {
      webhooks?.close();
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    },
  };
}


export async function startLnkfiSandbox(options: LnkfiSandboxOptions = {}): Promise<LnkfiSandbox> {
  return startSandbox(createLnkfiSandboxApp(options), options);
}

