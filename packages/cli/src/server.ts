// `keel server`: builds the config (defaults, then the config file, then the command line,
// the way redis-server applies them), opens the node's write-ahead log, starts the node (a
// ShardNode: one voter of a shard of one, or one node of a multi-node shard) and stops it on
// SIGTERM / SIGINT.
//
// Node names and raft ids: a node is named by a word ending in a number (`n1`, `node-2`,
// `keel3`, or just `4`), and that number is its raft id. Two names with the same number are
// refused (`n1` and `node1` would be the same node to raft), as are names without one and 0.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { KEEL_VERSION, defaultServerConfig, findParam, NodeMetrics, parseConfigFile, ServerConfig, setParam, ShardMember, ShardNode } from '@keel/server';
import { DurableStorage, FsyncPolicy, WalCorruptionError } from '@keel/wal';

const CLI_KEYS = new Set(['_', '$0', 'config', 'config-file', 'configFile']);

/** Options of the shard (not redis.conf parameters). */
const SHARD_KEYS = [
  'node-id',
  'peers',
  'join',
  'cluster-port',
  'snapshot-entries',
  'snapshot-bytes',
  'snapshot-growth-percent',
  'tick-ms',
  'election-timeout-ticks',
  'commit-timeout-ms',
  'metrics-port',
  'lease-reads',
  'forward-sessions-max',
  'unsafe-test-stale-reads',
] as const;
type ShardKey = (typeof SHARD_KEYS)[number];

/** How long SIGTERM waits for a leader to hand its leadership off before stopping anyway. */
const HANDOFF_TIMEOUT_MS = 2000;

/** The client port + this is the node-to-node port, as Redis Cluster's bus. */
export const CLUSTER_PORT_OFFSET = 10000;

export function buildConfig(argv: Record<string, unknown>): { config: ServerConfig; file: string | null } {
  const config = { ...defaultServerConfig };
  const apply = (name: string, value: string, from: string) => {
    const p = findParam(name);
    if (p === undefined) throw new Error(`${from}: unknown option '${name}'`);
    const err = setParam(config, p, value, false);
    if (err !== null) throw new Error(`${from}: '${name} ${value}': ${err}`);
  };
  const file = (argv['config'] ?? argv['config-file']) as string | undefined;
  if (file !== undefined) {
    for (const [k, v] of parseConfigFile(fs.readFileSync(file, 'utf8'))) apply(k, v, file);
  }
  for (const [k, v] of Object.entries(argv)) {
    if (CLI_KEYS.has(k) || (SHARD_KEYS as readonly string[]).includes(k) || v === undefined || /[A-Z]/.test(k)) continue; // yargs adds camelCase aliases
    apply(k, Array.isArray(v) ? v.join(' ') : String(v), 'command line');
  }
  return { config, file: file ?? null };
}

/** The raft id of a node name: its trailing number (`n1` → 1). */
export function raftIdOf(name: string): number {
  const m = /^(?:[A-Za-z][A-Za-z0-9_-]*?)?(\d+)$/.exec(name);
  if (m === null) throw new Error(`node name '${name}' must end in a number (its raft id), as n1, n2, n3`);
  const id = Number(m[1]);
  if (!Number.isSafeInteger(id) || id < 1 || id > 0xffffffff) throw new Error(`node name '${name}': its number must be between 1 and ${0xffffffff}`);
  return id;
}

export interface ShardPlan {
  id: number;
  name: string;
  members: Array<ShardMember & { name: string; clientPort: number }>;
  port: number;
  clusterPort: number;
  /** Joining a running shard (--join): this node waits for its leader to add it. */
  join: boolean;
  /** This node's own address came from --peers (not from --port / --cluster-port). */
  selfInPeers: boolean;
}

function parsePort(s: string, what: string): number {
  const n = Number(s);
  if (!/^\d+$/.test(s) || n < 1 || n > 65535) throw new Error(`${what}: '${s}' is not a port (1..65535)`);
  return n;
}

/**
 * The shard this node belongs to, from --node-id, --peers (`n1=host:port[@clusterport],...`,
 * client addresses; the cluster port defaults to port + 10000), --cluster-port and the config.
 */
