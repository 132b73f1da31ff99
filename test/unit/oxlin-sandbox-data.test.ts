// The Oxlin sandbox's transaction data as an incremental sync sees it: the min_date filter, the
// provider's corrections and deletions (sandbox controls), the 100,000-transaction user, and
// Linkflow's adapter passing `since` on.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createOxlinAdapter } from '../../providers/oxlin/adapter';
import type { ProviderAdapter, ProviderConnection } from '../../providers/types';
import {
  SANDBOX_START,
  type SandboxHarness,
  approveAtBank,
  assertOxlinError,
  json,
  sandboxApi,
  setSandboxClock,
  startSandboxHarness,
} from '../helpers/oxlin';

const DAY_SECONDS = 86_400;
/** Midnight UTC of the sandbox clock's day (15 January 2025), in Unix seconds. */
const TODAY = Math.floor(SANDBOX_START / 1000 / DAY_SECONDS) * DAY_SECONDS;

interface Transaction {
  id: string;
  account_id: string;
  date: number;
  amount: number;
  currency: string;
  label: string;
  category_id: string;
  status: string;
}

async function transactions(h: SandboxHarness, accountId: string, query = ''): Promise<{ items: Transaction[]; total: number }> {
  const response = await sandboxApi(h, `/v2.1/transactions?account_id=${accountId}${query}`);
  assert.equal(response.status, 200, await response.clone().text());
  return { items: await json<Transaction[]>(response), total: Number(response.headers.get('x-total-count')) };
}

/** Polls the queue until an event of `type` arrives. */
async function waitForEvent(h: SandboxHarness, queueId: string, type: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const events = await json<{ event_type: string }[]>(await sandboxApi(h, `/v2.1/queues/${queueId}`));
    if (events.some((event) => event.event_type === type)) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.fail(`no ${type} event`);
}

/** A REDIRECT connection of `user` whose accounts all have consent and are synchronized. */
async function activeConnection(h: SandboxHarness, user: string): Promise<{ connectionId: string; accountIds: string[] }> {
  const response = await sandboxApi(h, '/v2.1/providers/87/channels/8701/authorize_url', {
    method: 'POST',
    body: { redirect_uri: 'https://app.example/callback' },
  });
  assert.equal(response.status, 201);
  const back = await approveAtBank(response.headers.get('location') ?? '', 'approve', user);
  const connectionId = back.searchParams.get('connection_id') ?? '';
  const queueId = back.searchParams.get('queue_id') ?? '';
  await waitForEvent(h, queueId, 'LIST_ACCOUNTS_SUCCESS');
  const accounts = await json<{ id: string }[]>(await sandboxApi(h, `/v2.1/accounts?connection_id=${connectionId}`));
  const consents = accounts.map((account) => ({ account_id: account.id, consent: true }));
  assert.equal((await sandboxApi(h, `/v2.1/connections/${connectionId}/consents`, { method: 'PUT', body: { consents } })).status, 204);
  await waitForEvent(h, queueId, 'SYNC_ALL_SUCCESS');
  return { connectionId, accountIds: accounts.map((account) => account.id) };
}

const modify = (h: SandboxHarness, accountId: string, transactionId: string, body: unknown) =>
  sandboxApi(h, `/sandbox/accounts/${accountId}/transactions/${transactionId}/modify`, { method: 'POST', body, token: false });

const drop = (h: SandboxHarness, accountId: string, transactionId: string) =>
  sandboxApi(h, `/sandbox/accounts/${accountId}/transactions/${transactionId}`, { method: 'DELETE', token: false });

/** Moves the clock a minute on and runs a SYNC_ALL of the connection: reads then show the bank's data as of now. */
async function syncAgain(h: SandboxHarness, connectionId: string): Promise<void> {
  await setSandboxClock(h, h.clock.now + 60_000);
  const synced = Math.floor(h.clock.now / 1000);
  assert.equal((await sandboxApi(h, `/v2.1/connections/${connectionId}/synchronize`, { method: 'POST' })).status, 202);
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const connection = await json<{ channels: { status: string; last_success_date?: number }[] }>(await sandboxApi(h, `/v2.1/connections/${connectionId}`));
    if (connection.channels.some((c) => c.status === 'SUCCESS' && (c.last_success_date ?? 0) >= synced)) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.fail('the SYNC_ALL did not end');
}

