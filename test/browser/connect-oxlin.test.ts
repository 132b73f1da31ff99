// Linkflow Connect in real Chromium, Oxlin: the redirect flow and the embedded flow with the SMS
// challenge (a wrong code first), from the connect_url to the client's redirect_url, through the
// page only; then the data read through the API.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TEST_PASSWORD } from '../../sandbox/oxlin/scenarios';
import { connectSuite, newEndUser, screenshots, sentText } from '../helpers/browser';


describe('Connect page: Oxlin', () => {
  const suite = connectSuite();


  it('redirect: bank page, back to Connect, consent, success, client redirect', async () => {
    const shot = screenshots('oxlin-redirect');
    const { connect_url, connection_id } = await suite.session({ provider: 'oxlin', institution_id: '87' });
    assert.ok(connection_id);
    const { page, context } = await newEndUser(suite.browser);
    await page.goto(connect_url);
    await page.getByRole('link', { name: 'Continue to your bank' }).waitFor();
    await shot(page, 'redirect');
    await page.getByRole('link', { name: 'Continue to your bank' }).click();
    await page.locator('#username').fill('alice');
    await shot(page, 'bank');
    await page.locator('#approve').click();
    await page.getByRole('button', { name: 'Share selected accounts' }).waitFor({ timeout: 20_000 });
    assert.match(page.url(), /\/connect\/s\/cs_/);
    await shot(page, 'consent');
    await page.getByRole('button', { name: 'Share selected accounts' }).click();
    await page.getByRole('heading', { name: 'Your bank is connected' }).waitFor({ timeout: 20_000 }).catch(async (err) => {
      console.log(page.url(), await page.locator('main').innerText().catch(() => '?'), JSON.stringify((await suite.lf.call('GET', `/v1/connections/${connection_id}`)).body));
      throw err;
    });
    await shot(page, 'success');
    await page.waitForURL(`${suite.client}/**`, { timeout: 10_000 });
    const back = new URL(page.url());
    assert.equal(back.pathname, '/linked');
    assert.equal(back.searchParams.get('connection_id'), connection_id);
    assert.equal(back.searchParams.get('outcome'), 'success');
    const accounts = await suite.lf.call('GET', `/v1/connections/${connection_id}/accounts`);
    assert.ok(accounts.body.data.length > 0);
    const transactions = await suite.lf.call('GET', `/v1/connections/${connection_id}/transactions?limit=10`);
    assert.ok(transactions.body.data.length > 0);
    await context.close();
  });

  it('embedded: credentials encrypted in the suite.browser, SMS challenge with a wrong code, then the right one', async () => {
    const shot = screenshots('oxlin-embedded');
    const password = TEST_PASSWORD;
    const { connect_url, connection_id } = await suite.session({ provider: 'oxlin', institution_id: '87', mode: 'embedded' });
    const { page, context, requests } = await newEndUser(suite.browser, { locale: 'fr-FR' });
    await page.goto(connect_url);
    await page.getByRole('heading', { name: 'Connectez-vous à votre banque' }).waitFor();
    await shot(page, 'credentials');
    await page.getByLabel('Identifiant').fill('user_sms');
    await page.getByLabel('Mot de passe').fill(password);
    await page.getByLabel('URL du fichier de configuration').fill('https://bank.example/config.txt');
    await page.getByRole('button', { name: 'Se connecter' }).click();
    await page.getByRole('heading', { name: 'Votre banque demande une confirmation' }).waitFor({ timeout: 20_000 });
    await shot(page, 'challenge-step1');
    await page.getByRole('button', { name: 'Confirmer' }).click();
    await page.locator('input[name="answer:306"]').waitFor({ timeout: 20_000 });
    await page.locator('input[name="answer:306"]').fill('000000');
    await page.getByRole('button', { name: 'Confirmer' }).click();
    await page.locator('.error[role=alert]').first().waitFor({ timeout: 20_000 });
    await shot(page, 'challenge-wrong-code');
    await page.locator('input[name="answer:306"]').fill('123456');
    await page.getByRole('button', { name: 'Confirmer' }).click();
    await page.getByRole('button', { name: 'Partager les comptes sélectionnés' }).waitFor({ timeout: 20_000 });
    await page.getByRole('button', { name: 'Partager les comptes sélectionnés' }).click();
    await page.waitForURL(`${suite.client}/**`, { timeout: 30_000 });
    assert.equal(new URL(page.url()).searchParams.get('outcome'), 'success');
    const view = (await suite.lf.call('GET', `/v1/connections/${connection_id}`)).body;
    assert.equal(view.state, 'active');
    // The password never left the browser in plaintext: not in any URL, header or body it sent.
    const sent = sentText(requests);
    assert.ok(sent.includes('BEGIN PGP MESSAGE') || sent.includes('BEGIN+PGP+MESSAGE'), 'the credentials went encrypted');
    assert.ok(!sent.includes(password) && !sent.includes(encodeURIComponent(password)) , 'no plaintext password');
    await context.close();
  });

  it('a used token is refused with a clear page, and shows nothing of the connection', async () => {
    const { connect_url } = await suite.session({ provider: 'oxlin', institution_id: '87' });
    const first = await newEndUser(suite.browser);
    await first.page.goto(connect_url);
    await first.page.getByRole('link', { name: 'Continue to your bank' }).waitFor();
    const second = await newEndUser(suite.browser);
    const response = await second.page.goto(connect_url);
    assert.equal(response?.status(), 410);
    await second.page.getByText('This link was already used').waitFor();
    assert.doesNotMatch(await second.page.content(), /Continue to your bank|connection_id|cs_/);
    await Promise.all([first.context.close(), second.context.close()]);
  });

  it('renewal of an existing connection through a Connect session', async () => {
    const shot = screenshots('oxlin-renewal');
    const active = await suite.lf.activeRedirectConnection();
    const before = active.channels.find((c) => c.mode === 'redirect')?.expires_at;
    const { connect_url, connection_id } = await suite.session({ connection_id: active.id, action: 'renew' });
    assert.equal(connection_id, active.id);
    const { page, context } = await newEndUser(suite.browser);
    await page.goto(connect_url);
    await page.getByRole('heading', { name: 'Renew access to your bank' }).waitFor();
    await shot(page, 'renewal');
    await page.getByRole('link', { name: 'Continue to your bank' }).click();
    await page.locator('#username').fill('alice');
    await page.locator('#approve').click();
    await page.getByRole('heading', { name: 'Your bank is connected' }).waitFor({ timeout: 20_000 });
    await shot(page, 'renewed');
    await page.waitForURL(`${suite.client}/**`, { timeout: 10_000 });
    assert.equal(new URL(page.url()).searchParams.get('outcome'), 'success');
    const after = await suite.lf.until(active.id, (v) => v.state === 'active' && v.channels.some((c) => c.mode === 'redirect' && c.expires_at !== before));
    assert.equal(after.renewal_due_at === active.renewal_due_at, false);
    await context.close();
  });

  it('an added embedded channel through a Connect session: credentials, then consent for its new accounts', async () => {
    const active = await suite.lf.activeRedirectConnection();
    const { connect_url } = await suite.session({ connection_id: active.id, action: 'add_channel', mode: 'embedded' });
    const { page, context, requests } = await newEndUser(suite.browser);
    await page.goto(connect_url);
    await page.getByRole('heading', { name: 'Sign in to your bank' }).waitFor();
    await page.getByLabel('Identifiant').fill('alice');
    await page.getByLabel('Mot de passe').fill(TEST_PASSWORD);
    await page.getByLabel('URL du fichier de configuration').fill('https://bank.example/config.txt');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Share selected accounts' }).waitFor({ timeout: 20_000 });
    await page.getByRole('button', { name: 'Share selected accounts' }).click();
    await page.waitForURL(`${suite.client}/**`, { timeout: 30_000 });
    const view = await suite.lf.until(active.id, (v) => v.state === 'active');
    assert.equal(view.channels.length, 2);
    assert.ok(view.accounts.filter((a) => a.consent === true).length > active.accounts.filter((a) => a.consent === true).length);
    assert.ok(!sentText(requests).includes(TEST_PASSWORD));
    await context.close();
  });

  it("user_action_required: the bank's own message, and the way back", async () => {
    const shot = screenshots('oxlin-user-action');
    const { connect_url, connection_id } = await suite.session({ provider: 'oxlin', institution_id: '87' });
    const { page, context } = await newEndUser(suite.browser);
    await page.goto(connect_url);
    await page.getByRole('link', { name: 'Continue to your bank' }).click();
    await page.locator('#username').fill('user_action');
    await page.locator('#approve').click();
    await page.getByRole('button', { name: 'Share selected accounts' }).click({ timeout: 20_000 });
    await page.getByRole('heading', { name: 'Your bank needs you' }).waitFor({ timeout: 20_000 });
    await shot(page, 'user-action');
    const view = (await suite.lf.call('GET', `/v1/connections/${connection_id}`)).body;
    assert.equal(view.state, 'user_action_required');
    assert.ok(view.next_action.message);
    await page.getByText(view.next_action.message).waitFor();
    await page.getByRole('link', { name: 'Back to the application' }).click();
    await page.waitForURL(`${suite.client}/**`);
    assert.equal(new URL(page.url()).searchParams.get('outcome'), 'user_action_required');
    await context.close();
  });

  it('denied at the bank: the ending, then Start again with a new connection through to success', async () => {
    const shot = screenshots('oxlin-start-again');
    const { connect_url, connection_id } = await suite.session({ provider: 'oxlin', institution_id: '87' });
    const { page, context } = await newEndUser(suite.browser);
    await page.goto(connect_url);
    await page.getByRole('link', { name: 'Continue to your bank' }).click();
    await page.locator('#deny').click();
    await page.getByRole('button', { name: 'Start again' }).waitFor({ timeout: 20_000 });
    await shot(page, 'ended');
    const ended = (await suite.lf.call('GET', `/v1/connections/${connection_id}`)).body;
    assert.ok(['cancelled', 'failed'].includes(ended.state), ended.state);
    await page.getByRole('button', { name: 'Start again' }).click();
    await page.getByRole('link', { name: 'Continue to your bank' }).click();
    await page.locator('#username').fill('alice');
    await page.locator('#approve').click();
    await page.getByRole('button', { name: 'Share selected accounts' }).click({ timeout: 20_000 });
    await page.waitForURL(`${suite.client}/**`, { timeout: 30_000 });
    const back = new URL(page.url());
    assert.equal(back.searchParams.get('outcome'), 'success');
    const second = back.searchParams.get('connection_id');
    assert.ok(second && second !== connection_id, 'a new connection');
    assert.equal((await suite.lf.call('GET', `/v1/connections/${second}`)).body.state, 'active');
    await context.close();
  });
});
