// A deterministic simulation of a Raft group: real RawNodes in one process, a simulated
// clock (ticks), a network that drops, delays, duplicates, reorders and partitions
// (including one-way), crashes that lose everything not persisted, random membership
// changes and leadership transfers, and a client workload on a key-value map. One seed
// drives everything; the same seed replays the same run exactly.
//
// Time: one step is one unit of real time. Each node has its own clock rate (drift): it
// ticks floor(accumulated rate) times per step. A paused process neither ticks, nor reads
// messages (they queue), nor handles Ready; on resume it first catches up the ticks it
// missed (as a driver that counts ticks from a monotonic clock does) unless
// `catchUpTicks` is false.
//
// Beside random faults, a nemesis aims at the windows that matter (the paper's Figure 8):
// it crashes or isolates a leader right after it sent new entries (so they reach a
// minority), restarts crashed nodes soon (so old leaders with stale entries campaign
// again), crashes a voter right after it granted a vote, and pauses leaders. Per seed, a
// profile draws the message size (one entry per MsgApp in a third of the seeds, so that a
// leader's quorum passes through old-term entries one at a time), the number of initial
// voters (3 or 5), and whether reads use the leader lease.
//
// Checkers: at most one leader per term; log matching; leader completeness; identical
// applied sequences; committed entries never lost; linearizability of the client history.

import {
  ConfChangeV2,
  ConfState,
  Entry,
  MemoryStorage,
  Message,
  ProposalDroppedError,
  RawNode,
  Ready,
  confStateOf,
  decodeConfChange,
  describeEntry,
  seededRandom,
} from '../../src';
import { KvInput, KvOutput, Operation, checkOperations, kvModel } from '../../src/check/linearizability';

/** What a leader may send before its own write (as the Keel driver does). */
const LEADER_MESSAGES: ReadonlySet<string> = new Set(['MsgApp', 'MsgHeartbeat', 'MsgSnap', 'MsgTimeoutNow', 'MsgReadIndexResp']);

export interface SimOptions {
  seed: number;
  steps?: number;
  /** Node ids 1..maxNodes exist; 1..initialVoters start as the configuration. */
  maxNodes?: number;
  initialVoters?: number;
  dropRate?: number;
  dupRate?: number;
  maxDelayTicks?: number;
  crashRate?: number;
  partitionRate?: number;
  confChangeRate?: number;
  transferRate?: number;
  clients?: number;
  /** Per leader Ready that sends new entries: crash or isolate the leader right after. */
  leaderFaultRate?: number;
  /** Per granted vote: crash the voter right after it sent the vote (restart soon). */
  voteCrashRate?: number;
  /** Per step: pause a random node (a leader with probability 1/2) for up to pauseMaxTicks. */
  pauseRate?: number;
  pauseMaxTicks?: number;
  /** Per node, a clock rate drawn in [1 - maxDrift, 1 + maxDrift]. */
  maxDrift?: number;
  /** On resume from a pause, tick the ticks missed before anything else. */
  catchUpTicks?: boolean;
  /** Reads use the leader lease (readOnlyOption 'leaseBased'); else drawn per seed. */
  lease?: boolean;
  /** The drift bound configured for the lease (Config.maxClockDrift). */
  leaseDriftBound?: number;
  /** Config.maxSizePerMsgBytes; else drawn per seed (1: one entry per MsgApp). */
  maxSizePerMsgBytes?: number;
  /** Snapshots travel in chunks of this many bytes, each of which may be dropped. */
  snapshotChunkBytes?: number;
  /** Per message: delayed by up to longDelayMaxTicks instead (a stale message arriving late). */
  longDelayRate?: number;
  longDelayMaxTicks?: number;
  /**
   * Config.leaderAwaitsOwnAppend, as the Keel driver runs: a leader sends its appends,
   * heartbeats and snapshots before its own write, may crash in between, and counts itself
   * only once its write is done; its writes stay in flight for a few steps and a crash loses
   * them. Else drawn per seed.
   */
  ownAppend?: boolean;
  /**
   * BROKEN on purpose (tests of the simulator): with ownAppend, the leader counts its own
   * entries as soon as it appends them, while its write is still in flight (and lost if it
   * crashes first). The simulation must find lost committed entries.
   */
  unsafeCountOwnAppendEarly?: boolean;
  /** Print a trace of events to stdout. */
  trace?: boolean;
}

export interface SimResult {
  seed: number;
  committed: number;
  leaders: number;
  ops: number;
  crashes: number;
  confChanges: number;
  pauses: number;
  leaseReads: number;
  /** Whether the seed ran with leaderAwaitsOwnAppend (early leader sends). */
  ownAppend: boolean;
  /** The per-seed profile drawn from the seed. */
  profile: string;
}

/** The defaults, shared by jest and scripts/sim.js, so that `--seed N` replays a jest failure. */
export const DEFAULT_STEPS = 2000;

export class SimFailure extends Error {
  constructor(
    readonly seed: number,
    message: string,
    replayArgs = '',
  ) {
    super(`seed ${seed}: ${message}\nreplay: node packages/raft/scripts/sim.js --seed ${seed}${replayArgs} --trace`);
    this.name = 'SimFailure';
  }
}

