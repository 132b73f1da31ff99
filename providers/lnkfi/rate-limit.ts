import { ApplicationFailure } from '@temporalio/common';
import { currentActivity } from '../activity';
import type { BudgetResets, BudgetWindow } from '../types';
import { type LnkfiConfig, LnkfiFailure, type LnkfiResponse } from './client';

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
/** A waiting activity heartbeats at least this often (the workflow's heartbeat timeout is a minute). */
const HEARTBEAT_STEP_MS = 10_000;

type Clock = NonNullable<LnkfiConfig['clock']>;

const realClock: Clock = { now: Date.now, sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) };

/**
 * LnkFi's budgets per connection instance, as its X-RateLimit-Minute-Remaining and
 * X-RateLimit-Day-Remaining headers report them. The reference gives no reset time: a minute
 * budget seen at 0 is waited out for a full minute (the window resets within it); a day budget
 * at 0 lasts until 00:00 UTC. What is remembered (`resets`: the store in a deployment, shared by
 * every worker, so one worker's spent budget is waited out by the others) only saves requests;
 * a 429's Retry-After is the authority.
 */
export class RateLimiter {
  constructor(
    private readonly clock: Clock | undefined,
    private readonly resets: BudgetResets = memoryBudgetResets(),
  ) {}

  private now(): number {
    return (this.clock ?? realClock).now();
  }

  /**
   * Waits until the instance may be called again. An exhausted day budget fails retryably with
   * nextRetryDelay to its reset; a minute budget is waited out in place by activities that
   * heartbeat (importData, waitForJob) and fails retryably in short ones (their timeout is a minute).
   */
  async beforeCall(key: string): Promise<void> {
    const reset = await this.resets.get('lnkfi', key);
    const now = this.now();
    if (reset.day !== undefined && now < reset.day) throw rateLimited('day', reset.day - now);
    if (reset.minute !== undefined && now < reset.minute) await this.wait(reset.minute - now);
  }

  /**
   * Reads the budget headers of a proxied call and remembers what they say (a budget at 0: until
   * its reset; above 0: not spent); a 429 is remembered and thrown as retryable after Retry-After
   * (seconds; at most a day, LnkFi's longest budget; a minute when absent or not a number).
   */
  async record(key: string, response: LnkfiResponse): Promise<void> {
    const now = this.now();
    const remaining = (name: string): number | null => {
      const value = response.headers.get(name);
      return value !== null && /^\d+$/.test(value) ? Number(value) : null;
    };
    const minute = remaining('x-ratelimit-minute-remaining');
    const day = remaining('x-ratelimit-day-remaining');
    const change: Partial<Record<BudgetWindow, number | null>> = {};
    if (minute !== null) change.minute = minute === 0 ? now + MINUTE_MS : null;
    if (day !== null) change.day = day === 0 ? (Math.floor(now / DAY_MS) + 1) * DAY_MS : null;
    if (response.status === 429) {
      const retryAfter = remaining('retry-after');
      // LnkFi's longest budget is a day: a longer Retry-After is garbled, and remembered in the
      // store (bigint) it would hold every worker off this instance for years, across restarts.
      const delay = retryAfter === null ? MINUTE_MS : Math.min(retryAfter * 1000, DAY_MS);
      const budget = day === 0 ? 'day' : 'minute';
      change[budget] = now + delay;
      await this.resets.update('lnkfi', key, change);
      throw rateLimited(budget, delay);
    }
    await this.resets.update('lnkfi', key, change);
  }

  private async wait(ms: number): Promise<void> {
    const activity = currentActivity();
    if (activity && !activity.info.heartbeatTimeoutMs) throw rateLimited('minute', ms);
    const sleep = this.clock?.sleep ?? ((step: number) => (activity ? activity.sleep(step) : realClock.sleep(step)));
    for (let left = ms; left > 0; left -= HEARTBEAT_STEP_MS) {
      activity?.heartbeat();
      await sleep(Math.min(left, HEARTBEAT_STEP_MS));
    }
  }
}

function rateLimited(budget: 'minute' | 'day', delayMs: number): ApplicationFailure {
  return ApplicationFailure.create({
    type: LnkfiFailure.RateLimited,
    message: `LnkFi's ${budget} budget for proxied requests is spent; retrying in ${Math.ceil(delayMs / 1000)} s`,
    nextRetryDelay: Math.max(1, Math.ceil(delayMs)),
    details: [{ budget, delayMs }],
  });
}

/**
 * BudgetResets in this process's memory (unit tests, adapters built without a store): only spent
 * budgets are kept, so the map stays as small as the busy budgets.
 */
export function memoryBudgetResets(): BudgetResets {
  const resets = new Map<string, Partial<Record<BudgetWindow, number>>>();
  const id = (provider: string, key: string) => `${provider}/${key}`;
  return {
    get: async (provider, key) => ({ ...resets.get(id(provider, key)) }),
    async update(provider, key, change) {
      const reset = { ...resets.get(id(provider, key)) };
      for (const window of ['minute', 'day'] as const) {
        if (!(window in change)) continue;
        const at = change[window];
        if (at == null) delete reset[window];
        else reset[window] = at;
      }
      if (reset.minute === undefined && reset.day === undefined) resets.delete(id(provider, key));
      else resets.set(id(provider, key), reset);
    },
  };
}
