// The load balancer in front of the API replicas of the local cluster (compose and production put
// their own in front): TCP, round robin, and a replica that refuses the connection (restarting) is
// skipped, so clients, browsers and provider webhooks keep one address (PUBLIC_URL) through a
// rolling restart of the APIs.
import { type AddressInfo, type Server, type Socket, connect, createServer } from 'node:net';

/** A listening balancer; `close()` stops accepting and ends open connections. */
export interface Balancer {
  port: number;
  close(): Promise<void>;
}

/** Listens on `host:port` (0: any free port) and spreads connections over `targets` (ports on 127.0.0.1). */
export async function startBalancer(targets: number[], port: number, host = '127.0.0.1'): Promise<Balancer> {
  let next = 0;
  const open = new Set<Socket>();
  const server: Server = createServer((client) => {
    open.add(client);
    let upstream: Socket | undefined;
    // From the first moment: a client that resets (ECONNRESET) before its replica answers is an
    // 'error' event, uncaught (the balancer's process ended) without a listener.
    client.on('error', () => upstream?.destroy());
    client.once('close', () => {
      open.delete(client);
      upstream?.destroy();
    });
    client.pause();
    const attempt = (tried: number) => {
      if (client.destroyed) return;
      const target = targets[next++ % targets.length] as number;
      const socket = connect(target, '127.0.0.1');
      upstream = socket;
      open.add(socket);
      socket.once('close', () => open.delete(socket));
      // Only a refused connection moves on to the next replica; an error once piping ends the client.
      const refused = () => {
        socket.destroy();
        if (tried + 1 < targets.length) attempt(tried + 1);
        else client.destroy();
      };
      socket.once('error', refused);
      socket.once('connect', () => {
        socket.off('error', refused);
        socket.on('error', () => client.destroy());
        client.pipe(socket).pipe(client);
        client.resume();
      });
    };
    attempt(0);
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
