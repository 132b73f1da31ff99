// The connection workflow's activities, with the timeouts and retries each kind of call gets, and
// the constants the lifecycle's phases share.
import { proxyActivities } from '@temporalio/workflow';
import type { Activities, WebhookActivities } from '../../activities';
import type { ProviderFailure } from '../../providers';

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

export const { startAuthorization, submitCredentials, answerChallenge, listAccounts, giveConsent, disconnect, linkProviderConnection, bindProviderConnection, completeAuthorization } =
  proxyActivities<Activities>(PROVIDER_CALL);
export const { waitForJob, importData } = proxyActivities<Activities>(PROVIDER_JOB);

/**
 * A provider job that answers "pending" at once (Flinks' OPERATION_PENDING): each attempt is one
 * short call and Temporal's backoff spaces them, for about 35 minutes (Flinks allows 30).
 */
export const { waitForJob: waitForPendingJob } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 12 },
});
/**
 * A fresh provider URL for a browser waiting on `GET /connect/links/:link`: a short call, retried
 * briefly (the browser's request has a deadline of its own).
 */
export const { refreshAuthorizationUrl } = proxyActivities<Activities>({
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumAttempts: 3 },
});
/** Hands an event to the connection's delivery workflow (which retries the client's endpoint for days). */
export const { emitWebhookEvent } = proxyActivities<WebhookActivities>(PROVIDER_CALL);

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
