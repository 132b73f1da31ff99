// Starting a connection workflow: POST /v1/connections and the Connect page (api/routes/connect/)
// start connections the same way, with the same checks and the same first answer.
import { createHash, randomUUID } from 'node:crypto';
import canonicalize from 'canonicalize';
import {
  type Client,
  type Workflow,
  type WorkflowHandle,
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
} from '@temporalio/client';
import type { Repository } from '../../../store';
import {
  PROVIDER_CAPABILITIES,
  type ConnectionInput,
  type ConnectionView,
  type ProviderName,
  UNSUPPORTED_MODE,
  firstActionUpdate,
  workflowIdFor,
} from '../../../contract/messages';
import { ApiError } from '../../errors';
import { readConnection } from '../../temporal';
import { type CreateConnection, IdempotencyKeySchema } from './schema';
import { TENANT_ATTRIBUTE } from './presenters';

/** What starting a connection needs from the API's composition. */
export interface ConnectionStarterDeps {
  client: Client;
  repository: Repository;
  /** Builds Linkflow's callback URL for a provider, e.g. https://linkflow.example/callbacks/oxlin. */
  callbackUrl(provider: string): string;
  /** The providers this deployment has settings for. */
  providers: readonly ProviderName[];
  defaults: {
    syncIntervalSeconds: number;
    redirectTimeoutSeconds: number;
    consentTimeoutSeconds: number;
    renewalLeadSeconds: number;
  };
  taskQueue: string;
  /** How long a start waits for the first next action before answering `authorizing` (pending); default 10 s. */
  firstActionWaitMs?: number;
}

/** How long starting a connection waits for its first next action before answering with `authorizing`, in ms. */
export const FIRST_ACTION_WAIT_MS = 10_000;

