// Every measure `npm run bench` runs, in order. Each lives in its own file and follows bench/measure.ts.
import type { Measure } from '../measure';

export const MEASURES: Measure[] = [];
MEASURES.push(require('./idle').idle as Measure); // eslint-disable-line @typescript-eslint/no-require-imports
