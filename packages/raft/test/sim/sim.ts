// A deterministic simulation of a Raft group: real RawNodes in one process, a simulated
// clock (ticks), a network that drops, delays, duplicates, reorders and partitions
// (including one-way), crashes that lose everything not persisted, random membership
// changes and leadership transfers, and a client workload on a key-value map. One seed
// drives everything; the same seed replays the same run exactly.
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
}

export class SimFailure extends Error {
  constructor(
    readonly seed: number,
    message: string,
  ) {
    super(`seed ${seed}: ${message}\nreplay: node packages/raft/scripts/sim.js --seed ${seed} --trace`);
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

export class Simulation {
  readonly rng: () => number;
  readonly o: Required<SimOptions>;
  now = 0;
  nodes: SimNode[] = [];
  net: InFlight[] = [];
  seq = 0;
  /** Directed links that are cut: `${from}->${to}`. */
  cut = new Set<string>();
  /** term -> leader id. */
  leaders = new Map<number, number>();
  /** index -> the committed entry, as first applied anywhere. */
  committed = new Map<number, { term: number; data: string }>();
  maxCommitted = 0;
  history: Operation<KvInput, KvOutput>[] = [];
  clients: Client[] = [];
  nextOp = 1;
  stats = { crashes: 0, confChanges: 0 };

  constructor(opts: SimOptions) {
    this.o = {
      steps: 3000,
      maxNodes: 5,
      initialVoters: 3,
      dropRate: 0.05,
      dupRate: 0.02,
      maxDelayTicks: 3,
      crashRate: 0.002,
      partitionRate: 0.003,
      confChangeRate: 0.003,
      transferRate: 0.002,
      clients: 3,
      trace: false,
      ...opts,
    };
    this.rng = seededRandom(opts.seed);
    const voters = Array.from({ length: this.o.initialVoters }, (_, i) => i + 1);
    for (let id = 1; id <= this.o.maxNodes; id++) {
      const storage = new MemoryStorage();
      if (id <= this.o.initialVoters) {
        storage.applySnapshot({ metadata: { index: 1, term: 1, confState: confStateOf(voters) }, data: enc.encode('[]') });
        storage.setHardState({ term: 1, vote: 0, commit: 1 });
      }
      const n: SimNode = { id, storage, raw: undefined, kv: new Map(), appliedIndex: 0, confState: storage.initialState().confState };
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
    throw new SimFailure(this.o.seed, `t=${this.now}: ${msg}`);
  }

  private start(n: SimNode): void {
    // Restart from the disk: the state machine is rebuilt from the snapshot, then the log.
    const snap = n.storage.snapshot();
    n.kv = new Map(snap.data.byteLength > 0 ? (JSON.parse(dec.decode(snap.data)) as [string, string][]) : []);
    n.appliedIndex = snap.metadata.index;
    n.confState = snap.metadata.confState;
    n.raw = new RawNode({
      id: n.id,
      electionTimeoutTicks: ELECTION_TICKS,
      heartbeatTimeoutTicks: HEARTBEAT_TICKS,
      storage: n.storage,
      random: this.rng,
      preVote: true,
      checkQuorum: true,
      maxInflightMsgs: 16,
      maxSizePerMsgBytes: 4096,
      maxUncommittedEntriesSizeBytes: 1 << 20,
    });
  }

  run(): SimResult {
    for (let s = 0; s < this.o.steps; s++) this.step(true);
    // Quiesce: heal, restart everything, and let the group settle; then check liveness.
    this.cut.clear();
    for (const n of this.nodes) if (!n.raw) this.start(n);
    for (let s = 0; s < 60 * ELECTION_TICKS; s++) this.step(false);
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
    };
  }

  private step(faults: boolean): void {
    this.now++;
    if (faults) this.injectFaults();
    for (const n of this.nodes) n.raw?.tick();
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
      if (n.raw) {
        this.trace(`crash ${n.id}`);
        n.raw = undefined;
        this.stats.crashes++;
      }
    }
    for (const n of this.nodes) if (!n.raw && this.chance(0.02)) this.restart(n);
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
    const leader = this.nodes.find((n) => n.raw?.isLeader);
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
    n.storage.createSnapshot(applied, n.confState, enc.encode(JSON.stringify([...n.kv])));
    n.storage.compact(applied);
    this.trace(`compact ${n.id} at ${applied}`);
  }

  // ---- network ----

  private send(m: Message, faults: boolean): void {
    if (faults && this.chance(this.o.dropRate)) return;
    const copies = faults && this.chance(this.o.dupRate) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const delay = faults ? this.int(this.o.maxDelayTicks + 1) : this.int(2);
      this.net.push({ at: this.now + delay, seq: this.seq++, m });
    }
  }

