// A 3-node shard in one process, on loopback: three KeelServers, each with its own raft driver,
// transport and in-memory log. Clients speak raw RESP. Every wait is bounded.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ReplyWriter } from '@keel/resp';
import { NodeId } from '@keel/raft';
import { ShardMember, ShardNode } from '../src/replication/shard-node';
import { freePort, HOST, RespClient, sleep } from './harness';
import { until } from './shard-harness';

const COMMIT_TIMEOUT_MS = 1500;
const dirs: string[] = [];
const clients: RespClient[] = [];
let nodes: ShardNode[] = [];
const fatal: Error[] = [];

async function startShard(size = 3): Promise<ShardNode[]> {
  const members: ShardMember[] = [];
  const clientPorts: number[] = [];
  for (let i = 1; i <= size; i++) {
    const port = await freePort();
    clientPorts.push(port);
    members.push({ id: i, host: HOST, clusterPort: await freePort(), clientAddress: `${HOST}:${port}` });
  }
  const out: ShardNode[] = [];
  for (let i = 1; i <= size; i++) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `keel-repl-${i}-`));
    dirs.push(dir);
    const n = new ShardNode({
      id: i,
      members,
      server: { port: clientPorts[i - 1], bind: HOST, dir, loglevel: 'warning' },
      tickMs: 20,
      electionTimeoutTicks: 10,
      commitTimeoutMs: COMMIT_TIMEOUT_MS,
      readTimeoutMs: COMMIT_TIMEOUT_MS,
      onFatal: (e) => fatal.push(e),
    });
    out.push(n);
  }
  await Promise.all(out.map((n) => n.start()));
  return out;
}

function leaderOf(live: ShardNode[]): ShardNode | undefined {
  const leaders = live.filter((n) => n.driver.isLeader);
  return leaders.length === 1 ? leaders[0] : undefined;
}

async function connect(n: ShardNode): Promise<RespClient> {
  const c = await RespClient.connect(n.server.port);
  clients.push(c);
  return c;
}

async function call(c: RespClient, ...args: string[]): Promise<string> {
  return (await c.call(args, 8000)).toString('latin1');
}

/** Everything a node's engine holds, including logically expired keys and their deadlines. */
function digest(n: ShardNode): string {
  const engine = n.server.engine;
  const lines: string[] = [];
  for (const db of engine.dbs) {
    for (const key of [...db.dict.keys()].sort()) {
      const type = typeof db.dict.get(key) === 'string' ? 'string' : (db.dict.get(key) as { type: string }).type;
      const argv =
        type === 'string' ? ['GET', key]
        : type === 'list' ? ['LRANGE', key, '0', '-1']
        : type === 'set' ? ['SMEMBERS', key]
        : type === 'hash' ? ['HGETALL', key]
        : ['ZRANGE', key, '0', '-1', 'WITHSCORES'];
      const out = new ReplyWriter();
      const spec = engine.commands.resolve(argv);
      if (typeof spec === 'string') throw new Error(spec);
      engine.execute(spec, argv, out, 0, 0, { id: 0, db: db.index, inExec: false });
      lines.push(`${db.index} ${type} ${key} ttl=${db.expires.get(key) ?? '-'} ${out.take()?.toString('latin1')}`);
    }
  }
  return lines.join('\n');
}

/** Waits until every live node applied everything the leader committed, then compares states. */
async function converged(live: ShardNode[]): Promise<string> {
  await until(() => {
    const l = leaderOf(live);
    if (l === undefined) return false;
    const commit = l.driver.commitIndex;
    return live.every((n) => n.driver.applied === commit && n.driver.commitIndex === commit);
  }, 'all nodes to apply the same prefix');
  const d = live.map(digest);
  for (const x of d) expect(x).toBe(d[0]);
  return d[0]!;
}

afterEach(() => {
  expect(fatal).toEqual([]);
});

