// `npm run cluster`: Linkflow's production topology as plain processes on this machine (see
// scripts/cluster/cluster.ts and README "Running in production"). Each process logs to
// .cluster/logs/<name>.log; Ctrl-C (or SIGTERM) stops them all, Linkflow first, PostgreSQL last.
//
//   npm run cluster                         # a throwaway PostgreSQL in .cluster/postgres
//   DATABASE_URL=postgres://u:p@host:5432/x npm run cluster   # an existing PostgreSQL (its user creates the databases)
//   LINKFLOW_CLUSTER_DIR=/tmp/c npm run cluster               # another run directory
import { join, resolve } from 'node:path';
import { type Cluster, startCluster } from './cluster/cluster';

async function main(): Promise<void> {
  const dir = resolve(process.env.LINKFLOW_CLUSTER_DIR ?? join(__dirname, '..', '.cluster'));
  const log = (line: string) => console.log(`[cluster] ${line}`);
  // Ctrl-C while starting stops what has started; once started, it stops everything.
  const starting = new AbortController();
  const running: { cluster?: Cluster } = {};
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      const { cluster } = running;
      if (!cluster) return starting.abort();
      if (stopping) return;
      stopping = true;
      log('stopping…');
      void cluster.stop().then(() => {
        log('stopped');
        process.exit(0);
      });
    });
  }
  const cluster = await startCluster({ dir, ports: 'fixed', log, signal: starting.signal, ...(process.env.DATABASE_URL ? { databaseUrl: process.env.DATABASE_URL } : {}) });
  running.cluster = cluster;
  log(`API        ${cluster.publicUrl} (balancer) → ${cluster.apiUrls.join(', ')}`);
  log(`Web UI     http://localhost:${cluster.ports.ui}`);
  log(`Temporal   ${cluster.temporalAddress}`);
  log(`Store      ${cluster.databaseUrl.replace(/\/\/[^@]*@/, '//')}`);
  log(`Admin key  in ${join(dir, 'secrets.json')} (LINKFLOW_ADMIN_KEY): POST ${cluster.publicUrl}/v1/admin/tenants`);
  log(`Logs       ${join(dir, 'logs')}`);
  log('ready; Ctrl-C stops everything');
}

main().catch((err: unknown) => {
  console.error(`[cluster] ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
