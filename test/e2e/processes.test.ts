// Linkflow's processes as an operator runs them, each a child process in its own process group:
// `npm start` (embedded: dev server, sandboxes, worker, API), then `api/main.ts` and
// `worker/main.ts` against its Temporal. Each says `ready` once, logs the workflow's own INFO lines
// and none of the SDK's chatter, and on Ctrl-C (SIGINT to the group, as a terminal sends it) or
// SIGTERM (docker) stops every part once, exits 0, and logs no ERROR.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { generateCredentialsKey } from '../../domain/credentials';
import { CONFIG_VARIABLES } from '../../config';
import { generatePayloadKeys } from '../../domain/payload-codec';
import { consecutiveFreePorts } from '../../scripts/cluster/ports';

const ROOT = join(__dirname, '..', '..');

/** A process started in its own group, its output (stdout and stderr) kept line by line. */
interface Started {
  lines: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the first line matching `pattern`; rejects if the process exits first or after `ms`. */
  waitFor(pattern: RegExp, ms: number): Promise<string>;
  /** Sends `signal` to the whole group, as a terminal's Ctrl-C does. */
  signal(signal: NodeJS.Signals): void;
}

function start(command: string, args: string[], env: Record<string, string>): Started {
  // None of Linkflow's settings from the environment running the tests: only those given.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !(CONFIG_VARIABLES as readonly string[]).includes(name)));
  const child: ChildProcess = spawn(command, args, { cwd: ROOT, env: { ...inherited, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream! }).on('line', (line) => {
      lines.push(line);
      for (const wake of waiters) wake();
    });
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      // Let the last lines through readline first.
      setTimeout(() => resolve({ code, signal }), 100);
    }),
  );
  let done = false;
  void exited.then(() => {
    done = true;
    for (const wake of waiters) wake();
  });
  started.push(child);
  return {
    lines,
    exited,
    waitFor: (pattern, ms) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => finish(new Error(`no line matching ${pattern} within ${ms} ms:\n${lines.join('\n')}`)), ms);
        const check = () => {
          const line = lines.find((l) => pattern.test(l));
          if (line !== undefined) finish(undefined, line);
          else if (done) finish(new Error(`exited before a line matching ${pattern}:\n${lines.join('\n')}`));
        };
        const finish = (err?: Error, line?: string) => {
          clearTimeout(timer);
          waiters.delete(check);
          if (err) reject(err);
          else resolve(line as string);
        };
        waiters.add(check);
        check();
      }),
    signal: (signal) => process.kill(-(child.pid as number), signal),
  };
}

const started: ChildProcess[] = [];

const readyLines = (lines: string[]) => lines.filter((line) => /\bready\b/i.test(line));
const errorLines = (lines: string[]) => lines.filter((line) => /\bERROR\b|"level":"error"/.test(line));

async function stoppedCleanly(proc: Started, signal: NodeJS.Signals): Promise<void> {
  proc.signal(signal);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('still running 60 s after the signal')), 60_000)));
  const exit = await Promise.race([proc.exited, timeout]).finally(() => clearTimeout(timer));
  const log = proc.lines.join('\n');
  assert.deepEqual(exit, { code: 0, signal: null }, log);
  assert.deepEqual(errorLines(proc.lines), [], log);
  assert.equal(readyLines(proc.lines).length, 1, `one ready line:\n${log}`);
  assert.ok(proc.lines.some((line) => / INFO: \[\w+\] stopped$|"level":"info",.*"msg":"stopped"/.test(line)), `says it stopped:\n${log}`);
}

