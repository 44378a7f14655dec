// The application's handle on one Raft node. Drive it with tick/step/propose/readIndex and
// the membership and transfer calls; then, whenever hasReady(), take ready(), handle it in
// the order "persist, then send, then apply" and call advance(). See README.md.

import { ConfChangeV2, encodeConfChange } from './confchange/types';
import { assert, ProposalDroppedError, RaftError } from './errors';
import { Config, Raft } from './raft';
import { ProgressState } from './tracker/progress';
import {
  ConfState,
  EMPTY_BYTES,
  Entry,
  HardState,
  Message,
  NONE,
  NodeId,
  ReadState,
  Snapshot,
  SoftState,
  StateType,
  hardStateEqual,
  isLocalMessage,
  isResponseMessage,
  makeMessage,
} from './types';

export interface Ready {
  /** Present when leader or role changed. Need not be persisted. */
  softState?: SoftState;
  /** Present when changed: persist before sending messages. */
  hardState?: HardState;
  /** ReadIndex results; serve each once applied >= index. */
  readStates: ReadState[];
  /** Entries to append to stable storage (truncating any conflicting suffix) before sending. */
  entries: Entry[];
  /** A snapshot to persist (and then load into the state machine). */
  snapshot?: Snapshot;
  /** Committed entries to apply, in order (after persisting this Ready). */
  committedEntries: Entry[];
  /** Messages to send after persisting this Ready. Delivery may fail; raft retries. */
  messages: Message[];
  /** Whether hardState/entries must be synced to disk (not just written). */
  mustSync: boolean;
}

export interface ProgressStatus {
  match: number;
  next: number;
  state: ProgressState;
  isLearner: boolean;
  recentActive: boolean;
}

export interface Status {
  id: NodeId;
  hardState: HardState;
  softState: SoftState;
  applied: number;
  leadTransferee: NodeId;
  /** Only on the leader. */
  progress?: Map<NodeId, ProgressStatus>;
  config: string;
}

export class RawNode {
  readonly raft: Raft;
  private prevSoftState: SoftState;
  private prevHardState: HardState;
  private pending: Ready | undefined = undefined;

  constructor(config: Config) {
    this.raft = new Raft(config);
    this.prevSoftState = this.raft.softState();
    this.prevHardState = this.raft.hardState();
  }

  get id(): NodeId {
    return this.raft.id;
  }

  tick(): void {
    this.raft.tick();
  }

  /** Starts an election now (used by tests and to speed up a single node's first election). */
  campaign(): void {
    this.raft.step(makeMessage({ type: 'MsgHup', from: this.raft.id }));
  }

  /** Proposes data to be appended; throws ProposalDroppedError if it cannot be. */
  propose(data: Uint8Array): void {
    this.raft.step(makeMessage({ type: 'MsgProp', from: this.raft.id, entries: [{ term: 0, index: 0, type: 'normal', data }] }));
  }

  /** Proposes several entries in one message: they are appended (and replicated) together. */
  proposeBatch(datas: Uint8Array[]): void {
    if (datas.length === 0) return;
    const entries: Entry[] = datas.map((data) => ({ term: 0, index: 0, type: 'normal', data }));
    this.raft.step(makeMessage({ type: 'MsgProp', from: this.raft.id, entries }));
  }

  proposeConfChange(cc: ConfChangeV2): void {
    const data = encodeConfChange(cc);
    this.raft.step(makeMessage({ type: 'MsgProp', from: this.raft.id, entries: [{ term: 0, index: 0, type: 'confChange', data }] }));
  }

  /** Applies a committed conf change entry (call while applying it); returns the new ConfState. */
  applyConfChange(cc: ConfChangeV2): ConfState {
    return this.raft.applyConfChange(cc);
  }

  /** Steps a message received from a peer. */
  step(m: Message): void {
    if (isLocalMessage(m.type)) throw new RaftError('StepLocalMsg', `cannot step local message ${m.type}`);
    if (isResponseMessage(m.type) && !this.raft.trk.progress.has(m.from) && this.raft.state === 'leader') {
      return; // a response from a node that is not a member any more
    }
    try {
      this.raft.step(m);
    } catch (e) {
      // A request from the network that cannot be served (no leader, transfer, backpressure)
      // is dropped silently: its sender learns by timing out. It may even carry our own id
      // (we proposed it as a follower, and it was forwarded back to us), so Raft cannot
      // tell it from a local call; the error is meant for local callers only.
      if (e instanceof ProposalDroppedError) return;
      throw e;
    }
  }

  /**
   * Requests a read index for ctx (unique per request). The result arrives as a ReadState
   * with the same ctx in a later Ready. Throws ProposalDroppedError if no leader is known.
   */
  readIndex(ctx: Uint8Array): void {
    assert(ctx.byteLength > 0, 'readIndex context must not be empty');
    this.raft.step(makeMessage({ type: 'MsgReadIndex', from: this.raft.id, context: ctx }));
  }

