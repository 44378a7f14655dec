// Node-to-node transport over TCP. Each node dials one outbound connection to every peer and
// sends its raft messages there; it receives on the connections its peers dialed to it. The
// first frame of a connection is a hello naming the sender, so every inbound message is checked
// against the connection it arrived on.
//
// Delivery is best effort, as raft expects: a message to a peer that is not connected, or whose
// outbound queue (the socket's buffer) is over its bound, is dropped and the peer is reported
// unreachable (raft then probes it gently and retransmits). Outbound connections are re-dialed
// with bounded exponential back-off. A peer going unreachable or reachable is logged once.

import * as net from 'node:net';
import { Message, NodeId } from '@keel/raft';
import { CodecError } from './bytes';
import { decodeFrame, encodeHello, encodeMessage, FrameDecoder, WIRE_VERSION } from './wire';

export interface PeerAddress {
  id: NodeId;
  host: string;
  port: number;
}

export interface TransportLog {
  notice(msg: string): void;
  warning(msg: string): void;
}

export interface TransportOptions {
  id: NodeId;
  /** Where this node listens for its peers. */
  host: string;
  port: number;
  /** The other voters and learners (this node may be listed; it is skipped). */
  peers: PeerAddress[];
  onMessage(m: Message): void;
  onUnreachable(id: NodeId): void;
  /** The outcome of sending a MsgSnap (written to the socket, or dropped). */
  onSnapshotStatus(id: NodeId, ok: boolean): void;
  log: TransportLog;
  /** Bytes queued on one peer's connection beyond which messages are dropped. */
  queueBytesMax?: number;
  backoffMinMs?: number;
  backoffMaxMs?: number;
  connectTimeoutMs?: number;
}

const DEFAULT_QUEUE_BYTES_MAX = 16 * 1024 * 1024;

class PeerLink {
  socket: net.Socket | null = null;
  connected = false;
  /** undefined until the first attempt ends. */
  reachable: boolean | undefined = undefined;
  backoffMs: number;
  timer: NodeJS.Timeout | null = null;
  dropped = 0;

  constructor(readonly addr: PeerAddress, backoffMinMs: number) {
    this.backoffMs = backoffMinMs;
  }
}

export class Transport {
  readonly id: NodeId;
  private readonly opts: TransportOptions;
  private readonly links = new Map<NodeId, PeerLink>();
  private readonly inbound = new Set<net.Socket>();
  private listener: net.Server | null = null;
  private closed = false;
  /** Fault injection (tests): traffic to and from these peers is silently dropped. */
  private readonly cut = new Set<NodeId>();
  private readonly queueBytesMax: number;
  private readonly backoffMinMs: number;
  private readonly backoffMaxMs: number;
  port = 0;

  constructor(opts: TransportOptions) {
    this.opts = opts;
    this.id = opts.id;
    this.queueBytesMax = opts.queueBytesMax ?? DEFAULT_QUEUE_BYTES_MAX;
    this.backoffMinMs = opts.backoffMinMs ?? 50;
    this.backoffMaxMs = opts.backoffMaxMs ?? 2000;
    for (const p of opts.peers) {
      if (p.id !== opts.id) this.links.set(p.id, new PeerLink(p, this.backoffMinMs));
    }
  }

  /** Listens for peers and starts dialing them; resolves with the port bound. */
  async start(): Promise<number> {
    const server = net.createServer((s) => this.onInbound(s));
    this.listener = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.port = (server.address() as net.AddressInfo).port;
    for (const link of this.links.values()) this.dial(link);
    return this.port;
  }

  /** Sends raft messages; any that cannot be queued now are dropped and reported. */
  send(msgs: Message[]): void {
    if (this.closed) return;
    let corked: PeerLink[] | null = null;
    for (const m of msgs) {
      const link = this.links.get(m.to);
      if (link === undefined) {
        this.opts.log.warning(`raft: no address for node ${m.to}; dropped ${m.type}`);
        continue;
      }
      if (this.cut.has(m.to)) continue;
      const frame = encodeMessage(m);
      const s = link.socket;
      if (!link.connected || s === null || s.writableLength + frame.length > this.queueBytesMax) {
        this.drop(link, m);
        continue;
      }
      if (corked === null) corked = [];
      if (!corked.includes(link)) {
        s.cork();
        corked.push(link);
      }
      if (m.type === 'MsgSnap') {
        // TODO(issue 6): snapshots above a few MiB must be sent in chunks and reassembled.
        s.write(frame, (err) => this.opts.onSnapshotStatus(m.to, !err));
      } else {
        s.write(frame);
      }
    }
    if (corked !== null) for (const link of corked) link.socket?.uncork();
  }

