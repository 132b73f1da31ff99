// The fake Xero login and consent page LnkFi's authorization_url leads to. A plain HTML form,
// so that a real browser and a fetch-driven one (sandbox/lnkfi/browser.ts) can both use it.
import { escapeHtml, pageShell } from '../shared/html';

export const XERO_AUTHORIZE_PATH = '/xero/identity/connect/authorize';

const STYLE = `
  body { font-family: system-ui, sans-serif; background: #f2f6fa; color: #1e3145; margin: 0; }
  main { max-width: 26rem; margin: 4rem auto; background: #fff; padding: 2rem; border-radius: 8px; box-shadow: 0 1px 4px #0002; }
  h1 { font-size: 1.4rem; margin-top: 0; color: #13b5ea; }
  label { display: block; margin-top: 1rem; font-weight: 600; }
  input { width: 100%; box-sizing: border-box; padding: .5rem; margin-top: .25rem; }
  ul { padding-left: 1.2rem; }
  .actions { display: flex; gap: .75rem; margin-top: 1.5rem; }
  button { flex: 1; padding: .6rem; border: 0; border-radius: 4px; cursor: pointer; }
  #approve { background: #13b5ea; color: #fff; }
  #cancel, #error { background: #e6e8eb; }
  .error { color: #b42318; }
  .note { font-size: .85rem; color: #5b6475; }
`;

const page = pageShell(STYLE);

/** Log in to Xero and allow LnkFi (on the vendor's behalf) to read the organisation's data. */
export function renderXeroLogin(sessionId: string, reauthorization: boolean, error?: string): string {
  return page(
    'Xero | Log in',
    `<h1>xero</h1>
<p>${reauthorization ? 'Log in again to keep sharing your organisation with LnkFi.' : 'Log in to connect your organisation to LnkFi.'}</p>
<p>LnkFi will be able to:</p>
<ul><li>View your organisation's settings and chart of accounts</li><li>View your bank transactions</li></ul>
${error === undefined ? '' : `<p class="error" role="alert">${escapeHtml(error)}</p>`}
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
  return page('Authorization error', `<h1>Authorization error</h1>\n<p class="error">${escapeHtml(message)}</p>`);
}
