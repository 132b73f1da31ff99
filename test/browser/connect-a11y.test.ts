// Linkflow Connect in real Chromium, accessibility: axe-core on every step reached (the tenant's
// terms, the chooser, the Oxlin embedded flow's credentials, challenge and its error, consent,
// success; LnkFi's terms, the redirect step, the cancelled ending): no `serious` or `critical`
// violation. And the Oxlin redirect flow's Connect-side steps done with the keyboard only.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { SMS_CODE, TEST_PASSWORD } from '../../sandbox/oxlin/scenarios';
import { connectSuite, newEndUser, screenshots } from '../helpers/browser';

const AXE = require.resolve('axe-core/axe.min.js');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[]; failureSummary?: string }[];
}

/**
 * axe-core's violations of the page as it is now (injected as a script, which the page's CSP lets
 * in only because the context bypasses CSP), those `serious` or `critical`, as readable lines.
 */
async function seriousViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async () => {
    const { axe } = globalThis as unknown as { axe: { run(options: object): Promise<{ violations: AxeViolation[] }> } };
    return (await axe.run({ resultTypes: ['violations'] })).violations;
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')}`);
}

describe('Connect page: accessibility', () => {
  const suite = connectSuite();


  /** Every step checked is recorded, so the test says which it reached. */
  function checker(suite: string): { check(page: Page, step: string): Promise<void>; checked: string[] } {
    const shot = screenshots(suite);
    const checked: string[] = [];
    return {
      checked,
      async check(page, step) {
        await shot(page, step);
        assert.deepEqual(await seriousViolations(page), [], `axe on the ${step} step`);
        checked.push(step);
      },
    };
  }

  it('terms, chooser, Oxlin embedded (credentials, challenge, wrong code), consent, success: no serious or critical violation', async () => {
    const { check, checked } = checker('a11y-embedded');
    assert.equal((await suite.lf.call('PUT', '/v1/connect/settings', { frame_ancestors: [], terms: 'Acme Lending reads your accounts to assess your application.' })).status, 200);
    try {
      const { page, context } = await newEndUser(suite.browser, { bypassCSP: true });
      await page.goto((await suite.session()).connect_url);
      await page.getByRole('heading', { level: 1, name: 'Before you continue' }).waitFor();
      await check(page, 'terms');
      await page.locator('form[action$="/terms"]').evaluate((form) => (form as unknown as { submit(): void }).submit());
      await page.getByRole('alert').waitFor();
      await check(page, 'terms-refused');
      await page.getByLabel('I have read and accept these terms').check();
      await page.getByRole('button', { name: 'Continue', exact: true }).click();

      await page.getByRole('heading', { name: 'Choose your bank' }).waitFor();
      await check(page, 'choose');
      await page.getByRole('searchbox', { name: 'Search for your bank' }).pressSequentially('zzz');
      await page.getByText('No bank matches your search.').waitFor();
      await check(page, 'choose-no-match');
      await page.getByRole('searchbox', { name: 'Search for your bank' }).fill('');
      await page.getByRole('button', { name: 'Linxo Test Bank — Enter your credentials here' }).click();

      await page.getByRole('heading', { name: 'Sign in to your bank' }).waitFor({ timeout: 20_000 });
      await check(page, 'credentials');
      await page.getByLabel('Identifiant').fill('user_sms');
      await page.getByLabel('Mot de passe').fill(TEST_PASSWORD);
      await page.getByLabel('URL du fichier de configuration').fill('not a url');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.locator('[aria-invalid=true]').first().waitFor();
      await check(page, 'credentials-invalid-field');
      await page.getByLabel('URL du fichier de configuration').fill('https://bank.example/config.txt');
      await page.getByRole('button', { name: 'Sign in' }).click();

      await page.getByRole('heading', { name: 'Your bank needs a confirmation' }).waitFor({ timeout: 20_000 });
      await check(page, 'challenge');
      await page.getByRole('button', { name: 'Confirm' }).click();
      const code = page.locator('input[name="answer:306"]');
      await code.waitFor({ timeout: 20_000 });
      await check(page, 'challenge-code');
      await code.fill('000000');
      await page.getByRole('button', { name: 'Confirm' }).click();
      await page.locator('.error[role=alert]').first().waitFor({ timeout: 20_000 });
      await check(page, 'challenge-wrong-code');
      await page.locator('input[name="answer:306"]').fill(SMS_CODE);
      await page.getByRole('button', { name: 'Confirm' }).click();

      const share = page.getByRole('button', { name: 'Share selected accounts' });
      await share.waitFor({ timeout: 20_000 });
      await check(page, 'consent');
      for (const box of await page.getByRole('checkbox').all()) await box.uncheck();
      await share.click();
      await check(page, 'consent-none-chosen');
      await page.locator('form[action$="/consent"]').evaluate((form) => (form as unknown as { submit(): void }).submit());
      await page.getByRole('alert').waitFor();
      await check(page, 'consent-refused');
      await page.getByRole('checkbox').first().check();
      await share.click();

      await page.getByRole('heading', { name: 'Your bank is connected' }).waitFor({ timeout: 30_000 });
      await check(page, 'success');
      await page.waitForURL(`${suite.client}/**`, { timeout: 10_000 });
      assert.equal(new URL(page.url()).searchParams.get('outcome'), 'success');
      await context.close();
    } finally {
      await suite.lf.call('PUT', '/v1/connect/settings', { frame_ancestors: [], terms: null });
    }
    assert.equal(checked.length, 13);
  });

  it("LnkFi's terms, the redirect step, the cancelled ending: no serious or critical violation", async () => {
    const { check, checked } = checker('a11y-lnkfi');
    const { page, context } = await newEndUser(suite.browser, { bypassCSP: true });
    await page.goto((await suite.session({ provider: 'lnkfi', institution_id: 'xero' })).connect_url);
    await page.getByRole('heading', { level: 1, name: 'Before you continue' }).waitFor();
    await check(page, 'provider-terms');
    await page.getByLabel('I have read and accept these terms').check();
    await page.getByRole('button', { name: 'Continue', exact: true }).click();
    await page.getByRole('link', { name: 'Continue to your bank' }).waitFor();
    await check(page, 'redirect');
    await page.getByRole('link', { name: 'Continue to your bank' }).click();
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('heading', { name: 'The connection was cancelled' }).waitFor({ timeout: 30_000 });
    await check(page, 'cancelled');
    await context.close();
    assert.deepEqual(checked, ['provider-terms', 'redirect', 'cancelled']);
  });

  /** Presses Tab until `target` has the focus (at most `max` times); fails otherwise. */
  async function tabTo(page: Page, target: Locator, max = 25): Promise<void> {
    for (let i = 0; i < max; i++) {
      await page.keyboard.press('Tab');
      if (await target.evaluate((el) => el === (globalThis as unknown as { document: { activeElement: unknown } }).document.activeElement).catch(() => false)) return;
    }
    assert.fail(`Tab never reached ${target}`);
  }

  it('keyboard only: the Oxlin redirect flow on the Connect side with Tab, Space and Enter', async () => {
    const shot = screenshots('keyboard-oxlin-redirect');
    const { connect_url, connection_id } = await suite.session({ provider: 'oxlin', institution_id: '87' });
    const { page, context } = await newEndUser(suite.browser);
    await page.goto(connect_url);
    const toBank = page.getByRole('link', { name: 'Continue to your bank' });
    await toBank.waitFor();
    await tabTo(page, toBank);
    await shot(page, 'redirect-focused');
    await page.keyboard.press('Enter');

    // The bank's page itself, filled as anyone would.
    await page.locator('#username').fill('alice');
    await page.locator('#approve').click();

    const share = page.getByRole('button', { name: 'Share selected accounts' });
    await share.waitFor({ timeout: 30_000 });
    const boxes = page.getByRole('checkbox');
    const count = await boxes.count();
    assert.ok(count >= 2, 'more than one account to choose from');
    // Leave out the last account: Tab to it, Space unticks it.
    await tabTo(page, boxes.nth(count - 1));
    await page.keyboard.press('Space');
    assert.equal(await boxes.nth(count - 1).isChecked(), false);
    await shot(page, 'consent-keyboard');
    await tabTo(page, share);
    await page.keyboard.press('Enter');

    const backLink = page.getByRole('link', { name: 'Back to the application' });
    await backLink.waitFor({ timeout: 30_000 });
    await tabTo(page, backLink);
    await page.keyboard.press('Enter');
    await page.waitForURL(`${suite.client}/**`, { timeout: 10_000 });
    const back = new URL(page.url());
    assert.equal(back.searchParams.get('connection_id'), connection_id);
    assert.equal(back.searchParams.get('outcome'), 'success');
    const accounts = await suite.lf.call('GET', `/v1/connections/${connection_id}/accounts`);
    assert.equal(accounts.body.data.length, count - 1, 'every account but the one left out');
    await context.close();
  });
});
