/**
 * Temporal binaries on machines without internet (see DESIGN.md).
 *
 * - Temporal CLI (dev server + Web UI): built with `go install` from the Go module proxy.
 * - Time-skipping test server: Maven artifact run by a small `java` wrapper script, with a
 *   class-data-sharing archive so that a cold JVM answers well inside the SDK's 5 seconds.
 *
 * Both are cached outside the clone, in `cacheDir()`.
 *
 * CLI: npx tsx scripts/temporal-binaries.ts [cli|test-server|all]
 */
import { spawn } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import { access, chmod, mkdir, mkdtemp, readFile, readdir, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { homedir } from 'node:os';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';

export const TEMPORAL_CLI_VERSION = 'v1.5.1';
export const TEST_SERVER_VERSION = '1.38.0';
const MIN_GO = { major: 1, minor: 25 };
const MIN_JAVA = 17;
const TEST_SERVER_MAIN = 'io.temporal.testserver.TestServer';
const JVM_FLAGS = ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-Xshare:auto'];

export type Log = (line: string) => void;

/** Injection points (tests); by default everything comes from `process.env`. */
export interface CacheOptions {
  /** Overrides `cacheDir(env)`. */
  cacheDir?: string;
  /** Environment used for `LINKFLOW_*` settings, PATH look-ups and child processes. */
  env?: NodeJS.ProcessEnv;
}

/** The `server.executable` option of `@temporalio/testing` (structurally identical). */
export type ServerExecutable =
  | { type: 'existing-path'; path: string }
  | { type: 'cached-download'; downloadDir?: string };

const stderrLog: Log = (line) => process.stderr.write(`${line}\n`);

const ALTERNATIVES = (envVar: string, what: string): string =>
  `or set ${envVar} to an existing ${what}, ` +
  'or set LINKFLOW_TEMPORAL_SOURCE=download to let the Temporal SDK download it (needs internet)';

/** `$LINKFLOW_CACHE_DIR`, else `${XDG_CACHE_HOME:-~/.cache}/linkflow`. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.LINKFLOW_CACHE_DIR) return resolve(env.LINKFLOW_CACHE_DIR);
  const xdg = env.XDG_CACHE_HOME && isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return join(xdg, 'linkflow');
}

/** Where the Temporal binaries come from: built from package registries (default) or the SDK's download. */
export function temporalSource(env: NodeJS.ProcessEnv = process.env): 'registry' | 'download' {
  const value = env.LINKFLOW_TEMPORAL_SOURCE || 'registry';
  if (value === 'registry' || value === 'download') return value;
  throw new Error(`LINKFLOW_TEMPORAL_SOURCE must be "registry" or "download", not "${value}"`);
}

/** `server.executable` for `TestWorkflowEnvironment.createLocal` / the dev server. */
export async function devServerExecutable(log?: Log, options: CacheOptions = {}): Promise<ServerExecutable> {
  if (temporalSource(options.env) === 'download') return sdkDownload(options);
  return { type: 'existing-path', path: await ensureTemporalCli(log, options) };
}

/** `server.executable` for `TestWorkflowEnvironment.createTimeSkipping`. */
export async function testServerExecutable(log?: Log, options: CacheOptions = {}): Promise<ServerExecutable> {
  if (temporalSource(options.env) === 'download') return sdkDownload(options);
  return { type: 'existing-path', path: await ensureTestServer(log, options) };
}

function sdkDownload(options: CacheOptions): ServerExecutable {
  return { type: 'cached-download', downloadDir: join(resolveCacheDir(options), 'download') };
}

// ---------------------------------------------------------------------------------------------
// Temporal CLI

/** Absolute path to a `temporal` CLI binary: `$LINKFLOW_TEMPORAL_CLI`, the cache, or a fresh `go install`. */
export async function ensureTemporalCli(log: Log = stderrLog, options: CacheOptions = {}): Promise<string> {
  const env = options.env ?? process.env;
  if (env.LINKFLOW_TEMPORAL_CLI) return existingExecutable(env.LINKFLOW_TEMPORAL_CLI, 'LINKFLOW_TEMPORAL_CLI');

  const binDir = join(resolveCacheDir(options), 'bin');
  const binary = join(binDir, 'temporal');
  const stampFile = join(binDir, 'temporal.version');
  if ((await readText(stampFile)) === TEMPORAL_CLI_VERSION && (await isExecutable(binary))) return binary;

  await mkdir(binDir, { recursive: true });
  return withLock(join(binDir, '.temporal.lock'), 'the Temporal CLI', log, async () => {
    if ((await readText(stampFile)) === TEMPORAL_CLI_VERSION && (await isExecutable(binary))) return binary;
    const go = await findGo(env);
    if (await isExecutable(binary) && (await cliBinaryVersion(binary, go, env)) === TEMPORAL_CLI_VERSION) {
      log(`Using the existing Temporal CLI ${TEMPORAL_CLI_VERSION} at ${binary}`);
    } else {
      await buildTemporalCli(requireGo(go), binDir, env, log);
    }
    await writeAtomic(stampFile, TEMPORAL_CLI_VERSION);
    return binary;
  });
}

export interface GoToolchain { path: string; version: string }

export async function findGo(env: NodeJS.ProcessEnv): Promise<GoToolchain | undefined> {
  const path = await which('go', env);
  if (!path) return undefined;
  const result = await run(path, ['env', 'GOVERSION'], { env });
  return { path, version: result.code === 0 ? result.output.trim() : 'unknown' };
}

export function requireGo(go: GoToolchain | undefined): GoToolchain {
  const match = go && /^go(\d+)\.(\d+)/.exec(go.version);
  const ok = match && (Number(match[1]) > MIN_GO.major ||
    (Number(match[1]) === MIN_GO.major && Number(match[2]) >= MIN_GO.minor));
  if (go && ok) return go;
  throw new Error(
    `Go >= ${MIN_GO.major}.${MIN_GO.minor} is needed to build the Temporal CLI ` +
    `(found: ${go ? `${go.version} at ${go.path}` : 'no go on PATH'}): ` +
    'apt-get install golang-go (or https://go.dev/dl), ' +
    ALTERNATIVES('LINKFLOW_TEMPORAL_CLI', 'temporal binary'),
  );
}

/** Version of the Temporal CLI module a binary was built from, via `--version` or Go's build info. */
async function cliBinaryVersion(binary: string, go: GoToolchain | undefined, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const reported = /^temporal version (\d+\.\d+\.\d+) /m.exec((await run(binary, ['--version'], { env })).output);
  if (reported) return `v${reported[1]}`;
  if (!go) return undefined;
  const info = await run(go.path, ['version', '-m', binary], { env });
  return /^\s*mod\s+github\.com\/temporalio\/cli\s+(v\S+)/m.exec(info.output)?.[1];
}

/** `go install` into a private GOBIN next to the cache, then an atomic rename into place. */
async function buildTemporalCli(go: GoToolchain, binDir: string, env: NodeJS.ProcessEnv, log: Log): Promise<void> {
  const pkg = `github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}`;
  log(`Building the Temporal CLI ${TEMPORAL_CLI_VERSION} with ${go.version} into ${binDir} ` +
    '(a first build takes a few minutes; later runs use the cache)');
  const gobin = await mkdtemp(join(binDir, '.build-'));
  try {
    const ldflags = `-X github.com/temporalio/cli/temporalcli.Version=${TEMPORAL_CLI_VERSION.slice(1)}`;
    const result = await run(go.path, ['install', '-v', `-ldflags=${ldflags}`, pkg], {
      env: { ...env, GOBIN: gobin }, onLine: (line) => log(`go: ${line}`),
    });
    if (result.code !== 0) throw new Error(`go install ${pkg} failed (exit ${result.code}):\n${result.output}`);
    await rename(join(gobin, 'temporal'), join(binDir, 'temporal'));
    log(`Built ${join(binDir, 'temporal')}`);
  } finally {
    await rm(gobin, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Time-skipping test server

/** Bumped when the set-up itself changes (pom, flags, wrapper), so existing caches are redone. */
const TEST_SERVER_LAYOUT = 2;
interface TestServerStamp { version: string; layout: number; java: string; dir: string }

/**
 * Absolute path to an executable that starts the time-skipping test server as `<path> <port>`:
 * `$LINKFLOW_TEST_SERVER`, or a wrapper around the Maven artifact set up in `<cache>/test-server`.
 */
export async function ensureTestServer(log: Log = stderrLog, options: CacheOptions = {}): Promise<string> {
  const env = options.env ?? process.env;
  if (env.LINKFLOW_TEST_SERVER) return existingExecutable(env.LINKFLOW_TEST_SERVER, 'LINKFLOW_TEST_SERVER');

  const dir = join(resolveCacheDir(options), 'test-server');
  const wrapper = join(dir, 'temporal-test-server');
  const javaOnPath = await which('java', env);
  if (!javaOnPath) throw javaMavenError('no java on PATH');
  const wanted: TestServerStamp = { version: TEST_SERVER_VERSION, layout: TEST_SERVER_LAYOUT, java: await realpath(javaOnPath), dir };
  const stampFile = join(dir, 'stamp.json');
  const isReady = async (): Promise<boolean> =>
    (await readText(stampFile)) === JSON.stringify(wanted) && isExecutable(wrapper);
  if (await isReady()) return wrapper;

  await mkdir(dir, { recursive: true });
  return withLock(join(dir, '.lock'), 'the Temporal test server', log, async () => {
    if (await isReady()) return wrapper;
    await requireJava(wanted.java, env);
    log(`Setting up the Temporal test server ${TEST_SERVER_VERSION} in ${dir} (Maven Central + a Java class-data archive)`);
    const classpath = await fetchTestServerJars(dir, env, log);
    await createClassDataArchive(dir, wanted.java, classpath, log);
    await writeAtomic(wrapper, wrapperScript(dir, wanted.java, classpath), 0o755);
    await writeAtomic(stampFile, JSON.stringify(wanted));
    log(`Test server ready: ${wrapper}`);
    return wrapper;
  });
}

function javaMavenError(found: string): Error {
  return new Error(
    `Java >= ${MIN_JAVA} and Maven are needed to set up the Temporal test server (${found}): ` +
    'apt-get install openjdk-17-jre-headless maven, ' +
    ALTERNATIVES('LINKFLOW_TEST_SERVER', 'test server executable'),
  );
}

async function requireJava(java: string, env: NodeJS.ProcessEnv): Promise<void> {
  const result = await run(java, ['-version'], { env });
  const major = /version "(\d+)/.exec(result.output)?.[1];
  if (result.code !== 0 || !major || Number(major) < MIN_JAVA) {
    throw javaMavenError(`found ${java}: ${result.output.split('\n')[0] ?? 'no version'}`);
  }
}

/** `mvn dependency:copy-dependencies` into `<dir>/lib`; returns the sorted class path. */
async function fetchTestServerJars(dir: string, env: NodeJS.ProcessEnv, log: Log): Promise<string[]> {
  const mvn = await which('mvn', env);
  if (!mvn) throw javaMavenError('no mvn on PATH');
  await writeFile(join(dir, 'pom.xml'), pomXml());
  const staging = await mkdtemp(join(dir, '.lib-'));
  try {
    log(`mvn: fetching io.temporal:temporal-test-server:${TEST_SERVER_VERSION} and its dependencies`);
    const result = await run(mvn, ['-q', '-B', '-Dstyle.color=never', 'dependency:copy-dependencies',
      `-DoutputDirectory=${staging}`, '-DincludeScope=runtime'], { env, cwd: dir, onLine: (line) => log(`mvn: ${line}`) });
    if (result.code !== 0) throw new Error(`mvn dependency:copy-dependencies failed (exit ${result.code}):\n${result.output}`);
    await rm(join(dir, 'lib'), { recursive: true, force: true });
    await rename(staging, join(dir, 'lib'));
    await chmod(join(dir, 'lib'), 0o755);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  const jars = (await readdir(join(dir, 'lib'))).filter((name) => name.endsWith('.jar')).sort();
  if (!jars.some((name) => name.startsWith('temporal-test-server-'))) throw new Error(`mvn did not fetch temporal-test-server into ${dir}/lib`);
  return jars.map((name) => join(dir, 'lib', name));
}

function pomXml(): string {
  return `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <!-- Generated by scripts/temporal-binaries.ts -->
  <modelVersion>4.0.0</modelVersion>
  <groupId>linkflow</groupId><artifactId>temporal-test-server-fetch</artifactId><version>1</version>
  <dependencies>
    <dependency><groupId>io.temporal</groupId><artifactId>temporal-test-server</artifactId><version>${TEST_SERVER_VERSION}</version></dependency>
    <!-- binds SLF4J to a no-op logger, which silences its "no binding" warning on every start -->
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-nop</artifactId><version>1.7.36</version></dependency>
  </dependencies>
</project>
`;
}

/**
 * Runs the server once with `-XX:ArchiveClassesAtExit`, makes one gRPC call so request-handling classes
 * are loaded too, then stops it with SIGTERM (the JVM writes the archive in its shutdown path).
 * Failure only costs start-up time, so it is logged, not thrown.
 */
async function createClassDataArchive(dir: string, java: string, classpath: string[], log: Log): Promise<void> {
  const archive = join(dir, 'app.jsa');
  const staging = join(dir, `.app-${process.pid}.jsa`);
  await rm(archive, { force: true });
  await rm(staging, { force: true });
  const port = await freePort();
  const started = Date.now();
  const child = spawn(java, [...JVM_FLAGS, `-XX:ArchiveClassesAtExit=${staging}`, '-Xlog:cds=off', '-Xlog:cds+dynamic=off',
    '-cp', classpath.join(':'), TEST_SERVER_MAIN, String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<number | null>((done) => {
    child.on('close', (code) => done(code));
    child.on('error', () => done(null));
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  try {
    await waitForPort(port, 60_000, exited);
    log(`test server answered on port ${port} after ${Date.now() - started} ms (no archive yet); warming up`);
    await grpcWarmUp(port).catch((error: unknown) => log(`gRPC warm-up call failed (archive still usable): ${String(error)}`));
  } catch (error) {
    log(`could not start the test server to create a class-data archive: ${String(error)}\n${stderr}`);
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
  if (await isFile(staging)) {
    await rename(staging, archive);
    log(`class-data archive written: ${archive}`);
  } else {
    log(`warning: no class-data archive was written; the test server starts without it.\n${stderr}`);
  }
}

function wrapperScript(dir: string, java: string, classpath: string[]): string {
  const q = shellQuote;
  const archive = join(dir, 'app.jsa');
  const common = `${JVM_FLAGS.join(' ')} -cp ${q(classpath.join(':'))}`;
  return `#!/bin/sh
# Temporal time-skipping test server ${TEST_SERVER_VERSION}, generated by scripts/temporal-binaries.ts.
# Usage: temporal-test-server <port> (the Temporal SDK passes exactly these arguments).
if [ -f ${q(archive)} ]; then
  exec ${q(java)} ${common} -XX:SharedArchiveFile=${q(archive)} -Xlog:cds=off -Xlog:cds+dynamic=off ${TEST_SERVER_MAIN} "$@"
fi
exec ${q(java)} ${common} ${TEST_SERVER_MAIN} "$@"
`;
}

/**
 * A hand-made gRPC call (empty GetSystemInfoRequest over HTTP/2), so that the archive also
 * holds the classes that serve requests. The answer itself does not matter.
 */
async function grpcWarmUp(port: number): Promise<void> {
  const { connect: http2Connect } = await import('node:http2');
  const session = http2Connect(`http://127.0.0.1:${port}`);
  try {
    await new Promise<void>((done, fail) => {
      session.on('error', fail);
      const request = session.request({
        ':method': 'POST', ':path': '/temporal.api.workflowservice.v1.WorkflowService/GetSystemInfo',
        'content-type': 'application/grpc', te: 'trailers',
      });
      request.setTimeout(30_000, () => fail(new Error('timed out')));
      request.on('error', fail);
      request.on('data', () => undefined);
      request.on('end', () => done());
      request.end(Buffer.alloc(5)); // uncompressed, zero-length message
    });
  } finally {
    session.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Small helpers

export function resolveCacheDir(options: CacheOptions): string {
  return options.cacheDir ? resolve(options.cacheDir) : cacheDir(options.env);
}

async function existingExecutable(path: string, envVar: string): Promise<string> {
  const absolute = resolve(path);
  if (!(await isExecutable(absolute))) throw new Error(`${envVar}=${path}: no executable file there`);
  return absolute;
}

export async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, fsConstants.X_OK);
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isFile(), () => false);
}

export async function readText(path: string): Promise<string | undefined> {
  return readFile(path, 'utf8').then((text) => text.trim(), () => undefined);
}

/** Writes via a temporary file and a rename, so readers never see half a file. */
export async function writeAtomic(path: string, content: string, mode = 0o644): Promise<void> {
  const staging = `${path}.${process.pid}.tmp`;
  await writeFile(staging, content.endsWith('\n') ? content : `${content}\n`);
  await chmod(staging, mode);
  await rename(staging, path);
}

/** PATH look-up with the given environment (no shell). */
export async function which(command: string, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && (await isExecutable(join(dir, command)))) return join(dir, command);
  }
  return undefined;
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export interface RunResult { code: number; output: string }
const ANSI_ESCAPE = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*[A-Za-z]`, 'g');

/** Spawns without a shell; collects stdout+stderr and optionally streams them line by line. */
export function run(command: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; onLine?: Log } = {}): Promise<RunResult> {
  return new Promise((done) => {
    const child = spawn(command, args, { env: opts.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (raw) => {
        const line = raw.replace(ANSI_ESCAPE, '');
        lines.push(line);
        if (line.trim()) opts.onLine?.(line);
      });
    }
    child.on('error', (error) => done({ code: -1, output: String(error) }));
    child.on('close', (code) => done({ code: code ?? -1, output: lines.slice(-200).join('\n') }));
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  await new Promise((done) => server.close(done));
  if (!address || typeof address === 'string') throw new Error('could not find a free port');
  return address.port;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => { socket.destroy(); done(true); });
    socket.once('error', () => { socket.destroy(); done(false); });
  });
}

/** Resolves once something accepts TCP connections on the port; rejects on timeout or early exit. */
export async function waitForPort(port: number, timeoutMs: number, exited?: Promise<unknown>): Promise<void> {
  let gone = false;
  void exited?.then(() => { gone = true; });
  const deadline = Date.now() + timeoutMs;
  while (!(await canConnect(port))) {
    if (gone) throw new Error('the process exited before it listened');
    if (Date.now() > deadline) throw new Error(`nothing listened on port ${port} within ${timeoutMs} ms`);
    await delay(50);
  }
}

/**
 * A cross-process lock: a directory created with mkdir. A lock whose owner process is gone
 * (same host) is taken over; otherwise we wait, because a first build may take minutes.
 */
export async function withLock<T>(lockDir: string, what: string, log: Log, fn: () => Promise<T>): Promise<T> {
  let announced = false;
  for (;;) {
    try {
      await mkdir(lockDir);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (await lockIsStale(lockDir)) {
      await rm(lockDir, { recursive: true, force: true });
      continue;
    }
    if (!announced) log(`Waiting for another process that is setting up ${what} (lock: ${lockDir})`);
    announced = true;
    await delay(500);
  }
  try {
    await writeFile(join(lockDir, 'pid'), String(process.pid));
    return await fn();
  } finally {
    await rm(lockDir, { recursive: true, force: true });
  }
}

async function lockIsStale(lockDir: string): Promise<boolean> {
  const pid = Number(await readText(join(lockDir, 'pid')));
  if (!pid) {
    // Created but no pid written yet: only stale if that was long ago.
    const created = await stat(lockDir).then((s) => s.mtimeMs, () => 0);
    return Date.now() - created > 30_000;
  }
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

// ---------------------------------------------------------------------------------------------
// CLI

async function main(argv: string[]): Promise<void> {
  const what = argv[0] ?? 'all';
  if (!['cli', 'test-server', 'all'].includes(what)) {
    throw new Error('usage: npx tsx scripts/temporal-binaries.ts [cli|test-server|all]');
  }
  const log: Log = (line) => console.log(line);
  log(`cache: ${cacheDir()}`);
  if (temporalSource() === 'download') {
    log('LINKFLOW_TEMPORAL_SOURCE=download: the Temporal SDK downloads its binaries itself; nothing to do.');
    return;
  }
  if (what === 'cli' || what === 'all') log(`temporal CLI: ${await ensureTemporalCli(log)}`);
  if (what === 'test-server' || what === 'all') log(`test server: ${await ensureTestServer(log)}`);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
