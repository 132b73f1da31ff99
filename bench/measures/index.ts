// Every measure `npm run bench` runs, in order. Each lives in its own file and follows bench/measure.ts.
import type { Measure } from '../measure';
import { start } from './start';

export const MEASURES: Measure[] = [];
MEASURES.push(start);
