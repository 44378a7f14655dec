// redis-cli and ioredis pointed at a follower of a 3-node shard of real `keel server`
// processes (issue 6, "The read path"): the follower forwards the session to the leader, so
// SET/GET/MULTI/EXEC/WATCH work and reads are linearizable; after READONLY a follower reads its
// own state, possibly stale (shown with the follower stopped by SIGSTOP); a leader change
// closes a forwarded session, and the client reconnects. The nodes run with --lease-reads, and
// an election timeout of 1-2 s: a spurious election on a loaded machine would close the
// forwarded sessions (as documented) and fail the tests that do not expect one.

import { spawn } from 'node:child_process';
import Redis from 'ioredis';
import { Conn, freePort, HOST, KeelProcess, killAll, ok, removeDirs, ReplyError, sleep, startKeel, tmpDir, until, within } from './durability-util';

const procs: KeelProcess[] = [];
const ports: number[] = [];
const clients: Redis[] = [];

afterAll(async () => {
  for (const c of clients) c.disconnect();
  for (const p of procs) if (p.proc.signalCode === 'SIGSTOP' || p.proc.exitCode === null) p.proc.kill('SIGCONT');
  killAll();
  removeDirs();
});

/** Runs redis-cli against a port with stdin; bounded. */
function redisCli(port: number, args: string[], stdin = '', timeoutMs = 10000): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn('redis-cli', ['-h', HOST, '-p', String(port), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    const t = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`redis-cli ${args.join(' ')} did not finish within ${timeoutMs} ms: ${out}`));
    }, timeoutMs);
    p.on('error', (e) => {
      clearTimeout(t);
      reject(new Error(`redis-cli could not run (apt-get install redis-tools): ${e.message}`));
    });
    p.on('exit', () => {
      clearTimeout(t);
      resolve(out);
    });
    p.stdin.on('error', () => undefined);
    p.stdin.end(stdin);
  });
}

async function infoOf(port: number): Promise<Map<string, string>> {
  const c = await Conn.connect(port);
  try {
    const text = (await ok(c, ['INFO', 'raft'])) as string;
    return new Map(text.split('\r\n').filter((l) => l.includes(':')).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1)]));
  } finally {
    c.close();
  }
}

/** Index of the node that every live node names as the leader. */
async function leaderIndex(live: number[] = [0, 1, 2]): Promise<number> {
  return until(
    async () => {
      const leads = await Promise.all(live.map((i) => infoOf(ports[i]!).then((m) => Number(m.get('raft_leader')), () => 0)));
      const l = leads[0]!;
      return l !== 0 && leads.every((x) => x === l) && live.includes(l - 1) ? l : undefined;
    },
    'a leader every node knows',
    15000,
    50,
  ).then((id) => id - 1);
}

beforeAll(async () => {
  const cports: number[] = [];
  for (let i = 0; i < 3; i++) {
    ports.push(await freePort());
    cports.push(await freePort());
  }
  const peers = ports.map((p, i) => `n${i + 1}=${HOST}:${p}@${cports[i]}`).join(',');
  const started = await Promise.all(
    [0, 1, 2].map((i) => startKeel(['--node-id', `n${i + 1}`, '--peers', peers, '--dir', tmpDir(`follower-n${i + 1}`), '--tick-ms', '50', '--election-timeout-ticks', '20', '--lease-reads'])),
  );
  procs.push(...started);
  for (const p of procs) expect(p.out()).toContain('Lease reads on');
});

test('redis-cli pointed at a follower: SET, GET, INCR, MULTI/EXEC, and the leader sees it all', async () => {
  const li = await leaderIndex();
  const fi = (li + 1) % 3;
  expect((await redisCli(ports[fi]!, ['SET', 'cli:k', 'v1'])).trim()).toBe('OK');
  expect((await redisCli(ports[li]!, ['GET', 'cli:k'])).trim()).toBe('v1');
  expect((await redisCli(ports[fi]!, ['GET', 'cli:k'])).trim()).toBe('v1');
  // One session through stdin: a transaction, then a read.
  const out = await redisCli(ports[fi]!, [], 'MULTI\nINCR cli:n\nINCR cli:n\nEXEC\nGET cli:n\n');
  expect(out.split('\n').filter((l) => l !== '')).toEqual(['OK', 'QUEUED', 'QUEUED', '1', '2', '2']);
  expect((await redisCli(ports[li]!, ['GET', 'cli:n'])).trim()).toBe('2');
  const info = await infoOf(ports[fi]!);
  expect(Number(info.get('raft_forwarded_sessions_total'))).toBeGreaterThanOrEqual(3);
  expect(info.get('raft_read_mode')).toBe('lease');
});

