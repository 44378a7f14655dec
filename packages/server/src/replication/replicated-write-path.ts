// The replicated write path: a write is proposed, and its reply is written when its log entry
// is committed and applied. Every node applies every committed entry to its engine with the
// entry's time and seed; only the node that proposed an entry (in that term, at that index)
// sends the result to a client.
//
//   submit (leader) -> encode op with time and seed into the batch (one event-loop turn)
//     -> propose the batch as one entry -> pending[index] = {term, writes} -> ...
//     -> applyEntry(index, term) -> each op: engine.apply into its client's writer
//     -> afterWrite (reply, or park a blocked client)
//
// A pending write ends in exactly one of: its entry applied (the command's own reply); another
// entry applied at its index, or its index dropped from our log (TRYAGAIN: not executed); the
// commit timeout, a snapshot past it, or shutdown (UNKNOWN). No reply claims success for an
// entry that was not applied, that is, committed.

import { performance } from 'node:perf_hooks';
import { BlockRequest, WriteOp } from '@keel/engine';
import { Entry, NONE, NodeId, ProposalDroppedError, Snapshot, SoftState } from '@keel/raft';
import type { Socket } from 'node:net';
import { ReplyWriter } from '@keel/resp';
import { Client, ClientHost } from '../client';
import type { KeelServer, WritePath } from '../server';
import { RaftDriver } from './driver';
import { decodeOps, LoggedOp, OpBatch } from './op-codec';
import * as E from './errors';

export interface WritePathOptions {
  /** How long a proposed write may wait for its commit before it is answered UNKNOWN. */
  commitTimeoutMs?: number;
  /** A batch (one log entry) is proposed early once it holds this many ops or bytes. */
  batchOpsMax?: number;
  batchBytesMax?: number;
  /** The client address of a node, for the READONLY reply. */
  addressOf?(id: NodeId): string | undefined;
  /** False when this node knows it cannot reach a quorum (writes then fail before proposing). */
  quorumReachable?(): boolean;
  /** A write this node proposed was applied `ms` after its proposal (metrics). */
  onCommitted?(ms: number): void;
}

/** One write of a batch, in the order of its op in the entry. */
interface Queued {
  client: Client;
  /** The client's reply slot (see ReplyOrder). */
  slot: number;
  /** The first deadline of a blocked client being retried (see BlockedClients). */
  retryDeadlineMs: number | undefined;
}

/** A proposed entry: its writes, in the order of their ops. */
interface Pending {
  index: number;
  term: number;
  writes: Queued[];
  proposedAtMs: number;
}

/**
 * A client may have several writes in flight (a pipeline of writes is proposed at once, as the
 * log keeps their order). Their outcomes can be known out of order (a write refused before
 * proposing, while an older one is still pending), so each write takes a reply slot when
 * submitted, and each outcome is written in slot order: an early one waits in a side buffer.
 */
class ReplyOrder {
  private next = 0;
  private head = 0;
  private readonly early = new Map<number, { bytes: Buffer | null; finish: () => void }>();

  constructor(private readonly client: Client) {}

  reserve(): number {
    this.client.writesInFlight++;
    return this.next++;
  }

  get idle(): boolean {
    return this.head === this.next;
  }

  /**
   * Ends the write in `slot`: `produce` writes its reply (and applies it, for a committed
   * write: that happens now, in log order, whatever the slot), `finish` runs after its reply
   * is released to the client, in slot order.
   */
  complete(slot: number, produce: (out: ReplyWriter) => void, finish: () => void): void {
    if (slot !== this.head) {
      const scratch = new ReplyWriter();
      scratch.protocol = this.client.protocol;
      produce(scratch);
      this.early.set(slot, { bytes: scratch.take(), finish });
      return;
    }
    produce(this.client.out);
    this.release(finish);
    for (let e = this.early.get(this.head); e !== undefined; e = this.early.get(this.head)) {
      this.early.delete(this.head);
      if (e.bytes !== null) this.client.out.encoded(e.bytes);
      this.release(e.finish);
    }
  }

