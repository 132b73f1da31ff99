// importData against the real store (PGlite, and PostgreSQL when TEST_DATABASE_URL is set) and a
// scripted provider that counts every page it serves: an attempt dies at a chosen write, and the
// retry — its heartbeat lost or stale — must read back the first attempt's plan (accounts, windows)
// and go on from the last committed page, re-reading at most the page that was in flight.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { type ImportHeartbeat, createActivities } from '../../activities';
import { generateCredentialsKey, loadCredentialsKey } from '../../domain/credentials';
import type { AdapterRegistry, ProviderAdapter } from '../../providers';
import { type Database, type Repository, createProviderLinks, createRepository } from '../../store';
import type { AccountRecord, TransactionRecord } from '../../contract/records';
import type { SyncSummary } from '../../contract/messages';
import { testSigner, testStores } from '../helpers/real-activities';

const DAY_MS = 86_400_000;
const PAGE_SIZE = 10;

/** What the scripted provider was asked for: one entry per page served. */
interface Fetch {
  accountId: string;
  cursor: string | null;
  since: string | null;
}

/**
 * A provider with two transactions a day on each account from `firstDay` to `lastDay` (day numbers
 * since the epoch), served newest first in pages of 10 from an offset cursor, as Oxlin does.
 */
class ScriptedBank {
  accounts = ['acc-b', 'acc-a'];
  firstDay = 20_000;
  lastDay = 20_029;
  fetches: Fetch[] = [];
  listings = 0;

  rows(accountId: string, since: string | null): TransactionRecord[] {
    const rows: TransactionRecord[] = [];
    for (let day = this.lastDay; day >= this.firstDay; day--) {
      const bookedAt = new Date(day * DAY_MS + 12 * 3_600_000).toISOString();
      if (since !== null && bookedAt.slice(0, 10) < since) break;
      for (const k of [1, 0]) {
        rows.push({ providerTransactionId: `${accountId}-${day}-${k}`, providerAccountId: accountId, bookedAt, amount: '-1.00', currency: 'EUR', label: `day ${day}`, category: null, pending: false, pendingTransactionId: null });
      }
    }
    return rows;
  }

  adapter(): ProviderAdapter {
    const adapter: Pick<ProviderAdapter, 'fetchAccounts' | 'fetchTransactions'> = {
      fetchAccounts: async () => {
        this.listings++;
        return this.accounts.map(
          (id): AccountRecord => ({ providerAccountId: id, name: id, type: 'CHECKINGS', currency: 'EUR', balance: '1.00', iban: null, accountNumber: null }),
        );
      },
      fetchTransactions: async (_connection, accountId, cursor, since) => {
        this.fetches.push({ accountId, cursor, since });
        const rows = this.rows(accountId, since);
        const offset = cursor === null ? 0 : Number(cursor);
        const next = offset + PAGE_SIZE;
        return { items: rows.slice(offset, next), nextCursor: next < rows.length ? String(next) : null };
      },
    };
    return adapter as ProviderAdapter;
  }
}

