// The bare side of bench/measures/start.ts: a workflow that does what a Linkflow start does before
// its first answer, and nothing else. Started with update-with-start; `firstAction` answers once the
// one provider call (startAuthorization) has returned, then it schedules one more activity (the
// webhook event Linkflow emits there) and waits for the redirect with a timer, as a connection does.
import { condition, defineUpdate, proxyActivities, setHandler, sleep } from '@temporalio/workflow';

/** The bare workflow's input: the connection it stands for, at the Oxlin sandbox. */
export interface BareStartInput {
  connectionId: string;
  institutionId: string;
  redirectUrl: string;
  /** How long it waits for the redirect before ending, in seconds. */
  redirectTimeoutSeconds: number;
}

/** The activities the bare workflow calls: the same provider request a Linkflow start makes, and one event emission. */
export interface BareStartActivities {
  /** Asks the Oxlin sandbox for the bank's authorization URL (GET the provider, POST authorize_url); answers the URL. */
  startAuthorization(input: BareStartInput): Promise<string>;
  /** Linkflow's emitWebhookEvent at the same point: one activity round trip. */
  emitWebhookEvent(connectionId: string): Promise<void>;
}

/** Answers the authorization URL once the workflow has it. */
export const bareFirstAction = defineUpdate<{ state: string; url: string }>('firstAction');

const { startAuthorization, emitWebhookEvent } = proxyActivities<BareStartActivities>({ startToCloseTimeout: '30s', retry: { maximumAttempts: 3 } });

/** One bare start: the provider call, the answer to `firstAction`, an event, then a wait for the redirect. */
export async function bareStartWorkflow(input: BareStartInput): Promise<void> {
  let url: string | null = null;
  setHandler(bareFirstAction, async () => {
    await condition(() => url !== null);
    return { state: 'awaiting_redirect', url: url as string };
  });
  url = await startAuthorization(input);
  await emitWebhookEvent(input.connectionId);
  await sleep(input.redirectTimeoutSeconds * 1000);
}
