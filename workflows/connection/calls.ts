// The connection workflow's activities, with the timeouts and retries each kind of call gets, and
// the constants the lifecycle's phases share.
import { type ActivityOptions, proxyActivities } from '@temporalio/workflow';
import type { Activities, WebhookActivities } from '../../activities';
import type { ProviderFailure } from '../../providers';
import type { WebhookEvent } from '../../contract/messages';

/** Short calls to the provider: retried by Temporal with backoff on transient errors. */
export const PROVIDER_CALL = {
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
} as const;

/** Waiting for the provider to list or sync: long-running, heartbeating, resumable. */
export const PROVIDER_JOB = {
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 10 },
} as const;

/**
 * One activity with the summary the Web UI shows for each of its calls (the SDK's per-call user
 * metadata; no effect on replay: it is not part of the command's identity), so a connection's
 * history reads as its lifecycle.
 */
function summarized<K extends keyof Activities>(name: K, summary: string, options: ActivityOptions): Activities[K] {
  return proxyActivities<Activities>({ ...options, summary })[name];
}

export const startAuthorization = summarized('startAuthorization', 'Start authorizing a channel at the provider', PROVIDER_CALL);
export const submitCredentials = summarized('submitCredentials', "Send the end user's credentials to the provider", PROVIDER_CALL);
export const answerChallenge = summarized('answerChallenge', "Send the end user's challenge answers to the provider", PROVIDER_CALL);
export const listAccounts = summarized('listAccounts', "List the connection's accounts at the provider", PROVIDER_CALL);
export const giveConsent = summarized('giveConsent', "Send the end user's consent per account to the provider", PROVIDER_CALL);
export const disconnect = summarized('disconnect', 'Remove the connection at the provider', PROVIDER_CALL);
export const linkProviderConnection = summarized('linkProviderConnection', 'Record which provider connection is this one', PROVIDER_CALL);
export const bindProviderConnection = summarized('bindProviderConnection', "Check the provider connection a redirect or webhook named is this connection's", PROVIDER_CALL);
export const completeAuthorization = summarized('completeAuthorization', "Create the provider connection from the bank's authorization code", PROVIDER_CALL);
export const waitForJob = summarized('waitForJob', "Wait for the provider's listing or sync job", PROVIDER_JOB);
export const importData = summarized('importData', 'Import accounts and transactions into the store, page by page', PROVIDER_JOB);

/**
 * A provider job that answers "pending" at once (Flinks' OPERATION_PENDING): each attempt is one
 * short call and Temporal's backoff spaces them, for about 35 minutes (Flinks allows 30).
 */
export const waitForPendingJob = summarized('waitForJob', "Ask again for the provider's pending data", {
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 12 },
});
/**
 * A fresh provider URL for a browser waiting on `GET /connect/links/:link`: a short call, retried
 * briefly (the browser's request has a deadline of its own).
 */
export const refreshAuthorizationUrl = summarized('refreshAuthorizationUrl', "Mint a fresh provider URL for the end user's browser", {
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumAttempts: 3 },
});
/**
 * Hands an event to the connection's delivery workflow (which retries the client's endpoint for
 * days). The Web UI shows each call by the event's type ("Queue the client webhook event
 * connection.state_changed"). Resolves to how many endpoints the tenant had for it.
 */
export function emitWebhookEvent(event: WebhookEvent): Promise<{ endpoints: number }> {
  return proxyActivities<WebhookActivities>({ ...PROVIDER_CALL, summary: `Queue the client webhook event ${event.type}` }).emitWebhookEvent(event);
}

/**
 * The events of one workflow task (a move's `state_changed` and `action_required`, a sync's
 * `synced` and the move back to `active`), handed to the connection's delivery workflow in one
 * activity; it starts nothing when the tenant has no endpoint. Runs recorded before the patch
 * BATCHED_WEBHOOK_EVENTS keep one emitWebhookEvent an event.
 */
export function emitWebhookEvents(events: WebhookEvent[]): Promise<{ endpoints: number }> {
  const types = [...new Set(events.map((e) => e.type))].join(', ');
  return proxyActivities<WebhookActivities>({ ...PROVIDER_CALL, summary: `Queue client webhook events: ${types}` }).emitWebhookEvents(events);
}
/** The patch under which a connection's webhook events go out in batches, one activity call a workflow task. */
export const BATCHED_WEBHOOK_EVENTS = 'batched-webhook-events';

/**
 * A run continues as new after this many sync cycles, so a years-long connection keeps a short
 * history (a few hundred events). Runs that also emit client webhook events continue sooner.
 */
export const SYNC_CYCLES_PER_RUN = { before: 20, withWebhookEvents: 15 } as const;
/** When a challenge carries no TIMEOUT_MSG. */
export const DEFAULT_CHALLENGE_TIMEOUT_MS = 10 * 60_000;
/** How long a provider that confirms authorizations by webhook (LnkFi) may take after the redirect. */
export const CONNECTED_EVENT_TIMEOUT_MS = 60 * 60_000;
/** A provider job still pending after every retry of waitForJob (Flinks' OPERATION_PENDING). */
export const JOB_PENDING = 'OPERATION_PENDING';
/** Why an authorization attempt ended when the provider id it came back with was not its own. */
export const PROVIDER_CONNECTION_REFUSED = 'PROVIDER_CONNECTION_REFUSED';
/**
 * Provider ids from redirects and webhooks are bound before use (trust rule "Nothing from a browser
 * chooses data"). Deprecate once no open history and no replay fixture has a redirect or
 * `connected` event accepted without it (recorded before this change).
 */
export const BIND_PROVIDER_CONNECTION = 'bind-provider-connection';
/** A provider's webhook acts only on connections of that provider. Deprecate with the same rule. */
export const OWN_PROVIDER_EVENTS = 'own-provider-events';

export const CREDENTIAL_FAILURES: readonly ProviderFailure[] = ['AUTH_FAILED', 'PASSWORD_CHANGE_REQUIRED', 'TOO_MANY_ATTEMPTS'];
