// What the workflow bundle holds (issue 16, idle cost): the SDK evaluates the whole bundle once per
// cached workflow execution, so everything in it is paid per connection a worker holds. zod and
// the payload schemas stay out: workflow code validates with contract/checks.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bundleWorkflowCode } from '@temporalio/worker';
import { bundleWorkflowsInThread } from '../../worker/bundle';

const quiet = { log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/** The bundle's module ids (webpack names each module by its path: `/***\/ "./node_modules/…"`). */
const modulesOf = (code: string): string[] => [...new Set([...code.matchAll(/^\/\*{3}\/ "([^"]+)"/gm)].map((m) => m[1] as string))];

describe('the workflow bundle', () => {
  it('holds no zod and no schema module', async (t) => {
    // As the worker bundles it (worker/bundle.ts: in a thread of its own).
    const { code } = await bundleWorkflowsInThread();
    const modules = modulesOf(code);
    t.diagnostic(`workflow bundle: ${(code.length / 1024).toFixed(0)} KiB, ${modules.length} modules`);
    assert.ok(modules.includes('./workflows/connection/handlers.ts') && modules.includes('./contract/checks.ts'), 'the module list was read');
    assert.deepEqual(
      modules.filter((m) => m.includes('node_modules/zod') || /contract\/(messages|schemas)/.test(m)),
      [],
      'workflow code imports values from contract/definitions.ts and contract/checks.ts only',
    );
  });

  it('is the same built in a thread (as the worker does) or in the process (as the tests do)', async () => {
    const [threaded, inProcess] = await Promise.all([
      bundleWorkflowsInThread(),
      bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: quiet }),
    ]);
    assert.deepEqual(modulesOf(threaded.code), modulesOf(inProcess.code));
  });

  it("fails with the bundler's error when the workflows cannot be bundled", async () => {
    await assert.rejects(bundleWorkflowsInThread('/nonexistent/workflows.ts'), /bundling the workflows failed/);
  });
});
