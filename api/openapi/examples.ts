// Examples shared by the operations: ids, and a connection in each state.
import type { ConnectionView } from '../../contract/messages';
import { ConnectionSchema } from '../routes/connections/schema';
import { ConnectionIdSchema } from '../temporal';
import type { ParamDoc, ResponseDoc } from './types';

export const CONNECTION_ID = '3f2c6a1e-8b4d-4c2a-9f1e-2b7d5c9a0e41';
export const TENANT_ID = 'ten_5b0c0a2e9d8f4e7a8c1b2d3e4f5a6b7c';
export const WEBHOOK_ID = 'whe_4d2b0f8e6c4a2e0d8b6f4d2c0a8e6b4f';
export const ARMORED = '-----BEGIN PGP MESSAGE-----\n\nwV4DZ3x1b2mB0VQSAQdA7n3k1yq0Q6...\n=kX2z\n-----END PGP MESSAGE-----\n';
export const CONNECTION_ID_PARAM: ParamDoc = { schema: ConnectionIdSchema, description: 'The connection id (a UUID; anything else is a 404).' };
export const byId = { id: CONNECTION_ID };

/** A Linkflow link token (`<connection id>.<expiry>.<signature>`), as `next_action.url` carries it. */
export const AUTHORIZATION_LINK = `${CONNECTION_ID}.1741081500.Yp2rT8wK1nL5vB3xC7mQ9sD4fG6hJ0aZ2eR8uI1oP3`;
const linkUrl = (expiry: string) => `https://linkflow.example/connect/links/${CONNECTION_ID}.${expiry}.Yp2rT8wK1nL5vB3xC7mQ9sD4fG6hJ0aZ2eR8uI1oP3`;

export const base: ConnectionView = {
  id: CONNECTION_ID,
  tenant_id: TENANT_ID,
  provider: 'oxlin',
  institution_id: '87',
  user_ref: 'user-42',
  state: 'authorizing',
  reason: null,
  next_action: null,
  accounts: [],
  channels: [],
  last_sync: null,
  next_sync_at: null,
  renewal_due_at: null,
  redirect_url: 'https://client.example/linked?session=abc',
  created_at: '2025-03-04T09:15:00.000Z',
};
export const listed = [
  { id: 'acc_checking', name: 'Compte courant', type: 'CHECKINGS', currency: 'EUR', mask: '0189' },
  { id: 'acc_savings', name: 'Livret A', type: 'SAVINGS', currency: 'EUR' },
];
export const channel = { id: '8701', mode: 'redirect', expires_at: '2025-06-02T09:16:00.000Z' } as const;
export const awaitingRedirect: ConnectionView = {
  ...base,
  state: 'awaiting_redirect',
  next_action: {
    type: 'redirect',
    url: linkUrl('1741167900'),
    expires_at: '2025-03-04T09:45:00.000Z',
  },
};
export const awaitingCredentials: ConnectionView = {
  ...base,
  state: 'awaiting_credentials',
  next_action: {
    type: 'credentials',
    channel_id: '8702',
    fields: [
      { id: '300', label: 'Identifiant', type: 'TEXT', regexp: '.+', encrypt: false },
      { id: '301', label: 'Mot de passe', type: 'PWD', regexp: '.+', encrypt: true },
    ],
  },
};
export const challenge: ConnectionView = {
  ...base,
  state: 'challenge_required',
  next_action: {
    type: 'challenge',
    fields: [{ id: '1001', label: 'Code received by SMS', type: 'TEXT', regexp: '^\\d{6}$', encrypt: false }],
    messages: [{ id: '1002', type: 'INFO_MSG', text: 'Enter the code sent to +33 6 •• •• 12 34.' }],
    expires_at: '2025-03-04T09:20:00.000Z',
  },
};
export const awaitingConsent: ConnectionView = {
  ...base,
  state: 'awaiting_consent',
  next_action: { type: 'consent', accounts: listed, expires_at: '2025-03-05T09:16:00.000Z' },
  accounts: listed.map((a) => ({ ...a, consent: null })),
  channels: [channel],
};
export const syncing: ConnectionView = {
  ...base,
  state: 'syncing',
  accounts: listed.map((a) => ({ ...a, consent: a.id === 'acc_checking' })),
  channels: [channel],
};
export const active: ConnectionView = {
  ...syncing,
  state: 'active',
  last_sync: { synced_at: '2025-03-04T09:17:12.000Z', accounts: 1, transactions_added: 91, transactions_modified: 0, transactions_removed: 0 },
  next_sync_at: '2025-03-05T09:17:12.000Z',
  renewal_due_at: '2025-05-26T09:16:00.000Z',
};
export const renewal: ConnectionView = {
  ...active,
  state: 'renewal_required',
  next_action: {
    type: 'redirect',
    url: linkUrl('1748252760'),
    expires_at: '2025-05-26T09:46:00.000Z',
  },
};
export const disconnected: ConnectionView = { ...active, state: 'disconnected', next_sync_at: null, renewal_due_at: null };

export const connectionResponse = (status: number, description: string, headers?: Record<string, ParamDoc>): ResponseDoc => ({
  status,
  description,
  schema: ConnectionSchema,
  ...(headers ? { headers } : {}),
});

export const curlNote = 'Examples use `$LINKFLOW` for the API base URL and `$LINKFLOW_API_KEY` for your key.';

/** A `state` the providers' redirects carry (sealed by Linkflow). */
export const SIGNED_STATE = 'k7Qx2mB9vT4nW1pL8cR3yF6hJ0sD5gA2eZ9uI7oP4qM.Yp2rT8wK1nL5vB3xC7mQ9sD4fG6hJ0aZ2eR8uI1oP3';
