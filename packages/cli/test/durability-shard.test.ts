// A 3-node shard of real `keel server` processes on loopback (issue 6, "Proof"):
//   - the leader is killed with SIGKILL again and again under a write stream from several
//     clients; every acknowledged write survives on the new leader, and every node ends with
//     the same state;
//   - a follower that was down while the leader compacted its log catches up by a snapshot
//     streamed from the leader, and ends identical to it;
//   - a 5-node shard loses two nodes at once (the leader among them) under the same load: it
//     goes on serving, loses no acknowledged write, and the two catch up when restarted.

import { Worker } from './durability-history';
import { Conn, digest, freePort, HOST, KeelProcess, killAll, ok, removeDirs, ReplyError, sleep, startKeel, tmpDir, until, within } from './durability-util';

afterAll(() => {
  killAll();
  removeDirs();
});

interface Shard {
  ports: number[];
  procs: Array<KeelProcess | null>;
  start(i: number): Promise<KeelProcess>;
}

async function startShard(extra: string[], size = 3): Promise<Shard> {
  const ports: number[] = [];
  const cports: number[] = [];
  for (let i = 0; i < size; i++) {
    ports.push(await freePort());
    cports.push(await freePort());
  }
  const peers = ports.map((p, i) => `n${i + 1}=${HOST}:${p}@${cports[i]}`).join(',');
  const dirs = ports.map((_, i) => tmpDir(`shard-n${i + 1}`));
  const shard: Shard = {
    ports,
    procs: ports.map(() => null),
    start: async (i) => {
      const args = ['--node-id', `n${i + 1}`, '--peers', peers, '--dir', dirs[i]!, '--tick-ms', '20', '--election-timeout-ticks', '10', '--commit-timeout-ms', '2000', ...extra];
      const p = await startKeel(args);
      expect(p.out()).toContain('Ready to accept');
      shard.procs[i] = p;
      return p;
    },
  };
  await Promise.all(ports.map((_, i) => shard.start(i)));
  return shard;
}

/**
 * The index of the current leader: the node whose INFO says role:master and that takes a write
 * itself (a follower would forward the write to the leader, so a write alone proves nothing
 * about the node it was sent to).
 */
async function findLeader(shard: Shard): Promise<number> {
  return until(
    async () => {
      for (let i = 0; i < shard.ports.length; i++) {
        if (shard.procs[i] === null) continue;
        const c = await Conn.connect(shard.ports[i]!).catch(() => null);
        if (c === null) continue;
        try {
          const info = await c.cmd(['INFO', 'replication'], 3000).catch(() => null);
          if (typeof info !== 'string' || !/role:master/.test(info)) continue;
          if ((await c.cmd(['SET', '__probe__', 'x'], 3000).catch(() => null)) === 'OK') return i;
        } finally {
          c.close();
        }
      }
      return undefined;
    },
    'a leader',
    15000,
    50,
  );
}

/** Runs a worker until stop(), connecting to a live node and following READONLY redirects. */
async function drive(shard: Shard, w: Worker, stop: () => boolean): Promise<void> {
  const redirect = async (err: ReplyError): Promise<Conn | null> => {
    const m = /\(127\.0\.0\.1:(\d+)\)/.exec(err.message);
    if (m === null) return null;
    return Conn.connect(Number(m[1])).catch(() => null);
  };
  let k = w.w;
  while (!stop()) {
    const i = k++ % shard.ports.length;
    if (shard.procs[i] === null) continue;
    const c = await Conn.connect(shard.ports[i]!).catch(() => null);
    if (c === null) {
      await sleep(20);
      continue;
    }
    await w.run(c, stop, redirect);
    c.close();
  }
}

/** The digest of node i's own state (a READONLY session: its reads are not forwarded to the leader). */
async function digestOf(shard: Shard, i: number): Promise<{ keys: number; sha: string }> {
  const c = await Conn.connect(shard.ports[i]!);
  try {
    await ok(c, ['READONLY']);
    return await digest(c);
  } finally {
    c.close();
  }
}