test("a forwarded session shows the client's own address at the leader (CLIENT INFO / LIST, CLIENT KILL ADDR)", async () => {
  const li = await leaderIndex();
  const fi = (li + 1) % 3;
  const c = await Conn.connect(ports[fi]!);
  const field = (line: string, name: string): string => new RegExp(`(?:^| )${name}=(\\S+)`).exec(line)?.[1] ?? '';
  // Before the session moves, CLIENT INFO runs on the follower: the client's own address.
  const local = (await c.cmd(['CLIENT', 'INFO'])) as string;
  const own = field(local, 'addr');
  expect(own).toMatch(/^127\.0\.0\.1:\d+$/);
  expect(await c.cmd(['SET', 'addr:k', '1'])).toBe('OK'); // the session is forwarded from here on
  const remote = (await c.cmd(['CLIENT', 'INFO'])) as string;
  expect(field(remote, 'id')).not.toBe(field(local, 'id')); // the leader's client
  expect(field(remote, 'laddr')).toBe(`127.0.0.1:${ports[li]}`);
  expect(field(remote, 'addr')).toBe(own);
  const admin = await Conn.connect(ports[li]!);
  expect((await admin.cmd(['CLIENT', 'LIST'])) as string).toContain(` addr=${own} `);
  // An operator at the leader ends that client's session by its address.
  expect(await admin.cmd(['CLIENT', 'KILL', own])).toBe('OK');
  await until(() => c.closed, 'the forwarded session to end', 5000);
  admin.close();
});

test('ioredis pointed at a follower: linearizable reads, MULTI/EXEC, WATCH', async () => {
  const li = await leaderIndex();
  const fi = (li + 2) % 3;
  const f = new Redis({ host: HOST, port: ports[fi]!, lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false });
  const l = new Redis({ host: HOST, port: ports[li]!, lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false });
  clients.push(f, l);
  await within(Promise.all([f.connect(), l.connect()]), 10000, 'ioredis to connect');
  for (let i = 0; i < 30; i++) {
    await f.set('io:x', `f${i}`);
    expect(await l.get('io:x')).toBe(`f${i}`);
    await l.set('io:x', `l${i}`);
    expect(await f.get('io:x')).toBe(`l${i}`);
  }
  expect(await f.multi().set('io:t', '1').incr('io:t').get('io:t').exec()).toEqual([[null, 'OK'], [null, 2], [null, '2']]);
  // WATCH through the follower; another client changes the key at the leader: EXEC aborts.
  await f.watch('io:t');
  await l.set('io:t', '100');
  expect(await f.multi().set('io:t', 'lost').exec()).toBeNull();
  expect(await l.get('io:t')).toBe('100');
  await f.watch('io:t');
  expect(await f.multi().incr('io:t').exec()).toEqual([[null, 101]]);
  // A pipeline of 500 commands.
  const p = f.pipeline();
  for (let i = 0; i < 500; i++) p.rpush('io:list', String(i));
  const res = await p.exec();
  const got = res!.map(([e, v]) => (e === null ? v : String(e)));
  const firstBad = got.findIndex((v, i) => v !== i + 1);
  expect({ firstBad, value: got[firstBad] }).toEqual({ firstBad: -1, value: undefined });
});

