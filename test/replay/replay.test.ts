// Replays recorded histories of the main paths with today's workflow code: a change that would
// break connections already running (non-determinism) fails here, in CI, not in production.
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { payloadsIn, workflowBundle } from '../helpers/temporal';
import { SCENARIOS } from './scenarios';
import { isEncryptedTag, replayDataConverter } from './codec';

const DIR = join(__dirname, 'histories');

describe('replay of recorded connection histories', async () => {
  const files = (await readdir(DIR)).filter((f) => f.endsWith('.json')).sort();

  it('has histories for the main paths', () => {
    assert.ok(files.length >= 12, `found ${files.join(', ')}`);
  });

  it('has a recorded history for every scenario (npm run record:histories -- <tag> <scenario>)', () => {
    const missing = Object.keys(SCENARIOS).filter((name) => !files.some((f) => f.startsWith(`${name}.`)));
    assert.deepEqual(missing, []);
  });

  it('has histories recorded with the payload codec on, and they hold ciphertext only', async () => {
    const sealed = files.filter((f) => isEncryptedTag(f.split('.').at(-2) ?? ''));
    assert.ok(sealed.length >= 5, `found ${sealed.join(', ')}`);
    const encrypted = Buffer.from('binary/encrypted').toString('base64');
    for (const file of sealed) {
      const payloads = payloadsIn(JSON.parse(await readFile(join(DIR, file), 'utf8')));
      assert.ok(payloads.length > 5, file);
      const plain = payloads.filter((p) => p.metadata?.encoding !== encrypted);
      assert.deepEqual(plain, [], `${file} holds payloads in plain text`);
    }
  });

  for (const file of files) {
    it(`replays ${file} deterministically`, async () => {
      const history = historyFromJSON(JSON.parse(await readFile(join(DIR, file), 'utf8')));
      // One data converter for all: sealed payloads are opened, plaintext ones pass through.
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle(), dataConverter: replayDataConverter() }, history, file);
    });
  }

  it('does not replay a sealed history without its key', async () => {
    const file = files.find((f) => isEncryptedTag(f.split('.').at(-2) ?? ''));
    assert.ok(file);
    const history = historyFromJSON(JSON.parse(await readFile(join(DIR, file), 'utf8')));
    await assert.rejects(Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, file));
  });
});


describe('the replay check itself', () => {
  it('fails when the code would schedule something else than the history recorded', async () => {
    const json = JSON.parse(await readFile(join(DIR, 'redirect-active-daily-sync.v1.json'), 'utf8'));
    const scheduled = json.events.find((e: { activityTaskScheduledEventAttributes?: unknown }) => e.activityTaskScheduledEventAttributes);
    scheduled.activityTaskScheduledEventAttributes.activityType.name = 'someOtherActivity';
    await assert.rejects(
      Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, historyFromJSON(json), 'tampered'),
      /[Nn]ondeterminism|DeterminismViolation/,
    );
  });
});