const quietLogger = { log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

for (const [store, open] of testStores()) {
  describe(`importData resumes from its stored plan and position (${store})`, () => {
    let db: Database;
    let repository: Repository;
    before(async () => {
      db = await open();
      repository = createRepository(db);
    });
    after(async () => {
      await db?.close();
    });

    /**
     * One attempt of one import (`runId` and the activity id make its syncId), with a repository that
     * throws instead of its `dieAt`-th write (a page, or an account's removals): that write never
     * commits, as when the worker is killed mid-write. Answers the summary and the heartbeats sent.
     */
    async function attempt(
      bank: ScriptedBank,
      input: { connectionId: string; runId: string; accountIds: string[]; attempt: number; heartbeatDetails?: unknown; dieAt?: number },
    ): Promise<{ summary: SyncSummary | Error; beats: ImportHeartbeat[] }> {
      let writes = 0;
      const dies = () => {
        if (++writes === input.dieAt) throw new Error(`killed before write ${writes} committed`);
      };
      const dying: Repository = {
        ...repository,
        applyPage: async (...args) => (dies(), repository.applyPage(...args)),
        removeUnread: async (...args) => (dies(), repository.removeUnread(...args)),
        moveImport: async (...args) => (dies(), repository.moveImport(...args)),
      };
      const activities = createActivities({
        adapters: { oxlin: bank.adapter() } as AdapterRegistry,
        repository: dying,
        providerLinks: createProviderLinks(db),
        stateSigner: testSigner,
        credentialsKey: await loadCredentialsKey(await generateCredentialsKey()),
      });
      const env = new MockActivityEnvironment(
        {
          activityId: '12',
          activityType: 'importData',
          attempt: input.attempt,
          heartbeatDetails: input.heartbeatDetails,
          heartbeatTimeoutMs: 60_000,
          workflowExecution: { workflowId: `connection-${input.connectionId}`, runId: input.runId },
        },
        { logger: quietLogger },
      );
      const beats: ImportHeartbeat[] = [];
      env.on('heartbeat', (details: ImportHeartbeat) => beats.push(details));
      const summary = await env
        .run<[], SyncSummary, () => Promise<SyncSummary>>(() => activities.importData({ provider: 'oxlin', providerConnectionId: 'pc-1', providerRef: {}, connectionId: input.connectionId, accountIds: input.accountIds }))
        .catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
      return { summary, beats };
    }

    const counts = (s: SyncSummary | Error) => (s instanceof Error ? s : [s.accounts, s.transactions_added, s.transactions_modified, s.transactions_removed]);

    // Two accounts of 60 transactions, 6 pages each; writes 1-6 are acc-a's pages, 7 its removals,
    // 8-13 acc-b's pages, 14 its removals.
    const deaths = [
      { dieAt: 1, where: "with acc-a's first page in flight", first: { accountId: 'acc-a', cursor: null }, pages: 12 },
      { dieAt: 7, where: "between acc-a's last page and its removals", first: { accountId: 'acc-b', cursor: null }, pages: 6 },
      { dieAt: 10, where: "with acc-b's third page in flight", first: { accountId: 'acc-b', cursor: '20' }, pages: 4 },
    ];
    for (const { dieAt, where, first, pages } of deaths) {
      it(`a first import killed ${where}, its heartbeat lost: the retry reads only what never committed`, async () => {
        const bank = new ScriptedBank();
        const connectionId = randomUUID();
        const runId = randomUUID();
        const accountIds = ['acc-a', 'acc-b'];
        const dead = await attempt(bank, { connectionId, runId, accountIds, attempt: 1, dieAt });
        assert.match(String(dead.summary), /killed/);
        assert.equal(bank.listings, 1);

        bank.fetches = [];
        // Temporal lost the heartbeat (the worker died before the throttled flush): the retry gets none.
        const retry = await attempt(bank, { connectionId, runId, accountIds, attempt: 2 });
        assert.deepEqual(counts(retry.summary), [2, 120, 0, 0], 'every transaction counted once, across both attempts');
        assert.equal(await repository.countTransactions(connectionId), 120);
        assert.equal(bank.listings, 1, 'the retry lists no accounts: they are in the plan');
        assert.deepEqual(bank.fetches[0], { ...first, since: null }, 'the retry starts at the first page not committed');
        assert.equal(bank.fetches.length, pages, `pages read again: ${JSON.stringify(bank.fetches)}`);
        // Heartbeats carry the plan and the position, for the Web UI and liveness.
        const plan = { full: false, accounts: accountIds.map((id) => ({ providerAccountId: id, since: null })) };
        assert.deepEqual(dead.beats.at(-1)?.plan, plan);
        assert.deepEqual(retry.beats.at(-1), { plan, position: { account: 2, pages: 0, cursor: null, oldest: null } });
      });
    }

    it('an incremental import keeps its windows and its accounts, whatever the retry finds', async () => {
      const bank = new ScriptedBank();
      const connectionId = randomUUID();
      const first = await attempt(bank, { connectionId, runId: randomUUID(), accountIds: ['acc-a', 'acc-b', 'acc-c'], attempt: 1 });
      assert.deepEqual(counts(first.summary), [2, 120, 0, 0]);

      // Ten new days; the incremental import reads each account from a week before its latest
      // booking (36 transactions: 4 pages), and dies with acc-b's second page in flight.
      bank.lastDay += 10;
      const since = new Date((20_029 - 7) * DAY_MS).toISOString().slice(0, 10);
      const runId = randomUUID();
      bank.fetches = [];
      const dead = await attempt(bank, { connectionId, runId, accountIds: ['acc-a', 'acc-b', 'acc-c'], attempt: 1, dieAt: 7 });
      assert.match(String(dead.summary), /killed/);

      // Before the retry the provider lists a third consented account first: the retry neither lists
      // nor reads it (the next import will), and its stale heartbeat (from before any page) is overruled
      // by the position stored with acc-b's first page.
      bank.accounts = ['acc-c', ...bank.accounts];
      bank.fetches = [];
      const retry = await attempt(bank, { connectionId, runId, accountIds: ['acc-a', 'acc-b', 'acc-c'], attempt: 2, heartbeatDetails: dead.beats[0] });
      assert.deepEqual(counts(retry.summary), [2, 40, 0, 0], '20 new transactions in each account, once');
      assert.deepEqual(bank.fetches, [
        { accountId: 'acc-b', cursor: '10', since },
        { accountId: 'acc-b', cursor: '20', since },
        { accountId: 'acc-b', cursor: '30', since },
      ]);
      assert.equal(await repository.countTransactions(connectionId), 160);
      assert.deepEqual((await repository.listAccounts(connectionId)).map((a) => a.providerAccountId), ['acc-a', 'acc-b']);
      assert.deepEqual(dead.beats[0]?.plan.accounts, [
        { providerAccountId: 'acc-a', since },
        { providerAccountId: 'acc-b', since },
      ]);
    });

    it('an import begun before plans were stored reads whole histories on its retry', async () => {
      const bank = new ScriptedBank();
      const connectionId = randomUUID();
      const runId = randomUUID();
      // What an older Linkflow left: the import's row without a plan, and acc-a's newest page.
      await repository.upsertAccounts(connectionId, 'oxlin', [
        { providerAccountId: 'acc-a', name: 'acc-a', type: 'CHECKINGS', currency: 'EUR', balance: '1.00', iban: null, accountNumber: null },
      ]);
      await db.query('INSERT INTO sync_runs (sync_id, connection_id, start_seq) VALUES ($1, $2, 0)', [`${runId}/12`, connectionId]);
      await repository.applyPage(connectionId, `${runId}/12`, bank.rows('acc-a', null).slice(0, PAGE_SIZE));

      const retry = await attempt(bank, { connectionId, runId, accountIds: ['acc-a', 'acc-b'], attempt: 3 });
      assert.deepEqual(counts(retry.summary), [2, 120, 0, 0]);
      assert.ok(bank.fetches.every((f) => f.since === null), 'no window narrowed by the rows already written');
      assert.equal(await repository.countTransactions(connectionId), 120);
    });
  });
}
