// The workflow bundle, built in a thread of its own: webpack and its caches go when the thread
// ends, instead of staying in the worker's heap for as long as it runs (~50 MB of RSS; issue 16).
import { Worker as Thread } from 'node:worker_threads';

// Plain JavaScript (no tsx in the thread): the SDK's bundler is JavaScript and reads workflows/ itself.
const BUNDLE_IN_THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const { bundleWorkflowCode } = require(workerData.sdk);
const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
bundleWorkflowCode({ workflowsPath: workerData.workflowsPath, logger: quiet }).then(
  (bundle) => parentPort.postMessage({ code: bundle.code }),
  (err) => parentPort.postMessage({ error: String(err && err.stack || err) }),
);
`;

/**
 * Bundles the workflows at `workflowsPath` (default workflows/) with the SDK's bundler
 * (`bundleWorkflowCode`) in a worker thread, and answers `{ code }` for Worker.create's
 * `workflowBundle`. Rejects with the bundler's error, or if the thread ends without a bundle.
 */
export function bundleWorkflowsInThread(workflowsPath: string = require.resolve('../workflows')): Promise<{ code: string }> {
  return new Promise((resolve, reject) => {
    const thread = new Thread(BUNDLE_IN_THREAD, { eval: true, workerData: { sdk: require.resolve('@temporalio/worker'), workflowsPath } });
    thread.once('message', (answer: { code?: string; error?: string }) => {
      if (answer.code !== undefined) resolve({ code: answer.code });
      else reject(new Error(`bundling the workflows failed: ${answer.error}`));
      void thread.terminate();
    });
    thread.once('error', reject);
    thread.once('exit', (code) => reject(new Error(`the bundling thread ended (exit ${code}) without a bundle`)));
  });
}
