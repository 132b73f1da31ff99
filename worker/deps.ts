// The composition root shared by the worker, the API and the embedded runner.
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { type ProvidersConfig, createAdapters } from '../activities/providers';
import { createStateSigner } from '../activities/redirect-state';
import { type Database, createRepository, migrate, openDatabase } from '../activities/store';
import type { Config } from '../config';
import type { Logger } from '../logger';

/** PostgreSQL when DATABASE_URL is set, else PGlite under the data dir; migrated before use. */
export async function openStore(config: Config, log: Logger): Promise<Database> {
  const db = await openDatabase({
    ...(config.DATABASE_URL ? { databaseUrl: config.DATABASE_URL } : { dataDir: join(config.LINKFLOW_DATA_DIR, 'pglite') }),
  });
  const applied = await migrate(db);
  log.info(`store ready (${db.kind === 'postgres' ? 'PostgreSQL' : `PGlite in ${join(config.LINKFLOW_DATA_DIR, 'pglite')}`})`, {
    migrationsApplied: applied,
  });
  return db;
}

/**
 * The secret that signs redirect states. Worker and API must share it: in production it comes
 * from LINKFLOW_STATE_SECRET; the embedded mode keeps a generated one in the data dir.
 */
export async function stateSecret(config: Config): Promise<string> {
  if (config.LINKFLOW_STATE_SECRET) return config.LINKFLOW_STATE_SECRET;
  const file = join(config.LINKFLOW_DATA_DIR, 'state-secret');
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(config.LINKFLOW_DATA_DIR, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  await writeFile(file, secret, { mode: 0o600, flag: 'wx' }).catch(async (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
  await chmod(file, 0o600);
  return (await readFile(file, 'utf8')).trim();
}

export function providersConfig(config: Config, oxlinBaseUrl: string): ProvidersConfig {
  return { oxlin: { baseUrl: oxlinBaseUrl, clientId: config.OXLIN_CLIENT_ID, clientSecret: config.OXLIN_CLIENT_SECRET } };
}

export async function activityDeps(config: Config, db: Database, oxlinBaseUrl: string) {
  return {
    adapters: createAdapters(providersConfig(config, oxlinBaseUrl)),
    repository: createRepository(db),
    stateSigner: createStateSigner(await stateSecret(config)),
  };
}
