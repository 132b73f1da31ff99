// The Connect page's HTML, one function per step. Every value that is not ours (provider texts,
// account names, field labels, the client's terms) goes through escape-html; the page carries no
// inline script or style (CSP: script-src 'self'), so behaviour lives in assets/connect.js.
import escape from 'escape-html';
import type { ConnectionView, InputField, ListedAccount } from '../../../contract/messages';
import { type Messages, type PageError, errorText } from './i18n';
import type { ConnectLocale } from './schema';

/** One institution the chooser offers (the catalogue's entries). */
export interface ChoosableInstitution {
  provider: string;
  id: string;
  name: string;
  country: string | null;
  modes: readonly ('redirect' | 'embedded')[];
}

/** What every step's page knows. `base`: the session's own path, `/connect/s/<id>`. */
export interface PageContext {
  locale: ConnectLocale;
  m: Messages;
  base: string;
  csrf: string;
  error: PageError | null;
  /** Field ids an error names (shown next to those fields). */
  errorFields: string[];
}

const h = (text: string | null | undefined): string => escape(text ?? '');

/** The whole document around a step. `step` and `poll` drive assets/connect.js. */
export function page(ctx: Pick<PageContext, 'locale' | 'm'>, title: string, body: string, options: { step: string; poll?: string; state?: string } = { step: 'info' }): string {
  const data = [`data-step="${h(options.step)}"`, options.poll ? `data-poll="${h(options.poll)}"` : '', options.state ? `data-state="${h(options.state)}"` : '']
    .filter(Boolean)
    .join(' ');
  return `<!doctype html>
<html lang="${ctx.locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${h(title)} · ${h(ctx.m.title)}</title>
<link rel="stylesheet" href="/connect/assets/connect.css">
<script type="module" src="/connect/assets/connect.js"></script>
</head>
<body>
<main class="card" ${data}>
<h1>${h(title)}</h1>
${body}
<footer><p>${h(ctx.m.secured)}</p></footer>
</main>
</body>
</html>`;
}

const errorBanner = (ctx: PageContext): string =>
  ctx.error ? `<div class="error" role="alert" id="page-error">${h(errorText(ctx.m, ctx.error))}</div>` : '';

const csrfField = (ctx: PageContext): string => `<input type="hidden" name="csrf" value="${h(ctx.csrf)}">`;

/** The chooser: one searchable list across providers; each (institution, mode) is a submit button. */
export function chooseStep(ctx: PageContext, institutions: ChoosableInstitution[], query: string): string {
  const items = institutions
    .flatMap((inst) =>
      inst.modes.map((mode) => {
        const meta = `${mode === 'redirect' ? ctx.m.modeRedirect : ctx.m.modeEmbedded} · ${inst.provider}${inst.country ? ` · ${inst.country}` : ''}`;
        // One name for assistive technologies (the visible lines, read once, with a pause between them).
        const label = `${inst.name} — ${meta}`;
        return `<li data-name="${h(`${inst.name} ${inst.id} ${inst.provider}`.toLowerCase())}"><button type="submit" name="institution" value="${h(`${inst.provider}:${mode}:${inst.id}`)}" class="choice"><span class="name" aria-hidden="true">${h(inst.name)}</span><span class="meta" aria-hidden="true">${h(meta)}</span><span class="sr-only">${h(label)}</span></button></li>`;
      }),
    )
    .join('\n');
  return `${errorBanner(ctx)}
<form method="get" action="${ctx.base}" class="search" role="search">
<label for="q">${h(ctx.m.chooseSearch)}</label>
<div class="row"><input type="search" id="q" name="q" value="${h(query)}" autocomplete="off" data-filter="#institutions"><button type="submit" class="secondary">${h(ctx.m.chooseSearchButton)}</button></div>
</form>
<form method="post" action="${ctx.base}/choose">
${csrfField(ctx)}
<ul id="institutions" class="choices">
${items}
</ul>
<p class="empty" id="no-match" ${institutions.length === 0 ? '' : 'hidden'}>${h(ctx.m.chooseNone)}</p>
</form>`;
}

/**
 * Terms to accept: the tenant's own, a provider's (LnkFi), each with its digest so exactly what was
 * shown is accepted. Each text is a scrolling region, focusable so a keyboard can scroll it.
 */
export function termsStep(ctx: PageContext, terms: { text: string; digest: string }[]): string {
  const texts = terms
    .map((t, i) => `<section class="terms" aria-labelledby="terms-${i}" tabindex="0"><h2 id="terms-${i}" class="sr-only">${h(ctx.m.termsTitle)} ${i + 1}</h2><p>${h(t.text)}</p><input type="hidden" name="digest" value="${h(t.digest)}"></section>`)
    .join('\n');
  return `${errorBanner(ctx)}
<form method="post" action="${ctx.base}/terms">
${csrfField(ctx)}
${texts}
<p class="check"><input type="checkbox" id="accept" name="accept" value="yes" required><label for="accept">${h(ctx.m.termsAccept)}</label></p>
<button type="submit">${h(ctx.m.continue)}</button>
</form>`;
}