const addTransaction = (h: SandboxHarness, accountId: string, body: unknown) =>
  sandboxApi(h, `/sandbox/accounts/${accountId}/transactions`, { method: 'POST', body, token: false });

const post = (h: SandboxHarness, accountId: string, transactionId: string, body: unknown = {}) =>
  sandboxApi(h, `/sandbox/accounts/${accountId}/transactions/${transactionId}/post`, { method: 'POST', body, token: false });

/** Every page of `query`, read `limit` at a time. */
async function readAll(h: SandboxHarness, accountId: string, limit: number, query = ''): Promise<Transaction[]> {
  const all: Transaction[] = [];
  for (;;) {
    const { items, total } = await transactions(h, accountId, `&limit=${limit}&offset=${all.length}${query}`);
    all.push(...items);
    if (items.length === 0 || all.length >= total) return all;
  }
}

void describe('oxlin sandbox: min_date', () => {
  let h: SandboxHarness;
  let accountId: string;
  before(async () => {
    h = await startSandboxHarness({ listDelayMs: 10, syncDelayMs: 10 });
    [accountId = ''] = (await activeConnection(h, 'alice')).accountIds;
  });
  after(() => h.sandbox.close());

  void test('keeps the transactions booked that day or later, newest first, with their total', async () => {
    const whole = await transactions(h, accountId, '&limit=500');
    assert.equal(whole.total, 91);
    const recent = await transactions(h, accountId, '&min_date=2025-01-06');
    assert.equal(recent.total, 10, '6 to 15 January');
    assert.deepEqual(recent.items, whole.items.slice(0, 10));
    assert.equal(recent.items.at(-1)?.date, Date.UTC(2025, 0, 6) / 1000);
    assert.deepEqual((await transactions(h, accountId, '&min_date=2025-01-15')).items.map((t) => t.date), [TODAY]);
  });

  void test('pages the filtered transactions by limit and offset', async () => {
    const page = await transactions(h, accountId, '&min_date=2025-01-06&limit=4&offset=8');
    assert.equal(page.total, 10);
    assert.deepEqual(page.items.map((t) => t.date), [Date.UTC(2025, 0, 7) / 1000, Date.UTC(2025, 0, 6) / 1000]);
    assert.deepEqual(await transactions(h, accountId, '&min_date=2025-01-06&offset=10'), { items: [], total: 10 });
    assert.deepEqual((await readAll(h, accountId, 3, '&min_date=2025-01-06')).map((t) => t.id), (await transactions(h, accountId, '&limit=10')).items.map((t) => t.id));
  });

  void test('a date before the history keeps everything; one after it keeps nothing', async () => {
    assert.equal((await transactions(h, accountId, '&min_date=2000-01-01')).total, 91);
    assert.deepEqual(await transactions(h, accountId, '&min_date=2025-01-16'), { items: [], total: 0 });
  });

  void test('rejects a min_date that is not a day YYYY-MM-DD', async () => {
    for (const bad of ['2025-1-6', '2025-02-30', 'yesterday', '2025-01-06T00:00:00Z', '']) {
      const response = await sandboxApi(h, `/v2.1/transactions?account_id=${accountId}&min_date=${encodeURIComponent(bad)}`);
      assert.match(await assertOxlinError(response, 400, 'invalid_request'), /min_date/);
    }
  });
});