  /** Asks the leader to hand leadership to `transferee` (which must be an up-to-date voter). */
  transferLeader(transferee: NodeId): void {
    this.raft.step(makeMessage({ type: 'MsgTransferLeader', from: transferee, context: EMPTY_BYTES }));
  }

  reportUnreachable(id: NodeId): void {
    this.raft.step(makeMessage({ type: 'MsgUnreachable', from: id }));
  }

  /** Reports the outcome of sending a snapshot (including all its chunks) to `id`. */
  reportSnapshot(id: NodeId, ok: boolean): void {
    this.raft.step(makeMessage({ type: 'MsgSnapStatus', from: id, reject: !ok }));
  }

  hasReady(): boolean {
    if (this.pending) return false;
    const r = this.raft;
    const ss = r.softState();
    if (ss.lead !== this.prevSoftState.lead || ss.raftState !== this.prevSoftState.raftState) return true;
    const hs = r.hardState();
    if (!hardStateEqual(hs, this.prevHardState)) return true;
    if (r.raftLog.hasPendingSnapshot()) return true;
    if (r.msgs.length > 0 || r.raftLog.unstable.entries.length > 0 || r.raftLog.hasNextCommittedEntries()) return true;
    return r.readStates.length > 0;
  }

  /**
   * With Config.leaderAwaitsOwnAppend: the entries through `index` (of `term`) handed out in
   * Readys are now durable in this node's storage. A leader counts itself as holding them.
   */
  ownAppendDurable(index: number, term: number): void {
    this.raft.ownAppendDurable(index, term);
  }

  /** Returns what to persist, send and apply. Call advance() after handling it. */
  ready(): Ready {
    assert(this.pending === undefined, 'ready() called again before advance()');
    const r = this.raft;
    const rd: Ready = {
      entries: r.raftLog.unstableEntries(),
      committedEntries: r.raftLog.nextCommittedEntries(),
      messages: r.msgs,
      readStates: r.readStates,
      mustSync: false,
    };
    r.msgs = [];
    r.readStates = [];
    const ss = r.softState();
    if (ss.lead !== this.prevSoftState.lead || ss.raftState !== this.prevSoftState.raftState) {
      rd.softState = ss;
      this.prevSoftState = ss;
    }
    const hs = r.hardState();
    if (!hardStateEqual(hs, this.prevHardState)) rd.hardState = hs;
    if (r.raftLog.unstable.snapshot) rd.snapshot = r.raftLog.unstable.snapshot;
    rd.mustSync =
      rd.entries.length > 0 ||
      (rd.hardState !== undefined && (rd.hardState.term !== this.prevHardState.term || rd.hardState.vote !== this.prevHardState.vote));
    // Invariants of what we hand out: committed entries are contiguous from applied.
    if (rd.committedEntries.length > 0) {
      assert(rd.committedEntries[0].index === Math.max(r.raftLog.applied + 1, r.raftLog.firstIndex()), 'committed entries not contiguous with applied');
      assert(rd.committedEntries[rd.committedEntries.length - 1].index <= hs.commit, 'committed entries beyond commit index');
    }
    this.pending = rd;
    return rd;
  }

  /** Tells the node the last Ready was persisted, sent and applied. */
  advance(): void {
    const rd = this.pending;
    assert(rd !== undefined, 'advance() without ready()');
    this.pending = undefined;
    const r = this.raft;
    if (rd.hardState) this.prevHardState = rd.hardState;
    if (rd.entries.length > 0) {
      const last = rd.entries[rd.entries.length - 1];
      r.raftLog.stableTo(last.index, last.term);
    }
    if (rd.snapshot) r.raftLog.stableSnapTo(rd.snapshot.metadata.index);
    let applied = 0;
    let sizeBytes = 0;
    if (rd.committedEntries.length > 0) {
      applied = rd.committedEntries[rd.committedEntries.length - 1].index;
      for (const e of rd.committedEntries) sizeBytes += e.data.byteLength;
    } else if (rd.snapshot) {
      applied = rd.snapshot.metadata.index;
    }
    if (applied > 0) r.appliedTo(applied, sizeBytes);
  }

  status(): Status {
    const r = this.raft;
    const s: Status = {
      id: r.id,
      hardState: r.hardState(),
      softState: r.softState(),
      applied: r.raftLog.applied,
      leadTransferee: r.leadTransferee,
      config: r.trk.config.toString(),
    };
    if (r.state === 'leader') {
      s.progress = new Map();
      r.trk.visit((id, pr) =>
        s.progress!.set(id, { match: pr.match, next: pr.next, state: pr.state, isLearner: pr.isLearner, recentActive: pr.recentActive }),
      );
    }
    return s;
  }

  get state(): StateType {
    return this.raft.state;
  }

  get lead(): NodeId {
    return this.raft.lead;
  }

  get isLeader(): boolean {
    return this.raft.state === 'leader' && this.raft.lead === this.raft.id && this.raft.lead !== NONE;
  }
}