  private release(finish: () => void): void {
    this.head++;
    this.client.writesInFlight--;
    finish();
  }
}

export class ReplicatedWritePath implements WritePath {
  private readonly commitTimeoutMs: number;
  private readonly batchOpsMax: number;
  private readonly batchBytesMax: number;
  private batch: Queued[] = [];
  private readonly batchOps = new OpBatch();
  private flushScheduled = false;
  /** Proposed, not yet resolved, by index; insertion order is proposal order. */
  private readonly pending = new Map<number, Pending>();
  /** Writes in `pending`. */
  private pendingWrites = 0;
  private lastTimeMs = 0;
  private seed: number;
  private readonly sweepTimer: NodeJS.Timeout;
  /** Applies entries proposed elsewhere; its replies are discarded. */
  private readonly replica: Client;
  private closed = false;
  private readonly orders = new Map<Client, ReplyOrder>();
  readonly stats = { proposals: 0, proposedOps: 0, applied: 0, commitTimeouts: 0, overwritten: 0, refused: 0 };

  constructor(
    private readonly server: KeelServer,
    private readonly driver: RaftDriver,
    private readonly opts: WritePathOptions = {},
  ) {
    this.commitTimeoutMs = opts.commitTimeoutMs ?? 5000;
    this.batchOpsMax = opts.batchOpsMax ?? 4096;
    this.batchBytesMax = opts.batchBytesMax ?? 4 * 1024 * 1024;
    this.seed = (driver.id * 0x9e3779b9) >>> 0;
    this.replica = replicaClient(server.config.protoMaxBulkLen);
    const every = Math.max(5, Math.min(100, Math.floor(this.commitTimeoutMs / 10)));
    this.sweepTimer = setInterval(() => this.expire(), every);
    this.sweepTimer.unref();
  }

  get pendingCount(): number {
    return this.pendingWrites + this.batch.length;
  }