const enc = new TextEncoder();
const dec = new TextDecoder();

interface Command {
  client: number;
  op: number;
  key: string;
  value: string;
}

interface SimNode {
  id: number;
  storage: MemoryStorage; // the disk: everything persisted
  raw: RawNode | undefined;
  kv: Map<string, string>;
  appliedIndex: number;
  confState: ConfState;
  /** Clock rate (ticks per step) and the fraction of a tick accumulated. */
  rate: number;
  phase: number;
  /** Paused until this step (exclusive); ticks missed meanwhile. */
  pausedUntil: number;
  missedTicks: number;
  /** A crashed node restarts at this step (0: by the random restart rate). */
  restartAt: number;
  /**
   * ownAppend: the leader's writes still in flight, oldest first: entries [from, index] are in
   * `storage` (raft reads them) but not yet durable. They complete in order at step `due`
   * (then raft hears ownAppendDurable); a crash loses them.
   */
  writes: { from: number; index: number; term: number; due: number }[];
}

interface InFlight {
  at: number;
  seq: number;
  m: Message;
}

interface Client {
  id: number;
  node: number;
  pending: { op: Operation<KvInput, KvOutput>; ctx?: string; readIndex?: number; opId: number; deadline: number } | undefined;
}

const ELECTION_TICKS = 10;
const HEARTBEAT_TICKS = 2;
const CLIENT_TIMEOUT_TICKS = 8 * ELECTION_TICKS;

export class Simulation {
  readonly rng: () => number;
  readonly o: Required<SimOptions>;
  now = 0;
  nodes: SimNode[] = [];
  net: InFlight[] = [];
  seq = 0;
  /** Directed links that are cut: `${from}->${to}`. */
  cut = new Set<string>();
  /** Snapshot transfers in flight: the MsgSnap is stepped when its last chunk arrives. */
  snaps: { at: number; m: Message; ok: boolean }[] = [];
  /** term -> leader id. */
  leaders = new Map<number, number>();
  /** index -> the committed entry, as first applied anywhere. */
  committed = new Map<number, { term: number; data: string }>();
  maxCommitted = 0;
  history: Operation<KvInput, KvOutput>[] = [];
  clients: Client[] = [];
  nextOp = 1;
  stats = { crashes: 0, confChanges: 0, pauses: 0, leaseReads: 0 };
  readonly profile: string;

  constructor(opts: SimOptions) {
    this.rng = seededRandom(opts.seed);
    // The profile is drawn first, from the seed, so that options given explicitly do not
    // shift the rest of the run's randomness.
    const p = { lease: this.rng() < 0.25, msg: [1, 256, 4096][Math.floor(this.rng() * 3)], voters: this.rng() < 0.3 ? 5 : 3, ownAppend: this.rng() < 0.5 };
    this.o = {
      steps: DEFAULT_STEPS,
      maxNodes: 5,
      initialVoters: p.voters,
      dropRate: 0.05,
      dupRate: 0.02,
      maxDelayTicks: 3,
      crashRate: 0.002,
      partitionRate: 0.003,
      confChangeRate: 0.003,
      transferRate: 0.002,
      clients: 3,
      leaderFaultRate: 0.01,
      voteCrashRate: 0.2,
      pauseRate: 0.002,
      pauseMaxTicks: 4 * ELECTION_TICKS,
      maxDrift: 0.04,
      catchUpTicks: true,
      lease: p.lease,
      ownAppend: p.ownAppend,
      unsafeCountOwnAppendEarly: false,
      leaseDriftBound: 0.05,
      maxSizePerMsgBytes: p.msg,
      snapshotChunkBytes: 64,
      longDelayRate: 0.003,
      longDelayMaxTicks: 5 * ELECTION_TICKS,
      trace: false,
      ...opts,
    };
    this.profile = `voters=${this.o.initialVoters} msg=${this.o.maxSizePerMsgBytes} reads=${this.o.lease ? 'lease' : 'readindex'} leader-writes=${this.o.ownAppend ? 'overlapped' : 'first'}`;
    const voters = Array.from({ length: this.o.initialVoters }, (_, i) => i + 1);
    for (let id = 1; id <= this.o.maxNodes; id++) {
      const storage = new MemoryStorage();
      if (id <= this.o.initialVoters) {
        storage.applySnapshot({ metadata: { index: 1, term: 1, confState: confStateOf(voters) }, data: enc.encode('[]') });
        storage.setHardState({ term: 1, vote: 0, commit: 1 });
      }
      const rate = 1 - this.o.maxDrift + 2 * this.o.maxDrift * this.rng();
      const n: SimNode = {
        id,
        storage,
        raw: undefined,
        kv: new Map(),
        appliedIndex: 0,
        confState: storage.initialState().confState,
        rate,
        phase: this.rng(),
        pausedUntil: 0,
        missedTicks: 0,
        restartAt: 0,
        writes: [],
      };
      this.nodes.push(n);
      this.start(n);
    }
    for (let c = 1; c <= this.o.clients; c++) this.clients.push({ id: c, node: 1 + this.int(this.o.initialVoters), pending: undefined });
  }

