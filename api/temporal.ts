import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { type ConnectionView, TERMINAL_STATES, UpdateRejection, stateQuery, workflowIdFor } from '../contract/messages';
import { ApiError, notFound } from './errors';

export const ConnectionIdSchema = z.uuid();

/**
 * How long a signal for an inbound event (webhook, redirect) may take before it fails and its
 * claim is released: well inside CLAIM_LEASE_MS, so a live claimant is not overtaken.
 */
export const SIGNAL_DEADLINE_MS = 5_000;

/** The workflow behind a connection id; anything that is not one of our ids is a 404. */
export function connectionHandle(client: Client, rawId: string | undefined): { id: string; handle: WorkflowHandle } {
  const id = ConnectionIdSchema.safeParse(rawId);
  if (!id.success) throw notFound('connection');
  return { id: id.data, handle: client.workflow.getHandle(workflowIdFor(id.data)) };
}

export const readConnection = (handle: WorkflowHandle): Promise<ConnectionView> =>
  handle.query(stateQuery);

/** A connection of this tenant, read; anyone else's (or none) is the same 404. */
export async function ownedConnection(
  client: Client,
  rawId: string | undefined,
  tenantId: string,
): Promise<{ id: string; handle: WorkflowHandle; view: ConnectionView }> {
  const { id, handle } = connectionHandle(client, rawId);
  const view = await readConnection(handle);
  if (view.tenant_id !== tenantId) throw notFound('connection');
  return { id, handle, view };
}

/** 409 `wrong_state` for a connection that has ended: nothing but GET (and the data routes) applies to it. */
export const endedError = (view: Pick<ConnectionView, 'state'>): ApiError =>
  new ApiError(409, 'wrong_state', `the connection has ended (${view.state}); start a new one`, { state: view.state });

/** A connection of this tenant that has not ended (expired, cancelled, failed, disconnected): else 409 `wrong_state`. */
export async function openConnection(
  client: Client,
  rawId: string | undefined,
  tenantId: string,
): Promise<{ id: string; handle: WorkflowHandle; view: ConnectionView }> {
  const owned = await ownedConnection(client, rawId, tenantId);
  if (TERMINAL_STATES.includes(owned.view.state)) throw endedError(owned.view);
  return owned;
}

/** The status of each rejection a route may accept (beyond WrongState and InvalidInput, which every update can give). */
export const REJECTION_STATUS = { InvalidCredentials: 422, ProviderRejected: 422, ChallengeExpired: 410 } as const;
export type RouteRejections = Partial<Record<keyof typeof REJECTION_STATUS, string>>;

const REJECTION_MESSAGE: Record<keyof typeof REJECTION_STATUS, string> = {
  InvalidCredentials: 'Some fields are not valid.',
  ProviderRejected: 'The provider refused the request.',
  ChallengeExpired: 'The bank no longer accepts answers to this challenge; read the connection for what comes next.',
};

/**
 * An update, its rejections mapped to our own answers: 409 `wrong_state` and 422 `validation_failed`
 * always; the others only where the route says it can give them (`accepts`: rejection type → error
 * code, status from REJECTION_STATUS), so what a route answers is what its OpenAPI entry lists (the
 * contract test reads these). Messages are ours, never the provider's. A workflow that completed
 * between the read and the update (the connection ended meanwhile) is a 409, not a 404.
 */
export async function runUpdate<T>(handle: WorkflowHandle, update: () => Promise<T>, accepts: RouteRejections = {}): Promise<T> {
  try {
    return await update();
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) {
      const { type, message, details } = err.cause;
      if (type === UpdateRejection.WrongState) throw new ApiError(409, 'wrong_state', message, details?.[0]);
      if (type === UpdateRejection.InvalidInput) throw new ApiError(422, 'validation_failed', message, details?.[0]);
      const known = type as keyof typeof REJECTION_STATUS;
      const code = Object.hasOwn(REJECTION_STATUS, known) ? accepts[known] : undefined;
      if (code) throw new ApiError(REJECTION_STATUS[known], code, REJECTION_MESSAGE[known], known === 'ChallengeExpired' ? undefined : details?.[0]);
    }
    if (err instanceof WorkflowNotFoundError) {
      const view = await readConnection(handle).catch(() => null);
      if (view && TERMINAL_STATES.includes(view.state)) throw endedError(view);
    }
    throw err;
  }
}
