// Clients of a follower (replication/leader-proxy.ts): a session is forwarded whole to the
// leader on its first command that needs it; READONLY sessions read locally, possibly stale;
// a leader change closes forwarded sessions; limits and failures answer documented errors.
// In-process 3-node shards on loopback; every wait bounded.

import * as net from 'node:net';
import { NodeMetrics } from '../src/replication/metrics';
import { ShardNode } from '../src/replication/shard-node';
import { freePort } from './harness';
import { call, closedByServer, raftField, RespClient, Shard, sleep, until } from './shard-harness';

let shard: Shard;
let leader: ShardNode;
let followers: ShardNode[];

beforeAll(async () => {
  shard = await Shard.start(3, { forwardSessionsMax: 16 });
  leader = await shard.leader();
  followers = shard.nodes.filter((n) => n !== leader);
});

afterEach(() => {
  expect(shard.fatal).toEqual([]);
});

afterAll(async () => {
  await shard.close();
});

const bulk = (s: string) => `$${s.length}\r\n${s}\r\n`;

describe('a session on a follower is forwarded to the leader', () => {
  test('writes and reads through a follower are the leader\'s, linearizable, in order', async () => {
    const before = Number(raftField(followers[0]!, 'raft_forwarded_sessions_total'));
    const f = await shard.connect(followers[0]!);
    const l = await shard.connect(leader);
    // Local until a command needs the leader: INFO is this node's own.
    expect(await call(f, 'INFO', 'replication')).toContain('role:slave');
    for (let i = 0; i < 20; i++) {
      expect(await call(f, 'SET', 'fk', `f${i}`)).toBe('+OK\r\n');
      expect(await call(l, 'GET', 'fk')).toBe(bulk(`f${i}`));
      expect(await call(l, 'SET', 'fk', `l${i}`)).toBe('+OK\r\n');
      expect(await call(f, 'GET', 'fk')).toBe(bulk(`l${i}`));
    }
    // From then on the whole session is the leader's (INFO included).
    expect(await call(f, 'INFO', 'replication')).toContain('role:master');
    expect(Number(raftField(followers[0]!, 'raft_forwarded_sessions_total'))).toBe(before + 1);
    expect(Number(raftField(followers[0]!, 'raft_forwarded_sessions'))).toBeGreaterThanOrEqual(1);
    // A pipeline: every reply, in order.
    for (let i = 0; i < 300; i++) f.write(['INCR', 'fp']);
    for (let i = 1; i <= 300; i++) expect((await f.readFrame(8000)).toString()).toBe(`:${i}\r\n`);
    // Nothing ran on the follower's own: it applied the leader's entries.
    await until(() => followers[0]!.server.engine.dbs[0]!.dict.get('fp') === '300', 'the follower to apply the pipeline');
    // Prometheus sees the same counters.
    const metrics = new NodeMetrics();
    metrics.attach(followers[0]!);
    try {
      const text = await metrics.text();
      expect(text).toMatch(new RegExp(`^keel_forwarded_sessions_total ${raftField(followers[0]!, 'raft_forwarded_sessions_total')}$`, 'm'));
      expect(text).toMatch(/^keel_forwarded_commands_total (\d+)$/m);
      expect(Number(/^keel_forwarded_commands_total (\d+)$/m.exec(text)![1])).toBeGreaterThanOrEqual(341);
    } finally {
      await metrics.close();
    }
  });

  test('MULTI/EXEC and WATCH through a follower are the leader\'s', async () => {
    const f = await shard.connect(followers[1]!);
    const other = await shard.connect(followers[0]!);
    expect(await call(f, 'MULTI')).toBe('+OK\r\n');
    expect(await call(f, 'SET', 'tx', '1')).toBe('+QUEUED\r\n');
    expect(await call(f, 'INCR', 'tx')).toBe('+QUEUED\r\n');
    expect(await call(f, 'EXEC')).toBe('*2\r\n+OK\r\n:2\r\n');
    // WATCH, then a change by another client (through another follower): EXEC aborts.
    expect(await call(f, 'WATCH', 'tx')).toBe('+OK\r\n');
    expect(await call(other, 'SET', 'tx', '10')).toBe('+OK\r\n');
    expect(await call(f, 'MULTI')).toBe('+OK\r\n');
    expect(await call(f, 'SET', 'tx', '99')).toBe('+QUEUED\r\n');
    expect(await call(f, 'EXEC')).toBe('*-1\r\n');
    expect(await call(f, 'GET', 'tx')).toBe(bulk('10'));
    // Without interference it commits.
    expect(await call(f, 'WATCH', 'tx')).toBe('+OK\r\n');
    expect(await call(f, 'MULTI')).toBe('+OK\r\n');
    expect(await call(f, 'INCR', 'tx')).toBe('+QUEUED\r\n');
    expect(await call(f, 'EXEC')).toBe('*1\r\n:11\r\n');
  });

  test('SELECT, HELLO 3 and CLIENT SETNAME made before the session moved carry over to the leader', async () => {
    const f = await shard.connect(followers[0]!);
    expect(await call(f, 'SELECT', '5')).toBe('+OK\r\n');
    expect(await call(f, 'CLIENT', 'SETNAME', 'carried')).toBe('+OK\r\n');
    expect(await call(f, 'HELLO', '3')).toMatch(/^%7\r\n/);
    expect(await call(f, 'HSET', 'h5', 'a', '1')).toBe(':1\r\n');
    expect(await call(f, 'HGETALL', 'h5')).toBe('%1\r\n$1\r\na\r\n$1\r\n1\r\n'); // a RESP3 map
    expect(await call(f, 'CLIENT', 'GETNAME')).toBe(bulk('carried'));
    const l = await shard.connect(leader);
    expect(await call(l, 'SELECT', '5')).toBe('+OK\r\n');
    expect(await call(l, 'HGET', 'h5', 'a')).toBe(bulk('1'));
    // The leader sees the session as forwarded from the follower, under the client's name.
    const list = await call(l, 'CLIENT', 'LIST');
    expect(list).toContain('name=carried');
  });

  test('pub/sub and blocking commands through followers meet at the leader', async () => {
    const sub = await shard.connect(followers[0]!);
    const pub = await shard.connect(followers[1]!);
    expect(await call(sub, 'SUBSCRIBE', 'news')).toBe('*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n');
    expect(await call(pub, 'PUBLISH', 'news', 'hello')).toBe(':1\r\n');
    expect((await sub.readFrame(5000)).toString()).toBe('*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$5\r\nhello\r\n');
    const waiter = await shard.connect(followers[1]!);
    const popped = call(waiter, 'BLPOP', 'bq', '5');
    await sleep(100);
    const pusher = await shard.connect(followers[0]!);
    expect(await call(pusher, 'RPUSH', 'bq', 'job')).toBe(':1\r\n');
    expect(await popped).toBe('*2\r\n$2\r\nbq\r\n$3\r\njob\r\n');
  });

  test('QUIT is answered, then the connection closes; a protocol error comes after the replies before it', async () => {
    const q = await shard.connect(followers[0]!);
    expect(await call(q, 'SET', 'q', '1')).toBe('+OK\r\n');
    expect(await call(q, 'QUIT')).toBe('+OK\r\n');
    await closedByServer(q);
    const p = await shard.connect(followers[0]!);
    expect(await call(p, 'SET', 'p', '1')).toBe('+OK\r\n');
    p.writeRaw('*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\np\r\n*1\r\n$5\r\nMULTI\r\n*1\r\n$4\r\nPING\r\n*1\r\n$x\r\n');
    expect((await p.readFrame()).toString()).toBe('+PONG\r\n');
    expect((await p.readFrame()).toString()).toBe(bulk('1'));
    expect((await p.readFrame()).toString()).toBe('+OK\r\n');
    expect((await p.readFrame()).toString()).toBe('+QUEUED\r\n'); // the error itself is not queued
    expect((await p.readFrame()).toString()).toBe('-ERR Protocol error: invalid bulk length\r\n');
    await closedByServer(p);
    // The follower is fine.
    const again = await shard.connect(followers[0]!);
    expect(await call(again, 'GET', 'p')).toBe(bulk('1'));
  });

  test('a client that does not read: the follower stops reading the leader, its buffer stays bounded', async () => {
    const f = followers[0]!;
    const l = await shard.connect(leader);
    const big = 'x'.repeat(100_000);
    expect(await call(l, 'SET', 'big', big)).toBe('+OK\r\n');
    const sock = net.createConnection({ host: '127.0.0.1', port: f.server.port });
    try {
      await new Promise<void>((resolve, reject) => sock.once('connect', resolve).once('error', reject));
      const n = 300; // 30 MB of replies
      const frame = `$${big.length}\r\n${big}\r\n`;
      sock.pause();
      sock.write('*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n'.repeat(n));
      const relayed = () => [...f.server.clients.values()].find((c) => c.relay !== null && c.socket.remotePort === sock.localPort);
      await until(() => relayed() !== undefined && relayed()!.socket.writableLength > 0, 'the follower to relay replies');
      await sleep(300);
      // At most the 1 MiB bound plus the chunk that crossed it (the leader holds the rest).
      expect(relayed()!.socket.writableLength).toBeLessThan(1024 * 1024 + 256 * 1024);
      let received = 0;
      sock.on('data', (d: Buffer) => (received += d.length));
      sock.resume();
      await until(() => received >= n * frame.length, 'every reply', 15000);
      expect(received).toBe(n * frame.length);
    } finally {
      sock.destroy();
    }
  });

  test('at most forwardSessionsMax sessions are forwarded at once; the next is told, and nothing runs', async () => {
    const f = followers[1]!;
    const base = Number(raftField(f, 'raft_forwarded_sessions')); // earlier tests' sessions
    const open: RespClient[] = [];
    while (Number(raftField(f, 'raft_forwarded_sessions')) < 16) {
      const c = await shard.connect(f);
      expect(await call(c, 'PING')).toBe('+PONG\r\n');
      expect(await call(c, 'GET', 'nothing')).toBe('$-1\r\n');
      open.push(c);
      if (open.length > 16) throw new Error('more sessions than the limit');
    }
    const extra = await shard.connect(f);
    expect(await call(extra, 'SET', 'over', '1')).toMatch(/^-ERR max number of sessions forwarded to the leader reached \(16\); connect to the leader, node \d \(127\.0\.0\.1:\d+\); the command was not executed\r\n$/);
    expect(await call(extra, 'PING')).toBe('+PONG\r\n');
    open[0]!.close();
    await until(() => Number(raftField(f, 'raft_forwarded_sessions')) < 16, 'a forwarded session to end');
    expect(await call(extra, 'GET', 'over')).toBe('$-1\r\n'); // now forwarded, and SET never ran
    for (const c of [...open, extra]) c.close();
    await until(() => Number(raftField(f, 'raft_forwarded_sessions')) === base, 'the forwarded sessions to end');
  });

  test('a leader that cannot be reached: TRYAGAIN, not executed, and the session stays usable', async () => {
    const f = followers[0]!;
    const member = f.members.find((m) => m.id === leader.id)!;
    const real = member.clientAddress;
    const dead = await freePort(); // nothing listens there
    member.clientAddress = `127.0.0.1:${dead}`;
    try {
      const c = await shard.connect(f);
      expect(await call(c, 'SET', 'unreached', '1')).toMatch(new RegExp(`^-TRYAGAIN The leader, node ${leader.id} \\(127\\.0\\.0\\.1:${dead}\\), could not be reached from this node \\(.*\\); the command was not executed`));
      // A pipeline behind a failure fails fast, each command with the same error.
      c.write(['GET', 'a']);
      c.write(['GET', 'b']);
      expect((await c.readFrame()).toString()).toMatch(/^-TRYAGAIN The leader/);
      expect((await c.readFrame()).toString()).toMatch(/^-TRYAGAIN The leader/);
      expect(await call(c, 'PING')).toBe('+PONG\r\n');
      member.clientAddress = real;
      await sleep(300); // the failure is remembered for 250 ms
      expect(await call(c, 'GET', 'unreached')).toBe('$-1\r\n');
    } finally {
      member.clientAddress = real;
    }
  });
});

