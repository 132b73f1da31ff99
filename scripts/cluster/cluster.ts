// Linkflow's production topology as plain processes on one machine (issue 15): PostgreSQL, the
// Temporal server on it (schemas set up by its SQL tool, as compose's temporal-admin-tools does),
// the Temporal Web UI, the provider sandboxes, two workers and two API replicas behind a load
// balancer. Each process has its own process group and log file in the run directory; every
// setting is the environment variable compose uses for the same service (README "Running in
// production"). `npm run cluster` runs it; test/cluster/chaos.test.ts crashes and restarts it.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { generateCredentialsKey } from '../../domain/credentials';
import { generatePayloadKeys } from '../../domain/payload-codec';
import { SEARCH_ATTRIBUTES } from '../../contract/messages';
import { type Log, ensureTemporalCli, run, waitForPort } from '../temporal-binaries';
import { type Balancer, startBalancer } from './balancer';
import { type ClusterBinaries, ensureClusterBinaries } from './binaries';
import { type ProcessSpec, type SupervisedProcess, httpReady, supervise } from './processes';
import { type ClusterPorts, clusterPorts } from './ports';

const ROOT = resolve(__dirname, '..', '..');
const NAMESPACE = 'default';

export interface ClusterOptions {
  /** Run directory: log files, PostgreSQL's data (throwaway cluster), generated secrets. */
  dir: string;
  /** An existing PostgreSQL (its user creates the databases); default: a throwaway cluster in `dir`. */
  databaseUrl?: string;
  /** `fixed`: the documented ports (API 3000, UI 8080, Temporal 7233, …); `free`: any free ports (tests). */
  ports: 'fixed' | 'free';
  workers?: number;
  apis?: number;
  /** Aborting it while the cluster starts stops what has started and rejects (Ctrl-C during start-up). */
  signal?: AbortSignal;
  /** More settings for every Linkflow process (e.g. LINKFLOW_WEBHOOK_ALLOW_PRIVATE for a receiver on loopback). */
  env?: Record<string, string>;
  log: Log;
}

/** The running cluster: its processes (to stop, crash or restart one) and how to reach it. */
export interface Cluster {
  ports: ClusterPorts;
  /** PUBLIC_URL: the balancer in front of the API replicas. */
  publicUrl: string;
  /** Each API replica's own URL, in order. */
  apiUrls: string[];
  /** TEMPORAL_ADDRESS. */
  temporalAddress: string;
  /** Linkflow's store (the `linkflow` database). */
  databaseUrl: string;
  /** What every Linkflow process gets (TEMPORAL_ADDRESS, DATABASE_URL, secrets, provider URLs). */
  env: Record<string, string>;
  postgres?: SupervisedProcess;
  temporal: SupervisedProcess;
  ui: SupervisedProcess;
  sandbox: SupervisedProcess;
  workers: SupervisedProcess[];
  apis: SupervisedProcess[];
  /** Stops everything, Linkflow first, PostgreSQL last (SIGTERM, then SIGKILL after a grace period). */
  stop(): Promise<void>;
}

