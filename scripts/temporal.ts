// `npm run temporal -- <args>`: the Temporal CLI that `npm start` runs the dev server with (built
// once into the cache, see temporal-binaries.ts), so no `temporal` on PATH is needed. It talks to
// the embedded dev server (127.0.0.1:$TEMPORAL_PORT) unless TEMPORAL_ADDRESS says otherwise, e.g.
//   npm run temporal -- workflow list --query "LinkflowState='active'"
// (`npm run -s temporal -- … --output json` keeps npm's own lines out of the output.)
// Payloads are sealed (domain/payload-codec.ts): the CLI decodes them through the API's codec
// endpoint with the operator's key (LINKFLOW_ADMIN_KEY, or the embedded mode's .data/admin-key),
// unless TEMPORAL_CODEC_ENDPOINT / TEMPORAL_CODEC_AUTH are set already.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Config, loadConfig, publicUrl } from '../config';
import { ensureTemporalCli, temporalSource } from './temporal-binaries';

async function main(args: string[]): Promise<number> {
  if (temporalSource() === 'download') {
    throw new Error('LINKFLOW_TEMPORAL_SOURCE=download: the SDK keeps its own binary; set LINKFLOW_TEMPORAL_CLI to a temporal CLI to use this command.');
  }
  const config = loadConfig();
  // Progress of a first build goes to stderr: stdout is the CLI's own.
  const cli = await ensureTemporalCli((line) => process.stderr.write(`${line}\n`));
  const env = {
    ...(await codecEnv(config)),
    ...process.env,
    TEMPORAL_ADDRESS: config.TEMPORAL_ADDRESS ?? `127.0.0.1:${config.TEMPORAL_PORT}`,
    TEMPORAL_NAMESPACE: config.TEMPORAL_NAMESPACE,
  };
  const child = spawn(cli, args, { stdio: 'inherit', env });
  // Ctrl-C reaches the CLI too (same process group); we only wait for it and pass its status on.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => undefined);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => resolve(code ?? 1));
  });
}

/** The CLI's codec settings for the API's /codec endpoint, when the operator's key is known; else none. */
async function codecEnv(config: Config): Promise<Record<string, string>> {
  const key = config.LINKFLOW_ADMIN_KEY ?? (await readFile(join(config.LINKFLOW_DATA_DIR, 'admin-key'), 'utf8').catch(() => '')).trim();
  if (!key) return {};
  return { TEMPORAL_CODEC_ENDPOINT: new URL('/codec', publicUrl(config)).toString(), TEMPORAL_CODEC_AUTH: `Bearer ${key}` };
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