  private int(n: number): number {
    return Math.floor(this.rng() * n);
  }

  private chance(p: number): boolean {
    return this.rng() < p;
  }

  private trace(msg: string): void {
    if (this.o.trace) console.log(`[${this.now}] ${msg}`);
  }

  private fail(msg: string): never {
    const extra = this.o.steps !== DEFAULT_STEPS ? ` --steps ${this.o.steps}` : '';
    throw new SimFailure(this.o.seed, `t=${this.now}: ${msg} [${this.profile}]`, extra);
  }

  private start(n: SimNode): void {
    // Restart from the disk: the state machine is rebuilt from the snapshot, then the log.
    const snap = n.storage.snapshot();
    n.kv = new Map(snap.data.byteLength > 0 ? (JSON.parse(dec.decode(snap.data)) as [string, string][]) : []);
    n.appliedIndex = snap.metadata.index;
    n.confState = snap.metadata.confState;
    n.pausedUntil = 0;
    n.missedTicks = 0;
    n.restartAt = 0;
    n.raw = new RawNode({
      id: n.id,
      electionTimeoutTicks: ELECTION_TICKS,
      heartbeatTimeoutTicks: HEARTBEAT_TICKS,
      storage: n.storage,
      random: this.rng,
      preVote: true,
      checkQuorum: true,
      maxInflightMsgs: 16,
      maxSizePerMsgBytes: this.o.maxSizePerMsgBytes,
      maxUncommittedEntriesSizeBytes: 1 << 20,
      readOnlyOption: this.o.lease ? 'leaseBased' : 'safe',
      maxClockDrift: this.o.leaseDriftBound,
      leaderAwaitsOwnAppend: this.o.ownAppend,
    });
  }

  run(): SimResult {
    for (let s = 0; s < this.o.steps; s++) this.step(true);
    // Quiesce: heal, restart everything, and let the group settle; then check liveness.
    this.cut.clear();
    for (const n of this.nodes) if (!n.raw) this.start(n);
    for (let s = 0; s < 60 * ELECTION_TICKS; s++) this.step(false);
    if (this.nodes.some((n) => this.paused(n))) this.fail('a node is still paused after quiescence');
    this.checkLogMatching();
    this.checkFinalStates();
    this.checkLinearizable();
    if (this.maxCommitted === 0) this.fail('nothing was ever committed');
    return {
      seed: this.o.seed,
      committed: this.maxCommitted,
      leaders: this.leaders.size,
      ops: this.history.length,
      crashes: this.stats.crashes,
      confChanges: this.stats.confChanges,
      pauses: this.stats.pauses,
      leaseReads: this.stats.leaseReads,
      ownAppend: this.o.ownAppend === true,
      profile: this.profile,
    };
  }

  private paused(n: SimNode): boolean {
    return n.raw !== undefined && this.now < n.pausedUntil;
  }

  /** Ticks a node as its own clock says; a paused node only counts what it misses. */
  private tickNode(n: SimNode): void {
    if (!n.raw) return;
    n.phase += n.rate;
    const ticks = Math.floor(n.phase);
    n.phase -= ticks;
    if (this.paused(n)) {
      n.missedTicks += ticks;
      return;
    }
    if (n.missedTicks > 0) {
      const missed = n.missedTicks;
      n.missedTicks = 0;
      if (this.o.catchUpTicks) for (let i = 0; i < missed; i++) n.raw.tick();
    }
    for (let i = 0; i < ticks; i++) n.raw.tick();
  }

  private step(faults: boolean): void {
    this.now++;
    if (faults) this.injectFaults();
    for (const n of this.nodes) if (!n.raw && n.restartAt > 0 && this.now >= n.restartAt) this.restart(n);
    for (const n of this.nodes) this.tickNode(n);
    for (const n of this.nodes) if (!this.paused(n)) this.completeWrites(n, this.now);
    if (faults) for (const n of this.nodes) this.nemesisUnsyncedCommit(n);
    this.clientsAct(faults);
    this.deliver();
    for (const n of this.nodes) this.handleReady(n, faults);
    this.checkLeaders();
    if (this.now % 100 === 0) this.checkLogMatching();
  }

  // ---- faults ----

