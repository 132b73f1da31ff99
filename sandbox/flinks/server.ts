import Router, { type RouterContext, type RouterMiddleware } from '@koa/router';
import Koa from 'koa';
import { z } from 'zod';
import { paramReader, transactionCounts, withParams } from '../shared/http';
import { PAGE_HEADERS } from '../shared/html';
import { type ErrorAnswers, errorMiddleware } from '../shared/errors';
import { type ListeningSandbox, listen } from '../shared/listen';
import { renderAccountsPage, renderErrorPage, renderLoginPage, renderMfaPage } from './connect-page';
import { INSTITUTIONS, findInstitution, flinksTimestamp } from './data';
import { FlinksError } from './errors';
import { formBody, jsonBody, validate } from './http';
import { SECURITY_QUESTION, TEST_PASSWORD } from './scenarios';
import { DISABLE_CODES, type DetailOptions, type DetailResult, FlinksSimulator, type ConnectSession, loginView } from './simulator';
import { webhookSender } from './webhook';

export interface FlinksSandboxOptions {
  port?: number;
  host?: string;
  /** The customer id in every API path (`/v3/{customerId}/…`); the Flinks toolbox's by default. */
  customerId?: string;
  /** Milliseconds since the epoch; every date the sandbox produces comes from it. */
  now?: () => number;
  /** How long `test_pending`'s data extraction takes, by the sandbox clock (default 60 s). */
  pendingMs?: number;
  /** How often (real time) the sandbox looks for extractions and refreshes that are due (default 50 ms). */
  tickMs?: number;
  /** Send each finished extraction to this URL, signed with `flinks-authenticity-key` (see README: Webhooks). */
  webhook?: { url: string; secret: string };
}

/** A running sandbox: `url` is e.g. `http://127.0.0.1:41234`; Flinks Connect is at `${url}/v2/`, the API at `${url}/v3/{customerId}/BankingServices/`. */
export type FlinksSandbox = ListeningSandbox;

/** The Flinks toolbox's customer id, as in Flinks' own examples. */
export const DEFAULT_CUSTOMER_ID = '43387ca6-0391-4c82-857d-70d95f087ecb';

// --- schemas ------------------------------------------------------------------

/** Flinks ids are .NET GUIDs: any 8-4-4-4-12 hex, not necessarily an RFC 4122 UUID. */
const guid = z.guid({ error: 'must be a GUID' });
const noQuery = z.strictObject({});
const flag = z.enum(['true', 'false']);

// Flinks Connect's URL parameters: the ones the sandbox acts on, and the layout ones it accepts and ignores.
const connectQuery = z.strictObject({
  redirectUrl: z.url({ protocol: /^https?$/, error: 'required (an http(s) URL)' }),
  institution: z.string().min(1).max(100).optional(),
  accountSelectorEnable: flag.optional(),
  demo: flag.optional(),
  consentEnable: flag.optional(),
  innerRedirect: flag.optional(),
  headerEnable: flag.optional(),
  institutionFilterEnable: flag.optional(),
  backEnable: flag.optional(),
  closeEnable: flag.optional(),
  staticLoadingEnable: flag.optional(),
  language: z.enum(['en', 'fr']).optional(),
  theme: z.string().max(50).optional(),
  customerName: z.string().max(100).optional(),
  daysOfTransactions: z.enum(['Days90', 'Days365']).optional(),
});

const sessionField = z.string({ error: 'required' }).min(1).max(64);
const loginForm = z.strictObject({
  session: sessionField,
  institution: z.string({ error: 'required' }).max(100),
  username: z.string({ error: 'required' }).max(200),
  password: z.string({ error: 'required' }).max(200),
});
const mfaForm = z.strictObject({ session: sessionField, answer: z.string({ error: 'required' }).max(200) });
const accountForm = z.strictObject({ session: sessionField, accountId: guid });

const authorizeBody = z.strictObject({
  LoginId: guid,
  MostRecentCached: z.literal(true, { error: 'must be true: the sandbox serves cached mode only (see README)' }),
  Save: z.boolean().optional(),
  Language: z.enum(['en', 'fr']).optional(),
  Tag: z.string().max(200).optional(),
});