export function planShard(argv: Record<string, unknown>, config: ServerConfig): ShardPlan {
  const name = argv['node-id'] === undefined ? 'n1' : String(argv['node-id']);
  const id = raftIdOf(name);
  const ownClusterPort = argv['cluster-port'] === undefined ? undefined : parsePort(String(argv['cluster-port']), '--cluster-port');
  const peersArg = argv['peers'];
  const join = argv['join'] === true;
  if (peersArg === undefined || String(peersArg).trim() === '') {
    if (join) throw new Error('--join needs --peers: the members of the shard it joins (n1=host:port[@clusterport],...)');
    // A shard of one: no peers, no node-to-node listener.
    return { id, name, port: config.port, clusterPort: 0, join, selfInPeers: false, members: [{ id, name, host: config.bind, clusterPort: 0, clientPort: config.port, clientAddress: `${config.bind}:${config.port}` }] };
  }
  if (argv['node-id'] === undefined) throw new Error(`--${join ? 'join' : 'peers'} needs --node-id (which node this is)`);
  const members: ShardPlan['members'] = [];
  for (const part of String(peersArg).split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const m = /^([^=]+)=(.+):(\d+)(?:@(\d+))?$/.exec(part);
    if (m === null) throw new Error(`--peers: '${part}' is not name=host:port[@clusterport]`);
    const [, pname, host, portS, cportS] = m;
    const pid = raftIdOf(pname!);
    const clash = members.find((x) => x.id === pid);
    if (clash !== undefined) throw new Error(`--peers: '${clash.name}' and '${pname}' both map to raft id ${pid}; give every node a different number`);
    const clientPort = parsePort(portS!, `--peers ${pname}`);
    let clusterPort = cportS !== undefined ? parsePort(cportS, `--peers ${pname} cluster port`) : clientPort + CLUSTER_PORT_OFFSET;
    if (pid === id && ownClusterPort !== undefined) clusterPort = ownClusterPort;
    if (clusterPort > 65535) throw new Error(`--peers ${pname}: cluster port ${clusterPort} (port + ${CLUSTER_PORT_OFFSET}) is not a port; give it as ${pname}=${host}:${clientPort}@<port>`);
    members.push({ id: pid, name: pname!, host: host!, clusterPort, clientPort, clientAddress: `${host}:${clientPort}` });
  }
  let me = members.find((x) => x.id === id);
  if (me !== undefined && me.name !== name) throw new Error(`--node-id ${name} and '${me.name}' in --peers both map to raft id ${id}`);
  const selfInPeers = me !== undefined;
  if (me === undefined) {
    if (!join) throw new Error(`--node-id ${name} is not among --peers (${members.map((x) => x.name).join(', ')}); to join a running shard, add --join`);
    // Joining: this node's address is its own --bind / --port / --cluster-port.
    const clusterPort = ownClusterPort ?? config.port + CLUSTER_PORT_OFFSET;
    if (clusterPort > 65535) throw new Error(`cluster port ${clusterPort} (port + ${CLUSTER_PORT_OFFSET}) is not a port; give --cluster-port`);
    me = { id, name, host: config.bind, clusterPort, clientPort: config.port, clientAddress: `${config.bind}:${config.port}` };
    members.push(me);
  }
  return { id, name, members, port: me.clientPort, clusterPort: me.clusterPort, join, selfInPeers };
}

