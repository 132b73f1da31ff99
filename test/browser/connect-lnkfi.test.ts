// Linkflow Connect in real Chromium, LnkFi: LnkFi's terms (next_action.terms) on the page first,
// then Xero (approve, or cancel), back to the page; from the connect_url to the client's
// redirect_url, through the page only; then the data read through the API.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { backOnConsent, connectSuite, expectClientReturn, newEndUser, screenshots } from '../helpers/browser';

describe('Connect page: LnkFi', () => {
  const suite = connectSuite();

  async function session(): Promise<{ connect_url: string; connection_id: string; terms: string }> {
    const created = await suite.lf.call('POST', '/v1/connect-sessions', { provider: 'lnkfi', institution_id: 'xero', redirect_url: `${suite.client}/linked` });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const { connection_id } = created.body;
    assert.ok(connection_id);
    const view = (await suite.lf.call('GET', `/v1/connections/${connection_id}`)).body;
    assert.equal(view.next_action?.type, 'redirect');
    assert.match(view.next_action.terms ?? '', /^I consent to Acme Lending and LnkFi/);
    return { ...created.body, terms: view.next_action.terms };
  }

  /** The terms step: LnkFi's own text, as LnkFi wrote it; accepted, the redirect step follows. */
  async function acceptTerms(page: Page, terms: string, shot: (page: Page, step: string) => Promise<void>): Promise<void> {
    await page.getByRole('heading', { level: 1, name: 'Before you continue' }).waitFor();
    assert.equal((await page.locator('section.terms p').innerText()).trim(), terms.trim());
    assert.equal(await page.getByRole('link', { name: 'Continue to your bank' }).count(), 0, 'no way to the bank before the terms');
    await shot(page, 'terms');
    await page.getByLabel('I have read and accept these terms').check();
    await page.getByRole('button', { name: 'Continue', exact: true }).click();
    await page.getByRole('link', { name: 'Continue to your bank' }).waitFor();
    await shot(page, 'redirect');
  }

  it('terms, Xero approved, back, consent, success, data', async () => {
    const shot = screenshots('lnkfi-approve');
    const { connect_url, connection_id, terms } = await session();
    const { page, context } = await newEndUser(suite.browser);
    await page.goto(connect_url);
    await acceptTerms(page, terms, shot);
    await page.getByRole('link', { name: 'Continue to your bank' }).click();

    await page.getByRole('heading', { name: 'xero' }).waitFor();
    assert.equal(new URL(page.url()).origin, new URL(suite.lf.sandboxes.lnkfi.url).origin);
    await page.getByLabel('Email address').fill('alice@example.com');
    await page.getByLabel('Password').fill('correct horse battery staple');
    await shot(page, 'xero');
    await page.getByRole('button', { name: 'Allow access' }).click();

    const share = await backOnConsent(page, suite.lf, connection_id);
    await shot(page, 'consent');
    await share.click();

    await expectClientReturn(page, suite.client, connection_id, shot);

    const view = (await suite.lf.call('GET', `/v1/connections/${connection_id}`)).body;
    assert.equal(view.state, 'active');
    const accounts = await suite.lf.call('GET', `/v1/connections/${connection_id}/accounts`);
    assert.ok(accounts.body.data.length > 0, JSON.stringify(accounts.body));
    const transactions = await suite.lf.call('GET', `/v1/connections/${connection_id}/transactions?limit=10`);
    assert.ok(transactions.body.data.length > 0);
    await context.close();
  });

  it('canceled at Xero: the page says the connection was cancelled; Back to the application gives outcome=cancelled', async () => {
    const shot = screenshots('lnkfi-cancel');
    const { connect_url, connection_id, terms } = await session();
    const { page, context } = await newEndUser(suite.browser);
    await page.goto(connect_url);
    await acceptTerms(page, terms, shot);
    await page.getByRole('link', { name: 'Continue to your bank' }).click();
    await page.getByRole('heading', { name: 'xero' }).waitFor();
    await shot(page, 'xero');
    await page.getByRole('button', { name: 'Cancel' }).click();

    await page.getByRole('heading', { name: 'The connection was cancelled' }).waitFor({ timeout: 30_000 }).catch(async (err) => {
      console.log(page.url(), await page.locator('body').innerText().catch(() => '?'), JSON.stringify((await suite.lf.call('GET', `/v1/connections/${connection_id}`)).body));
      throw err;
    });
    assert.match(page.url(), /\/connect\/s\/cs_[0-9a-f]{32}/);
    assert.ok(await page.getByRole('button', { name: 'Start again' }).isVisible());
    await shot(page, 'cancelled');
    const view = (await suite.lf.call('GET', `/v1/connections/${connection_id}`)).body;
    assert.equal(view.state, 'cancelled');

    await page.getByRole('link', { name: 'Back to the application' }).click();
    await page.waitForURL(`${suite.client}/**`, { timeout: 10_000 });
    const back = new URL(page.url());
    assert.equal(back.pathname, '/linked');
    assert.equal(back.searchParams.get('connection_id'), connection_id);
    assert.equal(back.searchParams.get('outcome'), 'cancelled');
    await context.close();
  });
});
