// Flinks Connect's screens, rendered on the server: plain HTML forms that a real browser and a
// fetch-driven test both complete (no script needed).
import { alertOf, errorPage, escapeHtml, inputRule, pageShell, pageStyle } from '../shared/html';
import type { FlinksAccount, Institution } from './data';
import type { ConnectSession } from './simulator';

const STYLE = pageStyle({
  background: '#eef2f7',
  text: '#1b2435',
  width: '26rem',
  radius: '10px',
  heading: { size: '1.35rem' },
  controls: [
    inputRule('input, select'),
    '.account { display: flex; gap: .5rem; align-items: center; font-weight: 400; }',
    '.account input { width: auto; margin: 0; }',
    'button { margin-top: 1.5rem; width: 100%; padding: .65rem; border: 0; border-radius: 4px; background: #0b6bcb; color: #fff; cursor: pointer; }',
  ],
});

const page = pageShell(STYLE);

const sessionField = (session: ConnectSession): string => `<input type="hidden" name="session" value="${escapeHtml(session.id)}">`;

/** Step 1: the institution (unless the URL chose it) and the end user's online-banking credentials. */
export function renderLoginPage(session: ConnectSession, institutions: readonly Institution[], error?: string): string {
  const chosen = institutions.find((i) => i.id === session.institution);
  const institutionField = chosen
    ? `<input type="hidden" name="institution" value="${escapeHtml(chosen.id)}">`
    : `<label for="institution">Institution</label>
<select id="institution" name="institution">${institutions.map((i) => `<option value="${escapeHtml(i.id)}">${escapeHtml(i.name)}</option>`).join('')}</select>`;
  return page(
    'Flinks Connect',
    `<h1>${escapeHtml(chosen ? `Connect to ${chosen.name}` : 'Connect your bank account')}</h1>
${alertOf(error)}
<form method="post" action="/v2/login">
${sessionField(session)}
${institutionField}
<label for="username">Username</label>
<input id="username" name="username" autocomplete="username" required>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Continue</button>
</form>
<p class="note">Flinks sandbox: password <code>Everyday</code>; usernames such as <code>test_mfa</code> or <code>test_pending</code> select a scenario (see the sandbox README).</p>`,
  );
}

/** Step 2 (MFA institutions): the security question. */
export function renderMfaPage(session: ConnectSession, question: string, error?: string): string {
  return page(
    'Flinks Connect — security question',
    `<h1>Security question</h1>
${alertOf(error)}
<form method="post" action="/v2/mfa">
${sessionField(session)}
<label for="answer">${escapeHtml(question)}</label>
<input id="answer" name="answer" autocomplete="off" required>
<button type="submit">Continue</button>
</form>`,
  );
}

/** Step 3 (accountSelectorEnable=true): the one account to share. */
export function renderAccountsPage(session: ConnectSession, accounts: readonly FlinksAccount[], error?: string): string {
  const options = accounts
    .map(
      (a, i) =>
        `<label class="account"><input type="radio" name="accountId" value="${escapeHtml(a.Id)}"${i === 0 ? ' checked' : ''}> ${escapeHtml(a.Title)} (${escapeHtml(a.AccountNumber.slice(-4))})</label>`,
    )
    .join('\n');
  return page(
    'Flinks Connect — choose an account',
    `<h1>Choose the account to share</h1>
${alertOf(error)}
<form method="post" action="/v2/accounts">
${sessionField(session)}
${options}
<button type="submit">Share this account</button>
</form>`,
  );
}

export function renderErrorPage(message: string): string {
  return errorPage(page, 'Flinks Connect — error', 'Something went wrong', message);
}
