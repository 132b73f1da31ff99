// The arithmetic bench/run.ts prints (bench/measure.ts): min, median and percentiles of samples.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { percentile, stats } from '../../bench/measure';

describe('bench statistics', () => {
  it('min and median, odd and even counts, whatever the order', () => {
    assert.deepEqual(stats([5, 1, 3]), { samples: [5, 1, 3], min: 1, median: 3 });
    assert.deepEqual(stats([4, 1, 3, 2]), { samples: [4, 1, 3, 2], min: 1, median: 2.5 });
    assert.throws(() => stats([]), /no samples/);
  });

  it('percentiles by nearest rank', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i);
    assert.equal(percentile(values, 50), 50);
    assert.equal(percentile(values, 95), 95);
    assert.equal(percentile(values, 100), 100);
    assert.equal(percentile(values, 0), 1);
    assert.equal(percentile([7], 95), 7);
    assert.throws(() => percentile([], 50), /no values/);
  });
});
