import { WorkflowUpdateFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { type ConnectionView, UpdateRejection, stateQuery, workflowIdFor } from '../workflows/messages';
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

/** An update rejected by the workflow's validator becomes 409 (wrong state) or 422 (bad input). */
export async function runUpdate<T>(update: () => Promise<T>): Promise<T> {
  try {
    return await update();
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) {
      const { type, message, details } = err.cause;
      if (type === UpdateRejection.WrongState) throw new ApiError(409, 'wrong_state', message, details?.[0]);
      if (type === UpdateRejection.InvalidInput) throw new ApiError(422, 'validation_failed', message, details?.[0]);
      if (type === UpdateRejection.InvalidCredentials) {
        throw new ApiError(422, 'invalid_credentials', 'Some fields are not valid.', details?.[0]);
      }
      if (type === UpdateRejection.ProviderRejected) throw new ApiError(422, 'provider_rejected', message, details?.[0]);
    }
    throw err;
  }
}