void describe('oxlin sandbox: the provider corrects and drops transactions', () => {
  let h: SandboxHarness;
  let accountId: string;
  let otherAccountId: string;
  before(async () => {
    h = await startSandboxHarness({ listDelayMs: 10, syncDelayMs: 10 });
    [accountId = '', otherAccountId = ''] = (await activeConnection(h, 'alice')).accountIds;
  });
  after(() => h.sandbox.close());

  void test('a modified transaction reads with its new amount and label, and nothing else changes', async () => {
    const before = await transactions(h, accountId, '&limit=500');
    const target = before.items[3];
    assert.ok(target);
    assert.equal(target.id, `${accountId}-87`);
    assert.equal((await modify(h, accountId, target.id, { amount: -12.34 })).status, 204);
    assert.equal((await modify(h, accountId, target.id, { label: 'CB CARREFOUR MARKET (CORRIGE)' })).status, 204);

    const after = await transactions(h, accountId, '&limit=500');
    assert.equal(after.total, 91);
    assert.deepEqual(after.items[3], { ...target, amount: -12.34, label: 'CB CARREFOUR MARKET (CORRIGE)' }, 'corrections add up');
    assert.deepEqual(after.items.filter((t) => t.id !== target.id), before.items.filter((t) => t.id !== target.id));
    assert.deepEqual((await transactions(h, accountId, '&min_date=2025-01-12')).items.at(-1), after.items[3]);
    assert.deepEqual((await transactions(h, accountId, '&limit=1&offset=3')).items, [after.items[3]], 'every read shows it');
  });

  void test('a deleted transaction is gone from every read; totals and pages close up', async () => {
    const before = await transactions(h, accountId, '&limit=500');
    const gone = [`${accountId}-90`, `${accountId}-85`, `${accountId}-84`, `${accountId}-0`];
    for (const id of gone) assert.equal((await drop(h, accountId, id)).status, 204, id);

    const after = await transactions(h, accountId, '&limit=500');
    assert.equal(after.total, 91 - gone.length);
    assert.deepEqual(after.items, before.items.filter((t) => !gone.includes(t.id)));
    assert.deepEqual((await readAll(h, accountId, 7)).map((t) => t.id), after.items.map((t) => t.id), 'nothing lost, nothing doubled');
    const recent = await transactions(h, accountId, '&min_date=2025-01-06');
    assert.equal(recent.total, 10 - 3);
    assert.deepEqual(recent.items, after.items.slice(0, 7));
    assert.deepEqual((await transactions(h, accountId, '&min_date=2025-01-06&limit=2&offset=2')).items, after.items.slice(2, 4));
    assert.deepEqual(await transactions(h, accountId, '&min_date=2025-01-15'), { items: [], total: 0 }, 'the day of 90 had only it');
  });

  void test('404 for unknown accounts and transactions, deleted ones included', async () => {
    for (const response of [
      await drop(h, accountId, `${accountId}-90`),
      await modify(h, accountId, `${accountId}-90`, { amount: 1 }),
      await drop(h, accountId, `${accountId}-91`),
      await drop(h, accountId, `${accountId}-090`),
      await drop(h, accountId, `${accountId}-x`),
      await drop(h, accountId, `${otherAccountId}-5`),
      await drop(h, '404404', '404404-1'),
      await modify(h, '404404', '404404-1', { amount: 1 }),
    ]) {
      await assertOxlinError(response, 404, 'not_found');
    }
  });

  void test('400 for a correction that is not one', async () => {
    const id = `${otherAccountId}-10`;
    for (const body of [{}, { amount: '12' }, { amount: 1.234 }, { label: '' }, { label: 'x', date: 0 }, []]) {
      await assertOxlinError(await modify(h, otherAccountId, id, body), 400, 'invalid_request');
    }
    await assertOxlinError(await modify(h, otherAccountId, id, '{'), 400, 'invalid_request');
    await assertOxlinError(await sandboxApi(h, `/sandbox/accounts/${otherAccountId}/transactions/${id}?x=1`, { method: 'DELETE', token: false }), 400, 'invalid_request');
    assert.equal((await transactions(h, otherAccountId)).total, 91, 'nothing changed');
  });
});

