import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Database } from './db';

const MIGRATIONS_DIR = join(__dirname, 'migrations');
// Any constant shared by every Linkflow process: serialises migrations across replicas.
const MIGRATION_LOCK = 7_240_000_001;

/**
 * Applies every migration in migrations/ not yet applied, in file-name order; returns the ones
 * applied. `until` (a file name, e.g. `007_transaction_changes.sql`) stops after that one: tests
 * use it to build a store as an older Linkflow left it.
 */
export async function migrate(db: Database, options: { until?: string } = {}): Promise<string[]> {
  const { until } = options;
  const files = (await readdir(MIGRATIONS_DIR)).filter((f) => f.endsWith('.sql') && (until === undefined || f <= until)).sort();
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await tx.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const done = new Set((await tx.query<{ version: string }>('SELECT version FROM schema_migrations')).map((r) => r.version));
    const applied: string[] = [];
    for (const file of files) {
      if (done.has(file)) continue;
      for (const statement of splitStatements(await readFile(join(MIGRATIONS_DIR, file), 'utf8'))) {
        await tx.query(statement);
      }
      await tx.query('INSERT INTO schema_migrations (version) VALUES ($1)', [file]);
      applied.push(file);
    }
    return applied;
  });
}

/** Our migrations are plain DDL: statements end with `;` at the end of a line; `--` comments are dropped. */
function splitStatements(sql: string): string[] {
  return sql
    .split('\n')
    .filter((line) => !line.trim().startsWith('--'))
    .join('\n')
    .split(/;\s*$/m)
    .map((s) => s.trim())
    .filter(Boolean);
}
