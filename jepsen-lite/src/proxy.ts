// A TCP proxy for one directed node-to-node link (from -> to). Keel's transport sends a node's
// raft messages to a peer only on the connection that node dialed, so blocking the proxy of the
// link i -> j cuts exactly the messages from i to j: a one-way partition. While blocked, the
// proxy destroys its open connections and refuses new ones (accepts and closes at once).
// A slow link holds every chunk for delayMs before passing it on, in order (a stream cannot
// reorder or drop bytes; a slow link is how TCP shows a lossy or congested one).

import * as net from 'node:net';
import { performance } from 'node:perf_hooks';

export class LinkProxy {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  blocked = false;
  /** Added latency, ms, each way. */
  delayMs = 0;
  port = 0;

  constructor(readonly from: number, readonly to: number, private readonly host: string, private readonly targetPort: number) {}

  async start(port = 0): Promise<number> {
    const server = net.createServer((client) => this.onConnection(client));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.host, () => resolve());
    });
    this.port = (server.address() as net.AddressInfo).port;
    return this.port;
  }

  private onConnection(client: net.Socket): void {
    client.on('error', () => {});
    if (this.blocked) {
      client.destroy();
      return;
    }
    const upstream = net.createConnection({ host: this.host, port: this.targetPort });
    upstream.on('error', () => {});
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    this.sockets.add(client);
    this.sockets.add(upstream);
    const done = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('close', done);
    upstream.on('close', done);
    this.forward(client, upstream);
    this.forward(upstream, client);
  }

  /**
   * src's bytes to dst, each chunk held until delayMs after it arrived, and never before a chunk
   * that arrived earlier (one queue and one timer a direction: timers of different lengths that
   * expire together fire in no promised order).
   */
  private forward(src: net.Socket, dst: net.Socket): void {
    const queue: Array<{ dueMs: number; chunk: Buffer }> = [];
    let timer: NodeJS.Timeout | null = null;
    const drain = () => {
      timer = null;
      const now = performance.now();
      while (queue.length > 0 && queue[0]!.dueMs <= now) {
        const { chunk } = queue.shift()!;
        if (!dst.destroyed) dst.write(chunk);
      }
      if (queue.length > 0) timer = setTimeout(drain, Math.max(1, queue[0]!.dueMs - now));
    };
    src.on('data', (chunk: Buffer) => {
      if (this.delayMs === 0 && queue.length === 0) {
        dst.write(chunk);
        return;
      }
      const now = performance.now();
      const last = queue.length > 0 ? queue[queue.length - 1]!.dueMs : 0;
      queue.push({ dueMs: Math.max(now + this.delayMs, last), chunk });
      if (timer === null) timer = setTimeout(drain, Math.max(1, queue[0]!.dueMs - now));
    });
    src.on('close', () => {
      if (timer !== null) clearTimeout(timer);
      queue.length = 0;
    });
  }

  block(): void {
    this.blocked = true;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  unblock(): void {
    this.blocked = false;
  }

  async close(): Promise<void> {
    this.block();
    const s = this.server;
    this.server = null;
    if (s !== null) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
