// The provider sandboxes as their own process (docker-compose).
import { loadConfig } from '../config';
import { createLogger } from '../logger';
import { startOxlinSandbox } from './oxlin/server';

const log = createLogger('sandbox');

async function main(): Promise<void> {
  const config = loadConfig();
  const oxlin = await startOxlinSandbox({
    port: config.SANDBOX_PORT,
    host: config.HOST,
    ...(config.SANDBOX_PUBLIC_URL ? { publicUrl: config.SANDBOX_PUBLIC_URL } : {}),
    ...(config.SANDBOX_WEBHOOK_URL && config.OXLIN_WEBHOOK_SECRET
      ? { webhook: { url: config.SANDBOX_WEBHOOK_URL, secret: config.OXLIN_WEBHOOK_SECRET } }
      : {}),
  });
  log.info(`Oxlin sandbox listening on ${oxlin.url}`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void oxlin.close().then(() => process.exit(0)));
}

main().catch((err: unknown) => {
  log.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
