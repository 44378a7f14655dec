// Membership at runtime with real `keel server` processes on loopback:
//   - a 4th node started with --join waits without campaigning; `keel cluster add-node` (sent to
//     a follower, redirected to the leader) makes it a learner, it catches up from a snapshot
//     under a write stream, becomes a voter, and ends with the same state as the others;
//   - `keel cluster remove-node` of a follower: it stops serving (CLUSTERDOWN), the others drop it;
//   - every node restarted (SIGKILL) with its original flags keeps the membership from its
//     store, not from --peers; the removed node, restarted, is told it was removed;
//   - removing the leader: it hands off, a new leader serves, the old one refuses;
//   - bad input to KEEL.ADDNODE / KEEL.REMOVENODE gets clear errors;
//   - a node joins a shard holding 100k keys (the 1M run is scripts/bench-join.js).

import { Conn, freePort, HOST, keelSync, killAll, removeDirs, ReplyError, sleep, startKeel, until } from './durability-util';
import { digestOf, infoOf, joinLoadedShard, keel, leaderOf, loadKeys, planNodes, ProcNode, restart, settle, startJoiner, startShard } from './membership-util';

jest.setTimeout(240000);

afterAll(() => {
  killAll();
  removeDirs();
});

/** Clients writing unique keys and appending to a list each, to whichever node leads. */
class Writers {
  readonly acked = new Map<string, string>();
  readonly lists = new Map<string, number>();
  errors: string[] = [];
  private stopped = false;
  private done: Promise<void>[] = [];

  constructor(private readonly nodes: () => ProcNode[]) {}

  start(clients: number): void {
    for (let c = 0; c < clients; c++) this.done.push(this.run(c));
  }

  private async run(c: number): Promise<void> {
    let port = 0;
    let conn: Conn | null = null;
    for (let i = 0; !this.stopped; i++) {
      try {
        if (conn === null) {
          port = (await leaderOf(this.nodes(), 20000)).port;
          conn = await Conn.connect(port, 2000);
        }
        const key = `w:${c}:${i}`;
        const r = await conn.cmd(['SET', key, String(i)], 8000);
        if (r === 'OK') this.acked.set(key, String(i));
        else if (r instanceof ReplyError) this.onError(r.message, () => (conn = null));
        const l = await conn?.cmd(['RPUSH', `list:${c}`, String(i)], 8000);
        if (typeof l === 'number') this.lists.set(`list:${c}`, l);
        else if (l instanceof ReplyError) this.onError(l.message, () => (conn = null));
      } catch (e) {
        this.errors.push(`client ${c}: ${(e as Error).message}`);
        conn?.close();
        conn = null;
        await sleep(50);
      }
    }
    conn?.close();
  }

  private onError(msg: string, reconnect: () => void): void {
    // Not applied, retried elsewhere: the leader moved, or an election is on.
    if (/^(READONLY|TRYAGAIN|NOQUORUM|CLUSTERDOWN)/.test(msg)) {
      reconnect();
      return;
    }
    this.errors.push(msg);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.done);
  }
}

async function cmdOn(port: number, args: string[], timeoutMs = 10000): Promise<unknown> {
  const c = await Conn.connect(port, 2000);
  try {
    return await c.cmd(args, timeoutMs);
  } finally {
    c.close();
  }
}

/** Every acknowledged write is on the node, and every node has the same digest. */
async function checkIdentical(nodes: ProcNode[], w: Writers): Promise<string> {
  const digests = await Promise.all(nodes.map((n) => digestOf(n.port)));
  for (const d of digests) expect(d).toEqual(digests[0]);
  const c = await Conn.connect(nodes[0]!.port);
  try {
    const keys = [...w.acked.keys()];
    for (let i = 0; i < keys.length; i += 500) {
      const part = keys.slice(i, i + 500);
      const got = (await c.cmd(['MGET', ...part], 10000)) as string[];
      part.forEach((k, j) => expect([k, got[j]]).toEqual([k, w.acked.get(k)]));
    }
    for (const [k, n] of w.lists) expect(Number(await c.cmd(['LLEN', k]))).toBeGreaterThanOrEqual(n);
  } finally {
    c.close();
  }
  return digests[0]!.sha;
}

