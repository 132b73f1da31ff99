// The end user's browser at the sandbox's Xero, for tests and scripts: it does what a person
// does in a real browser (open the page, fill the form, follow the redirects) over plain HTTP.

export type XeroDecision = 'approve' | 'cancel' | 'error';

/**
 * Opens LnkFi's authorization_url, submits Xero's form with `decision`, and follows Xero's redirect
 * to LnkFi's complete endpoint and LnkFi's redirect onwards. Returns where LnkFi sent the browser
 * (the vendor_redirect_url with `result`); the vendor's redirect target itself is not fetched.
 */
export async function authorizeAtXero(authorizationUrl: string, decision: XeroDecision = 'approve', email = 'alice@example.com'): Promise<URL> {
  const page = await fetch(authorizationUrl, { redirect: 'manual' });
  const html = await page.text();
  if (page.status !== 200) throw new Error(`Xero's page answered ${page.status}`);
  const state = /name="state" value="([^"]+)"/.exec(html)?.[1];
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
  if (!state || !action) throw new Error("Xero's page has no login form");
  const submitted = await fetch(new URL(action, authorizationUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ state, email, password: 'correct horse battery staple', decision }).toString(),
    redirect: 'manual',
  });
  const toLnkfi = submitted.headers.get('location');
  if (submitted.status !== 303 || !toLnkfi) throw new Error(`Xero's form answered ${submitted.status}`);
  const completed = await fetch(toLnkfi, { redirect: 'manual' });
  const toVendor = completed.headers.get('location');
  if (completed.status !== 302 || !toVendor) throw new Error(`LnkFi's complete endpoint answered ${completed.status}`);
  return new URL(toVendor);
}
