// Linkflow Connect in real Chromium, Flinks: the redirect to the sandbox's Flinks Connect (login and
// its security question), back to the page, consent, success and the client's redirect_url, through
// the page only; then the data read through the API.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SECURITY_QUESTION, TEST_PASSWORD } from '../../sandbox/flinks/scenarios';
import { backOnConsent, connectSuite, expectClientReturn, newEndUser, screenshots } from '../helpers/browser';

describe('Connect page: Flinks', () => {
  const suite = connectSuite();

  it('Flinks Connect: login, security question, back to the page, consent of two accounts out of three, success', async () => {
    const shot = screenshots('flinks-connect');
    const created = await suite.lf.call('POST', '/v1/connect-sessions', { provider: 'flinks', institution_id: 'FlinksCapital', redirect_url: `${suite.client}/linked` });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const { connect_url, connection_id } = created.body;
    assert.ok(connection_id);
    const { page, context } = await newEndUser(suite.browser);

    await page.goto(connect_url);
    const toBank = page.getByRole('link', { name: 'Continue to your bank' });
    await toBank.waitFor();
    await shot(page, 'redirect');
    await toBank.click();

    // The sandbox's Flinks Connect: the institution chosen by the URL, a wrong password first.
    await page.getByRole('heading', { name: 'Connect to Flinks Capital' }).waitFor();
    assert.equal(new URL(page.url()).origin, new URL(suite.lf.sandboxes.flinks.url).origin);
    await page.getByLabel('Username').fill('test_mfa');
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByText(/INVALID_LOGIN/).first().waitFor();
    await page.getByLabel('Username').fill('test_mfa');
    await page.getByLabel('Password').fill(TEST_PASSWORD);
    await shot(page, 'flinks-login');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByLabel(SECURITY_QUESTION.question).fill(SECURITY_QUESTION.answer);
    await shot(page, 'flinks-question');
    await page.getByRole('button', { name: 'Continue' }).click();

    // Back on the Connect page (the browser holds the session's cookie): the accounts to share.
    const share = await backOnConsent(page, suite.lf, connection_id);
    const boxes = page.getByRole('checkbox');
    assert.equal(await boxes.count(), 3);
    for (const box of await boxes.all()) assert.ok(await box.isChecked(), 'every account starts checked');
    await boxes.nth(2).uncheck();
    await shot(page, 'consent');
    await share.click();

    await expectClientReturn(page, suite.client, connection_id, shot);

    // The data, through the API: the two accounts consented to, with their transactions.
    const view = (await suite.lf.call('GET', `/v1/connections/${connection_id}`)).body;
    assert.equal(view.state, 'active');
    assert.equal(view.provider, 'flinks');
    const accounts = await suite.lf.call('GET', `/v1/connections/${connection_id}/accounts`);
    assert.equal(accounts.status, 200);
    assert.equal(accounts.body.data.length, 2, JSON.stringify(accounts.body));
    const transactions = await suite.lf.call('GET', `/v1/connections/${connection_id}/transactions?limit=10`);
    assert.ok(transactions.body.data.length > 0);
    await context.close();
  });
});
