// The interaction environment: a small cluster of RawNodes driven step by step by the
// commands of testdata/*.txt, printing what happens (Ready contents, messages delivered,
// the library's info logs) as the transcript.

import {
  ConfChangeSingle,
  ConfState,
  ConfChangeTransition,
  Entry,
  MemoryStorage,
  Message,
  RawNode,
  RaftError,
  confStateOf,
  decodeConfChange,
  describeEntry,
  describeMessage,
  describeReady,
} from '../../src';
import { TestCase, argInt, argInts, argStr, positional } from './datadriven';

/**
 * Like etcd's interaction env, the leader's snapshot is taken on demand at its applied
 * index, as an application would; MemoryStorage alone only has the last one created.
 */
class EnvStorage extends MemoryStorage {
  onSnapshot: (() => void) | undefined = undefined;
  override snapshot() {
    this.onSnapshot?.();
    return super.snapshot();
  }
  storedSnapshot() {
    return super.snapshot();
  }
}

interface EnvNode {
  id: number;
  raw: RawNode | undefined; // undefined while crashed
  storage: EnvStorage;
  confState: ConfState;
  opts: NodeOpts;
  /** The "state machine": payloads applied, in order. */
  applied: string[];
}

interface NodeOpts {
  preVote: boolean;
  checkQuorum: boolean;
  readOnly: 'safe' | 'leaseBased';
  maxInflight: number;
  maxUncommittedBytes: number;
  maxSizePerMsgBytes: number;
}

