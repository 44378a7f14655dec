// Node-to-node transport over TCP. Each node dials one outbound connection to every peer and
// sends its raft messages there; it receives on the connections its peers dialed to it. The
// first frame of a connection is a hello naming the sender, so every inbound message is checked
// against the connection it arrived on.
//
// Delivery is best effort, as raft expects: a message to a peer that is not connected, or whose
// outbound queue (the socket's buffer) is over its bound, is dropped and the peer is reported
// unreachable (raft then probes it gently and retransmits). Outbound connections are re-dialed
// with bounded exponential back-off. A peer going unreachable or reachable is logged once.
//
// Snapshots: a MsgSnap whose payload lives in a file (Snapshot.data empty, the WAL's case) is
// streamed: a begin frame with the metadata, the file's verified chunks (waiting for the socket
// to drain, so at most about SNAP_HIGH_WATER_BYTES are queued), an end frame; raft learns the
// outcome when the end frame was written or the stream failed. The receiver writes the chunks
// to its store as they come (one connection's frames are handled in order: the frames after a
// snapshot's begin wait until the chunk before them is written), and steps the MsgSnap once
// the file is complete and synced. A MsgSnap with an inline payload (MemoryLogStore) is one frame.
//
// Membership: setPeers() replaces the peer list when the shard's configuration changes (links
// to new members are dialed, links to and connections from departed ones are closed). A node
// the shard removed that dials a member is answered with a "removed" frame instead of being
// accepted; the dialing side reports it through onRemoved, so a node that missed its own
// removal (the leader stops replicating to it once the removal is applied) learns of it.

import * as net from 'node:net';
import { Message, NodeId, SnapshotMetadata } from '@keel/raft';
import { CodecError } from './bytes';
import type { SnapshotSink } from './log-store';
import { decodeFrame, encodeHello, encodeMessage, encodeRemoved, encodeSnapBegin, encodeSnapChunk, encodeSnapEnd, FrameDecoder, WIRE_VERSION } from './wire';

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
  /** Opens the payload of the snapshot at `index` (for a MsgSnap whose data is empty). */
  openSnapshot?(index: number): Promise<{ chunks(): AsyncIterable<Uint8Array>; close(): Promise<void> }>;
  /** Where a streamed snapshot from the leader is written (DurableStorage.receiveSnapshot). */
  receiveSnapshot?(metadata: SnapshotMetadata): Promise<SnapshotSink>;
  /** A member told this node that the shard removed it (at log index `index`). */
  onRemoved?(by: NodeId, index: number): void;
  log: TransportLog;
  /** Bytes queued on one peer's connection beyond which messages are dropped. */
  queueBytesMax?: number;
  backoffMinMs?: number;
  backoffMaxMs?: number;
  connectTimeoutMs?: number;
}

const DEFAULT_QUEUE_BYTES_MAX = 16 * 1024 * 1024;
/** A streamed snapshot waits for the socket to drain beyond this many queued bytes. */
const SNAP_HIGH_WATER_BYTES = 1024 * 1024;
/** An outbound connection the peer kept this long counts as established (back-off reset, logged reachable). */
const STABLE_CONNECTION_MS = 300;
/** A refused peer connection is logged at most once per peer and reason in this long. */
const REFUSAL_LOG_INTERVAL_MS = 30_000;
/** An inbound connection is paused while this many of its frames wait for the disk. */
const RX_QUEUED_FRAMES_MAX = 64;

class PeerLink {
  socket: net.Socket | null = null;
  connected = false;
  /** undefined until the first attempt ends. */
  reachable: boolean | undefined = undefined;
  backoffMs: number;
  timer: NodeJS.Timeout | null = null;
  dropped = 0;
  /** A snapshot is being streamed on this link. */
  snapshotting = false;
  /** The peer left the shard: never re-dialed. */
  closed = false;

  constructor(readonly addr: PeerAddress, backoffMinMs: number) {
    this.backoffMs = backoffMinMs;
  }
}

