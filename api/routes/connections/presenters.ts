// How the connection routes present what they read: search attributes of listed executions, and
// stored rows as the response schemas (schema.ts) describe them.
import { type Payload, SearchAttributeType, defaultPayloadConverter, defineSearchAttributeKey } from '@temporalio/common';
import type { StoredTransaction } from '../../../store/repository';
import type { ConnectionView } from '../../../contract/messages';
import type { LinkMinter } from '../../../domain/links';
import { respond } from '../../respond';
import { TransactionSchema } from './schema';

export const TENANT_ATTRIBUTE = defineSearchAttributeKey('LinkflowTenant', SearchAttributeType.KEYWORD);
export const STATE_ATTRIBUTE = defineSearchAttributeKey('LinkflowState', SearchAttributeType.KEYWORD);
export const PROVIDER_ATTRIBUTE = defineSearchAttributeKey('LinkflowProvider', SearchAttributeType.KEYWORD);
export const USER_REF_ATTRIBUTE = defineSearchAttributeKey('LinkflowUserRef', SearchAttributeType.KEYWORD);
export const NEEDS_ACTION_ATTRIBUTE = defineSearchAttributeKey('LinkflowNeedsAction', SearchAttributeType.BOOL);

/**
 * One search attribute of a listed execution (the raw `indexedFields` of ListWorkflowExecutions),
 * decoded with the SDK's public JSON payload converter. `undefined` when the execution does not
 * have it or when its value is not of the expected JS type (`string` for KEYWORD, `boolean` for BOOL),
 * as the SDK's own decoder drops such values.
 */
export function searchAttribute<T extends 'string' | 'boolean'>(
  fields: Record<string, Payload> | null | undefined,
  key: { name: string },
  type: T,
): (T extends 'string' ? string : boolean) | undefined {
  const payload = fields?.[key.name];
  if (!payload) return undefined;
  const value: unknown = defaultPayloadConverter.fromPayload(payload);
  return typeof value === type ? (value as T extends 'string' ? string : boolean) : undefined;
}

/**
 * A connection view (the workflow's `state` query or an update's answer) as the API presents it:
 * a `redirect` action's provider URL, short-lived and kept in the workflow, becomes a Linkflow link
 * (`${publicUrl}/connect/links/<link>`) that mints a fresh one when opened. Nothing else changes.
 */
export const presentView = (links: LinkMinter, view: ConnectionView): ConnectionView => links.linkedView(view);

/** A stored transaction as the API presents it (TransactionSchema). */
export const transactionBody = (t: StoredTransaction) =>
  respond(TransactionSchema, {
    id: t.providerTransactionId,
    account_id: t.providerAccountId,
    booked_at: t.bookedAt,
    amount: t.amount,
    currency: t.currency,
    label: t.label,
    category: t.category,
    pending: t.pending,
    pending_transaction_id: t.pendingTransactionId,
    updated_at: t.updatedAt,
  });
