// Linkflow's worker in a process of its own, for the tests that kill one in the middle of an
// import: createWorker with the real activities (Oxlin adapter → its sandbox; PGlite in a directory,
// or PostgreSQL), on a migrated store. Prints `ready` once it polls, and `page {"accountId","cursor","since"}`
// before each page importData asks the provider for. With KILL_AFTER_PAGES=n, it prints
// `killed {...}` and sends itself SIGKILL instead of asking for page n + 1: the pages before it are
// stored, any heartbeat not yet flushed to Temporal is lost, nothing else runs.
import { Context } from '@temporalio/activity';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { z } from 'zod';
import { generateCredentialsKey, loadCredentialsKey } from '../../domain/credentials';
import { type ProviderAdapter, createAdapters } from '../../providers';
import { createProviderLinks, createProviderSecrets, createRepository, migrate, openDatabase } from '../../store';
import { createWebhookEndpointStore } from '../../store/webhooks';
import { createWorker } from '../../worker/worker';
import { testSigner } from './real-activities';
// Importing the test helpers also quiets the SDK's logs, as in every test process.
import { workflowBundle } from './temporal';

const SECRET = 'import-worker-secret-import-worker-secret';

/** A page importData asks the provider for: account, cursor (null for its first page) and window. */
export interface PageAsked {
  accountId: string;
  cursor: string | null;
  since: string | null;
}

const EnvSchema = z.object({
  TEMPORAL_ADDRESS: z.string(),
  TASK_QUEUE: z.string(),
  OXLIN_URL: z.url(),
  /** The store: a PGlite directory, or a PostgreSQL URL. */
  PGLITE_DIR: z.string().optional(),
  DATABASE_URL: z.string().optional(),
  /** A workflow bundle the test built once (bundling in every worker process takes seconds). */
  WORKFLOW_BUNDLE: z.string().optional(),
  /** How many pages importData may ask for before the process kills itself. */
  KILL_AFTER_PAGES: z.coerce.number().int().nonnegative().optional(),
});

async function main(): Promise<void> {
  const env = EnvSchema.parse(process.env);
  const db = await openDatabase(env.DATABASE_URL ? { databaseUrl: env.DATABASE_URL } : { dataDir: z.string().parse(env.PGLITE_DIR) });
  await migrate(db);
  let pagesAsked = 0;
  const real = createAdapters(
    { oxlin: { baseUrl: env.OXLIN_URL, clientId: 'linkflow-sandbox', clientSecret: 'sandbox-secret', pollIntervalMs: 20 } },
    { secrets: createProviderSecrets(db, SECRET) },
  );
  const watched: ProviderAdapter = {
    ...real.oxlin,
    async fetchTransactions(connection, accountId, cursor, since) {
      if (Context.current().info.activityType === 'importData') {
        const page: PageAsked = { accountId, cursor, since };
        if (pagesAsked++ === env.KILL_AFTER_PAGES) {
          // Synchronous on a pipe: the line is out before the signal.
          process.stdout.write(`killed ${JSON.stringify(page)}\n`);
          process.kill(process.pid, 'SIGKILL');
          await new Promise(() => undefined);
        }
        process.stdout.write(`page ${JSON.stringify(page)}\n`);
      }
      return real.oxlin.fetchTransactions(connection, accountId, cursor, since);
    },
  };
  const clientConnection = await Connection.connect({ address: env.TEMPORAL_ADDRESS });
  const worker = await createWorker({
    connection: await NativeConnection.connect({ address: env.TEMPORAL_ADDRESS }),
    namespace: 'default',
    taskQueue: env.TASK_QUEUE,
    // The test kills this process: its workflow tasks must not wait on a sticky queue nobody polls.
    maxCachedWorkflows: 0,
    workflowBundle: env.WORKFLOW_BUNDLE ? { codePath: env.WORKFLOW_BUNDLE } : await workflowBundle(),
    adapters: { ...real, oxlin: watched },
    repository: createRepository(db),
    providerLinks: createProviderLinks(db),
    stateSigner: testSigner,
    credentialsKey: await loadCredentialsKey(await generateCredentialsKey()),
    webhookEndpoints: createWebhookEndpointStore(db, SECRET),
    client: new Client({ connection: clientConnection }),
  });
  process.stdout.write('ready\n');
  await worker.run();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
