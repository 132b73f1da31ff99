// The connection workflow with Linkflow's real activities against a provider sandbox: the store on
// PGlite, the real state signer and credentials key, and the steps every such test takes (start a
// connection, poll its state, come back from the provider as the API does).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities } from '../../activities';
import { type CredentialsKey, generateCredentialsKey, loadCredentialsKey } from '../../domain/credentials';
import { redirectParsers } from '../../providers';
import type { AdapterRegistry, ParsedRedirect, ProviderSecrets } from '../../providers/types';
import { createStateSigner } from '../../domain/redirect-state';
import { type Database, type Repository, createProviderLinks, createProviderSecrets, createRepository, migrate, openDatabase } from '../../store';
import { connectionWorkflow } from '../../workflows';
import { type ConnectionInput, type ConnectionView, type ProviderName, giveConsentUpdate, redirectReceivedSignal, stateQuery, workflowIdFor } from '../../contract/messages';

export type ConnectionHandle = WorkflowHandle<typeof connectionWorkflow>;

const SERVER_SECRET = 'test-secret-test-secret-test-secret';

/** Signs the redirect state in the activities and verifies it where the test plays the API. */
export const testSigner = createStateSigner(SERVER_SECRET);

/** A fresh in-memory store with Linkflow's schema. */
export async function openTestDatabase(): Promise<Database> {
  const db = await openDatabase({});
  await migrate(db);
  return db;
}

/**
 * The stores a data test runs on: PGlite, and a real PostgreSQL server when TEST_DATABASE_URL
 * names one (`.ci/run` starts one). Each opens migrated.
 */
export function testStores(): [name: string, open: () => Promise<Database>][] {
  const stores: [string, () => Promise<Database>][] = [['PGlite', openTestDatabase]];
  const url = process.env.TEST_DATABASE_URL;
  if (url) {
    stores.push([
      'PostgreSQL',
      async () => {
        const db = await openDatabase({ databaseUrl: url });
        await migrate(db);
        return db;
      },
    ]);
  }
  return stores;
}

/**
 * The same stores, empty (no migration applied), each call a new one: PGlite in memory, and on
 * PostgreSQL a schema of its own (dropped by `dispose`). For tests that migrate a store step by step.
 */
export function emptyTestStores(): [name: string, open: () => Promise<{ db: Database; dispose: () => Promise<void> }>][] {
  const stores: [string, () => Promise<{ db: Database; dispose: () => Promise<void> }>][] = [
    [
      'PGlite',
      async () => {
        const db = await openDatabase({});
        return { db, dispose: () => db.close() };
      },
    ],
  ];
  const url = process.env.TEST_DATABASE_URL;
  if (url) {
    stores.push([
      'PostgreSQL',
      () => schemaDatabase(url, 'empty'),
    ]);
  }
  return stores;
}

/**
 * A PostgreSQL database at `url` confined to a new schema of its own (`<prefix>_<uuid>`, on its
 * search_path), empty; `dispose` closes it and drops the schema with everything in it.
 */
export async function schemaDatabase(url: string, prefix: string): Promise<{ db: Database; schema: string; dispose: () => Promise<void> }> {
  const schema = `${prefix}_${randomUUID().replace(/-/g, '')}`;
  const admin = await openDatabase({ databaseUrl: url });
  await admin.query(`CREATE SCHEMA ${schema}`);
  const target = new URL(url);
  target.searchParams.set('options', `-c search_path=${schema}`);
  const db = await openDatabase({ databaseUrl: target.toString() });
  return {
    db,
    schema,
    dispose: async () => {
      await db.close();
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.close();
    },
  };
}

/** The provider secrets in `db`, sealed as the worker seals them. */
export const testSecrets = (db: Database): ProviderSecrets => createProviderSecrets(db, SERVER_SECRET);

export interface RealActivities {
  activities: ReturnType<typeof createActivities>;
  repository: Repository;
  credentialsKey: CredentialsKey;
}

