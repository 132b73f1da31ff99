// The binaries of the production topology (issue 15), built from the Go module proxy like the CLI
// (scripts/temporal-binaries.ts) and cached next to it: the Temporal server, its SQL schema tool
// (what the temporal-admin-tools image runs as `temporal-sql-tool`), and the Web UI server the CLI
// embeds. Their PostgreSQL schemas and config templates are read from the same modules in Go's
// module cache, never copied into this repository.
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CacheOptions, type Log, findGo, isExecutable, readText, requireGo, resolveCacheDir, run, withLock, writeAtomic } from '../temporal-binaries';

/** The Temporal server's version: the same as the dev server's and compose's `temporalio/server` image. */
export const TEMPORAL_SERVER_VERSION = 'v1.29.1';
/** The Web UI's version: the one Temporal CLI 1.5.1 embeds (UI 2.42.1), as compose's `temporalio/ui` image. */
export const TEMPORAL_UI_VERSION = 'v2.42.1';

const SERVER_MODULE = 'go.temporal.io/server';
const UI_MODULE = 'github.com/temporalio/ui-server/v2';

/** Where each binary is, and the module directories its schemas and config templates come from. */
export interface ClusterBinaries {
  /** `temporal-server` (`server start`). */
  server: string;
  /** `temporal-sql-tool` (`create`, `setup-schema`, `update-schema`). */
  sqlTool: string;
  /** The Web UI server (`ui-server start`). */
  uiServer: string;
  /** go.temporal.io/server@TEMPORAL_SERVER_VERSION in the module cache: `schema/postgresql/v12/…`, `docker/config_template.yaml`, `config/dynamicconfig/`. */
  serverModule: string;
  /** github.com/temporalio/ui-server/v2@TEMPORAL_UI_VERSION in the module cache: `config/docker.yaml`. */
  uiModule: string;
}

const BUILDS = [
  { key: 'server', pkg: `${SERVER_MODULE}/cmd/server@${TEMPORAL_SERVER_VERSION}`, output: 'server', name: 'temporal-server' },
  { key: 'sqlTool', pkg: `${SERVER_MODULE}/cmd/tools/sql@${TEMPORAL_SERVER_VERSION}`, output: 'sql', name: 'temporal-sql-tool' },
  { key: 'uiServer', pkg: `${UI_MODULE}/cmd/server@${TEMPORAL_UI_VERSION}`, output: 'server', name: 'temporal-ui-server' },
] as const;

/**
 * Each binary from the cache, or built once with `go install` (Go >= 1.25; a first build takes a
 * few minutes), and the two module directories (`go mod download -json`). Throws naming what is
 * missing (no Go, a failed build).
 */
export async function ensureClusterBinaries(log: Log, options: CacheOptions = {}): Promise<ClusterBinaries> {
  const env = options.env ?? process.env;
  const binDir = join(resolveCacheDir(options), 'bin', 'cluster');
  await mkdir(binDir, { recursive: true });
  const paths: Partial<Record<(typeof BUILDS)[number]['key'], string>> = {};
  const go = requireGo(await findGo(env));
  // Outside any module, so `go` resolves the packages by their versions alone.
  const cwd = await mkdtemp(join(tmpdir(), 'linkflow-go-'));
  try {
    for (const build of BUILDS) {
      const binary = join(binDir, build.name);
      const stamp = `${binary}.version`;
      paths[build.key] = binary;
      if ((await readText(stamp)) === build.pkg && (await isExecutable(binary))) continue;
      await withLock(join(binDir, `.${build.name}.lock`), build.name, log, async () => {
        if ((await readText(stamp)) === build.pkg && (await isExecutable(binary))) return;
        log(`Building ${build.name} (${build.pkg}) with ${go.version} (a first build takes a few minutes; later runs use the cache)`);
        const gobin = await mkdtemp(join(binDir, '.build-'));
        try {
          const result = await run(go.path, ['install', build.pkg], { env: { ...env, GOBIN: gobin }, cwd });
          if (result.code !== 0) throw new Error(`go install ${build.pkg} failed (exit ${result.code}):\n${result.output}`);
          await rename(join(gobin, build.output), binary);
          await writeAtomic(stamp, build.pkg);
        } finally {
          await rm(gobin, { recursive: true, force: true });
        }
      });
    }
    const moduleDir = async (module: string): Promise<string> => {
      const result = await run(go.path, ['mod', 'download', '-json', module], { env, cwd });
      const dir = /"Dir":\s*"([^"]+)"/.exec(result.output)?.[1];
      if (result.code !== 0 || !dir) throw new Error(`go mod download ${module} failed (exit ${result.code}):\n${result.output}`);
      return dir;
    };
    return {
      server: paths.server as string,
      sqlTool: paths.sqlTool as string,
      uiServer: paths.uiServer as string,
      serverModule: await moduleDir(`${SERVER_MODULE}@${TEMPORAL_SERVER_VERSION}`),
      uiModule: await moduleDir(`${UI_MODULE}@${TEMPORAL_UI_VERSION}`),
    };
  } finally {
    await rm(cwd, { recursive: true, force: true });
  }
}

// CLI (CI builds them ahead of the tests): npx tsx scripts/cluster/binaries.ts
if (require.main === module) {
  ensureClusterBinaries((line) => console.log(line)).then(
    (binaries) => console.log(JSON.stringify(binaries, null, 2)),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exitCode = 1;
    },
  );
}
