import assert from 'node:assert/strict';
import { type OxlinSandbox, type OxlinSandboxOptions, startOxlinSandbox } from '../../sandbox/oxlin/server';

/**
 * The end user at the sandbox bank, as a browser does it: open the authorize page, submit
 * the login form, and follow the bank's redirect. Returns where the bank sent the browser.
 */
export async function approveAtBank(authorizeUrl: string, decision: 'approve' | 'deny' = 'approve', username = 'alice'): Promise<URL> {
  const page = await fetch(authorizeUrl);
  assert.equal(page.status, 200);
  const html = await page.text();
  const state = /name="state" value="([^"]+)"/.exec(html)?.[1];
  assert.ok(state, 'the bank page carries its session in the form');
  const action = new URL(/<form method="post" action="([^"]+)"/.exec(html)?.[1] ?? '', authorizeUrl);
  const submitted = await fetch(action, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ state, username, password: 'secret-password', decision }).toString(),
    redirect: 'manual',
  });
  assert.equal(submitted.status, 303);
  return new URL(submitted.headers.get('location') ?? '');
}

/** A client-credentials token from the Oxlin sandbox (its default client). */
export async function issueToken(sandbox: { url: string }): Promise<string> {
  const response = await fetch(`${sandbox.url}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials&client_id=linkflow-sandbox&client_secret=sandbox-secret',
  });
  assert.equal(response.status, 200);
  return ((await response.json()) as { access_token: string }).access_token;
}

export async function json<T>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

/** An Oxlin-shaped error: the status, JSON, `error` as expected and a non-empty description (returned). */
export async function assertOxlinError(response: Response, status: number, error: string): Promise<string> {
  assert.equal(response.status, status);
  assert.match(response.headers.get('content-type') ?? '', /application\/json/);
  const body = await json<{ error: string; error_description: string }>(response);
  assert.equal(body.error, error);
  assert.equal(typeof body.error_description, 'string');
  assert.ok(body.error_description.length > 0);
  return body.error_description;
}

/** Where the sandbox's clock starts in its unit tests. */
export const SANDBOX_START = Date.UTC(2025, 0, 15, 10, 0, 0);

/** A sandbox on a clock the test moves, with a token for its API. */
export interface SandboxHarness {
  sandbox: OxlinSandbox;
  clock: { now: number };
  token: string;
}

export async function startSandboxHarness(options: OxlinSandboxOptions = {}): Promise<SandboxHarness> {
  const clock = { now: SANDBOX_START };
  const sandbox = await startOxlinSandbox({ port: 0, now: () => clock.now, ...options });
  return { sandbox, clock, token: await issueToken(sandbox) };
}

/** Moves sandbox time; tokens live an hour of it, so this takes a fresh one. */
export async function setSandboxClock(h: SandboxHarness, now: number): Promise<void> {
  h.clock.now = now;
  h.token = await issueToken(h.sandbox);
}

/** A call to the sandbox's API with the harness's token (`token: false` for none). */
export function sandboxApi(
  h: SandboxHarness,
  path: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string>; token?: boolean } = {},
): Promise<Response> {
  return fetch(`${h.sandbox.url}${path}`, {
    method: init.method ?? 'GET',
    headers: {
      ...(init.token !== false && { authorization: `Bearer ${h.token}` }),
      ...(init.body !== undefined && { 'content-type': 'application/json' }),
      ...init.headers,
    },
    body: init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : JSON.stringify(init.body),
    redirect: 'manual',
  });
}
