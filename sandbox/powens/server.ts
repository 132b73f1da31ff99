import Koa from 'koa';
import Router, { type RouterMiddleware } from '@koa/router';
import { transactionCounts, withParams } from '../shared/http';
import { type ErrorAnswers, errorMiddleware } from '../shared/errors';
import { type ListeningSandbox, startSandbox } from '../shared/listen';
import { type Connector, type ConnectorSource, CONNECTORS, connectorResource, fieldsOf, findConnector, usableSources } from './connectors';
import { PowensApiError, invalidValue, notFound, unauthorized } from './errors';
import { param, requestBody, validate } from './http';
import { type FieldKey, generateFieldKey } from './keys';
import { OTP_FIELD } from './scenarios';
import {
  noQuery, connectorsQuery, initBody, accessBody, codeQuery, expandQuery, connectionPostQuery, createBody,
  updateBody, allQuery, transactionsQuery, accountPatch, nextSyncBody, connectQuery, reconnectQuery,
  webviewForm,
} from './schemas';
import { type Connection, PowensSimulator, type WebviewSession } from './simulator';
import { WEBVIEW_HEADERS, renderErrorPage, renderWebviewPage, webviewSessionHeaders } from './webview';

export interface PowensSandboxOptions {
  port?: number;
  host?: string;
  clientId?: string;
  clientSecret?: string;
  /** Milliseconds since the epoch; every date the sandbox produces comes from it. */
  now?: () => number;
  /** How long `user_decoupled` takes to confirm in the bank's app (default 200 ms, real time). */
  decoupledDelayMs?: number;
  /** How long a webview code from /auth/token/code lives (default 30 minutes, as Powens' `expires_in` says). */
  codeLifetimeSeconds?: number;
}

/** A running sandbox: `url` is e.g. `http://127.0.0.1:41234`: the API under `/2.0`, the webview at `/connect` and `/reconnect`. */
export type PowensSandbox = ListeningSandbox;

export interface PowensSandboxApp {
  app: Koa;
  /** Cancels pending decoupled confirmations. */
  dispose(): void;
}

// --- helpers -----------------------------------------------------------------

/** A source the API may create or update with credentials (webauth ones go through the webview). */
function credentialsSource(connector: Connector, name: string | undefined): ConnectorSource {
  const source = name === undefined ? usableSources(connector)[0] : connector.sources.find((candidate) => candidate.name === name);
  if (!source) throw invalidValue(`source: connector ${connector.id} has no source "${name ?? ''}".`);
  if (source.disabled !== null) throw invalidValue(`source: "${source.name}" is disabled.`);
  if (source.auth_mechanism !== 'credentials') throw invalidValue(`source: "${source.name}" uses webauth: open the webview.`);
  return source;
}

/** The webauth source a webview session is about: the one named, else the first one of `candidates`. */
function webauthSource(connector: Connector, name: string | undefined, candidates: ConnectorSource[]): ConnectorSource {
  const source = name === undefined ? candidates[0] : connector.sources.find((candidate) => candidate.name === name);
  if (!source) throw invalidValue(name === undefined ? 'source: no webauth source to authorize.' : `source: connector ${connector.id} has no source "${name}".`);
  if (source.disabled !== null) throw invalidValue(`source: "${source.name}" is disabled.`);
  if (source.auth_mechanism !== 'webauth') throw invalidValue(`source: "${source.name}" uses credentials: post them to the API.`);
  return source;
}

function compile(regex: string): RegExp | null {
  try {
    // Without the `u` flag, as patterns written for other engines need.
    return new RegExp(regex);
  } catch {
    return null;
  }
}

const redirectBack = (session: WebviewSession, params: Record<string, string>): string =>
  withParams(session.redirectUri, { ...params, state: session.state });

const isWebviewPath = (path: string): boolean => path === '/connect' || path === '/reconnect' || path.startsWith('/webview/');

/** Errors as Powens answers them; the webview's pages answer with an HTML error page. */
const ERRORS: ErrorAnswers<PowensApiError> = {
  provider: 'powens',
  type: PowensApiError,
  create: (status, code, description) => new PowensApiError(status, code, description),
  codes: { notFound: 'notFound', methodNotAllowed: 'methodNotAllowed', invalid: 'invalidValue', internal: 'bug' },
  body: (error) => ({ code: error.code, message: error.description, ...(error.detail ? { description: error.detail } : {}) }),
  page: { at: isWebviewPath, render: renderErrorPage, headers: WEBVIEW_HEADERS },
};

