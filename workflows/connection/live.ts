// Active life: periodic syncs (and the repairs they lead to), syncs on request, provider events,
// renewals and added channels, until the run continues as new or the connection ends.
import { allHandlersFinished, condition, continueAsNew, patched, workflowInfo } from '@temporalio/workflow';
import { isoAt, workflowNow } from '../clock';
import type { ConnectionInput, ConnectionView } from '../../contract/messages';
import { CREDENTIAL_FAILURES, importData, startAuthorization, SYNC_CYCLES_PER_RUN } from './calls';
import { acceptRedirect, addChannel, job, repairChannel } from './phases';
import type { JobOutcome, ProviderFailure } from '../../providers';
import type { ConnectionMemory } from './memory';
import { type Connection, DISCONNECT, type Disconnect } from './state';

/** The renewal of a redirect channel: a fresh authorize URL for the existing connection. */
export async function startRenewal(c: Connection): Promise<void> {
  const channel = c.renewableChannel();
  if (!channel) return;
  const authorization = await startAuthorization({
    connectionId: c.input.connectionId,
    provider: c.input.provider,
    institutionId: c.input.institutionId,
    mode: 'redirect',
    callbackUrl: c.input.callbackUrl,
    existing: { ...c.providerConnection(), channelId: channel.id },
  });
  if (authorization.kind !== 'redirect' || !authorization.nonce) return;
  const deadline = channel.expiresAt ? Date.parse(channel.expiresAt) : workflowNow() + c.input.renewalLeadSeconds * 1000;
  c.memory.renewal = { channelId: channel.id, nonce: authorization.nonce, url: authorization.url, deadline };
  c.expectedNonce = authorization.nonce;
  c.settle();
  if (patched('webhook-events')) {
    c.emit({
      type: 'connection.renewal_due',
      data: { channel_id: channel.id, expires_at: isoAt(deadline), next_action: c.memory.nextAction },
    });
  }
}

/**
 * Active life: periodic syncs, syncs on request, renewals, added channels — until the run
 * continues as new, the connection ends, or the client disconnects (DISCONNECT, acted on by the caller).
 */
export async function live(c: Connection): Promise<ConnectionView | Disconnect> {
  const intervalMs = c.input.syncIntervalSeconds * 1000;
  const cyclesPerRun = patched('webhook-events') ? SYNC_CYCLES_PER_RUN.withWebhookEvents : SYNC_CYCLES_PER_RUN.before;
  c.nextSyncAt = workflowNow() + intervalMs;
  for (let cycle = 0; ; ) {
    if (cycle >= cyclesPerRun || workflowInfo().continueAsNewSuggested) {
      const ready = await readyToContinueAsNew(c);
      if (ready === DISCONNECT) return DISCONNECT;
      if (ready) break;
    }
    const renewal = c.memory.renewal;
    const wakeAt = Math.min(c.nextSyncAt, renewal?.deadline ?? Infinity, c.renewalDueAt() ?? Infinity);
    const woken = await c.waitFor(
      () =>
        c.syncRequested ||
        c.redirect !== null ||
        c.renewalRequested ||
        c.addChannel !== null ||
        c.providerEvents.length > 0,
      Math.max(0, wakeAt - workflowNow()),
      'Next scheduled sync or renewal',
    );
    if (woken === DISCONNECT) return DISCONNECT;
    const now = workflowNow();

    if (c.redirect && renewal) {
      const redirect = c.redirect;
      c.redirect = null;
      c.memory.renewal = null;
      const accepted = await acceptRedirect(c, redirect, renewal.channelId);
      if (accepted.result !== 'ok') await startRenewal(c);
      else if ((await syncAndRepair(c, { trigger: true })) === DISCONNECT) return DISCONNECT;
      continue;
    }
    c.redirect = null;
    if (renewal && now >= renewal.deadline) {
      return c.end('expired', 'CONSENT_EXPIRED', 'The bank authorization expired before the end user renewed it.');
    }
    if (c.renewalRequested || (c.renewalDueAt() ?? Infinity) <= now) {
      if (!c.memory.renewal) await startRenewal(c);
      c.renewalRequested = false;
      continue;
    }
    const event = c.providerEvents.shift();
    // A confirmation nobody waits for any more (a redelivery, or after the attempt ended) has nothing to act on.
    const stale = event !== undefined && (event.kind === 'connected' || c.isStale(event));
    if (event && !stale) {
      const applied = await syncAndRepair(c, {
        outcome:
          event.kind === 'data_available'
            ? { outcome: 'success', channels: c.memory.channels }
            : { outcome: 'failed', status: (event.status ?? 'FAILED') as ProviderFailure, channelId: event.channelId },
      });
      if (applied === DISCONNECT) return DISCONNECT;
      continue;
    }
    if (event) continue;
    if (c.addChannel) {
      const mode = c.addChannel;
      c.addChannel = null;
      let added;
      try {
        added = await addChannel(c, mode);
        // Inside the attempt, as before: the update waiting for it answers once the first sync is under way or done.
        if (added === 'consented') added = await syncAndRepair(c, { trigger: false });
      } finally {
        c.channelAttemptsEnded++;
      }
      if (added === DISCONNECT) return DISCONNECT;
      continue;
    }
    if (c.syncRequested || now >= c.nextSyncAt) {
      cycle++;
      if ((await syncAndRepair(c, { trigger: true })) === DISCONNECT) return DISCONNECT;
      c.nextSyncAt = workflowNow() + intervalMs;
    }
  }
  return continueAsNew<(input: ConnectionInput, memory?: ConnectionMemory) => Promise<ConnectionView>>(c.input, c.carried());
}