test('READONLY reads on a stopped-in-time follower are stale; forwarded reads are not', async () => {
  const li = await leaderIndex();
  const fi = (li + 1) % 3;
  const l = await Conn.connect(ports[li]!);
  expect(await l.cmd(['SET', 'ro:k', 'old'])).toBe('OK');
  await until(async () => Number((await infoOf(ports[fi]!)).get('raft_applied_index')) >= Number((await infoOf(ports[li]!)).get('raft_commit_index')), 'the follower to apply the write');
  const ro = await Conn.connect(ports[fi]!);
  expect(await ro.cmd(['READONLY'])).toBe('OK');
  expect(await ro.cmd(['GET', 'ro:k'])).toBe('old');
  const fwd = await Conn.connect(ports[fi]!);
  expect(await fwd.cmd(['GET', 'ro:k'])).toBe('old'); // forwarded from here on
  // Freeze the follower (SIGSTOP), so that it cannot receive the next write. Resumed, it finds
  // in its kernel buffers the leader's append and heartbeats first, then the two reads; it
  // handles them all in one event-loop pass, and the append must be persisted (an fsync) before
  // it can apply: the READONLY read runs on the old state.
  const frozen = procs[fi]!;
  frozen.proc.kill('SIGSTOP');
  try {
    expect(await l.cmd(['SET', 'ro:k', 'new'])).toBe('OK'); // the leader and the third node commit it
    const staleRead = ro.cmd(['GET', 'ro:k'], 15000);
    const fwdRead = fwd.cmd(['GET', 'ro:k'], 15000);
    await sleep(100);
    frozen.proc.kill('SIGCONT');
    // READONLY: this node's state, which had not seen the write. Not READONLY: the leader's.
    expect(await staleRead).toBe('old');
    expect(await fwdRead).toBe('new');
  } finally {
    frozen.proc.kill('SIGCONT');
  }
  await until(async () => (await ro.cmd(['GET', 'ro:k'])) === 'new', 'the follower to catch up');
  // A READONLY write is refused naming the leader.
  const w = await ro.cmd(['SET', 'ro:k', 'x']);
  expect(w instanceof ReplyError && w.message).toMatch(/^READONLY You can't write against a read only replica\. The leader is node \d \(127\.0\.0\.1:\d+\)/);
  for (const c of [l, ro, fwd]) c.close();
});

test('read-your-writes on a follower: KEEL.POSITION on the writer, KEEL.WAITINDEX before a READONLY read', async () => {
  const li = await leaderIndex();
  const fi = (li + 1) % 3;
  const l = await Conn.connect(ports[li]!);
  const ro = await Conn.connect(ports[fi]!);
  expect(await ro.cmd(['READONLY'])).toBe('OK');
  expect(await l.cmd(['KEEL.POSITION'])).toBe(0); // no write yet on this connection
  expect(await l.cmd(['SET', 'ryw:k', 'v1'])).toBe('OK');
  const pos1 = (await l.cmd(['KEEL.POSITION'])) as number;
  expect(pos1).toBeGreaterThan(0);
  // Frozen, the follower cannot have the next write when the read arrives (see the test
  // above); KEEL.WAITINDEX holds the session until it has applied the writer's position.
  const frozen = procs[fi]!;
  frozen.proc.kill('SIGSTOP');
  let pos2: number;
  try {
    expect(await l.cmd(['SET', 'ryw:k', 'v2'])).toBe('OK');
    pos2 = (await l.cmd(['KEEL.POSITION'])) as number;
    expect(pos2).toBeGreaterThan(pos1);
    const waited = ro.cmd(['KEEL.WAITINDEX', String(pos2), '10000'], 15000);
    const read = ro.cmd(['GET', 'ryw:k'], 15000);
    await sleep(100);
    frozen.proc.kill('SIGCONT');
    expect(await waited).toBeGreaterThanOrEqual(pos2);
    expect(await read).toBe('v2');
  } finally {
    frozen.proc.kill('SIGCONT');
  }
  // A position the node has not reached answers at the timeout with the index it has.
  const t0 = Date.now();
  const short = (await ro.cmd(['KEEL.WAITINDEX', String(pos2 + 1_000_000), '50'])) as number;
  expect(short).toBeGreaterThanOrEqual(pos2);
  expect(short).toBeLessThan(pos2 + 1_000_000);
  expect(Date.now() - t0).toBeGreaterThanOrEqual(45);
  expect(await ro.cmd(['KEEL.WAITINDEX', '0', '0'])).toBeGreaterThanOrEqual(pos2); // reached: at once
  // Bad input.
  expect(((await ro.cmd(['KEEL.WAITINDEX', '-1', '0'])) as ReplyError).message).toMatch(/^ERR index is not a non-negative integer/);
  expect(((await ro.cmd(['KEEL.WAITINDEX', '1', 'soon'])) as ReplyError).message).toMatch(/^ERR timeout is not an integer/);
  expect(((await ro.cmd(['KEEL.WAITINDEX', '1', '-5'])) as ReplyError).message).toMatch(/^ERR timeout is negative/);
  expect(((await ro.cmd(['KEEL.WAITINDEX', '1'])) as ReplyError).message).toMatch(/^ERR wrong number of arguments/);
  // How stale a follower may be is in INFO: its applied index and when it last heard the leader.
  const fInfo = await infoOf(ports[fi]!);
  expect(Number(fInfo.get('raft_leader_contact_ms_ago'))).toBeGreaterThanOrEqual(0);
  expect(Number(fInfo.get('raft_leader_contact_ms_ago'))).toBeLessThan(5000);
  expect((await infoOf(ports[li]!)).get('raft_leader_contact_ms_ago')).toBe('0');
  for (const c of [l, ro]) c.close();
});

test('a leader change closes a forwarded session; ioredis reconnects and goes on at the new leader', async () => {
  const li = await leaderIndex();
  const fi = (li + 1) % 3;
  const to = (li + 2) % 3;
  const raw = await Conn.connect(ports[fi]!);
  expect(await raw.cmd(['SET', 'lc:k', '1'])).toBe('OK');
  const f = new Redis({ host: HOST, port: ports[fi]!, lazyConnect: true, retryStrategy: () => 50, maxRetriesPerRequest: 3 });
  clients.push(f);
  await within(f.connect(), 10000, 'ioredis to connect');
  expect(await f.incr('lc:n')).toBe(1);
  const admin = await Conn.connect(ports[li]!);
  expect(await admin.cmd(['KEEL.TRANSFERLEADER', `n${to + 1}`])).toBe('OK');
  admin.close();
  await until(() => raw.closed, 'the forwarded session to be closed', 10000);
  expect(await leaderIndex()).toBe(to);
  // ioredis saw its connection close and reconnected: its session is now forwarded to the new leader.
  expect(await f.incr('lc:n')).toBe(2);
  const nl = await Conn.connect(ports[to]!);
  expect(await nl.cmd(['GET', 'lc:n'])).toBe('2');
  nl.close();
});
