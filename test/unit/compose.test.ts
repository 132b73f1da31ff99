// Validates docker-compose.yml with Docker's own loader (compose-go v2, via tools/compose-check),
// since there is no Docker engine here. The checker binary is cached, keyed by its sources.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { cacheDir, which } from '../../scripts/temporal-binaries';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '../..');
const CHECKER_SRC = join(ROOT, 'tools/compose-check');
const COMPOSE_FILE = join(ROOT, 'docker-compose.yml');

/** `<cache>/bin/compose-check-<hash of main.go, go.mod, go.sum>`, built when missing. */
async function composeChecker(): Promise<string> {
  const hash = createHash('sha256');
  for (const name of ['main.go', 'go.mod', 'go.sum']) hash.update(`${name}\0`).update(await readFile(join(CHECKER_SRC, name)));
  const binDir = join(cacheDir(), 'bin');
  const binary = join(binDir, `compose-check-${hash.digest('hex').slice(0, 16)}`);
  if (await access(binary).then(() => true, () => false)) return binary;

  const go = await which('go');
  if (!go) throw new Error('Go is needed to build tools/compose-check: apt-get install golang-go (or https://go.dev/dl)');
  await mkdir(binDir, { recursive: true });
  const staging = `${binary}.${process.pid}.tmp`;
  try {
    await run(go, ['build', '-buildvcs=false', '-o', staging, '.'], { cwd: CHECKER_SRC, maxBuffer: 16 << 20 });
    await rename(staging, binary); // atomic: concurrent runs never see half a binary
  } finally {
    await rm(staging, { force: true });
  }
  return binary;
}

interface CheckResult { ok: boolean; stdout: string; stderr: string }

async function check(checker: string, file: string): Promise<CheckResult> {
  const env = { ...process.env };
  delete env.LINKFLOW_STATE_SECRET; // the checker supplies dummy values
  delete env.LINKFLOW_CREDENTIALS_KEY;
  delete env.LINKFLOW_ADMIN_KEY;
  delete env.LINKFLOW_PAYLOAD_KEYS;
  try {
    const { stdout, stderr } = await run(checker, [file], { env });
    return { ok: true, stdout, stderr };
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    return { ok: false, stdout, stderr };
  }
}

void describe('docker-compose.yml', { timeout: 5 * 60 * 1000 }, () => {
  let checker: string;
  let scratch: string;
  let compose: string;

  before(async () => {
    checker = await composeChecker();
    scratch = await mkdtemp(join(tmpdir(), 'linkflow-compose-'));
    compose = await readFile(COMPOSE_FILE, 'utf8');
  });
  after(async () => rm(scratch, { recursive: true, force: true }));

  const broken = async (name: string, text: string): Promise<CheckResult> => {
    assert.notEqual(text, compose, `${name}: the edit changed the file`);
    const file = join(scratch, `${name}.yml`);
    await writeFile(file, text);
    return check(checker, file);
  };

  void it('is valid for Docker Compose and has the expected services', async () => {
    const result = await check(checker, COMPOSE_FILE);
    assert.ok(result.ok, `compose-check failed:\n${result.stderr}`);
    const services = JSON.parse(result.stdout) as string[];
    for (const name of ['postgresql', 'temporal', 'temporal-admin-tools', 'temporal-setup', 'temporal-ui', 'worker', 'api', 'sandbox', 'prometheus']) {
      assert.ok(services.includes(name), `service ${name} in ${services.join(', ')}`);
    }
  });

  void it('rejects an invalid ports entry', async () => {
    const result = await broken('bad-ports', compose.replace(/^( {4}ports:\n)( {6}- "4010-4013:4010-4013"\n)/m, '    ports: "nonsense"\n'));
    assert.equal(result.ok, false);
    assert.match(result.stderr, /ports/);
  });

  void it('rejects an unknown top-level key', async () => {
    const result = await broken('unknown-key', `${compose}\nnot-a-compose-key: true\n`);
    assert.equal(result.ok, false);
    assert.match(result.stderr, /not-a-compose-key/);
  });

  void it('rejects depends_on pointing at a missing service', async () => {
    const result = await broken('missing-dependency', compose.replace('temporal-setup:\n        condition', 'temporal-setpu:\n        condition'));
    assert.equal(result.ok, false);
    assert.match(result.stderr, /temporal-setpu/);
  });
});
