// Every measure `npm run bench` runs, in order. Each lives in its own file and follows bench/measure.ts.
import type { Measure } from '../measure';
import { ingest } from './ingest';
import { ingestPg } from './ingest-pg';

export const MEASURES: Measure[] = [];
MEASURES.push(ingest, ingestPg);
