// One node of a replicated shard inside one process: a KeelServer whose writes go through
// raft (ReplicatedWritePath) and whose reads go through ReadIndex (server.readPath), a
// RaftDriver, the node-to-node Transport, and the node's log store.
//
// With a durable store (packages/wal's DurableStorage, opened by the CLI) the node:
//   - on start, restores the engine from the store's current snapshot, then opens raft with
//     applied = the snapshot's index; raft hands back the committed entries after it;
//   - bootstraps a brand-new store with a snapshot at index 1 holding the empty engine;
//   - takes a snapshot when the log since the last one holds snapshotEntries writes or
//     snapshotBytes bytes: a SnapshotJob captures the engine between two applies, then encodes
//     it in slices (a setImmediate between slices, so clients keep being served) streamed into
//     the store's snapshot writer, which then compacts the log;
//   - sends a lagging follower the snapshot file in chunks (Transport), and, as a follower,
//     restores its engine from a snapshot it received.
//
// Membership (membership.ts, membership-admin.ts): the member book (addresses) is replicated
// state, kept beside raft's configuration; the node applies conf changes to it, writes it into
// every snapshot, and points the transport at its members. A node the shard removed stops
// serving: every read and write gets CLUSTERDOWN, its raft node and transport stop.

import { performance } from 'node:perf_hooks';
import { Engine, engineCommands, SnapshotJob, SnapshotLoader, snapshotToBuffer } from '@keel/engine';
import { decodeConfChange, Entry, Message, NodeId, NONE, ReadState, Snapshot, SoftState } from '@keel/raft';
import { ServerConfig } from '../config';
import { KeelServer } from '../server';
import { RaftDriver, StateMachine } from './driver';
import { DurableLogStore, hasSnapshotFiles, isFresh, LogStore, MemoryLogStore } from './log-store';
import { ReadIndexReads } from './read-index';
import { ReplicatedWritePath } from './replicated-write-path';
import { PeerAddress, Transport } from './transport';
import { IndexWaits, registerInfo, transferLeaderSpec, Waits } from './admin';
import { confMembers, MemberBook, MembershipError, ShardMember } from './membership';
import { addNodeSpec, removeNodeSpec } from './membership-admin';
import { followerCommands, LeaderProxy } from './leader-proxy';
import { opCount } from './op-codec';
import type { Client } from '../client';

export type { ShardMember } from './membership';

export interface ShardNodeOptions {
  id: NodeId;
  /**
   * The shard's members, this node included, for a new store (its bootstrap snapshot records
   * them) or one written before member books existed. A store that has a member book ignores
   * them. With `join`, the members to expect contact from (the leader adds this node).
   */
  members: ShardMember[];
  /** Join a running shard: a new store waits, empty, for the leader to add this node and send a snapshot. */
  join?: boolean;
  server?: Partial<ServerConfig>;
  store?: LogStore;
  tickMs?: number;
  electionTimeoutTicks?: number;
  heartbeatTimeoutTicks?: number;
  commitTimeoutMs?: number;
  readTimeoutMs?: number;
  /**
   * Lease reads (raft's readOnlyOption 'leaseBased'; set it alike on every node of a shard): the
   * leader serves reads without a ReadIndex round while its lease holds. Assumes the nodes'
   * clocks run at rates within 5% of each other (docs/guarantees.md). Default false.
   */
  leaseReads?: boolean;
  /** Client sessions this node forwards to the leader at once as a follower (0: none). Default 1024. */
  forwardSessionsMax?: number;
  /**
   * A snapshot is taken when this many writes were applied since the last one (a write: a
   * command, a MULTI/EXEC block, an expiry; a log entry holds the writes of one proposal,
   * and other entries count one each). Default 100000.
   */
  snapshotEntries?: number;
  /** ... or when this many bytes of entries were. Default 64 MiB. */
  snapshotBytes?: number;
  /**
   * ... and only once the log since the last snapshot holds at least this percentage of that
   * snapshot's size (Redis's auto-aof-rewrite-percentage): a big dataset is not rewritten for a
   * small amount of log. Default 100; 0 turns the rule off.
   */
  snapshotGrowthPercent?: number;
  /** Bytes of engine encoding per slice (one slice per event-loop turn). Default 64 KiB. */
  snapshotSliceBytes?: number;
  /** A write this node proposed was applied `ms` after its proposal (metrics). */
  onCommitted?(ms: number): void;
  /**
   * TEST ONLY, BREAKS LINEARIZABILITY: every node answers reads from its own state at once, with
   * no ReadIndex (a follower or a deposed leader serves stale data). jepsen-lite runs against it
   * to prove its checkers find stale reads. Never set in production; default false.
   */
  unsafeTestStaleReads?: boolean;
  onFatal?(err: Error): void;
}

