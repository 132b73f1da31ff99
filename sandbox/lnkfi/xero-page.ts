// The fake Xero login and consent page LnkFi's authorization_url leads to. A plain HTML form,
// so that a real browser and a fetch-driven one (sandbox/lnkfi/browser.ts) can both use it.
import { alertOf, decisionButtonRules, errorPage, escapeHtml, inputRule, pageShell, pageStyle } from '../shared/html';

export const XERO_AUTHORIZE_PATH = '/xero/identity/connect/authorize';

const STYLE = pageStyle({
  background: '#f2f6fa',
  text: '#1e3145',
  width: '26rem',
  heading: { size: '1.4rem', color: '#13b5ea' },
  controls: [inputRule(), 'ul { padding-left: 1.2rem; }', ...decisionButtonRules('#13b5ea', '#cancel, #error')],
});

const page = pageShell(STYLE);

/** Log in to Xero and allow LnkFi (on the vendor's behalf) to read the organisation's data. */
export function renderXeroLogin(sessionId: string, reauthorization: boolean, error?: string): string {
  return page(
    'Xero | Log in',
    `<h1>xero</h1>
<p>${reauthorization ? 'Log in again to keep sharing your organisation with LnkFi.' : 'Log in to connect your organisation to LnkFi.'}</p>
<p>LnkFi will be able to:</p>
<ul><li>View your organisation's settings and chart of accounts</li><li>View your bank transactions</li></ul>
${alertOf(error)}
<form method="post" action="${XERO_AUTHORIZE_PATH}">
<input type="hidden" name="state" value="${escapeHtml(sessionId)}">
<label for="email">Email address</label>
<input id="email" name="email" type="email" autocomplete="username" required>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password">
<div class="actions">
<button type="submit" id="approve" name="decision" value="approve">Allow access</button>
<button type="submit" id="cancel" name="decision" value="cancel" formnovalidate>Cancel</button>
</div>
<div class="actions">
<button type="submit" id="error" name="decision" value="error" formnovalidate>Simulate a Xero error</button>
</div>
</form>
<p class="note">LnkFi sandbox: any e-mail address is accepted; test users such as <code>many_accounts@example.com</code> or <code>late_webhook@example.com</code> select a scenario (see the sandbox README).</p>`,
  );
}

export function renderErrorPage(message: string): string {
  return errorPage(page, 'Authorization error', 'Authorization error', message);
}