  private drop(link: PeerLink, m: Message): void {
    link.dropped++;
    this.opts.onUnreachable(link.addr.id);
    if (m.type === 'MsgSnap') this.opts.onSnapshotStatus(link.addr.id, false);
  }

  /** Whether the outbound connection to a peer is up (this node itself counts as reachable). */
  isReachable(id: NodeId): boolean {
    if (id === this.id) return true;
    const link = this.links.get(id);
    // A partition (cut) is not seen here, as a real one is not at first: only by silence.
    return link !== undefined && link.connected;
  }

  /** Test fault injection: drop all traffic to and from the given peers (a partition). */
  partition(ids: NodeId[]): void {
    for (const id of ids) this.cut.add(id);
  }

  heal(): void {
    this.cut.clear();
  }

  private dial(link: PeerLink): void {
    if (this.closed) return;
    link.timer = null;
    const { host, port, id } = link.addr;
    const s = net.createConnection({ host, port });
    link.socket = s;
    s.setNoDelay(true);
    const connectTimer = setTimeout(() => s.destroy(new Error('connect timed out')), this.opts.connectTimeoutMs ?? 2000);
    s.once('connect', () => {
      clearTimeout(connectTimer);
      s.setKeepAlive(true, 1000);
      s.write(encodeHello({ version: WIRE_VERSION, from: this.id, to: id }));
      link.connected = true;
      link.backoffMs = this.backoffMinMs;
      if (link.reachable !== true) this.opts.log.notice(`raft: peer ${id} (${host}:${port}) is reachable`);
      link.reachable = true;
    });
    // Peers never write on our outbound connection; anything they send is ignored.
    s.on('data', () => {});
    let reason = 'connection closed';
    s.on('error', (err) => {
      reason = err.message;
    });
    s.once('close', () => {
      clearTimeout(connectTimer);
      link.connected = false;
      if (link.socket === s) link.socket = null;
      if (this.closed) return;
      if (link.reachable !== false) {
        this.opts.log.warning(`raft: peer ${id} (${host}:${port}) is unreachable: ${reason}; retrying with back-off up to ${this.backoffMaxMs} ms`);
      }
      link.reachable = false;
      this.opts.onUnreachable(id);
      const jitter = 0.8 + Math.random() * 0.4;
      link.timer = setTimeout(() => this.dial(link), Math.round(link.backoffMs * jitter));
      link.backoffMs = Math.min(this.backoffMaxMs, link.backoffMs * 2);
    });
  }

  private onInbound(s: net.Socket): void {
    if (this.closed) {
      s.destroy();
      return;
    }
    this.inbound.add(s);
    s.setNoDelay(true);
    const decoder = new FrameDecoder();
    let from: NodeId = 0;
    const refuse = (why: string) => {
      this.opts.log.warning(`raft: refused a peer connection from ${s.remoteAddress}:${s.remotePort}: ${why}`);
      s.destroy();
    };
    s.on('data', (chunk: Buffer) => {
      try {
        decoder.feed(chunk, (body) => {
          if (s.destroyed) return;
          const f = decodeFrame(body);
          if (f.kind === 'hello') {
            const h = f.hello;
            if (from !== 0) return refuse('a second hello');
            if (h.version !== WIRE_VERSION) return refuse(`wire version ${h.version}, expected ${WIRE_VERSION}`);
            if (h.to !== this.id) return refuse(`addressed to node ${h.to}, this is node ${this.id}`);
            if (!this.links.has(h.from)) return refuse(`node ${h.from} is not a peer`);
            from = h.from;
            return;
          }
          const m = f.message;
          if (from === 0) return refuse('a message before hello');
          if (m.from !== from || m.to !== this.id) return refuse(`message ${m.from}->${m.to} on the connection from ${from}`);
          if (this.cut.has(from)) return;
          this.opts.onMessage(m);
        });
      } catch (e) {
        // A malformed frame ends the connection; anything else (a raft invariant) is fatal.
        if (!(e instanceof CodecError)) throw e;
        refuse(e.message);
      }
    });
    s.on('error', () => {});
    s.once('close', () => this.inbound.delete(s));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const link of this.links.values()) {
      if (link.timer !== null) clearTimeout(link.timer);
      link.socket?.destroy();
      link.connected = false;
    }
    for (const s of this.inbound) s.destroy();
    this.inbound.clear();
    const l = this.listener;
    this.listener = null;
    if (l) await new Promise<void>((resolve) => l.close(() => resolve()));
  }
}
