// The Temporal Web UI as an operator uses it, in real Chromium: the dev server's UI pointed at the
// API's codec endpoint (as `npm start` runs it). A connection's workflow page shows its payloads
// decoded through POST /codec/decode, its activities and timers by their summaries; with the codec
// endpoint unreachable the same page shows ciphertext only. The list shows Linkflow's search
// attributes as columns. Screenshots: test-artifacts/webui/.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { workflowIdFor } from '../../contract/messages';
import { launchChromium, screenshots } from '../helpers/browser';
import { type Linkflow, freePort, startLinkflow } from '../helpers/linkflow';
import { approveAtBank } from '../helpers/oxlin';

const USER_REF = 'user-webui-42';

/** Waits until the page's frames, together, show every one of `texts`. */
async function framesShow(page: Page, texts: string[]): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const shown = (await Promise.all(page.frames().map((frame) => frame.locator('body').innerText({ timeout: 1000 }).catch(() => '')))).join('\n');
    const missing = texts.filter((text) => !shown.includes(text));
    if (missing.length === 0) return;
    if (attempt === 100) assert.fail(`not shown: ${JSON.stringify(missing)} in ${JSON.stringify(shown)}`);
    await page.waitForTimeout(100);
  }
}

describe('the Temporal Web UI, in Chromium, decoding through the codec endpoint', () => {
  let lf: Linkflow;
  let browser: Browser;
  let ui: string;
  let consenting: string;
  const shot = screenshots('webui');

  before(async () => {
    const uiPort = await freePort();
    ui = `http://localhost:${uiPort}`;
    lf = await startLinkflow({ webUiPort: uiPort });
    browser = await launchChromium();

    // One connection waiting for consent (its accounts in history), one active, one waiting for credentials.
    const created = await lf.call('POST', '/v1/connections', { provider: 'oxlin', institution_id: '87', redirect_url: 'https://client.example/linked', user_ref: USER_REF });
    assert.equal(created.status, 201);
    consenting = created.body.id;
    const callback = await approveAtBank(await lf.openLink(created.body.next_action.url), 'approve', 'alice');
    assert.equal((await fetch(callback, { redirect: 'manual' })).status, 303);
    await lf.until(consenting, (v) => v.state === 'awaiting_consent');
    await lf.activeRedirectConnection('bob');
    const waiting = await lf.call('POST', '/v1/connections', { provider: 'powens', institution_id: '59', mode: 'embedded', redirect_url: 'https://client.example/linked', user_ref: 'user-webui-7' });
    assert.equal(waiting.status, 201, JSON.stringify(waiting.body));
  });
  after(async () => {
    await browser?.close();
    await lf?.stop();
  });

  it("shows a connection's input, activity and timer summaries decoded through the codec endpoint", async () => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
    const page = await context.newPage();
    const decodes: number[] = [];
    page.on('response', (response) => {
      if (response.url() === `${lf.api}/codec/decode`) decodes.push(response.status());
    });
    await page.goto(`${ui}/namespaces/default/workflows/${workflowIdFor(consenting)}`);
    // The input, as the client gave it: user_ref and redirect_url are only in sealed payloads.
    await page.getByText(`"userRef": "${USER_REF}"`).waitFor({ timeout: 20_000 });
    await page.getByText('"redirectUrl": "https://client.example/linked"').waitFor();
    // The timeline names each step by its summary: activities and the consent deadline being waited on.
    await page.getByText('Consent deadline: the end user chooses the accounts to share').first().waitFor();
    await page.getByText("List the connection's accounts at the provider", { exact: false }).first().waitFor();
    assert.ok(decodes.length > 0 && decodes.every((status) => status === 200), `codec answers: ${decodes.join(', ')}`);
    await shot(page, 'connection-decoded');

    // User Metadata: the summary given at start and the current details, both sealed in history
    // (the UI renders their markdown in sandboxed frames).
    await page.getByRole('tab', { name: 'User Metadata' }).click();
    await page.getByText('Events with Metadata').waitFor();
    await framesShow(page, [`oxlin 87 — ${USER_REF}`, 'awaiting_consent — 3 accounts waiting for consent']);
    await shot(page, 'connection-user-metadata');
    await context.close();
  });

  it('shows ciphertext only when the codec endpoint cannot be reached', async () => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
    await context.route('**/codec/**', (route) => route.abort('connectionrefused'));
    const page = await context.newPage();
    await page.goto(`${ui}/namespaces/default/workflows/${workflowIdFor(consenting)}`);
    // The input as stored: its encoding (base64 in the payload's JSON) and ciphertext.
    await page.getByText(`"encoding": "${Buffer.from('binary/encrypted').toString('base64')}"`).first().waitFor({ timeout: 20_000 });
    await page.locator('#content').getByText('Codec Server could not connect').waitFor();
    // The history is drawn (activity types are not payloads; decoded, each shows with its summary).
    await page.getByText('listAccounts').first().waitFor();
    const text = await page.innerText('body');
    for (const plaintext of [USER_REF, 'client.example', 'Consent deadline', "List the connection's accounts"]) {
      assert.ok(!text.includes(plaintext), `${plaintext} is not on the page without the codec`);
    }
    await shot(page, 'connection-without-codec');
    await context.close();
  });

  it("lists connections with Linkflow's search attributes as columns", async () => {
    const context = await browser.newContext({ viewport: { width: 1600, height: 480 } });
    const page = await context.newPage();
    await page.goto(`${ui}/namespaces/default/workflows`);
    await page.getByRole('link', { name: workflowIdFor(consenting) }).waitFor();
    // The column settings of the list (kept by the UI in the browser): Linkflow's columns in, run id out.
    await page.getByTestId('workflows-summary-table-configuration-button').click();
    for (const column of ['LinkflowState', 'LinkflowProvider', 'LinkflowUserRef', 'LinkflowNeedsAction']) {
      await page.getByTestId(`orderable-list-item-${column}-add-button`).click();
    }
    for (const column of ['Run ID', 'Type', 'End']) await page.getByTestId(`orderable-list-item-${column}-remove-button`).click();
    await page.getByTestId('drawer-close-button').click();
    await page.getByText('Configure Workflows Table').waitFor({ state: 'hidden' });
    await page.getByRole('button', { name: 'Collapse saved views' }).click();
    for (const header of ['LinkflowState', 'LinkflowProvider', 'LinkflowUserRef']) {
      await page.getByTestId(`workflows-summary-table-header-cell-${header}`).waitFor();
    }
    const row = page.getByTestId('workflows-summary-configurable-table-row').filter({ hasText: workflowIdFor(consenting) });
    for (const cell of ['awaiting_consent', 'oxlin', USER_REF]) await row.getByText(cell, { exact: true }).waitFor();
    const other = page.getByTestId('workflows-summary-configurable-table-row').filter({ hasText: 'user-webui-7' });
    await other.getByText('powens', { exact: true }).waitFor();
    await shot(page, 'list-search-attributes');
    await context.close();
  });
});
