// Linkflow Connect without a browser, for the attack tests: a session opened as a browser would
// (token spent, cookie kept, the page's CSRF token read), and form posts as a browser sends them.
import assert from 'node:assert/strict';
import type { Linkflow } from './linkflow';

export const CLIENT_REDIRECT_URL = 'https://client.example/linked';

/** A session (created with `body` as the tenant whose key is `key`) opened by a "browser": its page path, cookie and CSRF token. */
export async function openedSession(lf: Linkflow, body: Record<string, unknown>, key = lf.apiKey) {
  const created = await lf.call('POST', '/v1/connect-sessions', { redirect_url: CLIENT_REDIRECT_URL, ...body }, { authorization: `Bearer ${key}` });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const open = await fetch(created.body.connect_url, { redirect: 'manual' });
  assert.equal(open.status, 303);
  const cookie = (open.headers.get('set-cookie') ?? '').split(';')[0]!;
  const path = open.headers.get('location')!;
  const page = await fetch(lf.api + path, { headers: { cookie } });
  const html = await page.text();
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
  return { created: created.body, token: created.body.connect_url.split('/').pop() as string, cookie, path, html, csrf, page };
}

/** A form post to the page, from the page's own origin unless `headers` says otherwise. */
export const postForm = (lf: Linkflow, path: string, form: Record<string, string>, headers: Record<string, string>) =>
  fetch(lf.api + path, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: lf.api, ...headers },
    body: new URLSearchParams(form).toString(),
  });
