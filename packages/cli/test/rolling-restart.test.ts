// A rolling restart of a 3-node shard of real `keel server` processes under a write stream:
// SIGTERM on the leader hands leadership to an up-to-date follower before the process exits,
// so the writing client sees no error other than a few TRYAGAIN / READONLY ("not executed",
// then retried), never UNKNOWN nor a connection closed under a write, and every acknowledged
// write is on every node afterwards.

import { Conn, ConnectionClosed, freePort, HOST, KeelProcess, killAll, removeDirs, ReplyError, sleep, startKeel, tmpDir, until, within } from './durability-util';

afterAll(() => {
  killAll();
  removeDirs();
});

async function infoOf(port: number): Promise<Map<string, string> | null> {
  let c: Conn;
  try {
    c = await Conn.connect(port, 1000);
  } catch {
    return null;
  }
  try {
    const r = await c.cmd(['INFO', 'replication'], 2000);
    if (typeof r !== 'string') return null;
    const m = new Map<string, string>();
    for (const line of r.split('\r\n')) {
      const i = line.indexOf(':');
      if (i > 0) m.set(line.slice(0, i), line.slice(i + 1));
    }
    return m;
  } catch {
    return null;
  } finally {
    c.close();
  }
}

test('SIGTERM on the leader, twice, under writes: no write fails, none is lost', async () => {
  const ports: number[] = [];
  const cports: number[] = [];
  for (let i = 0; i < 3; i++) {
    ports.push(await freePort());
    cports.push(await freePort());
  }
  const peers = ports.map((p, i) => `n${i + 1}=${HOST}:${p}@${cports[i]}`).join(',');
  const dirs = ports.map((_, i) => tmpDir(`rolling-n${i + 1}`));
  const procs: Array<KeelProcess | null> = [null, null, null];
  const start = async (i: number) => {
    procs[i] = await startKeel(['--node-id', `n${i + 1}`, '--peers', peers, '--dir', dirs[i]!, '--tick-ms', '20', '--election-timeout-ticks', '10', '--commit-timeout-ms', '3000']);
  };
  await Promise.all([0, 1, 2].map(start));

  const leaderIndex = () =>
    until(
      async () => {
        for (let i = 0; i < 3; i++) {
          if (procs[i] === null) continue;
          const m = await infoOf(ports[i]!);
          if (m?.get('role') === 'master') return i + 1; // 1-based: 0 would read as "not yet"
        }
        return undefined;
      },
      'a leader',
      10000,
    ).then((i) => i - 1);

  // The writer: one SET at a time; "not executed" errors are retried (READONLY: at the leader
  // it names); anything else is recorded as a failure.
  const acked: number[] = [];
  const notExecuted: string[] = [];
  const failures: string[] = [];
  let stop = false;
  let port = ports[await leaderIndex()]!;
  const writer = (async () => {
    let conn: Conn | null = null;
    let i = 0;
    while (!stop) {
      if (conn === null || conn.closed) {
        try {
          conn = await Conn.connect(port, 1000);
        } catch {
          port = ports[(ports.indexOf(port) + 1) % 3]!; // down: try the next node
          await sleep(20);
          continue;
        }
      }
      let r;
      try {
        r = await conn.cmd(['SET', `rr:${i}`, String(i)], 10000);
      } catch (e) {
        failures.push(`SET rr:${i}: ${e instanceof ConnectionClosed ? 'connection closed with the write in flight' : (e as Error).message}`);
        conn = null;
        i++;
        continue;
      }
      if (r === 'OK') {
        acked.push(i++);
        continue;
      }
      if (r instanceof ReplyError && (r.code === 'TRYAGAIN' || r.code === 'READONLY')) {
        notExecuted.push(r.message);
        const lead = /\(127\.0\.0\.1:(\d+)\)/.exec(r.message);
        if (r.code === 'READONLY' && lead !== null) {
          port = Number(lead[1]);
          conn.close();
          conn = null;
        } else {
          await sleep(20);
        }
        continue;
      }
      failures.push(`SET rr:${i}: ${r instanceof ReplyError ? r.message : JSON.stringify(r)}`);
      i++;
    }
    conn?.close();
  })();

  for (let round = 0; round < 2; round++) {
    await sleep(400);
    const li = await leaderIndex();
    const before = acked.length;
    const p = procs[li]!;
    await p.kill('SIGTERM');
    expect(await within(p.exited, 5000, 'the exit code')).toBe(0);
    expect(p.out()).toMatch(/transfers leadership to node \d/);
    expect(p.out()).toMatch(/handed off: leadership is with node \d; 0 writes still pending/);
    procs[li] = null;
    // The others elect no one new: the transferee already leads; writes go on.
    await until(() => acked.length > before + 20, 'writes to go on after the hand-off', 10000);
    await start(li);
  }
  await sleep(300);
  stop = true;
  await within(writer, 15000, 'the writer to stop');

  expect(failures).toEqual([]);
  expect(acked.length).toBeGreaterThan(100);
  expect(notExecuted.length).toBeLessThan(50);
  for (const m of notExecuted) expect(m).toMatch(/^(TRYAGAIN|READONLY) /);

  // Every acknowledged write on every node (a follower serves reads by ReadIndex from its own state).
  const li = await leaderIndex();
  const lc = await Conn.connect(ports[li]!);
  const lastIndex = Number((await infoOf(ports[li]!))!.get('raft_commit_index'));
  for (let n = 0; n < 3; n++) {
    await until(async () => Number((await infoOf(ports[n]!))?.get('raft_applied_index') ?? 0) >= lastIndex, `n${n + 1} to apply ${lastIndex}`, 10000);
    const c = n === li ? lc : await Conn.connect(ports[n]!);
    const got = await Promise.all(acked.map((i) => c.cmd(['GET', `rr:${i}`])));
    const missing = acked.filter((i, k) => got[k] !== String(i));
    expect({ node: n + 1, missing }).toEqual({ node: n + 1, missing: [] });
    if (n !== li) c.close();
  }
  lc.close();
  for (let i = 0; i < 3; i++) await procs[i]?.kill('SIGTERM');
}, 90000);
