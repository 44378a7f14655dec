// The raft driver: owns a RawNode and runs it against real time, a LogStore and a transport.
//
// Ticks are counted from a monotonic clock (performance.now): each timer callback runs every
// tick that is due, so after a pause of the process the missed ticks run first (the lease and
// CheckQuorum rely on ticks tracking real time; see packages/raft/README.md).
//
// After every step, proposal, read request or tick, it handles Ready in the order of the raft
// contract: 1. persist (await the store), 2. send, 3. apply the snapshot and the committed
// entries, serve read states, 4. advance. Nothing uncommitted is ever handed to the state
// machine.

import { performance } from 'node:perf_hooks';
import {
  ConfChangeV2,
  EMPTY_BYTES,
  decodeConfChange,
  Entry,
  Message,
  NodeId,
  NONE,
  ProposalDroppedError,
  RandomSource,
  RawNode,
  ReadOnlyOption,
  ReadState,
  Snapshot,
  SoftState,
  assert,
  seededRandom,
} from '@keel/raft';
import { BOOTSTRAP_HARD_STATE, bootstrapSnapshot, isFresh, LogStore } from './log-store';

/** What the driver hands committed state to. */
export interface StateMachine {
  /** Every committed entry, in log order, on every node (normal, empty and conf change). */
  applyEntry(e: Entry): void;
  /**
   * Replaces the whole state with a snapshot's (a follower that fell behind the log). The
   * store holds the snapshot when this is called; its payload is in `s.data`, or, if that is
   * empty, in the store's snapshot file. The driver waits for it before applying anything else.
   */
  restoreSnapshot(s: Snapshot): void | Promise<void>;
  /** ReadIndex results, after the committed entries of the same Ready were applied. */
  onReadStates(states: ReadState[]): void;
  /** The leader or this node's role changed. */
  onSoftState(ss: SoftState): void;
  /** After each Ready's entries were applied, between two applies (a snapshot may start here). */
  afterApply?(): void;
}

export interface DriverLog {
  notice(msg: string): void;
  warning(msg: string): void;
}

export interface DriverOptions {
  id: NodeId;
  /** The voters of a new shard (used only when the store is empty). */
  voters: NodeId[];
  /** The state machine's encoding of its empty state: the bootstrap snapshot's payload. */
  emptyState?: Uint8Array;
  /** The bootstrap snapshot's metadata context (the member book). */
  bootstrapContext?: string;
  /**
   * A node joining a running shard: an empty store is left empty (no configuration, so this
   * node never campaigns) until the leader, having added it, sends it a snapshot.
   */
  join?: boolean;
  store: LogStore;
  send(msgs: Message[]): void;
  stateMachine: StateMachine;
  log: DriverLog;
  tickMs?: number;
  electionTimeoutTicks?: number;
  heartbeatTimeoutTicks?: number;
  readOnlyOption?: ReadOnlyOption;
  random?: RandomSource;
  /** Bound on the payload of proposed but uncommitted entries; beyond it proposals are refused. */
  maxUncommittedEntriesSizeBytes?: number;
  maxSizePerMsgBytes?: number;
  maxInflightMsgs?: number;
  /** Called when the node cannot go on (the store failed, an invariant broke). */
  onFatal?(err: Error): void;
}

/** Where a proposed batch landed in the log. */
export interface Placement {
  firstIndex: number;
  term: number;
}

export class RaftDriver {
  readonly node: RawNode;
  readonly tickMs: number;
  private readonly opts: DriverOptions;
  private timer: NodeJS.Timeout | null = null;
  private startedAtMs = 0;
  private ticks = 0;
  private draining = false;
  private scheduled = false;
  private stopped = false;
  private fatal: Error | null = null;
  /** Highest index handed to the state machine. */
  applied: number;

