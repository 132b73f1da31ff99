// The sandbox webview's pages: plain server-rendered HTML forms, usable by a real browser and by
// a test that fetches the page and posts the form.
import { escapeHtml, pageShell } from '../shared/html';
import type { WebviewSession } from './simulator';

/** Pages allow nothing but their own inline style and a form posted to the sandbox. */
export const WEBVIEW_HEADERS = {
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
} as const;

const STYLE = `
  body { font-family: system-ui, sans-serif; background: #eef1f6; color: #1d2433; margin: 0; }
  main { max-width: 24rem; margin: 4rem auto; background: #fff; padding: 2rem; border-radius: 8px; box-shadow: 0 1px 4px #0002; }
  h1 { font-size: 1.3rem; margin-top: 0; }
  label { display: block; margin-top: 1rem; font-weight: 600; }
  input { width: 100%; box-sizing: border-box; padding: .5rem; margin-top: .25rem; }
  .actions { display: flex; gap: .75rem; margin-top: 1.5rem; }
  button { flex: 1; padding: .6rem; border: 0; border-radius: 4px; cursor: pointer; }
  #approve { background: #2f54eb; color: #fff; }
  #deny { background: #e6e8eb; }
  .error { color: #b42318; }
  .note { font-size: .85rem; color: #5b6475; }
`;

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
${error === undefined ? '' : `<p class="error" role="alert">${escapeHtml(error)}</p>`}
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
  return page('Webview error — Powens', `<h1>Webview error</h1>\n<p class="error">${escapeHtml(message)}</p>`);
}
