// A TCP proxy for one directed node-to-node link (from -> to). Keel's transport sends a node's
// raft messages to a peer only on the connection that node dialed, so blocking the proxy of the
// link i -> j cuts exactly the messages from i to j: a one-way partition. While blocked, the
// proxy destroys its open connections and refuses new ones (accepts and closes at once).

import * as net from 'node:net';

export class LinkProxy {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  blocked = false;
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
    client.pipe(upstream);
    upstream.pipe(client);
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
