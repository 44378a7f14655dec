// INFO replication / raft, WAIT and KEEL.TRANSFERLEADER on a 3-node shard in this process
// (ShardNodes on loopback, clients over real TCP), and `keel cluster status | transfer-leader`
// run as a child process against it. Every wait is bounded; everything is closed in afterAll.

import { spawn } from 'node:child_process';
import { ShardMember, ShardNode } from '@keel/server';
import { Conn, freePort, HOST, keelMain, ReplyError, removeDirs, sleep, tmpDir, until, within } from './durability-util';

const conns: Conn[] = [];
let nodes: ShardNode[] = [];
let single: ShardNode | null = null;

afterAll(async () => {
  for (const c of conns) c.close();
  for (const n of nodes) await n.close();
  if (single !== null) await single.close();
  removeDirs();
});

async function startShard(size: number): Promise<ShardNode[]> {
  const members: ShardMember[] = [];
  const ports: number[] = [];
  for (let i = 1; i <= size; i++) {
    const port = await freePort();
    ports.push(port);
    members.push({ id: i, host: HOST, clusterPort: size === 1 ? 0 : await freePort(), clientAddress: `${HOST}:${port}` });
  }
  const out = members.map(
    (m, i) =>
      new ShardNode({
        id: m.id,
        members,
        server: { port: ports[i], bind: HOST, dir: tmpDir(`admin-n${m.id}`), loglevel: 'warning' },
        tickMs: 20,
        electionTimeoutTicks: 10,
        commitTimeoutMs: 2000,
        readTimeoutMs: 2000,
      }),
  );
  await Promise.all(out.map((n) => n.start()));
  return out;
}

function leaderOf(live: ShardNode[]): ShardNode | undefined {
  const l = live.filter((n) => !n.isClosed && n.driver.isLeader);
  return l.length === 1 ? l[0] : undefined;
}

async function connect(n: ShardNode): Promise<Conn> {
  const c = await Conn.connect(n.server.port);
  conns.push(c);
  return c;
}

async function info(n: ShardNode, section?: string): Promise<{ text: string; f: Map<string, string> }> {
  const c = await connect(n);
  const text = (await c.cmd(section === undefined ? ['INFO'] : ['INFO', section])) as string;
  c.close();
  const f = new Map<string, string>();
  for (const line of text.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) f.set(line.slice(0, i), line.slice(i + 1));
  }
  return { text, f };
}

function errorOf(r: unknown): string {
  if (!(r instanceof ReplyError)) throw new Error(`expected an error, got ${JSON.stringify(r)}`);
  return r.message;
}

