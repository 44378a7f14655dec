// Lease reads (ShardNodeOptions.leaseReads, `keel server --lease-reads`): the leader serves a
// read from its lease with no ReadIndex round; without the option every read takes one. A
// leader cut off from the others never serves a read from its lease once another leader may
// exist. In-process 3-node shards on loopback; every wait bounded.

import { NodeMetrics } from '../src/replication/metrics';
import { ShardNode } from '../src/replication/shard-node';
import { call, raftField, Shard, until } from './shard-harness';

const shards: Shard[] = [];

afterEach(() => {
  for (const s of shards) expect(s.fatal).toEqual([]);
});

afterAll(async () => {
  for (const s of shards) await s.close();
});

const counter = (n: ShardNode, name: string) => Number(raftField(n, name));

/** 50 sequential GETs on the leader; how each counter moved. */
async function fiftyReads(shard: Shard, leader: ShardNode): Promise<{ lease: number; requests: number; rounds: number }> {
  const c = await shard.connect(leader);
  expect(await call(c, 'SET', 'lk', 'v')).toBe('+OK\r\n');
  const lease0 = counter(leader, 'raft_lease_reads');
  const req0 = counter(leader, 'raft_read_index_requests');
  const rounds0 = counter(leader, 'raft_read_index_heartbeat_rounds');
  for (let i = 0; i < 50; i++) expect(await call(c, 'GET', 'lk')).toBe('$1\r\nv\r\n');
  return {
    lease: counter(leader, 'raft_lease_reads') - lease0,
    requests: counter(leader, 'raft_read_index_requests') - req0,
    rounds: counter(leader, 'raft_read_index_heartbeat_rounds') - rounds0,
  };
}

test('with --lease-reads the leader serves reads from its lease, without a ReadIndex round', async () => {
  const shard = await Shard.start(3, { leaseReads: true });
  shards.push(shard);
  const leader = await shard.leader();
  const c = await shard.connect(leader);
  expect(await call(c, 'INFO', 'raft')).toContain('raft_read_mode:lease\r\n');
  const moved = await fiftyReads(shard, leader);
  // Each read went one way or the other; with a healthy shard the lease holds for nearly all
  // (a read falls back to ReadIndex only if the lease lapsed, e.g. the event loop stalled).
  expect(moved.lease + moved.requests).toBe(50);
  expect(moved.lease).toBeGreaterThanOrEqual(40);
  const metrics = new NodeMetrics();
  metrics.attach(leader);
  try {
    expect(await metrics.text()).toMatch(new RegExp(`^keel_lease_reads_total ${counter(leader, 'raft_lease_reads')}$`, 'm'));
  } finally {
    await metrics.close();
  }
});

test('without it every read on the leader takes a ReadIndex round confirmed by a heartbeat round', async () => {
  const shard = await Shard.start(3);
  shards.push(shard);
  const leader = await shard.leader();
  const c = await shard.connect(leader);
  expect(await call(c, 'INFO', 'raft')).toContain('raft_read_mode:readindex\r\n');
  const moved = await fiftyReads(shard, leader);
  expect(moved).toEqual({ lease: 0, requests: 50, rounds: 50 });
  expect(counter(leader, 'raft_read_index_lease_answers')).toBe(0);
});

test('a lease leader cut off from the others stops answering reads before a new leader can acknowledge a write', async () => {
  const shard = await Shard.start(3, { leaseReads: true });
  shards.push(shard);
  const old = await shard.leader();
  const c = await shard.connect(old);
  expect(await call(c, 'SET', 'fence', 'before')).toBe('+OK\r\n');
  shard.isolate(old);
  try {
    const others = shard.nodes.filter((n) => n !== old);
    const fresh = await until(() => shard.leaderNow(others), 'a new leader on the majority side', 8000);
    const w = await shard.connect(fresh);
    expect(await call(w, 'SET', 'fence', 'after')).toBe('+OK\r\n');
    // The old leader's lease ran out before anyone could vote for the new one: no stale read.
    for (let i = 0; i < 3; i++) expect(await call(c, 'GET', 'fence')).toMatch(/^-TRYAGAIN /);
  } finally {
    shard.heal();
  }
  await until(() => old.server.engine.dbs[0]!.dict.get('fence') === 'after', 'the old leader to catch up', 8000);
});