void describe('oxlin sandbox: user_transfer, one transaction id on two accounts', () => {
  let h: SandboxHarness;
  let accountIds: string[];
  before(async () => {
    h = await startSandboxHarness({ listDelayMs: 10, syncDelayMs: 10 });
    ({ accountIds } = await activeConnection(h, 'user_transfer'));
  });
  after(() => h.sandbox.close());

  void test('both legs of the transfer carry TRF-1, one on each checking account, booked today', async () => {
    const [from = '', to = '', card = ''] = accountIds;
    const [debit, credit, third] = await Promise.all([from, to, card].map((id) => transactions(h, id, '&limit=500')));
    assert.deepEqual([debit?.total, credit?.total, third?.total], [92, 92, 91]);
    assert.deepEqual(debit?.items[0], {
      id: 'TRF-1',
      account_id: from,
      date: TODAY,
      amount: -500,
      currency: 'EUR',
      label: 'VIR INTERNE VERS COMPTE JOINT',
      category_id: '90',
      status: 'BOOKED',
    });
    assert.deepEqual(credit?.items[0], { ...debit?.items[0], account_id: to, amount: 500, label: 'VIR INTERNE DE COMPTE COURANT' });
    assert.ok(!third?.items.some((t) => t.id === 'TRF-1'));
    assert.equal(debit?.items[1]?.id, `${from}-90`, 'before the generated transaction of its day');
  });

  void test('pages, min_date and corrections count the transfer like any transaction', async () => {
    const [from = '', to = ''] = accountIds;
    const whole = await transactions(h, from, '&limit=500');
    assert.deepEqual((await readAll(h, from, 7)).map((t) => t.id), whole.items.map((t) => t.id), 'nothing lost, nothing doubled');
    assert.deepEqual((await transactions(h, from, '&limit=2&offset=1')).items.map((t) => t.id), [`${from}-90`, `${from}-89`]);
    const today = await transactions(h, from, '&min_date=2025-01-15');
    assert.deepEqual([today.total, today.items.map((t) => t.id)], [2, ['TRF-1', `${from}-90`]]);
    assert.deepEqual(await transactions(h, from, '&min_date=2025-01-16'), { items: [], total: 0 });

    assert.equal((await modify(h, from, 'TRF-1', { label: 'VIR INTERNE (CORRIGE)' })).status, 204);
    assert.equal((await transactions(h, from, '&limit=1')).items[0]?.label, 'VIR INTERNE (CORRIGE)');
    assert.equal((await transactions(h, to, '&limit=1')).items[0]?.label, 'VIR INTERNE DE COMPTE COURANT', 'the other leg is another transaction');
    assert.equal((await drop(h, to, 'TRF-1')).status, 204);
    assert.equal((await transactions(h, to, '&limit=1')).total, 91);
    assert.equal((await transactions(h, from, '&limit=1')).items[0]?.id, 'TRF-1');
  });
});

void describe('oxlin sandbox: a pending transaction booked under a new id', () => {
  let h: SandboxHarness;
  let connectionId: string;
  let accountId: string;
  before(async () => {
    h = await startSandboxHarness({ listDelayMs: 10, syncDelayMs: 10 });
    let accountIds: string[];
    ({ connectionId, accountIds } = await activeConnection(h, 'alice'));
    [accountId = ''] = accountIds;
  });
  after(() => h.sandbox.close());

  void test('shows from the next SYNC_ALL as PENDING; booked, it reads under its new id as BOOKED', async () => {
    await setSandboxClock(h, h.clock.now + 60_000);
    const added = await addTransaction(h, accountId, { amount: -18.4, label: 'CB CINEMA', status: 'PENDING' });
    assert.equal(added.status, 201);
    assert.deepEqual(await json(added), { id: `${accountId}-X1` });
    assert.equal((await transactions(h, accountId)).total, 91, 'not before Oxlin synchronizes');

    await syncAgain(h, connectionId);
    const pending = await transactions(h, accountId, '&limit=2');
    assert.equal(pending.total, 92);
    assert.deepEqual(pending.items[0], {
      id: `${accountId}-X1`,
      account_id: accountId,
      date: TODAY,
      amount: -18.4,
      currency: 'EUR',
      label: 'CB CINEMA',
      category_id: '0',
      status: 'PENDING',
    });
    assert.equal(pending.items[1]?.status, 'BOOKED');

    const booked = await post(h, accountId, `${accountId}-X1`, { id: 'B-77' });
    assert.equal(booked.status, 201);
    assert.deepEqual(await json(booked), { id: 'B-77' });
    assert.deepEqual((await transactions(h, accountId, '&limit=1')).items[0]?.id, `${accountId}-X1`, 'still pending until Oxlin synchronizes');
    await assertOxlinError(await post(h, accountId, `${accountId}-X1`), 409, 'conflict');

    await syncAgain(h, connectionId);
    const after = await transactions(h, accountId, '&limit=500');
    assert.equal(after.total, 92);
    assert.deepEqual(after.items[0], { ...pending.items[0], id: 'B-77', status: 'BOOKED' });
    assert.ok(!after.items.some((t) => t.id === `${accountId}-X1`));
    assert.deepEqual((await readAll(h, accountId, 9)).map((t) => t.id), after.items.map((t) => t.id));
    // Without an id, the bank numbers it.
    assert.deepEqual(await json(await addTransaction(h, accountId, { amount: 5, label: 'VIR RECU' })), { id: `${accountId}-X3` });
  });

  void test('refuses what is not pending, unknown ids and bodies, and ids already taken', async () => {
    await assertOxlinError(await post(h, accountId, `${accountId}-5`), 409, 'conflict');
    await assertOxlinError(await post(h, accountId, 'B-77'), 409, 'conflict');
    await assertOxlinError(await post(h, accountId, 'nope'), 404, 'not_found');
    await assertOxlinError(await addTransaction(h, '404404', { amount: 1, label: 'x' }), 404, 'not_found');
    for (const body of [{}, { amount: 1 }, { amount: 1.234, label: 'x' }, { amount: 1, label: 'x', status: 'CANCELLED' }, { amount: 1, label: 'x', date: 0 }]) {
      await assertOxlinError(await addTransaction(h, accountId, body), 400, 'invalid_request');
    }
    await assertOxlinError(await addTransaction(h, accountId, { amount: 1, label: 'x', id: `${accountId}-5` }), 409, 'conflict');
    await assertOxlinError(await addTransaction(h, accountId, { amount: 1, label: 'x', id: 'B-77' }), 409, 'conflict');
  });
});