const accountsDetailBody = z.strictObject({
  RequestId: guid,
  WithAccountIdentity: z.boolean().optional(),
  WithKYC: z.boolean().optional(),
  WithTransactions: z.boolean().optional(),
  WithBalance: z.boolean().optional(),
  DaysOfTransactions: z.enum(['Days90', 'Days365']).optional(),
  AccountsFilter: z.array(guid).min(1).max(100).optional(),
  MostRecentCached: z.boolean().optional(),
});

const disableBody = z.strictObject({ FlinksCode: z.enum(DISABLE_CODES).optional() });

const transactionCountQuery = z.strictObject({
  DaysOfTransactions: accountsDetailBody.shape.DaysOfTransactions,
  AccountsFilter: z.union([guid, z.array(guid).min(1).max(100)]).optional(),
});

// --- the app --------------------------------------------------------------------

const LINKS = [
  { rel: 'AccountsDetail', href: '/GetAccountsDetail', example: null },
  { rel: 'AccountsSummary', href: '/GetAccountsSummary', example: null },
  { rel: 'Statements', href: '/GetStatements', example: null },
];

const PENDING_LINKS = [{ rel: 'GetAccountsDetailAsync', href: '/GetAccountsDetailAsync', example: '/GetAccountsDetailAsync/{requestId}' }];

const param = paramReader((message) => new FlinksError(404, 'NOT_FOUND', message));

function pathGuid(ctx: RouterContext, name: string): string {
  const value = param(ctx, name);
  if (!guid.safeParse(value).success) throw new FlinksError(400, 'INVALID_REQUEST', `${name}: must be a GUID.`);
  return value;
}

function html(ctx: Koa.Context, status: number, body: string): void {
  ctx.status = status;
  ctx.type = 'html';
  ctx.set(PAGE_HEADERS);
  ctx.body = body;
}

/** Errors in Flinks' shape; Flinks Connect (`/v2…`) answers with an HTML error page. */
const ERRORS: ErrorAnswers<FlinksError> = {
  provider: 'flinks',
  type: FlinksError,
  create: (status, code, description) => new FlinksError(status, code, description),
  codes: { notFound: 'NOT_FOUND', methodNotAllowed: 'METHOD_NOT_ALLOWED', invalid: 'INVALID_REQUEST', internal: 'AGGREGATION_ERROR' },
  body: (error) => error.body(),
  page: { at: (path) => path === '/v2' || path.startsWith('/v2/'), render: renderErrorPage, headers: PAGE_HEADERS },
};

/** The RedirectUrl with Flinks' parameters added, as the reference shows: `?loginId=…&institution=…` (and `accountId`). */
const redirectBack = (session: ConnectSession, params: Record<string, string>): string => withParams(session.redirectUrl, params);

function detailOptions(body: z.output<typeof accountsDetailBody>): DetailOptions {
  return {
    withTransactions: body.WithTransactions ?? false,
    withBalance: body.WithBalance ?? true,
    withAccountIdentity: body.WithAccountIdentity ?? false,
    days: body.DaysOfTransactions === 'Days365' ? 365 : 90,
    accountsFilter: body.AccountsFilter,
  };
}

function answerDetail(ctx: Koa.Context, requestId: string, result: DetailResult): void {
  if (result.status === 'ready') {
    ctx.body = result.body;
    return;
  }
  ctx.status = 202;
  ctx.body = { HttpStatusCode: 202, FlinksCode: 'OPERATION_PENDING', Message: 'Your operation is still processing.', Links: PENDING_LINKS, RequestId: requestId };
}

export interface FlinksSandboxApp {
  app: Koa;
  /** Runs due extractions and refreshes (what the tick does). */
  advance(): void;
}