/** The redirect step: a link to Linkflow, which mints the provider's URL when it is followed. */
export function redirectStep(ctx: PageContext, renewal: boolean): string {
  return `${errorBanner(ctx)}
<p>${h(renewal ? ctx.m.renewalText : ctx.m.redirectText)}</p>
<p><a class="button" id="to-bank" href="${ctx.base}/bank">${h(ctx.m.redirectButton)}</a></p>`;
}

/** An input for a field, by its type (Oxlin's item types; Powens' `text`, `password`, `list`, …). */
function input(ctx: PageContext, field: InputField, name: string | null, options: { encrypt: boolean }): string {
  const id = `f-${field.id}`;
  const type = field.type.toUpperCase();
  const secret = type === 'PWD' || type === 'NUMERIC_PWD' || type === 'PASSWORD';
  const numeric = type === 'NUMERIC' || type === 'NUMERIC_PWD';
  const required = field.required !== false;
  const invalid = ctx.errorFields.includes(field.id);
  const described = field.description ? ` aria-describedby="${id}-help"` : '';
  const nameAttr = name ? ` name="${h(name)}"` : '';
  const encryptAttr = options.encrypt ? ` data-encrypt-into="enc-${h(field.id)}"` : '';
  const common = `id="${id}"${nameAttr}${encryptAttr}${required ? ' required' : ''}${invalid ? ' aria-invalid="true"' : ''}${described}`;
  const label = `<label for="${id}">${h(field.label)}${required ? '' : ` <span class="muted">(${h(ctx.m.optional)})</span>`}</label>`;
  const help = field.description ? `<p class="help" id="${id}-help">${h(field.description)}</p>` : '';
  let control: string;
  if (field.values && field.values.length > 0) {
    control = `<select ${common}>${field.values.map((v) => `<option value="${h(v.value)}">${h(v.label)}</option>`).join('')}</select>`;
  } else if (type === 'DATE') {
    control = `<input type="date" ${common}>`;
  } else {
    const kind = secret ? 'password' : 'text';
    const pattern = field.regexp ? ` pattern="${h(field.regexp)}"` : numeric ? ' pattern="[0-9]+"' : '';
    const mode = numeric ? ' inputmode="numeric"' : '';
    const autocomplete = secret ? ' autocomplete="current-password"' : type === 'NUMERIC' ? ' autocomplete="one-time-code"' : ' autocomplete="off"';
    control = `<input type="${kind}" ${common}${pattern}${mode}${autocomplete}>`;
  }
  const hidden = options.encrypt ? `<input type="hidden" name="credential:${h(field.id)}" id="enc-${h(field.id)}">` : '';
  return `<div class="field">${label}${help}${control}${hidden}</div>`;
}

/**
 * Credentials: each field's plaintext input has no `name`, so the browser never submits it; the
 * script encrypts each value with Linkflow's public key (openpgp, served from the package) into
 * the hidden `credential:<id>` input before the form is sent.
 */
export function credentialsStep(ctx: PageContext, fields: InputField[], invalid: boolean, publicKey: string): string {
  return `${errorBanner(ctx)}
${invalid ? `<div class="error" role="alert">${h(ctx.m.credentialsInvalid)}</div>` : ''}
<form method="post" action="${ctx.base}/credentials" data-encrypt="credentials" novalidate>
${csrfField(ctx)}
<input type="hidden" id="linkflow-key" value="${h(publicKey)}">
${fields.map((f) => input(ctx, f, null, { encrypt: true })).join('\n')}
<p class="status" id="encrypting" hidden>${h(ctx.m.encrypting)}</p>
<button type="submit">${h(ctx.m.credentialsSubmit)}</button>
</form>`;
}

/**
 * A challenge, every Oxlin item type: INFO_MSG as text, ERROR_MSG above the fields (role=alert),
 * TIMEOUT_MSG with a live countdown, OK_CANCEL as the Confirm / Cancel buttons, inputs by type.
 */
export function challengeStep(ctx: PageContext, action: Extract<NonNullable<ConnectionView['next_action']>, { type: 'challenge' }>): string {
  const errors = action.messages.filter((msg) => msg.type === 'ERROR_MSG');
  const infos = action.messages.filter((msg) => msg.type === 'INFO_MSG');
  const timeout = action.messages.find((msg) => msg.type === 'TIMEOUT_MSG');
  const inputs = action.fields.filter((f) => f.type !== 'OK_CANCEL');
  const confirmable = action.fields.some((f) => f.type === 'OK_CANCEL');
  return `${errors.map((msg) => `<div class="error" role="alert">${h(msg.text)}</div>`).join('\n')}
${errorBanner(ctx)}
${infos.map((msg) => `<p class="info">${h(msg.text)}</p>`).join('\n')}
${timeout ? `<p class="info">${h(timeout.text)}</p>` : ''}
<p class="countdown" aria-live="polite"><span>${h(ctx.m.timeLeft)}</span> <time data-countdown-until="${h(action.expires_at)}" data-time-up="${h(ctx.m.timeUp)}" datetime="${h(action.expires_at)}"></time></p>
<form method="post" action="${ctx.base}/challenge">
${csrfField(ctx)}
${inputs.map((f) => input(ctx, f, `answer:${f.id}`, { encrypt: false })).join('\n')}
<div class="actions">
<button type="submit" name="decision" value="true">${h(ctx.m.challengeSubmit)}</button>
${confirmable ? `<button type="submit" name="decision" value="false" class="secondary" formnovalidate>${h(ctx.m.challengeCancel)}</button>` : ''}
</div>
</form>`;
}

