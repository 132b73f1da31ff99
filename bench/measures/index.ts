// Every measure `npm run bench` runs, in order. Each lives in its own file and follows bench/measure.ts.
import type { Measure } from '../measure';
import { apiGet, apiUpdate } from './api';
import { idle } from './idle';
import { ingest } from './ingest';
import { ingestPg } from './ingest-pg';
import { lifecycle } from './lifecycle';
import { start } from './start';
import { storeLoop } from './store-loop';

export const MEASURES: Measure[] = [lifecycle, start, apiGet, apiUpdate, storeLoop, idle, ingest, ingestPg];
