// Each sandbox's `GET /sandbox/…/transaction-count` (the provider's ground truth, over HTTP for
// tests in another process) against what Linkflow imported: one connection per provider driven to
// `active` as test/e2e/providers.test.ts does, every account consented. Then, per provider, a test
// user with a few thousand transactions, its import timed and logged (not asserted).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connectAtFlinks } from '../../sandbox/flinks/end-user';
import { authorizeAtXero } from '../../sandbox/lnkfi/browser';
import type { ConnectionView } from '../../contract/messages';
import { type Linkflow, startLinkflow } from '../helpers/linkflow';
import { approveAtBank } from '../helpers/oxlin';
import { approveInWebview } from '../helpers/powens';

const REDIRECT_URL = 'https://client.example/linked';
type Provider = 'oxlin' | 'flinks' | 'powens' | 'lnkfi';

describe("sandbox transaction counts: the provider's ground truth over HTTP", () => {
  let lf: Linkflow;

  before(async () => {
    lf = await startLinkflow();
  });
  after(async () => {
    await lf?.stop();
  });

  /** The count endpoint of `provider` for its own connection id (Flinks: LoginId). */
  function countUrl(provider: Provider, providerConnectionId: string): string {
    const id = encodeURIComponent(providerConnectionId);
    switch (provider) {
      case 'oxlin':
        return `${lf.sandbox.url}/sandbox/connections/${id}/transaction-count`;
      case 'flinks':
        // Linkflow asks GetAccountsDetail for Days365 (providers/flinks/adapter.ts).
        return `${lf.sandboxes.flinks.url}/sandbox/logins/${id}/transaction-count?DaysOfTransactions=Days365`;
      default:
        return `${lf.sandboxes[provider].url}/sandbox/connections/${id}/transaction-count`;
    }
  }

  async function providerConnectionId(provider: Provider, connectionId: string): Promise<string> {
    const [row] = await lf.db.query<{ provider_connection_id: string }>(
      'SELECT provider_connection_id FROM provider_connections WHERE provider = $1 AND connection_id = $2',
      [provider, connectionId],
    );
    assert.ok(row, `the ${provider} connection is linked`);
    return row.provider_connection_id;
  }

  async function storedByAccount(connectionId: string): Promise<Map<string, number>> {
    const rows = await lf.db.query<{ account: string; n: number }>(
      `SELECT a.provider_account_id AS account, count(t.provider_transaction_id)::int AS n
         FROM accounts a LEFT JOIN transactions t
           ON t.connection_id = a.connection_id AND t.provider_account_id = a.provider_account_id AND t.removed_at IS NULL
        WHERE a.connection_id = $1 GROUP BY a.provider_account_id`,
      [connectionId],
    );
    return new Map(rows.map((r) => [r.account, r.n]));
  }

  /** Asserts the sandbox's counts equal the store's, in all and per account; answers the sandbox's total. */
  async function assertCountsMatch(provider: Provider, connectionId: string): Promise<number> {
    const response = await fetch(countUrl(provider, await providerConnectionId(provider, connectionId)));
    assert.equal(response.status, 200);
    const counts = (await response.json()) as { accounts: Record<string, number>; total: number };
    const sum = Object.values(counts.accounts).reduce((a, b) => a + b, 0);
    assert.equal(counts.total, sum, 'total is the sum of the accounts');
    assert.ok(counts.total > 0, `${provider}: the provider has transactions`);
    assert.equal(counts.total, await lf.repository.countTransactions(connectionId), `${provider}: every transaction imported`);
    const stored = await storedByAccount(connectionId);
    assert.ok(stored.size > 0);
    for (const account of new Set([...stored.keys(), ...Object.keys(counts.accounts)])) {
      assert.equal(stored.get(account) ?? 0, counts.accounts[account] ?? 0, `${provider} account ${account}`);
    }
    // Every stored account is one the provider counts (the ids are the same).
    for (const account of stored.keys()) assert.ok(account in counts.accounts, `${provider} counts account ${account}`);
    return counts.total;
  }

  async function redirectTo(provider: Provider, institutionId: string): Promise<{ id: string; url: string }> {
    const created = await lf.call('POST', '/v1/connections', { provider, institution_id: institutionId, redirect_url: REDIRECT_URL });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const view = created.body as ConnectionView;
    return { id: view.id, url: await lf.openLink(view.next_action?.type === 'redirect' ? view.next_action.url : undefined) };
  }

  async function backToLinkflow(callback: URL): Promise<void> {
    const response = await fetch(callback, { redirect: 'manual' });
    assert.equal(response.status, 303, await response.text());
  }

  /** Polls the connection until `done`, for up to `timeoutMs` (imports of thousands take longer than `lf.until` waits). */
  async function waitFor(id: string, done: (v: ConnectionView) => boolean, timeoutMs: number): Promise<ConnectionView> {
    const deadline = Date.now() + timeoutMs;
    let last: ConnectionView | undefined;
    while (Date.now() < deadline) {
      last = (await lf.call('GET', `/v1/connections/${id}`)).body as ConnectionView;
      if (done(last)) return last;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.fail(`gave up waiting for connection ${id}; it is ${last?.state} (${last?.reason})`);
  }

  /** Consents to every account and waits for `active`. */
  async function consentAllSlowly(id: string, timeoutMs: number): Promise<ConnectionView> {
    const view = await waitFor(id, (v) => v.state === 'awaiting_consent', timeoutMs);
    const accounts = view.next_action?.type === 'consent' ? view.next_action.accounts : [];
    const given = await lf.call('PUT', `/v1/connections/${id}/consents`, { consents: accounts.map((a) => ({ account_id: a.id, consent: true })) });
    assert.equal(given.status, 200, JSON.stringify(given.body));
    return waitFor(id, (v) => v.state === 'active', timeoutMs);
  }

  /** Connects the test user `user` at `provider` the way an end user does, and consents to every account. */
  async function connect(provider: Provider, user: string | undefined, timeoutMs: number): Promise<string> {
    let id: string;
    switch (provider) {
      case 'oxlin': {
        const started = await redirectTo('oxlin', '87');
        id = started.id;
        await backToLinkflow(await approveAtBank(started.url, 'approve', user ?? 'alice'));
        break;
      }
      case 'flinks': {
        const started = await redirectTo('flinks', 'FlinksCapital');
        id = started.id;
        await backToLinkflow(await connectAtFlinks(started.url, user === undefined ? {} : { username: user }));
        break;
      }
      case 'powens': {
        const started = await redirectTo('powens', '61');
        id = started.id;
        await backToLinkflow(await approveInWebview(started.url, user ?? 'alice'));
        break;
      }
      case 'lnkfi': {
        const started = await redirectTo('lnkfi', 'xero');
        id = started.id;
        await backToLinkflow(await authorizeAtXero(started.url, 'approve', user === undefined ? undefined : `${user}@example.com`));
        break;
      }
    }
    const active = await consentAllSlowly(id, timeoutMs);
    assert.equal(active.state, 'active');
    return id;
  }

  for (const provider of ['oxlin', 'flinks', 'powens', 'lnkfi'] as const) {
    it(`${provider}: the endpoint counts exactly what Linkflow imported, in all and per account`, async () => {
      const id = await connect(provider, undefined, 30_000);
      const total = await assertCountsMatch(provider, id);
      console.log(`[sandbox-counts] ${provider} default user: ${total} transactions`);
    });
  }

  it('an unknown connection (Flinks: LoginId) is a 404 JSON error; a bad query a 400', async () => {
    const unknown: Array<[string, string]> = [
      [countUrl('oxlin', '123456789'), 'not_found'],
      [countUrl('flinks', '00000000-0000-0000-0000-000000000000'), 'INVALID_LOGIN'],
      [countUrl('powens', '424242'), 'notFound'],
      [countUrl('lnkfi', 'no-such-connection'), 'connection_not_found'],
    ];
    for (const [url, code] of unknown) {
      const response = await fetch(url);
      assert.equal(response.status, 404, url);
      assert.match(response.headers.get('content-type') ?? '', /json/);
      assert.ok(JSON.stringify(await response.json()).includes(code), url);
    }
    const bad = [
      `${lf.sandbox.url}/sandbox/connections/1/transaction-count?x=1`,
      `${lf.sandboxes.flinks.url}/sandbox/logins/00000000-0000-0000-0000-000000000000/transaction-count?DaysOfTransactions=Days7`,
      `${lf.sandboxes.powens.url}/sandbox/connections/1/transaction-count?all=maybe`,
      `${lf.sandboxes.lnkfi.url}/sandbox/connections/x/transaction-count?y=2`,
    ];
    for (const url of bad) assert.equal((await fetch(url)).status, 400, url);
  });

  // A few thousand transactions per connection (see each sandbox's scenarios.ts): counted and timed.
  const BIG: Array<[Provider, string]> = [
    ['oxlin', 'user_many'],
    ['flinks', 'test_history'],
    ['powens', 'user_many'],
    ['lnkfi', 'long_history'],
  ];
  for (const [provider, user] of BIG) {
    it(`${provider} ${user}: a few thousand transactions, all imported`, async () => {
      const started = Date.now();
      const id = await connect(provider, user, 240_000);
      const seconds = (Date.now() - started) / 1000;
      const total = await assertCountsMatch(provider, id);
      assert.ok(total >= 2000, `${provider} ${user}: ${total} transactions`);
      console.log(`[sandbox-counts] ${provider} ${user}: ${total} transactions, connect to active in ${seconds.toFixed(1)} s`);
    });
  }
});