  private injectFaults(): void {
    const o = this.o;
    if (this.chance(o.crashRate)) {
      const n = this.nodes[this.int(this.nodes.length)];
      if (n.raw) this.crash(n, 'random', 0);
    }
    for (const n of this.nodes) if (!n.raw && n.restartAt === 0 && this.chance(0.02)) this.restart(n);
    if (this.chance(o.partitionRate)) {
      const a = 1 + this.int(this.nodes.length);
      const b = 1 + this.int(this.nodes.length);
      if (a !== b) {
        this.cut.add(`${a}->${b}`);
        if (this.chance(0.7)) this.cut.add(`${b}->${a}`); // else one-way
        this.trace(`cut ${a}->${b}`);
      }
    }
    if (this.cut.size > 0 && this.chance(0.01)) {
      this.trace('heal');
      this.cut.clear();
    }
    const leader = this.nodes.find((n) => n.raw?.isLeader && !this.paused(n));
    if (this.chance(o.pauseRate)) {
      const n = leader && this.chance(0.5) ? leader : this.nodes[this.int(this.nodes.length)];
      if (n.raw && !this.paused(n)) {
        const ticks = 1 + this.int(o.pauseMaxTicks);
        n.pausedUntil = this.now + ticks;
        this.stats.pauses++;
        this.trace(`pause ${n.id} for ${ticks}`);
      }
    }
    if (leader && this.chance(o.confChangeRate)) this.randomConfChange(leader);
    if (leader && this.chance(o.transferRate)) {
      const voters = leader.raw!.raft.trk.config.voters.incoming.sorted();
      const to = voters[this.int(voters.length)];
      this.trace(`transfer ${leader.id} -> ${to}`);
      leader.raw!.transferLeader(to);
    }
    if (this.chance(0.01)) this.compact(this.nodes[this.int(this.nodes.length)]);
  }

  private restart(n: SimNode): void {
    this.trace(`restart ${n.id}`);
    this.start(n);
  }

  /** Crashes a node; it restarts after `restartIn` steps (0: at the random restart rate). */
  private crash(n: SimNode, why: string, restartIn: number): void {
    this.trace(`crash ${n.id} (${why})`);
    this.loseUnsynced(n);
    n.raw = undefined;
    n.pausedUntil = 0;
    n.restartAt = restartIn > 0 ? this.now + restartIn : 0;
    this.stats.crashes++;
  }

  /** Cuts every link of a node, both ways. */
  private isolate(n: SimNode): void {
    this.trace(`isolate ${n.id}`);
    for (const m of this.nodes) {
      if (m.id === n.id) continue;
      this.cut.add(`${n.id}->${m.id}`);
      this.cut.add(`${m.id}->${n.id}`);
    }
  }

  private randomConfChange(leader: SimNode): void {
    const cfg = leader.raw!.raft.trk.config;
    const voters = cfg.voters.incoming.sorted();
    const learners = [...cfg.learners].sort((a, b) => a - b);
    const others = this.nodes.map((n) => n.id).filter((id) => !voters.includes(id) && !learners.includes(id));
    const choices: ConfChangeV2[] = [];
    if (others.length > 0) choices.push({ transition: 'auto', changes: [{ type: 'addLearnerNode', nodeId: others[this.int(others.length)] }] });
    if (learners.length > 0) choices.push({ transition: 'auto', changes: [{ type: 'addNode', nodeId: learners[this.int(learners.length)] }] });
    if (voters.length > 3) choices.push({ transition: 'auto', changes: [{ type: 'removeNode', nodeId: voters[this.int(voters.length)] }] });
    if (learners.length > 0 && voters.length >= 3) {
      // Swap a voter for a learner in one joint change.
      const add = learners[this.int(learners.length)];
      const rm = voters[this.int(voters.length)];
      choices.push({ transition: this.chance(0.5) ? 'auto' : 'implicit', changes: [{ type: 'addNode', nodeId: add }, { type: 'removeNode', nodeId: rm }] });
    }
    if (choices.length === 0) return;
    const cc = choices[this.int(choices.length)];
    try {
      leader.raw!.proposeConfChange(cc);
      this.trace(`propose conf change ${JSON.stringify(cc.changes)} on ${leader.id}`);
      this.stats.confChanges++;
    } catch (e) {
      if (!(e instanceof ProposalDroppedError)) throw e;
    }
  }

  private compact(n: SimNode): void {
    if (!n.raw) return;
    const snapIndex = n.storage.snapshot().metadata.index;
    const applied = n.appliedIndex;
    if (applied <= snapIndex + 5 || applied > n.storage.lastIndex()) return;
    this.completeWrites(n, Infinity); // a snapshot is recorded after the writes before it
    n.storage.createSnapshot(applied, n.confState, enc.encode(JSON.stringify([...n.kv])));
    n.storage.compact(applied);
    this.trace(`compact ${n.id} at ${applied}`);
  }

  // ---- network ----

