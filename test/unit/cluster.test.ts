// The local cluster's own parts (scripts/cluster/), without the cluster: the balancer in front of
// the API replicas against real sockets that refuse, reset and abort, and a supervised process
// whose start fails. The whole topology is test/cluster/chaos.test.ts.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { type AddressInfo, type Server, type Socket, connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { startBalancer } from '../../scripts/cluster/balancer';
import { supervise } from '../../scripts/cluster/processes';
import { startCluster } from '../../scripts/cluster/cluster';
import { execFileSync } from 'node:child_process';

/** A TCP server on loopback doing `behave` with each connection; `accepted` counts them. */
async function target(behave: (socket: Socket) => void): Promise<{ port: number; accepted: () => number; close: () => void }> {
  let accepted = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('error', () => undefined);
    behave(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    accepted: () => accepted,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

/** A client connection to `port`: resolves once connected. */
async function client(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  await new Promise((resolve) => socket.once('connect', resolve));
  return socket;
}

const closed = (socket: Socket) => (socket.destroyed ? Promise.resolve() : new Promise((resolve) => socket.once('close', resolve)));

/** A free port nothing listens on. */
async function deadPort(): Promise<number> {
  const t = await target(() => undefined);
  t.close();
  return t.port;
}

describe('cluster balancer', () => {
  const cleanup: (() => unknown)[] = [];
  after(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  it('survives clients that reset their connection at once (before or while it reaches a replica): no uncaught ECONNRESET', async () => {
    const echo = await target((s) => s.pipe(s));
    cleanup.push(echo.close);
    const balancer = await startBalancer([echo.port], 0);
    cleanup.push(() => balancer.close());
    const uncaught: unknown[] = [];
    const record = (err: unknown) => uncaught.push(err);
    process.on('uncaughtException', record);
    try {
      for (let i = 0; i < 100; i++) (await client(balancer.port)).resetAndDestroy();
      await delay(500);
    } finally {
      process.off('uncaughtException', record);
    }
    assert.deepEqual(uncaught.map(String), []);
    const still = await client(balancer.port);
    still.write('ping');
    const echoed = await Promise.race([new Promise<Buffer>((resolve) => still.once('data', resolve)), delay(2_000).then(() => 'nothing')]);
    assert.equal(String(echoed), 'ping', 'the balancer still serves');
    still.destroy();
  });

  it('a replica that resets mid-stream ends that client connection and opens none to another replica', async () => {
    const resets = await target((s) => s.once('data', () => s.resetAndDestroy()));
    const other = await target((s) => s.pipe(s));
    cleanup.push(resets.close, other.close);
    const balancer = await startBalancer([resets.port, other.port], 0);
    cleanup.push(() => balancer.close());
    const c = await client(balancer.port);
    c.write('GET / HTTP/1.1\r\n\r\n');
    await closed(c);
    await delay(300);
    assert.equal(resets.accepted(), 1);
    assert.equal(other.accepted(), 0, 'no second upstream connection for a client that is gone');
  });

  it('skips a replica that refuses, closes the client when all refuse, and closes the replica side when the client aborts', async () => {
    const held: Socket[] = [];
    const live = await target((s) => held.push(s));
    cleanup.push(live.close);
    const balancer = await startBalancer([await deadPort(), live.port], 0);
    cleanup.push(() => balancer.close());
    const c = await client(balancer.port);
    for (let i = 0; i < 50 && held.length === 0; i++) await delay(20);
    assert.equal(held.length, 1, 'the refusing replica was skipped');
    c.resetAndDestroy();
    await Promise.race([closed(held[0] as Socket), delay(2_000).then(() => assert.fail('the replica side stayed open after the client aborted'))]);

    const none = await startBalancer([await deadPort(), await deadPort()], 0);
    cleanup.push(() => none.close());
    const lone = connect(none.port, '127.0.0.1');
    lone.on('error', () => undefined);
    await Promise.race([closed(lone), delay(2_000).then(() => assert.fail('the client stayed open with every replica down'))]);
  });
});

describe('cluster supervised process', () => {
  it('a start that is not ready in time leaves no process behind', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'linkflow-supervise-'));
    try {
      const pidFile = join(dir, 'pid');
      const proc = supervise(
        { name: 'never-ready', command: 'sh', args: ['-c', `echo $$ > ${pidFile}; exec sleep 600`], env: process.env, ready: () => new Promise(() => undefined) },
        join(dir, 'never-ready.log'),
      );
      await assert.rejects(proc.start(500), /not ready within 500 ms/);
      const pid = Number(await readFile(pidFile, 'utf8'));
      assert.ok(pid > 0);
      const alive = () => {
        try {
          process.kill(pid, 0);
          return true;
        } catch {
          return false;
        }
      };
      for (let i = 0; i < 50 && alive(); i++) await delay(20);
      if (alive()) process.kill(pid, 'SIGKILL');
      assert.equal(alive(), false, `pid ${pid} was left running after the failed start`);
      assert.equal(proc.pid(), undefined);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('startCluster interrupted while starting (Ctrl-C during npm run cluster)', () => {
  it('stops the process it was starting and every one before it, and rejects', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'linkflow-cluster-abort-'));
    const controller = new AbortController();
    const lines: string[] = [];
    try {
      // Interrupted as soon as the Temporal server is being started (PostgreSQL is up by then).
      const starting = startCluster({
        dir,
        ports: 'free',
        signal: controller.signal,
        log: (line) => {
          lines.push(line);
          if (line.startsWith('starting temporal ')) controller.abort();
        },
      });
      await assert.rejects(starting, /interrupted while starting/);
      assert.ok(lines.some((l) => l.startsWith('starting postgres')), lines.join('\n'));
      // Nothing started from this run directory is left running.
      const left = execFileSync('ps', ['-eo', 'pid,args']).toString().split('\n').filter((l) => l.includes(dir));
      assert.deepEqual(left, []);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
