// What the Temporal Web UI shows of a running connection: its current details (the SDK's
// setCurrentDetails, read by the UI through the workflow metadata query), so an operator reads
// "awaiting_consent — 3 accounts" without opening anything. Pure and deterministic: no command, no
// history event, so it replays unchanged.
import type { ConnectionState, NextAction, SyncSummary } from '../../contract/messages';

/** One line of Markdown (the UI renders it): the state, what the connection waits for, the last sync. */
export function currentDetails(state: ConnectionState, nextAction: NextAction | null, reason: string | null, lastSync: SyncSummary | null): string {
  const parts = [`**${state}**`];
  switch (nextAction?.type) {
    case 'redirect':
      parts.push(`waiting for the end user at the bank (until ${nextAction.expires_at})`);
      break;
    case 'credentials':
      parts.push(`waiting for credentials (${nextAction.fields.length} fields)`);
      break;
    case 'challenge':
      parts.push(`waiting for a challenge answer (${nextAction.fields.map((f) => f.type).join(', ') || 'confirmation'}), until ${nextAction.expires_at}`);
      break;
    case 'consent':
      parts.push(`${nextAction.accounts.length} account${nextAction.accounts.length === 1 ? '' : 's'} waiting for consent`);
      break;
    case 'message':
    case 'reconnect':
      parts.push('the bank asks the end user to act');
      break;
    default:
      break;
  }
  if (reason) parts.push(`reason ${reason}`);
  if (lastSync) {
    parts.push(`last sync ${lastSync.synced_at}: ${lastSync.accounts} accounts, +${lastSync.transactions_added} / ~${lastSync.transactions_modified} / -${lastSync.transactions_removed ?? 0} transactions`);
  }
  return parts.join(' — ');
}
