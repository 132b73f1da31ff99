// The data API end to end: delta sync by cursor across syncs, full refresh on request, balances
// over time, pending transactions booked under a new id, one id on two accounts, and what a
// client can get wrong (a cursor that is not ours, an unknown account).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TransactionChangesSchema, TransactionPageSchema } from '../../api/routes/connections/schema';
import type { ConnectionView } from '../../contract/messages';
import { type Linkflow, startLinkflow } from '../helpers/linkflow';

describe('data API', () => {
  let lf: Linkflow;
  let connection: ConnectionView;

  before(async () => {
    lf = await startLinkflow();
    connection = await lf.activeRedirectConnection();
  });
  after(async () => {
    await lf?.stop();
  });

  type Transaction = { id: string; account_id: string; amount: string; pending: boolean; pending_transaction_id: string | null };

  /** Every change after `cursor`, page by page, with the cursor to keep; each page as the OpenAPI document says. */
  async function readChanges(cursor: string | null, limit = 100, connectionId = connection.id) {
    const all = { added: [] as Transaction[], modified: [] as Transaction[], removed: [] as { id: string; account_id: string }[] };
    let next = cursor;
    for (;;) {
      const page = await lf.call('GET', `/v1/connections/${connectionId}/transactions/sync?limit=${limit}${next ? `&cursor=${next}` : ''}`);
      assert.equal(page.status, 200, JSON.stringify(page.body));
      TransactionChangesSchema.strict().parse(page.body);
      all.added.push(...page.body.added);
      all.modified.push(...page.body.modified);
      all.removed.push(...page.body.removed);
      next = page.body.next_cursor;
      if (!page.body.has_more) return { ...all, cursor: next as string };
    }
  }

  async function syncAndWait(body?: unknown): Promise<ConnectionView> {
    connection = await syncConnection(connection, body);
    return connection;
  }

  async function syncConnection(view: ConnectionView, body?: unknown): Promise<ConnectionView> {
    const before = view.last_sync?.synced_at;
    const requested = await lf.call('POST', `/v1/connections/${view.id}/sync`, body);
    assert.equal(requested.status, 202, JSON.stringify(requested.body));
    return lf.until(view.id, (v) => v.state === 'active' && v.last_sync?.synced_at !== before);
  }

  /** A sandbox control of the Oxlin sandbox; answers its JSON body. */
  async function sandboxControl(method: string, path: string, body: unknown, status: number) {
    const response = await fetch(`${lf.sandbox.url}${path}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal(response.status, status, await response.clone().text());
    return response.json() as Promise<{ id: string }>;
  }

  it('reads everything from the start, then only what changed, with a cursor that survives syncs', async () => {
    const start = await readChanges(null, 50);
    const total = connection.last_sync?.transactions_added ?? 0;
    assert.ok(total > 100);
    assert.equal(start.added.length, total, 'paged in fifties, each transaction once');
    assert.equal(new Set(start.added.map((t) => t.id)).size, total);

    const accountId = connection.accounts[0]?.id as string;
    const control = (method: string, path: string, body?: unknown) =>
      fetch(`${lf.sandbox.url}${path}`, { method, headers: { 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
    assert.equal((await control('POST', `/sandbox/accounts/${accountId}/transactions/${accountId}-88/modify`, { amount: -7.77 })).status, 204);
    assert.equal((await control('DELETE', `/sandbox/accounts/${accountId}/transactions/${accountId}-90`)).status, 204);

    const synced = await syncAndWait();
    assert.deepEqual(
      [synced.last_sync?.transactions_added, synced.last_sync?.transactions_modified, synced.last_sync?.transactions_removed],
      [0, 1, 1],
    );
    const delta = await readChanges(start.cursor);
    assert.deepEqual(delta.added, []);
    assert.deepEqual(delta.modified.map((t) => [t.id, t.amount]), [[`${accountId}-88`, '-7.77']]);
    assert.deepEqual(delta.removed, [{ id: `${accountId}-90`, account_id: accountId }]);
    // Nothing since: the same cursor, and empty lists.
    const none = await readChanges(delta.cursor);
    assert.deepEqual([none.added, none.modified, none.removed, none.cursor], [[], [], [], delta.cursor]);
    // The plain list no longer has the dropped transaction.
    const listed = await lf.call('GET', `/v1/connections/${connection.id}/transactions?account_id=${accountId}&limit=500`);
    assert.ok(!listed.body.data.some((t: { id: string }) => t.id === `${accountId}-90`));
  });

  it('a full refresh reads old transactions again; a bad body is a 422 and syncs nothing', async () => {
    const accountId = connection.accounts[0]?.id as string;
    const cursor = (await readChanges(null, 500)).cursor;
    const old = await fetch(`${lf.sandbox.url}/sandbox/accounts/${accountId}/transactions/${accountId}-5/modify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ label: 'CORRECTED LONG AGO' }),
    });
    assert.equal(old.status, 204);

    const bad = await lf.call('POST', `/v1/connections/${connection.id}/sync`, { full: 'yes' });
    assert.equal(bad.status, 422);
    assert.equal(bad.body.error.code, 'validation_failed');
    assert.equal((await lf.call('POST', `/v1/connections/${connection.id}/sync`, { full: true, extra: 1 })).status, 422);
    assert.equal((await lf.call('POST', `/v1/connections/${connection.id}/sync`, '{"full":')).status, 400);
    assert.equal((await lf.call('GET', `/v1/connections/${connection.id}`)).body.last_sync.synced_at, connection.last_sync?.synced_at);

    const incremental = await syncAndWait({});
    assert.equal(incremental.last_sync?.transactions_modified, 0, 'outside the incremental window');
    const full = await syncAndWait({ full: true });
    assert.equal(full.last_sync?.transactions_modified, 1);
    const delta = await readChanges(cursor);
    assert.deepEqual(delta.modified.map((t) => t.id), [`${accountId}-5`]);
  });

  it('keeps balances over time per account', async () => {
    const accountId = connection.accounts[0]?.id as string;
    const balances = await lf.call('GET', `/v1/connections/${connection.id}/accounts/${accountId}/balances`);
    assert.equal(balances.status, 200);
    assert.ok(balances.body.data.length >= 1);
    assert.match(balances.body.data[0].balance, /^-?\d+(\.\d+)?$/);
    const stored = (await lf.call('GET', `/v1/connections/${connection.id}/accounts`)).body.data.find((a: { id: string }) => a.id === accountId);
    assert.equal(Number(balances.body.data[0].balance), Number(stored.balance), 'the latest point is the current balance');

    const unknown = await lf.call('GET', `/v1/connections/${connection.id}/accounts/no-such-account/balances`);
    assert.equal(unknown.status, 404);
    assert.equal((await lf.call('GET', `/v1/connections/${connection.id}/accounts/${accountId}/balances?limit=0`)).status, 400);
  });

  it('a pending payment shows as pending; booked under a new id, the pending one is removed and the booked one added', async () => {
    const accountId = connection.accounts[0]?.id as string;
    const cursor = (await readChanges(null, 500)).cursor;
    const { id: pendingId } = await sandboxControl('POST', `/sandbox/accounts/${accountId}/transactions`, { amount: -18.4, label: 'CB CINEMA', status: 'PENDING' }, 201);

    const first = await syncAndWait();
    assert.deepEqual([first.last_sync?.transactions_added, first.last_sync?.transactions_removed], [1, 0]);
    const pending = await readChanges(cursor);
    assert.deepEqual(
      pending.added.map((t) => [t.id, t.account_id, t.amount, t.pending, t.pending_transaction_id]),
      [[pendingId, accountId, '-18.40', true, null]],
    );
    assert.deepEqual([pending.modified, pending.removed], [[], []]);
    const listed = await lf.call('GET', `/v1/connections/${connection.id}/transactions?account_id=${accountId}&limit=1`);
    TransactionPageSchema.strict().parse(listed.body);
    assert.deepEqual(listed.body.data.map((t: Transaction) => [t.id, t.pending]), [[pendingId, true]]);

    // The bank books it under a new id; Oxlin says nothing of which pending one it was, so Linkflow links them (Plaid's rule).
    const { id: bookedId } = await sandboxControl('POST', `/sandbox/accounts/${accountId}/transactions/${pendingId}/post`, {}, 201);
    assert.notEqual(bookedId, pendingId);
    const second = await syncAndWait();
    assert.deepEqual([second.last_sync?.transactions_added, second.last_sync?.transactions_modified, second.last_sync?.transactions_removed], [1, 0, 1]);
    const booked = await readChanges(pending.cursor);
    assert.deepEqual(
      booked.added.map((t) => [t.id, t.account_id, t.amount, t.pending, t.pending_transaction_id]),
      [[bookedId, accountId, '-18.40', false, pendingId]],
    );
    assert.deepEqual(booked.modified, []);
    assert.deepEqual(booked.removed, [{ id: pendingId, account_id: accountId }]);
    // From the start, a new reader gets only the booked one.
    const everything = await readChanges(null, 500);
    assert.ok(everything.added.some((t) => t.id === bookedId) && !everything.added.some((t) => t.id === pendingId));
  });

  it('one id on two accounts (user_transfer): two transactions in the delta and the list, stable across syncs', async () => {
    const transfer = await lf.activeRedirectConnection('user_transfer');
    const [from, to] = transfer.accounts.map((a) => a.id);
    const start = await readChanges(null, 500, transfer.id);
    const legs = start.added.filter((t) => t.id === 'TRF-1').map((t) => [t.account_id, t.amount]);
    assert.deepEqual(legs.sort(), [[from, '-500.00'], [to, '500.00']].sort());
    assert.equal(start.added.length, 3 * 91 + 2);

    // The list pages one row at a time across the two legs (same booking time, same id): each once.
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 3; i++) {
      const page = await lf.call('GET', `/v1/connections/${transfer.id}/transactions?limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(page.status, 200, JSON.stringify(page.body));
      seen.push(...page.body.data.map((t: Transaction) => `${t.account_id}/${t.id}`));
      cursor = page.body.next_cursor;
    }
    assert.deepEqual(seen.slice(0, 2).sort(), [`${from}/TRF-1`, `${to}/TRF-1`].sort());
    assert.notEqual(seen[2]?.endsWith('/TRF-1'), true);

    const again = await syncConnection(transfer);
    assert.deepEqual(again.last_sync && [again.last_sync.transactions_added, again.last_sync.transactions_modified, again.last_sync.transactions_removed], [0, 0, 0]);
    const delta = await readChanges(start.cursor, 100, transfer.id);
    assert.deepEqual([delta.added, delta.modified, delta.removed], [[], [], []]);
  });

  it('rejects a cursor it did not issue, and a limit out of range', async () => {
    for (const cursor of ['not-a-cursor', Buffer.from('changes:-1').toString('base64url'), Buffer.from('changes:01').toString('base64url')]) {
      const answer = await lf.call('GET', `/v1/connections/${connection.id}/transactions/sync?cursor=${cursor}`);
      assert.equal(answer.status, 400, cursor);
      assert.equal(answer.body.error.code, 'invalid_cursor');
    }
    assert.equal((await lf.call('GET', `/v1/connections/${connection.id}/transactions/sync?limit=501`)).status, 400);
    const other = await lf.call('GET', '/v1/connections/6f1c2d3e-4b5a-4c6d-8e7f-8091a2b3c4d5/transactions/sync');
    assert.equal(other.status, 404);
  });
});
