// The data API end to end: delta sync by cursor across syncs, full refresh on request, balances
// over time, and what a client can get wrong (a cursor that is not ours, an unknown account).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ConnectionView } from '../../workflows/messages';
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

  /** Every change after `cursor`, page by page, with the cursor to keep. */
  async function readChanges(cursor: string | null, limit = 100) {
    const all = { added: [] as { id: string; amount: string }[], modified: [] as { id: string; amount: string }[], removed: [] as { id: string }[] };
    let next = cursor;
    for (;;) {
      const page = await lf.call('GET', `/v1/connections/${connection.id}/transactions/sync?limit=${limit}${next ? `&cursor=${next}` : ''}`);
      assert.equal(page.status, 200, JSON.stringify(page.body));
      all.added.push(...page.body.added);
      all.modified.push(...page.body.modified);
      all.removed.push(...page.body.removed);
      next = page.body.next_cursor;
      if (!page.body.has_more) return { ...all, cursor: next as string };
    }
  }

  async function syncAndWait(body?: unknown): Promise<ConnectionView> {
    const before = connection.last_sync?.synced_at;
    const requested = await lf.call('POST', `/v1/connections/${connection.id}/sync`, body);
    assert.equal(requested.status, 202, JSON.stringify(requested.body));
    connection = await lf.until(connection.id, (v) => v.state === 'active' && v.last_sync?.synced_at !== before);
    return connection;
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
