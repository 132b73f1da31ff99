// The ports of the local cluster: the documented ones (`npm run cluster`, as compose publishes
// them), or free ones (tests, several clusters on one machine).
import { createServer } from 'node:net';

/** Every port the cluster listens on (all on 127.0.0.1). */
export interface ClusterPorts {
  postgres: number;
  /** The Temporal frontend's gRPC port (TEMPORAL_ADDRESS). */
  temporal: number;
  /** Frontend HTTP, frontend membership, matching gRPC + membership, history gRPC + membership, worker gRPC + membership. */
  temporalInternal: [number, number, number, number, number, number, number, number];
  ui: number;
  /** The load balancer in front of the APIs: PUBLIC_URL. */
  balancer: number;
  /** Each API replica's PORT. */
  apis: number[];
  /** Oxlin's sandbox; Flinks, Powens and LnkFi on the next three (SANDBOX_PORT). */
  sandbox: number;
  /** Per worker: LINKFLOW_WORKER_METRICS_PORT and LINKFLOW_TEMPORAL_METRICS_PORT. */
  workerMetrics: [number, number][];
}

/** The documented ports: API 3000 (replicas 3001, 3002), Web UI 8080, Temporal 7233, sandboxes 4010–4013, PostgreSQL 5433. */
export const FIXED_PORTS: ClusterPorts = {
  postgres: 5433,
  temporal: 7233,
  temporalInternal: [7243, 6933, 7235, 6935, 7234, 6934, 7239, 6939],
  ui: 8080,
  balancer: 3000,
  apis: [3001, 3002],
  sandbox: 4010,
  workerMetrics: [
    [9464, 9465],
    [9466, 9467],
  ],
};

const isFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const probe = createServer()
      .once('error', () => resolve(false))
      .listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });

/** FIXED_PORTS, each checked free (else an error naming the port); or as many free ports, distinct. */
export async function clusterPorts(kind: 'fixed' | 'free'): Promise<ClusterPorts> {
  if (kind === 'fixed') {
    const all = [FIXED_PORTS.postgres, FIXED_PORTS.temporal, ...FIXED_PORTS.temporalInternal, FIXED_PORTS.ui, FIXED_PORTS.balancer, ...FIXED_PORTS.apis, ...[0, 1, 2, 3].map((i) => FIXED_PORTS.sandbox + i), ...FIXED_PORTS.workerMetrics.flat()];
    for (const port of all) {
      if (!(await isFree(port))) throw new Error(`port ${port} is taken (npm start, or another cluster?): stop what listens there first`);
    }
    return FIXED_PORTS;
  }
  const base = await consecutiveFreePorts(25);
  const p = (i: number) => base + i;
  return {
    postgres: p(0),
    temporal: p(1),
    temporalInternal: [p(2), p(3), p(4), p(5), p(6), p(7), p(8), p(9)],
    ui: p(10),
    balancer: p(11),
    apis: [p(12), p(13)],
    sandbox: p(14),
    workerMetrics: [
      [p(18), p(19)],
      [p(20), p(21)],
    ],
  };
}

/**
 * The first of `count` consecutive ports free now, at a random base: below the OS's ephemeral range
 * (32768 up), and below 32768 at all because Temporal stores membership ports as a SQL smallint.
 * Throws after 100 tries.
 */
export async function consecutiveFreePorts(count: number): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 12_000);
    const ports = Array.from({ length: count }, (_, i) => base + i);
    if ((await Promise.all(ports.map(isFree))).every(Boolean)) return base;
  }
  throw new Error(`no ${count} consecutive free ports`);
}
