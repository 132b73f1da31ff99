// The parts only the embedded mode (`npm start`, the end-to-end tests) runs itself: the Temporal dev
// server and the provider sandboxes. app/linkflow.ts starts them in its order and stops them.
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { type Config, publicUrl, sandboxPort } from '../config';
import type { Logger } from '../logger';
import { type FlinksSandbox, type FlinksSandboxOptions, startFlinksSandbox } from '../sandbox/flinks/server';
import { type LnkfiSandbox, type LnkfiSandboxOptions, startLnkfiSandbox } from '../sandbox/lnkfi/server';
import { type OxlinSandbox, type OxlinSandboxOptions, startOxlinSandbox } from '../sandbox/oxlin/server';
import { type PowensSandbox, type PowensSandboxOptions, startPowensSandbox } from '../sandbox/powens/server';
import { devServerExecutable } from '../scripts/temporal-binaries';
import { devServerSearchAttributes } from '../worker/worker';
import { PROVIDERS, type ProviderName } from '../contract/messages';
import { type ProviderUrls, embeddedSecret, providerUrlsFromEnv, providerWebhookSecrets } from './settings';

/** The embedded sandboxes, by provider: only those started (a provider with a *_BASE_URL has none). */
export interface Sandboxes {
  oxlin?: OxlinSandbox;
  flinks?: FlinksSandbox;
  powens?: PowensSandbox;
  lnkfi?: LnkfiSandbox;
}

/** Options per sandbox, over what the configuration gives (its port, HOST, the webhook to this API). */
export interface SandboxOverrides {
  oxlin?: OxlinSandboxOptions;
  flinks?: FlinksSandboxOptions;
  powens?: PowensSandboxOptions;
  lnkfi?: LnkfiSandboxOptions;
}

/** Providers whose sandbox sends signed webhooks to the API. */
export type WebhookProvider = 'oxlin' | 'flinks' | 'lnkfi';

/** A dev server of the tests: history in memory on a free port; with `uiPort`, its Web UI there, pointed at the codec endpoint. */
export interface EphemeralTemporal {
  uiPort?: number;
}

/**
 * The Temporal dev server with Linkflow's search attributes. Persistent (`npm start`, `ephemeral`
 * false): on TEMPORAL_PORT with its Web UI on TEMPORAL_UI_PORT and its SQLite file in the data dir
 * (in WAL journal mode), so connections survive a restart. Ephemeral (tests): any free port, history in memory, a Web UI
 * only on the `uiPort` asked for. The Web UI is pointed at the API's codec endpoint.
 * Stop it with `teardown()`.
 */
export async function startDevServer(config: Config, log: Logger, ephemeral: false | EphemeralTemporal): Promise<TestWorkflowEnvironment> {
  const executable = await devServerExecutable((line) => log.info(line));
  const dbFilename = join(config.LINKFLOW_DATA_DIR, 'temporal.sqlite');
  if (!ephemeral) {
    await mkdir(config.LINKFLOW_DATA_DIR, { recursive: true });
    log.info('starting the Temporal dev server…');
  }
  const uiPort = ephemeral ? ephemeral.uiPort : config.TEMPORAL_UI_PORT;
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable,
      searchAttributes: devServerSearchAttributes(),
      // The Web UI decodes payloads through the API's codec endpoint (POST /codec/decode, the admin key).
      extraArgs: [
        '--log-level',
        'error',
        // Write-ahead logging: readers no longer wait for the writer, and a commit is one append
        // instead of a rollback-journal rewrite; ~2.9× the lifecycles per second (issue 16).
        ...(ephemeral ? [] : ['--sqlite-pragma', 'journal_mode=wal']),
        ...(uiPort === undefined ? [] : ['--ui-codec-endpoint', new URL('/codec', publicUrl(config)).toString()]),
      ],
      ...(uiPort === undefined ? {} : { ui: true, uiPort }),
      ...(ephemeral ? {} : { ip: '127.0.0.1', port: config.TEMPORAL_PORT, dbFilename, namespace: config.TEMPORAL_NAMESPACE }),
    },
  });
  if (!ephemeral) log.info(`Temporal dev server on ${env.address} (data: ${dbFilename}), its Web UI on http://localhost:${config.TEMPORAL_UI_PORT}`);
  return env;
}

