// The baseline of bench/measures/lifecycle.ts: one redirect lifecycle done the bare way. The same
// Linkflow activities (workflows/connection/calls.ts: same options, same summaries) in the order a
// recorded Linkflow history has them (test/replay/histories/redirect-active-daily-sync.v6-encrypted.json):
// startAuthorization; a timer and the redirectReceived signal; completeAuthorization (a provider
// that completes with a code, as Oxlin does now: phases.ts completeWithCode); bindProviderConnection;
// waitForJob(list); listAccounts; a timer and the giveConsent update; giveConsent; waitForJob(sync);
// importData. None of Linkflow's state logic: no lifecycle table, no webhook events, no search
// attributes, no live phase afterwards — the workflow ends once the data is imported.
import { ApplicationFailure, condition, defineQuery, defineUpdate, setHandler } from '@temporalio/workflow';
import type { GiveConsent, ListedAccount, ProviderName, RedirectReceived, SyncSummary } from '../../contract/messages';
import { redirectReceivedSignal } from '../../contract/messages';
import { bindProviderConnection, completeAuthorization, giveConsent, importData, listAccounts, startAuthorization, waitForJob } from '../../workflows/connection/calls';

/** What the bare workflow is given: a connection id, the provider and institution, and its deadlines in seconds. */
export interface BareLifecycleInput {
  connectionId: string;
  provider: ProviderName;
  institutionId: string;
  /** Linkflow's callback for the provider (the sandbox bank sends the browser there). */
  callbackUrl: string;
  redirectTimeoutSeconds: number;
  consentTimeoutSeconds: number;
}

/** How far the bare workflow is: the provider URL once offered, the accounts once listed, the import's counts once done. */
export interface BareProgress {
  url: string | null;
  accounts: ListedAccount[] | null;
  imported: SyncSummary | null;
}

/** Reads BareProgress (the bench polls it as a client polls GET /v1/connections/:id). */
export const bareProgressQuery = defineQuery<BareProgress>('bareProgress');
/** The end user's consent: recorded, answered at once (no validator, no lifecycle table). */
export const bareConsentUpdate = defineUpdate<null, [GiveConsent]>('giveConsent');

/** One redirect lifecycle, POST to imported, with Linkflow's activities and nothing else; answers the import's counts. */
export async function bareLifecycleWorkflow(input: BareLifecycleInput): Promise<SyncSummary> {
  const { connectionId, provider, institutionId, callbackUrl } = input;
  const progress: BareProgress = { url: null, accounts: null, imported: null };
  let nonce: string | null = null;
  let redirect: RedirectReceived | null = null;
  let consent: GiveConsent | null = null;
  setHandler(bareProgressQuery, () => progress);
  setHandler(redirectReceivedSignal, (received) => {
    if (nonce !== null && received.nonce === nonce) redirect = received;
  });
  setHandler(bareConsentUpdate, (given) => {
    consent = given;
    return null;
  });

  const authorization = await startAuthorization({ connectionId, provider, institutionId, mode: 'redirect', callbackUrl });
  if (authorization.kind !== 'redirect') throw ApplicationFailure.nonRetryable(`expected a redirect authorization, got ${authorization.kind}`);
  nonce = authorization.nonce ?? null;
  progress.url = authorization.url;
  if (!(await condition(() => redirect !== null, input.redirectTimeoutSeconds * 1000))) throw ApplicationFailure.nonRetryable('redirect timed out');
  const back = redirect as unknown as RedirectReceived;
  if (back.outcome !== 'success') throw ApplicationFailure.nonRetryable(`redirect ${back.outcome}`);
  let providerConnectionId = back.providerConnectionId;
  let providerRef = { ...authorization.providerRef, ...back.providerRef };
  if (authorization.completion === 'code') {
    // Oxlin today: the redirect brings a (sealed) code, and the provider connection is created from it.
    if (!back.sealedAuthorizationCode) throw ApplicationFailure.nonRetryable('the redirect brought no code');
    const completed = await completeAuthorization({
      connectionId,
      provider,
      institutionId,
      channelId: authorization.channelId,
      callbackUrl,
      nonce: back.nonce,
      sealedCode: back.sealedAuthorizationCode,
    });
    if (!completed.created) throw ApplicationFailure.nonRetryable(completed.error);
    providerConnectionId = completed.connection.providerConnectionId;
    providerRef = { ...providerRef, ...completed.connection.providerRef };
  }
  if (!providerConnectionId) throw ApplicationFailure.nonRetryable('the redirect named no provider connection');
  const binding = await bindProviderConnection({ provider, connectionId, providerConnectionId, providerRef, held: null });
  if (!binding.bound) throw ApplicationFailure.nonRetryable(binding.reason);

  const listed = await waitForJob({ provider, providerConnectionId, providerRef, job: 'list', trigger: false });
  if (listed.outcome !== 'success') throw ApplicationFailure.nonRetryable(`listing ${listed.outcome}`);
  providerRef = { ...providerRef, ...listed.providerRef };
  progress.accounts = await listAccounts({ provider, providerConnectionId, providerRef });

  if (!(await condition(() => consent !== null, input.consentTimeoutSeconds * 1000))) throw ApplicationFailure.nonRetryable('consent timed out');
  const { consents } = consent as unknown as GiveConsent;
  await giveConsent({ provider, providerConnectionId, providerRef, consents });

  const synced = await waitForJob({ provider, providerConnectionId, providerRef, job: 'sync', trigger: false });
  if (synced.outcome !== 'success') throw ApplicationFailure.nonRetryable(`sync ${synced.outcome}`);
  providerRef = { ...providerRef, ...synced.providerRef };
  progress.imported = await importData({
    provider,
    providerConnectionId,
    providerRef,
    connectionId,
    accountIds: consents.filter((c) => c.consent).map((c) => c.account_id),
  });
  return progress.imported;
}