describe('KEEL.PROXY, READONLY and READWRITE', () => {
  test('refuse bad arguments with clear errors; FAIL and END only for forwarded sessions', async () => {
    const c = await shard.connect(leader);
    expect(await call(c, 'KEEL.PROXY', 'FAIL', 'x')).toBe('-ERR KEEL.PROXY FAIL is for sessions forwarded by a follower\r\n');
    expect(await call(c, 'KEEL.PROXY', 'END')).toBe('-ERR KEEL.PROXY END is for sessions forwarded by a follower\r\n');
    expect(await call(c, 'KEEL.PROXY', 'BOGUS')).toBe('-ERR syntax error: KEEL.PROXY FROM <raft id> <client address> | FAIL <error> | END\r\n');
    expect(await call(c, 'KEEL.PROXY', 'FROM', 'n2', 'addr')).toBe("-ERR 'n2' is not a raft id\r\n");
    expect(await call(c, 'KEEL.PROXY')).toBe("-ERR wrong number of arguments for 'keel.proxy' command\r\n");
    expect(await call(c, 'READONLY', 'x')).toBe("-ERR wrong number of arguments for 'readonly' command\r\n");
    expect(await call(c, 'READONLY')).toBe('+OK\r\n');
    expect(await call(c, 'READWRITE')).toBe('+OK\r\n');
    // Only the leader takes a forwarded session (a follower's view of the leader may be old).
    const fc = await shard.connect(followers[0]!);
    expect(await call(fc, 'KEEL.PROXY', 'FROM', '2', '127.0.0.1:1')).toBe(`-TRYAGAIN node ${followers[0]!.id} is not the leader (any more)\r\n`);
    // A session that says it was forwarded gets its FAIL text on one line, then is closed.
    expect(await call(c, 'KEEL.PROXY', 'FROM', '2', '127.0.0.1:1')).toBe('+OK\r\n');
    expect(await call(c, 'KEEL.PROXY', 'FAIL', 'ERR two\r\nlines')).toBe('-ERR two  lines\r\n');
    await closedByServer(c);
  });
});

