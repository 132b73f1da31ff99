// What a connection remembers, and what crosses a run boundary (continue-as-new).
import type { ChannelInfo } from '../../providers';
import type { ConnectionState, ListedAccount, NextAction, ProviderEvent, RedirectReceived, SyncSummary } from '../../contract/messages';

/** A renewal of a redirect channel under way: its authorize URL, and the moment the channel lapses. */
export interface Renewal {
  channelId: string;
  nonce: string;
  url: string;
  deadline: number;
}

/** Everything a connection carries from one run to the next (continue-as-new). */
export interface ConnectionMemory {
  state: ConnectionState;
  reason: string | null;
  nextAction: NextAction | null;
  providerConnectionId: string | null;
  providerRef: Record<string, string>;
  channels: ChannelInfo[];
  accounts: ListedAccount[];
  consents: Record<string, boolean>;
  lastSync: SyncSummary | null;
  renewal: Renewal | null;
  /** The provider connection id last recorded for webhook routing. */
  linkedProviderConnectionId?: string | null;
  /** When the workflow last saw a provider job's outcome itself (webhooks from before are stale). */
  providerSeenAt?: string;
  /** Events sent to the client so far (their ids are evt_<connection>_<n>), and the last state announced. */
  eventsSent?: number;
  announcedState?: ConnectionState | null;
  /** What handlers recorded that the run had not yet acted on when it continued as new (see {@link Intents}). */
  intents?: Intents;
  createdAt: string;
}

/**
 * What the message handlers record for the main loop to act on. The rule at a run boundary
 * (continue-as-new), field by field:
 * - carried into the next run, which acts on it first: `disconnect`, `sync`, `fullSync`,
 *   `redirect` (a renewal's redirect that arrived during the last sync), `providerEvents`
 *   (webhooks not yet applied) and `seenProviderEvents` (ids already taken, so a redelivery
 *   in the next run is still dropped);
 * - acted on before the run ends, because an update waits for them: a renewal request and an
 *   added channel (`requestRenewal`, `addChannel`); the run ends only once every handler has
 *   finished (`allHandlersFinished`);
 * - never pending in `active`: credentials, challenge answers and consent belong to the phases
 *   before it, which a run never leaves by continuing as new.
 */
export interface Intents {
  disconnect?: boolean;
  sync?: boolean;
  fullSync?: boolean;
  redirect?: RedirectReceived;
  providerEvents?: ProviderEvent[];
  seenProviderEvents?: string[];
}