/** The worker's activities on `db`, with only the adapters a test uses (the others are never called). */
export async function realActivities(db: Database, adapters: Partial<AdapterRegistry>): Promise<RealActivities> {
  const repository = createRepository(db);
  const credentialsKey = await loadCredentialsKey(await generateCredentialsKey());
  const activities = createActivities({
    adapters: adapters as AdapterRegistry,
    repository,
    providerLinks: createProviderLinks(db),
    stateSigner: testSigner,
    credentialsKey,
  });
  return { activities, repository, credentialsKey };
}

/** Linkflow's callback for `provider`, where the provider sends the end user's browser back. */
export const callbackUrl = (provider: ProviderName): string => `https://linkflow.example/callbacks/${provider}`;

type ConnectionChoice = Pick<ConnectionInput, 'connectionId' | 'provider' | 'institutionId' | 'mode'> & Partial<ConnectionInput>;

/** Starts a connection as the API would, syncing daily, with the API's default deadlines. */
export function startConnection(env: TestWorkflowEnvironment, taskQueue: string, choice: ConnectionChoice): Promise<ConnectionHandle> {
  return env.client.workflow.start(connectionWorkflow, {
    taskQueue,
    workflowId: workflowIdFor(choice.connectionId),
    args: [
      {
        redirectUrl: 'https://client.example/done',
        callbackUrl: callbackUrl(choice.provider),
        syncIntervalSeconds: 86_400,
        redirectTimeoutSeconds: 1_800,
        consentTimeoutSeconds: 86_400,
        renewalLeadSeconds: 7 * 86_400,
        ...choice,
      },
    ],
  });
}

/** The connection's view once `done` holds; fails, naming the state, after 15 s. */
export async function until(handle: WorkflowHandle, done: (v: ConnectionView) => boolean): Promise<ConnectionView> {
  for (let i = 0; i < 600; i++) {
    const view = await handle.query(stateQuery);
    if (done(view)) return view;
    await new Promise((r) => setTimeout(r, 25));
  }
  const view = await handle.query(stateQuery);
  assert.fail(`gave up waiting; connection is ${view.state} (${view.reason ?? 'no reason'})`);
}

/**
 * Linkflow's callback as the API handles it: `back` (where the provider sent the browser) is
 * parsed, its state verified for this connection, and the redirect signalled. Returns the redirect.
 */
export async function returnFromProvider(handle: WorkflowHandle, connectionId: string, provider: ProviderName, back: URL): Promise<ParsedRedirect['redirect']> {
  assert.equal(back.origin + back.pathname, callbackUrl(provider));
  const { state, redirect, authorizationCode } = redirectParsers[provider](Object.fromEntries(back.searchParams));
  const verified = testSigner.verify(state);
  assert.ok(verified);
  assert.equal(verified.connectionId, connectionId);
  // As the API does: a code (Oxlin's client-created flow) reaches the workflow sealed only.
  const code = authorizationCode === undefined ? {} : { sealedAuthorizationCode: testSigner.sealCode(authorizationCode, verified) };
  await handle.signal(redirectReceivedSignal, { nonce: verified.nonce, ...redirect, ...code });
  return redirect;
}

/** Consents to every listed account once asked; returns the active view. */
export async function consentToAll(handle: WorkflowHandle): Promise<ConnectionView> {
  const listed = await until(handle, (v) => v.state === 'awaiting_consent');
  await handle.executeUpdate(giveConsentUpdate, { args: [{ consents: listed.accounts.map((a) => ({ account_id: a.id, consent: true })) }] });
  return until(handle, (v) => v.state === 'active');
}

/** Every string in a workflow's history, payloads decoded, to look for what must never be in it. */
export async function historyText(handle: WorkflowHandle): Promise<string> {
  const texts: string[] = [];
  const walk = (value: unknown): void => {
    if (value instanceof Uint8Array) texts.push(Buffer.from(value).toString('utf8'));
    else if (typeof value === 'string') texts.push(value);
    else if (value && typeof value === 'object') Object.values(value).forEach(walk);
  };
  walk(await handle.fetchHistory());
  return texts.join('\n');
}