/**
 * Whether this run may end now and continue as new. An update still waiting for the main loop
 * (a renewal, an added channel) is served first, and a disconnect is acted on here; what the
 * signals recorded meanwhile is carried (see {@link Intents}). Each await yields to handlers,
 * so the answer is decided only after the last one, with nothing left in flight.
 */
export async function readyToContinueAsNew(c: Connection): Promise<boolean | Disconnect> {
  if (!patched('intents-cross-runs')) {
    // Runs recorded before intents were carried ended as soon as their handlers had finished.
    await condition(allHandlersFinished);
    await c.flushEvents();
    return true;
  }
  if ((await c.waitFor(() => allHandlersFinished() || c.awaitedByUpdate(), undefined, 'Handlers finished before continue-as-new')) === DISCONNECT) return DISCONNECT;
  if (c.awaitedByUpdate()) return false;
  await c.flushEvents();
  return allHandlersFinished() && !c.awaitedByUpdate() && !c.disconnectRequested;
}

/** A sync's outcome, known: what the provider's job said (ours, or a provider webhook's). */
type JobResult = Exclude<JobOutcome, { outcome: 'challenge' }>;

/**
 * A sync and whatever it leads to, as one loop instead of phases calling back into each other:
 * a credential failure repairs the channel (connect 'repair'), and the syncs that repair asks for
 * run next, the most recent first, before anything left from earlier (the order the lifecycle
 * has always had). `start`: run a sync (`trigger`: ask the provider for a new one), or apply an
 * outcome already known (a provider's webhook). Failures leave the connection in the state the
 * end user can act on.
 */
export async function syncAndRepair(c: Connection, start: { trigger: boolean } | { outcome: JobResult }): Promise<Disconnect | undefined> {
  const syncs: boolean[] = 'trigger' in start ? [start.trigger] : [];
  let known: JobResult | undefined = 'outcome' in start ? start.outcome : undefined;
  for (;;) {
    let outcome = known;
    known = undefined;
    if (outcome === undefined) {
      const trigger = syncs.shift();
      if (trigger === undefined) return undefined;
      c.syncRequested = false;
      c.moveTo('syncing');
      const result = await job(c, 'sync', trigger);
      if (result === DISCONNECT) return DISCONNECT;
      outcome = result;
    }
    const repair = await afterSync(c, outcome);
    if (repair === undefined) continue;
    // credentials_invalid: new credentials (embedded) or a new redirect, then a sync (two when consent was asked again).
    const channel = c.memory.channels.find((candidate) => candidate.id === repair.channelId) ?? c.memory.channels[0];
    c.moveTo('credentials_invalid', null, repair.reason);
    const repaired = await repairChannel(c, channel?.mode ?? c.input.mode, channel?.id);
    if (repaired === DISCONNECT) return DISCONNECT;
    if (repaired === 'consented') syncs.unshift(false, true);
    else if (repaired === 'done') syncs.unshift(true);
  }
}

/**
 * A sync's outcome applied to the connection: the data imported, or the state the end user can
 * act on. A credential failure is handed back for syncAndRepair to repair.
 */
async function afterSync(c: Connection, outcome: JobResult): Promise<{ reason: ProviderFailure; channelId: string | null } | undefined> {
  if (outcome.outcome === 'success') {
    c.moveTo('syncing');
    c.memory.channels = outcome.channels;
    const full = c.fullSyncRequested;
    // Taken by this import's plan: a full refresh asked while it runs asks for another one.
    if (full) c.fullSyncRequested = false;
    c.memory.lastSync = await importData({
      ...c.providerCall(),
      connectionId: c.input.connectionId,
      accountIds: Object.keys(c.memory.consents).filter((id) => c.memory.consents[id]),
      ...(full ? { full } : {}),
    });
    if (patched('webhook-events')) c.emit({ type: 'connection.synced', data: c.memory.lastSync });
    c.settle();
    return undefined;
  }
  if (CREDENTIAL_FAILURES.includes(outcome.status)) return { reason: outcome.status, channelId: outcome.channelId };
  if (outcome.status === 'USER_ACTION_REQUIRED') {
    c.moveTo(
      'user_action_required',
      { type: 'message', message: "The bank asks the end user to act on its website; Linkflow retries at the next sync." },
      outcome.status,
    );
    return undefined;
  }
  // A challenge left unanswered or a provider error skips this sync; the next one tries again.
  c.settle(outcome.status);
  return undefined;
}