/** A UUID (v5 layout) from the tenant and its Idempotency-Key: the same pair, the same connection. */
function idempotentId(tenantId: string, key: string): string {
  const bytes = createHash('sha256').update(`${tenantId}\0${key}`).digest().subarray(0, 16);
  bytes[6] = ((bytes[6] as number) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
/**
 * What an Idempotency-Key promises to repeat: the method, the path and the body as the route
 * parsed it (defaults filled in), canonical JSON (RFC 8785, so key order and spacing do not count),
 * hashed. Any other request under the same key is a 422, never a replay of the first.
 */
function requestFingerprint(method: string, path: string, body: CreateConnection): string {
  return createHash('sha256').update(`${method} ${path}\n${canonicalize(body) ?? ''}`).digest('hex');
}
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/**
 * Starts connection workflows. `start(tenantId, body, idempotencyKey)` answers the connection
 * once it offers its first next action, from the workflow itself (update-with-start: one call to
 * Temporal); when that takes longer than `firstActionWaitMs` (10 s), the started connection still
 * `authorizing` with `pending: true` (never a timeout that hides a started connection). `replayed:
 * true` when an Idempotency-Key named a connection started before (the same key always attaches to
 * the same connection, also concurrently). Errors (ApiError): 422
 * `provider_not_configured`, `unsupported_mode` (also when the institution's first channel has the
 * other mode: that connection has ended `failed`), `idempotency_key_reused`; 400 `invalid_idempotency_key`.
 */
export function connectionStarter(deps: ConnectionStarterDeps) {
  const { client, repository } = deps;
  return {
    async start(tenantId: string, body: CreateConnection, idempotencyKey: string | null): Promise<{ view: ConnectionView; replayed: boolean; pending: boolean }> {
      if (!deps.providers.includes(body.provider)) {
        throw new ApiError(422, 'provider_not_configured', `${body.provider} is not configured on this Linkflow.`, { providers: deps.providers });
      }
      const { modes } = PROVIDER_CAPABILITIES[body.provider];
      if (!modes.includes(body.mode)) {
        throw new ApiError(422, 'unsupported_mode', `${body.provider} connections support mode ${modes.join(' or ')}, not ${body.mode}.`, {
          supported_modes: modes,
        });
      }
      if (idempotencyKey !== null && !IdempotencyKeySchema.safeParse(idempotencyKey).success) {
        throw new ApiError(400, 'invalid_idempotency_key', 'Idempotency-Key must be printable ASCII, at most 255 characters.');
      }
      // The same key always names the same connection: Temporal's workflow-id uniqueness makes it idempotent,
      // and the store keeps which request the key was first used for.
      const connectionId = idempotencyKey ? idempotentId(tenantId, idempotencyKey) : randomUUID();
      let replayed = false;
      if (idempotencyKey) {
        const fingerprint = requestFingerprint('POST', '/v1/connections', body);
        const remembered = await repository.rememberIdempotentRequest(tenantId, sha256(idempotencyKey), fingerprint, connectionId);
        if (remembered.fingerprint !== fingerprint) {
          throw new ApiError(422, 'idempotency_key_reused', 'This Idempotency-Key was used for a different request.');
        }
        replayed = !remembered.first;
      }
      const input: ConnectionInput = {
        connectionId,
        tenantId,
        provider: body.provider,
        institutionId: body.institution_id,
        ...(body.user_ref ? { userRef: body.user_ref } : {}),
        redirectUrl: body.redirect_url,
        callbackUrl: deps.callbackUrl(body.provider),
        mode: body.mode,
        syncIntervalSeconds: body.sync_interval_seconds ?? deps.defaults.syncIntervalSeconds,
        redirectTimeoutSeconds: body.redirect_timeout_seconds ?? deps.defaults.redirectTimeoutSeconds,
        consentTimeoutSeconds: body.consent_timeout_seconds ?? deps.defaults.consentTimeoutSeconds,
        renewalLeadSeconds: body.renewal_lead_seconds ?? deps.defaults.renewalLeadSeconds,
      };
      const workflowId = workflowIdFor(connectionId);
      const handle = client.workflow.getHandle(workflowId);
      // Started and asked for its first next action in one call (update-with-start). The same workflow id
      // attaches to the connection already running (a retried or concurrent POST with the same key).
      const startOperation = new WithStartWorkflowOperation('connectionWorkflow', {
        taskQueue: deps.taskQueue,
        workflowId,
        args: [input],
        workflowIdConflictPolicy: 'USE_EXISTING',
        // A connection that has ended is never started again under its id: the key's answer is that connection.
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        // Set at start (not upserted by the workflow) so operators can filter by tenant from the first event.
        typedSearchAttributes: [{ key: TENANT_ATTRIBUTE, value: tenantId }],
        // What the Web UI lists for the connection (payloads: encrypted by the payload codec when it is on).
        staticSummary: `${body.provider} ${body.institution_id}${body.user_ref ? ` — ${body.user_ref}` : ''}`,
        staticDetails: `tenant \`${tenantId}\` · first channel: ${body.mode} · connection \`${connectionId}\``,
      });
      let answered: Answer;
      try {
        answered = await firstAnswer(client, startOperation, handle, input, deps.firstActionWaitMs ?? FIRST_ACTION_WAIT_MS);
      } catch (err) {
        // The key's connection has ended: it is the answer, as it was. Or it was started before the workflow
        // had the firstAction update (a key retried across the upgrade): the update is rejected, the query answers.
        const known = err instanceof WorkflowExecutionAlreadyStartedError || err instanceof WorkflowUpdateFailedError;
        if (!known || !idempotencyKey) throw err;
        answered = { view: await readConnection(handle), pending: false };
      }
      const { view } = answered;
      if (idempotencyKey) {
        // Keys first used before the store kept their request (migration 012) are checked on what the connection shows.
        const same =
          view.tenant_id === tenantId && view.provider === body.provider && view.institution_id === body.institution_id && view.redirect_url === body.redirect_url;
        if (!same) throw new ApiError(422, 'idempotency_key_reused', 'This Idempotency-Key was used for a different request.');
      }
      // The institution has no channel of this mode to start with (a Powens connector whose first source has the
      // other mechanism): refused, never served in another mode. The connection has ended `failed`. A replay of
      // the key answers the same 422 as the request that started it (also a concurrent one).
      if (view.state === 'failed' && view.reason === UNSUPPORTED_MODE) {
        const supported = modes.filter((m) => m !== body.mode);
        throw new ApiError(422, 'unsupported_mode', `${body.institution_id} at ${body.provider} starts with mode ${supported.join(' or ')}, not ${body.mode}.`, {
          supported_modes: supported,
        });
      }
      return { view, replayed, pending: answered.pending };
    },
  };
}

export type ConnectionStarter = ReturnType<typeof connectionStarter>;

/** What the start answers: the view, and `pending` when the first next action had not come within the wait. */
interface Answer {
  view: ConnectionView;
  pending: boolean;
}

/**
 * Starts the workflow with the `firstAction` update and answers its result (`pending: false`).
 * When it has not answered within `waitMs`, answers as soon as Temporal confirms the workflow exists
 * (the start's response, or a describe every 200 ms): the connection as it stands, `authorizing`
 * with no next action yet, `pending: true`, and the wait for the update is abandoned. A started
 * connection is thus always answered with its id. Errors: whatever the start fails with
 * (WorkflowExecutionAlreadyStartedError when the id names a connection that has ended).
 */
async function firstAnswer(
  client: Client,
  startOperation: WithStartWorkflowOperation<Workflow>,
  handle: WorkflowHandle,
  input: ConnectionInput,
  waitMs: number,
): Promise<Answer> {
  const abandon = new AbortController();
  const update = client.withAbortSignal(abandon.signal, () => client.workflow.executeUpdateWithStart(firstActionUpdate, { startWorkflowOperation: startOperation }));
  // Raced below; once abandoned, its cancellation is expected and ignored.
  update.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  let looking = true;
  try {
    const first = await Promise.race([update, new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), waitMs)))]);
    if (first !== null) return { view: first, pending: false };
    // Slow: answer as soon as the workflow is known to exist, with what is known of it.
    const exists = async (): Promise<Date> => {
      for (;;) {
        const described = await handle.describe().catch((err: unknown) => {
          if (err instanceof WorkflowNotFoundError) return null;
          throw err;
        });
        if (described) return described.startTime;
        if (!looking) return new Date();
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    };
    const started = await Promise.race([update.then(() => null), startOperation.workflowHandle().then(() => handle.describe()).then((d) => d.startTime), exists()]);
    if (started === null) return { view: await update, pending: false };
    return { view: pendingView(input, started), pending: true };
  } finally {
    looking = false;
    clearTimeout(timer);
    abandon.abort();
  }
}

/** The view of a connection that has started and not yet offered its first next action. */
function pendingView(input: ConnectionInput, startedAt: Date): ConnectionView {
  return {
    id: input.connectionId,
    tenant_id: input.tenantId ?? null,
    provider: input.provider,
    institution_id: input.institutionId,
    user_ref: input.userRef ?? null,
    state: 'authorizing',
    reason: null,
    next_action: null,
    accounts: [],
    channels: [],
    last_sync: null,
    next_sync_at: null,
    renewal_due_at: null,
    redirect_url: input.redirectUrl,
    created_at: startedAt.toISOString(),
  };
}

/** Reads the connection until `done` holds or FIRST_ACTION_WAIT_MS (10 s) have passed; answers the last view read. */
export async function settled(read: () => Promise<ConnectionView>, done: (v: ConnectionView) => boolean): Promise<ConnectionView> {
  const deadline = Date.now() + FIRST_ACTION_WAIT_MS;
  let view = await read();
  while (!done(view) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    view = await read();
  }
  return view;
}
