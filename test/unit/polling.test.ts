// Provider job polling (issue 16): reads start 100 ms apart and back off to the configured
// interval, which comes from OXLIN_POLL_INTERVAL_MS / POWENS_POLL_INTERVAL_MS, validated.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../config';
import { providersConfig } from '../../app/settings';
import { pollDelays } from '../../providers/polling';

const first = (n: number, delays: Generator<number>): number[] => Array.from({ length: n }, () => delays.next().value as number);

describe('provider job polling', () => {
  it('waits 100 ms first, doubles, then keeps to the interval', () => {
    assert.deepEqual(first(7, pollDelays()), [100, 200, 400, 800, 1000, 1000, 1000]);
    assert.deepEqual(first(4, pollDelays(250)), [100, 200, 250, 250]);
    assert.deepEqual(first(3, pollDelays(100)), [100, 100, 100]);
    assert.deepEqual(first(8, pollDelays(5_000)).slice(-3), [3200, 5000, 5000]);
  });

  it('takes OXLIN_POLL_INTERVAL_MS and POWENS_POLL_INTERVAL_MS to the adapters (default 1000)', () => {
    const urls = { oxlin: 'http://oxlin.test', powens: 'http://powens.test' };
    const defaults = providersConfig(loadConfig({}), urls);
    assert.equal(defaults.oxlin?.pollIntervalMs, 1000);
    assert.equal(defaults.powens?.pollIntervalMs, 1000);
    const set = providersConfig(loadConfig({ OXLIN_POLL_INTERVAL_MS: '250', POWENS_POLL_INTERVAL_MS: '5000' }), urls);
    assert.equal(set.oxlin?.pollIntervalMs, 250);
    assert.equal(set.powens?.pollIntervalMs, 5000);
  });

  for (const bad of ['0', '99', '60001', '-5', '1.5', '1e3', '', ' ', 'fast']) {
    it(`refuses OXLIN_POLL_INTERVAL_MS=${JSON.stringify(bad)} and POWENS_POLL_INTERVAL_MS=${JSON.stringify(bad)}, naming the variable`, () => {
      assert.throws(() => loadConfig({ OXLIN_POLL_INTERVAL_MS: bad }), /OXLIN_POLL_INTERVAL_MS: must be/);
      assert.throws(() => loadConfig({ POWENS_POLL_INTERVAL_MS: bad }), /POWENS_POLL_INTERVAL_MS: must be/);
    });
  }
});
