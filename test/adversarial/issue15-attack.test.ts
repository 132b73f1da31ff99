// Adversarial review of issue 15 (the production topology: rate limits and LnkFi's budgets shared
// through the store, the local cluster): inputs from outside (a provider's headers, a client's
// requests) against the shared parts, and what must hold. Each test states it.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { RateLimiter } from '../../providers/lnkfi/rate-limit';
import { type Database, createProviderBudgets } from '../../store';
import { testStores } from '../helpers/real-activities';

const DAY_MS = 86_400_000;

for (const [name, open] of testStores()) {
  describe(`LnkFi budgets in the store on ${name}, under a garbled 429`, () => {
    const dbs: Database[] = [];
    after(async () => {
      for (const db of dbs) await db.close();
    });

    it('a Retry-After of absurd size (past a day, past bigint) is a retryable LnkfiRateLimited of at most a day, never a store error or a wait of years', async () => {
      const db = await open();
      dbs.push(db);
      const store = createProviderBudgets(db);
      const now = Date.UTC(2025, 0, 15, 10, 0, 0);
      const limiter = new RateLimiter({ now: () => now, sleep: async () => undefined }, store);
      for (const retryAfter of ['99999999999999999999', '1'.repeat(400), '4000000000']) {
        const key = `attack/${randomUUID()}`;
        const thrown = await limiter.record(key, { status: 429, headers: new Headers({ 'retry-after': retryAfter }), body: {} }).then(
          () => assert.fail('a 429 throws'),
          (err: unknown) => err,
        );
        assert.ok(thrown instanceof ApplicationFailure, `Retry-After ${retryAfter.slice(0, 24)}: ${String(thrown)}`);
        assert.equal(thrown.type, 'LnkfiRateLimited');
        assert.equal(thrown.nonRetryable, false);
        assert.ok(Number(thrown.nextRetryDelay) > 0 && Number(thrown.nextRetryDelay) <= DAY_MS, `nextRetryDelay ${String(thrown.nextRetryDelay)}`);
        const remembered = await store.get('lnkfi', key);
        assert.ok(remembered.minute !== undefined && remembered.minute <= now + DAY_MS, `remembered ${JSON.stringify(remembered)}`);
      }
    });
  });
}
