// Every signal, update and query of the connection and webhook workflows, and the contract's plain
// constants, with no zod: what workflow code imports values from. The payload schemas (and the
// types inferred from them, imported here as types only) are in contract/schemas.ts; the API and
// activities import both through contract/messages.ts.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type {
  AddChannel,
  AnswerChallenge,
  ConnectionView,
  GiveConsent,
  ProviderEvent,
  RedirectReceived,
  SubmitCredentials,
  SyncRequest,
  WebhookDelivery,
} from './schemas';

export * from './constants';

// Signals

/**
 * The end user's browser came back from the provider. The API has already verified the
 * signed state; `nonce` binds the redirect to the authorization it answers (single use).
 */
export const redirectReceivedSignal = defineSignal<[RedirectReceived]>('redirectReceived');

/** Something the provider told us by webhook (verified and de-duplicated by the API). */
export const providerEventSignal = defineSignal<[ProviderEvent]>('providerEvent');

/** Sync now, outside the periodic schedule; `full` reads every transaction again instead of the recent ones. */
export const syncRequestedSignal = defineSignal<[SyncRequest?]>('syncRequested');

/** Disconnect at the provider and end the connection. */
export const disconnectRequestedSignal = defineSignal('disconnectRequested');

// Updates

/** The end user's consent, per account listed in the `consent` next action (GiveConsentSchema). */
export const giveConsentUpdate = defineUpdate<ConnectionView, [GiveConsent]>('giveConsent');

/** Encrypted credentials for the channel that waits for them (SubmitCredentialsSchema). */
export const submitCredentialsUpdate = defineUpdate<ConnectionView, [SubmitCredentials]>('submitCredentials');

/** Encrypted answers to the current challenge (AnswerChallengeSchema). */
export const answerChallengeUpdate = defineUpdate<ConnectionView, [AnswerChallenge]>('answerChallenge');

/** Ask for a fresh authorization of the connection's redirect channel now, before it expires. */
export const requestRenewalUpdate = defineUpdate<ConnectionView, []>('requestRenewal');

/**
 * The provider URL the connection's redirect action leads to, fresh now (a Powens webview code is
 * minted again): what `GET /connect/links/:link` sends the browser to. Rejected (WrongState) when
 * the connection offers no redirect (its `next_action` is not of type `redirect`).
 */
export const openAuthorizationUpdate = defineUpdate<{ url: string }, []>('openAuthorization');

/** Add another channel of the institution (e.g. EMBEDDED for savings and loans) to the connection. */
export const addChannelUpdate = defineUpdate<ConnectionView, [AddChannel]>('addChannel');

/**
 * The connection once it offers its first next action: answered as soon as it has left
 * `authorizing` (a redirect or credentials to ask for, or an end such as `failed`), at once when it
 * already has. Never rejected. Sent with the start (update-with-start) by `POST /v1/connections`, so
 * the start and its first answer are one call; the caller bounds how long it waits.
 */
export const firstActionUpdate = defineUpdate<ConnectionView, []>('firstAction');

// Queries

/** The connection as `GET /v1/connections/:id` returns it (ConnectionViewSchema). */
export const stateQuery = defineQuery<ConnectionView>('state');

// Webhooks to the client

/** One event for the delivery workflow (WebhookDeliverySchema, checked by contract/checks.ts). */
export const webhookEventSignal = defineSignal<[WebhookDelivery]>('webhookEvent');

/** The input of `webhookDeliveryWorkflow` (workflows/webhooks.ts), one run per connection. */
export interface WebhookDeliveryInput {
  connectionId: string;
  /** Carried over continue-as-new: events not yet delivered, in order. */
  queue?: WebhookDelivery[];
  /** Carried over continue-as-new: ids of the latest delivered events. */
  deliveredIds?: string[];
}

/** The delivery workflow's signature, for starting it by name without importing workflow code. */
export type WebhookDeliveryWorkflow = (input: WebhookDeliveryInput) => Promise<void>;