// --- the app -------------------------------------------------------------------

export async function createPowensSandboxApp(options: PowensSandboxOptions = {}): Promise<PowensSandboxApp> {
  const clientId = options.clientId ?? 'linkflow-sandbox';
  const clientSecret = options.clientSecret ?? 'sandbox-secret';
  const sim = new PowensSimulator({ now: options.now ?? Date.now, decoupledDelayMs: options.decoupledDelayMs ?? 200,
    ...(options.codeLifetimeSeconds === undefined ? {} : { codeLifetimeSeconds: options.codeLifetimeSeconds }),
  });
  const key: FieldKey = await generateFieldKey();

  const app = new Koa();
  const router = new Router();

  app.use(errorMiddleware(ERRORS));

  /** The user a request's bearer token stands for. */
  function requireUser(ctx: Koa.Context): number {
    const bearer = /^Bearer\s+(\S+)$/i.exec(ctx.get('authorization'));
    if (!bearer?.[1]) throw unauthorized('Missing user access token (authorization: Bearer …).');
    const userId = sim.userOf(bearer[1]);
    if (userId === undefined) throw unauthorized('Unknown or expired access token.');
    return userId;
  }

  function checkClient(id: string | undefined, secret: string | undefined): void {
    if ((id !== undefined && id !== clientId) || (secret !== undefined && secret !== clientSecret)) {
      throw unauthorized('Unknown client or wrong client secret.');
    }
  }

  /** Decrypts and checks form values for a source; a required field may be left out when the connection holds it. */
  async function readFields(connector: Connector, source: ConnectorSource, given: Record<string, string>, held: ReadonlyMap<string, string>) {
    const fields = new Map(fieldsOf(connector, source.name).map((field) => [field.name, field]));
    const unknown = Object.keys(given).filter((name) => !fields.has(name));
    if (unknown.length > 0) throw invalidValue(`${unknown.join(', ')}: not a field of source "${source.name}" (expected ${[...fields.keys()].join(', ')}).`);
    const values = new Map<string, string>();
    for (const [name, armored] of Object.entries(given)) {
      const field = fields.get(name);
      const value = await key.decrypt(armored);
      if (value === undefined) throw invalidValue(`${name}: not a PGP message encrypted with the key of GET /2.0/publickey.`);
      const pattern = field?.regex ? compile(field.regex) : null;
      if (pattern && !pattern.test(value)) throw invalidValue(`${name}: does not match ${field?.regex ?? ''}.`);
      if (field?.values && !field.values.some((option) => option.value === value)) throw invalidValue(`${name}: not one of the field's values.`);
      values.set(name, value);
    }
    const missing = [...fields.values()].filter((field) => field.required && !values.has(field.name) && !held.has(field.name));
    if (missing.length > 0) throw invalidValue(`${missing.map((field) => field.name).join(', ')}: required.`);
    return values;
  }

  /** The answer to `additionalInformationNeeded`: exactly the fields it asked for, encrypted. */
  async function readAnswer(given: Record<string, string>): Promise<Map<string, string>> {
    const names = Object.keys(given);
    if (names.length !== 1 || names[0] !== OTP_FIELD.name) throw invalidValue(`${names.join(', ')}: the connection asks for ${OTP_FIELD.name}.`);
    const value = await key.decrypt(given[OTP_FIELD.name] as string);
    if (value === undefined) throw invalidValue(`${OTP_FIELD.name}: not a PGP message encrypted with the key of GET /2.0/publickey.`);
    if (!new RegExp(OTP_FIELD.regex).test(value)) throw invalidValue(`${OTP_FIELD.name}: does not match ${OTP_FIELD.regex}.`);
    return new Map([[OTP_FIELD.name, value]]);
  }

  const connectionResponse = (ctx: Koa.Context, connection: Connection, expand: ReadonlySet<string>, status = 200): void => {
    ctx.status = status;
    ctx.body = sim.connectionResource(connection, expand);
  };

  // Public resources

  router.get('/2.0/publickey', (ctx) => {
    validate(noQuery, ctx.query, 'query');
    ctx.body = { type: 'PGP', fingerprint: key.fingerprint, public_key: key.publicKeyArmored };
  });

  router.get('/2.0/connectors', (ctx) => {
    const { expand } = validate(connectorsQuery, ctx.query, 'query');
    ctx.body = { connectors: CONNECTORS.map((connector) => connectorResource(connector, expand)) };
  });

  router.get('/2.0/connectors/:id', (ctx) => {
    const { expand } = validate(connectorsQuery, ctx.query, 'query');
    const connector = findConnector(param(ctx, 'id'));
    if (!connector) throw notFound(`No connector ${param(ctx, 'id')}.`);
    ctx.body = connectorResource(connector, expand);
  });

  // Authentication

  router.post('/2.0/auth/init', async (ctx) => {
    validate(noQuery, ctx.query, 'query');
    const body = validate(initBody, await requestBody(ctx), 'body');
    if (body.client_secret !== undefined && body.client_id === undefined) throw invalidValue('client_id: required with client_secret.');
    checkClient(body.client_id, body.client_secret);
    ctx.set('cache-control', 'no-store');
    ctx.body = sim.createUser(body.client_secret === undefined ? 'temporary' : 'permanent');
  });

  router.post('/2.0/auth/token/access', async (ctx) => {
    validate(noQuery, ctx.query, 'query');
    const body = validate(accessBody, await requestBody(ctx), 'body');
    checkClient(body.client_id, body.client_secret);
    const token = sim.exchange(body.code);
    if (token === undefined) throw invalidValue('code: unknown, used or expired.');
    ctx.set('cache-control', 'no-store');
    ctx.body = { access_token: token, token_type: 'Bearer' };
  });

  router.get('/2.0/auth/token/code', (ctx) => {
    const { type } = validate(codeQuery, ctx.query, 'query');
    const userId = requireUser(ctx);
    ctx.set('cache-control', 'no-store');
    ctx.body = sim.issueCode(userId, type === 'singleAccess' ? 'single' : 'standard');
  });

  router.delete('/2.0/users/me', (ctx) => {
    validate(noQuery, ctx.query, 'query');
    sim.deleteUser(requireUser(ctx));
    ctx.status = 204;
  });

  // Connections

  router.get('/2.0/users/me/connections', (ctx) => {
    const { expand } = validate(expandQuery, ctx.query, 'query');
    ctx.body = { connections: sim.connectionsOf(requireUser(ctx)).map((connection) => sim.connectionResource(connection, expand)) };
  });

  router.post('/2.0/users/me/connections', async (ctx) => {
    const query = validate(connectionPostQuery, ctx.query, 'query');
    const userId = requireUser(ctx);
    const { id_connector, connector_uuid, source: bodySource, ...given } = validate(createBody, await requestBody(ctx), 'body');
    if ((id_connector === undefined) === (connector_uuid === undefined)) throw invalidValue('id_connector: give id_connector or connector_uuid.');
    if (query.source !== undefined && bodySource !== undefined && query.source !== bodySource) throw invalidValue('source: differs between query and body.');
    const connector = findConnector(String(id_connector ?? connector_uuid));
    if (!connector) throw invalidValue(`id_connector: no connector ${id_connector ?? connector_uuid ?? ''}.`);
    const source = credentialsSource(connector, query.source ?? bodySource);
    const values = await readFields(connector, source, given, new Map());
    // Refused credentials create nothing (the reference: such connections are deleted at once).
    sim.checkPassword(connector, source, values);
    connectionResponse(ctx, sim.createConnection(userId, connector, source, values), query.expand, 201);
  });

  router.get('/2.0/users/me/connections/:id', (ctx) => {
    const { expand } = validate(expandQuery, ctx.query, 'query');
    connectionResponse(ctx, sim.connectionOf(requireUser(ctx), param(ctx, 'id')), expand);
  });

  // Answers additional information, or adds or updates a credentials source (`?source=`); empty, it syncs.
  router.post('/2.0/users/me/connections/:id', async (ctx) => {
    const query = validate(connectionPostQuery, ctx.query, 'query');
    const connection = sim.connectionOf(requireUser(ctx), param(ctx, 'id'));
    const { source: bodySource, ...given } = validate(updateBody, await requestBody(ctx), 'body');
    if (query.source !== undefined && bodySource !== undefined && query.source !== bodySource) throw invalidValue('source: differs between query and body.');
    const name = query.source ?? bodySource;
    const pending = sim.pendingAnswer(connection);
    if (name !== undefined) {
      const source = credentialsSource(connection.connector, name);
      const values = await readFields(connection.connector, source, given, connection.values);
      sim.checkPassword(connection.connector, source, new Map([...connection.values, ...values]));
      sim.putCredentials(connection, source, values);
    } else if (Object.keys(given).length === 0) {
      sim.sync(connection);
    } else if (pending) {
      sim.answer(connection, pending, await readAnswer(given));
    } else {
      throw invalidValue('source: required to give credentials (no source waits for additional information).');
    }
    connectionResponse(ctx, connection, query.expand);
  });

  router.put('/2.0/users/me/connections/:id', async (ctx) => {
    const { expand } = validate(expandQuery, ctx.query, 'query');
    const connection = sim.connectionOf(requireUser(ctx), param(ctx, 'id'));
    validate(noQuery, await requestBody(ctx), 'body');
    sim.sync(connection);
    connectionResponse(ctx, connection, expand);
  });

  router.delete('/2.0/users/me/connections/:id', (ctx) => {
    validate(noQuery, ctx.query, 'query');
    sim.deleteConnection(sim.connectionOf(requireUser(ctx), param(ctx, 'id')));
    ctx.status = 204;
  });

  // Accounts and transactions

  const accountsBody = (accounts: ReturnType<PowensSimulator['accountsOf']>) => {
    const resources = accounts.map((account) => sim.accountResource(account));
    const total = accounts.reduce((sum, account) => sum + account.generated.balance, 0);
    return { accounts: resources, balances: { EUR: Math.round(total * 100) / 100 }, total: resources.length };
  };

  router.get('/2.0/users/me/connections/:id/accounts', (ctx) => {
    const { all } = validate(allQuery, ctx.query, 'query');
    const userId = requireUser(ctx);
    const connection = sim.connectionOf(userId, param(ctx, 'id'));
    ctx.body = accountsBody(sim.accountsOf({ userId, connectionId: connection.id }, all));
  });

  router.get('/2.0/users/me/accounts', (ctx) => {
    const { all } = validate(allQuery, ctx.query, 'query');
    ctx.body = accountsBody(sim.accountsOf({ userId: requireUser(ctx) }, all));
  });

  router.get('/2.0/users/me/accounts/:id', (ctx) => {
    const { all } = validate(allQuery, ctx.query, 'query');
    ctx.body = sim.accountResource(sim.account(requireUser(ctx), param(ctx, 'id'), all));
  });

  const updateAccount: RouterMiddleware = async (ctx) => {
    const { all } = validate(allQuery, ctx.query, 'query');
    const account = sim.account(requireUser(ctx), param(ctx, 'id'), all);
    sim.updateAccount(account, validate(accountPatch, await requestBody(ctx), 'body'));
    ctx.body = sim.accountResource(account);
  };
  router.put('/2.0/users/me/accounts/:id', updateAccount);
  router.post('/2.0/users/me/accounts/:id', updateAccount);

  router.get('/2.0/users/me/accounts/:id/transactions', (ctx) => {
    const query = validate(transactionsQuery, ctx.query, 'query');
    const account = sim.account(requireUser(ctx), param(ctx, 'id'), query.all);
    const { items, total } = sim.transactions(account, query.limit ?? 50, query.offset ?? 0, query.min_date);
    const dates = items.map((item) => String(item.date));
    ctx.body = {
      transactions: items,
      total,
      result_min_date: dates.at(-1) ?? null,
      result_max_date: dates[0] ?? null,
    };
  });

  // The webview

  function showSession(ctx: Koa.Context, session: WebviewSession): void {
    ctx.set(webviewSessionHeaders(session));
    ctx.type = 'html';
    ctx.body = renderWebviewPage(session);
  }

  function webviewUser(clientIdGiven: string, code: string): number {
    if (clientIdGiven !== clientId) throw invalidValue('client_id: unknown client.');
    const userId = sim.redeemCode(code);
    if (userId === undefined) throw invalidValue('code: unknown or expired; get a new one from GET /2.0/auth/token/code.');
    return userId;
  }

  router.get('/connect', (ctx) => {
    const query = validate(connectQuery, ctx.query, 'query');
    const userId = webviewUser(query.client_id, query.code);
    const ids = (query.connector_ids ?? query.connector_uuids ?? '').split(',');
    if (ids.length !== 1) throw invalidValue('connector_ids: the sandbox webview takes exactly one connector.');
    const connector = findConnector(ids[0] as string);
    if (!connector) throw invalidValue(`connector_ids: no connector ${ids[0] ?? ''}.`);
    const source = webauthSource(connector, query.source, usableSources(connector).slice(0, 1));
    showSession(ctx, sim.createSession({ userId, connector, source, connectionId: null, redirectUri: query.redirect_uri, state: query.state }));
  });

  router.get('/reconnect', (ctx) => {
    const query = validate(reconnectQuery, ctx.query, 'query');
    const userId = webviewUser(query.client_id, query.code);
    const connection = sim.connectionOf(userId, query.connection_id);
    const { connector } = connection;
    const onConnection = connection.sources.map((source) => source.definition).filter((source) => source.auth_mechanism === 'webauth');
    const source = webauthSource(connector, query.source, onConnection);
    showSession(ctx, sim.createSession({ userId, connector, source, connectionId: connection.id, redirectUri: query.redirect_uri, state: query.state }));
  });

  router.post('/webview/authorize', async (ctx) => {
    validate(noQuery, ctx.query, 'query');
    const form = validate(webviewForm, await requestBody(ctx), 'body');
    const session = sim.usableSession(form.session);
    if (form.decision === 'deny') {
      sim.deny(session);
      ctx.status = 303;
      ctx.redirect(redirectBack(session, { error: 'access_denied', error_description: 'The user denied access.' }));
      return;
    }
    if (!form.username) {
      ctx.set(webviewSessionHeaders(session));
      ctx.status = 400;
      ctx.type = 'html';
      ctx.body = renderWebviewPage(session, 'Enter your user name at the bank.');
      return;
    }
    const connection = sim.approve(session, form.username);
    ctx.status = 303;
    ctx.redirect(redirectBack(session, { connection_id: String(connection.id) }));
  });

  // Sandbox-only scenario controls, deliberately without a token so that tests can drive them.

  router.post('/sandbox/connections/:id/next-sync', async (ctx) => {
    validate(noQuery, ctx.query, 'query');
    const { state } = validate(nextSyncBody, await requestBody(ctx), 'body');
    sim.setNextSync(sim.anyConnection(param(ctx, 'id')), state);
    ctx.status = 204;
  });

  /**
   * Ground truth for tests in another process: `GET /sandbox/connections/{id}/transaction-count`
   * → `200 {"accounts": {"<account id>": <count>, …}, "total": <sum>}` for the connection's
   * accounts as `GET /users/me/connections/{id}/accounts` lists them (enabled ones; disabled ones
   * too with `?all`). Each count is the `total` that `GET /users/me/accounts/{id}/transactions`
   * answers now without `min_date` (`coming` ones included, as Powens serves them), from the same
   * function. `404 notFound` for an unknown connection.
   */
  router.get('/sandbox/connections/:id/transaction-count', (ctx) => {
    const { all } = validate(allQuery, ctx.query, 'query');
    const connection = sim.anyConnection(param(ctx, 'id'));
    const accounts = sim.accountsOf({ userId: connection.userId, connectionId: connection.id }, all);
    ctx.body = transactionCounts(accounts.map((account) => [String(account.generated.id), sim.transactions(account, 0, 0).total] as const));
  });

  router.post('/sandbox/connections/:id/revoke', async (ctx) => {
    validate(noQuery, ctx.query, 'query');
    validate(noQuery, await requestBody(ctx), 'body');
    sim.revoke(sim.anyConnection(param(ctx, 'id')));
    ctx.status = 204;
  });

  app.use(router.routes());
  app.use(router.allowedMethods({ throw: true }));

  return { app, dispose: () => sim.dispose() };
}

export async function startPowensSandbox(options: PowensSandboxOptions = {}): Promise<PowensSandbox> {
  return startSandbox(createPowensSandboxApp(options), options);
}
