// A node's Prometheus metrics (prom-client), served over HTTP at /metrics (`--metrics-port`).
//
// Most values are read from the node when Prometheus scrapes (raft's indexes, the per-peer
// progress, the counters the write and read paths keep anyway), so the hot paths pay nothing
// for them. Three things are observed as they happen, because a scrape cannot reconstruct a
// distribution: each write's commit latency (proposal to apply, on the leader), each WAL
// batch's write-and-fsync latency, and the size of each batch. Leader changes are counted by
// the node itself; losses of quorum are sampled every QUORUM_SAMPLE_MS.
//
// Names follow Prometheus's conventions: seconds and bytes, `_total` for counters, a `keel_`
// prefix, and Node.js's default process metrics (event-loop lag among them) beside them.

import * as http from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { NONE } from '@keel/raft';
import { peerStatuses } from './admin';
import type { ShardNode } from './shard-node';

/** A WAL batch as the store reports it (packages/wal's BatchInfo). */
export interface WalBatchInfo {
  entries: number;
  bytes: number;
  synced: boolean;
  durationMs: number;
}

const QUORUM_SAMPLE_MS = 250;

/** Latency buckets in seconds: 100 µs to 10 s. */
const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class NodeMetrics {
  readonly registry = new Registry();
  private node: ShardNode | null = null;
  private readonly commitLatency: Histogram;
  private readonly walLatency: Histogram;
  private readonly walBatchEntries: Histogram;
  private readonly walBatches: Counter;
  private readonly walEntries: Counter;
  private readonly walBytes: Counter;
  private quorumLosses = 0;
  private hadQuorum = true;
  private sampler: NodeJS.Timeout | null = null;
  private http: http.Server | null = null;

  constructor() {
    const r = this.registry;
    collectDefaultMetrics({ register: r });
    this.commitLatency = new Histogram({
      name: 'keel_commit_latency_seconds',
      help: 'Time from proposing a write to applying it once committed, on the leader that proposed it',
      buckets: LATENCY_BUCKETS,
      registers: [r],
    });
    this.walLatency = new Histogram({
      name: 'keel_wal_write_latency_seconds',
      help: 'Time to write one WAL batch to LevelDB, by whether it was fsync\'d',
      labelNames: ['synced'],
      buckets: LATENCY_BUCKETS,
      registers: [r],
    });
    this.walBatchEntries = new Histogram({
      name: 'keel_wal_batch_entries',
      help: 'Log entries per WAL batch (group commit: one write and fsync for all of them)',
      buckets: [0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096],
      registers: [r],
    });
    this.walBatches = new Counter({ name: 'keel_wal_batches_total', help: 'WAL batches written', labelNames: ['synced'], registers: [r] });
    this.walEntries = new Counter({ name: 'keel_wal_entries_written_total', help: 'Log entries written to the WAL', registers: [r] });
    this.walBytes = new Counter({ name: 'keel_wal_bytes_written_total', help: 'Bytes of log entries written to the WAL', registers: [r] });

    // Read at scrape time.
    const self = this;
    const gauge = (name: string, help: string, read: (n: ShardNode) => number) =>
      new Gauge({
        name,
        help,
        registers: [r],
        collect() {
          if (self.node !== null) this.set(read(self.node));
        },
      });
    const counter = (name: string, help: string, read: (n: ShardNode) => number) =>
      new Counter({
        name,
        help,
        registers: [r],
        collect() {
          if (self.node === null) return;
          this.reset();
          this.inc(read(self.node));
        },
      });
    gauge('keel_raft_node_id', 'This node\'s raft id', (n) => n.id);
    gauge('keel_raft_term', 'Current raft term', (n) => n.driver.term);
    gauge('keel_raft_is_leader', '1 if this node is the shard\'s leader', (n) => (n.driver.isLeader ? 1 : 0));
    gauge('keel_raft_leader', 'The leader this node knows of (raft id; 0: none)', (n) => (n.driver.leader === NONE ? 0 : n.driver.leader));
    gauge('keel_raft_commit_index', 'Highest log index known to be committed', (n) => n.driver.commitIndex);
    gauge('keel_raft_applied_index', 'Highest log index applied to the engine', (n) => n.driver.applied);
    gauge('keel_raft_last_index', 'Highest log index in this node\'s log', (n) => n.driver.node.raft.raftLog.lastIndex());
    gauge('keel_raft_pending_writes', 'Writes proposed or queued and not yet answered', (n) => n.writes.pendingCount);
    counter('keel_raft_leader_changes_total', 'Times the leader this node knows of changed', (n) => n.leaderChanges);
    counter('keel_raft_proposals_total', 'Batches of writes proposed (one log entry each)', (n) => n.writes.stats.proposals);
    counter('keel_raft_proposed_writes_total', 'Writes proposed', (n) => n.writes.stats.proposedOps);
    counter('keel_raft_applied_writes_total', 'Writes applied (on every node; an entry holds a batch of them)', (n) => n.writes.stats.applied);
    counter('keel_raft_commit_timeouts_total', 'Writes answered UNKNOWN because they were not seen committed in time', (n) => n.writes.stats.commitTimeouts);
    counter('keel_raft_refused_writes_total', 'Writes raft refused to propose (not applied)', (n) => n.writes.stats.refused);
    counter('keel_raft_overwritten_writes_total', 'Proposed writes another leader\'s entries replaced (not applied)', (n) => n.writes.stats.overwritten);
    counter('keel_raft_quorum_losses_total', 'Times this node, as leader, was seen unable to reach a quorum', () => this.quorumLosses);
    counter('keel_read_index_requests_total', 'ReadIndex rounds requested (batched reads)', (n) => n.reads.stats.requests);
    counter('keel_read_index_timeouts_total', 'Reads that timed out waiting for a read index', (n) => n.reads.stats.timeouts);
    counter('keel_lease_reads_total', 'Reads the leader served from its lease, with no ReadIndex round (--lease-reads)', (n) => n.reads.stats.leaseReads);
    counter('keel_stale_reads_total', 'READONLY reads served from this node\'s state as a follower (possibly stale)', (n) => n.reads.stats.staleReads);
    gauge('keel_forwarded_sessions', 'Client sessions this node forwards to the leader now', (n) => n.proxy.stats.sessions);
    counter('keel_forwarded_sessions_total', 'Client sessions this node forwarded to the leader', (n) => n.proxy.stats.sessionsTotal);
    counter('keel_forwarded_commands_total', 'Commands this node forwarded to the leader', (n) => n.proxy.stats.commands);
    counter('keel_forward_failures_total', 'Forwarded sessions that could not be opened at the leader (not executed)', (n) => n.proxy.stats.connectFailures);
    counter('keel_snapshots_taken_total', 'Snapshots this node wrote', (n) => n.snapshots.taken);
    counter('keel_snapshots_installed_total', 'Snapshots this node installed from its leader', (n) => n.snapshots.installed);
    gauge('keel_snapshot_last_duration_seconds', 'Duration of the last snapshot written', (n) => n.snapshots.lastMs / 1000);
    gauge('keel_snapshot_last_bytes', 'Size of the last snapshot written', (n) => n.snapshots.lastBytes);
    gauge('keel_snapshot_last_longest_slice_seconds', 'The longest event-loop stall of the last snapshot (capture or one slice)', (n) => n.snapshots.lastSliceMsMax / 1000);
    gauge('keel_snapshot_index', 'Log index of the last snapshot', (n) => n.snapshotIndex);
    gauge('keel_connected_clients', 'Client connections', (n) => n.server.clients.size);
    counter('keel_commands_processed_total', 'Commands processed', (n) => n.server.stats.totalCommands);

    const peerGauge = (name: string, help: string, read: (p: ReturnType<typeof peerStatuses>[number]) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['peer'],
        registers: [r],
        collect() {
          this.reset();
          if (self.node === null) return;
          for (const p of peerStatuses(self.node)) {
            const v = read(p);
            if (v >= 0) this.set({ peer: String(p.id) }, v);
          }
        },
      });
    peerGauge('keel_raft_peer_match_index', 'Per peer (on the leader): highest log index known to be on the peer', (p) => p.match);
    peerGauge('keel_raft_peer_lag_entries', 'Per peer (on the leader): entries the peer is behind the leader\'s log', (p) => p.lagEntries);
    peerGauge('keel_raft_peer_lag_seconds', 'Per peer (on the leader): time since the peer last acknowledged an append or heartbeat', (p) => (p.lagMs < 0 ? -1 : p.lagMs / 1000));
  }

  /** Starts reading from `node` (call once, before serving). */
  attach(node: ShardNode): void {
    this.node = node;
    this.sampler = setInterval(() => this.sampleQuorum(), QUORUM_SAMPLE_MS);
    this.sampler.unref();
  }

  private sampleQuorum(): void {
    const n = this.node;
    if (n === null || n.isClosed || n.driver === undefined) return;
    if (!n.driver.isLeader) {
      this.hadQuorum = true;
      return;
    }
    const has = n.quorumReachable();
    if (this.hadQuorum && !has) this.quorumLosses++;
    this.hadQuorum = has;
  }

  /** A write this node proposed was applied, `ms` after it was proposed. */
  observeCommit(ms: number): void {
    this.commitLatency.observe(ms / 1000);
  }

  /** The store wrote a batch (DurableStorage's onBatch). */
  observeWalBatch(b: WalBatchInfo): void {
    const synced = b.synced ? 'yes' : 'no';
    this.walLatency.observe({ synced }, b.durationMs / 1000);
    this.walBatches.inc({ synced });
    this.walBatchEntries.observe(b.entries);
    if (b.entries > 0) this.walEntries.inc(b.entries);
    if (b.bytes > 0) this.walBytes.inc(b.bytes);
  }

  /** The exposition text Prometheus scrapes. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  /** Serves GET /metrics on host:port; resolves with the bound port. */
  listen(host: string, port: number): Promise<number> {
    const server = http.createServer((req, res) => {
      const url = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { Allow: 'GET, HEAD' }).end();
        return;
      }
      if (url !== '/metrics') {
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('keel: metrics are at /metrics\n');
        return;
      }
      this.text().then(
        (body) => res.writeHead(200, { 'Content-Type': this.registry.contentType }).end(req.method === 'HEAD' ? undefined : body),
        (e: Error) => res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`keel: ${e.message}\n`),
      );
    });
    // A scraper needs few connections; a client that never finishes its request is dropped.
    server.maxConnections = 64;
    server.headersTimeout = 10_000;
    server.requestTimeout = 10_000;
    this.http = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve((server.address() as { port: number }).port);
      });
    });
  }

  async close(): Promise<void> {
    if (this.sampler !== null) clearInterval(this.sampler);
    this.sampler = null;
    const s = this.http;
    this.http = null;
    if (s !== null) await new Promise<void>((r) => s.close(() => r()));
  }
}