afterAll(async () => {
  for (const c of clients) c.close();
  for (const n of nodes) await n.close();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

describe('a 3-node shard', () => {
  let leader: ShardNode;

  beforeAll(async () => {
    nodes = await startShard(3);
    leader = await until(() => leaderOf(nodes), 'a leader');
  });

  test('writes replicate: every node ends with the same state', async () => {
    const c = await connect(leader);
    expect(await call(c, 'SET', 'k', 'v')).toBe('+OK\r\n');
    expect(await call(c, 'INCR', 'n')).toBe(':1\r\n');
    expect(await call(c, 'INCR', 'n')).toBe(':2\r\n');
    expect((await c.call(['RPUSH', 'l', 'a', 'b', Buffer.from([0, 0xff])])).toString()).toBe(':3\r\n');
    expect(await call(c, 'HSET', 'h', 'f', '1', 'g', '2')).toBe(':2\r\n');
    expect(await call(c, 'ZADD', 'z', '1', 'x', '2.5', 'y')).toBe(':2\r\n');
    // Pipelined: one turn, one batch; replies in order.
    for (let i = 0; i < 50; i++) c.write(['INCR', 'p']);
    const frames: Buffer[] = [];
    for (let i = 0; i < 50; i++) frames.push(await c.readFrame(5000));
    expect(frames.map((f) => f.toString())).toEqual(Array.from({ length: 50 }, (_, i) => `:${i + 1}\r\n`));
    const state = await converged(nodes);
    expect(state).toContain('0 string p ttl=- $2\r\n50\r\n');
    expect(state).toContain('0 list l ttl=- *3\r\n$1\r\na\r\n$1\r\nb\r\n$2\r\n\x00\xff\r\n');
  });

  test('reads are linearizable on the leader, and on followers (whose sessions are forwarded to the leader)', async () => {
    const w = await connect(leader);
    const r = await connect(leader);
    const follower = nodes.find((n) => n !== leader)!;
    const rf = await connect(follower);
    for (let i = 0; i < 20; i++) {
      expect(await call(w, 'SET', 'lin', String(i))).toBe('+OK\r\n');
      expect(await call(r, 'GET', 'lin')).toBe(`$${String(i).length}\r\n${i}\r\n`);
      expect(await call(rf, 'GET', 'lin')).toBe(`$${String(i).length}\r\n${i}\r\n`);
    }
  });

  test('a write in a READONLY session on a follower is refused with READONLY naming the leader; nothing changes', async () => {
    const follower = nodes.find((n) => n !== leader)!;
    const c = await connect(follower);
    expect(await call(c, 'READONLY')).toBe('+OK\r\n');
    const reply = await call(c, 'SET', 'nope', '1');
    expect(reply).toMatch(new RegExp(`^-READONLY You can't write against a read only replica\\. The leader is node ${leader.id} \\(127\\.0\\.0\\.1:${leader.server.port}\\)`));
    expect(await call(c, 'PING')).toBe('+PONG\r\n');
    await converged(nodes);
    for (const n of nodes) expect(n.server.engine.dbs[0]!.dict.has('nope')).toBe(false);
  });

  test('EXEC, WATCH, SPOP and expiry apply deterministically on every node', async () => {
    const a = await connect(leader);
    const b = await connect(leader);
    expect(await call(a, 'SADD', 's', ...Array.from({ length: 30 }, (_, i) => `m${i}`))).toBe(':30\r\n');
    expect(await call(a, 'SPOP', 's', '5')).toMatch(/^\*5\r\n/);
    expect(await call(a, 'SET', 'w', '1')).toBe('+OK\r\n');
    // A transaction that commits, with a key that expires.
    expect(await call(a, 'WATCH', 'w')).toBe('+OK\r\n');
    expect(await call(a, 'MULTI')).toBe('+OK\r\n');
    expect(await call(a, 'INCR', 'w')).toBe('+QUEUED\r\n');
    expect(await call(a, 'SET', 'ttl', 'x', 'PX', '150')).toBe('+QUEUED\r\n');
    expect(await call(a, 'SRANDMEMBER', 's', '3')).toBe('+QUEUED\r\n');
    const exec = await call(a, 'EXEC');
    expect(exec).toMatch(/^\*3\r\n:2\r\n\+OK\r\n\*3\r\n/);
    // One whose watched key another client changes first: aborted on every node.
    expect(await call(a, 'WATCH', 'w')).toBe('+OK\r\n');
    expect(await call(b, 'SET', 'w', '10')).toBe('+OK\r\n');
    expect(await call(a, 'MULTI')).toBe('+OK\r\n');
    expect(await call(a, 'SET', 'w', '99')).toBe('+QUEUED\r\n');
    expect(await call(a, 'EXEC')).toBe('*-1\r\n');
    expect(await call(a, 'GET', 'w')).toBe('$2\r\n10\r\n');
    // SELECT inside EXEC carries over to the commands after it, on every node.
    expect(await call(a, 'MULTI')).toBe('+OK\r\n');
    expect(await call(a, 'SELECT', '3')).toBe('+QUEUED\r\n');
    expect(await call(a, 'SET', 'in3', 'yes')).toBe('+QUEUED\r\n');
    expect(await call(a, 'EXEC')).toBe('*2\r\n+OK\r\n+OK\r\n');
    expect(await call(a, 'SELECT', '0')).toBe('+OK\r\n');
    let state = await converged(nodes);
    expect(state).toContain('3 string in3 ttl=- $3\r\nyes\r\n');
    expect(state).toContain('0 string ttl ttl=');
    // The leader expires 'ttl' by proposing its deletion; every node deletes it.
    await until(() => nodes.every((n) => !n.server.engine.dbs[0]!.dict.has('ttl')), 'the expiry to replicate', 5000);
    state = await converged(nodes);
    expect(state).not.toContain(' ttl ttl=');
    expect(await call(a, 'GET', 'ttl')).toBe('$-1\r\n');
  });

  test('a leader cut off from the majority never acknowledges: in-flight writes get UNKNOWN, later ones a not-executed error', async () => {
    const old = leader;
    const others = nodes.filter((n) => n !== old);
    const c = await connect(old);
    expect(await call(c, 'SET', 'before', 'ok')).toBe('+OK\r\n');
    old.transport.partition(others.map((n) => n.id));
    for (const n of others) n.transport.partition([old.id]);
    const started = Date.now();
    const inFlight = call(c, 'SET', 'lost', 'x');
    const reader = await connect(old);
    const read = call(reader, 'GET', 'before');
    // The majority elects a new leader and takes writes.
    const fresh = await until(() => leaderOf(others), 'a new leader on the majority side', 5000);
    const c2 = await connect(fresh);
    expect(await call(c2, 'SET', 'after', 'ok')).toBe('+OK\r\n');
    const reply = await inFlight;
    expect(reply).toMatch(/^-UNKNOWN The write was proposed \(index \d+, term \d+\) but was not known to be committed within 1500 ms/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(COMMIT_TIMEOUT_MS - 50);
    expect(await read).toMatch(/^-TRYAGAIN /);
    // Writes after that are refused before they are proposed.
    expect(await call(c, 'SET', 'lost2', 'y')).toMatch(/^-(NOQUORUM|TRYAGAIN) /);
    expect(await call(reader, 'GET', 'before')).toMatch(/^-TRYAGAIN /);
    // Healed, the old leader follows, its unacknowledged entry is gone everywhere.
    old.transport.heal();
    for (const n of others) n.transport.heal();
    leader = fresh;
    const state = await converged(nodes);
    expect(state).toContain('0 string after ');
    expect(state).not.toContain(' lost');
    expect(await call(c, 'GET', 'after')).toBe('$2\r\nok\r\n'); // old leader reads via ReadIndex now
  });

  test('the leader stops during a write stream: a new leader has every acknowledged write', async () => {
    const old = leader;
    const acked: string[] = [];
    const errors: string[] = [];
    let stop = false;
    const writers = await Promise.all([0, 1, 2].map(() => connect(old)));
    const loops = writers.map(async (w, i) => {
      for (let n = 0; !stop; n++) {
        const key = `s${i}:${n}`;
        let reply: string;
        try {
          reply = await call(w, 'SET', key, String(n));
        } catch {
          return; // the connection closed with the node
        }
        if (reply === '+OK\r\n') acked.push(key);
        else {
          errors.push(reply);
          return;
        }
      }
    });
    await until(() => acked.length >= 100, 'some acknowledged writes', 5000);
    await old.close();
    stop = true;
    await Promise.all(loops);
    for (const e of errors) expect(e).toMatch(/^-UNKNOWN /);
    const live = nodes.filter((n) => n !== old);
    const fresh = await until(() => leaderOf(live), 'a new leader', 5000);
    const c = await connect(fresh);
    expect(await call(c, 'SET', 'post', 'failover')).toBe('+OK\r\n');
    await converged(live);
    for (const n of live) {
      const dict = n.server.engine.dbs[0]!.dict;
      const missing = acked.filter((k) => !dict.has(k));
      expect(missing).toEqual([]);
    }
    expect(await call(c, 'GET', 'post')).toBe('$8\r\nfailover\r\n');
  });
});

describe('blocking commands and a shard of one', () => {
  test('BLPOP blocks on the leader and is served by a replicated push; a timeout replies null', async () => {
    const leader = await until(() => leaderOf(nodes.filter((n) => !n.driver.isStopped)), 'a leader');
    const a = await connect(leader);
    const b = await connect(leader);
    const popped = call(a, 'BLPOP', 'queue', '5');
    await sleep(100);
    expect(await call(b, 'RPUSH', 'queue', 'job')).toBe(':1\r\n');
    expect(await popped).toBe('*2\r\n$5\r\nqueue\r\n$3\r\njob\r\n');
    const t0 = Date.now();
    expect(await call(a, 'BLPOP', 'empty', '0.2')).toBe('*-1\r\n');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(150);
  });

  test('a single node elects itself at once and serves writes and reads', async () => {
    const single = await startShard(1);
    nodes.push(...single);
    await until(() => single[0]!.driver.isLeader, 'the single node to lead', 2000);
    const c = await connect(single[0]!);
    expect(await call(c, 'SET', 'solo', '1')).toBe('+OK\r\n');
    expect(await call(c, 'GET', 'solo')).toBe('$1\r\n1\r\n');
  });
});