void describe('oxlin sandbox: user_huge', () => {
  let h: SandboxHarness;
  let accountIds: string[];
  before(async () => {
    h = await startSandboxHarness({ listDelayMs: 10, syncDelayMs: 10 });
    ({ accountIds } = await activeConnection(h, 'user_huge'));
  });
  after(() => h.sandbox.close());

  void test('two accounts hold 100,000 transactions, 25 a day', async () => {
    assert.equal(accountIds.length, 2);
    const totals = await Promise.all(accountIds.map(async (id) => (await transactions(h, id, '&limit=1')).total));
    assert.deepEqual(totals, [50_000, 50_000]);
    const [accountId = ''] = accountIds;
    const newest = await transactions(h, accountId, '&limit=30');
    assert.deepEqual(newest.items.map((t) => t.id), Array.from({ length: 30 }, (_, i) => `${accountId}-${49_999 - i}`));
    assert.deepEqual(newest.items.map((t) => t.date), [...Array<number>(25).fill(TODAY), ...Array<number>(5).fill(TODAY - DAY_SECONDS)]);
    assert.equal(new Set(newest.items.slice(0, 25).map((t) => `${t.label} ${t.amount}`)).size > 1, true, 'a day holds different transactions');
  });

  void test('the oldest page is served like the newest', async () => {
    const [accountId = ''] = accountIds;
    const oldest = await transactions(h, accountId, '&limit=500&offset=49500');
    assert.equal(oldest.items.length, 500);
    assert.equal(oldest.items.at(-1)?.id, `${accountId}-0`);
    assert.equal(oldest.items.at(-1)?.date, TODAY - 1999 * DAY_SECONDS, 'about 5.5 years of history');
    assert.deepEqual(await transactions(h, accountId, '&limit=500&offset=50000'), { items: [], total: 50_000 });
  });

  void test('min_date, modify and delete work at volume', async () => {
    const [, accountId = ''] = accountIds;
    assert.equal((await transactions(h, accountId, '&min_date=2025-01-06&limit=1')).total, 250);
    assert.equal((await drop(h, accountId, `${accountId}-49999`)).status, 204);
    assert.equal((await drop(h, accountId, `${accountId}-12345`)).status, 204);
    assert.equal((await modify(h, accountId, `${accountId}-100`, { amount: 1 })).status, 204);
    assert.equal((await transactions(h, accountId, '&limit=1')).total, 49_998);
    assert.equal((await transactions(h, accountId, '&limit=1')).items[0]?.id, `${accountId}-49998`);
    const tail = await transactions(h, accountId, '&limit=500&offset=49498');
    assert.equal(tail.items.length, 500);
    assert.deepEqual(tail.items.map((t) => t.id), Array.from({ length: 500 }, (_, i) => `${accountId}-${499 - i}`));
    assert.equal(tail.items[399]?.amount, 1);
    assert.equal((await transactions(h, accountId, '&min_date=2025-01-06&limit=1')).total, 249);
  });
});

