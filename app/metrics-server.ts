// A worker process has no API: it serves Linkflow's own metrics (metrics.ts: provider calls and
// webhook deliveries, which its activities record) at GET /metrics on LINKFLOW_WORKER_METRICS_PORT.
import { type Server, createServer } from 'node:http';
import { metricsRegistry } from '../metrics';

/**
 * Listens on `host:port` and answers GET (or HEAD) /metrics with this process's registry in the
 * Prometheus text format; anything else is a 404, another method a 405. Resolves once listening;
 * rejects with the listen error (EADDRINUSE, …). Close it with `server.close()`.
 */
export function startMetricsServer(port: number, host: string): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    metricsRegistry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': metricsRegistry.contentType }).end(req.method === 'HEAD' ? undefined : text),
      () => res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n'),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
