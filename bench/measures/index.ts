// Every measure `npm run bench` runs, in order. Each lives in its own file and follows bench/measure.ts.
import type { Measure } from '../measure';
import { lifecycle } from './lifecycle';

export const MEASURES: Measure[] = [lifecycle];
