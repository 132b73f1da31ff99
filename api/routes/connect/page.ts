import { createReadStream } from 'node:fs';
import { dirname, join } from 'node:path';
import { timingSafeEqual } from 'node:crypto';
import Router from '@koa/router';
import type { Client } from '@temporalio/client';
import type { Context } from 'koa';
import type { Logger } from '../../../logger';
import {
  type ConnectionView,
  type ProviderName,
  ProviderSchema,
  answerChallengeUpdate,
  giveConsentUpdate,
  submitCredentialsUpdate,
} from '../../../contract/messages';
import type { StateSigner } from '../../../domain/redirect-state';
import type { ConnectSession, ConnectSessions, ConnectSettings } from '../../../store/connect-sessions';
import { ApiError } from '../../errors';
import { connectionHandle, readConnection, runUpdate } from '../../temporal';
import { encryptedChallengeAnswers } from '../connections/challenge';
import { CredentialsSchema } from '../connections/schema';
import type { ConnectionStarter } from '../connections/start';
import { PAGE_ERRORS, type PageError, messagesFor } from './i18n';
import { type ChoosableInstitution, type PageContext, sessionProblem, unavailablePage } from './render';
import { CONNECT_LOCALES, type ConnectLocale } from './schema';
import { startChosen } from './sessions';
import { canRestart, clientReturnUrl, pendingTerms, renderStep, stepOf } from './steps';

/** The institutions the chooser lists (the catalogue across the configured providers). */
export interface InstitutionSource {
  list(filter: { provider?: ProviderName; q?: string }): Promise<ChoosableInstitution[]>;
}

export interface ConnectPageDeps {
  client: Client;
  sessions: ConnectSessions;
  starter: ConnectionStarter;
  /** Signs the page's CSRF tokens (the redirect-state secret). */
  stateSigner: StateSigner;
  /** Linkflow's credentials public key (armored): the browser encrypts each credential with it. */
  credentialsPublicKey: string;
  institutions: InstitutionSource;
  /** A fresh provider URL for the connection's current redirect, minted when the end user follows it. */
  freshAuthorizationUrl(connectionId: string): Promise<string>;
  /** Public base URL of this API, as browsers reach it (its origin is the only one a form may come from). */
  publicUrl: string;
  logger?: Logger;
}

/** How long the page waits for the connection's state before saying it is unavailable. */
const READ_DEADLINE_MS = 10_000;
const SESSION_ID = /^cs_[0-9a-f]{32}$/;
const SECRET = /^[A-Za-z0-9_-]{43}$/;
const cookieName = (sessionId: string) => `lfc_${sessionId}`;
const ASSETS: Record<string, { file: string; type: string }> = {
  'connect.js': { file: join(__dirname, 'assets', 'connect.js'), type: 'text/javascript; charset=utf-8' },
  'connect.css': { file: join(__dirname, 'assets', 'connect.css'), type: 'text/css; charset=utf-8' },
  // openpgp's browser build, from the package itself: no CDN, no third-party origin.
  // (the package exports it only under the `browser` condition: found next to its Node build).
  'openpgp.min.mjs': { file: join(dirname(require.resolve('openpgp')), '..', 'openpgp.min.mjs'), type: 'text/javascript; charset=utf-8' },
};

/** The page's language: the session's, else the browser's Accept-Language, else English. */
const localeOf = (ctx: Context, session: ConnectSession | null): ConnectLocale =>
  (session?.locale as ConnectLocale | null) ?? ((ctx.acceptsLanguages([...CONNECT_LOCALES]) || 'en') as ConnectLocale);

/** The origin of a Referer header; '' when there is none or it is not a URL (a malformed one refuses the form, never throws). */
const originOf = (referer: string): string => (referer && URL.canParse(referer) ? new URL(referer).origin : '');

/**
 * Security headers of every Connect response: a CSP with no third-party origin (scripts, styles,
 * fetches and form targets from this origin only), framing only by the tenant's origins, no
 * Referer to the bank, nothing cached.
 */
