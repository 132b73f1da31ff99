// The connection workflow: one per bank connection, for as long as it lives. Its parts live in
// connection/: state.ts (what it holds and how it moves), handlers.ts, phases.ts, live.ts; the state
// table is contract/lifecycle.ts.
import { ActivityFailure, ApplicationFailure, log, upsertSearchAttributes } from '@temporalio/workflow';
import type { ConnectionInput, ConnectionView } from '../contract/messages';
import { disconnect } from './connection/calls';
import { registerHandlers } from './connection/handlers';
import type { ConnectionMemory } from './connection/memory';
import { connectFirstChannel } from './connection/phases';
import { live, syncAndRepair } from './connection/live';
import { Connection, DISCONNECT } from './connection/state';

export type { ConnectionMemory, Intents } from './connection/memory';

/**
 * One bank connection, from authorization to years of periodic syncs.
 * authorizing → awaiting_redirect | awaiting_credentials → listing_accounts (⇄ challenge_required)
 * → awaiting_consent → syncing → active ⟲, with renewal_required, credentials_invalid and
 * user_action_required on the way, until expired, cancelled, failed or disconnected.
 */
export async function connectionWorkflow(input: ConnectionInput, memory?: ConnectionMemory): Promise<ConnectionView> {
  const connection = new Connection(input, memory);
  registerHandlers(connection);
  connection.describe();
  upsertSearchAttributes({
    LinkflowProvider: [input.provider],
    ...(input.userRef ? { LinkflowUserRef: [input.userRef] } : {}),
  });
  try {
    const outcome = await connection.flushedAfter(async () => {
      if (memory === undefined) {
        const connected = await connectFirstChannel(connection, input.mode);
        if (typeof connected !== 'string' || connected === DISCONNECT) return connected;
        if (connected === 'consented' && (await syncAndRepair(connection, { trigger: false })) === DISCONNECT) return DISCONNECT;
      } else {
        connection.moveTo(connection.state, connection.memory.nextAction, connection.memory.reason);
      }
      return live(connection);
    });
    if (outcome !== DISCONNECT) return outcome;
  } catch (err) {
    // A provider call that failed for good (after Temporal's retries) ends this attempt visibly.
    if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) {
      const { type, message } = err.cause;
      return connection.flushedAfter(async () => connection.end('failed', type ?? 'PROVIDER_ERROR', message));
    }
    throw err;
  }
  // The client asked to disconnect: Linkflow stops either way, and says when the provider could not be told.
  let reason = 'DISCONNECTED';
  if (connection.memory.providerConnectionId) {
    await disconnect(connection.providerCall()).catch((failure: unknown) => {
      if (!(failure instanceof ActivityFailure)) throw failure;
      log.warn('the provider could not be told of the disconnection', { error: String(failure.cause?.message ?? failure.message) });
      reason = 'DISCONNECTED_LOCALLY';
    });
  }
  return connection.flushedAfter(async () => connection.end('disconnected', reason, null));
}

