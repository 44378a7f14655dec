// The Raft state machine: roles and per-role message handling. No I/O: messages to send
// are queued in `msgs`, and everything to persist or apply is read from the log by RawNode.
// Section numbers refer to the Raft paper (§) and Ongaro's thesis (thesis §).

import { Changer, restoreConfState, ChangeResult } from './confchange/confchange';
import { ConfChangeV2, decodeConfChange, encodeConfChange, enterJoint, isLeaveJoint, leaveJointChange } from './confchange/types';
import { assert, ProposalDroppedError, RaftError } from './errors';
import { RaftLog } from './log';
import { ReadOnly, ReadOnlyOption } from './read-only';
import { RandomSource } from './rand';
import { Storage } from './storage';
import { Progress } from './tracker/progress';
import { ProgressTracker } from './tracker/tracker';
import {
  ConfState,
  EMPTY_BYTES,
  Entry,
  HardState,
  Message,
  MessageType,
  NONE,
  NodeId,
  ReadState,
  Snapshot,
  SoftState,
  StateType,
  entrySizeBytes,
  isEmptyHardState,
  isEmptySnapshot,
  makeMessage,
  payloadsSizeBytes,
  voteResponseType,
} from './types';

export interface Logger {
  info(msg: string): void;
}

export const noopLogger: Logger = { info() {} };

export interface Config {
  id: NodeId;
  /** A follower that hears nothing for a random time in [T, 2T) ticks starts an election. */
  electionTimeoutTicks: number;
  heartbeatTimeoutTicks: number;
  storage: Storage;
  /** The injected random source for election timeouts: returns a float in [0, 1). */
  random: RandomSource;
  /** The last index applied by the application before a restart. */
  applied?: number;
  maxSizePerMsgBytes?: number;
  maxCommittedSizePerReadyBytes?: number;
  /** Bound on the payload bytes of uncommitted entries on the leader (0: none). */
  maxUncommittedEntriesSizeBytes?: number;
  maxInflightMsgs?: number;
  /** Bound on the bytes in flight to one follower (0: none). */
  maxInflightBytes?: number;
  checkQuorum?: boolean;
  preVote?: boolean;
  readOnlyOption?: ReadOnlyOption;
  /**
   * leaseBased only: the bound on clock drift the lease assumes, as a fraction (0.05: any two
   * nodes' tick rates differ by at most 5%). The lease lasts
   * floor((electionTimeoutTicks - 1) * (1 - d) / (1 + d)) - 1 leader ticks from the sending of
   * the newest heartbeat a quorum acknowledged. Default 0.05.
   */
  maxClockDrift?: number;
  /**
   * The leader counts its own entries toward the quorum only once the application reports
   * them durable (RawNode.ownAppendDurable), instead of as soon as they are appended. The
   * application may then send the leader's appends before its own write completes, so the
   * leader's and the followers' fsyncs overlap (thesis §10.2.1; etcd's async storage writes):
   * an entry is committed only when a quorum holds it durably, the leader counted or not.
   * Default false (the leader must persist a Ready before sending its messages).
   */
  leaderAwaitsOwnAppend?: boolean;
  disableProposalForwarding?: boolean;
  logger?: Logger;
}

type CampaignType = 'preElection' | 'election' | 'transfer';

const CAMPAIGN_TRANSFER = new TextEncoder().encode('transfer');

function isTransferContext(ctx: Uint8Array): boolean {
  if (ctx.byteLength !== CAMPAIGN_TRANSFER.byteLength) return false;
  for (let i = 0; i < ctx.byteLength; i++) if (ctx[i] !== CAMPAIGN_TRANSFER[i]) return false;
  return true;
}

const DEFAULT_MAX_CLOCK_DRIFT = 0.05;

/**
 * How many of its own ticks a leader may serve lease reads after sending a heartbeat that a
 * quorum acknowledged. A follower refuses votes for electionTimeout of its ticks after
 * receiving that heartbeat, which takes at least (E - 1) ticks of real time at its rate; the
 * leader's L ticks take at most (L + 1) ticks of real time at its rate. With rates within
 * (1 ± d): (L + 1) / (1 - d) <= (E - 1) / (1 + d).
 */
export function leaseTicksFor(electionTimeoutTicks: number, maxClockDrift: number): number {
  return Math.floor(((electionTimeoutTicks - 1) * (1 - maxClockDrift)) / (1 + maxClockDrift)) - 1;
}

function validateConfig(c: Config): void {
  const bad = (m: string) => {
    throw new RaftError('InvalidConfig', m);
  };
  if (!Number.isSafeInteger(c.id) || c.id <= 0) bad('id must be a positive integer');
  if (c.heartbeatTimeoutTicks <= 0) bad('heartbeat tick must be greater than 0');
  if (c.electionTimeoutTicks <= c.heartbeatTimeoutTicks) bad('election tick must be greater than heartbeat tick');
  if ((c.maxInflightMsgs ?? 256) <= 0) bad('max inflight messages must be greater than 0');
  if (c.readOnlyOption === 'leaseBased' && c.checkQuorum === false) bad('checkQuorum must be enabled when readOnlyOption is leaseBased');
  const d = c.maxClockDrift ?? DEFAULT_MAX_CLOCK_DRIFT;
  if (!(d >= 0 && d < 1)) bad('maxClockDrift must be in [0, 1)');
  if (c.readOnlyOption === 'leaseBased' && leaseTicksFor(c.electionTimeoutTicks, d) < 1) bad('election timeout too short for a lease with this maxClockDrift');
}

