import assert from 'node:assert/strict';

/**
 * The end user at the sandbox bank, as a browser does it: open the authorize page, submit
 * the login form, and follow the bank's redirect. Returns where the bank sent the browser.
 */
export async function approveAtBank(authorizeUrl: string, decision: 'approve' | 'deny' = 'approve', username = 'alice'): Promise<URL> {
  const page = await fetch(authorizeUrl);
  assert.equal(page.status, 200);
  const html = await page.text();
  const state = /name="state" value="([^"]+)"/.exec(html)?.[1];
  assert.ok(state, 'the bank page carries its session in the form');
  const action = new URL(/<form method="post" action="([^"]+)"/.exec(html)?.[1] ?? '', authorizeUrl);
  const submitted = await fetch(action, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ state, username, password: 'secret-password', decision }).toString(),
    redirect: 'manual',
  });
  assert.equal(submitted.status, 303);
  return new URL(submitted.headers.get('location') ?? '');
}
