// Records the histories replay.test.ts replays: `npm run record:histories -- <tag> [scenario…]`
// writes histories/<scenario>.<tag>.json (every scenario, or the ones named). A tag ending in
// `-encrypted` (e.g. v7-encrypted) records with the payload codec on (./codec.ts), as Linkflow runs. Keep the older files: they are the connections already
// running, which every later version must still replay (guard changes with patched()).
import { writeFile } from 'node:fs/promises';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { join } from 'node:path';
import { connectionWorkflow } from '../../workflows';
import { FakeProvider, connectionInput } from '../helpers/fake-provider';
import { runWorkerWhile, stopQuietly, timeSkippingEnv, uniqueTaskQueue } from '../helpers/temporal';
import { SCENARIOS } from './scenarios';
import { isEncryptedTag, replayDataConverter } from './codec';

async function main(): Promise<void> {
  const tag = process.argv[2];
  if (!tag || !/^[a-z0-9-]+$/.test(tag)) throw new Error('usage: npm run record:histories -- <tag, e.g. v3>');
  const dataConverter = isEncryptedTag(tag) ? replayDataConverter() : undefined;
  const env = await timeSkippingEnv(dataConverter ? { dataConverter } : {});
  try {
    const only = process.argv.slice(3);
    const unknown = only.filter((name) => !(name in SCENARIOS));
    if (unknown.length > 0) throw new Error(`no such scenario: ${unknown.join(', ')}`);
    for (const [name, scenario] of Object.entries(SCENARIOS)) {
      if (only.length > 0 && !only.includes(name)) continue;
      const fake = new FakeProvider();
      scenario.prepare?.(fake);
      const taskQueue = uniqueTaskQueue();
      const workflowId = `connection-replay-${name}`;
      await runWorkerWhile(env, { taskQueue, activities: fake.activities(), ...(dataConverter ? { dataConverter } : {}) }, async () => {
        const handle = await env.client.workflow.start(connectionWorkflow, {
          taskQueue,
          workflowId: `${workflowId}-${Date.now()}`,
          args: [connectionInput({ connectionId: `replay-${name}`, ...scenario.input }), scenario.memory],
        });
        await scenario.drive(handle, fake, env);
        // The first run: for continue-as-new, the run that ended by continuing.
        const history = await env.client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId).fetchHistory();
        await writeFile(join(__dirname, 'histories', `${name}.${tag}.json`), historyToJSON(history) + '\n');
        console.log(`${name}: ${history.events?.length} events`);
        await stopQuietly(env, handle.workflowId);
      });
    }
  } finally {
    await env.teardown();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
