// `npm run bench [-- --full] [--only id,id] [--reps N]`: every measure in bench/measures/ against
// its baseline, sampled interleaved (Linkflow then baseline, then the other way round) after one
// warm-up each, printed as a table of min and median per side and the ratio of the medians, and
// written to bench/results/latest.{md,json}. A benchmark, not a test: it never fails on a number.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import os from 'node:os';
import { type BenchSize, type Measure, type Stats, stats } from './measure';
import { MEASURES } from './measures';

interface Row {
  id: string;
  title: string;
  baseline: string;
  unit: string;
  linkflow?: Stats;
  bare?: Stats;
  ratio?: number;
  target?: string;
  met?: boolean;
  notes: string[];
  error?: string;
}

const { values } = parseArgs({
  options: {
    full: { type: 'boolean', default: false },
    only: { type: 'string' },
    reps: { type: 'string', default: '5' },
  },
});
const size: BenchSize = values.full ? 'full' : 'small';
const reps = Number(values.reps);
if (!Number.isInteger(reps) || reps < 1) throw new Error(`--reps must be a positive integer, not ${values.reps}`);
const only = values.only?.split(',').map((id) => id.trim());
const unknown = only?.filter((id) => !MEASURES.some((m) => m.id === id)) ?? [];
if (unknown.length > 0) throw new Error(`unknown measure(s) ${unknown.join(', ')}; known: ${MEASURES.map((m) => m.id).join(', ')}`);

const progress = (line: string): void => void process.stderr.write(`# ${line}\n`);

async function runMeasure(measure: Measure): Promise<Row> {
  const row: Row = { id: measure.id, title: measure.title(size), baseline: measure.baseline, unit: measure.unit, notes: [] };
  if (measure.target) row.target = `${measure.target.kind === 'max' ? '≤' : '≥'} ${measure.target.ratio}`;
  progress(`${measure.id}: setting up (${size})`);
  const sides = await measure.setup({ size, progress });
  const samples = { linkflow: [] as number[], baseline: [] as number[] };
  // Each sample's facts; the table shows those of each side's median sample.
  const facts = { linkflow: [] as string[][], baseline: [] as string[][] };
  let summary: string[] = [];
  try {
    await sides.linkflow(() => undefined);
    await sides.baseline(() => undefined);
    for (let rep = 0; rep < reps; rep += 1) {
      const order = rep % 2 === 0 ? (['linkflow', 'baseline'] as const) : (['baseline', 'linkflow'] as const);
      for (const side of order) {
        const noted: string[] = [];
        const value = await sides[side]((fact) => void noted.push(fact));
        samples[side].push(value);
        facts[side].push(noted);
        progress(`${measure.id}: rep ${rep + 1}/${reps} ${side} ${value.toFixed(3)} ${measure.unit}${noted.length > 0 ? ` (${noted.join('; ')})` : ''}`);
      }
    }
    summary = sides.summary?.() ?? [];
  } finally {
    await sides.close();
  }
  row.linkflow = stats(samples.linkflow);
  row.bare = stats(samples.baseline);
  row.ratio = row.linkflow.median / row.bare.median;
  if (measure.target) row.met = measure.target.kind === 'max' ? row.ratio <= measure.target.ratio : row.ratio >= measure.target.ratio;
  row.notes = (['linkflow', 'baseline'] as const).flatMap((side) => {
    const noted = facts[side][medianIndex(samples[side])] ?? [];
    return noted.length > 0 ? [`${side === 'linkflow' ? 'Linkflow' : 'baseline'} (median sample): ${noted.join('; ')}`] : [];
  }).concat(summary);
  return row;
}

/** The index of the sample at the median (the lower middle one for an even count). */
const medianIndex = (values: number[]): number => {
  const order = values.map((value, index) => ({ value, index })).sort((a, b) => a.value - b.value);
  return order[Math.floor((order.length - 1) / 2)]?.index ?? 0;
};

const fmt = (n: number): string => (Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 10 ? n.toFixed(1) : n.toFixed(n === 0 ? 0 : 3));

function table(rows: Row[]): string {
  const lines = [
    '| measure | Linkflow min / median | baseline | baseline min / median | ratio (median) | target | met |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    if (r.error) {
      lines.push(`| ${r.title} | – | ${r.baseline} | – | – | ${r.target ?? '–'} | error: ${r.error.replaceAll('|', '/')} |`);
      continue;
    }
    const side = (s: Stats): string => `${fmt(s.min)} / ${fmt(s.median)} ${r.unit}`;
    const met = r.met === undefined ? '–' : r.met ? 'yes' : '**no**';
    lines.push(`| ${r.title} | ${side(r.linkflow!)} | ${r.baseline} | ${side(r.bare!)} | ${r.ratio!.toFixed(2)} | ${r.target ?? '–'} | ${met} |`);
  }
  const notes = rows.filter((r) => r.notes.length > 0).map((r) => `- ${r.id}: ${r.notes.join('; ')}`);
  return [...lines, ...(notes.length > 0 ? ['', ...notes] : [])].join('\n');
}

async function main(): Promise<void> {
  const started = new Date();
  const rows: Row[] = [];
  for (const measure of MEASURES.filter((m) => !only || only.includes(m.id))) {
    try {
      rows.push(await runMeasure(measure));
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      progress(`${measure.id}: failed: ${error}`);
      rows.push({ id: measure.id, title: measure.title(size), baseline: measure.baseline, unit: measure.unit, notes: [], error });
    }
  }
  const header = `Measured ${started.toISOString()} on ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}; size ${size}, ${reps} interleaved repetitions after one warm-up each.`;
  const markdown = `${header}\n\n${table(rows)}\n`;
  process.stdout.write(`${markdown}`);
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const name = only ? `partial-${only.join('-')}${size === 'full' ? '-full' : ''}` : size === 'full' ? 'latest-full' : 'latest';
  writeFileSync(join(dir, `${name}.md`), markdown);
  writeFileSync(join(dir, `${name}.json`), `${JSON.stringify({ started, size, reps, rows }, null, 2)}\n`);
  progress(`written to bench/results/${name}.md`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