test('SIGKILL of the leader, three times, under load: acknowledged writes survive on the new leader', async () => {
  const shard = await startShard(['--snapshot-entries', '2000', '--snapshot-growth-percent', '0']);
  const workers = Array.from({ length: 6 }, (_, w) => new Worker(w));
  let stop = false;
  const runs = workers.map((w) => drive(shard, w, () => stop));
  const ackedAt: number[] = [];
  for (let round = 0; round < 3; round++) {
    await sleep(700);
    const leader = await findLeader(shard);
    ackedAt.push(workers.reduce((a, w) => a + w.acked, 0));
    await shard.procs[leader]!.kill('SIGKILL');
    shard.procs[leader] = null;
    await sleep(1000); // a new leader is elected; the writers go on against it
    await shard.start(leader);
  }
  await sleep(700);
  stop = true;
  await within(Promise.all(runs), 20000, 'the writers to stop');
  const acked = workers.reduce((a, w) => a + w.acked, 0);
  ackedAt.push(acked);
  // Writes were acknowledged between every two kills (the shard kept serving).
  for (let k = 1; k < ackedAt.length; k++) expect(ackedAt[k]!).toBeGreaterThan(ackedAt[k - 1]!);

  const leader = await findLeader(shard);
  const c = await Conn.connect(shard.ports[leader]!);
  for (const w of workers) await w.check(c);
  c.close();
  // Every node converges on the same state (each node's own, read in a READONLY session).
  // A node that has just restarted may not know the leader yet: a TRYAGAIN is retried.
  const tryDigest = (i: number) => digestOf(shard, i).catch((e: Error) => {
    if (/TRYAGAIN/.test(e.message)) return undefined;
    throw e;
  });
  const want = await until(() => tryDigest(leader), 'a digest of the leader', 15000, 200);
  for (let i = 0; i < 3; i++) {
    await until(async () => (await tryDigest(i))?.sha === want.sha, `node ${i + 1} to converge`, 15000, 200);
  }
  const unknown = workers.reduce((a, w) => a + w.unknown, 0);
  process.stdout.write(`3-node shard: 3 leader kills, ${acked} acknowledged writes, ${unknown} unknown, ${want.keys} keys on every node\n`);
  for (const p of shard.procs) await p?.kill('SIGTERM');
}, 90000);

test('a follower that was down while the log was compacted catches up by snapshot', async () => {
  const shard = await startShard(['--snapshot-entries', '300', '--snapshot-growth-percent', '0']);
  const leader = await findLeader(shard);
  const f = (leader + 1) % 3;
  const lc = await Conn.connect(shard.ports[leader]!);
  for (let i = 0; i < 100; i++) await ok(lc, ['SET', `before:${i}`, i]);
  await shard.procs[f]!.kill('SIGKILL');
  shard.procs[f] = null;
  const snapsBefore = (shard.procs[leader]!.out().match(/raft: snapshot \d+/g) ?? []).length;
  const pending: Array<Promise<unknown>> = [];
  for (let i = 0; i < 3000; i++) {
    pending.push(ok(lc, i % 2 === 0 ? ['SET', `k:${i % 700}`, i] : ['RPUSH', `list:${i % 13}`, i]));
    if (pending.length >= 50) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
  await until(() => (shard.procs[leader]!.out().match(/raft: snapshot \d+/g) ?? []).length >= snapsBefore + 3, 'the leader to snapshot and compact');
  const follower = await shard.start(f);
  await until(() => /installed snapshot \d+/.test(follower.out()), 'the follower to install a snapshot', 15000);
  expect(shard.procs[leader]!.out()).toMatch(/sent snapshot \d+ \(\d+ bytes\) to node/);
  expect(follower.out()).toMatch(/received snapshot \d+/);
  const want = await digestOf(shard, leader);
  expect(want.keys).toBeGreaterThan(400);
  await until(async () => (await digestOf(shard, f)).sha === want.sha, 'the follower to match the leader', 15000, 200);
  lc.close();
  for (const p of shard.procs) await p?.kill('SIGTERM');
}, 60000);

test('a 5-node shard loses two nodes at once, the leader among them, under load: it goes on, and loses nothing', async () => {
  const shard = await startShard(['--snapshot-entries', '3000', '--snapshot-growth-percent', '0'], 5);
  const workers = Array.from({ length: 6 }, (_, w) => new Worker(w));
  let stop = false;
  const runs = workers.map((w) => drive(shard, w, () => stop));
  await sleep(800);
  const leader = await findLeader(shard);
  const other = (leader + 2) % 5;
  const before = workers.reduce((a, w) => a + w.acked, 0);
  await Promise.all([shard.procs[leader]!.kill('SIGKILL'), shard.procs[other]!.kill('SIGKILL')]);
  shard.procs[leader] = null;
  shard.procs[other] = null;
  // Three of five remain: a majority. A new leader is elected and the writers go on.
  await until(() => workers.reduce((a, w) => a + w.acked, 0) > before + 200 || undefined, 'writes acknowledged by the 3 survivors', 20000, 50);
  const newLeader = await findLeader(shard);
  expect([leader, other]).not.toContain(newLeader);
  await shard.start(leader);
  await shard.start(other);
  await sleep(800);
  stop = true;
  await within(Promise.all(runs), 20000, 'the writers to stop');
  const acked = workers.reduce((a, w) => a + w.acked, 0);
  const lead = await findLeader(shard);
  const c = await Conn.connect(shard.ports[lead]!);
  for (const w of workers) await w.check(c);
  c.close();
  const tryDigest = (i: number) => digestOf(shard, i).catch((e: Error) => {
    if (/TRYAGAIN/.test(e.message)) return undefined;
    throw e;
  });
  const want = await until(() => tryDigest(lead), 'a digest of the leader', 15000, 200);
  for (let i = 0; i < 5; i++) {
    await until(async () => (await tryDigest(i))?.sha === want.sha, `node ${i + 1} to converge`, 20000, 200);
  }
  process.stdout.write(`5-node shard: leader and one follower SIGKILLed together, ${acked} acknowledged writes (${acked - before} after), ${want.keys} keys on every node\n`);
  for (const p of shard.procs) await p?.kill('SIGTERM');
}, 120000);
