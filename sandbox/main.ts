// The provider sandboxes as their own process (docker-compose): Oxlin on SANDBOX_PORT, Flinks,
// Powens and LnkFi on the next three ports.
import { type Config, loadConfig } from '../config';
import { createLogger } from '../logger';
import { startFlinksSandbox } from './flinks/server';
import { startLnkfiSandbox } from './lnkfi/server';
import { startOxlinSandbox } from './oxlin/server';
import { startPowensSandbox } from './powens/server';

const log = createLogger('sandbox');

/** SANDBOX_PUBLIC_URL with the port of the `offset`-th sandbox. */
function publicUrlAt(config: Config, offset: number): string | undefined {
  if (!config.SANDBOX_PUBLIC_URL) return undefined;
  const url = new URL(config.SANDBOX_PUBLIC_URL);
  url.port = String(config.SANDBOX_PORT + offset);
  return url.toString().replace(/\/$/, '');
}

/** Where a sandbox signs and sends its webhooks: SANDBOX_WEBHOOK_URL + /webhooks/<provider>, with that provider's secret. */
function webhookTo(config: Config, provider: string, secret: string | undefined) {
  if (!config.SANDBOX_WEBHOOK_URL || !secret) return {};
  return { webhook: { url: new URL(`/webhooks/${provider}`, config.SANDBOX_WEBHOOK_URL).toString(), secret } };
}

async function main(): Promise<void> {
  const config = loadConfig();
  const host = config.HOST;
  const oxlinPublicUrl = publicUrlAt(config, 0);
  const lnkfiPublicUrl = publicUrlAt(config, 3);
  const sandboxes = [
    await startOxlinSandbox({
      port: config.SANDBOX_PORT,
      host,
      ...(oxlinPublicUrl ? { publicUrl: oxlinPublicUrl } : {}),
      ...webhookTo(config, 'oxlin', config.OXLIN_WEBHOOK_SECRET),
    }),
    await startFlinksSandbox({ port: config.SANDBOX_PORT + 1, host, ...webhookTo(config, 'flinks', config.FLINKS_WEBHOOK_SECRET) }),
    await startPowensSandbox({ port: config.SANDBOX_PORT + 2, host }),
    await startLnkfiSandbox({
      port: config.SANDBOX_PORT + 3,
      host,
      ...(lnkfiPublicUrl ? { publicUrl: lnkfiPublicUrl } : {}),
      ...webhookTo(config, 'lnkfi', config.LNKFI_WEBHOOK_SECRET),
    }),
  ];
  const names = ['Oxlin', 'Flinks', 'Powens', 'LnkFi'];
  sandboxes.forEach((sandbox, i) => log.info(`${names[i]} sandbox listening on ${sandbox.url}`));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void Promise.all(sandboxes.map((s) => s.close())).then(() => process.exit(0)));
  }
}

main().catch((err: unknown) => {
  log.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
