// Helpers for the membership tests and the join benchmark (scripts/bench-join.js): a shard of
// real `keel server` processes, INFO as a map, a bulk loader, a pipelined digest of a node's
// whole state, and the "a new node joins a loaded shard" scenario. Every process is started
// through durability-util (killAll() ends them), every wait is bounded.

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { Conn, freePort, HOST, KeelProcess, keelMain, Reply, ReplyError, startKeel, tmpDir, until, within } from './durability-util';

export interface ProcNode {
  name: string;
  id: number;
  port: number;
  clusterPort: number;
  dir: string;
  args: string[];
  proc: KeelProcess | null;
}

/** Raft timing for tests: 50 ms ticks, an election timeout of 10 ticks (load on 2 shared cores). */
export const TIMING = ['--tick-ms', '50', '--election-timeout-ticks', '10', '--commit-timeout-ms', '5000'];

export async function planNodes(ids: number[], prefix: string): Promise<ProcNode[]> {
  const out: ProcNode[] = [];
  for (const id of ids) out.push({ name: `n${id}`, id, port: await freePort(), clusterPort: await freePort(), dir: tmpDir(`${prefix}-n${id}`), args: [], proc: null });
  return out;
}

export function peersOf(nodes: ProcNode[]): string {
  return nodes.map((n) => `${n.name}=${HOST}:${n.port}@${n.clusterPort}`).join(',');
}

/** Starts the nodes of a new shard (each with --peers listing all of them). */
export async function startShard(nodes: ProcNode[], extra: string[] = []): Promise<void> {
  const peers = peersOf(nodes);
  for (const n of nodes) n.args = ['--node-id', n.name, '--peers', peers, '--dir', n.dir, ...TIMING, ...extra];
  await Promise.all(nodes.map(async (n) => (n.proc = await startKeel(n.args))));
}

/** Starts a node that joins the shard of `members` (keel server --join). */
export async function startJoiner(n: ProcNode, members: ProcNode[], extra: string[] = []): Promise<void> {
  n.args = ['--node-id', n.name, '--port', String(n.port), '--cluster-port', String(n.clusterPort), '--join', '--peers', peersOf(members), '--dir', n.dir, ...TIMING, ...extra];
  n.proc = await startKeel(n.args);
}

export async function restart(n: ProcNode): Promise<void> {
  n.proc = await startKeel(n.args);
}

export async function infoOf(port: number, section = 'raft'): Promise<Map<string, string> | null> {
  let c: Conn;
  try {
    c = await Conn.connect(port, 1000);
  } catch {
    return null;
  }
  try {
    const r = await c.cmd(['INFO', section], 3000);
    if (typeof r !== 'string') return null;
    const m = new Map<string, string>();
    for (const line of r.split('\r\n')) {
      const i = line.indexOf(':');
      if (i > 0 && !line.startsWith('#')) m.set(line.slice(0, i), line.slice(i + 1));
    }
    return m;
  } catch {
    return null;
  } finally {
    c.close();
  }
}

/** The one node among `nodes` that says it leads (and that its peers agree on), within timeoutMs. */
export function leaderOf(nodes: ProcNode[], timeoutMs = 15000): Promise<ProcNode> {
  return until(
    async () => {
      const leaders: ProcNode[] = [];
      for (const n of nodes) {
        if (n.proc === null) continue;
        const m = await infoOf(n.port);
        if (m?.get('raft_state') === 'leader' && m.get('raft_this_node_removed') !== '1') leaders.push(n);
      }
      return leaders.length === 1 ? leaders[0] : undefined;
    },
    'one leader',
    timeoutMs,
    50,
  );
}

