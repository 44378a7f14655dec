// The raft driver: owns a RawNode and runs it against real time, a LogStore and a transport.
//
// Ticks are counted from a monotonic clock (performance.now): each timer callback runs every
// tick that is due, so after a pause of the process the missed ticks run first (the lease and
// CheckQuorum rely on ticks tracking real time; see packages/raft/README.md).
//
// After every step, proposal, read request or tick, it takes raft's Ready and handles it in
// the order of the raft contract, pipelined: persist() is issued at once and raft advances,
// so the next Ready can be taken (and its entries queued for the next fsync) while this one
// is still being synced; then, in order, one Ready after the other: apply the snapshot and
// the committed entries once they are in the store, serve read states, and send the messages
// once the Ready is persisted. Nothing uncommitted is ever handed to the state machine, and
// nothing is sent that claims more than the store holds.

import { performance } from 'node:perf_hooks';
import {
  ConfState,
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
  Ready,
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

/**
 * How many Readys may be taken before the first of them completed. Each is one persist() the
 * store groups into its next batch; the bound only keeps a stalled store from queueing
 * without end (raft's own limits bound what a Ready holds).
 */
const MAX_READY_IN_FLIGHT = 64;

/** The messages a leader sends that depend on nothing in its own storage being durable. */
const LEADER_MESSAGES: ReadonlySet<string> = new Set(['MsgApp', 'MsgHeartbeat', 'MsgSnap', 'MsgTimeoutNow', 'MsgReadIndexResp']);

/** A store write in flight: the lowest log index it writes (0: a snapshot; Infinity: none). */
interface Write {
  lowestIndex: number;
  done: Promise<void>;
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
  /** Readys taken whose handling has not completed (bounded by MAX_READY_IN_FLIGHT). */
  private inFlight = 0;
  /**
   * Two lanes, each in Ready order: the apply lane (state, committed entries, read states) and
   * the send lane (messages, each Ready's once its writes and all before them are durable).
   * Applying never waits for a newer Ready's fsync, nor sending for applying.
   */
  private applyLane: Promise<void> = Promise.resolve();
  private sendLane: Promise<void> = Promise.resolve();
  /** The last store write issued (writes complete in order). */
  private lastWrite: Promise<void> = Promise.resolve();
  /** Term and vote of the last hard state handed to the store. */
  private sentTerm = 0;
  private sentVote = 0;
  /** Store writes issued and not yet done, in order. */
  private readonly writes: Write[] = [];
  private scheduled = false;
  private stopped = false;
  private fatal: Error | null = null;
  /** Highest index handed to the state machine. */
  applied: number;
  /** The configuration as of `applied` (what a snapshot at `applied` records). */
  appliedConfState: ConfState;

  private constructor(opts: DriverOptions) {
    this.opts = opts;
    this.tickMs = opts.tickMs ?? 100;
    const snapIndex = opts.store.snapshot().metadata.index;
    this.applied = snapIndex;
    this.appliedConfState = opts.store.snapshot().metadata.confState;
    const hs = opts.store.initialState().hardState;
    this.sentTerm = hs.term;
    this.sentVote = hs.vote;
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
      leaderAwaitsOwnAppend: true,
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
      this.drain();
    });
  }

  /**
   * Takes every Ready raft has, without waiting for the store: each one's persist() is
   * issued at once (the store's view changes synchronously, so raft may go on reading it) and
   * the rest of its handling is queued behind the Readys before it, in two lanes. The store
   * writes whatever arrived while its previous write was syncing as one batch, so the next
   * fsync runs while this one's entries are applied and replied to: CPU work and fsyncs
   * overlap instead of taking turns.
   */
  private drain(): void {
    try {
      while (!this.stopped && this.inFlight < MAX_READY_IN_FLIGHT && this.node.hasReady()) this.take();
    } catch (e) {
      this.die(e as Error);
    }
  }

  private take(): void {
    const rd = this.node.ready();
    // 1. Persist (issued now; the lanes wait for it before sending or applying).
    let persisted: Promise<void> | null = null;
    if (rd.hardState !== undefined || rd.entries.length > 0 || rd.snapshot !== undefined) {
      persisted = this.opts.store.persist({ hardState: rd.hardState, entries: rd.entries, snapshot: rd.snapshot, mustSync: rd.mustSync });
      const lowest = rd.snapshot !== undefined ? 0 : rd.entries.length > 0 ? rd.entries[0].index : Infinity;
      const w: Write = { lowestIndex: lowest, done: persisted };
      this.writes.push(w);
      const last = rd.entries.length > 0 ? rd.entries[rd.entries.length - 1] : undefined;
      persisted.then(
        () => {
          this.writes.splice(this.writes.indexOf(w), 1);
          if (last === undefined || this.stopped) return;
          // A leader counts its own entries once they are durable (raft's
          // leaderAwaitsOwnAppend): that may commit them.
          this.node.ownAppendDurable(last.index, last.term);
          this.schedule();
        },
        () => undefined, // the lanes see the failure
      );
    }
    // Conf changes take effect in raft as they are handed out, so that raft's applied index
    // (advanced below) and its configuration agree: a new conf change is checked against the
    // configuration it follows. The state machine sees each entry later, in order; the
    // configuration as of its applied index is kept for its snapshots (appliedConfState).
    const confStates: Array<[number, ConfState]> = [];
    for (const e of rd.committedEntries) {
      if (e.type !== 'confChange') continue;
      const cs = this.node.applyConfChange(decodeConfChange(e.data));
      confStates.push([e.index, cs]);
      this.opts.log.notice(`raft: configuration is now voters=${cs.voters.join(',')} learners=${cs.learners.join(',')}`);
    }
    // The committed entries must be in this node's store before they are applied: wait for
    // the last write in flight that holds any of them (writes complete in order).
    let committedDurable: Promise<void> | null = null;
    if (rd.committedEntries.length > 0) {
      const hi = rd.committedEntries[rd.committedEntries.length - 1].index;
      for (let k = this.writes.length - 1; k >= 0; k--) {
        if (this.writes[k].lowestIndex <= hi) {
          committedDurable = this.writes[k].done;
          break;
        }
      }
    }
    // 4. Advance: raft may produce the next Ready while this one completes.
    this.node.advance();
    this.inFlight++;
    const durable = persisted ?? this.lastWrite;
    if (persisted !== null) this.lastWrite = persisted;
    // A leader's appends, heartbeats, snapshots and read-index answers leave at once, before
    // its own write completes: they claim nothing about its storage (its term and vote were
    // durable before it could win the votes that made it leader, and its commit index counts
    // only durable copies, its own included). Everything else (votes, append
    // acknowledgements, anything of a Ready that changes the term or the vote) waits.
    let late = rd.messages;
    const termOrVoteChanged = rd.hardState !== undefined && (rd.hardState.term !== this.sentTerm || rd.hardState.vote !== this.sentVote);
    if (rd.hardState !== undefined) {
      this.sentTerm = rd.hardState.term;
      this.sentVote = rd.hardState.vote;
    }
    if (!termOrVoteChanged && late.length > 0) {
      const early = late.filter((m) => LEADER_MESSAGES.has(m.type));
      if (early.length > 0) {
        late = late.filter((m) => !LEADER_MESSAGES.has(m.type));
        this.opts.send(early);
      }
    }
    const applied = this.applyLane.then(() => this.applyReady(rd, persisted, committedDurable, confStates));
    // 2. Send, once this Ready (and so every one before it) is persisted: a vote, an append
    // acknowledgement or an entry a leader counts itself as holding is never sent before it
    // is on disk.
    const sent = this.sendLane.then(() => durable).then(() => {
      if (!this.stopped && late.length > 0) this.opts.send(late);
    });
    this.applyLane = applied.catch((e: Error) => this.die(e));
    this.sendLane = sent.catch((e: Error) => this.die(e));
    void Promise.allSettled([applied, sent]).then(() => {
      this.inFlight--;
      if (this.node.hasReady()) this.schedule();
    });
  }

  /** The state machine's part of one Ready, in order after the Readys before it. */
  private async applyReady(rd: Ready, persisted: Promise<void> | null, committedDurable: Promise<void> | null, confStates: Array<[number, ConfState]>): Promise<void> {
    if (this.stopped) return;
    const sm = this.opts.stateMachine;
    if (rd.softState !== undefined) sm.onSoftState(rd.softState);
    // 3. Apply: a snapshot waits for its own write; entries for the writes that hold them.
    if (rd.snapshot !== undefined) {
      await persisted;
      if (this.stopped) return; // never apply (or send) after stop(): the node is gone
      await sm.restoreSnapshot(rd.snapshot);
      if (this.stopped) return;
      this.applied = rd.snapshot.metadata.index;
      this.appliedConfState = rd.snapshot.metadata.confState;
    }
    if (committedDurable !== null) {
      await committedDurable;
      if (this.stopped) return;
    }
    let c = 0;
    for (const e of rd.committedEntries) {
      assert(e.index === this.applied + 1, () => `applying ${e.index} after ${this.applied}`);
      assert(e.index <= this.commitIndex, () => `entry ${e.index} is not committed (commit ${this.commitIndex})`);
      if (c < confStates.length && confStates[c][0] === e.index) this.appliedConfState = confStates[c++][1];
      sm.applyEntry(e);
      this.applied = e.index;
    }
    if (rd.snapshot !== undefined || rd.committedEntries.length > 0) sm.afterApply?.();
    if (rd.readStates.length > 0) sm.onReadStates(rd.readStates);
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
