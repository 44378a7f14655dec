// The Prometheus endpoint: `keel server --metrics-port` as a real process (writes show up in
// the commit-latency and WAL histograms), and NodeMetrics on a 3-node shard in this process
// (per-peer gauges, leader changes, a loss of quorum). Every wait is bounded.

import * as http from 'node:http';
import { NodeMetrics, ShardMember, ShardNode } from '@keel/server';
import { Conn, freePort, HOST, KeelProcess, killAll, ok, removeDirs, startKeel, tmpDir, until } from './durability-util';

const conns: Conn[] = [];
const nodes: ShardNode[] = [];
const metrics: NodeMetrics[] = [];
const procs: KeelProcess[] = [];

afterAll(async () => {
  for (const c of conns) c.close();
  for (const m of metrics) await m.close();
  for (const n of nodes) if (!n.isClosed) await n.close();
  for (const p of procs) await p.kill();
  killAll();
  removeDirs();
});

function get(port: number, path: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: HOST, port, path, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', reject);
  });
}

/** Samples of the exposition text: `name{labels}` → value. */
function parse(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

function value(m: Map<string, number>, key: string): number {
  const v = m.get(key);
  if (v === undefined) throw new Error(`no sample ${key} in ${[...m.keys()].filter((k) => k.startsWith('keel_')).join(', ')}`);
  return v;
}

test('keel server --metrics-port serves /metrics: commit latency, WAL batches, raft state, event-loop lag', async () => {
  const port = await freePort();
  const mport = await freePort();
  const p = await startKeel(['--port', String(port), '--metrics-port', String(mport), '--dir', tmpDir('metrics')]);
  procs.push(p);
  expect(p.out()).toContain(`Prometheus metrics on http://${HOST}:${mport}/metrics`);
  const c = await Conn.connect(port);
  conns.push(c);
  for (let i = 0; i < 50; i++) await ok(c, ['SET', `k${i}`, String(i)]);
  const r = await get(mport, '/metrics');
  expect(r.status).toBe(200);
  expect(r.type).toMatch(/^text\/plain/);
  const m = parse(r.body);
  expect(value(m, 'keel_raft_is_leader')).toBe(1);
  expect(value(m, 'keel_raft_term')).toBeGreaterThanOrEqual(1);
  expect(value(m, 'keel_raft_commit_index')).toBeGreaterThanOrEqual(50);
  expect(value(m, 'keel_raft_applied_index')).toBe(value(m, 'keel_raft_commit_index'));
  expect(value(m, 'keel_commit_latency_seconds_count')).toBe(50);
  expect(value(m, 'keel_commit_latency_seconds_sum')).toBeGreaterThan(0);
  expect(value(m, 'keel_raft_proposed_writes_total')).toBe(50);
  expect(value(m, 'keel_raft_applied_writes_total')).toBe(50);
  expect(value(m, 'keel_wal_entries_written_total')).toBeGreaterThanOrEqual(50);
  // appendfsync always: every batch that carried an entry was fsync'd.
  expect(value(m, 'keel_wal_write_latency_seconds_count{synced="yes"}')).toBeGreaterThanOrEqual(1);
  expect(value(m, 'keel_wal_batch_entries_sum')).toBeGreaterThanOrEqual(50);
  expect(value(m, 'keel_raft_leader_changes_total')).toBe(1);
  expect(value(m, 'keel_connected_clients')).toBe(1);
  expect(m.has('nodejs_eventloop_lag_seconds')).toBe(true);
  expect((await get(mport, '/')).status).toBe(404);
});

test('--metrics-port must be a port', async () => {
  const p = await startKeel(['--port', String(await freePort()), '--metrics-port', 'ninety', '--dir', tmpDir('metrics-bad')]);
  procs.push(p);
  expect(await p.exited).toBe(1);
  expect(p.out()).toMatch(/--metrics-port: '.*' is not a positive integer/);
});

test('on a 3-node shard: per-peer match and lag on the leader, leader changes, and a loss of quorum', async () => {
  const members: ShardMember[] = [];
  const ports: number[] = [];
  for (let i = 1; i <= 3; i++) {
    const port = await freePort();
    ports.push(port);
    members.push({ id: i, host: HOST, clusterPort: await freePort(), clientAddress: `${HOST}:${port}` });
  }
  for (const [i, mem] of members.entries()) {
    nodes.push(
      new ShardNode({
        id: mem.id,
        members,
        server: { port: ports[i], bind: HOST, dir: tmpDir(`metrics-n${mem.id}`), loglevel: 'warning' },
        tickMs: 20,
        // Slow to notice a lost quorum (CheckQuorum steps down after an election timeout),
        // so that the 250 ms sampler sees the leader without one.
        electionTimeoutTicks: 75,
        commitTimeoutMs: 2000,
      }),
    );
  }
  await Promise.all(nodes.map((n) => n.start()));
  const leader = await until(() => nodes.find((n) => n.driver.isLeader), 'a leader', 15000);
  const lm = new NodeMetrics();
  metrics.push(lm);
  lm.attach(leader);
  const c = await Conn.connect(leader.server.port);
  conns.push(c);
  for (let i = 0; i < 20; i++) await ok(c, ['SET', `k${i}`, String(i)]);
  const followers = nodes.filter((n) => n !== leader);
  const m = await until(async () => {
    const s = parse(await lm.text());
    return followers.every((f) => s.get(`keel_raft_peer_lag_entries{peer="${f.id}"}`) === 0) ? s : undefined;
  }, 'both followers caught up in the leader\'s metrics');
  for (const f of followers) {
    expect(value(m, `keel_raft_peer_match_index{peer="${f.id}"}`)).toBe(value(m, 'keel_raft_last_index'));
    expect(value(m, `keel_raft_peer_lag_seconds{peer="${f.id}"}`)).toBeLessThan(5);
  }
  expect(m.has(`keel_raft_peer_match_index{peer="${leader.id}"}`)).toBe(false);
  expect(value(m, 'keel_raft_leader_changes_total')).toBeGreaterThanOrEqual(1);
  expect(value(m, 'keel_raft_quorum_losses_total')).toBe(0);
  // Both followers go: the leader can no longer reach a quorum.
  for (const f of followers) await f.close();
  await until(async () => value(parse(await lm.text()), 'keel_raft_quorum_losses_total') === 1 || undefined, 'the leader\'s metrics to count a quorum loss', 10000);
});