/**
 * A sandbox for every provider without a *_BASE_URL, each started and then handed to `started`
 * (which owns stopping it). Those with webhooks send them, signed, to this API with the configured
 * secret, or one generated once into the data dir. Returns every provider's URL and the webhook
 * secrets the API verifies with.
 */
export async function startSandboxes(
  config: Config,
  log: Logger,
  overrides: SandboxOverrides,
  started: (provider: ProviderName, sandbox: { close(): Promise<void> }) => void,
): Promise<{ urls: ProviderUrls; webhookSecrets: Partial<Record<WebhookProvider, string>>; sandboxes: Sandboxes }> {
  const urls = providerUrlsFromEnv(config);
  const webhookSecrets = providerWebhookSecrets(config);
  const webhookTo = async (provider: WebhookProvider) => {
    webhookSecrets[provider] ??= await embeddedSecret(config, `${provider}-webhook-secret`, async () => randomBytes(24).toString('base64url'));
    return { url: new URL(`/webhooks/${provider}`, publicUrl(config)).toString(), secret: webhookSecrets[provider] };
  };
  const at = (provider: ProviderName) => ({ port: sandboxPort(config, provider), host: config.HOST });
  const sandboxes: Sandboxes = {};
  const start = {
    oxlin: async () => (sandboxes.oxlin = await startOxlinSandbox({ ...at('oxlin'), webhook: await webhookTo('oxlin'), ...overrides.oxlin })),
    flinks: async () => (sandboxes.flinks = await startFlinksSandbox({ ...at('flinks'), webhook: await webhookTo('flinks'), ...overrides.flinks })),
    powens: async () => (sandboxes.powens = await startPowensSandbox({ ...at('powens'), ...overrides.powens })),
    lnkfi: async () => (sandboxes.lnkfi = await startLnkfiSandbox({ ...at('lnkfi'), webhook: await webhookTo('lnkfi'), ...overrides.lnkfi })),
  };
  for (const provider of PROVIDERS) {
    if (urls[provider]) continue;
    const sandbox = await start[provider]();
    started(provider, sandbox);
    urls[provider] = sandbox.url;
    log.info(`${provider} sandbox listening on ${sandbox.url}`);
  }
  return { urls, webhookSecrets, sandboxes };
}

/**
 * A port already taken is reported with what to do, before anything starts: the API's, each
 * embedded sandbox's and, without TEMPORAL_ADDRESS, the dev server's and its UI's. Throws naming
 * the port and the variable that moves it.
 */
export async function assertPortsFree(config: Config): Promise<void> {
  const ports: [number, string, string][] = [[config.PORT, 'the API', 'PORT']];
  const external = providerUrlsFromEnv(config);
  for (const provider of PROVIDERS) {
    if (!external[provider]) ports.push([sandboxPort(config, provider), `the ${provider} sandbox`, 'SANDBOX_PORT']);
  }
  if (!config.TEMPORAL_ADDRESS) {
    ports.push([config.TEMPORAL_PORT, 'Temporal', 'TEMPORAL_PORT'], [config.TEMPORAL_UI_PORT, 'the Temporal Web UI', 'TEMPORAL_UI_PORT']);
  }
  for (const [port, what, variable] of ports) {
    const free = await new Promise<boolean>((resolve) => {
      const probe = createServer()
        .once('error', () => resolve(false))
        .listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
    });
    if (!free) throw new Error(`Port ${port} (${what}) is already in use: stop what uses it, or set ${variable} to another port.`);
  }
}
