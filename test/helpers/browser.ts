// Real Chromium (Debian's `chromium`) driven by playwright-core, for the Connect page's tests.
// Screenshots go to test-artifacts/ (git-ignored) so a person can look at each step.
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { type Browser, type BrowserContext, type Page, type Request, chromium } from 'playwright-core';

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
