import type { OperationDoc } from '../types';
import { codecOperations } from './codec';
import { connectOperations } from './connect';
import { connectionOperations } from './connections';
import { dataOperations } from './data';
import { institutionOperations } from './institutions';
import { managementOperations, referenceOperations } from './management';
import { callbackOperations, providerWebhookOperations } from './providers';
import { linkOperations } from './links';
import { operationsOperations } from './operations';

/**
 * Every documented operation, one per mounted route (one per provider for the provider routes), in
 * the document's order. test/unit/openapi.test.ts fails when a mounted route has no entry (or an
 * entry no route), and when an example does not match its schema.
 */
export const operations: OperationDoc[] = [
  ...connectionOperations,
  ...connectOperations,
  ...dataOperations,
  ...institutionOperations,
  ...managementOperations,
  ...codecOperations,
  ...callbackOperations(),
  ...linkOperations,
  ...providerWebhookOperations(),
  ...referenceOperations,
  ...operationsOperations,
];
