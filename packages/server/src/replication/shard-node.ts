// One node of a replicated shard inside one process: a KeelServer whose writes go through
// raft (ReplicatedWritePath) and whose reads go through ReadIndex (server.readPath), a
// RaftDriver, and the node-to-node Transport.

import { Entry, NodeId, ReadState, Snapshot, SoftState } from '@keel/raft';
import { ServerConfig } from '../config';
import { KeelServer } from '../server';
import { RaftDriver, StateMachine } from './driver';
import { isBootstrapSnapshot, LogStore, MemoryLogStore } from './log-store';
import { ReadIndexReads } from './read-index';
import { ReplicatedWritePath } from './replicated-write-path';
import { PeerAddress, Transport } from './transport';

export interface ShardMember {
  id: NodeId;
  /** Node-to-node address. */
  host: string;
  clusterPort: number;
  /** Client address (for the READONLY reply naming the leader). */
  clientAddress?: string;
}

export interface ShardNodeOptions {
  id: NodeId;
  members: ShardMember[];
  server?: Partial<ServerConfig>;
  store?: LogStore;
  tickMs?: number;
  electionTimeoutTicks?: number;
  heartbeatTimeoutTicks?: number;
  commitTimeoutMs?: number;
  readTimeoutMs?: number;
  onFatal?(err: Error): void;
}

export class ShardNode implements StateMachine {
  readonly server: KeelServer;
  readonly transport: Transport;
  driver!: RaftDriver;
  writes!: ReplicatedWritePath;
  reads!: ReadIndexReads;
  private readonly opts: ShardNodeOptions;
  private closed = false;

  constructor(opts: ShardNodeOptions) {
    this.opts = opts;
    const me = opts.members.find((m) => m.id === opts.id);
    if (me === undefined) throw new Error(`node ${opts.id} is not among the shard's members`);
    this.server = new KeelServer(opts.server ?? {});
    const peers: PeerAddress[] = opts.members.map((m) => ({ id: m.id, host: m.host, port: m.clusterPort }));
    this.transport = new Transport({
      id: opts.id,
      host: me.host,
      port: me.clusterPort,
      peers,
      onMessage: (m) => this.driver.step(m),
      onUnreachable: (id) => this.driver.reportUnreachable(id),
      onSnapshotStatus: (id, ok) => this.driver.reportSnapshot(id, ok),
      log: this.server.log,
    });
  }

  get id(): NodeId {
    return this.opts.id;
  }

  /** Opens the log, starts the transport, the driver and the client listener. */
  async start(): Promise<{ port: number; clusterPort: number }> {
    const o = this.opts;
    this.driver = await RaftDriver.open({
      id: o.id,
      voters: o.members.map((m) => m.id),
      store: o.store ?? new MemoryLogStore(),
      send: (msgs) => this.transport.send(msgs),
      stateMachine: this,
      log: this.server.log,
      tickMs: o.tickMs,
      electionTimeoutTicks: o.electionTimeoutTicks,
      heartbeatTimeoutTicks: o.heartbeatTimeoutTicks,
      onFatal: o.onFatal,
    });
    this.writes = new ReplicatedWritePath(this.server, this.driver, {
      commitTimeoutMs: o.commitTimeoutMs,
      addressOf: (id) => o.members.find((m) => m.id === id)?.clientAddress,
      quorumReachable: () => this.quorumReachable(),
    });
    this.reads = new ReadIndexReads(this.driver, { timeoutMs: o.readTimeoutMs });
    this.server.writePath = this.writes;
    this.server.readPath = this.reads;
    const clusterPort = await this.transport.start();
    this.driver.start();
    if (o.members.length === 1) this.driver.campaign();
    const port = await this.server.listen();
    return { port, clusterPort };
  }

  /** Whether this node's outbound links reach a majority of the voters (itself included). */
  quorumReachable(): boolean {
    const voters = this.driver.node.raft.trk.config.voters;
    // Joint configurations need both majorities; voteResult does that for us.
    const yes = new Map<NodeId, boolean>();
    for (const id of this.driver.node.raft.trk.progress.keys()) yes.set(id, this.transport.isReachable(id));
    return voters.voteResult(yes) === 'won';
  }

  // --- StateMachine -------------------------------------------------------------------------

  applyEntry(e: Entry): void {
    this.writes.applyEntry(e);
    this.reads.onApplied(e.index);
  }

  restoreSnapshot(s: Snapshot): void {
    if (isBootstrapSnapshot(s)) return; // the empty state every new node starts from
    this.writes.onSnapshot(s);
    // TODO(issue 6): replace the engine's state with the snapshot's, once the engine can
    // decode one (packages/engine/src/snapshot): this.server.engine.restore(s.data).
    throw new Error(`cannot install snapshot ${s.metadata.index}: the engine cannot load snapshots yet`);
  }

  onReadStates(states: ReadState[]): void {
    this.reads.onReadStates(states);
  }

  onSoftState(ss: SoftState): void {
    const role = ss.raftState === 'leader' ? 'leader' : ss.raftState;
    this.server.log.notice(`raft: node ${this.id} is ${role}, term ${this.driver.term}, leader ${ss.lead === 0 ? 'unknown' : ss.lead}`);
    this.writes.onSoftState(ss);
    this.reads.onSoftState(ss);
  }

  /** Stops the node: clients get their pending replies (UNKNOWN for writes in flight). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.driver?.stop();
    this.writes?.close();
    this.reads?.close();
    await this.transport.close();
    await this.server.close();
  }
}
