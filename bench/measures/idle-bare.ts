// The `idle` measure's baseline workflow: imports only @temporalio/workflow, runs one activity (as
// a Linkflow connection asks the provider for its authorization before it waits), then waits on a
// condition with a long timer, as a connection waits for its end user's redirect.
import { condition, proxyActivities } from '@temporalio/workflow';

/** The one activity the bare workflow calls: says it started. */
export interface BareActivities {
  ready(): Promise<void>;
}

const { ready } = proxyActivities<BareActivities>({ startToCloseTimeout: '1 minute' });

/** Waits, like a connection waiting for the redirect (`timeoutSeconds`, as its redirect deadline). */
export async function bareWaitingWorkflow(timeoutSeconds: number): Promise<void> {
  await ready();
  let done = false;
  await condition(() => done, timeoutSeconds * 1000);
  done = true;
}
