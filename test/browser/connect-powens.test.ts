// Linkflow Connect in real Chromium, Powens: a `credentials` connector (wrong credentials first, the
// bank's refusal on the page, then the right ones, the SMS code the bank asks for), and a `webauth`
// connector through the sandbox's webview; from the connect_url to the client's redirect_url,
// through the page only; then the data read through the API.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OTP_CODE, STATE_MESSAGES, TEST_PASSWORD } from '../../sandbox/powens/scenarios';
import { backOnConsent, connectSuite, expectClientReturn, newEndUser, screenshots, sentText } from '../helpers/browser';

describe('Connect page: Powens', () => {
  const suite = connectSuite();


  /** The end of every flow: success, the client's URL with the connection and `success`, data through the API. */
  async function expectSuccess(page: import('playwright-core').Page, connectionId: string, shot: (page: import('playwright-core').Page, step: string) => Promise<void>) {
    await expectClientReturn(page, suite.client, connectionId, shot);
    const view = (await suite.lf.call('GET', `/v1/connections/${connectionId}`)).body;
    assert.equal(view.state, 'active');
    assert.equal(view.provider, 'powens');
    const accounts = await suite.lf.call('GET', `/v1/connections/${connectionId}/accounts`);
    assert.ok(accounts.body.data.length > 0, JSON.stringify(accounts.body));
    const transactions = await suite.lf.call('GET', `/v1/connections/${connectionId}/transactions?limit=10`);
    assert.ok(transactions.body.data.length > 0);
  }

  it('credentials: wrong ones refused by the bank, the right ones, the SMS code, consent, success; no plaintext password sent', async () => {
    const shot = screenshots('powens-credentials');
    const wrongPassword = 'not-the-password-7f3a';
    const { connect_url, connection_id } = await suite.session({ provider: 'powens', institution_id: '59' });
    const { page, context, requests } = await newEndUser(suite.browser);
    await page.goto(connect_url);
    const signIn = page.getByRole('button', { name: 'Sign in' });
    await page.getByRole('heading', { name: 'Sign in to your bank' }).waitFor();
    await shot(page, 'credentials');

    // Powens' fields as the connector gives them: login (with its regexp), password, the optional list.
    await page.getByLabel('Identifiant').fill('user_otp');
    await page.getByLabel('Mot de passe').fill(wrongPassword);
    await page.getByLabel(/Espace/).selectOption('pro');
    await signIn.click();

    // The bank refused: the same form again, saying so; nothing moved on.
    await page.getByRole('alert').first().waitFor({ timeout: 20_000 });
    assert.match(await page.getByRole('alert').first().innerText(), /Your bank refused the request|did not accept these credentials/);
    assert.ok(await signIn.isVisible(), 'the credentials form is shown again');
    assert.equal(await page.getByLabel('Mot de passe').inputValue(), '', 'no password kept in the page');
    assert.equal((await suite.lf.call('GET', `/v1/connections/${connection_id}`)).body.state, 'awaiting_credentials');
    await shot(page, 'credentials-refused');

    await page.getByLabel('Identifiant').fill('user_otp');
    await page.getByLabel('Mot de passe').fill(TEST_PASSWORD);
    await signIn.click();

    // The bank's SMS code (additionalInformationNeeded).
    await page.getByRole('heading', { name: 'Your bank needs a confirmation' }).waitFor({ timeout: 20_000 });
    await page.getByText(STATE_MESSAGES.additionalInformationNeeded!).waitFor();
    await shot(page, 'sms-code');
    await page.getByLabel('Code reçu par SMS').fill(OTP_CODE);
    await page.getByRole('button', { name: 'Confirm' }).click();

    const share = page.getByRole('button', { name: 'Share selected accounts' });
    await share.waitFor({ timeout: 30_000 });
    await shot(page, 'consent');
    await share.click();
    assert.ok(connection_id);
    await expectSuccess(page, connection_id, shot);

    // Neither password left the browser in plaintext: not in any URL, header or body it sent.
    const sent = sentText(requests);
    assert.ok(sent.includes('BEGIN PGP MESSAGE') || sent.includes('BEGIN+PGP+MESSAGE'), 'the credentials went encrypted');
    for (const secret of [wrongPassword, TEST_PASSWORD]) {
      assert.ok(!sent.includes(secret) && !sent.includes(encodeURIComponent(secret)), `no plaintext password (${secret})`);
    }
    await context.close();
  });

  it('webauth: through the webview and back, consent, success', async () => {
    const shot = screenshots('powens-webauth');
    const { connect_url, connection_id } = await suite.session({ provider: 'powens', institution_id: '60' });
    const { page, context } = await newEndUser(suite.browser);
    await page.goto(connect_url);
    const toBank = page.getByRole('link', { name: 'Continue to your bank' });
    await toBank.waitFor();
    await shot(page, 'redirect');
    await toBank.click();

    await page.getByRole('heading', { name: 'Powens Open Banking' }).waitFor();
    assert.equal(new URL(page.url()).origin, new URL(suite.lf.sandboxes.powens.url).origin);
    await page.getByLabel('User name at the bank').fill('alice');
    await shot(page, 'webview');
    await page.getByRole('button', { name: 'Authorize' }).click();

    const share = await backOnConsent(page, suite.lf, connection_id);
    await shot(page, 'consent');
    await share.click();
    assert.ok(connection_id);
    await expectSuccess(page, connection_id, shot);
    await context.close();
  });
});
