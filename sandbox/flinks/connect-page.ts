// Flinks Connect's screens, rendered on the server: plain HTML forms that a real browser and a
// fetch-driven test both complete (no script needed).
import { escapeHtml, pageShell } from '../shared/html';
import type { FlinksAccount, Institution } from './data';
import type { ConnectSession } from './simulator';

const STYLE = `
  body { font-family: system-ui, sans-serif; background: #eef2f7; color: #1b2435; margin: 0; }
  main { max-width: 26rem; margin: 4rem auto; background: #fff; padding: 2rem; border-radius: 10px; box-shadow: 0 1px 4px #0002; }
  h1 { font-size: 1.35rem; margin-top: 0; }
  label { display: block; margin-top: 1rem; font-weight: 600; }
  input, select { width: 100%; box-sizing: border-box; padding: .5rem; margin-top: .25rem; }
  .account { display: flex; gap: .5rem; align-items: center; font-weight: 400; }
  .account input { width: auto; margin: 0; }
  button { margin-top: 1.5rem; width: 100%; padding: .65rem; border: 0; border-radius: 4px; background: #0b6bcb; color: #fff; cursor: pointer; }
  .error { color: #b42318; }
  .note { font-size: .85rem; color: #5b6475; }
`;

const page = pageShell(STYLE);

const alert = (error: string | undefined): string => (error === undefined ? '' : `<p class="error" role="alert">${escapeHtml(error)}</p>`);

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
${alert(error)}
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
${alert(error)}
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
${alert(error)}
<form method="post" action="/v2/accounts">
${sessionField(session)}
${options}
<button type="submit">Share this account</button>
</form>`,
  );
}

export function renderErrorPage(message: string): string {
  return page('Flinks Connect — error', `<h1>Something went wrong</h1>\n<p class="error">${escapeHtml(message)}</p>`);
}
