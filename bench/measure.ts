// The shape every benchmark in bench/measures/ follows: Linkflow's path and an honest baseline
// (the same work done the bare way: a bare workflow with the same activities, timers and messages,
// the raw client call, the raw SQL on the same store), sampled interleaved by bench/run.ts.

/** How big a run is: `small` by default (minutes on a 2-core machine), `full` with `--full` (issue 16's sizes). */
export type BenchSize = 'small' | 'full';

export interface BenchContext {
  size: BenchSize;
  /** Writes a progress line to stderr (the table goes to stdout). */
  progress(line: string): void;
}

/**
 * One side of a measure: takes one sample and answers its value in the measure's `unit`
 * (e.g. ms for a p50 latency, rows/s for a throughput, MB for memory per connection).
 * A side may also report free-text facts about the sample (`5xx: 0 of 1000`) through `note`.
 */
export type Side = (note: (fact: string) => void) => Promise<number>;

export interface Sides {
  linkflow: Side;
  baseline: Side;
  /** Facts over every sample (e.g. `0 5xx of 600 POSTs`), read once sampling is over, before `close`. */
  summary?(): string[];
  /** Stops what `setup` started. */
  close(): Promise<void>;
}

/** A target on the ratio `linkflow / baseline` of the medians (issue 16's "Targets"). */
export interface Target {
  /** `max`: the ratio must be at most `ratio` (latency, memory); `min`: at least `ratio` (throughput). */
  kind: 'max' | 'min';
  ratio: number;
}

export interface Measure {
  /** Short id used by `--only` (e.g. `lifecycle`). */
  id: string;
  /** The row's label, naming the size measured (e.g. `one Oxlin lifecycle, POST → active`). */
  title(size: BenchSize): string;
  /** The baseline's label (e.g. `bare workflow, same activities and messages`). */
  baseline: string;
  /** Unit of one sample: `ms`, `rows/s`, `MB/connection`, `lifecycles/s`, `core-s/lifecycle`… */
  unit: string;
  target?: Target;
  /** Starts what both sides need (Temporal, store, sandboxes, API) and answers the two sides. */
  setup(ctx: BenchContext): Promise<Sides>;
}

/** Summary of a side's samples. */
export interface Stats {
  samples: number[];
  min: number;
  median: number;
}

/** min and median (the mean of the middle two for an even count) of `samples`; throws on none. */
export function stats(samples: number[]): Stats {
  if (samples.length === 0) throw new Error('no samples');
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { samples, min: sorted[0]!, median };
}

/** The p-th percentile (0..100, nearest rank) of `values` in their unit; throws on none. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) throw new Error('no values');
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}