export interface SnapshotStats {
  taken: number;
  installed: number;
  lastIndex: number;
  lastBytes: number;
  lastMs: number;
  /** The longest single slice of the last snapshot (the capture included): the event-loop stall. */
  lastSliceMsMax: number;
  lastCaptureMs: number;
}

const DEFAULT_SNAPSHOT_ENTRIES = 100_000;
const DEFAULT_SNAPSHOT_BYTES = 64 * 1024 * 1024;
const DEFAULT_SNAPSHOT_GROWTH_PERCENT = 100;
const CONF_APPLIED_MAX = 64;

export class ShardNode implements StateMachine {
  readonly server: KeelServer;
  readonly transport: Transport;
  readonly store: LogStore;
  driver!: RaftDriver;
  writes!: ReplicatedWritePath;
  reads!: ReadIndexReads;
  proxy!: LeaderProxy;
  readonly snapshots: SnapshotStats = { taken: 0, installed: 0, lastIndex: 0, lastBytes: 0, lastMs: 0, lastSliceMsMax: 0, lastCaptureMs: 0 };
  /** What start() found in the store. */
  recovered = { fresh: false, snapshotIndex: 0, lastIndex: 0, commit: 0 };
  /** When each peer last acknowledged an append or heartbeat (performance.now()). */
  readonly lastAckMs = new Map<NodeId, number>();
  /** When a message from the leader last arrived (performance.now(); 0: never). */
  lastLeaderContactMs = 0;
  /** Times the leader this node knows of changed (metrics). */
  leaderChanges = 0;
  private lastLeader: NodeId = NONE;
  /** Blocked WAIT commands. */
  readonly waits: Waits;
  /** KEEL.WAITINDEX: clients waiting for this node to apply up to an index. */
  readonly indexWaits: IndexWaits;
  private readonly opts: ShardNodeOptions;
  private readonly durable: DurableLogStore | null;
  private closed = false;
  /** Index of the last snapshot taken or installed, and entry bytes applied since. */
  private snapIndex = 0;
  private bytesSinceSnap = 0;
  /** Writes applied since the last snapshot (see snapshotEntries). */
  private writesSinceSnap = 0;
  private snapshotJob: { job: SnapshotJob; aborted: boolean; done: Promise<void> } | null = null;
  /** Every member's addresses, as of the applied index (replicated state; see membership.ts). */
  book: MemberBook;
  /** Set once this node learned that the shard removed it: the index of its removal. */
  removedAt: number | null = null;
  /** A KEEL.ADDNODE / KEEL.REMOVENODE is running on this node. */
  membershipBusy = false;
  /** Conf change entries applied, index → term (the newest CONF_APPLIED_MAX): did a proposed change apply? */
  readonly confApplied = new Map<number, number>();