  private constructor(opts: DriverOptions) {
    this.opts = opts;
    this.tickMs = opts.tickMs ?? 100;
    const snapIndex = opts.store.snapshot().metadata.index;
    this.applied = snapIndex;
    this.node = new RawNode({
      id: opts.id,
      electionTimeoutTicks: opts.electionTimeoutTicks ?? 10,
      heartbeatTimeoutTicks: opts.heartbeatTimeoutTicks ?? 1,
      storage: opts.store,
      random: opts.random ?? seededRandom((Math.random() * 2 ** 32) >>> 0),
      applied: snapIndex,
      checkQuorum: true,
      preVote: true,
      readOnlyOption: opts.readOnlyOption ?? 'safe',
      maxUncommittedEntriesSizeBytes: opts.maxUncommittedEntriesSizeBytes ?? 64 * 1024 * 1024,
      maxSizePerMsgBytes: opts.maxSizePerMsgBytes ?? 1024 * 1024,
      maxInflightMsgs: opts.maxInflightMsgs ?? 256,
      logger: { info: () => {} },
    });
  }

  /**
   * Opens a driver on a store. A store with nothing in it is bootstrapped with the shard's
   * voters and the empty state. The caller has restored the state machine from the store's
   * snapshot (applied = its index); raft then hands back the committed entries after it.
   */
  static async open(opts: DriverOptions): Promise<RaftDriver> {
    if (isFresh(opts.store) && opts.join !== true) {
      const snapshot = bootstrapSnapshot(opts.voters, opts.emptyState ?? EMPTY_BYTES, opts.bootstrapContext);
      await opts.store.persist({ snapshot, hardState: BOOTSTRAP_HARD_STATE, mustSync: true });
    }
    return new RaftDriver(opts);
  }

  /** Starts the tick timer. */
  start(): void {
    assert(this.timer === null, 'driver started twice');
    this.startedAtMs = performance.now();
    this.timer = setInterval(() => this.onTimer(), this.tickMs);
    this.schedule();
  }

  private onTimer(): void {
    if (this.stopped) return;
    const due = Math.floor((performance.now() - this.startedAtMs) / this.tickMs);
    const missed = due - this.ticks;
    if (missed <= 0) return;
    if (missed > 5) this.opts.log.warning(`raft: the event loop was blocked for about ${missed * this.tickMs} ms; running ${missed} missed ticks`);
    for (let i = 0; i < missed; i++) this.node.tick();
    this.ticks = due;
    this.schedule();
  }

  get id(): NodeId {
    return this.node.id;
  }

  /** Ticks run since start(). */
  get ticksElapsed(): number {
    return this.ticks;
  }

  get isLeader(): boolean {
    return this.node.isLeader;
  }

  /** The leader this node knows of, or NONE. */
  get leader(): NodeId {
    return this.node.lead;
  }

  get term(): number {
    return this.node.raft.term;
  }

