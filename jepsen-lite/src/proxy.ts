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
    ({ server: this.server, port: this.port } = await listenOn(this.host, port, (client) => this.onConnection(client)));
    return this.port;
  }

  private onConnection(client: net.Socket): void {
    this.adopt(client, Buffer.alloc(0));
  }

  /**
   * Takes over a connection accepted elsewhere (a HelloRouter), whose first bytes `head` were
   * already read from it: they are passed on first, as every later chunk, by this link's rules.
   */
  adopt(client: net.Socket, head: Buffer): void {
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
    this.forward(client, upstream, head);
    this.forward(upstream, client);
    client.resume();
  }

  /**
   * src's bytes to dst, each chunk held until delayMs after it arrived, and never before a chunk
   * that arrived earlier (one queue and one timer a direction: timers of different lengths that
   * expire together fire in no promised order).
   */
  private forward(src: net.Socket, dst: net.Socket, head?: Buffer): void {
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
    const push = (chunk: Buffer) => {
      if (this.delayMs === 0 && queue.length === 0) {
        dst.write(chunk);
        return;
      }
      const now = performance.now();
      const last = queue.length > 0 ? queue[queue.length - 1]!.dueMs : 0;
      queue.push({ dueMs: Math.max(now + this.delayMs, last), chunk });
      if (timer === null) timer = setTimeout(drain, Math.max(1, queue[0]!.dueMs - now));
    };
    if (head !== undefined && head.length > 0) push(head);
    src.on('data', push);
    src.on('close', () => {
      if (timer !== null) clearTimeout(timer);
      queue.length = 0;
    });
  }

  /** Connections open through this link now (each counted once: the accepted side). */
  get connections(): number {
    return this.sockets.size / 2;
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

/** Where a HelloRouter sends a connection: a link's proxy, a port directly, or nowhere (closed). */
export type Route = { link: LinkProxy } | { port: number } | null;

/** Bytes a hello takes at most: u32 length, u8 frame type, u8 version, two varints of up to 8 bytes. */
const HELLO_BYTES_MAX = 4 + 1 + 1 + 8 + 8;
const HELLO_WAIT_MS = 5000;

/**
 * Reads the hello that opens every Keel node-to-node connection (packages/server/src/replication/
 * wire.ts: u32 length, u8 1, u8 version, varint from, varint to) or null if `buf` does not hold
 * a whole one yet; throws if it is not a hello.
 */
export function parseHello(buf: Buffer): { from: number; to: number } | null {
  if (buf.length < 6) return null;
  if (buf[4] !== 1) throw new Error(`not a hello: frame type ${buf[4]}`);
  let pos = 6;
  const varint = (): number | null => {
    let v = 0;
    let mul = 1;
    for (let k = 0; k < 8; k++) {
      if (pos >= buf.length) return null;
      const b = buf[pos++]!;
      v += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) return v;
      mul *= 0x80;
    }
    throw new Error('not a hello: a varint longer than 8 bytes');
  };
  const from = varint();
  if (from === null) return null;
  const to = varint();
  if (to === null) return null;
  return { from, to };
}

/**
 * One listening port that a node's peers all dial (the address the member book holds for it,
 * which is one address for every peer: a book is replicated). It reads each connection's hello
 * to learn which node dialed which, and hands the connection to that link's LinkProxy, so that
 * blocking and slowing links works per directed link whatever address a node learned from the
 * log. A connection that sends no hello within HELLO_WAIT_MS, or something else, is closed.
 */
export class HelloRouter {
  private server: net.Server | null = null;
  /** Every connection accepted and not yet closed (whoever forwards it now). */
  private readonly accepted = new Set<net.Socket>();
  port = 0;

  constructor(private readonly host: string, private readonly route: (from: number, to: number) => Route) {}

  async start(port = 0): Promise<number> {
    ({ server: this.server, port: this.port } = await listenOn(this.host, port, (client) => this.onConnection(client)));
    return this.port;
  }

  private onConnection(client: net.Socket): void {
    client.on('error', () => {});
    this.accepted.add(client);
    client.once('close', () => this.accepted.delete(client));
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => client.destroy(), HELLO_WAIT_MS);
    const done = () => {
      clearTimeout(timer);
      client.pause();
      client.removeListener('data', onData);
      client.removeListener('close', done);
    };
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      let hello: { from: number; to: number } | null;
      try {
        hello = parseHello(buf);
      } catch {
        done();
        client.destroy();
        return;
      }
      if (hello === null) {
        if (buf.length >= HELLO_BYTES_MAX) (done(), client.destroy());
        return;
      }
      done();
      const r = this.route(hello.from, hello.to);
      if (r === null) client.destroy();
      else if ('link' in r) r.link.adopt(client, buf);
      else pipeDirect(client, buf, this.host, r.port);
    };
    client.on('data', onData);
    client.on('close', done);
  }

  async close(): Promise<void> {
    for (const s of this.accepted) s.destroy();
    this.accepted.clear();
    const s = this.server;
    this.server = null;
    if (s !== null) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

/** A connection passed on to host:port unchanged (for a node no link is kept for). */
function pipeDirect(client: net.Socket, head: Buffer, host: string, port: number): void {
  const upstream = net.createConnection({ host, port });
  upstream.on('error', () => {});
  const done = () => (client.destroy(), upstream.destroy());
  client.on('close', done);
  upstream.on('close', done);
  upstream.write(head);
  client.pipe(upstream);
  upstream.pipe(client);
  client.resume();
}

/** A TCP server on host:port (0: any free port), once it listens. */
async function listenOn(host: string, port: number, onConnection: (client: net.Socket) => void): Promise<{ server: net.Server; port: number }> {
  const server = net.createServer(onConnection);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return { server, port: (server.address() as net.AddressInfo).port };
}
