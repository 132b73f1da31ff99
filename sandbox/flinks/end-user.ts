// The end user at the sandbox's Flinks Connect, as a browser without scripts does it: for tests
// and scripts that need a connected login.
import { SECURITY_QUESTION, TEST_PASSWORD } from './scenarios';

export interface EndUser {
  username?: string;
  password?: string;
  /** The security question's answer, when the username asks one (`test_mfa`). */
  answer?: string;
  /** Which account to pick when the account selector is on (default the first). */
  accountIndex?: number;
}

/** What a form-driven browser sees of a page: its form's action and fields. */
export interface ConnectForm {
  action: URL;
  hidden: Record<string, string>;
  institutions: string[];
  accountIds: string[];
}

export function readForm(html: string, pageUrl: string): ConnectForm | null {
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
  if (action === undefined) return null;
  const values = (pattern: RegExp) => Array.from(html.matchAll(pattern), (m) => m[1] as string);
  return {
    action: new URL(action, pageUrl),
    hidden: Object.fromEntries(Array.from(html.matchAll(/<input type="hidden" name="(\w+)" value="([^"]*)">/g), (m) => [m[1], m[2]])),
    institutions: values(/<option value="([^"]+)"/g),
    accountIds: values(/name="accountId" value="([^"]+)"/g),
  };
}

/**
 * Opens `connectUrl`, logs in, answers the security question and picks an account if asked, and
 * returns where Flinks Connect sent the browser back (the RedirectUrl with loginId & co.).
 * Throws with the page's message when Connect does not redirect.
 */
export async function connectAtFlinks(connectUrl: string, user: EndUser = {}): Promise<URL> {
  let response = await fetch(connectUrl, { redirect: 'manual' });
  let pageUrl = connectUrl;
  for (let step = 0; step < 4; step++) {
    if (response.status === 303) return new URL(response.headers.get('location') ?? '', pageUrl);
    const html = await response.text();
    const form = response.status === 200 ? readForm(html, pageUrl) : null;
    if (!form) throw new Error(`Flinks Connect answered ${response.status}: ${/class="error"[^>]*>([^<]*)</.exec(html)?.[1] ?? 'no form'}`);
    const fields: Record<string, string> = { ...form.hidden };
    if (form.action.pathname.endsWith('/login')) {
      fields.institution ??= form.institutions[0] ?? '';
      fields.username = user.username ?? 'Greatday';
      fields.password = user.password ?? TEST_PASSWORD;
    } else if (form.action.pathname.endsWith('/mfa')) {
      fields.answer = user.answer ?? SECURITY_QUESTION.answer;
    } else {
      fields.accountId = form.accountIds[user.accountIndex ?? 0] ?? '';
    }
    pageUrl = form.action.toString();
    response = await fetch(form.action, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
      redirect: 'manual',
    });
  }
  throw new Error('Flinks Connect did not redirect after four steps');
}