/** Brings the whole topology up, in dependency order, each part ready before the next starts. */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const { log } = options;
  const dir = resolve(options.dir);
  await mkdir(join(dir, 'logs'), { recursive: true });
  const ports = await clusterPorts(options.ports);
  const binaries = await ensureClusterBinaries(log);
  const cli = await ensureTemporalCli(log);
  const started: SupervisedProcess[] = [];
  let balancer: Balancer | undefined;
  const stop = async () => {
    for (const proc of [...started].reverse()) {
      if (proc.name === 'sandbox') await balancer?.close();
      await proc.stop('SIGTERM');
    }
    await balancer?.close();
  };
  // Interrupted (Ctrl-C while starting): the process being started and all before it are stopped.
  const interrupted = new Promise<never>((_, reject) => {
    const abort = () => reject(new Error('interrupted while starting'));
    if (options.signal?.aborted) abort();
    options.signal?.addEventListener('abort', abort, { once: true });
  });
  interrupted.catch(() => undefined);
  const launch = async (spec: ProcessSpec): Promise<SupervisedProcess> => {
    const proc = supervise(spec, join(dir, 'logs', `${spec.name}.log`));
    started.push(proc);
    log(`starting ${spec.name} (log: ${proc.logFile})`);
    await Promise.race([proc.start(), interrupted]);
    return proc;
  };

  try {
    const postgres = options.databaseUrl ? undefined : await launch(await throwawayPostgres(dir, ports.postgres));
    const server = new URL(options.databaseUrl ?? `postgres://postgres@127.0.0.1:${ports.postgres}/postgres`);
    await setUpDatabases(binaries, server, log);
    const databaseUrl = Object.assign(new URL(server), { pathname: '/linkflow' }).toString();

    const temporal = await launch(await temporalServer(dir, binaries, cli, server, ports));
    await setUpNamespace(cli, ports.temporal, log);
    const temporalAddress = `127.0.0.1:${ports.temporal}`;
    const publicUrl = `http://127.0.0.1:${ports.balancer}`;
    const ui = await launch({
      name: 'temporal-ui',
      command: binaries.uiServer,
      args: ['--root', binaries.uiModule, '--env', 'docker', 'start'],
      env: { ...process.env, TEMPORAL_ADDRESS: temporalAddress, TEMPORAL_UI_PORT: String(ports.ui), TEMPORAL_CODEC_ENDPOINT: `${publicUrl}/codec` },
      ready: () => httpReady(`http://127.0.0.1:${ports.ui}/`),
    });

    const env = { ...(await secrets(dir)), ...providerUrls(ports.sandbox), TEMPORAL_ADDRESS: temporalAddress, TEMPORAL_NAMESPACE: NAMESPACE, DATABASE_URL: databaseUrl, PUBLIC_URL: publicUrl, HOST: '127.0.0.1', ...options.env };
    const node = (name: string, script: string, extra: Record<string, string>, ready: ProcessSpec['ready']): ProcessSpec => ({
      name,
      command: process.execPath,
      args: ['--import', 'tsx', script],
      cwd: ROOT,
      env: { ...process.env, ...env, ...extra },
      ready,
    });
    const readyLine = (proc: SupervisedProcess, since: number) => proc.waitForLog(/"msg":"ready"/, since, 120_000).then(() => undefined);
    balancer = await startBalancer(ports.apis.slice(0, options.apis ?? 2), ports.balancer);
    const sandbox = await launch(
      node('sandbox', 'sandbox/main.ts', { SANDBOX_PORT: String(ports.sandbox), SANDBOX_PUBLIC_URL: `http://127.0.0.1:${ports.sandbox}`, SANDBOX_WEBHOOK_URL: publicUrl }, (proc, since) =>
        proc.waitForLog(/LnkFi sandbox listening/, since, 60_000).then(() => undefined),
      ),
    );
    const workers: SupervisedProcess[] = [];
    for (let i = 0; i < (options.workers ?? 2); i++) {
      const [own, sdk] = ports.workerMetrics[i] as [number, number];
      workers.push(await launch(node(`worker-${i + 1}`, 'worker/main.ts', { LINKFLOW_WORKER_METRICS_PORT: String(own), LINKFLOW_TEMPORAL_METRICS_PORT: String(sdk) }, readyLine)));
    }
    const apis: SupervisedProcess[] = [];
    for (let i = 0; i < (options.apis ?? 2); i++) {
      const port = ports.apis[i] as number;
      apis.push(await launch(node(`api-${i + 1}`, 'api/main.ts', { PORT: String(port), LINKFLOW_UI_ORIGIN: `http://localhost:${ports.ui}` }, (proc, since) => readyLine(proc, since).then(() => httpReady(`http://127.0.0.1:${port}/healthz`)))));
    }
    return {
      ports,
      publicUrl,
      apiUrls: apis.map((_, i) => `http://127.0.0.1:${ports.apis[i]}`),
      temporalAddress,
      databaseUrl,
      env,
      ...(postgres ? { postgres } : {}),
      temporal,
      ui,
      sandbox,
      workers,
      apis,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The sandboxes' URLs, as compose gives them (FLINKS_CONNECT_URL and POWENS_WEBVIEW_URL: what browsers open). */
function providerUrls(base: number): Record<string, string> {
  const at = (offset: number) => `http://127.0.0.1:${base + offset}`;
  return {
    OXLIN_BASE_URL: at(0),
    FLINKS_BASE_URL: at(1),
    FLINKS_CONNECT_URL: `${at(1)}/v2/`,
    POWENS_BASE_URL: at(2),
    POWENS_WEBVIEW_URL: at(2),
    LNKFI_BASE_URL: at(3),
  };
}

/**
 * The secrets compose asks for, from the environment when set there, else generated once into
 * `<dir>/secrets.json` (mode 600) so a restarted cluster reads its own history and store.
 */
async function secrets(dir: string): Promise<Record<string, string>> {
  const file = join(dir, 'secrets.json');
  const kept = existsSync(file) ? (JSON.parse(await readFile(file, 'utf8')) as Record<string, string>) : {};
  const wanted: Record<string, () => Promise<string> | string> = {
    LINKFLOW_STATE_SECRET: () => randomBytes(32).toString('hex'),
    LINKFLOW_CREDENTIALS_KEY: generateCredentialsKey,
    LINKFLOW_PAYLOAD_KEYS: () => generatePayloadKeys('cluster'),
    LINKFLOW_ADMIN_KEY: () => randomBytes(32).toString('hex'),
    OXLIN_WEBHOOK_SECRET: () => randomBytes(24).toString('base64url'),
    FLINKS_WEBHOOK_SECRET: () => randomBytes(24).toString('base64url'),
    LNKFI_WEBHOOK_SECRET: () => randomBytes(24).toString('base64url'),
  };
  const values: Record<string, string> = {};
  for (const [name, make] of Object.entries(wanted)) values[name] = process.env[name] || kept[name] || (await make());
  await writeFile(file, JSON.stringify(values, null, 2), { mode: 0o600 });
  return values;
}

/** A PostgreSQL cluster in `<dir>/postgres` (initdb once), run as the `postgres` user when we are root. */
export async function throwawayPostgres(dir: string, port: number): Promise<ProcessSpec> {
  const bin = await postgresBin();
  const data = join(dir, 'postgres');
  const owner = process.getuid?.() === 0 ? { uid: Number(execFileSync('id', ['-u', 'postgres']).toString()), gid: Number(execFileSync('id', ['-g', 'postgres']).toString()) } : {};
  if (!existsSync(join(data, 'PG_VERSION'))) {
    await mkdir(data, { recursive: true, mode: 0o700 });
    if (owner.uid !== undefined) {
      // The postgres user must reach its data directory through the run directory (mkdtemp makes it 0700).
      await chmod(dir, 0o711);
      await chown(data, owner.uid, owner.gid as number);
    }
    try {
      execFileSync(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres'], { stdio: 'pipe', ...owner });
    } catch (err) {
      const { stderr } = err as { stderr?: Buffer };
      throw new Error(`initdb -D ${data} failed: ${stderr?.toString() ?? String(err)}`);
    }
  }
  return {
    name: 'postgres',
    command: join(bin, 'postgres'),
    args: ['-D', data, '-p', String(port), '-k', data, '-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
    env: { ...process.env, LC_ALL: 'C' },
    ...owner,
    ready: async () => {
      await waitForPort(port, 60_000);
      while ((await run(join(bin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port)])).code !== 0) await new Promise((r) => setTimeout(r, 100));
    },
  };
}

/** Debian's newest /usr/lib/postgresql/<version>/bin. */
async function postgresBin(): Promise<string> {
  const versions = await readdir('/usr/lib/postgresql').catch(() => [] as string[]);
  const newest = versions.filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a))[0];
  if (!newest) throw new Error('no PostgreSQL server here: apt-get install postgresql, or give DATABASE_URL (an existing PostgreSQL)');
  return join('/usr/lib/postgresql', newest, 'bin');
}

/**
 * What compose's temporal-admin-tools does, with the same tool and the module's own schema files:
 * the `temporal` and `temporal_visibility` databases created, set up and updated to the latest
 * versioned schema (all three steps idempotent); and Linkflow's `linkflow` database created.
 */
async function setUpDatabases(binaries: ClusterBinaries, server: URL, log: Log): Promise<void> {
  const env = { ...process.env, SQL_PLUGIN: 'postgres12', SQL_HOST: server.hostname, SQL_PORT: server.port || '5432', SQL_USER: decodeURIComponent(server.username), SQL_PASSWORD: decodeURIComponent(server.password) };
  const sql = async (args: string[], allowFailure = false) => {
    const result = await run(binaries.sqlTool, args, { env });
    if (result.code !== 0 && !allowFailure) throw new Error(`temporal-sql-tool ${args.join(' ')} failed (exit ${result.code}):\n${result.output}`);
    return result;
  };
  const schema = join(binaries.serverModule, 'schema', 'postgresql', 'v12');
  for (const [db, dir] of [['temporal', 'temporal'], ['temporal_visibility', 'visibility']] as const) {
    log(`schema: ${db} from ${join(schema, dir, 'versioned')}`);
    await sql(['--db', db, 'create'], true);
    await sql(['--db', db, 'setup-schema', '-v', '0.0']);
    await sql(['--db', db, 'update-schema', '-d', join(schema, dir, 'versioned')]);
  }
  await sql(['--db', 'linkflow', 'create'], true);
}

/** The Temporal server with the docker image's config template (from the module), rendered from compose's variables. */
async function temporalServer(dir: string, binaries: ClusterBinaries, cli: string, server: URL, ports: ClusterPorts): Promise<ProcessSpec> {
  const configDir = join(dir, 'temporal-config');
  await mkdir(configDir, { recursive: true });
  await writeFile(join(configDir, 'docker.yaml'), asServerTemplate(await readFile(join(binaries.serverModule, 'docker', 'config_template.yaml'), 'utf8')));
  const t = ports.temporalInternal;
  return {
    name: 'temporal',
    command: binaries.server,
    args: ['--root', dir, '--config', 'temporal-config', '--env', 'docker', 'start'],
    env: {
      ...process.env,
      DB: 'postgres12',
      DB_PORT: server.port || '5432',
      POSTGRES_SEEDS: server.hostname,
      POSTGRES_USER: decodeURIComponent(server.username),
      POSTGRES_PWD: decodeURIComponent(server.password),
      DBNAME: 'temporal',
      VISIBILITY_DBNAME: 'temporal_visibility',
      DYNAMIC_CONFIG_FILE_PATH: join(binaries.serverModule, 'config', 'dynamicconfig', 'docker.yaml'),
      BIND_ON_IP: '127.0.0.1',
      TEMPORAL_BROADCAST_ADDRESS: '127.0.0.1',
      FRONTEND_GRPC_PORT: String(ports.temporal),
      FRONTEND_HTTP_PORT: String(t[0]),
      FRONTEND_MEMBERSHIP_PORT: String(t[1]),
      MATCHING_GRPC_PORT: String(t[2]),
      MATCHING_MEMBERSHIP_PORT: String(t[3]),
      HISTORY_GRPC_PORT: String(t[4]),
      HISTORY_MEMBERSHIP_PORT: String(t[5]),
      WORKER_GRPC_PORT: String(t[6]),
      WORKER_MEMBERSHIP_PORT: String(t[7]),
    },
    ready: async () => {
      await waitForPort(ports.temporal, 120_000);
      while (!/SERVING/.test((await run(cli, ['operator', 'cluster', 'health', '--address', `127.0.0.1:${ports.temporal}`])).output)) {
        await new Promise((r) => setTimeout(r, 250));
      }
    },
  };
}

/**
 * The docker image's config template, rendered by the image with dockerize (`.Env.X`, and
 * `default VALUE FALLBACK`), as a template the server renders itself: a file that says
 * `enable-template` in its first 1 KB, with sprig's `env "X"` and `default FALLBACK VALUE`.
 */
export function asServerTemplate(dockerize: string): string {
  const sprig = dockerize
    .replace(/default \.Env\.(\w+) ("[^"]*"|\$\w+)/g, 'default $2 (env "$1")')
    .replace(/\.Env\.(\w+)/g, '(env "$1")');
  return `# enable-template\n${sprig}`;
}

/** What compose's temporal-setup does: the namespace (30 days' retention) and Linkflow's search attributes, both idempotent. */
async function setUpNamespace(cli: string, port: number, log: Log): Promise<void> {
  const address = ['--address', `127.0.0.1:${port}`];
  if ((await run(cli, ['operator', 'namespace', 'describe', NAMESPACE, ...address])).code !== 0) {
    const created = await run(cli, ['operator', 'namespace', 'create', '--retention', '30d', NAMESPACE, ...address]);
    if (created.code !== 0 && !/already exists|AlreadyExists/i.test(created.output)) throw new Error(`namespace ${NAMESPACE}: ${created.output}`);
  }
  const attributes = Object.entries(SEARCH_ATTRIBUTES).flatMap(([name, type]) => ['--name', name, '--type', type]);
  for (let attempt = 0; ; attempt++) {
    const result = await run(cli, ['operator', 'search-attribute', 'create', '--namespace', NAMESPACE, ...attributes, ...address]);
    if (result.code === 0) break;
    // A namespace just created takes a moment to be seen by every service.
    if (attempt === 60) throw new Error(`search attributes: ${result.output}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  log(`namespace ${NAMESPACE} with Linkflow's search attributes`);
}