  private send(m: Message, faults: boolean): void {
    if (m.type === 'MsgSnap') return this.sendSnapshot(m, faults);
    if (faults && this.chance(this.o.dropRate)) return;
    const copies = faults && this.chance(this.o.dupRate) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const delay = !faults ? this.int(2) : this.chance(this.o.longDelayRate) ? this.int(this.o.longDelayMaxTicks + 1) : this.int(this.o.maxDelayTicks + 1);
      this.net.push({ at: this.now + delay, seq: this.seq++, m });
    }
  }

  /**
   * The transport's snapshot stream: the snapshot goes in chunks, each of which may be lost
   * or cut; the receiver steps the MsgSnap once the last chunk arrived, and the sender is
   * told the outcome (reportSnapshot), as a real transport does.
   */
  private sendSnapshot(m: Message, faults: boolean): void {
    const chunks = Math.max(1, Math.ceil(m.snapshot!.data.byteLength / this.o.snapshotChunkBytes));
    let at = this.now;
    let ok = true;
    for (let i = 0; i < chunks; i++) {
      at += faults ? this.int(this.o.maxDelayTicks + 1) : this.int(2);
      if (faults && this.chance(this.o.dropRate)) ok = false;
    }
    this.snaps.push({ at, m, ok });
  }

  private deliverSnapshots(): void {
    const due = this.snaps.filter((s) => s.at <= this.now);
    if (due.length === 0) return;
    this.snaps = this.snaps.filter((s) => s.at > this.now);
    for (const { m, ok } of due) {
      const to = this.nodes[m.to - 1];
      const from = this.nodes[m.from - 1];
      const delivered = ok && to.raw !== undefined && !this.paused(to) && !this.cut.has(`${m.from}->${m.to}`);
      if (delivered) to.raw!.step({ ...m, entries: [] });
      if (from.raw && !this.paused(from)) from.raw.reportSnapshot(m.to, delivered);
    }
  }

  private deliver(): void {
    this.deliverSnapshots();
    const due = this.net.filter((f) => f.at <= this.now);
    if (due.length === 0) return;
    this.net = this.net.filter((f) => f.at > this.now);
    due.sort((a, b) => a.at - b.at || a.seq - b.seq);
    for (const f of due) {
      const m = f.m;
      const to = this.nodes[m.to - 1];
      if (!to?.raw || this.cut.has(`${m.from}->${m.to}`)) continue;
      if (this.paused(to)) {
        // A paused process reads its socket when it resumes, over a few turns of its loop.
        this.net.push({ at: to.pausedUntil + this.int(4), seq: f.seq, m });
        continue;
      }
      // Messages are shared objects: deliver a copy so no node can alter another's.
      to.raw.step({ ...m, entries: m.entries.slice() });
    }
  }

  // ---- ready handling: persist, send, apply, advance ----

  private handleReady(n: SimNode, faults: boolean): void {
    const raw = n.raw;
    if (!raw || this.paused(n) || !raw.hasReady()) return;
    const rd = raw.ready();
    if (faults && this.chance(0.002)) {
      // Crash before the write reached the disk: the whole Ready is lost.
      this.crash(n, 'before persisting', 0);
      return;
    }
    let msgs = rd.messages;
    const overlapped = this.o.ownAppend && raw.isLeader && !this.changesTermOrVote(n, rd);
    if (!overlapped) this.completeWrites(n, Infinity); // writes complete in order: this one waits for those in flight
    if (overlapped) {
      // The leader's own messages leave before its write; it may crash in between.
      const early = msgs.filter((m) => LEADER_MESSAGES.has(m.type));
      msgs = msgs.filter((m) => !LEADER_MESSAGES.has(m.type));
      for (const m of early) this.send(m, faults);
      if (faults && early.some((m) => m.type === 'MsgApp' && m.entries.length > 0) && this.chance(this.o.leaderFaultRate)) {
        this.crash(n, 'leader after sending entries, before writing them', 1 + this.int(3 * ELECTION_TICKS));
        return;
      }
    }
    this.persist(n, rd);
    const first = rd.entries[0];
    const last = rd.entries[rd.entries.length - 1];
    // The leader's write is in flight for 0-11 steps (a slow disk): raft reads its entries at once, but they
    // are durable (and counted toward the quorum) only when it completes.
    if (overlapped && last !== undefined) n.writes.push({ from: first.index, index: last.index, term: last.term, due: this.now + this.int(12) });
    const ready = msgs === rd.messages ? rd : { ...rd, messages: msgs };
    if (faults && this.nemesisMidSend(n, ready)) return;
    for (const m of msgs) this.send(m, faults);
    if (faults && this.nemesisAfterSend(n, ready)) return;
    if (rd.snapshot) {
      n.kv = new Map(JSON.parse(dec.decode(rd.snapshot.data)) as [string, string][]);
      n.appliedIndex = rd.snapshot.metadata.index;
      n.confState = rd.snapshot.metadata.confState;
    }
    for (const e of rd.committedEntries) this.apply(n, e);
    for (const rs of rd.readStates) this.onReadState(n, dec.decode(rs.requestCtx), rs.index);
    raw.advance();
    if (this.o.ownAppend && last !== undefined && (!overlapped || this.o.unsafeCountOwnAppendEarly)) raw.ownAppendDurable(last.index, last.term);
  }

  /**
   * A leader whose commit index covers entries its own write has not made durable yet (only
   * the followers' copies count then) crashes, losing them, with the leader fault rate x 30:
   * if it had counted its own copy early, fewer than a quorum would hold a committed entry.
   */
  private nemesisUnsyncedCommit(n: SimNode): void {
    if (!n.raw?.isLeader || n.writes.length === 0 || this.paused(n)) return;
    if (n.raw.raft.raftLog.committed < n.writes[0].from || !this.chance(this.o.leaderFaultRate * 30)) return;
    this.crash(n, 'leader with committed entries not yet durable in its own log', 1 + this.int(3 * ELECTION_TICKS));
  }

  /** The node's writes in flight that are done by step `now` complete, in order. */
  private completeWrites(n: SimNode, now: number): void {
    while (n.raw !== undefined && n.writes.length > 0 && n.writes[0].due <= now) {
      const w = n.writes.shift()!;
      n.raw.ownAppendDurable(w.index, w.term);
    }
  }

  /** A crash: the entries of the writes still in flight never reached the disk. */
  private loseUnsynced(n: SimNode): void {
    if (n.writes.length === 0) return;
    const keep = n.writes[0].from - 1;
    n.writes = [];
    const s = n.storage;
    if (keep >= s.lastIndex()) return;
    if (keep < s.firstIndex() - 1) this.fail(`node ${n.id}: an unsynced write from ${keep + 1} below its snapshot ${s.firstIndex() - 1}`);
    this.trace(`crash of ${n.id} loses its unsynced entries ${keep + 1}..${s.lastIndex()}`);
    const hs = s.hardState;
    if (keep >= s.firstIndex()) {
      s.append(s.entries(keep, keep + 1, Infinity)); // rewriting entry `keep` cuts everything after it
    } else {
      const fresh = new MemoryStorage();
      const snap = s.snapshot();
      if (snap.metadata.index > 0) fresh.applySnapshot(snap);
      n.storage = fresh;
    }
    if (n.storage.lastIndex() !== keep) this.fail(`node ${n.id}: losing unsynced entries left ${n.storage.lastIndex()}, not ${keep}`);
    // The commit index was written with those batches too (raft learns it again).
    n.storage.setHardState({ ...hs, commit: Math.min(hs.commit, keep) });
  }

  private changesTermOrVote(n: SimNode, rd: Ready): boolean {
    if (rd.hardState === undefined) return false;
    const hs = n.storage.initialState().hardState;
    return rd.hardState.term !== hs.term || rd.hardState.vote !== hs.vote;
  }

  /**
   * A leader crashes while sending its first Ready (its empty entry) or one with new
   * entries: only some of the messages leave, so its entries reach a minority; it restarts
   * soon and may campaign again with them (the paper's Figure 8). Returns true if it crashed.
   */
  private nemesisMidSend(n: SimNode, rd: Ready): boolean {
    const raw = n.raw!;
    if (!raw.isLeader) return false;
    const newLeader = rd.softState?.raftState === 'leader';
    const p = newLeader ? this.o.leaderFaultRate * 10 : this.o.leaderFaultRate;
    if (!rd.messages.some((m) => m.type === 'MsgApp' && m.entries.length > 0) || !this.chance(p)) return false;
    for (const m of rd.messages) if (this.chance(0.4)) this.send(m, true);
    this.crash(n, newLeader ? 'new leader while sending' : 'leader while sending entries', 1 + this.int(3 * ELECTION_TICKS));
    return true;
  }

  /**
   * Faults aimed at the windows that matter, right after a Ready's messages left: a leader
   * that just sent new entries crashes (restarting soon, to campaign again with them) or is
   * isolated; a voter that just granted a vote crashes and restarts at once (a lost vote
   * would let it vote again in the same term). Returns true if the node crashed.
   */
  private nemesisAfterSend(n: SimNode, rd: Ready): boolean {
    const raw = n.raw!;
    if (raw.isLeader && rd.messages.some((m) => m.type === 'MsgApp' && m.entries.length > 0) && this.chance(this.o.leaderFaultRate)) {
      if (this.chance(0.7)) {
        this.crash(n, 'leader after sending entries', 1 + this.int(3 * ELECTION_TICKS));
        return true;
      }
      this.isolate(n);
      return false;
    }
    if (rd.messages.some((m) => m.type === 'MsgVoteResp' && !m.reject) && this.chance(this.o.voteCrashRate)) {
      this.crash(n, 'after granting a vote', 1);
      return true;
    }
    return false;
  }

  private persist(n: SimNode, rd: Ready): void {
    if (rd.snapshot) n.storage.applySnapshot(rd.snapshot);
    n.storage.append(rd.entries);
    if (rd.hardState) n.storage.setHardState(rd.hardState);
  }

  private apply(n: SimNode, e: Entry): void {
    if (e.index !== n.appliedIndex + 1) this.fail(`node ${n.id} applies ${e.index} after ${n.appliedIndex}`);
    n.appliedIndex = e.index;
    const data = e.type === 'confChange' ? `cc:${dec.decode(e.data)}` : dec.decode(e.data);
    const prev = this.committed.get(e.index);
    if (prev === undefined) {
      this.committed.set(e.index, { term: e.term, data });
      this.maxCommitted = Math.max(this.maxCommitted, e.index);
      this.checkCommitSafe(n, e);
    } else if (prev.term !== e.term || prev.data !== data) {
      this.fail(`node ${n.id} applied ${describeEntry(e)} but ${prev.term}/${e.index} ${prev.data} was committed`);
    }
    if (e.type === 'confChange') {
      n.confState = n.raw!.applyConfChange(decodeConfChange(e.data));
      return;
    }
    if (e.data.byteLength === 0) return;
    const cmd = JSON.parse(data) as Command;
    // Client sessions (thesis §6.3): a command applied twice (a duplicated forwarded MsgProp
    // is appended twice) takes effect once. The table is part of the state (and snapshots).
    const session = `#client${cmd.client}`;
    if (Number(n.kv.get(session) ?? 0) >= cmd.op) return;
    n.kv.set(session, String(cmd.op));
    n.kv.set(cmd.key, cmd.value);
    for (const c of this.clients) {
      const p = c.pending;
      if (p && c.node === n.id && p.op.input.kind === 'put' && p.opId === cmd.op) {
        p.op.output = null;
        p.op.return = this.now;
        this.trace(`client ${c.id} wrote ${cmd.key}=${cmd.value} at ${e.term}/${e.index} (applied on ${n.id})`);
        c.pending = undefined;
      }
    }
  }

  // ---- clients ----

  private clientsAct(faults: boolean): void {
    for (const c of this.clients) {
      const p = c.pending;
      if (p) {
        if (p.readIndex !== undefined) this.maybeFinishRead(c);
        if (c.pending && this.now > c.pending.deadline) {
          // Timed out: a write's outcome is unknown (stays in the history, open-ended);
          // a read without a result has no effect and is dropped.
          if (c.pending.op.input.kind === 'get') this.history.splice(this.history.indexOf(c.pending.op), 1);
          c.pending = undefined;
          c.node = 1 + this.int(this.nodes.length);
        }
        continue;
      }
      if (!this.chance(faults ? 0.2 : 0.05)) continue;
      // Clients spread over the nodes (and so talk to deposed leaders too).
      if (this.chance(0.3)) c.node = 1 + this.int(this.nodes.length);
      const n = this.nodes[c.node - 1];
      if (!n.raw) {
        c.node = 1 + this.int(this.nodes.length);
        continue;
      }
      if (this.paused(n)) continue; // its socket is not read: the client waits
      const key = `k${this.int(3)}`;
      const opId = this.nextOp++;
      if (this.chance(0.5)) {
        const value = `v${opId}`;
        const op: Operation<KvInput, KvOutput> = { clientId: c.id, input: { kind: 'put', key, value }, output: undefined, call: this.now, return: Infinity };
        const cmd: Command = { client: c.id, op: opId, key, value };
        try {
          n.raw.propose(enc.encode(JSON.stringify(cmd)));
        } catch (e) {
          if (!(e instanceof ProposalDroppedError)) throw e;
          c.node = 1 + this.int(this.nodes.length); // definitely not applied: not recorded
          continue;
        }
        this.history.push(op);
        c.pending = { op, opId, deadline: this.now + CLIENT_TIMEOUT_TICKS };
      } else {
        const op: Operation<KvInput, KvOutput> = { clientId: c.id, input: { kind: 'get', key }, output: undefined, call: this.now, return: Infinity };
        const ctx = `r${opId}`;
        try {
          if (this.o.lease && n.raw.isLeader && n.raw.raft.leaseValid()) this.stats.leaseReads++;
          n.raw.readIndex(enc.encode(ctx));
        } catch (e) {
          if (!(e instanceof ProposalDroppedError)) throw e;
          c.node = 1 + this.int(this.nodes.length);
          continue;
        }
        this.history.push(op);
        c.pending = { op, opId, ctx, deadline: this.now + CLIENT_TIMEOUT_TICKS };
      }
    }
  }

  private onReadState(n: SimNode, ctx: string, index: number): void {
    for (const c of this.clients) {
      if (c.pending?.ctx === ctx && c.node === n.id) c.pending.readIndex = index;
    }
  }

  private maybeFinishRead(c: Client): void {
    const p = c.pending!;
    const n = this.nodes[c.node - 1];
    if (!n.raw || this.paused(n)) return; // crashed: the read times out; paused: it waits
    if (n.appliedIndex < p.readIndex!) return;
    if (p.op.input.kind !== 'get') return;
    p.op.output = n.kv.get(p.op.input.key) ?? null;
    p.op.return = this.now;
    this.trace(`client ${c.id} read ${p.op.input.key}=${p.op.output} on ${n.id} (read index ${p.readIndex}, applied ${n.appliedIndex}, ${n.raw.raft.state} term ${n.raw.raft.term})`);
    c.pending = undefined;
  }

  // ---- checkers ----

  private checkLeaders(): void {
    for (const n of this.nodes) {
      const r = n.raw?.raft;
      if (!r || r.state !== 'leader') continue;
      const prev = this.leaders.get(r.term);
      if (prev === undefined) {
        this.leaders.set(r.term, n.id);
        this.trace(`${n.id} is leader of term ${r.term}`);
        this.checkLeaderCompleteness(n);
      } else if (prev !== n.id) {
        this.fail(`two leaders in term ${r.term}: ${prev} and ${n.id}`);
      }
    }
  }

  /**
   * Leader completeness, checked when an entry is first applied, before anything can go
   * wrong: no voter that lacks the entry could win an election, i.e. the voters that would
   * find its log up to date (§5.4.1; by their log in memory or on disk) are no quorum of the
   * applying node's configuration. Raft guarantees this for a committed entry (the quorum
   * that holds it intersects every electing quorum); committing an entry that is merely on
   * a quorum (the paper's Figure 8) does not.
   */
  private checkCommitSafe(n: SimNode, e: Entry): void {
    const cfg = n.raw!.raft.trk.config;
    const logs = this.nodes.map((x) => ({ id: x.id, views: this.logViews(x) }));
    for (const x of logs) {
      if (!cfg.voters.has(x.id)) continue;
      for (const xv of x.views) {
        const t = xv.term(e.index);
        if (t === undefined || t === e.term) continue; // holds the entry (or compacted it)
        const votes = new Map<number, boolean>();
        for (const y of logs) {
          if (!cfg.voters.has(y.id)) continue;
          const grant = y.views.some((yv) => xv.lastTerm > yv.lastTerm || (xv.lastTerm === yv.lastTerm && xv.lastIndex >= yv.lastIndex));
          votes.set(y.id, grant);
        }
        if (cfg.voters.voteResult(votes) === 'won') {
          this.fail(`entry ${e.term}/${e.index} applied on ${n.id}, but ${x.id} (last ${xv.lastTerm}/${xv.lastIndex}) lacks it and could be elected by ${[...votes].filter(([, v]) => v).map(([id]) => id).join(',')}`);
        }
      }
    }
  }

  /** A node's log as it would campaign or vote with it: in memory, and (if different) on disk. */
  private logViews(x: SimNode): { lastIndex: number; lastTerm: number; term(i: number): number | undefined }[] {
    const disk = x.storage;
    const diskView = {
      lastIndex: disk.lastIndex(),
      lastTerm: disk.term(disk.lastIndex()),
      // Compacted entries were applied, so held: report them as matching.
      term: (i: number) => (i < disk.firstIndex() - 1 ? undefined : i <= disk.lastIndex() ? disk.term(i) : -1),
    };
    if (!x.raw) return [diskView];
    const log = x.raw.raft.raftLog;
    const memView = {
      lastIndex: log.lastIndex(),
      lastTerm: log.lastTerm(),
      term: (i: number) => (i < log.firstIndex() - 1 ? undefined : i <= log.lastIndex() ? log.zeroTermOnOutOfBounds(i) : -1),
    };
    return [memView, diskView];
  }

  /** A new leader's log holds every entry committed so far (§5.4). */
  private checkLeaderCompleteness(n: SimNode): void {
    const log = n.raw!.raft.raftLog;
    const first = log.firstIndex();
    for (let i = first; i <= this.maxCommitted; i++) {
      const c = this.committed.get(i);
      if (!c) continue;
      const t = log.zeroTermOnOutOfBounds(i);
      if (t !== c.term) this.fail(`leader ${n.id} (term ${n.raw!.raft.term}) lacks committed entry ${c.term}/${i} (has term ${t})`);
    }
  }

  /** If two logs hold an entry with the same index and term, they are identical up to it. */
  checkLogMatching(): void {
    const logs = this.nodes
      .filter((n) => n.raw)
      .map((n) => {
        const l = n.raw!.raft.raftLog;
        const first = l.firstIndex();
        return { id: n.id, first, ents: l.slice(first, l.lastIndex() + 1, Infinity) };
      });
    for (let a = 0; a < logs.length; a++) {
      for (let b = a + 1; b < logs.length; b++) {
        const A = logs[a];
        const B = logs[b];
        const lo = Math.max(A.first, B.first);
        const hi = Math.min(A.first + A.ents.length, B.first + B.ents.length) - 1;
        let matched = false;
        for (let i = hi; i >= lo; i--) {
          const ea = A.ents[i - A.first];
          const eb = B.ents[i - B.first];
          if (ea.term === eb.term) matched = true;
          if (!matched) continue;
          if (ea.term !== eb.term || dec.decode(ea.data) !== dec.decode(eb.data) || ea.type !== eb.type) {
            this.fail(`log matching violated between ${A.id} and ${B.id} at index ${i}: ${describeEntry(ea)} vs ${describeEntry(eb)}`);
          }
        }
      }
    }
  }

  /** After quiescence: nodes that applied the same index hold the same state. */
  private checkFinalStates(): void {
    const byIndex = new Map<number, { id: number; state: string }>();
    for (const n of this.nodes) {
      if (!n.raw) continue;
      const state = JSON.stringify([...n.kv].sort());
      const prev = byIndex.get(n.appliedIndex);
      if (prev && prev.state !== state) this.fail(`nodes ${prev.id} and ${n.id} differ at applied index ${n.appliedIndex}`);
      byIndex.set(n.appliedIndex, { id: n.id, state });
    }
  }

  private checkLinearizable(): void {
    const r = checkOperations(kvModel, this.history);
    if (r === 'illegal') this.fail(`client history of ${this.history.length} operations is not linearizable`);
  }
}

export function runSimulation(opts: SimOptions): SimResult {
  return new Simulation(opts).run();
}