  private deliver(): void {
    const due = this.net.filter((f) => f.at <= this.now);
    if (due.length === 0) return;
    this.net = this.net.filter((f) => f.at > this.now);
    due.sort((a, b) => a.at - b.at || a.seq - b.seq);
    for (const { m } of due) {
      const to = this.nodes[m.to - 1];
      if (!to?.raw || this.cut.has(`${m.from}->${m.to}`)) continue;
      // Messages are shared objects: deliver a copy so no node can alter another's.
      to.raw.step({ ...m, entries: m.entries.slice() });
    }
  }

  // ---- ready handling: persist, send, apply, advance ----

  private handleReady(n: SimNode, faults: boolean): void {
    const raw = n.raw;
    if (!raw || !raw.hasReady()) return;
    const rd = raw.ready();
    if (faults && this.chance(0.002)) {
      // Crash before the write reached the disk: the whole Ready is lost.
      this.trace(`crash ${n.id} before persisting`);
      n.raw = undefined;
      this.stats.crashes++;
      return;
    }
    this.persist(n, rd);
    for (const m of rd.messages) this.send(m, faults);
    if (rd.snapshot) {
      n.kv = new Map(JSON.parse(dec.decode(rd.snapshot.data)) as [string, string][]);
      n.appliedIndex = rd.snapshot.metadata.index;
      n.confState = rd.snapshot.metadata.confState;
    }
    for (const e of rd.committedEntries) this.apply(n, e);
    for (const rs of rd.readStates) this.onReadState(n, dec.decode(rs.requestCtx), rs.index);
    raw.advance();
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
    } else if (prev.term !== e.term || prev.data !== data) {
      this.fail(`node ${n.id} applied ${describeEntry(e)} but ${prev.term}/${e.index} ${prev.data} was committed`);
    }
    if (e.type === 'confChange') {
      n.confState = n.raw!.applyConfChange(decodeConfChange(e.data));
      return;
    }
    if (e.data.byteLength === 0) return;
    const cmd = JSON.parse(data) as Command;
    n.kv.set(cmd.key, cmd.value);
    for (const c of this.clients) {
      const p = c.pending;
      if (p && c.node === n.id && p.op.input.kind === 'put' && p.opId === cmd.op) {
        p.op.output = null;
        p.op.return = this.now;
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
      const n = this.nodes[c.node - 1];
      if (!n.raw) {
        c.node = 1 + this.int(this.nodes.length);
        continue;
      }
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
        c.pending = { op, opId, deadline: this.now + 20 * ELECTION_TICKS };
      } else {
        const op: Operation<KvInput, KvOutput> = { clientId: c.id, input: { kind: 'get', key }, output: undefined, call: this.now, return: Infinity };
        const ctx = `r${opId}`;
        try {
          n.raw.readIndex(enc.encode(ctx));
        } catch (e) {
          if (!(e instanceof ProposalDroppedError)) throw e;
          c.node = 1 + this.int(this.nodes.length);
          continue;
        }
        this.history.push(op);
        c.pending = { op, opId, ctx, deadline: this.now + 20 * ELECTION_TICKS };
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
    if (!n.raw) return; // the node crashed: the read times out
    if (n.appliedIndex < p.readIndex!) return;
    if (p.op.input.kind !== 'get') return;
    p.op.output = n.kv.get(p.op.input.key) ?? null;
    p.op.return = this.now;
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