  get commitIndex(): number {
    return this.node.raft.raftLog.committed;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /** A message from a peer. */
  step(m: Message): void {
    if (this.stopped) return;
    this.node.step(m);
    this.schedule();
  }

  /**
   * Proposes entries on the leader, appended together; returns where they landed. Throws
   * ProposalDroppedError if raft refused them (not leader, transfer, backpressure).
   */
  proposeBatch(datas: Uint8Array[]): Placement {
    assert(datas.length > 0, 'empty proposal batch');
    if (this.stopped) throw new ProposalDroppedError('the node is stopping');
    if (!this.node.isLeader) throw new ProposalDroppedError('not the leader');
    const log = this.node.raft.raftLog;
    const before = log.lastIndex();
    const term = this.node.raft.term;
    this.node.proposeBatch(datas);
    // A leader appends a proposal at once, at the end of its log, in its own term.
    assert(log.lastIndex() === before + datas.length, () => `proposal of ${datas.length} landed at ${before}..${log.lastIndex()}`);
    assert(log.term(before + 1) === term && this.node.raft.term === term, 'proposal appended in another term');
    this.schedule();
    return { firstIndex: before + 1, term };
  }

  /**
   * Proposes a configuration change on the leader; returns where it landed. Raft may still
   * refuse it (another change pending, no entry of the term committed yet): the entry then
   * applies as an empty normal entry instead. Throws ProposalDroppedError as proposeBatch.
   */
  proposeConfChange(cc: ConfChangeV2): Placement {
    if (this.stopped) throw new ProposalDroppedError('the node is stopping');
    if (!this.node.isLeader) throw new ProposalDroppedError('not the leader');
    const log = this.node.raft.raftLog;
    const before = log.lastIndex();
    const term = this.node.raft.term;
    this.node.proposeConfChange(cc);
    assert(log.lastIndex() === before + 1, () => `conf change landed at ${before}..${log.lastIndex()}`);
    this.schedule();
    return { firstIndex: before + 1, term };
  }

  /** Requests a read index for ctx; throws ProposalDroppedError when no leader is known. */
  readIndex(ctx: Uint8Array): void {
    if (this.stopped) throw new ProposalDroppedError('the node is stopping');
    if (this.node.lead === NONE) throw new ProposalDroppedError('no leader');
    this.node.readIndex(ctx);
    this.schedule();
  }

  reportUnreachable(id: NodeId): void {
    if (this.stopped) return;
    this.node.reportUnreachable(id);
  }

  reportSnapshot(id: NodeId, ok: boolean): void {
    if (this.stopped) return;
    this.node.reportSnapshot(id, ok);
    this.schedule();
  }

  /** Starts an election now (a shard of one need not wait for its election timeout). */
  campaign(): void {
    if (this.stopped) return;
    this.node.campaign();
    this.schedule();
  }

  transferLeader(to: NodeId): void {
    this.node.transferLeader(to);
    this.schedule();
  }

  /** Handles Ready at the end of this turn's current task (after a whole chunk of messages). */
  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    if (this.draining || this.stopped) return;
    this.draining = true;
    try {
      while (!this.stopped && this.node.hasReady()) await this.handleReady();
    } catch (e) {
      this.die(e as Error);
    } finally {
      this.draining = false;
    }
  }

  private async handleReady(): Promise<void> {
    const rd = this.node.ready();
    const sm = this.opts.stateMachine;
    if (rd.softState !== undefined) sm.onSoftState(rd.softState);
    // 1. Persist: nothing is sent or applied before the store says it holds this Ready.
    if (rd.hardState !== undefined || rd.entries.length > 0 || rd.snapshot !== undefined) {
      await this.opts.store.persist({ hardState: rd.hardState, entries: rd.entries, snapshot: rd.snapshot, mustSync: rd.mustSync });
      if (this.stopped) return; // never advance (or send) after stop(): the node is gone
    }
    // 2. Send.
    if (rd.messages.length > 0) this.opts.send(rd.messages);
    // 3. Apply.
    if (rd.snapshot !== undefined) {
      await sm.restoreSnapshot(rd.snapshot);
      if (this.stopped) return;
      this.applied = rd.snapshot.metadata.index;
    }
    for (const e of rd.committedEntries) {
      assert(e.index === this.applied + 1, () => `applying ${e.index} after ${this.applied}`);
      assert(e.index <= this.commitIndex, () => `entry ${e.index} is not committed (commit ${this.commitIndex})`);
      if (e.type === 'confChange') {
        const cs = this.node.applyConfChange(decodeConfChange(e.data));
        this.opts.log.notice(`raft: configuration is now voters=${cs.voters.join(',')} learners=${cs.learners.join(',')}`);
      }
      sm.applyEntry(e);
      this.applied = e.index;
    }
    if (rd.snapshot !== undefined || rd.committedEntries.length > 0) sm.afterApply?.();
    if (rd.readStates.length > 0) sm.onReadStates(rd.readStates);
    // 4. Advance.
    this.node.advance();
  }

  private die(err: Error): void {
    if (this.fatal !== null) return;
    this.fatal = err;
    this.opts.log.warning(`raft: node ${this.id} stops: ${err.stack ?? err.message}`);
    this.stop();
    if (this.opts.onFatal) this.opts.onFatal(err);
  }

  /** Stops ticking and handling; an in-flight persist completes but nothing follows it. */
  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}