describe('Linkflow processes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'linkflow-processes-'));
  let embedded: Started;
  let ports: { api: number; temporal: number; ui: number; sandbox: number };

  before(async () => {
    const base = await consecutiveFreePorts(3);
    ports = { api: base, temporal: base + 1, ui: base + 2, sandbox: await consecutiveFreePorts(4) };
    embedded = start('npm', ['start'], {
      PORT: String(ports.api),
      TEMPORAL_PORT: String(ports.temporal),
      TEMPORAL_UI_PORT: String(ports.ui),
      SANDBOX_PORT: String(ports.sandbox),
      LINKFLOW_DATA_DIR: join(dir, 'embedded'),
      PUBLIC_URL: `http://127.0.0.1:${ports.api}`,
    });
    await embedded.waitFor(/Ctrl-C stops everything/, 180_000);
  });
  after(async () => {
    for (const child of started) {
      if (child.exitCode === null && child.signalCode === null) process.kill(-(child.pid as number), 'SIGKILL');
    }
    await rm(dir, { recursive: true, force: true });
  });

  it("npm start: one ready line, the workflow's INFO lines through Linkflow's logger, none of the SDK's chatter", async () => {
    assert.equal(readyLines(embedded.lines).length, 1, embedded.lines.join('\n'));
    const apiKey = (await readFile(join(dir, 'embedded', 'api-key'), 'utf8')).trim();
    const response = await fetch(`http://127.0.0.1:${ports.api}/v1/connections`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ provider: 'oxlin', institution_id: '87', redirect_url: 'https://client.example/linked' }),
    });
    assert.equal(response.status, 201);
    const { id } = (await response.json()) as { id: string };
    const line = await embedded.waitFor(/\[workflow\] connection state changed/, 30_000);
    assert.match(line, / INFO: \[workflow\] connection state changed \{.*"workflowId":"connection-[0-9a-f-]+"/);
    assert.ok(line.includes(id), line);
    assert.ok(line.includes('"to":"awaiting_redirect"'), line);
    // The SDK's own INFO lines (worker state changes, bundler output) stay out.
    assert.deepEqual(embedded.lines.filter((l) => /INFO: \[temporal\]/.test(l)), []);
    // The dev server's SQLite file is in WAL mode: bytes 18 and 19 of its header are 2 (1 is the rollback journal).
    const header = await readFile(join(dir, 'embedded', 'temporal.sqlite'));
    assert.deepEqual([header[18], header[19]], [2, 2]);
  });

  it('api/main.ts and worker/main.ts against that Temporal: ready once, serving (the API ready, the worker its two metrics ports), and stopped by SIGTERM and SIGINT with exit 0', async () => {
    const shared = {
      TEMPORAL_ADDRESS: `127.0.0.1:${ports.temporal}`,
      LINKFLOW_STATE_SECRET: 'processes-test-secret-processes-test-secret',
      LINKFLOW_CREDENTIALS_KEY: await generateCredentialsKey(),
      LINKFLOW_PAYLOAD_KEYS: generatePayloadKeys('processes'),
      OXLIN_BASE_URL: `http://127.0.0.1:${ports.sandbox}`,
    };
    const apiPort = await consecutiveFreePorts(1);
    const api = start(process.execPath, ['--import', 'tsx', 'api/main.ts'], { ...shared, PORT: String(apiPort), LINKFLOW_DATA_DIR: join(dir, 'api') });
    const metricsPort = await consecutiveFreePorts(2);
    const worker = start(process.execPath, ['--import', 'tsx', 'worker/main.ts'], {
      ...shared,
      LINKFLOW_DATA_DIR: join(dir, 'worker'),
      LINKFLOW_WORKER_METRICS_PORT: String(metricsPort),
      LINKFLOW_TEMPORAL_METRICS_PORT: String(metricsPort + 1),
    });
    await api.waitFor(/^\{"level":"info","time":"[^"]+","component":"api","msg":"ready"\}$/, 120_000);
    assert.equal((await fetch(`http://127.0.0.1:${apiPort}/v1/connections`)).status, 401);
    const ready = await fetch(`http://127.0.0.1:${apiPort}/readyz`);
    const readiness = (await ready.json()) as { checks: Record<string, unknown> };
    assert.equal(ready.status, 200, JSON.stringify(readiness));
    assert.deepEqual(Object.keys(readiness.checks).sort(), ['provider:oxlin', 'store', 'temporal']);
    await worker.waitFor(/^\{"level":"info","time":"[^"]+","component":"worker","msg":"ready"\}$/, 120_000);
    // The worker's own metrics (provider calls, webhook deliveries) and the SDK's, each on its port.
    const own = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    assert.equal(own.status, 200);
    assert.match(await own.text(), /^# TYPE linkflow_provider_request_duration_seconds histogram$/m);
    let sdk = '';
    for (let i = 0; i < 50 && !/^temporal_\w+/m.test(sdk); i++) {
      sdk = await (await fetch(`http://127.0.0.1:${metricsPort + 1}/metrics`)).text();
      if (!/^temporal_\w+/m.test(sdk)) await new Promise((r) => setTimeout(r, 200));
    }
    assert.match(sdk, /^temporal_\w+/m, `the SDK's metrics:\n${sdk.slice(0, 500)}`);
    await stoppedCleanly(api, 'SIGTERM');
    await stoppedCleanly(worker, 'SIGINT');
  });

  it('npm start: Ctrl-C stops every part once, quietly, with exit 0', async () => {
    await stoppedCleanly(embedded, 'SIGINT');
  });
});
