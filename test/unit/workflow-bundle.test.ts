// What the workflow bundle holds (issue 16, idle cost): the SDK evaluates the whole bundle once per
// cached workflow execution, so everything in it is paid per connection a worker holds. zod and
// the payload schemas stay out: workflow code validates with contract/checks.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bundleWorkflowCode } from '@temporalio/worker';

const quiet = { log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/** The bundle's module ids (webpack names each module by its path: `/***\/ "./node_modules/…"`). */
const modulesOf = (code: string): string[] => [...new Set([...code.matchAll(/^\/\*{3}\/ "([^"]+)"/gm)].map((m) => m[1] as string))];

describe('the workflow bundle', () => {
  it('holds no zod and no schema module', async (t) => {
    // As test/helpers/temporal.ts and the worker bundle it (not through that helper: its Temporal
    // runtime would keep this process alive).
    const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: quiet });
    const modules = modulesOf(code);
    t.diagnostic(`workflow bundle: ${(code.length / 1024).toFixed(0)} KiB, ${modules.length} modules`);
    assert.ok(modules.includes('./workflows/connection/handlers.ts') && modules.includes('./contract/checks.ts'), 'the module list was read');
    assert.deepEqual(
      modules.filter((m) => m.includes('node_modules/zod') || /contract\/(messages|schemas)/.test(m)),
      [],
      'workflow code imports values from contract/definitions.ts and contract/checks.ts only',
    );
  });
});
