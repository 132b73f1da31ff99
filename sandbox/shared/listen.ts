import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Koa from 'koa';

export interface ListeningSandbox {
  /** e.g. `http://127.0.0.1:41234` */
  url: string;
  close(): Promise<void>;
}

/**
 * Serves `app` on `host` (default 127.0.0.1) and `port` (default: any free one). `close` runs
 * `dispose` first, so that no timer outlives the server, then drops open keep-alive connections
 * instead of waiting for them; calling it again answers the first call's promise.
 */
export async function listen(app: Koa, options: { host?: string; port?: number }, dispose: () => void = () => {}): Promise<ListeningSandbox> {
  const host = options.host ?? '127.0.0.1';
  const server = createServer(app.callback());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}`,
    // Once: closing again (a test that took the sandbox down, then Linkflow's stop) waits for the first.
    close: () =>
      (closing ??= new Promise<void>((resolve, reject) => {
        dispose();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      })),
  };
}

/** A sandbox's Koa app, and what its `dispose` stops (timers, pending jobs, webhook retries). */
export interface SandboxApp {
  app: Koa;
  dispose(): void;
}

/** Serves a sandbox app (see `listen`); closing the sandbox disposes of the app first. */
export async function startSandbox(created: SandboxApp | Promise<SandboxApp>, options: { host?: string; port?: number }): Promise<ListeningSandbox> {
  const { app, dispose } = await created;
  return listen(app, options, dispose);
}