/** Runs the keel CLI as a child process (asynchronously: the nodes live in this process). */
function keel(args: string[], timeoutMs = 20000): Promise<{ code: number | null; out: string }> {
  const p = spawn(process.execPath, [keelMain, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.on('data', (d) => (out += d));
  p.stderr.on('data', (d) => (out += d));
  return within<{ code: number | null; out: string }>(new Promise((resolve) => p.on('exit', (code) => resolve({ code, out }))), timeoutMs, `keel ${args.join(' ')}`).catch((e) => {
    p.kill('SIGKILL');
    throw e;
  });
}

describe('a 3-node shard: INFO, WAIT, transfer', () => {
  let leader: ShardNode;
  let followers: ShardNode[];

  beforeAll(async () => {
    nodes = await startShard(3);
    leader = await until(() => leaderOf(nodes), 'a leader');
    followers = nodes.filter((n) => n !== leader);
    // Both followers caught up and acknowledging.
    await until(() => followers.every((f) => f.driver.applied >= leader.driver.commitIndex && leader.lastAckMs.has(f.id)), 'followers to catch up');
  });

  test('INFO replication on the leader: role master, raft fields, one line per peer', async () => {
    const c = await connect(leader);
    expect(await c.cmd(['SET', 'k', 'v'])).toBe('OK');
    const { text, f } = await info(leader, 'replication');
    expect(text).toMatch(/^# Replication\r\n/);
    expect(f.get('role')).toBe('master');
    expect(f.get('connected_slaves')).toBe('2');
    expect(f.get('raft_node_id')).toBe(String(leader.id));
    expect(f.get('raft_leader')).toBe(String(leader.id));
    expect(Number(f.get('raft_term'))).toBe(leader.driver.term);
    expect(Number(f.get('raft_commit_index'))).toBeGreaterThanOrEqual(2);
    expect(Number(f.get('raft_applied_index'))).toBeGreaterThanOrEqual(2);
    expect(f.get('raft_snapshot_index')).toMatch(/^\d+$/);
    for (const fo of followers) {
      expect(f.get(`raft_peer_${fo.id}`)).toMatch(/^match=\d+,lag_entries=\d+,lag_ms=\d+,state=(replicate|probe)/);
      expect(f.get(`slave${followers.indexOf(fo)}`)).toMatch(/^ip=127\.0\.0\.1,port=\d+,state=\w+,offset=\d+,lag=\d+$/);
    }
    // The Raft section alone holds the same raft fields, without the Redis ones.
    const raft = await info(leader, 'raft');
    expect(raft.text).toMatch(/^# Raft\r\n/);
    expect(raft.f.get('raft_node_id')).toBe(String(leader.id));
    expect(raft.f.has('role')).toBe(false);
    // INFO (default sections) has Replication, not Raft.
    const all = await info(leader);
    expect(all.text).toContain('# Replication');
    expect(all.text).not.toContain('# Raft');
  });

  test('INFO replication on a follower: role slave, the leader as master', async () => {
    const fo = followers[0]!;
    await until(() => fo.lastLeaderContactMs > 0, 'the follower to hear from the leader');
    const { f } = await info(fo, 'replication');
    expect(f.get('role')).toBe('slave');
    expect(f.get('master_host')).toBe(HOST);
    expect(f.get('master_port')).toBe(String(leader.server.port));
    expect(f.get('master_link_status')).toBe('up');
    expect(f.get('raft_leader')).toBe(String(leader.id));
    expect(f.get('raft_node_id')).toBe(String(fo.id));
  });

  test('WAIT: syntax and errors as Redis', async () => {
    const c = await connect(leader);
    expect(errorOf(await c.cmd(['WAIT', '1']))).toMatch(/^ERR wrong number of arguments for 'wait' command/);
    expect(errorOf(await c.cmd(['WAIT', 'x', '0']))).toBe('ERR value is not an integer or out of range');
    expect(errorOf(await c.cmd(['WAIT', '1', '1.5']))).toBe('ERR timeout is not an integer or out of range');
    expect(errorOf(await c.cmd(['WAIT', '1', '-1']))).toBe('ERR timeout is negative');
    const f = await connect(followers[0]!);
    expect(errorOf(await f.cmd(['WAIT', '1', '0']))).toMatch(/^ERR WAIT cannot be used with replica instances/);
  });

  test('WAIT counts the followers holding the client\'s last write', async () => {
    const c = await connect(leader);
    expect(await c.cmd(['SET', 'w1', '1'])).toBe('OK');
    expect(await c.cmd(['WAIT', '2', '2000'])).toBe(2);
    expect(await c.cmd(['WAIT', '0', '0'])).toBeGreaterThanOrEqual(0);
    // More than there are: blocks until the timeout, then replies how many hold it; the
    // event loop goes on meanwhile (another client is served), and so does this client after.
    const other = await connect(leader);
    const t0 = Date.now();
    const waiting = c.cmd(['WAIT', '3', '300']);
    const pingAt = Date.now();
    expect(await other.cmd(['PING'])).toBe('PONG');
    expect(Date.now() - pingAt).toBeLessThan(200);
    expect(await waiting).toBe(2);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(await c.cmd(['GET', 'w1'])).toBe('1');
    // Pipelined: a write then WAIT in one go.
    const [r1, r2] = await Promise.all([c.cmd(['INCR', 'w2']), c.cmd(['WAIT', '2', '2000'])]);
    expect(r1).toBe(1);
    expect(r2).toBe(2);
    // Inside MULTI it answers at once.
    expect(await c.cmd(['MULTI'])).toBe('OK');
    expect(await c.cmd(['WAIT', '5', '0'])).toBe('QUEUED');
    const exec = (await c.cmd(['EXEC'])) as unknown[];
    expect(exec).toEqual([2]);
  });

  test('WAIT with timeout 0 ends with the client\'s connection', async () => {
    const c = await connect(leader);
    expect(await c.cmd(['SET', 'w3', '1'])).toBe('OK');
    const p = c.cmd(['WAIT', '3', '0']).catch((e: Error) => e);
    await sleep(100);
    c.close();
    expect(await within(p, 2000, 'the WAIT to end')).toBeInstanceOf(Error);
    const other = await connect(leader);
    expect(await other.cmd(['PING'])).toBe('PONG');
  });

  test('keel cluster status prints role, term, leader, members and lags', async () => {
    const fo = followers[1]!;
    const r = await keel(['cluster', 'status', '--host', HOST, '--port', String(fo.server.port)]);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`node:     n${fo.id}`);
    expect(r.out).toContain(`leader:   n${leader.id} (${HOST}:${leader.server.port})`);
    expect(r.out).toMatch(/term:\s+\d+/);
    // One line per member: role, client address, cluster address.
    expect(r.out).toMatch(/members:\n\s+n1\s+voter\s+127\.0\.0\.1:\d+\s+cluster 127\.0\.0\.1:\d+.*\n\s+n2\s+voter\s.*\n\s+n3\s+voter\s/);
    expect(r.out).toMatch(new RegExp(`n${leader.id}\\s+voter\\s.*\\(leader\\)`));
    for (const f of followers) expect(r.out).toMatch(new RegExp(`n${f.id} .*match \\d+  lag \\d+ entries, \\d+ ms since last ack`));
  });

  test('KEEL.TRANSFERLEADER and keel cluster transfer-leader move the leadership', async () => {
    const c = await connect(leader);
    expect(errorOf(await c.cmd(['KEEL.TRANSFERLEADER', 'n9']))).toMatch(/^ERR 'n9' is not a voter/);
    expect(errorOf(await (await connect(followers[1]!)).cmd(['KEEL.TRANSFERLEADER', `n${followers[0]!.id}`]))).toMatch(/^READONLY .*leader, node \d+ \(127\.0\.0\.1:\d+\)/);
    const to = followers[0]!;
    expect(await c.cmd(['KEEL.TRANSFERLEADER', `n${to.id}`])).toBe('OK');
    expect(to.driver.isLeader).toBe(true);
    const { f } = await info(to, 'replication');
    expect(f.get('role')).toBe('master');
    // Writes now go to the new leader; the old one names it.
    const w = await connect(to);
    expect(await w.cmd(['SET', 'after-transfer', '1'])).toBe('OK');
    // A session of the old leader is forwarded to the new one; a READONLY session is told where it is.
    expect(await c.cmd(['SET', 'x', '1'])).toBe('OK');
    const ro = await connect(leader);
    expect(await ro.cmd(['READONLY'])).toBe('OK');
    expect(errorOf(await ro.cmd(['SET', 'x', '1']))).toMatch(/^READONLY .* node \d+ \(127\.0\.0\.1:\d+\)/);
    // Back, through the CLI, asked of a follower (which names the leader; the CLI asks it).
    const r = await keel(['cluster', 'transfer-leader', '--host', HOST, '--port', String(followers[1]!.server.port), '--to', `n${leader.id}`]);
    expect(r.out).toContain(`leadership transferred to n${leader.id}`);
    expect(r.code).toBe(0);
    await until(() => leaderOf(nodes) === leader, 'the leadership to come back');
  });

  test('WAIT counts only the followers that hold the write (one follower down)', async () => {
    const down = followers[1]!;
    await down.close();
    const c = await connect(leader);
    expect(await c.cmd(['SET', 'w4', '1'])).toBe('OK');
    expect(await c.cmd(['WAIT', '2', '300'])).toBe(1);
    expect(await c.cmd(['WAIT', '1', '0'])).toBe(1);
    const { f } = await info(leader, 'raft');
    expect(f.get(`raft_peer_${down.id}`)).toMatch(/lag_entries=[1-9]\d*,/);
  });
});

describe('a shard of one', () => {
  test('WAIT replies 0 at once; INFO says master', async () => {
    [single] = await startShard(1);
    const n = single!;
    await until(() => n.driver.isLeader, 'the single node to lead');
    const c = await connect(n);
    expect(await c.cmd(['SET', 'a', '1'])).toBe('OK');
    expect(await c.cmd(['WAIT', '1', '0'])).toBe(0);
    expect(errorOf(await c.cmd(['WAIT', '1', '-5']))).toBe('ERR timeout is negative');
    const { f } = await info(n, 'replication');
    expect(f.get('role')).toBe('master');
    expect(f.get('connected_slaves')).toBe('0');
  });
});