function intOption(argv: Record<string, unknown>, key: ShardKey): number | undefined {
  const v = argv[key];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${key}: '${String(v)}' is not a positive integer`);
  return n;
}

function countOption(argv: Record<string, unknown>, key: ShardKey): number | undefined {
  const v = argv[key];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`--${key}: '${String(v)}' is not an integer, 0 or more`);
  return n;
}

function booleanOption(argv: Record<string, unknown>, key: ShardKey): boolean {
  const v = argv[key];
  if (v === undefined || v === false || v === 'no' || v === 'false') return false;
  if (v === true || v === 'yes' || v === 'true') return true;
  throw new Error(`--${key}: '${String(v)}' is not yes or no`);
}

export async function runServer(argv: Record<string, unknown>): Promise<void> {
  let built;
  let plan: ShardPlan;
  try {
    built = buildConfig(argv);
    plan = planShard(argv, built.config);
    if (argv['port'] === undefined && plan.selfInPeers) built.config.port = plan.port;
    else if (plan.selfInPeers && built.config.port !== plan.port) {
      throw new Error(`--port ${built.config.port} differs from this node's port in --peers (${plan.port})`);
    }
    for (const k of SHARD_KEYS) if (k === 'snapshot-growth-percent' || k === 'forward-sessions-max') countOption(argv, k);
    else if (k === 'lease-reads') booleanOption(argv, k);
    else if (k !== 'node-id' && k !== 'peers' && k !== 'cluster-port' && k !== 'join' && k !== 'unsafe-test-stale-reads') intOption(argv, k);
    const mp = intOption(argv, 'metrics-port');
    if (mp !== undefined && mp > 65535) throw new Error(`--metrics-port: '${mp}' is not a port (1..65535)`);
  } catch (e) {
    process.stderr.write(`keel: ${(e as Error).message}\n`);
    process.exit(1);
  }
  const config = built.config;
  config.appendonly = 'yes'; // every write goes through the write-ahead log (CONFIG GET says so)
  const policy = config.appendfsync as FsyncPolicy;
  const dataDir = path.resolve(config.dir);
  const metricsPort = intOption(argv, 'metrics-port');
  const metrics = metricsPort === undefined ? null : new NodeMetrics();
  let store: DurableStorage;
  try {
    fs.mkdirSync(dataDir, { recursive: true });
    store = await DurableStorage.open(dataDir, {
      fsync: policy,
      logger: (line) => process.stdout.write(`${process.pid}:M # ${line}\n`),
      onBatch: metrics === null ? undefined : (b) => metrics.observeWalBatch(b),
    });
  } catch (e) {
    const err = e as Error;
    process.stderr.write(`keel: ${err instanceof WalCorruptionError ? '' : 'cannot open the write-ahead log: '}${err.message}\n`);
    process.exit(1);
  }
  const node = new ShardNode({
    id: plan.id,
    members: plan.members,
    join: plan.join,
    server: config,
    store,
    snapshotEntries: intOption(argv, 'snapshot-entries'),
    snapshotBytes: intOption(argv, 'snapshot-bytes'),
    snapshotGrowthPercent: countOption(argv, 'snapshot-growth-percent'),
    tickMs: intOption(argv, 'tick-ms'),
    electionTimeoutTicks: intOption(argv, 'election-timeout-ticks'),
    commitTimeoutMs: intOption(argv, 'commit-timeout-ms'),
    leaseReads: booleanOption(argv, 'lease-reads'),
    forwardSessionsMax: countOption(argv, 'forward-sessions-max'),
    onCommitted: metrics === null ? undefined : (ms) => metrics.observeCommit(ms),
    unsafeTestStaleReads: argv['unsafe-test-stale-reads'] === true,
    onFatal: (err) => {
      node.server.log.warning(`Fatal: ${err.message}; exiting`);
      process.exit(1);
    },
  });
  const server = node.server;
  server.configFile = built.file;
  server.log.notice(`Keel ${KEEL_VERSION} (Redis ${'7.0'} protocol) pid=${process.pid}`);
  let port: number;
  try {
    ({ port } = await node.start());
  } catch (e) {
    server.log.warning(`Could not start: ${(e as Error).message}`);
    process.exit(1);
  }
  const r = node.recovered;
  const book = node.members;
  const cs = node.driver.node.raft.trk.confState();
  const shard =
    r.fresh && plan.join
      ? `node ${plan.name} (raft id ${plan.id}) joining the shard of ${plan.members.filter((m) => m.id !== plan.id).map((m) => `${m.name}=${m.clientAddress}@${m.clusterPort}`).join(',')}: waiting for its leader to add it (keel cluster add-node)`
      : cs.voters.length === 1 && book.length === 1
        ? `node ${plan.name} (raft id ${plan.id}), the single voter of its shard`
        : `node ${plan.name} (raft id ${plan.id}) of a shard of voters ${cs.voters.join(',')}${cs.learners.length > 0 ? ` and learners ${cs.learners.join(',')}` : ''}: ${book.map((m) => `${m.id}=${m.clientAddress}@${m.clusterPort}`).join(',')}`;
  server.log.notice(shard);
  if (booleanOption(argv, 'lease-reads')) server.log.notice('Lease reads on: the leader answers reads from its lease, assuming node clocks tick within 5% of each other');
  if (argv['unsafe-test-stale-reads'] === true) server.log.warning('--unsafe-test-stale-reads: reads are answered from local state without ReadIndex and MAY BE STALE (a test-only broken mode, for jepsen-lite)');
  server.log.notice(
    `Write-ahead log in ${dataDir} (appendfsync ${policy}): ` +
      (r.fresh ? (plan.join ? 'a new store, left empty until the leader sends a snapshot' : 'a new store, bootstrapped at index 1') : `recovered snapshot at index ${r.snapshotIndex}, log to index ${r.lastIndex}, commit index ${r.commit} (the membership comes from the store; --peers only seeds a new one)`),
  );
  for (const w of store.recovery.warnings) server.log.warning(`wal: ${w}`);
  if (metrics !== null && metricsPort !== undefined) {
    metrics.attach(node);
    try {
      const mport = await metrics.listen(config.bind, metricsPort);
      server.log.notice(`Prometheus metrics on http://${config.bind}:${mport}/metrics`);
    } catch (e) {
      server.log.warning(`Could not serve metrics on ${config.bind}:${metricsPort}: ${(e as Error).message}`);
      process.exit(1);
    }
  }
  server.log.notice(`Ready to accept connections tcp on ${config.bind}:${port}`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.log.notice(`Received ${signal}, shutting down`);
    // A leader hands its leadership to an up-to-date follower first (bounded), so that a
    // rolling restart fails no client write.
    const handOff = signal === 'SIGTERM' ? node.handOff(HANDOFF_TIMEOUT_MS).catch((e: Error) => server.log.warning(`hand-off failed: ${e.message}`)) : Promise.resolve();
    void handOff.then(() => Promise.all([node.close(), metrics?.close()])).then(
      () => {
        server.log.notice('Keel is now ready to exit, bye bye...');
        process.exit(0);
      },
      (err: Error) => {
        server.log.warning(`Shutdown failed: ${err.message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