/** Runs the keel CLI as a child process (asynchronously), bounded. */
export function keel(args: string[], timeoutMs = 60000): Promise<{ code: number | null; out: string }> {
  const p = spawn(process.execPath, [keelMain, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.on('data', (d) => (out += d));
  p.stderr.on('data', (d) => (out += d));
  return within<{ code: number | null; out: string }>(new Promise((resolve) => p.on('exit', (code) => resolve({ code, out }))), timeoutMs, `keel ${args.join(' ')}`).catch((e) => {
    p.kill('SIGKILL');
    throw e;
  });
}

/** Writes `count` string keys `bulk:<i>` with MSETs of `batch` pairs, `inflight` at a time. */
export async function loadKeys(port: number, count: number, batch = 1000, inflight = 8): Promise<void> {
  const c = await Conn.connect(port);
  try {
    let next = 0;
    const worker = async () => {
      while (next < count) {
        const from = next;
        next = Math.min(count, next + batch);
        const args: string[] = ['MSET'];
        for (let i = from; i < next; i++) args.push(`bulk:${i}`, `value-${i}-${'x'.repeat(24)}`);
        const r = await c.cmd(args, 30000);
        if (r !== 'OK') throw new Error(`MSET ${from}..${next}: ${r instanceof ReplyError ? r.message : JSON.stringify(r)}`);
      }
    };
    await Promise.all(Array.from({ length: inflight }, worker));
  } finally {
    c.close();
  }
}

/**
 * A digest of db 0: every key with its type, its value (collections in a canonical order) and
 * whether it expires. Equal digests: the same data. Keys come from SCAN; their types and values
 * are read 1000 keys at a time inside MULTI/EXEC, so that a follower confirms one read index per
 * batch rather than one per command (a read-only transaction is one read).
 */
export async function digestOf(port: number): Promise<{ keys: number; sha: string }> {
  const c = await Conn.connect(port, 3000);
  try {
    const seen = new Set<string>();
    let cursor = '0';
    do {
      const r = await c.cmd(['SCAN', cursor, 'COUNT', 1000], 30000);
      if (!Array.isArray(r)) throw new Error(`SCAN on port ${port}: ${r instanceof ReplyError ? r.message : JSON.stringify(r)}`);
      cursor = r[0] as string;
      for (const k of r[1] as string[]) seen.add(k);
    } while (cursor !== '0');
    const keys = [...seen].sort();
    const h = createHash('sha256');
    for (let i = 0; i < keys.length; i += 1000) {
      const part = keys.slice(i, i + 1000);
      const types = (await transaction(c, part.map((k) => ['TYPE', k]))) as string[];
      const reads: Array<Array<string | number>> = [];
      part.forEach((k, j) => {
        const t = types[j];
        if (t === 'string') reads.push(['GET', k]);
        else if (t === 'list') reads.push(['LRANGE', k, 0, -1]);
        else if (t === 'hash') reads.push(['HGETALL', k]);
        else if (t === 'set') reads.push(['SMEMBERS', k]);
        else if (t === 'zset') reads.push(['ZRANGE', k, 0, -1, 'WITHSCORES']);
        else reads.push(['TYPE', k]);
        reads.push(['PTTL', k]);
      });
      const got = await transaction(c, reads);
      part.forEach((k, j) => {
        const t = types[j];
        let v = got[2 * j]!;
        if (t === 'hash') v = pairs(v as string[]);
        else if (t === 'set') v = (v as string[]).slice().sort();
        h.update(JSON.stringify([k, t, v, (got[2 * j + 1] as number) >= 0]));
      });
    }
    return { keys: keys.length, sha: h.digest('hex') };
  } finally {
    c.close();
  }
}

/** Runs commands as one MULTI/EXEC (pipelined); returns EXEC's replies. */
async function transaction(c: Conn, cmds: Array<Array<string | number>>): Promise<Reply[]> {
  const queued = [c.cmd(['MULTI'], 30000), ...cmds.map((a) => c.cmd(a, 30000))];
  const exec = c.cmd(['EXEC'], 30000);
  const q = await Promise.all(queued);
  const bad = q.find((r) => r instanceof ReplyError);
  if (bad !== undefined) throw new Error(`queuing a digest transaction: ${(bad as ReplyError).message}`);
  const r = await exec;
  if (!Array.isArray(r)) throw new Error(`EXEC of a digest transaction: ${r instanceof ReplyError ? r.message : JSON.stringify(r)}`);
  return r;
}

function pairs(flat: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < flat.length; i += 2) out.push(`${flat[i]}=${flat[i + 1]}`);
  return out.sort();
}

/** Waits until every node applied at least the leader's commit index (as read once, now). */
export async function settle(nodes: ProcNode[], leader: ProcNode, timeoutMs = 30000): Promise<number> {
  const commit = Number((await infoOf(leader.port))?.get('raft_commit_index'));
  await until(
    async () => {
      for (const n of nodes) {
        const m = await infoOf(n.port);
        if (m === null || Number(m.get('raft_applied_index')) < commit) return false;
      }
      return true;
    },
    `every node to apply index ${commit}`,
    timeoutMs,
    50,
  );
  return commit;
}

export interface JoinResult {
  keys: number;
  loadMs: number;
  /** From `keel cluster add-node` to its success (learner, snapshot, catch-up, promotion). */
  addNodeMs: number;
  snapshotBytes: number;
  digestMs: number;
  digests: string[];
  voters: string;
}

/**
 * The scenario: a 3-node shard holding `keys` keys; a 4th node started with --join is
 * added with `keel cluster add-node`, catches up from a snapshot, becomes a voter; then every
 * node's digest is taken. The caller kills the processes (killAll) and removes the directories.
 */
export async function joinLoadedShard(keys: number, log: (line: string) => void = () => {}): Promise<JoinResult> {
  const nodes = await planNodes([1, 2, 3, 4], 'join');
  const shard = nodes.slice(0, 3);
  const joiner = nodes[3]!;
  // Snapshots by entry count only, so that the loaded data is in a snapshot and the log is compacted.
  const snapshotArgs = ['--snapshot-entries', '200', '--snapshot-growth-percent', '0'];
  await startShard(shard, snapshotArgs);
  const leader = await leaderOf(shard);
  log(`shard up, leader ${leader.name}; loading ${keys} keys`);
  const t0 = Date.now();
  await loadKeys(leader.port, keys);
  const loadMs = Date.now() - t0;
  log(`loaded in ${loadMs} ms`);
  await settle(shard, leader, 120000);
  await startJoiner(joiner, shard, snapshotArgs);
  const t1 = Date.now();
  const r = await keel(['cluster', 'add-node', '--port', String(leader.port), '--node', joiner.name, '--address', `${HOST}:${joiner.port}@${joiner.clusterPort}`, '--timeout', '600000'], 700000);
  const addNodeMs = Date.now() - t1;
  if (r.code !== 0) throw new Error(`keel cluster add-node failed (${r.code}): ${r.out}\n--- leader log ---\n${leader.proc!.out().slice(-4000)}\n--- joiner log ---\n${joiner.proc!.out().slice(-4000)}`);
  log(`add-node succeeded in ${addNodeMs} ms`);
  const info = await infoOf(leader.port);
  await settle(nodes, leader, 120000);
  log('every node applied the leader\'s commit index; digesting');
  const t2 = Date.now();
  const digests = await Promise.all(nodes.map((n) => digestOf(n.port).then((d) => `${d.keys}:${d.sha}`)));
  const digestMs = Date.now() - t2;
  const sent = /sent snapshot \d+ \((\d+) bytes\) to node 4/.exec(leader.proc!.out());
  return { keys, loadMs, addNodeMs, snapshotBytes: sent === null ? -1 : Number(sent[1]), digestMs, digests, voters: info?.get('raft_voters') ?? '' };
}
