import { escapeHtml, pageShell } from '../shared/html';
import type { AuthorizationSession } from './simulator';

const STYLE = `
  body { font-family: system-ui, sans-serif; background: #f3f5f8; color: #1d2433; margin: 0; }
  main { max-width: 24rem; margin: 4rem auto; background: #fff; padding: 2rem; border-radius: 8px; box-shadow: 0 1px 4px #0002; }
  h1 { font-size: 1.4rem; margin-top: 0; }
  label { display: block; margin-top: 1rem; font-weight: 600; }
  input { width: 100%; box-sizing: border-box; padding: .5rem; margin-top: .25rem; }
  .actions { display: flex; gap: .75rem; margin-top: 1.5rem; }
  button { flex: 1; padding: .6rem; border: 0; border-radius: 4px; cursor: pointer; }
  #approve { background: #1f6feb; color: #fff; }
  #deny { background: #e6e8eb; }
  .error { color: #b42318; }
  .note { font-size: .85rem; color: #5b6475; }
`;

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
${error === undefined ? '' : `<p class="error" role="alert">${escapeHtml(error)}</p>`}
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
  return page('Authorization error', `<h1>Authorization error</h1>\n<p class="error">${escapeHtml(message)}</p>`);
}