export function createFlinksSandboxApp(options: FlinksSandboxOptions = {}): FlinksSandboxApp {
  const customerId = (options.customerId ?? DEFAULT_CUSTOMER_ID).toLowerCase();
  const now = options.now ?? Date.now;
  const sim = new FlinksSimulator({
    now,
    pendingMs: options.pendingMs ?? 60_000,
    ...(options.webhook ? { onWebhook: webhookSender(options.webhook) } : {}),
  });

  const app = new Koa();
  const router = new Router();

  app.use(errorMiddleware(ERRORS));

  app.use(async (_ctx, next) => {
    sim.advance();
    await next();
  });

  /** The API answers the instance's customer only (the customer id is part of every path). */
  const customer: RouterMiddleware = async (ctx, next) => {
    if (param(ctx, 'customerId').toLowerCase() !== customerId) throw new FlinksError(404, 'NOT_FOUND', 'No Flinks instance has this customer id.');
    await next();
  };

  // --- Flinks Connect ---

  const connectPage: RouterMiddleware = (ctx) => {
    const query = validate(connectQuery, ctx.query, 'query');
    if (query.institution !== undefined && !findInstitution(query.institution)) {
      throw new FlinksError(400, 'INVALID_REQUEST', `institution: no institution "${query.institution}".`);
    }
    const session = sim.createConnectSession({
      redirectUrl: query.redirectUrl,
      institution: query.institution,
      accountSelector: query.accountSelectorEnable === 'true',
    });
    html(ctx, 200, renderLoginPage(session, INSTITUTIONS));
  };
  router.get('/v2', connectPage);
  router.get('/v2/', connectPage);

  /** Where a Connect session goes once a step is done: the next step's page, or back to the RedirectUrl. */
  function nextStep(ctx: Koa.Context, session: ConnectSession): void {
    if (session.step === 'mfa') return html(ctx, 200, renderMfaPage(session, SECURITY_QUESTION.question));
    if (session.step === 'accounts') return html(ctx, 200, renderAccountsPage(session, sim.selectableAccounts(session)));
    finish(ctx, session, undefined);
  }

  function finish(ctx: Koa.Context, session: ConnectSession, accountId: string | undefined): void {
    const login = sim.finishConnect(session, accountId);
    ctx.status = 303;
    ctx.redirect(redirectBack(session, { loginId: login.id, institution: login.institution, ...(accountId ? { accountId } : {}) }));
  }

  router.post('/v2/login', async (ctx) => {
    validate(noQuery, ctx.query, 'query');
    const form = validate(loginForm, await formBody(ctx), 'body');
    const session = sim.connectSession(form.session, 'login');
    const institution = findInstitution(form.institution);
    if (!institution || (session.institution !== undefined && session.institution !== institution.id)) {
      throw new FlinksError(400, 'INVALID_REQUEST', `institution: "${form.institution}" is not offered here.`);
    }
    if (form.username === '' || form.password === '') return html(ctx, 400, renderLoginPage(session, INSTITUTIONS, 'Enter your username and password.'));
    if (form.password !== TEST_PASSWORD) {
      return html(ctx, 401, renderLoginPage(session, INSTITUTIONS, 'INVALID_LOGIN: the username or password is incorrect.'));
    }
    sim.authenticate(session, institution.id, form.username);
    nextStep(ctx, session);
  });

  router.post('/v2/mfa', async (ctx) => {
    validate(noQuery, ctx.query, 'query');
    const form = validate(mfaForm, await formBody(ctx), 'body');
    const session = sim.connectSession(form.session, 'mfa');
    if (form.answer.trim().toLowerCase() !== SECURITY_QUESTION.answer.toLowerCase()) {
      return html(ctx, 401, renderMfaPage(session, SECURITY_QUESTION.question, 'INVALID_SECURITY_RESPONSE: that answer is incorrect.'));
    }
    sim.passMfa(session);
    nextStep(ctx, session);
  });

  router.post('/v2/accounts', async (ctx) => {
    validate(noQuery, ctx.query, 'query');
    const form = validate(accountForm, await formBody(ctx), 'body');
    const session = sim.connectSession(form.session, 'accounts');
    const accounts = sim.selectableAccounts(session);
    if (!accounts.some((a) => a.Id === form.accountId)) return html(ctx, 400, renderAccountsPage(session, accounts, 'Choose one of these accounts.'));
    finish(ctx, session, form.accountId);
  });

  // --- the API ---

  const api = '/v3/:customerId/BankingServices';

  router.post(`${api}/Authorize`, customer, async (ctx) => {
    validate(noQuery, ctx.query, 'query');
    const body = validate(authorizeBody, await jsonBody(ctx), 'body');
    const { requestId, login } = sim.authorize(body.LoginId);
    ctx.body = { Links: LINKS, HttpStatusCode: 200, Login: loginView(login), Institution: login.institution, RequestId: requestId };
  });

  router.post(`${api}/GetAccountsDetail`, customer, async (ctx) => {
    validate(noQuery, ctx.query, 'query');
    const body = validate(accountsDetailBody, await jsonBody(ctx), 'body');
    answerDetail(ctx, body.RequestId, sim.accountsDetail(body.RequestId, detailOptions(body)));
  });

  router.get(`${api}/GetAccountsDetailAsync/:requestId`, customer, (ctx) => {
    validate(noQuery, ctx.query, 'query');
    const requestId = pathGuid(ctx, 'requestId');
    answerDetail(ctx, requestId, sim.accountsDetailAsync(requestId));
  });

  router.delete(`${api}/DeleteCard/:loginId`, customer, (ctx) => {
    validate(noQuery, ctx.query, 'query');
    const loginId = pathGuid(ctx, 'loginId');
    sim.deleteLogin(loginId);
    ctx.body = { HttpStatusCode: 200, Message: `All of the information about LoginId ${loginId} has been removed.` };
  });

  // --- sandbox-only controls, without the customer id so that tests can drive them ---

  router.get('/sandbox/logins/:loginId', (ctx) => {
    validate(noQuery, ctx.query, 'query');
    const login = sim.login(pathGuid(ctx, 'loginId'));
    ctx.body = {
      Login: loginView(login),
      Institution: login.institution,
      Disabled: login.disabled,
      NextRefresh: flinksTimestamp(login.nextRefreshAt),
      Requests: login.requests,
    };
  });

  /**
   * Ground truth for tests in another process: `GET /sandbox/logins/{LoginId}/transaction-count`
   * → `200 {"accounts": {"<account Id>": <count>, …}, "total": <sum>}`: how many transactions
   * `/GetAccountsDetail` with `WithTransactions: true` would list for each account now, with the
   * same optional `DaysOfTransactions` (`Days90`, Flinks' default, or `Days365`: Linkflow asks
   * for `Days365`) and `AccountsFilter` (one or more account Ids, repeated) as query parameters.
   * `{"accounts": {}, "total": 0}` while the first extraction runs; `404 INVALID_LOGIN` for an
   * unknown LoginId.
   */
  router.get('/sandbox/logins/:loginId/transaction-count', (ctx) => {
    const query = validate(transactionCountQuery, ctx.query, 'query');
    const filter = query.AccountsFilter === undefined ? undefined : [query.AccountsFilter].flat();
    ctx.body = transactionCounts(sim.transactionCounts(pathGuid(ctx, 'loginId'), query.DaysOfTransactions === 'Days365' ? 365 : 90, filter));
  });

  router.post('/sandbox/logins/:loginId/disable', async (ctx) => {
    validate(noQuery, ctx.query, 'query');
    const loginId = pathGuid(ctx, 'loginId');
    const body = validate(disableBody, await jsonBody(ctx), 'body');
    sim.disable(loginId, body.FlinksCode ?? 'DISABLED_LOGIN');
    ctx.status = 204;
  });

  app.use(router.routes());
  app.use(router.allowedMethods({ throw: true }));

  return { app, advance: () => sim.advance() };
}

export async function startFlinksSandbox(options: FlinksSandboxOptions = {}): Promise<FlinksSandbox> {
  const { app, advance } = createFlinksSandboxApp(options);
  let tick: NodeJS.Timeout | undefined = undefined;
  const dispose = (): void => clearInterval(tick);
  const sandbox = await listen(app, options, dispose);
  tick = setInterval(advance, options.tickMs ?? 50);
  tick.unref();
  return sandbox;
}