export class Raft {
  readonly id: NodeId;
  term = 0;
  vote: NodeId = NONE;
  readStates: ReadState[] = [];
  /**
   * Leader: read index requests answered from a valid lease (no round trip) and those confirmed
   * by a heartbeat round, since this node started (a shard of one counts in neither).
   */
  readonly readIndexCounts = { lease: 0, heartbeat: 0 };
  readonly raftLog: RaftLog;
  readonly maxMsgSizeBytes: number;
  readonly maxUncommittedSizeBytes: number;
  trk: ProgressTracker;
  state: StateType = 'follower';
  isLearner = false;
  msgs: Message[] = [];
  lead: NodeId = NONE;
  /** The id of the transfer target while a leadership transfer is in progress. */
  leadTransferee: NodeId = NONE;
  /** Only one conf change may be pending (in the log, not yet applied) at a time. */
  pendingConfIndex = 0;
  uncommittedSizeBytes = 0;
  readOnly: ReadOnly;
  electionElapsed = 0;
  heartbeatElapsed = 0;
  readonly checkQuorum: boolean;
  readonly preVote: boolean;
  readonly heartbeatTimeout: number;
  readonly electionTimeout: number;
  randomizedElectionTimeout = 0;
  readonly disableProposalForwarding: boolean;
  readonly random: RandomSource;
  readonly logger: Logger;
  /** ReadIndex requests waiting for the leader to commit an entry of its term. */
  pendingReadIndexMessages: Message[] = [];
  private readonly readOnlyOption: ReadOnlyOption;
  private readonly leaderAwaitsOwnAppend: boolean;
  /** leaderAwaitsOwnAppend: the last entry of our log reported durable, and its term. */
  private durableIndex = 0;
  private durableTerm = 0;
  // ---- lease (readOnlyOption 'leaseBased' only) ----
  /** Leader: its tick count in this term, starting at 1; stamped on heartbeats. */
  private leaseClock = 1;
  /** Leader: per voter, the newest leaseClock stamp of a heartbeat it acknowledged. */
  private leaseAcks = new Map<NodeId, number>();
  /** Leader: a MsgTimeoutNow was sent; a forced election ignores the followers' leases. */
  private leaseRevoked = false;
  /**
   * Follower: ticks during which it refuses (pre-)votes, re-armed by every message from the
   * leader and at start (a restarted node cannot know whose lease it was part of).
   * Unlike `lead`, not cleared by learning a higher term.
   */
  private leaseGuardTicks = 0;
  readonly leaseTicks: number;

