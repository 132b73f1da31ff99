// The provider sandboxes as their own process (docker-compose): Oxlin on SANDBOX_PORT, Flinks,
// Powens and LnkFi on the next three ports.
import { type Config, loadConfig, sandboxPort } from '../config';
import type { ProviderName } from '../contract/messages';
import { createLogger } from '../logger';
import { startFlinksSandbox } from './flinks/server';
import { startLnkfiSandbox } from './lnkfi/server';
import { startOxlinSandbox } from './oxlin/server';
import { startPowensSandbox } from './powens/server';

const log = createLogger('sandbox');

/** SANDBOX_PUBLIC_URL with the port of `provider`'s sandbox. */
function publicUrlAt(config: Config, provider: ProviderName): string | undefined {
  if (!config.SANDBOX_PUBLIC_URL) return undefined;
  const url = new URL(config.SANDBOX_PUBLIC_URL);
  url.port = String(sandboxPort(config, provider));
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
  const oxlinPublicUrl = publicUrlAt(config, 'oxlin');
  const lnkfiPublicUrl = publicUrlAt(config, 'lnkfi');
  const sandboxes = [
    await startOxlinSandbox({
      port: sandboxPort(config, 'oxlin'),
      host,
      ...(oxlinPublicUrl ? { publicUrl: oxlinPublicUrl } : {}),
      ...webhookTo(config, 'oxlin', config.OXLIN_WEBHOOK_SECRET),
    }),
    await startFlinksSandbox({ port: sandboxPort(config, 'flinks'), host, ...webhookTo(config, 'flinks', config.FLINKS_WEBHOOK_SECRET) }),
    await startPowensSandbox({ port: sandboxPort(config, 'powens'), host }),
    await startLnkfiSandbox({
      port: sandboxPort(config, 'lnkfi'),
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
