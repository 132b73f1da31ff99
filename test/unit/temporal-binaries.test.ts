import assert from 'node:assert/strict';
import { constants as fsConstants } from 'node:fs';
import { access, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  cacheDir,
  devServerExecutable,
  ensureTemporalCli,
  ensureTestServer,
  temporalSource,
  testServerExecutable,
} from '../../scripts/temporal-binaries';

const DAY_MS = 24 * 60 * 60 * 1000;
// A cold cache builds the CLI (minutes) or fetches the test server; a warm one takes seconds.
const SETUP_TIMEOUT = 20 * 60 * 1000;
const log = (line: string): void => console.log(`# ${line}`);

void describe('temporal binaries', () => {
  void it('time-skipping test server from the Maven artifact', { timeout: SETUP_TIMEOUT }, async () => {
    if (temporalSource() === 'registry') {
      const path = await ensureTestServer(log);
      await access(path, fsConstants.X_OK);
      assert.ok(path.startsWith(cacheDir()), `${path} is in the cache dir`);
    }
    const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: await testServerExecutable(log) } });
    try {
      assert.equal(env.supportsTimeSkipping, true);
      const before = await env.currentTimeMs();
      const started = Date.now();
      await env.sleep('1 day');
      assert.ok(Date.now() - started < 10_000, 'sleeping a day was skipped, not waited');
      assert.ok((await env.currentTimeMs()) - before >= DAY_MS, 'server time moved on by a day');
    } finally {
      await env.teardown();
    }
  });

  void it('dev server from the Temporal CLI built with go install', { timeout: SETUP_TIMEOUT }, async () => {
    const executable = await devServerExecutable(log);
    if (temporalSource() === 'registry') assert.equal(executable.type, 'existing-path');
    const env = await TestWorkflowEnvironment.createLocal({ server: { executable } });
    try {
      const info = await env.client.workflowService.getSystemInfo({});
      assert.ok(info.capabilities, 'GetSystemInfo answered with capabilities');
    } finally {
      await env.teardown();
    }
  });

  void describe('clear errors when tools are missing', () => {
    const dirs: string[] = [];
    const emptyCache = async (): Promise<string> => {
      const dir = await mkdtemp(join(tmpdir(), 'linkflow-cache-'));
      dirs.push(dir);
      return dir;
    };
    after(async () => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

    void it('names Go and the alternatives when go is not on PATH', async () => {
      const cache = await emptyCache();
      const env = { PATH: join(cache, 'no-tools-here'), HOME: cache };
      await assert.rejects(ensureTemporalCli(() => undefined, { cacheDir: cache, env }), (error: Error) => {
        assert.match(error.message, /Go >= 1\.25 is needed to build the Temporal CLI/);
        assert.match(error.message, /apt-get install golang-go/);
        assert.match(error.message, /https:\/\/go\.dev\/dl/);
        assert.match(error.message, /LINKFLOW_TEMPORAL_CLI/);
        assert.match(error.message, /LINKFLOW_TEMPORAL_SOURCE=download/);
        return true;
      });
    });

    void it('names the found version when go is too old', async () => {
      const cache = await emptyCache();
      const fakeBin = join(cache, 'fake-bin');
      await mkdir(fakeBin);
      await writeFile(join(fakeBin, 'go'), '#!/bin/sh\necho go1.24.3\n', { mode: 0o755 });
      const env = { PATH: fakeBin, HOME: cache };
      await assert.rejects(ensureTemporalCli(() => undefined, { cacheDir: cache, env }),
        /Go >= 1\.25 is needed to build the Temporal CLI \(found: go1\.24\.3 at .*LINKFLOW_TEMPORAL_SOURCE=download/);
    });

    void it('names Java, Maven and the alternatives when java is not on PATH', async () => {
      const cache = await emptyCache();
      const env = { PATH: join(cache, 'no-tools-here'), HOME: cache };
      await assert.rejects(ensureTestServer(() => undefined, { cacheDir: cache, env }), (error: Error) => {
        assert.match(error.message, /apt-get install openjdk-17-jre-headless maven/);
        assert.match(error.message, /LINKFLOW_TEST_SERVER/);
        assert.match(error.message, /LINKFLOW_TEMPORAL_SOURCE=download/);
        return true;
      });
    });

    void it('rejects a LINKFLOW_TEMPORAL_CLI that does not exist', async () => {
      const cache = await emptyCache();
      const env = { PATH: '', LINKFLOW_TEMPORAL_CLI: join(cache, 'missing-temporal') };
      await assert.rejects(ensureTemporalCli(() => undefined, { cacheDir: cache, env }), /LINKFLOW_TEMPORAL_CLI=.*no executable file/);
    });

    void it('cache dir and source come from the environment', () => {
      assert.equal(cacheDir({ LINKFLOW_CACHE_DIR: '/x/y' }), '/x/y');
      assert.equal(cacheDir({ XDG_CACHE_HOME: '/xdg' }), '/xdg/linkflow');
      assert.equal(temporalSource({}), 'registry');
      assert.equal(temporalSource({ LINKFLOW_TEMPORAL_SOURCE: 'download' }), 'download');
      assert.throws(() => temporalSource({ LINKFLOW_TEMPORAL_SOURCE: 'nonsense' }), /registry.*download/);
    });

    void it('LINKFLOW_TEMPORAL_SOURCE=download leaves the binaries to the SDK', async () => {
      const cache = await emptyCache();
      const options = { cacheDir: cache, env: { PATH: '', LINKFLOW_TEMPORAL_SOURCE: 'download' } };
      assert.equal((await devServerExecutable(undefined, options)).type, 'cached-download');
      assert.equal((await testServerExecutable(undefined, options)).type, 'cached-download');
    });
  });
});