  constructor(c: Config) {
    validateConfig(c);
    this.id = c.id;
    this.raftLog = new RaftLog(c.storage, c.maxCommittedSizePerReadyBytes ?? 8 * 1024 * 1024);
    this.maxMsgSizeBytes = c.maxSizePerMsgBytes ?? 1024 * 1024;
    const mu = c.maxUncommittedEntriesSizeBytes ?? 0;
    this.maxUncommittedSizeBytes = mu === 0 ? Infinity : mu;
    this.trk = new ProgressTracker(c.maxInflightMsgs ?? 256, c.maxInflightBytes ?? 0);
    this.checkQuorum = c.checkQuorum ?? true;
    this.preVote = c.preVote ?? true;
    this.heartbeatTimeout = c.heartbeatTimeoutTicks;
    this.electionTimeout = c.electionTimeoutTicks;
    this.disableProposalForwarding = c.disableProposalForwarding ?? false;
    this.random = c.random;
    this.logger = c.logger ?? noopLogger;
    this.readOnlyOption = c.readOnlyOption ?? 'safe';
    this.leaderAwaitsOwnAppend = c.leaderAwaitsOwnAppend ?? false;
    this.durableIndex = c.storage.lastIndex();
    this.durableTerm = this.durableIndex === 0 ? 0 : c.storage.term(this.durableIndex);
    this.readOnly = new ReadOnly(this.readOnlyOption);
    this.leaseTicks = leaseTicksFor(this.electionTimeout, c.maxClockDrift ?? DEFAULT_MAX_CLOCK_DRIFT);
    if (this.readOnlyOption === 'leaseBased') this.leaseGuardTicks = this.electionTimeout;

    const { hardState, confState } = c.storage.initialState();
    const cs = this.switchToConfig(restoreConfState(this.trk, this.raftLog.lastIndex(), confState));
    assertConfStatesEquivalent(confState, cs);
    if (!isEmptyHardState(hardState)) this.loadState(hardState);
    if (c.applied !== undefined && c.applied > 0) this.raftLog.appliedTo(c.applied);
    this.becomeFollower(this.term, NONE);
    this.logger.info(
      `newRaft ${this.id} [peers: ${this.trk.voterNodes().join(',')}, term: ${this.term}, commit: ${this.raftLog.committed}, applied: ${this.raftLog.applied}, lastindex: ${this.raftLog.lastIndex()}, lastterm: ${this.raftLog.lastTerm()}]`,
    );
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.raftLog.committed };
  }

  /**
   * leaderAwaitsOwnAppend: this node's log is durable through `index`, whose entry has `term`.
   * A leader now counts itself as holding it (and commits what that completes).
   */
  ownAppendDurable(index: number, term: number): void {
    if (!this.leaderAwaitsOwnAppend) return;
    this.durableIndex = index;
    this.durableTerm = term;
    if (this.state !== 'leader') return;
    const pr = this.trk.progress.get(this.id);
    if (pr !== undefined && pr.maybeUpdate(this.ownDurableMatch()) && this.maybeCommit()) this.bcastAppend();
  }

  /** The highest index of our log known durable (0 if the entry there was since replaced). */
  private ownDurableMatch(): number {
    const i = Math.min(this.durableIndex, this.raftLog.lastIndex());
    // Log matching: the same term at the same index means the same entries up to it.
    return i > 0 && this.raftLog.zeroTermOnOutOfBounds(this.durableIndex) === this.durableTerm ? i : 0;
  }

  softState(): SoftState {
    return { lead: this.lead, raftState: this.state };
  }

  // ---- sending ----

  private send(m: Message): void {
    if (m.from === NONE) m.from = this.id;
    if (m.type === 'MsgVote' || m.type === 'MsgVoteResp' || m.type === 'MsgPreVote' || m.type === 'MsgPreVoteResp') {
      // Votes carry the term of the election they are for, not necessarily ours.
      assert(m.term !== 0, () => `term should be set when sending ${m.type}`);
    } else {
      assert(m.term === 0, () => `term should not be set when sending ${m.type} (was ${m.term})`);
      // Proposals and read requests forwarded to the leader are treated as local messages.
      if (m.type !== 'MsgProp' && m.type !== 'MsgReadIndex') m.term = this.term;
    }
    this.msgs.push(m);
  }

  sendAppend(to: NodeId): void {
    this.maybeSendAppend(to, true);
  }

  /**
   * Sends entries (or a snapshot) to `to` if its flow control allows. With sendIfEmpty false,
   * sends nothing when there are no new entries. Returns whether a message was sent.
   */
  maybeSendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.trk.progress.get(to)!;
    if (pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    let prevTerm: number;
    let ents: Entry[] = [];
    try {
      prevTerm = this.raftLog.term(prevIndex);
      // A full window in replicate state sends only an empty MsgApp, so that replication
      // recovers if every message in the window was lost.
      if (pr.state !== 'replicate' || !pr.inflights.full()) ents = this.raftLog.entries(pr.next, this.maxMsgSizeBytes);
    } catch (e) {
      if (e instanceof RaftError && (e.code === 'Compacted' || e.code === 'Unavailable')) return this.maybeSendSnapshot(to, pr);
      throw e;
    }
    if (ents.length === 0 && !sendIfEmpty) return false;
    let bytes = 0;
    for (const e of ents) bytes += entrySizeBytes(e);
    this.send(makeMessage({ type: 'MsgApp', to, index: prevIndex, logTerm: prevTerm, entries: ents, commit: this.raftLog.committed }));
    pr.sentEntries(ents.length, bytes);
    return true;
  }

  private maybeSendSnapshot(to: NodeId, pr: Progress): boolean {
    if (!pr.recentActive) return false;
    let snapshot: Snapshot;
    try {
      snapshot = this.raftLog.snapshot();
    } catch (e) {
      if (e instanceof RaftError && e.code === 'SnapshotTemporarilyUnavailable') return false;
      throw e;
    }
    assert(!isEmptySnapshot(snapshot), 'need non-empty snapshot');
    const { index, term } = snapshot.metadata;
    this.logger.info(`${this.id} [firstindex: ${this.raftLog.firstIndex()}, commit: ${this.raftLog.committed}] sent snapshot[index: ${index}, term: ${term}] to ${to} [${pr}]`);
    pr.becomeSnapshot(index);
    this.send(makeMessage({ type: 'MsgSnap', to, snapshot }));
    return true;
  }

  private sendHeartbeat(to: NodeId, ctx: Uint8Array): void {
    // Never advance a follower's commit beyond what it is known to hold.
    const commit = Math.min(this.trk.progress.get(to)!.match, this.raftLog.committed);
    // In lease mode the heartbeat carries the leader's tick (echoed back in the response).
    const index = this.readOnlyOption === 'leaseBased' ? this.leaseClock : 0;
    this.send(makeMessage({ type: 'MsgHeartbeat', to, commit, context: ctx, index }));
  }

  bcastAppend(): void {
    this.trk.visit((id) => {
      if (id !== this.id) this.sendAppend(id);
    });
  }

  private bcastHeartbeat(): void {
    const ctx = this.readOnly.lastPendingRequestCtx() ?? EMPTY_BYTES;
    this.trk.visit((id) => {
      if (id !== this.id) this.sendHeartbeat(id, ctx);
    });
  }

  // ---- state transitions ----

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.abortLeaderTransfer();
    this.trk.resetVotes();
    const last = this.raftLog.lastIndex();
    this.trk.visit((id, pr) => {
      pr.inflights.reset();
      pr.state = 'probe';
      pr.pendingSnapshot = 0;
      pr.msgAppFlowPaused = false;
      pr.recentActive = false;
      pr.match = 0;
      pr.next = last + 1;
      if (id === this.id) {
        pr.match = this.leaderAwaitsOwnAppend ? this.ownDurableMatch() : last;
        pr.recentActive = true;
      }
    });
    this.pendingConfIndex = 0;
    this.uncommittedSizeBytes = 0;
    this.readOnly = new ReadOnly(this.readOnlyOption);
    this.pendingReadIndexMessages = [];
    this.leaseClock = 1;
    this.leaseAcks = new Map();
    this.leaseRevoked = false;
  }

  becomeFollower(term: number, lead: NodeId): void {
    this.reset(term);
    this.lead = lead;
    this.state = 'follower';
    this.logger.info(`${this.id} became follower at term ${this.term}`);
  }

  becomeCandidate(): void {
    assert(this.state !== 'leader', 'invalid transition [leader -> candidate]');
    this.reset(this.term + 1);
    this.vote = this.id;
    this.state = 'candidate';
    this.logger.info(`${this.id} became candidate at term ${this.term}`);
  }

  /** A pre-candidate asks for votes without changing its term (thesis §9.6). */
  becomePreCandidate(): void {
    assert(this.state !== 'leader', 'invalid transition [leader -> pre-candidate]');
    this.trk.resetVotes();
    this.lead = NONE;
    this.state = 'preCandidate';
    this.logger.info(`${this.id} became pre-candidate at term ${this.term}`);
  }

  becomeLeader(): void {
    assert(this.state !== 'follower', 'invalid transition [follower -> leader]');
    this.reset(this.term);
    this.lead = this.id;
    this.state = 'leader';
    const self = this.trk.progress.get(this.id)!;
    self.becomeReplicate();
    self.recentActive = true;
    // Conf changes in the uncommitted tail may be pending; forbid new ones until then.
    this.pendingConfIndex = this.raftLog.lastIndex();
    // The empty entry of this term: committing it commits everything before it (§5.4.2),
    // and ReadIndex waits for it (thesis §6.4).
    const ok = this.appendEntry([{ term: 0, index: 0, type: 'normal', data: EMPTY_BYTES }]);
    assert(ok, 'empty entry was dropped');
    // The empty entry does not count toward the uncommitted bound.
    this.uncommittedSizeBytes = 0;
    this.logger.info(`${this.id} became leader at term ${this.term}`);
  }

  private resetRandomizedElectionTimeout(): void {
    const r = this.random();
    assert(r >= 0 && r < 1, 'random source must return a float in [0, 1)');
    this.randomizedElectionTimeout = this.electionTimeout + Math.floor(r * this.electionTimeout);
  }

  private abortLeaderTransfer(): void {
    this.leadTransferee = NONE;
  }

  /** Whether this node can become leader: a voter, without a pending snapshot to persist. */
  promotable(): boolean {
    const pr = this.trk.progress.get(this.id);
    return pr !== undefined && !pr.isLearner && !this.raftLog.hasPendingSnapshot();
  }

  pastElectionTimeout(): boolean {
    return this.electionElapsed >= this.randomizedElectionTimeout;
  }

  // ---- ticks ----

  tick(): void {
    if (this.state === 'leader') this.tickHeartbeat();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.leaseGuardTicks > 0) this.leaseGuardTicks--;
    if (this.promotable() && this.pastElectionTimeout()) {
      this.electionElapsed = 0;
      this.step(makeMessage({ type: 'MsgHup', from: this.id }));
    }
  }

  private tickHeartbeat(): void {
    this.leaseClock++;
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTimeout) {
      this.electionElapsed = 0;
      if (this.checkQuorum) this.step(makeMessage({ type: 'MsgCheckQuorum', from: this.id }));
      // A transfer that did not complete within an election timeout is abandoned.
      if (this.state === 'leader' && this.leadTransferee !== NONE) this.abortLeaderTransfer();
    }
    if (this.state !== 'leader') return;
    if (this.heartbeatElapsed >= this.heartbeatTimeout) {
      this.heartbeatElapsed = 0;
      this.step(makeMessage({ type: 'MsgBeat', from: this.id }));
    }
  }

  // ---- log ----

  appendEntry(es: Entry[]): boolean {
    let li = this.raftLog.lastIndex();
    const ents: Entry[] = es.map((e, i) => ({ term: this.term, index: li + 1 + i, type: e.type, data: e.data }));
    if (!this.increaseUncommittedSize(ents)) return false;
    li = this.raftLog.append(ents);
    if (this.leaderAwaitsOwnAppend) return true; // counted once durable (ownAppendDurable)
    // The leader's own entries count toward the quorum: the Ready contract persists them
    // before the MsgApp that could lead to their commit is sent.
    this.trk.progress.get(this.id)?.maybeUpdate(li);
    this.maybeCommit();
    return true;
  }

  /** Advances the commit index if a quorum holds a newer entry of the current term. */
  maybeCommit(): boolean {
    return this.raftLog.maybeCommit(this.trk.committed(), this.term);
  }

  private increaseUncommittedSize(ents: Entry[]): boolean {
    const s = payloadsSizeBytes(ents);
    if (this.uncommittedSizeBytes > 0 && s > 0 && this.uncommittedSizeBytes + s > this.maxUncommittedSizeBytes) return false;
    this.uncommittedSizeBytes += s;
    return true;
  }

  reduceUncommittedSize(s: number): void {
    if (this.state !== 'leader') return;
    this.uncommittedSizeBytes = s > this.uncommittedSizeBytes ? 0 : this.uncommittedSizeBytes - s;
  }

  committedEntryInCurrentTerm(): boolean {
    return this.raftLog.zeroTermOnOutOfBounds(this.raftLog.committed) === this.term;
  }

  /** Called by RawNode.advance once the application applied up to `index`. */
  appliedTo(index: number, sizeBytes: number): void {
    const newApplied = Math.max(index, this.raftLog.applied);
    this.raftLog.appliedTo(newApplied);
    this.reduceUncommittedSize(sizeBytes);
    if (this.trk.config.autoLeave && newApplied >= this.pendingConfIndex && this.state === 'leader') {
      // Leave the joint config on our own. May be refused during a leadership transfer;
      // we try again after the next applied entry (or the new leader does it).
      try {
        this.step(makeMessage({ type: 'MsgProp', from: this.id, entries: [{ term: 0, index: 0, type: 'confChange', data: encodeConfChange(leaveJointChange()) }] }));
        this.logger.info(`initiating automatic transition out of joint configuration ${this.trk.config}`);
      } catch (e) {
        if (!(e instanceof ProposalDroppedError)) throw e;
      }
    }
  }

  // ---- elections ----

  private hup(t: CampaignType): void {
    if (this.state === 'leader') return;
    if (!this.promotable()) {
      this.logger.info(`${this.id} is unpromotable and can not campaign`);
      return;
    }
    // A conf change committed but not applied could change who may vote: wait for it.
    if (this.raftLog.applied < this.raftLog.committed) {
      const ents = this.raftLog.slice(this.raftLog.applied + 1, this.raftLog.committed + 1, Infinity);
      if (ents.some((e) => e.type === 'confChange')) {
        this.logger.info(`${this.id} cannot campaign at term ${this.term} since there are still pending configuration changes to apply`);
        return;
      }
    }
    this.logger.info(`${this.id} is starting a new election at term ${this.term}`);
    this.campaign(t);
  }

  private campaign(t: CampaignType): void {
    let term: number;
    let voteMsg: MessageType;
    if (t === 'preElection') {
      this.becomePreCandidate();
      voteMsg = 'MsgPreVote';
      term = this.term + 1; // the term we would campaign in; ours is unchanged
    } else {
      this.becomeCandidate();
      voteMsg = 'MsgVote';
      term = this.term;
    }
    const ids = this.trk.voterNodes();
    for (const id of ids) {
      if (id === this.id) {
        if (this.poll(id, voteResponseType(voteMsg), true) === 'won') {
          // A single-voter group wins at once.
          if (t === 'preElection') this.campaign('election');
          else this.becomeLeader();
          return;
        }
        continue;
      }
    }
    for (const id of ids) {
      if (id === this.id) continue;
      this.logger.info(
        `${this.id} [logterm: ${this.raftLog.lastTerm()}, index: ${this.raftLog.lastIndex()}] sent ${voteMsg} request to ${id} at term ${this.term}`,
      );
      this.send(
        makeMessage({
          type: voteMsg,
          to: id,
          term,
          index: this.raftLog.lastIndex(),
          logTerm: this.raftLog.lastTerm(),
          context: t === 'transfer' ? CAMPAIGN_TRANSFER : EMPTY_BYTES,
        }),
      );
    }
  }

  private poll(id: NodeId, t: MessageType, v: boolean): 'won' | 'lost' | 'pending' {
    this.logger.info(`${this.id} received ${t} ${v ? '' : 'rejection '}from ${id} at term ${this.term}`);
    this.trk.recordVote(id, v);
    const { granted, rejected, result } = this.trk.tallyVotes();
    if (id !== this.id) this.logger.info(`${this.id} has received ${granted} ${t} votes and ${rejected} vote rejections`);
    return result;
  }

  // ---- stepping ----

  step(m: Message): void {
    if (m.term === 0) {
      // local message
    } else if (m.term > this.term) {
      if (m.type === 'MsgVote' || m.type === 'MsgPreVote') {
        const force = isTransferContext(m.context);
        const inLease =
          (this.checkQuorum && this.lead !== NONE && this.electionElapsed < this.electionTimeout) || this.leaseGuardTicks > 0;
        if (!force && inLease) {
          // We heard from a leader within the minimum election timeout: do not disrupt it
          // (thesis §4.2.3). This also makes lease reads safe.
          this.logger.info(
            `${this.id} [logterm: ${this.raftLog.lastTerm()}, index: ${this.raftLog.lastIndex()}, vote: ${this.vote}] ignored ${m.type} from ${m.from} [logterm: ${m.logTerm}, index: ${m.index}] at term ${this.term}: lease is not expired (remaining ticks: ${Math.max(this.electionTimeout - this.electionElapsed, this.leaseGuardTicks)})`,
          );
          return;
        }
      }
      if (m.type === 'MsgPreVote') {
        // Never change our term in response to a PreVote.
      } else if (m.type === 'MsgPreVoteResp' && !m.reject) {
        // The term in a granted PreVote response is the one we will campaign in.
      } else {
        this.logger.info(`${this.id} [term: ${this.term}] received a ${m.type} message with higher term from ${m.from} [term: ${m.term}]`);
        if (m.type === 'MsgApp' || m.type === 'MsgHeartbeat' || m.type === 'MsgSnap') this.becomeFollower(m.term, m.from);
        else this.becomeFollower(m.term, NONE);
      }
    } else if (m.term < this.term) {
      if ((this.checkQuorum || this.preVote) && (m.type === 'MsgHeartbeat' || m.type === 'MsgApp')) {
        // A stale leader (e.g. back from a partition) learns our term and steps down;
        // otherwise with CheckQuorum or PreVote it could never be deposed.
        this.send(makeMessage({ type: 'MsgAppResp', to: m.from }));
      } else if (m.type === 'MsgPreVote') {
        this.send(makeMessage({ type: 'MsgPreVoteResp', to: m.from, term: this.term, reject: true }));
      }
      return;
    }

    switch (m.type) {
      case 'MsgHup':
        this.hup(this.preVote ? 'preElection' : 'election');
        return;
      case 'MsgVote':
      case 'MsgPreVote': {
        const canVote =
          this.vote === m.from ||
          (this.vote === NONE && this.lead === NONE) ||
          (m.type === 'MsgPreVote' && m.term > this.term);
        if (canVote && this.raftLog.isUpToDate(m.index, m.logTerm)) {
          this.logger.info(
            `${this.id} [logterm: ${this.raftLog.lastTerm()}, index: ${this.raftLog.lastIndex()}, vote: ${this.vote}] cast ${m.type} for ${m.from} [logterm: ${m.logTerm}, index: ${m.index}] at term ${this.term}`,
          );
          this.send(makeMessage({ type: voteResponseType(m.type), to: m.from, term: m.term }));
          if (m.type === 'MsgVote') {
            this.electionElapsed = 0;
            this.vote = m.from;
          }
        } else {
          this.logger.info(
            `${this.id} [logterm: ${this.raftLog.lastTerm()}, index: ${this.raftLog.lastIndex()}, vote: ${this.vote}] rejected ${m.type} from ${m.from} [logterm: ${m.logTerm}, index: ${m.index}] at term ${this.term}`,
          );
          this.send(makeMessage({ type: voteResponseType(m.type), to: m.from, term: this.term, reject: true }));
        }
        return;
      }
      default:
        switch (this.state) {
          case 'leader':
            this.stepLeader(m);
            return;
          case 'candidate':
          case 'preCandidate':
            this.stepCandidate(m);
            return;
          case 'follower':
            this.stepFollower(m);
            return;
        }
    }
  }

  private isLocal(m: Message): boolean {
    return m.from === this.id || m.from === NONE;
  }

  /** Drops a request: an error for the local caller, silence for a forwarded one. */
  private drop(m: Message, reason: string): void {
    this.logger.info(`${this.id} dropped ${m.type} from ${m.from}: ${reason}`);
    if (this.isLocal(m)) throw new ProposalDroppedError(reason);
  }

  private stepLeader(m: Message): void {
    switch (m.type) {
      case 'MsgBeat':
        this.bcastHeartbeat();
        return;
      case 'MsgCheckQuorum':
        if (!this.trk.quorumActive()) {
          this.logger.info(`${this.id} stepped down to follower since quorum is not active`);
          this.becomeFollower(this.term, NONE);
        }
        this.trk.visit((id, pr) => {
          if (id !== this.id) pr.recentActive = false;
        });
        return;
      case 'MsgProp':
        this.stepLeaderPropose(m);
        return;
      case 'MsgReadIndex':
        if (this.trk.isSingleton()) {
          this.respondToReadIndex(m, this.raftLog.committed);
          return;
        }
        if (!this.committedEntryInCurrentTerm()) {
          // Our commit index may be stale until an entry of our term commits.
          this.pendingReadIndexMessages.push(m);
          return;
        }
        this.sendReadIndexResponse(m);
        return;
    }

    const pr = this.trk.progress.get(m.from);
    if (!pr) return;
    switch (m.type) {
      case 'MsgAppResp':
        this.handleAppendResponse(m, pr);
        return;
      case 'MsgHeartbeatResp': {
        pr.recentActive = true;
        pr.msgAppFlowPaused = false;
        // Also sends an (empty) append to a follower whose window is full, so that it can
        // recover if the whole window was lost.
        if (pr.match < this.raftLog.lastIndex() || pr.state === 'probe') this.sendAppend(m.from);
        if (m.index > 0 && m.index <= this.leaseClock) this.leaseAcks.set(m.from, Math.max(m.index, this.leaseAcks.get(m.from) ?? 0));
        if (m.context.byteLength === 0) return;
        const acks = this.readOnly.recvAck(m.from, m.context);
        if (!acks || this.trk.config.voters.voteResult(acks) !== 'won') return;
        for (const rs of this.readOnly.advance(m.context)) this.respondToReadIndex(rs.req, rs.index);
        return;
      }
      case 'MsgSnapStatus':
        if (pr.state !== 'snapshot') return;
        if (!m.reject) {
          pr.becomeProbe();
          this.logger.info(`${this.id} snapshot succeeded, resumed sending replication messages to ${m.from} [${pr}]`);
        } else {
          pr.pendingSnapshot = 0;
          pr.becomeProbe();
          this.logger.info(`${this.id} snapshot failed, resumed sending replication messages to ${m.from} [${pr}]`);
        }
        // Wait for a heartbeat reply before probing: the snapshot may still be applying.
        pr.msgAppFlowPaused = true;
        return;
      case 'MsgUnreachable':
        if (pr.state === 'replicate') pr.becomeProbe();
        return;
      case 'MsgTransferLeader': {
        if (pr.isLearner) {
          this.logger.info(`${this.id} is learner. Ignored transferring leadership`);
          return;
        }
        const transferee = m.from;
        if (this.leadTransferee !== NONE) {
          if (this.leadTransferee === transferee) return;
          this.abortLeaderTransfer();
        }
        if (transferee === this.id) return;
        this.logger.info(`${this.id} [term ${this.term}] starts to transfer leadership to ${transferee}`);
        this.electionElapsed = 0;
        this.leadTransferee = transferee;
        if (pr.match === this.raftLog.lastIndex()) this.sendTimeoutNow(transferee);
        else this.sendAppend(transferee);
        return;
      }
    }
  }

  private stepLeaderPropose(m: Message): void {
    assert(m.entries.length > 0, `${this.id} stepped empty MsgProp`);
    if (!this.trk.progress.has(this.id)) {
      this.drop(m, 'this node was removed from the configuration');
      return;
    }
    if (this.leadTransferee !== NONE) {
      this.drop(m, `leadership transfer to ${this.leadTransferee} in progress`);
      return;
    }
    const entries = m.entries.slice();
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i];
      if (e.type !== 'confChange') continue;
      const cc = decodeConfChange(e.data);
      const alreadyPending = this.pendingConfIndex > this.raftLog.applied;
      const alreadyJoint = this.trk.config.voters.isJoint();
      const wantsLeaveJoint = isLeaveJoint(cc);
      let refused = '';
      // A leader changes the configuration only after committing an entry of its term
      // (the fix for the single-server change bug, raft-dev 2015).
      if (!this.committedEntryInCurrentTerm()) refused = 'no entry of the current term committed yet';
      else if (alreadyPending) refused = `possible unapplied conf change at index ${this.pendingConfIndex} (applied to ${this.raftLog.applied})`;
      else if (alreadyJoint && !wantsLeaveJoint) refused = 'must transition out of joint config first';
      else if (!alreadyJoint && wantsLeaveJoint) refused = 'not in joint state; refusing empty conf change';
      if (refused !== '') {
        // Replaced by an empty entry so the proposer sees it "applied" as a no-op.
        this.logger.info(`${this.id} ignoring conf change ${this.trk.config}: ${refused}`);
        entries[i] = { term: 0, index: 0, type: 'normal', data: EMPTY_BYTES };
      } else {
        this.pendingConfIndex = this.raftLog.lastIndex() + i + 1;
      }
    }
    if (!this.appendEntry(entries)) {
      this.drop(m, 'too many uncommitted entries');
      return;
    }
    this.bcastAppend();
  }

  private handleAppendResponse(m: Message, pr: Progress): void {
    pr.recentActive = true;
    if (m.reject) {
      this.logger.info(`${this.id} received MsgAppResp(rejected, hint: (index ${m.rejectHint}, term ${m.logTerm})) from ${m.from} for index ${m.index}`);
      let nextProbeIdx = m.rejectHint;
      // Fast back-off: skip every entry of ours whose term is above the follower's term at
      // the hint, since none of them can match.
      if (m.logTerm > 0) nextProbeIdx = this.raftLog.findConflictByTerm(m.rejectHint, m.logTerm)[0];
      if (pr.maybeDecrTo(m.index, nextProbeIdx)) {
        this.logger.info(`${this.id} decreased progress of ${m.from} to [${pr}]`);
        if (pr.state === 'replicate') pr.becomeProbe();
        this.sendAppend(m.from);
      }
      return;
    }
    const oldPaused = pr.isPaused();
    if (!(pr.maybeUpdate(m.index) || (pr.match === m.index && pr.state === 'probe'))) return;
    if (pr.state === 'probe') {
      pr.becomeReplicate();
    } else if (pr.state === 'snapshot' && pr.match + 1 >= this.raftLog.firstIndex()) {
      // The follower caught up from the snapshot (or otherwise); replicate from the log.
      this.logger.info(`${this.id} recovered from needing snapshot, resumed sending replication messages to ${m.from} [${pr}]`);
      pr.becomeProbe();
      pr.becomeReplicate();
    } else if (pr.state === 'replicate') {
      pr.inflights.freeLE(m.index);
    }
    if (this.maybeCommit()) {
      // An entry of our term committed: pending reads can now be served.
      this.releasePendingReadIndexMessages();
      this.bcastAppend();
    } else if (oldPaused) {
      // The follower may have missed our commit index while paused.
      this.sendAppend(m.from);
    }
    // Fill the window (bounded by inflights count and bytes).
    if (m.from !== this.id) {
      for (let n = 0; this.maybeSendAppend(m.from, false); n++) assert(n < 1_000_000, 'unbounded append loop');
    }
    if (m.from === this.leadTransferee && pr.match === this.raftLog.lastIndex()) {
      this.logger.info(`${this.id} sent MsgTimeoutNow to ${m.from} after received MsgAppResp`);
      this.sendTimeoutNow(m.from);
    }
  }

  private sendTimeoutNow(to: NodeId): void {
    this.leaseRevoked = true;
    this.send(makeMessage({ type: 'MsgTimeoutNow', to }));
  }

  private releasePendingReadIndexMessages(): void {
    if (this.pendingReadIndexMessages.length === 0) return;
    assert(this.committedEntryInCurrentTerm(), 'pending reads released before an entry of the term committed');
    const msgs = this.pendingReadIndexMessages;
    this.pendingReadIndexMessages = [];
    for (const m of msgs) this.sendReadIndexResponse(m);
  }

  private sendReadIndexResponse(m: Message): void {
    if (this.readOnlyOption === 'leaseBased' && this.leaseValid()) {
      this.readIndexCounts.lease++;
      this.respondToReadIndex(m, this.raftLog.committed);
      return;
    }
    // 'safe', or a lease that is not (or no longer) valid: confirm by a heartbeat round.
    this.readIndexCounts.heartbeat++;
    this.readOnly.addRequest(this.raftLog.committed, m);
    // Our own ack, then a heartbeat round carrying the context.
    this.readOnly.recvAck(this.id, m.context);
    this.bcastHeartbeat();
  }

  /**
   * Whether a quorum acknowledged a heartbeat sent less than leaseTicks ago (thesis §6.4.1):
   * each of them refuses to vote for anyone else for an election timeout after receiving it,
   * so no other leader can exist yet, given the drift bound (see leaseTicksFor). Void once
   * this leader sent MsgTimeoutNow (forced elections skip the followers' check).
   */
  leaseValid(): boolean {
    if (this.leaseRevoked) return false;
    const acked = this.trk.config.voters.committedIndex((id) => (id === this.id ? this.leaseClock : this.leaseAcks.get(id)));
    return acked > 0 && acked !== Infinity && this.leaseClock - acked < this.leaseTicks;
  }

  private respondToReadIndex(req: Message, readIndex: number): void {
    if (req.from === NONE || req.from === this.id) {
      this.readStates.push({ index: readIndex, requestCtx: req.context });
      return;
    }
    this.send(makeMessage({ type: 'MsgReadIndexResp', to: req.from, index: readIndex, context: req.context }));
  }

  private stepCandidate(m: Message): void {
    const myVoteResp: MessageType = this.state === 'preCandidate' ? 'MsgPreVoteResp' : 'MsgVoteResp';
    switch (m.type) {
      case 'MsgProp':
        this.drop(m, 'no leader');
        return;
      case 'MsgReadIndex':
        this.drop(m, 'no leader');
        return;
      case 'MsgTransferLeader':
        this.drop(m, 'no leader');
        return;
      case 'MsgApp':
        this.becomeFollower(m.term, m.from);
        this.handleAppendEntries(m);
        return;
      case 'MsgHeartbeat':
        this.becomeFollower(m.term, m.from);
        this.handleHeartbeat(m);
        return;
      case 'MsgSnap':
        this.becomeFollower(m.term, m.from);
        this.handleSnapshot(m);
        return;
      case 'MsgTimeoutNow':
        return;
    }
    if (m.type !== myVoteResp) return;
    const res = this.poll(m.from, m.type, !m.reject);
    if (res === 'won') {
      if (this.state === 'preCandidate') {
        this.campaign('election');
      } else {
        this.becomeLeader();
        this.bcastAppend();
      }
    } else if (res === 'lost') {
      // A rejection with a higher term was handled in step(); here the term is ours.
      this.becomeFollower(this.term, NONE);
    }
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case 'MsgProp':
        if (this.lead === NONE) return this.drop(m, 'no leader');
        if (this.disableProposalForwarding) return this.drop(m, 'proposal forwarding disabled');
        this.send({ ...m, to: this.lead, from: m.from === NONE ? this.id : m.from });
        return;
      case 'MsgApp':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleAppendEntries(m);
        return;
      case 'MsgHeartbeat':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleHeartbeat(m);
        return;
      case 'MsgSnap':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleSnapshot(m);
        return;
      case 'MsgTransferLeader':
        if (this.lead === NONE) return this.drop(m, 'no leader');
        this.send({ ...m, to: this.lead, term: 0 });
        return;
      case 'MsgTimeoutNow':
        this.logger.info(`${this.id} [term ${this.term}] received MsgTimeoutNow from ${m.from} and starts an election to get leadership`);
        // Skips PreVote: the leader asked us to take over.
        this.hup('transfer');
        return;
      case 'MsgReadIndex':
        if (this.lead === NONE) return this.drop(m, 'no leader');
        this.send({ ...m, to: this.lead, from: m.from === NONE ? this.id : m.from });
        return;
      case 'MsgReadIndexResp':
        this.readStates.push({ index: m.index, requestCtx: m.context });
        return;
    }
  }

  private handleAppendEntries(m: Message): void {
    this.armLeaseGuard();
    if (m.index < this.raftLog.committed) {
      this.send(makeMessage({ type: 'MsgAppResp', to: m.from, index: this.raftLog.committed }));
      return;
    }
    const lastNew = this.raftLog.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (lastNew !== undefined) {
      this.send(makeMessage({ type: 'MsgAppResp', to: m.from, index: lastNew }));
      return;
    }
    // Reject, with a hint: the largest index <= m.index whose term is <= m.logTerm, so the
    // leader can skip a whole term of mismatching entries at once.
    const hintIndex = Math.min(m.index, this.raftLog.lastIndex());
    const [idx, term] = this.raftLog.findConflictByTerm(hintIndex, m.logTerm);
    this.logger.info(
      `${this.id} [logterm: ${this.raftLog.zeroTermOnOutOfBounds(m.index)}, index: ${m.index}] rejected MsgApp [logterm: ${m.logTerm}, index: ${m.index}] from ${m.from}`,
    );
    this.send(makeMessage({ type: 'MsgAppResp', to: m.from, index: m.index, reject: true, rejectHint: idx, logTerm: term }));
  }

  private handleHeartbeat(m: Message): void {
    this.raftLog.commitTo(m.commit);
    this.armLeaseGuard();
    this.send(makeMessage({ type: 'MsgHeartbeatResp', to: m.from, context: m.context, index: m.index }));
  }

  /** In lease mode, a message from the leader re-arms the follower's refusal to vote. */
  private armLeaseGuard(): void {
    if (this.readOnlyOption === 'leaseBased') this.leaseGuardTicks = this.electionTimeout;
  }

  private handleSnapshot(m: Message): void {
    const s = m.snapshot;
    assert(s !== undefined, 'MsgSnap without snapshot');
    this.armLeaseGuard();
    const { index, term } = s.metadata;
    if (this.restore(s)) {
      this.logger.info(`${this.id} [commit: ${this.raftLog.committed}] restored snapshot [index: ${index}, term: ${term}]`);
      this.send(makeMessage({ type: 'MsgAppResp', to: m.from, index: this.raftLog.lastIndex() }));
    } else {
      this.logger.info(`${this.id} [commit: ${this.raftLog.committed}] ignored snapshot [index: ${index}, term: ${term}]`);
      this.send(makeMessage({ type: 'MsgAppResp', to: m.from, index: this.raftLog.committed }));
    }
  }

  /** Installs a snapshot into the log (not yet persisted). Returns false if it is ignored. */
  restore(s: Snapshot): boolean {
    const { index, term, confState: cs } = s.metadata;
    if (index <= this.raftLog.committed) return false;
    if (this.state !== 'follower') {
      // Defensive: only a leader of this term sends snapshots, and we are not a follower of it.
      this.logger.info(`${this.id} attempted to restore snapshot as leader; should never happen`);
      this.becomeFollower(this.term + 1, NONE);
      return false;
    }
    const found = [...cs.voters, ...cs.learners, ...cs.votersOutgoing].includes(this.id);
    if (!found) {
      this.logger.info(`${this.id} attempted to restore snapshot but it is not in the ConfState ${JSON.stringify(cs)}; should never happen`);
      return false;
    }
    if (this.raftLog.matchTerm(index, term)) {
      // We already have the entry: fast-forward the commit index instead.
      this.logger.info(`${this.id} [commit: ${this.raftLog.committed}] fast-forwarded commit to snapshot [index: ${index}, term: ${term}]`);
      this.raftLog.commitTo(index);
      return false;
    }
    this.raftLog.restore(s);
    this.trk = new ProgressTracker(this.trk.maxInflight, this.trk.maxInflightBytes);
    const got = this.switchToConfig(restoreConfState(this.trk, this.raftLog.lastIndex(), cs));
    assertConfStatesEquivalent(cs, got);
    return true;
  }

  // ---- membership ----

  /** Applies a committed conf change; called by the application through RawNode. */
  applyConfChange(cc: ConfChangeV2): ConfState {
    const changer = new Changer(this.trk, this.raftLog.lastIndex());
    let r: ChangeResult;
    if (isLeaveJoint(cc)) {
      r = changer.leaveJoint();
    } else {
      const { joint, autoLeave } = enterJoint(cc);
      r = joint ? changer.enterJoint(autoLeave, cc.changes) : changer.simple(cc.changes);
    }
    return this.switchToConfig(r);
  }

  private switchToConfig(r: ChangeResult): ConfState {
    this.trk.config = r.config;
    this.trk.progress = r.progress;
    this.logger.info(`${this.id} switched to configuration ${this.trk.config}`);
    const cs = this.trk.confState();
    const pr = this.trk.progress.get(this.id);
    this.isLearner = pr?.isLearner ?? false;
    if ((!pr || this.isLearner) && this.state === 'leader') {
      // Removed or demoted: we keep leading (not counting ourselves) until the application
      // transfers leadership or shuts us down, so the change itself can commit.
      return cs;
    }
    if (this.state !== 'leader' || cs.voters.length === 0) return cs;
    // The quorum changed: the commit index may move, and new members need entries.
    if (this.maybeCommit()) this.bcastAppend();
    else this.trk.visit((id) => id !== this.id && this.maybeSendAppend(id, false));
    if (this.leadTransferee !== NONE && !this.trk.config.voters.has(this.leadTransferee)) this.abortLeaderTransfer();
    return cs;
  }

  private loadState(hs: HardState): void {
    assert(
      hs.commit >= this.raftLog.committed && hs.commit <= this.raftLog.lastIndex(),
      () => `${this.id} state.commit ${hs.commit} is out of range [${this.raftLog.committed}, ${this.raftLog.lastIndex()}]`,
    );
    this.raftLog.committed = hs.commit;
    this.term = hs.term;
    this.vote = hs.vote;
  }
}

function assertConfStatesEquivalent(a: ConfState, b: ConfState): void {
  const norm = (c: ConfState) =>
    JSON.stringify({
      voters: [...c.voters].sort((x, y) => x - y),
      learners: [...c.learners].sort((x, y) => x - y),
      votersOutgoing: [...c.votersOutgoing].sort((x, y) => x - y),
      learnersNext: [...c.learnersNext].sort((x, y) => x - y),
      autoLeave: c.autoLeave,
    });
  assert(norm(a) === norm(b), () => `ConfStates not equivalent after sorting: ${norm(a)} vs ${norm(b)}`);
}