describe('a 3-node shard grows to 4, loses one, restarts, loses its leader', () => {
  let nodes: ProcNode[];
  let n4: ProcNode;
  const writers = new Writers(() => nodes.filter((n) => n.proc !== null && n.id !== removedId));
  let removedId = 0;

  beforeAll(async () => {
    const all = await planNodes([1, 2, 3, 4], 'member');
    nodes = all.slice(0, 3);
    n4 = all[3]!;
    await startShard(nodes, ['--snapshot-entries', '300', '--snapshot-growth-percent', '0']);
    await leaderOf(nodes);
  });

  afterAll(async () => {
    await writers.stop();
  });

  test('add-node under a write stream: learner, snapshot, voter, identical state', async () => {
    const leader = await leaderOf(nodes);
    await loadKeys(leader.port, 5000, 500);
    writers.start(4);
    await until(() => writers.acked.size > 300, 'writes to flow', 30000);

    await startJoiner(n4, nodes, ['--snapshot-entries', '300', '--snapshot-growth-percent', '0']);
    // It waits for the leader: no configuration, no campaign, no term.
    await sleep(1500);
    const waiting = await infoOf(n4.port);
    expect(waiting?.get('raft_state')).toBe('follower');
    expect(waiting?.get('raft_term')).toBe('0');
    expect(waiting?.get('raft_voters')).toBe('');
    expect(n4.proc!.out()).toContain('waiting for its leader to add it');
    expect(await cmdOn(n4.port, ['SET', 'x', '1'])).toBeInstanceOf(ReplyError);

    // Sent to a follower: redirected to the leader by the CLI.
    const follower = nodes.find((n) => n !== leader)!;
    const r = await keel(['cluster', 'add-node', '--port', String(follower.port), '--node', 'n4', '--address', `${HOST}:${n4.port}@${n4.clusterPort}`, '--timeout', '120000'], 180000);
    expect(r.out).toContain('n4');
    expect(r.code).toBe(0);
    nodes.push(n4);

    const lead = await leaderOf(nodes);
    const info = (await infoOf(lead.port))!;
    expect(info.get('raft_voters')!.split(',').sort()).toEqual(['1', '2', '3', '4']);
    expect(info.get('raft_learners')).toBe('');
    expect(info.get('raft_member_4')).toBe(`role=voter,address=${HOST}:${n4.port},cluster=${HOST}:${n4.clusterPort}`);
    // It started from a snapshot.
    expect(n4.proc!.out()).toMatch(/installed snapshot \d+/);
    expect(lead.proc!.out()).toMatch(/joined as a learner/);
    await until(() => writers.acked.size > 1000, 'more writes, with 4 voters', 60000);
    await writers.stop();
    expect(writers.errors).toEqual([]);
    await settle(nodes, await leaderOf(nodes));
    await checkIdentical(nodes, writers);
    // keel cluster status lists the four members with their roles and addresses.
    const st = await keel(['cluster', 'status', '--port', String(n4.port)]);
    expect(st.code).toBe(0);
    expect(st.out).toMatch(new RegExp(`n4\\s+voter\\s+${HOST}:${n4.port}`));
  });

  test('bad input to the membership commands gets clear errors', async () => {
    const lead = await leaderOf(nodes);
    const bad: Array<[string[], RegExp]> = [
      [['KEEL.ADDNODE', 'nobody', `${HOST}:1`], /^ERR 'nobody' is not a node name/],
      [['KEEL.ADDNODE', 'n9', 'nohost'], /^ERR 'nohost' is not host:port/],
      [['KEEL.ADDNODE', 'n9', `${HOST}:70000`], /^ERR .*port/],
      [['KEEL.ADDNODE', 'n9', `${HOST}:${nodes[0]!.port}@${nodes[0]!.clusterPort}`], /^ERR node 1 already uses/],
      [['KEEL.ADDNODE', 'n2', `${HOST}:1`], /^ERR node 2 is already a member at/],
      [['KEEL.ADDNODE', 'n9', `${HOST}:1`, 'TIMEOUT', 'x'], /^ERR TIMEOUT must be/],
      [['KEEL.ADDNODE', 'n9', `${HOST}:1`, 'FOO'], /^ERR syntax error/],
      [['KEEL.ADDNODE', 'n9'], /^ERR wrong number of arguments/],
      [['KEEL.REMOVENODE', 'n9'], /^ERR node 9 is not a member/],
      [['KEEL.REMOVENODE'], /^ERR wrong number of arguments/],
      [['KEEL.REMOVENODE', 'n9', 'TIMEOUT', '5'], /^ERR wrong number of arguments/],
    ];
    for (const [args, want] of bad) {
      const r = await cmdOn(lead.port, args);
      expect(r).toBeInstanceOf(ReplyError);
      expect([args.join(' '), (r as ReplyError).message]).toEqual([args.join(' '), expect.stringMatching(want)]);
    }
    // A follower names the leader.
    const follower = nodes.find((n) => n !== lead)!;
    const r = (await cmdOn(follower.port, ['KEEL.REMOVENODE', 'n9'])) as ReplyError;
    expect(r.message).toMatch(new RegExp(`^READONLY .*node ${lead.id} \\(${HOST}:${lead.port}\\)`));
    // Adding an existing voter again at its own address is a no-op.
    expect(await cmdOn(lead.port, ['KEEL.ADDNODE', 'n4', `${HOST}:${n4.port}@${n4.clusterPort}`])).toBe('OK');
  });

  test('add-node of a node that never starts: a bounded wait, a clear error, it stays a learner until removed', async () => {
    const lead = await leaderOf(nodes);
    const nowhere = await freePort();
    const t0 = Date.now();
    const r = (await cmdOn(lead.port, ['KEEL.ADDNODE', 'n9', `${HOST}:${nowhere}`, 'TIMEOUT', '1500'], 20000)) as ReplyError;
    expect(r).toBeInstanceOf(ReplyError);
    expect(r.message).toMatch(/^ERR node 9 was added as a learner but did not catch up within 1500 ms .*unreachable.*it stays a learner/);
    expect(Date.now() - t0).toBeLessThan(15000);
    let info = (await infoOf(lead.port))!;
    expect(info.get('raft_learners')).toBe('9');
    expect(info.get('raft_member_9')).toBe(`role=learner,address=${HOST}:${nowhere},cluster=${HOST}:${nowhere + 10000}`);
    // A learner counts toward no quorum: writes go on.
    expect(await cmdOn(lead.port, ['SET', 'with-a-dead-learner', '1'])).toBe('OK');
    expect(await cmdOn(lead.port, ['KEEL.REMOVENODE', 'n9'])).toBe('OK');
    info = (await infoOf(lead.port))!;
    expect(info.get('raft_learners')).toBe('');
    expect(info.get('raft_removed')).toBe('9');
    expect(await cmdOn(lead.port, ['KEEL.REMOVENODE', 'n9'])).toBe('OK'); // already removed
  });

  test('remove-node of a follower: it stops serving, the others drop it, writes go on', async () => {
    const lead = await leaderOf(nodes);
    const victim = nodes.find((n) => n !== lead && n !== n4)!;
    removedId = victim.id;
    const r = await keel(['cluster', 'remove-node', '--port', String(lead.port), '--node', victim.name]);
    expect(r.code).toBe(0);
    const info = (await infoOf(lead.port))!;
    expect(info.get('raft_voters')!.split(',')).not.toContain(String(victim.id));
    expect(info.get('raft_removed')).toBe(`9,${victim.id}`);
    expect(info.has(`raft_peer_${victim.id}`)).toBe(false);
    // The removed node learns it (by applying its removal, or from a member when it dials).
    await until(async () => (await infoOf(victim.port))?.get('raft_this_node_removed') === '1', 'the removed node to know', 15000);
    const refused = (await cmdOn(victim.port, ['GET', 'w:0:1'])) as ReplyError;
    expect(refused.message).toMatch(new RegExp(`^CLUSTERDOWN This node \\(${victim.id}\\) was removed from its shard`));
    expect(await cmdOn(victim.port, ['SET', 'k', 'v'])).toBeInstanceOf(ReplyError);
    expect(await cmdOn(victim.port, ['PING'])).toBe('PONG');
    // Re-adding a removed id is refused.
    const again = (await cmdOn(lead.port, ['KEEL.ADDNODE', victim.name, `${HOST}:${victim.port}@${victim.clusterPort}`])) as ReplyError;
    expect(again.message).toMatch(/was removed from this shard .* never reused/);
    // The rest still take writes.
    expect(await cmdOn(lead.port, ['SET', 'after-remove', '1'])).toBe('OK');
  });

  test('every node restarted (SIGKILL) keeps the membership from its store, not from --peers', async () => {
    const live = nodes.filter((n) => n.id !== removedId);
    const victim = nodes.find((n) => n.id === removedId)!;
    const before = await digestOf(live[0]!.port);
    for (const n of nodes) await n.proc!.kill();
    for (const n of nodes) n.proc = null;
    // keel wal check shows the membership recorded with each snapshot (the member book).
    const check = keelSync(['wal', 'check', '--dir', n4.dir]);
    expect(check.out).toMatch(/(voters [\d,]*4|learners 4)/); // its snapshot may be the one it was sent, as a learner
    expect(check.out).toContain(`members: {"v":1,"members":[`);
    expect(check.out).toContain(`{"id":4,"host":"${HOST}","clusterPort":${n4.clusterPort},"clientAddress":"${HOST}:${n4.port}"}`);
    // Restarted with their original flags: n1..n3 with --peers n1,n2,n3; n4 with --join.
    await Promise.all(nodes.map((n) => restart(n)));
    const lead = await leaderOf(live, 30000);
    const info = (await infoOf(lead.port))!;
    expect(info.get('raft_voters')!.split(',').sort()).toEqual(live.map((n) => String(n.id)).sort());
    expect(info.get('raft_member_4')).toBe(`role=voter,address=${HOST}:${n4.port},cluster=${HOST}:${n4.clusterPort}`);
    expect(await cmdOn(lead.port, ['SET', 'after-restart', '1'])).toBe('OK');
    await settle(live, lead);
    const after = await Promise.all(live.map((n) => digestOf(n.port)));
    for (const d of after) expect(d.keys).toBe(before.keys + 1);
    for (const d of after) expect(d).toEqual(after[0]);
    // The removed node, restarted, is removed again (from its log, or told by a member).
    await until(async () => (await infoOf(victim.port))?.get('raft_this_node_removed') === '1', 'the removed node to know again', 15000);
    expect(await cmdOn(victim.port, ['GET', 'after-restart'])).toBeInstanceOf(ReplyError);
  });

  test('remove-node of the leader: it hands off and stops serving; a new leader serves', async () => {
    const live = nodes.filter((n) => n.id !== removedId);
    const lead = await leaderOf(live);
    const r = await keel(['cluster', 'remove-node', '--port', String(lead.port), '--node', lead.name]);
    expect(r.code).toBe(0);
    const rest = live.filter((n) => n !== lead);
    const next = await leaderOf(rest, 20000);
    expect(next).not.toBe(lead);
    await until(async () => (await infoOf(lead.port))?.get('raft_this_node_removed') === '1', 'the old leader to stop', 15000);
    expect(((await cmdOn(lead.port, ['GET', 'k'])) as ReplyError).message).toMatch(/^CLUSTERDOWN/);
    const info = (await infoOf(next.port))!;
    expect(info.get('raft_voters')!.split(',').sort()).toEqual(rest.map((n) => String(n.id)).sort());
    expect(await cmdOn(next.port, ['SET', 'after-leader-removal', '1'])).toBe('OK');
    await settle(rest, next);
    const d = await Promise.all(rest.map((n) => digestOf(n.port)));
    expect(d[1]).toEqual(d[0]);
    expect(lead.proc!.out()).toMatch(/transfers leadership to node/);
  });
});