void describe('oxlin adapter: fetchTransactions', () => {
  let h: SandboxHarness;
  let adapter: ProviderAdapter;
  before(async () => {
    h = await startSandboxHarness({ listDelayMs: 10, syncDelayMs: 10 });
    adapter = createOxlinAdapter({ baseUrl: h.sandbox.url, clientId: 'linkflow-sandbox', clientSecret: 'sandbox-secret' });
  });
  after(() => h.sandbox.close());

  const connectionOf = (connectionId: string): ProviderConnection => ({ providerConnectionId: connectionId, providerRef: {} });

  void test('since reaches Oxlin as min_date', async () => {
    const { connectionId, accountIds } = await activeConnection(h, 'alice');
    const [accountId = ''] = accountIds;
    const everything = await adapter.fetchTransactions(connectionOf(connectionId), accountId, null, null);
    assert.equal(everything.items.length, 91);
    const recent = await adapter.fetchTransactions(connectionOf(connectionId), accountId, null, '2025-01-06');
    assert.deepEqual(recent, { items: everything.items.slice(0, 10), nextCursor: null });
    assert.equal(recent.items.at(-1)?.bookedAt, '2025-01-06T00:00:00.000Z');
  });

  void test('maps PENDING to pending, BOOKED to not; the same id on two accounts stays with each; no link to a pending one', async () => {
    const { connectionId, accountIds } = await activeConnection(h, 'user_transfer');
    const [from = '', to = ''] = accountIds;
    await setSandboxClock(h, h.clock.now + 60_000);
    assert.equal((await addTransaction(h, from, { amount: -9.99, label: 'CB PENDING', status: 'PENDING', id: 'P-1' })).status, 201);
    await syncAgain(h, connectionId);
    const [debit, credit] = await Promise.all([from, to].map((id) => adapter.fetchTransactions(connectionOf(connectionId), id, null, null)));
    const pick = (items: { providerTransactionId: string; providerAccountId: string; amount: string; pending: boolean; pendingTransactionId: string | null }[]) =>
      items.slice(0, 2).map((t) => [t.providerTransactionId, t.providerAccountId, t.amount, t.pending, t.pendingTransactionId]);
    assert.deepEqual(pick(debit?.items ?? []), [['P-1', from, '-9.99', true, null], ['TRF-1', from, '-500.00', false, null]]);
    assert.deepEqual(pick(credit?.items ?? []), [['TRF-1', to, '500.00', false, null], [`${to}-90`, to, (credit?.items[1]?.amount ?? ''), false, null]]);

    assert.equal((await post(h, from, 'P-1')).status, 201);
    await syncAgain(h, connectionId);
    const booked = await adapter.fetchTransactions(connectionOf(connectionId), from, null, null);
    assert.deepEqual(pick(booked.items).slice(0, 1), [[`${from}-X3`, from, '-9.99', false, null]], 'Oxlin does not say which pending one it was');
    assert.ok(!booked.items.some((t) => t.providerTransactionId === 'P-1'));
  });

  void test('reads a 50,000-transaction account in pages of 500, nothing lost, nothing doubled', async () => {
    const { connectionId, accountIds } = await activeConnection(h, 'user_huge');
    const [accountId = ''] = accountIds;
    const ids = new Set<string>();
    const cursors: (string | null)[] = [];
    let cursor: string | null = null;
    do {
      const page = await adapter.fetchTransactions(connectionOf(connectionId), accountId, cursor, null);
      for (const item of page.items) ids.add(item.providerTransactionId);
      cursor = page.nextCursor;
      cursors.push(cursor);
    } while (cursor !== null);
    assert.equal(ids.size, 50_000);
    assert.equal(cursors.length, 100);
    assert.deepEqual(cursors.slice(0, 2), ['500', '1000'], 'the cursor is an offset');

    const recent = await adapter.fetchTransactions(connectionOf(connectionId), accountId, null, '2024-12-27');
    assert.equal(recent.items.length, 20 * 25);
    assert.equal(recent.nextCursor, null);
  });
});
