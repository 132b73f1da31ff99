// Linkflow Connect in real Chromium, the chooser: a session made without provider or institution
// lists the catalogue across the four providers, the search box filters it, and the institution
// picked goes through to success; a tenant's own terms come before the chooser and are required.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { connectSuite, newEndUser, screenshots } from '../helpers/browser';

const TENANT_TERMS = 'Acme Lending reads your accounts and transactions to assess your loan application.\nYou can disconnect at any time from your Acme account.';

describe('Connect page: choosing an institution', () => {
  const suite = connectSuite();

  async function chooserSession(): Promise<string> {
    const created = await suite.lf.call('POST', '/v1/connect-sessions', { redirect_url: `${suite.client}/linked` });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.connection_id, null, 'nothing started before the end user chooses');
    return created.body.connect_url;
  }

  /** The institutions the list shows now: each visible choice's value (`provider:mode:id`). */
  const visibleChoices = (page: Page): Promise<string[]> =>
    page.locator('#institutions li:visible button').evaluateAll((buttons) => buttons.map((b) => (b as unknown as { value: string }).value));

  it('lists the catalogue across the four providers, filters as the end user types, Oxlin 87 redirect through to success', async () => {
    const shot = screenshots('chooser');
    const catalogue = (await suite.lf.call('GET', '/v1/institutions')).body.data as { provider: string; institution_id: string; modes: string[] }[];
    const expected = catalogue.flatMap((i) => i.modes.map((mode) => `${i.provider}:${mode}:${i.institution_id}`));
    assert.deepEqual(new Set(catalogue.map((i) => i.provider)), new Set(['oxlin', 'flinks', 'powens', 'lnkfi']));

    const { page, context } = await newEndUser(suite.browser);
    await page.goto(await chooserSession());
    await page.getByRole('heading', { name: 'Choose your bank' }).waitFor();
    assert.deepEqual(await visibleChoices(page), expected, 'every institution and mode of the catalogue, in its order');
    await shot(page, 'choose');

    const search = page.getByRole('searchbox', { name: 'Search for your bank' });
    await search.pressSequentially('linxo');
    assert.deepEqual(await visibleChoices(page), ['oxlin:redirect:87', 'oxlin:embedded:87']);
    await shot(page, 'choose-filtered');
    await search.fill('no such bank');
    assert.deepEqual(await visibleChoices(page), []);
    await page.getByText('No bank matches your search.').waitFor();
    await search.fill('');
    await search.pressSequentially('87');
    assert.deepEqual(await visibleChoices(page), ['oxlin:redirect:87', 'oxlin:embedded:87']);

    await page.getByRole('button', { name: "Linxo Test Bank — Sign in on the bank's page" }).click();
    const toBank = page.getByRole('link', { name: 'Continue to your bank' });
    await toBank.waitFor({ timeout: 20_000 });
    await shot(page, 'redirect');
    await toBank.click();
    await page.locator('#username').fill('alice');
    await page.locator('#approve').click();
    const share = page.getByRole('button', { name: 'Share selected accounts' });
    await share.waitFor({ timeout: 30_000 });
    await shot(page, 'consent');
    await share.click();
    await page.getByRole('heading', { name: 'Your bank is connected' }).waitFor({ timeout: 30_000 });
    await shot(page, 'success');
    await page.waitForURL(`${suite.client}/**`, { timeout: 10_000 });

    const back = new URL(page.url());
    assert.equal(back.searchParams.get('outcome'), 'success');
    const connectionId = back.searchParams.get('connection_id');
    assert.ok(connectionId);
    const view = (await suite.lf.call('GET', `/v1/connections/${connectionId}`)).body;
    assert.equal(view.provider, 'oxlin');
    assert.equal(view.institution_id, '87');
    assert.equal(view.state, 'active');
    assert.deepEqual(view.channels.map((c: { mode: string }) => c.mode), ['redirect']);
    const accounts = await suite.lf.call('GET', `/v1/connections/${connectionId}/accounts`);
    assert.ok(accounts.body.data.length > 0);
    const transactions = await suite.lf.call('GET', `/v1/connections/${connectionId}/transactions?limit=10`);
    assert.ok(transactions.body.data.length > 0);
    await context.close();
  });

  it("the tenant's own terms come first and must be accepted: unticked, refused (by the browser and by Linkflow)", async () => {
    const shot = screenshots('tenant-terms');
    const saved = await suite.lf.call('PUT', '/v1/connect/settings', { frame_ancestors: [], terms: TENANT_TERMS });
    assert.equal(saved.status, 200, JSON.stringify(saved.body));
    try {
      const { page, context, requests } = await newEndUser(suite.browser);
      await page.goto(await chooserSession());
      await page.getByRole('heading', { level: 1, name: 'Before you continue' }).waitFor();
      assert.equal(await page.locator('section.terms p').innerText(), TENANT_TERMS);
      assert.equal(await page.locator('#institutions').count(), 0, 'no chooser before the terms');
      await shot(page, 'terms');

      // Unticked: the browser does not send the form.
      const continueButton = page.getByRole('button', { name: 'Continue', exact: true });
      await continueButton.click();
      assert.equal(await page.getByLabel('I have read and accept these terms').evaluate((box) => (box as unknown as { validity: { valueMissing: boolean } }).validity.valueMissing), true);
      assert.equal(requests.filter((r) => r.method() === 'POST').length, 0, 'no form sent');

      // Unticked and sent anyway (a browser that skips validation): Linkflow refuses it too.
      await page.locator('form[action$="/terms"]').evaluate((form) => (form as unknown as { submit(): void }).submit());
      await page.getByRole('alert').waitFor();
      assert.equal(await page.getByRole('alert').innerText(), 'Please accept the terms to continue.');
      await page.getByRole('heading', { level: 1, name: 'Before you continue' }).waitFor();
      await shot(page, 'terms-refused');

      await page.getByLabel('I have read and accept these terms').check();
      await continueButton.click();
      await page.getByRole('heading', { name: 'Choose your bank' }).waitFor();
      assert.ok((await visibleChoices(page)).length > 0);
      // Accepted once: the page goes on to the chooser when reloaded.
      await page.reload();
      await page.getByRole('heading', { name: 'Choose your bank' }).waitFor();
      await shot(page, 'choose-after-terms');
      await context.close();
    } finally {
      await suite.lf.call('PUT', '/v1/connect/settings', { frame_ancestors: [], terms: null });
    }
  });
});
