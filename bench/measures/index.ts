// Every measure `npm run bench` runs, in order. Each lives in its own file and follows bench/measure.ts.
import type { Measure } from '../measure';
import { lifecycle } from './lifecycle';
import { apiGet, apiUpdate } from './api';

export const MEASURES: Measure[] = [lifecycle, apiGet, apiUpdate];
