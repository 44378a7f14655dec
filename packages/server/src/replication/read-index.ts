// Linearizable reads by ReadIndex (Raft thesis §6.4). The reads that arrive in one event-loop
// turn share one readIndex request; when its ReadState comes back (the leader confirmed with a
// quorum that it still leads, as of a commit index), the batch waits until this node has
// applied that index, then executes. It works on followers too (raft forwards the request to
// the leader), so every node answers reads linearizably.
//
// A deposed or partitioned leader cannot get a quorum's confirmation: its reads wait, then
// fail with TRYAGAIN after the read timeout. They never run on stale state.
//
// The sole voter of a shard of one is the authority: no other node can commit anything, so
// once it leads, has committed an entry of its term and applied everything committed, it
// serves reads at once, with no ReadIndex round (soleVoterMayRead). With more than one voter
// every read goes through ReadIndex.
//
// Lease mode (opt-in, `--lease-reads`; raft's readOnlyOption 'leaseBased'): while the leader's
// lease holds (a quorum acknowledged a heartbeat it sent less than leaseTicks ago; see
// packages/raft/README.md for the clock assumption), it has committed an entry of its term and
// applied everything committed, it serves a read at once, with no ReadIndex round
// (leaseMayRead). Otherwise the read takes the ReadIndex path, where raft may still answer
// from the lease without a heartbeat round.
//
// A session that sent READONLY reads this node's state at once when this node is a follower:
// possibly stale (by as much as this node's applied index lags the leader's commit index), but
// never uncommitted, and expired keys stay hidden.

import { performance } from 'node:perf_hooks';
import { NONE, ProposalDroppedError, ReadState, SoftState } from '@keel/raft';
import type { Client } from '../client';
import type { ReadPath } from '../server';
import { RaftDriver } from './driver';
import * as E from './errors';

interface Read {
  client: Client;
  run: () => void;
}

interface ReadBatch {
  id: number;
  reads: Read[];
  startedAtMs: number;
  /** The read index, once the ReadState came back; -1 before. */
  index: number;
}

export interface ReadPathOptions {
  timeoutMs?: number;
  /** The driver runs raft with readOnlyOption 'leaseBased'. */
  lease?: boolean;
}

export class ReadIndexReads implements ReadPath {
  private readonly timeoutMs: number;
  private batch: Read[] = [];
  private flushScheduled = false;
  private nextId = 1;
  /** Requested, or confirmed and waiting to be applied; by id, in request order. */
  private readonly batches = new Map<number, ReadBatch>();
  private readonly sweepTimer: NodeJS.Timeout;
  private lead = NONE;
  private closed = false;
  private readonly lease: boolean;
  /**
   * requests: ReadIndex requests (one a batch); reads: reads served through them; fastReads:
   * served at once by a sole voter; leaseReads: served at once from the lease; staleReads:
   * READONLY reads served by this node as a follower.
   */
  readonly stats = { requests: 0, reads: 0, timeouts: 0, fastReads: 0, leaseReads: 0, staleReads: 0 };

  constructor(
    private readonly driver: RaftDriver,
    opts: ReadPathOptions = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.lease = opts.lease ?? false;
    this.sweepTimer = setInterval(() => this.expire(), Math.max(5, Math.min(100, Math.floor(this.timeoutMs / 10))));
    this.sweepTimer.unref();
  }

