// The sandbox webview's pages: plain server-rendered HTML forms, usable by a real browser and by
// a test that fetches the page and posts the form.
import { PAGE_HEADERS, alertOf, decisionButtonRules, errorPage, escapeHtml, inputRule, pageShell, pageStyle } from '../shared/html';
import type { WebviewSession } from './simulator';

/** Pages allow nothing but their own inline style and a form posted to the sandbox. */
export const WEBVIEW_HEADERS = {
  ...PAGE_HEADERS,
  'content-security-policy': `${PAGE_HEADERS['content-security-policy']}; form-action 'self'`,
} as const;

/**
 * The headers of a session's page: as WEBVIEW_HEADERS, with the origin of the session's
 * redirect_uri allowed as a form target too, since browsers apply `form-action` to the redirect
 * that follows the form (Chromium would otherwise block the 303 back to the client).
 */
export function webviewSessionHeaders(session: Pick<WebviewSession, 'redirectUri'>): Record<string, string> {
  return {
    ...WEBVIEW_HEADERS,
    'content-security-policy': `${WEBVIEW_HEADERS['content-security-policy']} ${new URL(session.redirectUri).origin}`,
  };
}

const STYLE = pageStyle({
  background: '#eef1f6',
  text: '#1d2433',
  heading: { size: '1.3rem' },
  controls: [inputRule(), ...decisionButtonRules('#2f54eb')],
});

const page = pageShell(STYLE, 'fr');

/** The bank's authorization page for a webview session (a new connection, or a source renewed or added). */
export function renderWebviewPage(session: WebviewSession, error?: string): string {
  const purpose =
    session.connectionId === null
      ? `Connect your ${session.connector.name} accounts (${session.source.name}).`
      : `Authorize ${session.source.name} again for connection ${session.connectionId}.`;
  return page(
    `${session.connector.name} — Powens`,
    `<h1>${escapeHtml(session.connector.name)}</h1>
<p>${escapeHtml(purpose)}</p>
${alertOf(error)}
<form method="post" action="/webview/authorize">
<input type="hidden" name="session" value="${escapeHtml(session.id)}">
<label for="username">User name at the bank</label>
<input id="username" name="username" autocomplete="username" required>
<div class="actions">
<button type="submit" id="approve" name="decision" value="approve">Authorize</button>
<button type="submit" id="deny" name="decision" value="deny" formnovalidate>Deny</button>
</div>
</form>
<p class="note">Powens sandbox: any user name is accepted; test users such as <code>user_sca_later</code> or <code>user_short_consent</code> select a scenario (see the sandbox README).</p>`,
  );
}

export function renderErrorPage(message: string): string {
  return errorPage(page, 'Webview error — Powens', 'Webview error', message);
}