const ELECTION_TICKS = 3;
const HEARTBEAT_TICKS = 1;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class InteractionEnv {
  nodes: EnvNode[] = [];
  queue: Message[] = [];
  isolated = new Set<number>();
  out: string[] = [];
  indent = '';
  logging = true;

  handle(tc: TestCase): string {
    this.out = [];
    this.indent = '';
    try {
      this.dispatch(tc);
    } catch (e) {
      if (e instanceof RaftError) this.print(`error: ${e.message}`);
      else throw e;
    }
    return this.out.join('\n');
  }

  private print(s: string): void {
    for (const l of s.split('\n')) this.out.push(this.indent + l);
  }

  private node(id: number): EnvNode {
    const n = this.nodes[id - 1];
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  private raw(id: number): RawNode {
    const r = this.node(id).raw;
    if (!r) throw new Error(`node ${id} is crashed`);
    return r;
  }

  private ids(tc: TestCase): number[] {
    const p = positional(tc).map(Number);
    return p.length > 0 ? p : this.nodes.filter((n) => n.raw).map((n) => n.id);
  }

  private dispatch(tc: TestCase): void {
    const ids = () => this.ids(tc);
    switch (tc.cmd) {
      case 'add-nodes':
        return this.addNodes(tc);
      case 'log-level':
        this.logging = positional(tc)[0] !== 'none';
        return;
      case 'campaign':
        return this.raw(ids()[0]).campaign();
      case 'propose': {
        const [id, data] = positional(tc);
        return this.raw(Number(id)).propose(encoder.encode(data));
      }
      case 'propose-conf-change':
        return this.proposeConfChange(tc);
      case 'read-index': {
        const [id, ctx] = positional(tc);
        return this.raw(Number(id)).readIndex(encoder.encode(ctx));
      }
      case 'transfer-leadership':
        return this.raw(argInt(tc, 'from')).transferLeader(argInt(tc, 'to'));
      case 'tick-heartbeat':
        for (const id of ids()) for (let i = 0; i < HEARTBEAT_TICKS; i++) this.withLogs(id, () => this.raw(id).tick());
        return;
      case 'tick-election':
        for (const id of ids()) for (let i = 0; i < ELECTION_TICKS; i++) this.withLogs(id, () => this.raw(id).tick());
        return;
      case 'process-ready':
        for (const id of ids()) this.processReady(id);
        return;
      case 'deliver-msgs': {
        const drop = new Set(argInts(tc, 'drop') ?? []);
        for (const id of ids()) this.deliver(id, drop.has(id));
        for (const id of drop) if (!positional(tc).map(Number).includes(id)) this.deliver(id, true);
        return;
      }
      case 'stabilize':
        return this.stabilize(ids());
      case 'isolate':
        for (const id of positional(tc)) this.isolated.add(Number(id));
        return;
      case 'heal':
        // Messages sent across the partition while it lasted are lost.
        this.queue = this.queue.filter((m) => !this.isolated.has(m.from) && !this.isolated.has(m.to));
        this.isolated.clear();
        return;
      case 'raft-state':
        return this.raftState();
      case 'raft-log':
        return this.raftLog(ids()[0]);
      case 'status':
        return this.status(ids()[0]);
      case 'applied':
        for (const id of ids()) this.print(`${id}: [${this.node(id).applied.join(' ')}]`);
        return;
      case 'compact': {
        const [id, index] = positional(tc).map(Number);
        const n = this.node(id);
        n.storage.createSnapshot(index, n.confState, encoder.encode(JSON.stringify(n.applied.slice())));
        n.storage.compact(index);
        return this.raftLog(id);
      }
      case 'crash': {
        const id = ids()[0];
        this.node(id).raw = undefined;
        // Unpersisted state and messages not yet on the wire are lost.
        this.queue = this.queue.filter((m) => m.from !== id && m.to !== id);
        this.print(`${id} crashed`);
        return;
      }
      case 'restart':
        return this.restart(ids()[0]);
      default:
        throw new Error(`${tc.pos}: unknown command ${tc.cmd}`);
    }
  }

  private addNodes(tc: TestCase): void {
    const n = Number(positional(tc)[0]);
    const voters = argInts(tc, 'voters');
    const learners = argInts(tc, 'learners') ?? [];
    const index = argInt(tc, 'index', 1);
    const opts: NodeOpts = {
      preVote: argStr(tc, 'prevote') === 'true',
      checkQuorum: argStr(tc, 'checkquorum') === 'true',
      readOnly: argStr(tc, 'read-only') === 'lease' ? 'leaseBased' : 'safe',
      maxInflight: argInt(tc, 'max-inflight', 256),
      maxUncommittedBytes: argInt(tc, 'max-uncommitted-size', 0),
      maxSizePerMsgBytes: argInt(tc, 'max-msg-size', 1024 * 1024),
    };
    for (let k = 0; k < n; k++) {
      const id = this.nodes.length + 1;
      const storage = new EnvStorage();
      if (voters) {
        storage.applySnapshot({ metadata: { index, term: 1, confState: confStateOf(voters, learners) }, data: encoder.encode('[]') });
        storage.setHardState({ term: 1, vote: 0, commit: index });
      }
      const node: EnvNode = { id, raw: undefined, storage, opts, applied: [], confState: storage.initialState().confState };
      storage.onSnapshot = () => {
        const applied = node.raw?.raft.raftLog.applied ?? 0;
        if (applied <= storage.storedSnapshot().metadata.index) return;
        storage.createSnapshot(applied, node.confState, encoder.encode(JSON.stringify(node.applied)));
      };
      this.nodes.push(node);
      this.start(node);
    }
  }

  private start(node: EnvNode): void {
    const o = node.opts;
    node.confState = node.storage.initialState().confState;
    node.raw = new RawNode({
      id: node.id,
      electionTimeoutTicks: ELECTION_TICKS,
      heartbeatTimeoutTicks: HEARTBEAT_TICKS,
      storage: node.storage,
      random: () => 0, // randomized timeout = electionTimeoutTicks: transcripts stay stable
      preVote: o.preVote,
      checkQuorum: o.checkQuorum,
      readOnlyOption: o.readOnly,
      maxInflightMsgs: o.maxInflight,
      maxUncommittedEntriesSizeBytes: o.maxUncommittedBytes,
      maxSizePerMsgBytes: o.maxSizePerMsgBytes,
      logger: { info: (msg) => this.logging && this.print(`INFO ${msg}`) },
    });
    node.applied = JSON.parse(decoder.decode(node.storage.snapshot().data.byteLength > 0 ? node.storage.snapshot().data : encoder.encode('[]')));
  }

  private restart(id: number): void {
    const n = this.node(id);
    // Messages to a crashed node are lost.
    this.queue = this.queue.filter((m) => m.to !== id);
    this.start(n);
  }

  private withLogs(id: number, f: () => void): void {
    void id;
    f();
  }

  private proposeConfChange(tc: TestCase): void {
    const [idStr, ...specs] = positional(tc);
    const changes: ConfChangeSingle[] = specs.map((s) => {
      const nodeId = Number(s.slice(1));
      const type = s[0] === 'v' ? 'addNode' : s[0] === 'l' ? 'addLearnerNode' : s[0] === 'r' ? 'removeNode' : undefined;
      if (!type) throw new Error(`${tc.pos}: bad change ${s}`);
      return { type, nodeId };
    });
    const transition = (argStr(tc, 'transition') ?? 'auto') as ConfChangeTransition;
    this.raw(Number(idStr)).proposeConfChange({ transition, changes });
  }

  processReady(id: number): void {
    const n = this.node(id);
    const raw = n.raw;
    if (!raw || !raw.hasReady()) return;
    this.print(`> ${id} handling Ready`);
    const saved = this.indent;
    this.indent = saved + '  ';
    const rd = raw.ready();
    this.print(describeReady(rd));
    // 1. persist
    if (rd.snapshot) {
      n.storage.applySnapshot(rd.snapshot);
      n.applied = JSON.parse(decoder.decode(rd.snapshot.data));
      n.confState = rd.snapshot.metadata.confState;
    }
    n.storage.append(rd.entries);
    if (rd.hardState) n.storage.setHardState(rd.hardState);
    // 2. send
    for (const m of rd.messages) this.queue.push(m);
    // 3. apply
    for (const e of rd.committedEntries) this.apply(n, e);
    // 4. advance
    raw.advance();
    this.indent = saved;
  }

  private apply(n: EnvNode, e: Entry): void {
    if (e.type === 'confChange') {
      n.confState = n.raw!.applyConfChange(decodeConfChange(e.data));
      n.applied.push(`cc@${e.index}`);
    } else if (e.data.byteLength > 0) {
      n.applied.push(decoder.decode(e.data));
    }
  }

  deliver(id: number, drop: boolean): void {
    const msgs = this.queue.filter((m) => m.to === id);
    if (msgs.length === 0) return;
    this.queue = this.queue.filter((m) => m.to !== id);
    const n = this.node(id);
    this.print(`> ${id} receiving messages`);
    const saved = this.indent;
    this.indent = saved + '  ';
    for (const m of msgs) {
      if (drop || !n.raw || this.isolated.has(m.from) || this.isolated.has(m.to)) {
        this.print(`dropped: ${describeMessage(m)}`);
        continue;
      }
      this.print(describeMessage(m));
      try {
        n.raw.step(m);
      } catch (e) {
        if (e instanceof RaftError) this.print(`error: ${e.message}`);
        else throw e;
      }
    }
    this.indent = saved;
  }

  private stabilize(ids: number[]): void {
    for (let round = 0; ; round++) {
      if (round > 1000) throw new Error('stabilize did not converge');
      let done = true;
      for (const id of ids) {
        if (this.node(id).raw?.hasReady()) {
          done = false;
          this.processReady(id);
        }
      }
      for (const id of ids) {
        if (this.queue.some((m) => m.to === id)) {
          done = false;
          this.deliver(id, false);
        }
      }
      if (done) return;
    }
  }

  private raftState(): void {
    for (const n of this.nodes) {
      if (!n.raw) {
        this.print(`${n.id}: crashed`);
        continue;
      }
      const r = n.raw.raft;
      const role = r.trk.config.voters.has(n.id) ? 'Voter' : r.trk.config.learners.has(n.id) ? 'Learner' : 'Non-Member';
      this.print(`${n.id}: ${r.state} (${role}) Term:${r.term} Lead:${r.lead}`);
    }
  }

  private raftLog(id: number): void {
    const n = this.node(id);
    const log = n.raw ? n.raw.raft.raftLog : undefined;
    const first = log ? log.firstIndex() : n.storage.firstIndex();
    const last = log ? log.lastIndex() : n.storage.lastIndex();
    if (last < first) {
      this.print(`log is empty: first index=${first}, last index=${last}`);
      return;
    }
    const ents = log ? log.slice(first, last + 1, Infinity) : n.storage.entries(first, last + 1, Infinity);
    for (const e of ents) this.print(describeEntry(e));
  }

  private status(id: number): void {
    const st = this.raw(id).status();
    this.print(`${id}: ${st.softState.raftState} term=${st.hardState.term} commit=${st.hardState.commit} applied=${st.applied} ${st.config}`);
    if (!st.progress) return;
    this.raw(id).raft.trk.visit((pid, pr) => this.print(`${pid}: ${pr}`));
  }
}
