// Active life: periodic syncs, syncs on request, provider events, renewals and added channels, until
// the run continues as new or the connection ends.
import { allHandlersFinished, condition, continueAsNew, patched, workflowInfo } from '@temporalio/workflow';
import { isoAt, workflowNow } from '../clock';
import { type ConnectionInput, type ConnectionView } from '../../contract/messages';
import { startAuthorization, SYNC_CYCLES_PER_RUN } from './calls';
import { acceptRedirect, connect, syncAndRepair } from './phases';
import type { ProviderFailure } from '../../providers';
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
        added = await connect(c, mode, 'add');
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
  if ((await c.waitFor(() => allHandlersFinished() || c.awaitedByUpdate(), undefined)) === DISCONNECT) return DISCONNECT;
  if (c.awaitedByUpdate()) return false;
  await c.flushEvents();
  return allHandlersFinished() && !c.awaitedByUpdate() && !c.disconnectRequested;
}
