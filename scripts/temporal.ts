// `npm run temporal -- <args>`: the Temporal CLI that `npm start` runs the dev server with (built
// once into the cache, see temporal-binaries.ts), so no `temporal` on PATH is needed. It talks to
// the embedded dev server (127.0.0.1:$TEMPORAL_PORT) unless TEMPORAL_ADDRESS says otherwise, e.g.
//   npm run temporal -- workflow list --query "LinkflowState='active'"
// (`npm run -s temporal -- … --output json` keeps npm's own lines out of the output.)
import { spawn } from 'node:child_process';
import { loadConfig } from '../config';
import { ensureTemporalCli, temporalSource } from './temporal-binaries';

async function main(args: string[]): Promise<number> {
  if (temporalSource() === 'download') {
    throw new Error('LINKFLOW_TEMPORAL_SOURCE=download: the SDK keeps its own binary; set LINKFLOW_TEMPORAL_CLI to a temporal CLI to use this command.');
  }
  const config = loadConfig();
  // Progress of a first build goes to stderr: stdout is the CLI's own.
  const cli = await ensureTemporalCli((line) => process.stderr.write(`${line}\n`));
  const env = { ...process.env, TEMPORAL_ADDRESS: config.TEMPORAL_ADDRESS ?? `127.0.0.1:${config.TEMPORAL_PORT}`, TEMPORAL_NAMESPACE: config.TEMPORAL_NAMESPACE };
  const child = spawn(cli, args, { stdio: 'inherit', env });
  // Ctrl-C reaches the CLI too (same process group); we only wait for it and pass its status on.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => undefined);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => resolve(code ?? 1));
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