  constructor(opts: ShardNodeOptions) {
    this.opts = opts;
    const me = opts.members.find((m) => m.id === opts.id);
    if (me === undefined) throw new Error(`node ${opts.id} is not among the shard's members`);
    this.server = new KeelServer(opts.server ?? {});
    this.store = opts.store ?? new MemoryLogStore();
    this.durable = hasSnapshotFiles(this.store) ? this.store : null;
    this.book = MemberBook.of(opts.members);
    const ctx = this.store.snapshot().metadata.context;
    if (ctx !== undefined) {
      try {
        this.book = MemberBook.decode(ctx);
      } catch (e) {
        throw new Error(`the member book in snapshot ${this.store.snapshot().metadata.index} is unreadable: ${(e as Error).message}`);
      }
    }
    const peers: PeerAddress[] = this.book.list().map((m) => ({ id: m.id, host: m.host, port: m.clusterPort }));
    const durable = this.durable;
    this.transport = new Transport({
      id: opts.id,
      host: me.host,
      port: me.clusterPort,
      peers,
      onMessage: (m) => {
        const now = performance.now();
        if (m.type === 'MsgAppResp' || m.type === 'MsgHeartbeatResp') this.lastAckMs.set(m.from, now);
        else if (m.from === this.driver.leader) this.lastLeaderContactMs = now;
        this.driver.step(m);
        this.waits.poke();
      },
      onUnreachable: (id) => this.driver.reportUnreachable(id),
      onSnapshotStatus: (id, ok) => this.driver.reportSnapshot(id, ok),
      openSnapshot: durable ? (index) => durable.openSnapshot(index) : undefined,
      receiveSnapshot: durable ? (meta) => durable.receiveSnapshot(meta) : undefined,
      onRemoved: (by, index) => this.onRemoved(index, `node ${by} says so`),
      log: this.server.log,
    });
    this.waits = new Waits(this);
    this.indexWaits = new IndexWaits(this);
    this.server.engine.commands.add([this.waits.spec(), ...this.indexWaits.specs(), transferLeaderSpec(this), addNodeSpec(this), removeNodeSpec(this), ...followerCommands(this)]);
    registerInfo(this);
  }

  get id(): NodeId {
    return this.opts.id;
  }

  /** The members this node knows the addresses of (the member book). */
  get members(): readonly ShardMember[] {
    return this.book.list();
  }

  /** A node's client address (host:port), if known. */
  clientAddressOf(id: NodeId): string | undefined {
    return this.book.get(id)?.clientAddress;
  }

  /** Whether the node has a durable store (snapshot files): needed to send a new member a snapshot. */
  get hasSnapshotFiles(): boolean {
    return this.durable !== null;
  }

  /** Drops a MsgSnap for a node that the snapshot's configuration lacks (raft would refuse it) and asks for a newer snapshot. */
  private send(msgs: Message[]): void {
    for (let i = 0; i < msgs.length; i++) {
      const m = msgs[i]!;
      if (m.type !== 'MsgSnap' || m.snapshot === undefined || confMembers(m.snapshot.metadata.confState).has(m.to)) continue;
      // A node added after the snapshot was taken: it would ignore the snapshot (it is not in
      // its configuration). Take one that includes it; raft retries once told this one failed.
      msgs = msgs.filter((x) => x !== m);
      i--;
      if (!this.snapshotting) {
        this.server.log.notice(`raft: snapshot ${m.snapshot.metadata.index} predates node ${m.to}; taking a new one to send it`);
        void this.takeSnapshot();
      }
      queueMicrotask(() => this.driver.reportSnapshot(m.to, false));
    }
    this.transport.send(msgs);
  }