function secure(ctx: Context, settings: ConnectSettings | null): void {
  const ancestors = settings && settings.frameAncestors.length > 0 ? settings.frameAncestors.join(' ') : "'none'";
  ctx.set(
    'content-security-policy',
    `default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors ${ancestors}`,
  );
  // No Referer to other origins (the session id is in the path); same-origin posts keep their Origin.
  ctx.set('referrer-policy', 'same-origin');
  ctx.set('x-content-type-options', 'nosniff');
  ctx.set('cache-control', 'no-store');
}

/**
 * Linkflow Connect, the hosted page. `GET /connect/t/:token` spends the session's single-use token
 * and binds the session to this browser (an HttpOnly, SameSite=Lax cookie holding a random secret);
 * `/connect/s/:session` then shows whatever the connection needs next and drives it through the
 * same workflow updates as the API. Every POST carries the session's CSRF token and comes from
 * this origin. See README, "The first connection".
 */
export function connectPageRoutes(deps: ConnectPageDeps): Router {
  const router = new Router({ prefix: '/connect', sensitive: true });
  const origin = new URL(deps.publicUrl).origin;
  const csrfOf = (session: ConnectSession, secret: string) => deps.stateSigner.tag('connect-csrf', `${session.id}:${secret}`);

  router.get('/assets/:name', (ctx) => {
    const asset = Object.hasOwn(ASSETS, ctx.params.name ?? '') ? ASSETS[ctx.params.name!] : undefined;
    if (!asset) throw new ApiError(404, 'not_found', 'asset not found');
    secure(ctx, null);
    ctx.set('cache-control', 'public, max-age=300');
    ctx.type = asset.type;
    ctx.body = createReadStream(asset.file);
  });

  // HEAD is safe (RFC 9110): a mail scanner's or a link preview's HEAD neither spends a token nor mints a bank URL.
  router.head(['/t/:token', '/s/:session/bank'], (ctx) => {
    secure(ctx, null);
    ctx.status = 204;
  });

  router.get('/t/:token', async (ctx) => {
    const opened = await deps.sessions.open(ctx.params.token ?? '');
    if ('failure' in opened) {
      secure(ctx, null);
      ctx.status = opened.failure === 'unknown' ? 404 : 410;
      ctx.type = 'html';
      ctx.body = sessionProblem({ locale: localeOf(ctx, null), m: messagesFor(localeOf(ctx, null)) }, opened.failure);
      return;
    }
    const { session, browserSecret } = opened;
    secure(ctx, await deps.sessions.settings(session.tenantId));
    ctx.cookies.set(cookieName(session.id), browserSecret, {
      httpOnly: true,
      sameSite: 'lax',
      secure: ctx.secure,
      path: '/',
      expires: new Date(session.expiresAt),
      signed: false,
    });
    ctx.status = 303;
    ctx.redirect(`/connect/s/${session.id}`);
  });

  /** The session this browser opened, with its settings and connection; else a page saying why not. */
  async function load(ctx: Context): Promise<{ session: ConnectSession; settings: ConnectSettings; secret: string; view: ConnectionView | null } | null> {
    const id = ctx.params.session ?? '';
    const secret = SESSION_ID.test(id) ? (ctx.cookies.get(cookieName(id)) ?? '') : '';
    const session = SECRET.test(secret) ? await deps.sessions.forBrowser(id, secret) : null;
    if (!session) {
      secure(ctx, null);
      ctx.status = 403;
      ctx.type = 'html';
      ctx.body = sessionProblem({ locale: localeOf(ctx, null), m: messagesFor(localeOf(ctx, null)) }, 'gone');
      return null;
    }
    const settings = await deps.sessions.settings(session.tenantId);
    secure(ctx, settings);
    let view: ConnectionView | null = null;
    if (session.connectionId) {
      const { handle } = connectionHandle(deps.client, session.connectionId);
      try {
        view = await deps.client.withDeadline(Date.now() + READ_DEADLINE_MS, () => readConnection(handle));
      } catch (err) {
        // Temporal or the connection's worker does not answer (a deploy, a crash): a page saying so, not a JSON 5xx.
        const locale = localeOf(ctx, session);
        ctx.status = 503;
        ctx.set('retry-after', '5');
        ctx.type = 'html';
        ctx.body = unavailablePage({ locale, m: messagesFor(locale) });
        deps.logger?.warn('connect page: connection unreadable', { session: session.id, error: String(err) });
        return null;
      }
    }
    // Bound at creation to a connection of the session's tenant; checked again all the same.
    if (view && view.tenant_id !== session.tenantId) throw new ApiError(404, 'not_found', 'connection not found');
    return { session, settings, secret, view };
  }

  /** Form posts: this origin only (Origin, else Referer), with the session's CSRF token. */
  function checkForm(ctx: Context, session: ConnectSession, secret: string): Record<string, string | string[]> | null {
    const from = ctx.get('origin') || originOf(ctx.get('referer'));
    const site = ctx.get('sec-fetch-site');
    const body = (ctx.request.body ?? {}) as Record<string, string | string[]>;
    const given = Buffer.from(typeof body.csrf === 'string' ? body.csrf : '');
    const expected = Buffer.from(csrfOf(session, secret));
    const ok = from === origin && (site === '' || site === 'same-origin') && given.length === expected.length && timingSafeEqual(given, expected);
    if (!ok) {
      ctx.status = 403;
      ctx.type = 'html';
      ctx.body = sessionProblem({ locale: localeOf(ctx, session), m: messagesFor(localeOf(ctx, session)) }, 'gone');
      return null;
    }
    return body;
  }

  /** Back to the page (POST, then GET), with an error the page knows how to say, and the fields it names. */
  function back(ctx: Context, session: ConnectSession, error?: PageError, fields: string[] = []): void {
    const url = new URL(`/connect/s/${session.id}`, origin);
    if (error) url.searchParams.set('error', error);
    if (fields.length > 0) url.searchParams.set('fields', fields.slice(0, 20).join(','));
    ctx.status = 303;
    ctx.redirect(url.pathname + url.search);
  }

  /** An update's refusal as the page's error: known API errors become page errors; anything else is thrown. */
  async function attempt(ctx: Context, session: ConnectSession, run: () => Promise<unknown>): Promise<void> {
    try {
      await run();
      back(ctx, session);
    } catch (err) {
      if (!(err instanceof ApiError) || err.status >= 500) throw err;
      const code = (PAGE_ERRORS as readonly string[]).includes(err.code) ? (err.code as PageError) : err.code === 'validation_failed' ? 'form' : 'wrong_state';
      const details = err.details as { fields?: { id?: unknown }[] } | undefined;
      back(ctx, session, code, (details?.fields ?? []).map((f) => String(f.id)));
    }
  }

  /**
   * `start` (which starts a connection and binds the session to it) under the session's start
   * lease: of concurrent posts (a double click, a replayed form) one starts, the others go back to
   * the page with `wrong_state` and start nothing, so no connection is left running unbound.
   */
  async function startingOnce(ctx: Context, session: ConnectSession, from: string | null, start: () => Promise<void>): Promise<void> {
    if (!(await deps.sessions.beginStart(session.id, from))) return back(ctx, session, 'wrong_state');
    try {
      await attempt(ctx, session, start);
    } finally {
      await deps.sessions.endStart(session.id);
    }
  }

  type Loaded = NonNullable<Awaited<ReturnType<typeof load>>>;
  /**
   * A form post of the page (`POST /connect/s/:session/<action>`): `handle` runs with the session
   * this browser opened and the body, once its CSRF token and origin are checked; otherwise the
   * refusal page `load` or `checkForm` wrote is the answer.
   */
  const form = (action: string, handle: (ctx: Context, loaded: Loaded, body: Record<string, string | string[]>) => Promise<void>) =>
    router.post(`/s/:session/${action}`, async (ctx) => {
      const loaded = await load(ctx);
      const body = loaded && checkForm(ctx, loaded.session, loaded.secret);
      if (loaded && body) await handle(ctx, loaded, body);
    });

  router.get('/s/:session', async (ctx) => {
    const loaded = await load(ctx);
    if (!loaded) return;
    const { session, settings, secret, view } = loaded;
    const locale = localeOf(ctx, session);
    const error = typeof ctx.query.error === 'string' && (PAGE_ERRORS as readonly string[]).includes(ctx.query.error) ? (ctx.query.error as PageError) : null;
    const errorFields = typeof ctx.query.fields === 'string' ? ctx.query.fields.split(',').slice(0, 20) : [];
    const step = stepOf(session, settings, view);
    const query = typeof ctx.query.q === 'string' ? ctx.query.q.slice(0, 100) : '';
    const restricted = ProviderSchema.safeParse(session.request.provider).data;
    const listed = step === 'choose' ? await deps.institutions.list({ ...(restricted ? { provider: restricted } : {}), ...(query ? { q: query } : {}) }) : [];
    // A session that asked for one mode offers that mode only.
    const institutions = listed
      .map((i) => ({ ...i, modes: i.modes.filter((mode) => !session.request.mode || mode === session.request.mode) }))
      .filter((i) => i.modes.length > 0);
    const page: PageContext = { locale, m: messagesFor(locale), base: `/connect/s/${session.id}`, csrf: csrfOf(session, secret), error, errorFields };
    ctx.type = 'html';
    ctx.body = renderStep(page, step, { session, settings, view, institutions, query, credentialsPublicKey: deps.credentialsPublicKey });
  });

  router.get('/s/:session/status', async (ctx) => {
    const loaded = await load(ctx);
    if (!loaded) return;
    const { session, settings, view } = loaded;
    ctx.body = { step: stepOf(session, settings, view), state: view?.state ?? null };
  });

  form('choose', async (ctx, { session, settings, view }, body) => {
    if (view || stepOf(session, settings, view) !== 'choose') return back(ctx, session, 'wrong_state');
    const [provider, mode, ...rest] = (typeof body.institution === 'string' ? body.institution : '').split(':');
    const institutionId = rest.join(':');
    const chosen = (await deps.institutions.list({})).find((i) => i.provider === provider && i.id === institutionId && i.modes.includes(mode as 'redirect'));
    const allowed = (!session.request.provider || session.request.provider === chosen?.provider) && (!session.request.mode || session.request.mode === mode);
    if (!chosen || !allowed) return back(ctx, session, 'form');
    await startingOnce(ctx, session, null, async () => {
      const started = await startChosen(deps.starter, session.tenantId, session.request, session.redirectUrl, chosen.provider as ProviderName, chosen.id, mode as 'redirect');
      if (!(await deps.sessions.bindConnection(session.id, started.id))) throw new ApiError(409, 'wrong_state', 'already chosen');
    });
  });

  form('terms', async (ctx, { session, settings, view }, body) => {
    const digests = ([] as string[]).concat(body.digest ?? []);
    if (body.accept !== 'yes') return back(ctx, session, 'terms');
    // Exactly the texts shown: a digest of a text that is not (or no longer) the one to accept counts for nothing.
    for (const terms of pendingTerms(session, settings, view)) if (digests.includes(terms.digest)) await deps.sessions.acceptTerms(session.id, terms.text);
    back(ctx, session);
  });

  router.get('/s/:session/bank', async (ctx) => {
    const loaded = await load(ctx);
    if (!loaded) return;
    const { session, settings, view } = loaded;
    if (!view || stepOf(session, settings, view) !== 'redirect') return back(ctx, session, pendingTerms(session, settings, view).length > 0 ? 'terms' : 'wrong_state');
    let url: string;
    try {
      url = await deps.freshAuthorizationUrl(view.id);
    } catch (err) {
      // The provider could not mint its URL now (502): the end user may try again.
      // Opened too often (429) or not reachable now (5xx): the end user may try again later.
      if (err instanceof ApiError) return back(ctx, session, err.status < 500 && err.status !== 429 ? 'wrong_state' : 'unavailable');
      throw err;
    }
    ctx.status = 303;
    ctx.redirect(url);
  });

  form('credentials', async (ctx, { session, view }, body) => {
    if (view?.next_action?.type !== 'credentials') return back(ctx, session, 'wrong_state');
    const credentials = Object.entries(body)
      .filter(([key, value]) => key.startsWith('credential:') && typeof value === 'string' && value !== '')
      .map(([key, value]) => ({ id: key.slice('credential:'.length), value: value as string }));
    const parsed = CredentialsSchema.safeParse({ credentials });
    if (!parsed.success) return back(ctx, session, 'invalid_credentials', view.next_action.fields.map((f) => f.id));
    const { handle } = connectionHandle(deps.client, view.id);
    await attempt(ctx, session, () =>
      runUpdate(handle, () => handle.executeUpdate(submitCredentialsUpdate, { args: [parsed.data] }), {
        InvalidCredentials: 'invalid_credentials',
        ProviderRejected: 'provider_rejected',
      }),
    );
  });

  form('challenge', async (ctx, { session, view }, body) => {
    if (view?.next_action?.type !== 'challenge') return back(ctx, session, 'wrong_state');
    const { fields } = view.next_action;
    const decision = body.decision === 'false' ? 'false' : 'true';
    const answers = fields.flatMap((field) => {
      if (field.type === 'OK_CANCEL') return [{ id: field.id, value: decision }];
      const value = body[`answer:${field.id}`];
      return decision === 'true' && typeof value === 'string' && value !== '' ? [{ id: field.id, value: value.slice(0, 256) }] : [];
    });
    const { handle } = connectionHandle(deps.client, view.id);
    await attempt(ctx, session, async () => {
      const encrypted = await encryptedChallengeAnswers(fields, answers, deps.credentialsPublicKey);
      await runUpdate(handle, () => handle.executeUpdate(answerChallengeUpdate, { args: [{ answers: encrypted }] }), {
        InvalidCredentials: 'invalid_answers',
        ProviderRejected: 'provider_rejected',
        ChallengeExpired: 'challenge_expired',
      });
    });
  });

  form('consent', async (ctx, { session, view }, body) => {
    if (view?.next_action?.type !== 'consent') return back(ctx, session, 'wrong_state');
    const offered = new Set(view.next_action.accounts.map((a) => a.id));
    const chosen = [...new Set(([] as string[]).concat(body.account ?? []))].filter((id) => offered.has(id));
    if (chosen.length === 0) return back(ctx, session, 'no_account');
    const { handle } = connectionHandle(deps.client, view.id);
    await attempt(ctx, session, () =>
      runUpdate(handle, () => handle.executeUpdate(giveConsentUpdate, { args: [{ consents: chosen.map((id) => ({ account_id: id, consent: true })) }] })),
    );
  });

  form('restart', async (ctx, { session, settings, view }, _body) => {
    if (!view || !canRestart(session) || stepOf(session, settings, view) !== 'ended') return back(ctx, session, 'wrong_state');
    const { provider, institution_id: institutionId, mode } = session.request;
    const chosenProvider = ProviderSchema.safeParse(provider).data;
    await startingOnce(ctx, session, view.id, async () => {
      // Made for one institution: that one again. Made with the chooser: the chooser again.
      const next = chosenProvider && institutionId
        ? (await startChosen(deps.starter, session.tenantId, session.request, session.redirectUrl, chosenProvider, institutionId, mode)).id
        : null;
      await deps.sessions.rebind(session.id, view.id, next);
    });
  });

  router.get('/s/:session/done', async (ctx) => {
    const loaded = await load(ctx);
    if (!loaded) return;
    ctx.status = 303;
    ctx.redirect(clientReturnUrl(loaded.session, loaded.view));
  });

  return router;
}

/**
 * The Connect session, if any, that this browser holds for `connectionId` (the provider's callback
 * then sends the browser back to the page rather than to the client): its page path, or null.
 */
export async function connectPageFor(ctx: Context, sessions: ConnectSessions, connectionId: string): Promise<string | null> {
  const cookies = ctx.get('cookie');
  for (const [, id, secret] of cookies.matchAll(/(?:^|;\s*)lfc_(cs_[0-9a-f]{32})=([A-Za-z0-9_-]{43})(?=;|$)/g)) {
    const session = await sessions.forBrowser(id!, secret!);
    if (session?.connectionId === connectionId) return `/connect/s/${session.id}`;
  }
  return null;
}