const accountLine = (ctx: PageContext, a: ListedAccount): string =>
  `${h(a.name)} <span class="muted">${h(a.type)} · ${h(a.currency)}${a.mask ? ` · ${h(ctx.m.account_mask)} ${h(a.mask)}` : ''}</span>`;

/** Consent: one checkbox per account, every one checked to start with; at least one required. */
export function consentStep(ctx: PageContext, accounts: ListedAccount[]): string {
  const boxes = accounts
    .map((a, i) => `<li class="check"><input type="checkbox" id="acc-${i}" name="account" value="${h(a.id)}" checked><label for="acc-${i}">${accountLine(ctx, a)}</label></li>`)
    .join('\n');
  return `${errorBanner(ctx)}
<p>${h(ctx.m.consentText)}</p>
<form method="post" action="${ctx.base}/consent" data-at-least-one="account" data-none-message="${h(ctx.m.consentNoneChosen)}">
${csrfField(ctx)}
<fieldset><legend class="sr-only">${h(ctx.m.consentTitle)}</legend><ul class="accounts">
${boxes}
</ul></fieldset>
<button type="submit">${h(ctx.m.consentSubmit)}</button>
</form>`;
}

/** Listing, syncing: progress that follows the connection live (assets/connect.js polls `status`). */
export function waitingStep(ctx: PageContext, state: string): string {
  const key = `waiting_${state}` as keyof Messages;
  const text = (ctx.m[key] as string | undefined) ?? ctx.m.waiting_authorizing;
  const order = ['authorizing', 'listing_accounts', 'syncing'];
  const at = Math.max(0, order.indexOf(state));
  return `<p class="progress" role="status" aria-live="polite"><span class="spinner" aria-hidden="true"></span> <span id="progress-text">${h(text)}</span></p>
<progress max="${order.length + 1}" value="${at + 1}" aria-label="${h(ctx.m.step)} ${at + 1} / ${order.length + 1}"></progress>
<p class="muted">${h(ctx.m.waitingNote)}</p>`;
}

/** Done: the client's redirect in a moment (the script follows `data-next`), or by the button. */
export function successStep(ctx: PageContext, view: ConnectionView): string {
  const accounts = view.accounts.filter((a) => a.consent === true);
  return `<p class="success" role="status">${h(ctx.m.successText)}</p>
<ul class="accounts">${accounts.map((a) => `<li>${accountLine(ctx, a)}</li>`).join('')}</ul>
<p><a class="button" id="back" href="${ctx.base}/done" data-next="${ctx.base}/done">${h(ctx.m.backToApp)}</a></p>`;
}

/** Expired, cancelled, failed, disconnected: a clear message, a new start, the way back. */
export function endedStep(ctx: PageContext, canRestart: boolean): string {
  return `<p>${h(ctx.m.endedText)}</p>
<div class="actions">
${canRestart ? `<form method="post" action="${ctx.base}/restart">${csrfField(ctx)}<button type="submit">${h(ctx.m.startAgain)}</button></form>` : ''}
<a class="button secondary" href="${ctx.base}/done">${h(ctx.m.backToApp)}</a>
</div>`;
}

/** user_action_required: the bank's own message. */
export function actionStep(ctx: PageContext, message: string): string {
  return `<p>${h(ctx.m.actionText)}</p>
<blockquote class="bank-message">${h(message)}</blockquote>
<p><a class="button secondary" href="${ctx.base}/done">${h(ctx.m.backToApp)}</a></p>`;
}

/** A token or session that cannot be used: a page, never another connection's data. */
export function sessionProblem(ctx: Pick<PageContext, 'locale' | 'm'>, why: 'used' | 'expired' | 'unknown' | 'gone'): string {
  return page(ctx, ctx.m.sessionTitle, `<p role="alert">${h(ctx.m[`session_${why}`])}</p>`, { step: 'problem' });
}

/** Linkflow cannot read the connection right now (Temporal or the worker unreachable): try again. */
export function unavailablePage(ctx: Pick<PageContext, 'locale' | 'm'>): string {
  return page(ctx, ctx.m.unavailableTitle, `<p role="alert">${h(ctx.m.unavailableText)}</p>`, { step: 'problem' });
}
