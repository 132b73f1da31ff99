import { alertOf, decisionButtonRules, errorPage, escapeHtml, inputRule, pageShell, pageStyle } from '../shared/html';
import type { AuthorizationSession } from './simulator';

const STYLE = pageStyle({
  background: '#f3f5f8',
  text: '#1d2433',
  heading: { size: '1.4rem' },
  controls: [inputRule(), ...decisionButtonRules('#1f6feb')],
});

const page = pageShell(STYLE);

/** The sandbox bank's login page for an authorization session. */
export function renderAuthorizePage(session: AuthorizationSession, error?: string): string {
  const purpose =
    session.connectionId === undefined
      ? 'Sign in to share your accounts with the application.'
      : `Sign in again to renew access for connection ${session.connectionId}.`;
  return page(
    session.provider.name,
    `<h1>${escapeHtml(session.provider.name)}</h1>
<p>${escapeHtml(purpose)}</p>
${alertOf(error)}
<form method="post" action="/bank/authorize">
<input type="hidden" name="state" value="${escapeHtml(session.id)}">
<label for="username">User name</label>
<input id="username" name="username" autocomplete="username" required>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password">
<div class="actions">
<button type="submit" id="approve" name="decision" value="approve">Authorize</button>
<button type="submit" id="deny" name="decision" value="deny" formnovalidate>Deny</button>
</div>
</form>
<p class="note">Oxlin sandbox bank: any user name is accepted; test users such as <code>user_sms</code> or <code>user_short_consent</code> select a scenario (see the sandbox README).</p>`,
  );
}

export function renderErrorPage(message: string): string {
  return errorPage(page, 'Authorization error', 'Authorization error', message);
}