  submit(client: Client, op: WriteOp): void {
    if (!this.driver.isLeader) {
      if (op.kind === 'expire') return; // only the leader expires keys
      this.refuse(client, this.reserve(client), this.notLeaderError());
      return;
    }
    if (this.opts.quorumReachable !== undefined && !this.opts.quorumReachable()) {
      if (op.kind === 'expire') return;
      this.refuse(client, this.reserve(client), E.ERR_NO_QUORUM);
      return;
    }
    // Entry times never go backwards, even if the wall clock does or the leader changes.
    this.lastTimeMs = Math.max(this.lastTimeMs, Date.now());
    this.seed = (Math.imul(this.seed, 1103515245) + 12345) >>> 0;
    this.batchOps.add(op, this.lastTimeMs, this.seed);
    this.batch.push({ client, slot: this.reserve(client), retryDeadlineMs: this.server.blocking.deadlineOnRetry(client) });
    if (isConnection(client)) client.waiting = true;
    if (this.batch.length >= this.batchOpsMax || this.batchOps.bytes >= this.batchBytesMax) {
      this.flush();
    } else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Proposes every op submitted this turn as one entry. */
  private flush(): void {
    this.flushScheduled = false;
    const batch = this.batch;
    if (batch.length === 0) return;
    this.batch = [];
    const data = this.batchOps.take();
    if (this.closed) {
      for (const q of batch) this.refuse(q.client, q.slot, E.errDropped('the node is shutting down'));
      return;
    }
    if (!this.driver.isLeader) {
      const err = this.notLeaderError();
      for (const q of batch) this.refuse(q.client, q.slot, err);
      return;
    }
    let at;
    try {
      at = this.driver.proposeBatch([data]);
    } catch (e) {
      if (!(e instanceof ProposalDroppedError)) throw e;
      this.stats.refused += batch.length;
      const err = E.errDropped(e.message.replace(/^ProposalDropped /, ''));
      for (const q of batch) this.refuse(q.client, q.slot, err);
      return;
    }
    this.stats.proposals++;
    this.stats.proposedOps += batch.length;
    const index = at.firstIndex;
    // An older proposal at this index was cut from our log (a log is only ever cut above its
    // commit index), so it was never committed.
    const old = this.unpend(index);
    if (old !== undefined) this.refuseAll(old, E.ERR_OVERWRITTEN, true);
    this.pending.set(index, { index, term: at.term, writes: batch, proposedAtMs: performance.now() });
    this.pendingWrites += batch.length;
  }

  private unpend(index: number): Pending | undefined {
    const p = this.pending.get(index);
    if (p === undefined) return undefined;
    this.pending.delete(index);
    this.pendingWrites -= p.writes.length;
    return p;
  }

  private refuseAll(p: Pending, err: string, overwritten = false): void {
    if (overwritten) this.stats.overwritten += p.writes.length;
    for (const w of p.writes) this.refuse(w.client, w.slot, err);
  }

  /** Called by the driver for every committed entry, in order, on every node. */
  applyEntry(e: Entry): void {
    let mine = this.unpend(e.index);
    if (mine !== undefined && mine.term !== e.term) {
      // Another leader's entry committed at our index: ours never will be.
      this.refuseAll(mine, E.ERR_OVERWRITTEN, true);
      mine = undefined;
    }
    if (e.type !== 'normal' || e.data.byteLength === 0) {
      if (mine !== undefined) throw new Error(`a write's proposal at ${e.index} applied as a ${e.type} entry`);
      return;
    }
    const ops = decodeOps(e.data);
    if (mine !== undefined && mine.writes.length !== ops.length) {
      throw new Error(`the proposal at ${e.index} held ${mine.writes.length} writes and applied as ${ops.length} ops`);
    }
    const ms = mine === undefined ? 0 : performance.now() - mine.proposedAtMs;
    for (let i = 0; i < ops.length; i++) {
      const w = mine?.writes[i];
      if (w !== undefined) this.opts.onCommitted?.(ms);
      this.applyOp(ops[i]!, e.index, w);
    }
  }

  /** Applies one op of the entry at `index`; `w` is its write when this node proposed it. */
  private applyOp({ op, timeMs, seed }: LoggedOp, index: number, w: Queued | undefined): void {
    this.lastTimeMs = Math.max(this.lastTimeMs, timeMs);
    this.stats.applied++;
    const engine = this.server.engine;
    if (w !== undefined) {
      const client = w.client;
      const retryDeadlineMs = w.retryDeadlineMs;
      client.lastWriteIndex = index;
      if (!isConnection(client)) {
        const blocked = engine.apply(op, client.out, timeMs, seed, client);
        this.afterApply(client, op, blocked, retryDeadlineMs);
        return;
      }
      let blocked: BlockRequest | null = null;
      this.order(client).complete(
        w.slot,
        (out) => {
          blocked = engine.apply(op, out, timeMs, seed, client);
        },
        () => this.finishWrite(client, () => this.afterApply(client, op, blocked, retryDeadlineMs)),
      );
      return;
    }
    const r = this.replica;
    r.db = op.db;
    r.inExec = false;
    const blocked = engine.apply(op, r.out, timeMs, seed, r);
    r.out.take();
    void blocked; // a blocked command changed nothing; its proposer's node parks the client
    this.serveReadyKeys();
  }

  /** As KeelServer.afterWrite, but a retried blocked client keeps its first deadline. */
  private afterApply(client: Client, op: WriteOp, blocked: BlockRequest | null, retryDeadlineMs: number | undefined): void {
    if (blocked !== null && (!isConnection(client) || client.isClosed)) {
      this.serveReadyKeys();
      return;
    }
    this.server.afterWrite(client, op, blocked, retryDeadlineMs);
  }

  private serveReadyKeys(): void {
    const engine = this.server.engine;
    if (engine.readyKeys.length === 0) return;
    const ready = engine.readyKeys;
    engine.readyKeys = [];
    this.server.blocking.serveReady(ready);
  }

  /**
   * A snapshot replaced the state: writes pending at or below its index were either in it or
   * overwritten, and we cannot tell which.
   */
  onSnapshot(s: Snapshot): void {
    for (const p of [...this.pending.values()]) {
      if (p.index > s.metadata.index) continue;
      this.unpend(p.index);
      this.refuseAll(p, E.errUnknown(p.index, p.term, 'a snapshot replaced the log before its outcome was seen here'));
    }
  }

  onSoftState(_ss: SoftState): void {
    // Pending writes survive a change of leader: the entry may still commit (then it applies
    // here and its reply is sent), be overwritten (TRYAGAIN), or time out (UNKNOWN).
  }

  /** Answers UNKNOWN to writes proposed more than the commit timeout ago. */
  private expire(): void {
    const now = performance.now();
    for (const p of this.pending.values()) {
      if (now - p.proposedAtMs < this.commitTimeoutMs) break; // proposal order: the rest are younger
      this.unpend(p.index);
      this.stats.commitTimeouts += p.writes.length;
      this.refuseAll(p, E.errUnknown(p.index, p.term, `was not known to be committed within ${this.commitTimeoutMs} ms`));
    }
  }

  private notLeaderError(): string {
    const lead = this.driver.leader;
    if (lead === NONE) return this.opts.quorumReachable?.() === false ? E.ERR_NO_QUORUM : E.ERR_NO_LEADER;
    return E.errNotLeader(lead, this.opts.addressOf?.(lead));
  }

  /** Replies with an error (in the write's reply slot) and lets the client go on. */
  private refuse(client: Client, slot: number, err: string): void {
    if (!isConnection(client)) {
      client.out.error(err);
      return;
    }
    this.order(client).complete(
      slot,
      (out) => out.error(err),
      () => this.finishWrite(client, () => {
        if (client.waiting) client.resume();
      }),
    );
  }

  /** A write's reply slot; the internal (expiry) client writes nowhere and needs none. */
  private reserve(client: Client): number {
    return isConnection(client) ? this.order(client).reserve() : -1;
  }

  private order(client: Client): ReplyOrder {
    let o = this.orders.get(client);
    if (o === undefined) this.orders.set(client, (o = new ReplyOrder(client)));
    return o;
  }

  /**
   * After a write's reply is released: if the client has more writes in flight it keeps
   * waiting (its output is flushed now); the last one lets it go on (`last`).
   */
  private finishWrite(client: Client, last: () => void): void {
    const o = this.orders.get(client);
    if (o !== undefined && !o.idle) {
      this.serveReadyKeys();
      client.scheduleFlush();
      return;
    }
    this.orders.delete(client);
    last();
  }

  /** Stops: every write still pending gets UNKNOWN (its entry may yet commit elsewhere). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweepTimer);
    this.flush();
    for (const p of [...this.pending.values()]) {
      this.unpend(p.index);
      this.refuseAll(p, E.errUnknown(p.index, p.term, 'the node shut down before its outcome was known'));
    }
  }
}

/** A real connection (not the server's internal client, which has no socket). */
function isConnection(client: Client): boolean {
  return typeof (client as Partial<Client>).resume === 'function';
}

/** A Client with no socket, for applying entries whose proposer is elsewhere. */
function replicaClient(maxBulkBytes: number): Client {
  const socket = {
    setNoDelay() {},
    on() { return this; },
    write() { return true; },
    end() {},
    destroy() {},
    pause() {},
    resume() {},
    writableLength: 0,
    remoteAddress: 'replica',
    remotePort: 0,
    localAddress: 'replica',
    localPort: 0,
  } as unknown as Socket;
  const host: ClientHost = {
    dispatch() { throw new Error('the replica client runs no commands of its own'); },
    onClientClosed() {},
    checkOutput() {},
    canPipeline() { return false; },
    maxQueryBufferBytes: Number.MAX_SAFE_INTEGER,
  };
  return new Client(0, socket, host, false, maxBulkBytes);
}