export class Transport {
  readonly id: NodeId;
  private readonly opts: TransportOptions;
  private readonly links = new Map<NodeId, PeerLink>();
  /** Inbound connections, with the peer each one's hello named (0 before it). */
  private readonly inbound = new Map<net.Socket, NodeId>();
  /** Nodes the shard removed → the index of their removal: their hellos are answered "removed". */
  private removed = new Map<NodeId, number>();
  private started = false;
  /** Refusal reasons → when last logged (bounded: cleared at 1024). */
  private readonly refusalsLogged = new Map<string, number>();
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
    this.started = true;
    for (const link of this.links.values()) this.dial(link);
    return this.port;
  }

  /**
   * The shard's configuration changed: `peers` are now the members to talk to (this node may be
   * listed; it is skipped), `removed` the nodes removed from the shard. New peers are dialed;
   * the links to departed ones, and their inbound connections, are closed; a peer whose address
   * changed is re-dialed.
   */
  setPeers(peers: PeerAddress[], removed: Map<NodeId, number>): void {
    if (this.closed) return;
    this.removed = new Map(removed);
    const want = new Map(peers.filter((p) => p.id !== this.id).map((p) => [p.id, p]));
    for (const [id, link] of [...this.links]) {
      const p = want.get(id);
      if (p !== undefined && p.host === link.addr.host && p.port === link.addr.port) continue;
      this.links.delete(id);
      this.closeLink(link);
      if (p === undefined) this.opts.log.notice(`raft: node ${id} (${link.addr.host}:${link.addr.port}) is no longer a peer; its link is closed`);
    }
    for (const [id, p] of want) {
      if (this.links.has(id)) continue;
      const link = new PeerLink(p, this.backoffMinMs);
      this.links.set(id, link);
      this.opts.log.notice(`raft: node ${id} (${p.host}:${p.port}) is a peer`);
      if (this.started) this.dial(link);
    }
    for (const [s, from] of this.inbound) if (from !== 0 && !want.has(from)) s.destroy();
  }

  /** The peers this node has links to. */
  peerIds(): NodeId[] {
    return [...this.links.keys()];
  }

  private closeLink(link: PeerLink): void {
    link.closed = true;
    if (link.timer !== null) clearTimeout(link.timer);
    link.timer = null;
    link.socket?.destroy();
    link.socket = null;
    link.connected = false;
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
      if (m.type === 'MsgSnap' && m.snapshot !== undefined && m.snapshot.data.byteLength === 0 && this.opts.openSnapshot !== undefined) {
        void this.streamSnapshot(link, m);
      } else if (m.type === 'MsgSnap') {
        s.write(frame, (err) => this.opts.onSnapshotStatus(m.to, !err));
      } else {
        s.write(frame);
      }
    }
    if (corked !== null) for (const link of corked) link.socket?.uncork();
  }

  /** Streams a snapshot's payload from its file: begin, chunks, end; then reports the outcome. */
  private async streamSnapshot(link: PeerLink, m: Message): Promise<void> {
    const to = m.to;
    const index = m.snapshot!.metadata.index;
    if (link.snapshotting) {
      this.opts.onSnapshotStatus(to, false);
      return;
    }
    link.snapshotting = true;
    const s = link.socket!;
    const live = () => !this.closed && link.socket === s && link.connected && !s.destroyed;
    let src: { chunks(): AsyncIterable<Uint8Array>; close(): Promise<void> } | undefined;
    let ok = false;
    let bytes = 0;
    const t0 = Date.now();
    try {
      src = await this.opts.openSnapshot!(index);
      if (!live()) throw new Error('the connection closed');
      s.write(encodeSnapBegin(m));
      for await (const chunk of src.chunks()) {
        if (s.writableLength > SNAP_HIGH_WATER_BYTES) await drained(s);
        if (!live()) throw new Error('the connection closed');
        s.write(encodeSnapChunk(chunk));
        bytes += chunk.byteLength;
      }
      if (!live()) throw new Error('the connection closed');
      await new Promise<void>((resolve, reject) => s.write(encodeSnapEnd(bytes), (err) => (err ? reject(err) : resolve())));
      ok = true;
      this.opts.log.notice(`raft: sent snapshot ${index} (${bytes} bytes) to node ${to} in ${Date.now() - t0} ms`);
    } catch (e) {
      this.opts.log.warning(`raft: sending snapshot ${index} to node ${to} failed after ${bytes} bytes: ${(e as Error).message}`);
    } finally {
      await src?.close().catch(() => undefined);
      link.snapshotting = false;
      if (!this.closed) this.opts.onSnapshotStatus(to, ok);
    }
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
    if (this.closed || link.closed) return;
    link.timer = null;
    const { host, port, id } = link.addr;
    const s = net.createConnection({ host, port });
    link.socket = s;
    s.setNoDelay(true);
    const connectTimer = setTimeout(() => s.destroy(new Error('connect timed out')), this.opts.connectTimeoutMs ?? 2000);
    let connectedAtMs = 0;
    s.once('connect', () => {
      clearTimeout(connectTimer);
      s.setKeepAlive(true, 1000);
      s.write(encodeHello({ version: WIRE_VERSION, from: this.id, to: id }));
      link.connected = true;
      connectedAtMs = Date.now();
      if (link.reachable === true) return;
      // Reachable once the peer kept the connection a moment: one that closes it at once (it
      // does not know this node yet, e.g. while joining) is re-dialed with growing back-off
      // and logged once, not at every attempt.
      const stable = setTimeout(() => {
        if (link.socket !== s || !link.connected || link.reachable === true) return;
        this.opts.log.notice(`raft: peer ${id} (${host}:${port}) is reachable`);
        link.reachable = true;
      }, STABLE_CONNECTION_MS);
      stable.unref();
    });
    // Peers write on our outbound connection only to say that the shard removed this node.
    const replies = new FrameDecoder(64);
    s.on('data', (chunk: Buffer) => {
      try {
        replies.feed(chunk, (body) => {
          const f = decodeFrame(body);
          if (f.kind !== 'removed') throw new CodecError(`unexpected ${f.kind} frame from node ${id} on an outbound connection`);
          this.opts.log.warning(`raft: node ${id} says the shard removed this node (at log index ${f.index})`);
          this.opts.onRemoved?.(id, f.index);
        });
      } catch (e) {
        if (!(e instanceof CodecError)) throw e;
        s.destroy(e);
      }
    });
    let reason = 'connection closed';
    s.on('error', (err) => {
      reason = err.message;
    });
    s.once('close', () => {
      clearTimeout(connectTimer);
      link.connected = false;
      if (connectedAtMs > 0 && Date.now() - connectedAtMs >= STABLE_CONNECTION_MS) link.backoffMs = this.backoffMinMs;
      if (connectedAtMs > 0 && link.reachable === undefined) reason = 'the peer closed the connection at once (it may not know this node yet: see its log)';
      if (link.socket === s) link.socket = null;
      if (this.closed) return;
      if (link.reachable !== false) {
        this.opts.log.warning(`raft: peer ${id} (${host}:${port}) is unreachable: ${reason}; retrying with back-off up to ${this.backoffMaxMs} ms`);
      }
      link.reachable = false;
      if (link.closed) return;
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
    this.inbound.set(s, 0);
    s.setNoDelay(true);
    const decoder = new FrameDecoder();
    let from: NodeId = 0;
    const refuse = (why: string) => {
      const now = Date.now();
      if ((this.refusalsLogged.get(why) ?? -Infinity) + REFUSAL_LOG_INTERVAL_MS <= now) {
        if (this.refusalsLogged.size >= 1024) this.refusalsLogged.clear();
        this.refusalsLogged.set(why, now);
        this.opts.log.warning(`raft: refused a peer connection from ${s.remoteAddress}:${s.remotePort}: ${why}${/not a peer/.test(why) ? ' (yet: a node being added dials before the change reaches this node; logged once in 30 s)' : ''}`);
      }
      s.destroy();
    };
    // Frames that must wait for the disk (a snapshot being received) and every frame after
    // them run in order on this chain; without a snapshot in flight, frames go straight through.
    let chain: Promise<void> | null = null;
    let queued = 0;
    let rx: { message: Message; sink: SnapshotSink | null; bytes: number; failed: boolean; t0: number } | null = null;
    const later = (f: () => void | Promise<void>) => {
      queued++;
      if (queued >= RX_QUEUED_FRAMES_MAX) s.pause();
      const next: Promise<void> = (chain ?? Promise.resolve()).then(f).finally(() => {
        queued--;
        if (queued < RX_QUEUED_FRAMES_MAX / 2 && !s.destroyed) s.resume();
        if (chain === next) chain = null;
      });
      chain = next;
    };
    const deliver = (m: Message) => {
      if (chain === null) this.opts.onMessage(m);
      else later(() => this.opts.onMessage(m));
    };
    const rxFail = (cur: NonNullable<typeof rx>, why: string) => {
      if (cur.failed) return;
      cur.failed = true;
      this.opts.log.warning(`raft: receiving snapshot ${cur.message.snapshot!.metadata.index} from node ${from} failed: ${why}`);
      const sink = cur.sink;
      if (sink !== null) later(() => sink.abort().catch(() => undefined));
    };
    const onSnapFrame = (kind: 'snapBegin' | 'snapChunk' | 'snapEnd', f: { message?: Message; data?: Uint8Array; totalBytes?: number }) => {
      if (kind === 'snapBegin') {
        if (this.opts.receiveSnapshot === undefined) return refuse('a streamed snapshot, but this node has no snapshot store');
        if (rx !== null) rxFail(rx, 'a new snapshot began before it ended');
        const cur = { message: f.message!, sink: null as SnapshotSink | null, bytes: 0, failed: false, t0: Date.now() };
        rx = cur;
        later(async () => {
          try {
            cur.sink = await this.opts.receiveSnapshot!(cur.message.snapshot!.metadata);
          } catch (e) {
            rxFail(cur, (e as Error).message);
          }
        });
        return;
      }
      const cur = rx;
      if (cur === null) return refuse(`a snapshot ${kind === 'snapChunk' ? 'chunk' : 'end'} outside a snapshot`);
      if (kind === 'snapChunk') {
        cur.bytes += f.data!.byteLength;
        later(async () => {
          if (cur.failed || cur.sink === null) return;
          try {
            await cur.sink.write(f.data!);
          } catch (e) {
            rxFail(cur, (e as Error).message);
          }
        });
        return;
      }
      rx = null;
      if (f.totalBytes !== cur.bytes) rxFail(cur, `the end frame says ${f.totalBytes} bytes, ${cur.bytes} arrived`);
      later(async () => {
        if (cur.failed || cur.sink === null) return;
        try {
          await cur.sink.finish();
        } catch (e) {
          rxFail(cur, (e as Error).message);
          return;
        }
        const meta = cur.message.snapshot!.metadata;
        this.opts.log.notice(`raft: received snapshot ${meta.index} (term ${meta.term}, ${cur.bytes} bytes) from node ${from} in ${Date.now() - cur.t0} ms`);
        if (!this.closed && !this.cut.has(from)) this.opts.onMessage(cur.message);
      });
    };
    s.on('data', (chunk: Buffer) => {
      try {
        decoder.feed(chunk, (body) => {
          if (s.destroyed || s.writableEnded) return; // refused, or told it was removed
          const f = decodeFrame(body);
          if (f.kind === 'hello') {
            const h = f.hello;
            if (from !== 0) return refuse('a second hello');
            if (h.version !== WIRE_VERSION) return refuse(`wire version ${h.version}, expected ${WIRE_VERSION}`);
            if (h.to !== this.id) return refuse(`addressed to node ${h.to}, this is node ${this.id}`);
            const removedAt = this.removed.get(h.from);
            if (removedAt !== undefined) {
              // Tell it, so it stops; it logs that (once per dial: its back-off bounds them).
              s.end(encodeRemoved(removedAt));
              setTimeout(() => s.destroy(), 1000).unref();
              return;
            }
            if (!this.links.has(h.from)) return refuse(`node ${h.from} is not a peer`);
            from = h.from;
            this.inbound.set(s, from);
            // It dialed us, so it is up (and now knows us): re-dial it now rather than after the back-off.
            const back = this.links.get(from);
            if (back !== undefined && !back.connected && back.timer !== null) {
              clearTimeout(back.timer);
              back.backoffMs = this.backoffMinMs;
              this.dial(back);
            }
            return;
          }
          if (from === 0) return refuse('a message before hello');
          if (f.kind === 'snapChunk' || f.kind === 'snapEnd') return onSnapFrame(f.kind, f);
          if (f.kind === 'removed') return refuse('a removed frame on an inbound connection');
          const m = f.message;
          if (m.from !== from || m.to !== this.id) return refuse(`message ${m.from}->${m.to} on the connection from ${from}`);
          if (f.kind === 'snapBegin') return onSnapFrame('snapBegin', f);
          if (this.cut.has(from)) return;
          deliver(m);
        });
      } catch (e) {
        // A malformed frame ends the connection; anything else (a raft invariant) is fatal.
        if (!(e instanceof CodecError)) throw e;
        refuse(e.message);
      }
    });
    s.on('error', () => {});
    s.once('close', () => {
      this.inbound.delete(s);
      if (rx !== null) rxFail(rx, 'the connection closed');
      rx = null;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const link of this.links.values()) this.closeLink(link);
    for (const s of this.inbound.keys()) s.destroy();
    this.inbound.clear();
    const l = this.listener;
    this.listener = null;
    if (l) await new Promise<void>((resolve) => l.close(() => resolve()));
  }
}

/** Resolves when the socket drained its buffer, or closed. */
function drained(s: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      s.off('drain', done);
      s.off('close', done);
      resolve();
    };
    s.on('drain', done);
    s.on('close', done);
  });
}
