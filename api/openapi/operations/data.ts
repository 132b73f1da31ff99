// The operations that read what the syncs stored: accounts, balances and transactions.
import { z } from 'zod';
import {
  AccountListSchema,
  BalanceHistorySchema,
  BalancesQuerySchema,
  TransactionChangesQuerySchema,
  TransactionChangesSchema,
  TransactionPageSchema,
  TransactionsQuerySchema,
} from '../../routes/connections/schema';
import { BY_ID, E } from '../errors';
import { CONNECTION_ID_PARAM, byId } from '../examples';
import type { OperationDoc } from '../types';

/** The data routes under /v1/connections/{id}: they answer for a connection that has ended too. */
export const dataOperations: OperationDoc[] = [
  {
    operationId: 'listAccounts',
    method: 'get',
    path: '/v1/connections/{id}/accounts',
    summary: 'Accounts',
    description: 'The consented accounts as last synced.',
    tags: ['Data'],
    security: 'apiKey',
    responses: [{ status: 200, description: 'The accounts.', schema: AccountListSchema }],
    errors: [...BY_ID],
    requestExamples: [{ name: 'accounts', summary: 'Accounts', params: byId }],
    responseExamples: [
      {
        name: 'accounts',
        summary: 'One checking account',
        body: {
          data: [
            {
              id: 'acc_checking',
              name: 'Compte courant',
              type: 'CHECKINGS',
              currency: 'EUR',
              balance: '1520.35',
              iban: 'FR7630006000011234567890189',
              account_number: null,
              updated_at: '2025-03-04T09:17:11.482Z',
            },
          ],
        },
      },
    ],
  },
  {
    operationId: 'syncTransactions',
    method: 'get',
    path: '/v1/connections/{id}/transactions/sync',
    summary: 'Transaction changes since a cursor',
    description:
      'Delta sync: what was added, modified and removed since `cursor` (from the start without one), each ' +
      'transaction once, in its latest state. Read while `has_more`; keep `next_cursor` for next time — it ' +
      'stays valid across syncs. The `connection.synced` webhook says when there is something new.',
    tags: ['Data'],
    security: 'apiKey',
    query: TransactionChangesQuerySchema,
    responses: [{ status: 200, description: 'A page of changes.', schema: TransactionChangesSchema }],
    errors: [...BY_ID, E.invalidQuery, E.invalidCursor],
    requestExamples: [
      { name: 'start', summary: 'Everything, from the start', params: byId, query: { limit: 500 } },
      { name: 'since', summary: 'What changed since the last read', params: byId, query: { cursor: 'WyJjaGFuZ2VzIiwiM2YyYzZhMWUtOGI0ZC00YzJhLTlmMWUtMmI3ZDVjOWEwZTQxIiwiMTgzIl0.Qm9uZC10by10aGUtY29ubmVjdGlvbi1ieS1ITUFDLWhlcmU' } },
    ],
    responseExamples: [
      {
        name: 'changes',
        summary: 'One new transaction, one corrected, one dropped',
        body: {
          added: [
            {
              id: 'tx_93',
              account_id: 'acc_checking',
              booked_at: '2025-03-04T00:00:00.000Z',
              amount: '-12.00',
              currency: 'EUR',
              label: 'CARTE 03/03 PHARMACIE',
              category: null,
              pending: false,
              pending_transaction_id: null,
              updated_at: '2025-03-05T09:17:11.482Z',
            },
          ],
          modified: [
            {
              id: 'tx_92',
              account_id: 'acc_checking',
              booked_at: '2025-03-03T00:00:00.000Z',
              amount: '-42.00',
              currency: 'EUR',
              label: 'CARTE 02/03 BOULANGERIE',
              category: 'food',
              pending: false,
              pending_transaction_id: null,
              updated_at: '2025-03-05T09:17:11.482Z',
            },
          ],
          removed: [{ id: 'tx_90', account_id: 'acc_checking' }],
          next_cursor: 'Y2hhbmdlczoxODY',
          has_more: false,
        },
      },
      {
        name: 'booked',
        summary: 'A pending card payment booked under a new id, by a provider that links the two',
        body: {
          added: [
            {
              id: 'tx_95',
              account_id: 'acc_checking',
              booked_at: '2025-03-06T00:00:00.000Z',
              amount: '-18.40',
              currency: 'EUR',
              label: 'CARTE 05/03 CINEMA',
              category: null,
              pending: false,
              pending_transaction_id: 'tx_94',
              updated_at: '2025-03-07T09:17:11.482Z',
            },
          ],
          modified: [],
          removed: [{ id: 'tx_94', account_id: 'acc_checking' }],
          next_cursor: 'Y2hhbmdlczoxOTA',
          has_more: false,
        },
      },
    ],
  },
  {
    operationId: 'listBalances',
    method: 'get',
    path: '/v1/connections/{id}/accounts/{account_id}/balances',
    summary: "An account's balance over time",
    description: 'Newest first: the balance when first read, and at each sync that found it changed.',
    tags: ['Data'],
    security: 'apiKey',
    pathParams: { id: CONNECTION_ID_PARAM, account_id: { schema: z.string().min(1), description: "The provider's account id." } },
    query: BalancesQuerySchema,
    responses: [{ status: 200, description: 'The balance history.', schema: BalanceHistorySchema }],
    errors: [...BY_ID, E.invalidQuery],
    requestExamples: [{ name: 'balances', summary: 'The last 30 points', params: { ...byId, account_id: 'acc_checking' }, query: { limit: 30 } }],
    responseExamples: [
      {
        name: 'balances',
        summary: 'Two points',
        body: {
          data: [
            { as_of: '2025-03-05T09:17:11.482Z', balance: '1208.40', currency: 'EUR' },
            { as_of: '2025-03-04T09:17:11.301Z', balance: '1250.40', currency: 'EUR' },
          ],
        },
      },
    ],
  },
  {
    operationId: 'listTransactions',
    method: 'get',
    path: '/v1/connections/{id}/transactions',
    summary: 'Transactions',
    description: 'Newest first, a page at a time: pass `next_cursor` as `cursor` until it is null.',
    tags: ['Data'],
    security: 'apiKey',
    query: TransactionsQuerySchema,
    responses: [{ status: 200, description: 'A page of transactions.', schema: TransactionPageSchema }],
    errors: [...BY_ID, E.invalidQuery, E.invalidCursor],
    requestExamples: [
      { name: 'first', summary: "An account's latest transactions", params: byId, query: { account_id: 'acc_checking', limit: 50 } },
      { name: 'next', summary: 'The next page', params: byId, query: { limit: 50, cursor: 'WyIyMDI1LTAzLTAxVDAwOjAwOjAwLjAwMFoiLCJ0eF85MSIsImFjY19jaGVja2luZyJd' } },
    ],
    responseExamples: [
      {
        name: 'page',
        summary: 'A page with more to come',
        body: {
          data: [
            {
              id: 'tx_92',
              account_id: 'acc_checking',
              booked_at: '2025-03-03T00:00:00.000Z',
              amount: '-42.50',
              currency: 'EUR',
              label: 'CARTE 02/03 BOULANGERIE',
              category: 'food',
              pending: false,
              pending_transaction_id: null,
              updated_at: '2025-03-04T09:17:11.482Z',
            },
          ],
          next_cursor: 'WyIyMDI1LTAzLTAzVDAwOjAwOjAwLjAwMFoiLCJ0eF85MiIsImFjY19jaGVja2luZyJd',
        },
      },
    ],
  },
];