  submit(client: Client, run: () => void): void {
    if (client.readonlyReads && !this.driver.isLeader && !this.closed) {
      this.stats.staleReads++;
      run();
      return;
    }
    if (this.driver.leader === NONE || this.closed) {
      client.out.error(E.ERR_NO_LEADER);
      return;
    }
    if (this.batch.length === 0 && this.soleVoterMayRead()) {
      this.stats.fastReads++;
      run();
      return;
    }
    if (this.batch.length === 0 && this.leaseMayRead()) {
      this.stats.leaseReads++;
      run();
      return;
    }
    this.batch.push({ client, run });
    client.waiting = true;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /**
   * True when this node is the only voter, leads, has committed an entry of its term (so its
   * commit index is the shard's) and has applied through it: its state is the latest committed
   * state, and no other node can change that.
   */
  private soleVoterMayRead(): boolean {
    const r = this.driver.node.raft;
    return this.driver.isLeader && r.trk.isSingleton() && r.committedEntryInCurrentTerm() && this.driver.applied >= this.driver.commitIndex && this.batches.size === 0;
  }

  /**
   * Lease mode: true when this node leads, its lease holds, it has committed an entry of its
   * term and applied through its commit index, with no earlier read still waiting (replies
   * stay in order): no other leader can have committed anything yet, so its state is current.
   */
  private leaseMayRead(): boolean {
    if (!this.lease || !this.driver.isLeader || this.batches.size !== 0) return false;
    const r = this.driver.node.raft;
    return r.committedEntryInCurrentTerm() && this.driver.applied >= this.driver.commitIndex && r.leaseValid();
  }

  private flush(): void {
    this.flushScheduled = false;
    const reads = this.batch;
    if (reads.length === 0) return;
    this.batch = [];
    const b: ReadBatch = { id: this.nextId++, reads, startedAtMs: performance.now(), index: -1 };
    const ctx = Buffer.alloc(12);
    ctx.writeUInt32BE(this.driver.id, 0);
    ctx.writeDoubleBE(b.id, 4);
    try {
      this.driver.readIndex(ctx);
    } catch (e) {
      if (!(e instanceof ProposalDroppedError)) throw e;
      this.fail(b, E.ERR_NO_LEADER);
      return;
    }
    this.stats.requests++;
    this.batches.set(b.id, b);
  }

  /** ReadStates of this node's requests (the driver calls this after applying the Ready). */
  onReadStates(states: ReadState[]): void {
    for (const rs of states) {
      const ctx = Buffer.from(rs.requestCtx.buffer, rs.requestCtx.byteOffset, rs.requestCtx.byteLength);
      if (ctx.length !== 12 || ctx.readUInt32BE(0) !== this.driver.id) continue;
      const b = this.batches.get(ctx.readDoubleBE(4));
      if (b === undefined || b.index >= 0) continue;
      b.index = rs.index;
    }
    this.onApplied(this.driver.applied);
  }

  /** Serves the confirmed batches whose index is applied. */
  onApplied(applied: number): void {
    for (const b of this.batches.values()) {
      if (b.index < 0 || b.index > applied) continue;
      this.batches.delete(b.id);
      this.serve(b);
    }
  }

  /**
   * Raft forgets outstanding read requests when the leader changes: fail those not yet
   * confirmed (a confirmed one stays valid, and is served once applied).
   */
  onSoftState(ss: SoftState): void {
    if (ss.lead === this.lead) return;
    this.lead = ss.lead;
    for (const b of [...this.batches.values()]) {
      if (b.index >= 0) continue;
      this.batches.delete(b.id);
      this.fail(b, E.ERR_READ_LEADER_CHANGED);
    }
  }

  private serve(b: ReadBatch): void {
    for (const r of b.reads) {
      this.stats.reads++;
      if (r.client.isClosed) continue;
      r.run();
      r.client.resume();
    }
  }

  private fail(b: ReadBatch, err: string): void {
    for (const r of b.reads) {
      if (r.client.isClosed) continue;
      r.client.out.error(err);
      r.client.resume();
    }
  }

  private expire(): void {
    const now = performance.now();
    for (const b of this.batches.values()) {
      if (now - b.startedAtMs < this.timeoutMs) break;
      this.batches.delete(b.id);
      this.stats.timeouts++;
      this.fail(b, E.errReadTimeout(this.timeoutMs));
    }
  }

  close(): void {
    this.closed = true;
    clearInterval(this.sweepTimer);
    this.flush();
    for (const b of [...this.batches.values()]) {
      this.batches.delete(b.id);
      this.fail(b, E.errReadTimeout(0));
    }
  }
}