  /** Index of the last snapshot taken or installed. */
  get snapshotIndex(): number {
    return Math.max(this.snapIndex, this.store.firstIndex() - 1);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** A write not committed within this is answered UNKNOWN. */
  get commitTimeoutMs(): number {
    return this.opts.commitTimeoutMs ?? 5000;
  }

  /** How long a leadership transfer may take: two election timeouts. */
  get transferTimeoutMs(): number {
    return 2 * (this.opts.electionTimeoutTicks ?? 10) * (this.opts.tickMs ?? 100);
  }

  /**
   * Before a planned stop: if this node leads a shard of several, hands leadership to the most
   * up-to-date reachable voter, then waits for the writes it proposed to be answered (they
   * commit under the new leader, whose log holds them), and a short grace for clients to be
   * told where the leader went. Bounded by timeoutMs overall; resolves with what happened.
   */
  async handOff(timeoutMs = 2000, graceMs = 200): Promise<string> {
    this.proxy?.stopForwarding(); // clients are told where the leader is, rather than forwarded by a node about to exit
    if (this.closed || this.driver === undefined || this.driver.isStopped) return 'not running';
    if (this.driver.node.raft.trk.confState().voters.every((id) => id === this.id)) return 'no other voter: nothing to hand off';
    if (!this.driver.isLeader) return 'not the leader: nothing to hand off';
    const deadline = performance.now() + timeoutMs;
    const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
    let moved = !this.driver.isLeader;
    const tried = new Set<NodeId>();
    while (!moved && performance.now() < deadline) {
      const raft = this.driver.node.raft;
      const voters = raft.trk.confState().voters;
      let best: NodeId = NONE;
      let bestMatch = -1;
      for (const id of voters) {
        const pr = raft.trk.progress.get(id);
        if (id === this.id || pr === undefined || tried.has(id) || !this.transport.isReachable(id)) continue;
        if (pr.match > bestMatch) {
          best = id;
          bestMatch = pr.match;
        }
      }
      if (best === NONE) {
        if (tried.size === 0) break;
        tried.clear();
        continue;
      }
      tried.add(best);
      this.server.log.notice(`raft: node ${this.id} transfers leadership to node ${best} (match ${bestMatch}, last index ${raft.raftLog.lastIndex()}) before stopping`);
      this.driver.transferLeader(best);
      const until = Math.min(deadline, performance.now() + Math.max(200, this.transferTimeoutMs / 2));
      while (this.driver.isLeader && performance.now() < until) await sleep(5);
      moved = !this.driver.isLeader;
    }
    if (!moved) {
      this.server.log.warning(`raft: node ${this.id} could not hand leadership off within ${timeoutMs} ms; stopping as leader`);
      return 'not transferred';
    }
    while (this.writes.pendingCount > 0 && performance.now() < deadline) await sleep(5);
    const graceEnd = Math.min(deadline, performance.now() + graceMs);
    while (performance.now() < graceEnd) await sleep(10);
    const lead = this.driver.leader;
    const msg = `leadership is with node ${lead === NONE ? 'unknown' : lead}; ${this.writes.pendingCount} writes still pending`;
    this.server.log.notice(`raft: node ${this.id} handed off: ${msg}`);
    return msg;
  }

  /** Restores the engine, opens the log, starts the transport, the driver and the client listener. */
  async start(): Promise<{ port: number; clusterPort: number }> {
    const o = this.opts;
    const fresh = isFresh(this.store);
    const snapIndex = this.store.snapshot().metadata.index;
    if (this.durable !== null && snapIndex > 0) await this.loadSnapshotFile(snapIndex);
    this.snapIndex = snapIndex;
    this.recovered = { fresh, snapshotIndex: snapIndex, lastIndex: this.store.lastIndex(), commit: this.store.initialState().hardState.commit };
    this.driver = await RaftDriver.open({
      id: o.id,
      voters: this.book.list().map((m) => m.id),
      emptyState: fresh ? snapshotToBuffer(new Engine(engineCommands())) : undefined,
      bootstrapContext: this.book.encode(),
      join: o.join,
      store: this.store,
      send: (msgs) => this.send(msgs),
      stateMachine: this,
      log: this.server.log,
      tickMs: o.tickMs,
      electionTimeoutTicks: o.electionTimeoutTicks,
      heartbeatTimeoutTicks: o.heartbeatTimeoutTicks,
      readOnlyOption: o.leaseReads === true ? 'leaseBased' : 'safe',
      onFatal: o.onFatal,
    });
    this.writes = new ReplicatedWritePath(this.server, this.driver, {
      commitTimeoutMs: o.commitTimeoutMs,
      addressOf: (id) => this.clientAddressOf(id),
      quorumReachable: () => this.quorumReachable(),
      onCommitted: o.onCommitted,
    });
    this.reads = new ReadIndexReads(this.driver, { timeoutMs: o.readTimeoutMs, lease: o.leaseReads === true });
    this.proxy = new LeaderProxy(this.server, this.driver, { sessionsMax: o.forwardSessionsMax ?? 1024, addressOf: (id) => this.clientAddressOf(id) });
    this.server.writePath = this.writes;
    this.server.readPath = o.unsafeTestStaleReads === true ? { submit: (_client, run) => run() } : this.reads;
    // The broken test mode reads locally everywhere, so it forwards no session either (a
    // forwarded read would be the leader's, and not stale).
    this.server.router = o.unsafeTestStaleReads === true ? null : this.proxy;
    // A shard of one started without a cluster port has no peers to listen for (and cannot grow).
    const me = o.members.find((m) => m.id === o.id)!;
    const recorded = this.book.get(o.id);
    if (recorded !== undefined && (recorded.host !== me.host || recorded.clusterPort !== me.clusterPort)) {
      this.server.log.warning(
        `raft: this node listens for peers on ${me.host}:${me.clusterPort}, but the shard's member book (replicated) has it at ${recorded.host}:${recorded.clusterPort}: peers will dial the latter. ` +
          'An address cannot change in place: restore the old one, or remove this node and add it again under a new id',
      );
    }
    const clusterPort = this.book.size > 1 || me.clusterPort !== 0 || o.join === true ? await this.transport.start() : 0;
    this.driver.start();
    const voters = this.driver.node.raft.trk.confState().voters;
    if (voters.length === 1 && voters[0] === o.id) this.driver.campaign();
    const port = await this.server.listen();
    return { port, clusterPort };
  }

  /** Restores the engine from the store's snapshot file at `index` (every block verified). */
  private async loadSnapshotFile(index: number): Promise<void> {
    const reader = await this.durable!.openSnapshot(index);
    // Read the whole payload first, then load it in one go: the engine is never seen half
    // restored (the chunks are the file's verified blocks).
    const chunks: Uint8Array[] = [];
    try {
      for await (const c of reader.chunks()) chunks.push(c);
    } finally {
      await reader.close();
    }
    const loader = new SnapshotLoader(this.server.engine);
    for (const c of chunks) loader.push(c);
    loader.finish();
  }

  /** Whether this node's outbound links reach a majority of the voters (itself included). */
  quorumReachable(): boolean {
    const voters = this.driver.node.raft.trk.config.voters;
    // Joint configurations need both majorities; voteResult does that for us.
    const yes = new Map<NodeId, boolean>();
    for (const id of this.driver.node.raft.trk.progress.keys()) yes.set(id, this.transport.isReachable(id));
    return voters.voteResult(yes) === 'won';
  }

  /** INFO raft's fields on the read path and on forwarded sessions. */
  readPathInfo(): Array<[string, string | number]> {
    const r = this.reads.stats;
    const counts = this.driver.node.raft.readIndexCounts;
    const f = this.proxy.stats;
    return [
      ['raft_read_mode', this.opts.leaseReads === true ? 'lease' : 'readindex'],
      ['raft_read_index_requests', r.requests],
      ['raft_read_index_lease_answers', counts.lease],
      ['raft_read_index_heartbeat_rounds', counts.heartbeat],
      ['raft_lease_reads', r.leaseReads],
      ['raft_stale_reads', r.staleReads],
      ['raft_forwarded_sessions', f.sessions],
      ['raft_forwarded_sessions_total', f.sessionsTotal],
      ['raft_forwarded_commands', f.commands],
      ['raft_forward_failures', f.connectFailures],
      ['raft_forwarded_closed_leader_change', f.closedLeaderChange + f.closedUpstream],
    ];
  }

  // --- StateMachine -------------------------------------------------------------------------

  applyEntry(e: Entry): void {
    this.writes.applyEntry(e);
    this.indexWaits.poke();
    this.reads.onApplied(e.index);
    this.bytesSinceSnap += e.data.byteLength;
    this.writesSinceSnap += e.type === 'normal' && e.data.byteLength > 0 ? opCount(e.data) : 1;
    if (e.type === 'confChange') this.applyMembership(e);
  }

  /** A conf change was applied (raft has it already): the book and the transport follow. */
  private applyMembership(e: Entry): void {
    const cc = decodeConfChange(e.data);
    // The configuration as of this entry (raft's own may already be ahead: the driver hands
    // conf changes to raft when it takes them, and to us once they are durable).
    const cs = this.driver.appliedConfState;
    this.book.applyConfChange(cc, e.index, cs);
    this.confApplied.set(e.index, e.term);
    if (this.confApplied.size > CONF_APPLIED_MAX) this.confApplied.delete(this.confApplied.keys().next().value as number);
    this.updatePeers();
    const missing = [...confMembers(cs)].filter((id) => !this.book.has(id));
    if (missing.length > 0) this.server.log.warning(`raft: no address for members ${missing.join(', ')} (added without one)`);
    if (!confMembers(cs).has(this.id)) this.onRemoved(e.index, 'this node applied its removal');
  }

  private updatePeers(): void {
    const peers = this.book.list().map((m) => ({ id: m.id, host: m.host, port: m.clusterPort }));
    const removed = new Map(this.book.removedIds().map((id) => [id, this.book.removedIndex(id)!]));
    this.transport.setPeers(peers, removed);
  }

  /**
   * The shard removed this node (at log index `index`). A leader first hands its leadership to
   * a voter (bounded, as on SIGTERM); then the node stops serving: its raft node and transport
   * stop, and every read and write is answered CLUSTERDOWN (INFO, PING and the like still work).
   */
  onRemoved(index: number, why: string): void {
    if (this.removedAt !== null || this.closed) return;
    this.removedAt = index;
    this.server.log.warning(`raft: node ${this.id} was removed from the shard at log index ${index} (${why}); it stops serving`);
    // New reads and writes are refused from now on, not only once the hand-off below is over
    // (INFO already says raft_this_node_removed:1); ones already proposed still complete.
    const refuse = { submit: (client: Client) => client.out.error(this.removedError()) };
    this.server.writePath = refuse;
    this.server.readPath = refuse;
    this.proxy.stopForwarding();
    // Not from inside the driver's apply loop.
    setImmediate(() => {
      const handOff = this.driver.isLeader ? this.handOff(Math.max(2000, this.transferTimeoutMs)) : Promise.resolve('');
      void handOff.catch(() => '').then(() => this.stopServing());
    });
  }

  private stopServing(): void {
    if (this.closed) return;
    this.driver.stop();
    this.waits.close();
    this.indexWaits.close();
    this.writes.close();
    this.reads.close();
    void this.proxy.drain(1000); // no session is forwarded from here any more; open ones end
    void this.transport.close();
  }

  /** The reply of a removed node to every read and write. */
  removedError(): string {
    const members = this.book.list().filter((m) => m.id !== this.id).map((m) => `node ${m.id} (${m.clientAddress ?? `${m.host}:${m.clusterPort}`})`);
    return `CLUSTERDOWN This node (${this.id}) was removed from its shard at log index ${this.removedAt}; it serves no reads or writes${members.length > 0 ? `. Members it knew: ${members.join(', ')}` : ''}`;
  }

  async restoreSnapshot(s: Snapshot): Promise<void> {
    const t0 = performance.now();
    this.abortSnapshot();
    this.writes.onSnapshot(s);
    if (s.metadata.context !== undefined) {
      try {
        this.book = MemberBook.decode(s.metadata.context);
      } catch (e) {
        if (!(e instanceof MembershipError)) throw e;
        throw new Error(`snapshot ${s.metadata.index} has an unreadable member book: ${e.message}`);
      }
      this.updatePeers();
    }
    if (s.data.byteLength > 0) {
      const loader = new SnapshotLoader(this.server.engine);
      loader.push(s.data);
      loader.finish();
    } else if (this.durable !== null) {
      await this.loadSnapshotFile(s.metadata.index);
    } else {
      throw new Error(`snapshot ${s.metadata.index} has no payload and this node has no snapshot files`);
    }
    this.snapIndex = s.metadata.index;
    this.bytesSinceSnap = 0;
    this.writesSinceSnap = 0;
    this.snapshots.installed++;
    this.server.log.notice(`raft: node ${this.id} installed snapshot ${s.metadata.index} (term ${s.metadata.term}) in ${(performance.now() - t0).toFixed(0)} ms`);
  }

  afterApply(): void {
    this.maybeSnapshot();
  }

  onReadStates(states: ReadState[]): void {
    this.reads.onReadStates(states);
  }

  onSoftState(ss: SoftState): void {
    if (ss.lead !== this.lastLeader) {
      this.lastLeader = ss.lead;
      if (ss.lead !== NONE) this.leaderChanges++;
    }
    const role = ss.raftState === 'leader' ? 'leader' : ss.raftState;
    this.server.log.notice(`raft: node ${this.id} is ${role}, term ${this.driver.term}, leader ${ss.lead === 0 ? 'unknown' : ss.lead}`);
    this.writes.onSoftState(ss);
    this.reads.onSoftState(ss);
    this.proxy.onSoftState(ss);
  }

  // --- snapshots ----------------------------------------------------------------------------

  /** Whether a snapshot is being written. */
  get snapshotting(): boolean {
    return this.snapshotJob !== null;
  }

  /** Starts a snapshot if the log since the last one is over the threshold. */
  private maybeSnapshot(): void {
    if (this.durable === null || this.snapshotJob !== null || this.closed) return;
    const since = this.driver.applied - this.snapIndex;
    if (since <= 0) return;
    if (this.writesSinceSnap < (this.opts.snapshotEntries ?? DEFAULT_SNAPSHOT_ENTRIES) && this.bytesSinceSnap < (this.opts.snapshotBytes ?? DEFAULT_SNAPSHOT_BYTES)) return;
    const growth = this.opts.snapshotGrowthPercent ?? DEFAULT_SNAPSHOT_GROWTH_PERCENT;
    if (this.bytesSinceSnap * 100 < this.snapshots.lastBytes * growth) return;
    this.takeSnapshot();
  }

  /**
   * Takes a snapshot of the engine as of the applied index, now (between two applies). Resolves
   * when it is written and the log compacted; never rejects (a failure is logged).
   */
  takeSnapshot(): Promise<void> {
    const store = this.durable;
    if (store === null || this.closed) return Promise.resolve();
    if (this.snapshotJob !== null) return this.snapshotJob.done;
    const index = this.driver.applied;
    if (index <= store.snapshotIndex) return Promise.resolve();
    const confState = this.driver.appliedConfState;
    const book = this.book.encode(); // as of the same applied index as confState
    const t0 = performance.now();
    const job = new SnapshotJob(this.server.engine, this.opts.snapshotSliceBytes ?? 64 * 1024);
    const state = { job, aborted: false, done: Promise.resolve() };
    let sliceMsMax = job.stats.captureMs;
    const bytesAtStart = this.bytesSinceSnap;
    const writesAtStart = this.writesSinceSnap;
    async function* slices(): AsyncGenerator<Uint8Array> {
      for (;;) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (state.aborted) throw new Error('the snapshot was abandoned');
        const s = performance.now();
        const chunk = job.next();
        sliceMsMax = Math.max(sliceMsMax, performance.now() - s);
        if (chunk === null) return;
        yield chunk;
      }
    }
    state.done = store
      .createSnapshot(index, confState, slices(), book)
      .then((meta) => {
        const ms = performance.now() - t0;
        this.snapIndex = Math.max(this.snapIndex, meta.index);
        this.bytesSinceSnap = Math.max(0, this.bytesSinceSnap - bytesAtStart);
        this.writesSinceSnap = Math.max(0, this.writesSinceSnap - writesAtStart);
        Object.assign(this.snapshots, { taken: this.snapshots.taken + 1, lastIndex: meta.index, lastBytes: job.stats.bytes, lastMs: ms, lastSliceMsMax: sliceMsMax, lastCaptureMs: job.stats.captureMs });
        this.server.log.notice(
          `raft: snapshot ${meta.index} (term ${meta.term}): ${job.stats.keys} keys, ${job.stats.bytes} bytes in ${ms.toFixed(0)} ms ` +
            `(longest slice ${sliceMsMax.toFixed(1)} ms); the log now starts at ${this.store.firstIndex()}`,
        );
      })
      .catch((e: Error) => {
        if (!state.aborted) this.server.log.warning(`raft: snapshot at ${index} failed: ${e.message}`);
      })
      .finally(() => {
        job.abort(); // detaches it from the engine (a no-op once complete)
        if (this.snapshotJob === state) this.snapshotJob = null;
      });
    this.snapshotJob = state;
    return state.done;
  }

  /** Abandons a snapshot being written (a newer one is being installed, or the node stops). */
  private abortSnapshot(): void {
    const s = this.snapshotJob;
    if (s === null) return;
    s.aborted = true;
    s.job.abort();
  }

  /** Stops the node: clients get their pending replies (UNKNOWN for writes in flight). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.waits.close();
    this.indexWaits.close();
    this.driver?.stop();
    this.writes?.close();
    this.reads?.close();
    const drained = this.proxy?.drain(1000);
    const snap = this.snapshotJob;
    this.abortSnapshot();
    if (snap !== null) await snap.done;
    await drained;
    await this.transport.close();
    await this.server.close();
    if (this.durable !== null) await this.durable.close();
  }
}
