// Real Chromium (Debian's `chromium`) driven by playwright-core, for the Connect page's tests.
// Screenshots go to test-artifacts/ (git-ignored) so a person can look at each step.
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { type Browser, type BrowserContext, type Page, type Request, chromium } from 'playwright-core';
import { type Linkflow, type SandboxOptions, startLinkflow } from './linkflow';

/** Where Chromium is: CHROMIUM_PATH, else Debian's. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Screenshots of each step, by test. */
export const ARTIFACTS_DIR = join(__dirname, '..', '..', 'test-artifacts');

/** Headless Chromium with the flags DEVELOPERS.md gives (no sandbox in CI containers, no background traffic). */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update'],
  });
}

/** The client's app, where the page sends the browser at the end: a real HTTP server on loopback. */
export async function startClientApp(): Promise<{ origin: string; close(): Promise<void> }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><html lang="en"><title>client app</title><h1>Back in the client app</h1></html>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { origin: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** A new end user: a fresh browser context (no cookies), phone-sized unless told, recording every request it sends. */
export async function newEndUser(
  browser: Browser,
  options: { locale?: string; viewport?: { width: number; height: number }; bypassCSP?: boolean } = {},
): Promise<{ context: BrowserContext; page: Page; requests: Request[] }> {
  const context = await browser.newContext({
    locale: options.locale ?? 'en-US',
    viewport: options.viewport ?? { width: 390, height: 844 },
    ...(options.bypassCSP ? { bypassCSP: true } : {}),
  });
  const requests: Request[] = [];
  context.on('request', (request) => requests.push(request));
  const page = await context.newPage();
  return { context, page, requests };
}

/** A full-page screenshot of the current step: test-artifacts/<suite>/<nn>-<step>.png. */
export function screenshots(suite: string): (page: Page, step: string) => Promise<void> {
  let n = 0;
  return async (page, step) => {
    const dir = join(ARTIFACTS_DIR, suite);
    await mkdir(dir, { recursive: true });
    n++;
    await page.screenshot({ path: join(dir, `${String(n).padStart(2, '0')}-${step}.png`), fullPage: true });
  };
}

/** Every byte the browser sent: URLs, headers and bodies of each request, as one text to search. */
export function sentText(requests: Request[]): string {
  return requests.map((r) => [r.method(), r.url(), JSON.stringify(r.headers()), r.postData() ?? ''].join('\n')).join('\n---\n');
}

/** What a Connect browser test file shares: one Linkflow, one Chromium, one client app. */
export interface ConnectSuite {
  lf: Linkflow;
  browser: Browser;
  /** The client app's origin; its `/linked` is every session's `redirect_url`. */
  client: string;
  /** POST /v1/connect-sessions with `redirect_url` set to the client app (201 asserted). */
  session(body?: Record<string, unknown>): Promise<{ id: string; connect_url: string; connection_id: string | null }>;
}

/**
 * Registers, in the calling `describe`, the hooks that start Linkflow (`options` as startLinkflow's),
 * Chromium and the client app before the tests and stop them after; the fields are set once the
 * `before` hook has run.
 */
export function connectSuite(options: SandboxOptions = {}): ConnectSuite {
  let clientApp: Awaited<ReturnType<typeof startClientApp>> | undefined;
  const suite = {
    session: async (body: Record<string, unknown> = {}) => {
      const created = await suite.lf.call('POST', '/v1/connect-sessions', { redirect_url: `${suite.client}/linked`, ...body });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      return created.body;
    },
  } as ConnectSuite;
  before(async () => {
    [suite.lf, suite.browser, clientApp] = await Promise.all([startLinkflow(options), launchChromium(), startClientApp()]);
    suite.client = clientApp.origin;
  });
  after(async () => {
    await suite.browser?.close();
    await clientApp?.close();
    await suite.lf?.stop();
  });
  return suite;
}

/**
 * Back from the bank on the Connect page's consent step: its "Share" button (answered), after
 * checking the browser is on a Connect session's page. On a timeout, prints where the browser is
 * and what the API says of the connection, then fails.
 */
export async function backOnConsent(page: Page, lf: Linkflow, connectionId: string | null): Promise<import('playwright-core').Locator> {
  const share = page.getByRole('button', { name: 'Share selected accounts' });
  await share.waitFor({ timeout: 30_000 }).catch(async (err: unknown) => {
    const view = connectionId ? JSON.stringify((await lf.call('GET', `/v1/connections/${connectionId}`)).body) : 'no connection';
    console.log(page.url(), await page.locator('body').innerText().catch(() => '?'), view);
    throw err;
  });
  assert.match(page.url(), /\/connect\/s\/cs_[0-9a-f]{32}/);
  return share;
}

/** The success step, then the client's `redirect_url` with this connection and `outcome=success`. */
export async function expectClientReturn(page: Page, client: string, connectionId: string | null, shot?: (page: Page, step: string) => Promise<void>): Promise<void> {
  await page.getByRole('heading', { name: 'Your bank is connected' }).waitFor({ timeout: 30_000 });
  await shot?.(page, 'success');
  await page.waitForURL(`${client}/**`, { timeout: 10_000 });
  const back = new URL(page.url());
  assert.equal(back.pathname, '/linked');
  assert.equal(back.searchParams.get('connection_id'), connectionId);
  assert.equal(back.searchParams.get('outcome'), 'success');
  await page.getByRole('heading', { name: 'Back in the client app' }).waitFor();
}
