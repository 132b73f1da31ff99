import assert from 'node:assert/strict';

/**
 * The end user in the Powens sandbox's webview, as a browser does it: open the page, approve with
 * `username` at the bank, and return where the webview sends the browser.
 */
export async function approveInWebview(url: string, username: string): Promise<URL> {
  const page = await fetch(url);
  const html = await page.text();
  assert.equal(page.status, 200, html);
  const session = /name="session" value="([^"]+)"/.exec(html)?.[1];
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
  assert.ok(session && action);
  const submitted = await fetch(new URL(action, url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ session, username, decision: 'approve' }).toString(),
    redirect: 'manual',
  });
  assert.equal(submitted.status, 303);
  return new URL(submitted.headers.get('location') ?? '');
}
