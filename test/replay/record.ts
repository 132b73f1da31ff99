// Records the histories replay.test.ts replays: `npm run record:histories`. Re-record only on
// purpose (a new path, or a change you have made safe for running workflows with patched()).
import { writeFile } from 'node:fs/promises';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { join } from 'node:path';
import { connectionWorkflow } from '../../workflows';
import { FakeProvider, connectionInput } from '../helpers/fake-provider';
import { runWorkerWhile, timeSkippingEnv, uniqueTaskQueue } from '../helpers/temporal';
import { SCENARIOS } from './scenarios';

async function main(): Promise<void> {
  const env = await timeSkippingEnv();
  try {
    for (const [name, scenario] of Object.entries(SCENARIOS)) {
      const fake = new FakeProvider();
      scenario.prepare?.(fake);
      const taskQueue = uniqueTaskQueue();
      const workflowId = `connection-replay-${name}`;
      await runWorkerWhile(env, { taskQueue, activities: fake.activities() }, async () => {
        const handle = await env.client.workflow.start(connectionWorkflow, {
          taskQueue,
          workflowId: `${workflowId}-${Date.now()}`,
          args: [connectionInput({ connectionId: `replay-${name}`, ...scenario.input })],
        });
        await scenario.drive(handle, fake, env);
        // The first run: for continue-as-new, the run that ended by continuing.
        const history = await env.client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId).fetchHistory();
        await writeFile(join(__dirname, 'histories', `${name}.json`), historyToJSON(history) + '\n');
        console.log(`${name}: ${history.events?.length} events`);
        const { status } = await env.client.workflow.getHandle(handle.workflowId).describe();
        if (status.name === 'RUNNING') await env.client.workflow.getHandle(handle.workflowId).terminate('recorded');
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