describe('authentication', () => {
  test('a session authenticates on the follower; the follower authenticates its forwarded session at the leader', async () => {
    leader = await shard.leader();
    followers = shard.nodes.filter((n) => n !== leader);
    const f = followers[0]!;
    for (const n of shard.nodes) n.server.config.requirepass = 's3cret';
    try {
      const c = await shard.connect(f);
      expect(await call(c, 'GET', 'authk')).toBe('-NOAUTH Authentication required.\r\n'); // not forwarded
      expect(await call(c, 'AUTH', 's3cret')).toBe('+OK\r\n');
      expect(await call(c, 'SET', 'authk', '1')).toBe('+OK\r\n');
      expect(await call(c, 'GET', 'authk')).toBe(bulk('1'));
      // The leader wants another password: the session cannot be opened, nothing ran.
      leader.server.config.requirepass = 'other';
      const d = await shard.connect(f);
      expect(await call(d, 'AUTH', 's3cret')).toBe('+OK\r\n');
      expect(await call(d, 'SET', 'authk', '2')).toMatch(/^-TRYAGAIN The leader, node \d \(127\.0\.0\.1:\d+\), could not be reached from this node \(the leader refused the session: WRONGPASS invalid username-password pair/);
      expect(await call(c, 'GET', 'authk')).toBe(bulk('1')); // the open session is unaffected
    } finally {
      for (const n of shard.nodes) n.server.config.requirepass = '';
    }
  });
});

describe('READONLY sessions read locally, possibly stale', () => {
  test('a partitioned follower serves stale reads to READONLY sessions only; writes are refused naming the leader', async () => {
    const f = followers[1]!;
    const l = await shard.connect(leader);
    expect(await call(l, 'SET', 'stale', 'old')).toBe('+OK\r\n');
    await until(() => f.server.engine.dbs[0]!.dict.get('stale') === 'old', 'the follower to apply the write');
    const ro = await shard.connect(f);
    expect(await call(ro, 'READONLY')).toBe('+OK\r\n');
    const fwd = await shard.connect(f);
    expect(await call(fwd, 'GET', 'stale')).toBe(bulk('old')); // forwarded before the partition
    const staleBefore = Number(raftField(f, 'raft_stale_reads'));
    shard.isolate(f);
    try {
      expect(await call(l, 'SET', 'stale', 'new')).toBe('+OK\r\n'); // committed by the other two
      // READONLY: this node's state, which has not seen the write.
      expect(await call(ro, 'GET', 'stale')).toBe(bulk('old'));
      expect(Number(raftField(f, 'raft_stale_reads'))).toBe(staleBefore + 1);
      expect(await call(ro, 'SET', 'stale', 'ro')).toMatch(/^-READONLY You can't write against a read only replica\. The leader is node \d/);
      // Not READONLY: the leader's answer (or, once this node gave up on the leader, TRYAGAIN),
      // never the stale value.
      expect(await call(fwd, 'GET', 'stale')).toBe(bulk('new'));
      const fresh = await shard.connect(f);
      expect(await call(fresh, 'GET', 'stale')).toMatch(/^(\$3\r\nnew\r\n|-TRYAGAIN )/);
      // READWRITE: the session leaves READONLY and is forwarded (or told to try again).
      expect(await call(ro, 'READWRITE')).toBe('+OK\r\n');
      expect(await call(ro, 'GET', 'stale')).toMatch(/^(\$3\r\nnew\r\n|-TRYAGAIN )/);
      // Once the follower no longer knows a leader: READONLY still reads, others TRYAGAIN.
      await until(() => f.driver.leader === 0, 'the isolated follower to stop following', 5000);
      const ro2 = await shard.connect(f);
      expect(await call(ro2, 'READONLY')).toBe('+OK\r\n');
      expect(await call(ro2, 'GET', 'stale')).toBe(bulk('old'));
      const none = await shard.connect(f);
      expect(await call(none, 'GET', 'stale')).toMatch(/^-TRYAGAIN No leader for this shard right now/);
    } finally {
      shard.heal();
    }
    leader = await shard.leader(8000);
    followers = shard.nodes.filter((n) => n !== leader);
    await until(() => f.server.engine.dbs[0]!.dict.get('stale') === 'new', 'the healed follower to catch up');
    expect(await call(ro, 'READONLY')).toBe('+OK\r\n');
    if (!f.driver.isLeader) expect(await call(ro, 'GET', 'stale')).toBe(bulk('new'));
  });
});

describe('leader changes', () => {
  test('a forwarded session is closed when the leader changes; a new one goes to the new leader', async () => {
    leader = await shard.leader();
    followers = shard.nodes.filter((n) => n !== leader);
    const [fa, fb] = followers as [ShardNode, ShardNode];
    const fwd = await shard.connect(fa);
    expect(await call(fwd, 'SET', 'lc', '1')).toBe('+OK\r\n');
    // A local session of the leader, and a subscriber on it.
    const local = await shard.connect(leader);
    expect(await call(local, 'SET', 'lc', '2')).toBe('+OK\r\n');
    const sub = await shard.connect(leader);
    expect(await call(sub, 'SUBSCRIBE', 'ch')).toMatch(/^\*3\r\n/);
    const admin = await shard.connect(leader);
    expect(await call(admin, 'KEEL.TRANSFERLEADER', `n${fb.id}`)).toBe('+OK\r\n');
    const old = leader;
    leader = fb;
    followers = shard.nodes.filter((n) => n !== leader);
    // The session forwarded to the old leader: closed (as a failover would).
    await closedByServer(fwd);
    // The old leader closed its subscriber (its publishers are now at the new leader).
    await closedByServer(sub);
    // The old leader's own session moves to the new leader on its next command.
    await until(() => old.driver.leader === fb.id, 'the old leader to follow');
    expect(await call(local, 'INCR', 'lc')).toBe(':3\r\n');
    expect(await call(local, 'INFO', 'replication')).toContain('role:master'); // the new leader's
    const again = await shard.connect(fa);
    await until(() => fa.driver.leader === fb.id, 'the follower to know the new leader');
    expect(await call(again, 'GET', 'lc')).toBe(bulk('3'));
    expect(Number(raftField(fa, 'raft_forwarded_closed_leader_change'))).toBeGreaterThanOrEqual(1);
  });

  test('a session in MULTI on a deposed leader is not moved: EXEC is refused, then it moves', async () => {
    leader = await shard.leader();
    followers = shard.nodes.filter((n) => n !== leader);
    const c = await shard.connect(leader);
    expect(await call(c, 'MULTI')).toBe('+OK\r\n');
    expect(await call(c, 'SET', 'mx', '1')).toBe('+QUEUED\r\n');
    const admin = await shard.connect(leader);
    const to = followers[0]!;
    expect(await call(admin, 'KEEL.TRANSFERLEADER', `n${to.id}`)).toBe('+OK\r\n');
    const old = leader;
    leader = to;
    await until(() => old.driver.leader === to.id, 'the old leader to follow');
    expect(await call(c, 'EXEC')).toMatch(/^-READONLY You can't write against a read only replica\. The leader is node \d/);
    expect(await call(c, 'GET', 'mx')).toBe('$-1\r\n'); // not executed; this GET was forwarded
    expect(await call(c, 'SET', 'mx', '2')).toBe('+OK\r\n');
  });
});

describe('a follower that stops', () => {
  test('drains its forwarded sessions: a command in flight is answered, then the connection closes', async () => {
    leader = await shard.leader();
    const f = shard.nodes.find((n) => n !== leader)!;
    const c = await shard.connect(f);
    expect(await call(c, 'SET', 'drain', '1')).toBe('+OK\r\n');
    // Sessions in MULTI and subscribed (RESP2) end too, with nothing more said to them.
    const inMulti = await shard.connect(f);
    expect(await call(inMulti, 'MULTI')).toBe('+OK\r\n');
    expect(await call(inMulti, 'SET', 'drain', 'never')).toBe('+QUEUED\r\n');
    const subscribed = await shard.connect(f);
    expect(await call(subscribed, 'SUBSCRIBE', 'drain-ch')).toMatch(/^\*3\r\n/);
    const t0 = Date.now();
    const blocked = call(c, 'BLPOP', 'drain-q', '0.4'); // at the leader, for 400 ms
    await sleep(50);
    await f.close();
    expect(await blocked).toBe('*-1\r\n');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(350);
    await closedByServer(c);
    for (const x of [inMulti, subscribed]) {
      await closedByServer(x);
      expect(x.buffered()).toBe(0);
    }
    // The leader still serves the others.
    const l = await shard.connect(leader);
    expect(await call(l, 'GET', 'drain')).toBe(bulk('1'));
  });
});
