// Linkflow's worker in a process of its own, for the test that kills one in the middle of an
// import: createWorker with the real activities (Oxlin adapter → its sandbox, PGlite in a
// directory). Prints `ready` once it polls.
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { z } from 'zod';
import { generateCredentialsKey, loadCredentialsKey } from '../../activities/credentials';
import { createAdapters } from '../../activities/providers';
import { createProviderLinks, createProviderSecrets, createRepository, openDatabase } from '../../activities/store';
import { createWebhookEndpointStore } from '../../activities/store/webhooks';
import { createWorker } from '../../worker/worker';
import { testSigner } from './real-activities';
// Importing the test helpers also quiets the SDK's logs, as in every test process.
import { workflowBundle } from './temporal';

const SECRET = 'import-worker-secret-import-worker-secret';

async function main(): Promise<void> {
  const env = z
    .object({ TEMPORAL_ADDRESS: z.string(), TASK_QUEUE: z.string(), PGLITE_DIR: z.string(), OXLIN_URL: z.url() })
    .parse(process.env);
  const db = await openDatabase({ dataDir: env.PGLITE_DIR });
  const real = createAdapters(
    { oxlin: { baseUrl: env.OXLIN_URL, clientId: 'linkflow-sandbox', clientSecret: 'sandbox-secret', pollIntervalMs: 20 } },
    { secrets: createProviderSecrets(db, SECRET) },
  );
  const clientConnection = await Connection.connect({ address: env.TEMPORAL_ADDRESS });
  const worker = await createWorker({
    connection: await NativeConnection.connect({ address: env.TEMPORAL_ADDRESS }),
    namespace: 'default',
    taskQueue: env.TASK_QUEUE,
    // The test kills this process: its workflow tasks must not wait on a sticky queue nobody polls.
    maxCachedWorkflows: 0,
    workflowBundle: await workflowBundle(),
    adapters: real,
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