test('a shard of one grows to two when started with a one-member --peers; without it, add-node says why not', async () => {
  const [a, b, c] = await planNodes([1, 2, 3], 'single');
  // Without --peers: no node-to-node listener.
  c!.args = ['--port', String(c!.port), '--dir', c!.dir, ...['--tick-ms', '50']];
  c!.proc = await startKeel(c!.args);
  const refused = (await cmdOn(c!.port, ['KEEL.ADDNODE', 'n2', `${HOST}:${b!.port}@${b!.clusterPort}`])) as ReplyError;
  expect(refused.message).toMatch(/^ERR this node has no node-to-node listener .*--peers/);
  await c!.proc.kill();
  // With a one-member --peers it listens, and can grow.
  await startShard([a!]);
  expect(await cmdOn(a!.port, ['SET', 'before', '1'])).toBe('OK');
  await startJoiner(b!, [a!]);
  const r = await keel(['cluster', 'add-node', '--port', String(a!.port), '--node', 'n2', '--address', `${HOST}:${b!.port}@${b!.clusterPort}`, '--timeout', '60000'], 90000);
  expect([r.code, r.out]).toEqual([0, expect.stringContaining('is a voter')]);
  const lead = await leaderOf([a!, b!]);
  expect((await infoOf(lead.port))!.get('raft_voters')).toBe('1,2');
  expect(await cmdOn(lead.port, ['SET', 'after', '1'])).toBe('OK'); // committed by both
  await settle([a!, b!], lead);
  expect(await digestOf(b!.port)).toEqual(await digestOf(a!.port));
  await a!.proc!.kill();
  await b!.proc!.kill();
});

test('a new node joins a shard holding 100k keys through a snapshot and ends identical', async () => {
  killAll(); // the shard of the tests above
  const r = await joinLoadedShard(100_000);
  expect(r.voters.split(',').sort()).toEqual(['1', '2', '3', '4']);
  expect(r.digests[0]!.startsWith('100000:')).toBe(true);
  for (const d of r.digests) expect(d).toBe(r.digests[0]);
  expect(r.snapshotBytes).toBeGreaterThan(100_000 * 30);
}, 300000);
