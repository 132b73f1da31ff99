// Ingest on PostgreSQL (issue 16): bench/measures/ingest.ts's two sides on a PostgreSQL server:
// DATABASE_URL's (in a schema of its own, dropped after), else a throwaway cluster started here
// the way `npm run cluster` starts one (initdb, as the `postgres` user when root). Without either
// (no server binaries and no DATABASE_URL) setup throws and the row says why.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { throwawayPostgres } from '../../scripts/cluster/cluster';
import { consecutiveFreePorts } from '../../scripts/cluster/ports';
import { supervise } from '../../scripts/cluster/processes';
import { openDatabase } from '../../store';
import { schemaDatabase } from '../../test/helpers/real-activities';
import type { Measure } from '../measure';
import { ingestRows, ingestSides } from './ingest';

export const ingestPg: Measure = {
  id: 'ingest-pg',
  title: (size) => `ingest of ${ingestRows(size).toLocaleString('en')} transactions (PostgreSQL), import page write`,
  baseline: 'raw COPY … FROM STDIN (CSV, pg-copy-streams) of the same rows, same PostgreSQL',
  unit: 'rows/s',
  target: { kind: 'min', ratio: 0.5 },
  async setup(ctx) {
    const url = process.env.DATABASE_URL;
    if (url) {
      const { db, schema, dispose } = await schemaDatabase(url, 'bench_ingest');
      ctx.progress(`ingest-pg: DATABASE_URL, schema ${schema}`);
      return ingestSides(ctx, db, dispose);
    }
    const dir = await mkdtemp(join(tmpdir(), 'linkflow-bench-pg-'));
    const port = await consecutiveFreePorts(1);
    const server = supervise(await throwawayPostgres(dir, port), join(dir, 'postgres.log'));
    const stop = async () => {
      await server.stop('SIGTERM', 10_000);
      await rm(dir, { recursive: true, force: true });
    };
    try {
      await server.start(60_000);
      const db = await openDatabase({ databaseUrl: `postgres://postgres@127.0.0.1:${port}/postgres` });
      ctx.progress(`ingest-pg: throwaway PostgreSQL on port ${port}`);
      return await ingestSides(ctx, db, async () => {
        await db.close();
        await stop();
      });
    } catch (err) {
      await stop();
      throw err;
    }
  },
};
