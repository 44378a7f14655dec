// Snapshots: a restored engine is indistinguishable from the one snapshotted, and a job that
// runs while writes are applied captures exactly the state of its first instant.

import { ReplyWriter } from '@keel/resp';
import { Engine, engineCommands, restoreFromBuffer, snapshotToBuffer, SnapshotJob, SnapshotLoader, WatchToken, ClientView } from '../src';

const T0 = 1_700_000_000_000;

function newEngine(): Engine {
  return new Engine(engineCommands());
}

/** Runs one command (writes through apply) and returns the raw reply. */
function run(e: Engine, db: number, argv: string[], now = T0, seed = 7): string {
  const out = new ReplyWriter();
  const client: ClientView = { id: 1, db, inExec: false };
  const spec = e.commands.resolve(argv);
  if (typeof spec === 'string') return `-${spec}`;
  if (spec.isWrite) e.apply({ kind: 'command', db, argv }, out, now, seed, client);
  else e.execute(spec, argv, out, now, seed, client);
  return out.take()?.toString('latin1') ?? '';
}

function exec(e: Engine, db: number, commands: string[][], watches: WatchToken[], now = T0): string {
  const out = new ReplyWriter();
  e.apply({ kind: 'exec', db, commands, watches }, out, now, 11, { id: 1, db, inExec: false });
  return out.take()!.toString('latin1');
}

/** A seeded workload of string writes, deletes and expiry over a few databases. */
function workload(e: Engine, seed: number, ops: number): void {
  let s = seed >>> 0;
  const rnd = (n: number) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s >>> 8) % n;
  };
  for (let i = 0; i < ops; i++) {
    const db = rnd(3);
    const key = `k${rnd(2000)}\x00\xff`;
    switch (rnd(6)) {
      case 0:
      case 1:
        run(e, db, ['SET', key, `v${i}`.repeat(1 + rnd(4))]);
        break;
      case 2:
        run(e, db, ['DEL', key]);
        break;
      case 3:
        run(e, db, ['SET', key, String(i), 'PX', String(1 + rnd(100000))]);
        break;
      case 4:
        run(e, db, ['APPEND', key, 'x']);
        break;
      default:
        run(e, db, ['PERSIST', key]);
    }
  }
}

/** Everything a client could observe about the keyspace, as replies. */
function observe(e: Engine, now: number): string[] {
  const seen: string[] = [];
  for (let db = 0; db < 3; db++) {
    seen.push(run(e, db, ['DBSIZE'], now));
    seen.push(run(e, db, ['KEYS', '*'], now));
    let cursor = '0';
    do {
      const r = run(e, db, ['SCAN', cursor, 'COUNT', '7'], now);
      seen.push(r);
      cursor = /^\*2\r\n\$\d+\r\n(\d+)\r\n/.exec(r)![1]!;
    } while (cursor !== '0');
    for (let i = 0; i < 20; i++) seen.push(run(e, db, ['RANDOMKEY'], now, 1000 + i));
    for (let i = 0; i < 2000; i += 37) {
      seen.push(run(e, db, ['GET', `k${i}\x00\xff`], now));
      seen.push(run(e, db, ['PTTL', `k${i}\x00\xff`], now));
    }
  }
  return seen;
}

test('a restored engine answers every read exactly as the original', () => {
  const a = newEngine();
  workload(a, 1, 20000);
  const b = newEngine();
  restoreFromBuffer(b, snapshotToBuffer(a));
  expect(observe(b, T0 + 50000)).toEqual(observe(a, T0 + 50000));
});

test('after a restore, the same writes give the same replies and states on both', () => {
  const a = newEngine();
  workload(a, 2, 10000);
  const b = newEngine();
  restoreFromBuffer(b, snapshotToBuffer(a));
  const replies = (e: Engine) => {
    const out: string[] = [];
    for (let i = 0; i < 3000; i++) out.push(run(e, i % 3, ['SET', `n${i}`, 'v']));
    for (let i = 0; i < 3000; i += 2) out.push(run(e, i % 3, ['DEL', `n${i}`]));
    return out;
  };
  expect(replies(b)).toEqual(replies(a));
  expect(observe(b, T0)).toEqual(observe(a, T0));
});

test('WATCH verdicts survive a restore: tokens from before the snapshot get the same answer', () => {
  const a = newEngine();
  run(a, 0, ['SET', 'w1', 'a']);
  run(a, 0, ['SET', 'w2', 'a']);
  const t1 = a.watchToken(0, 'w1', T0);
  const t2 = a.watchToken(0, 'w2', T0);
  run(a, 0, ['SET', 'w2', 'changed']);
  const b = newEngine();
  restoreFromBuffer(b, snapshotToBuffer(a));
  const tx = [['SET', 'out', 'x']];
  expect(exec(b, 0, tx, [t1])).toBe(exec(a, 0, tx, [t1]));
  expect(exec(b, 0, tx, [t2])).toBe(exec(a, 0, tx, [t2]));
  expect(exec(a, 0, tx, [t2])).toBe('*-1\r\n');
});

test('writes during a running job do not leak into it (copy-on-write), FLUSHDB included', () => {
  const a = newEngine();
  workload(a, 3, 20000);
  const reference = snapshotToBuffer(a); // the state at the job's first instant
  const job = new SnapshotJob(a, 4096);
  const parts: Buffer[] = [];
  let step = 0;
  for (let c = job.next(); c !== null; c = job.next()) {
    parts.push(c);
    // Between slices: overwrite, delete, create, expire, persist, and once flush a database.
    const k = `k${(step * 37) % 2000}\x00\xff`;
    run(a, step % 3, ['SET', k, `during-${step}`]);
    run(a, (step + 1) % 3, ['DEL', `k${(step * 11) % 2000}\x00\xff`]);
    run(a, step % 3, ['SET', `new-${step}`, 'x']);
    run(a, step % 3, ['PEXPIRE', `k${(step * 13) % 2000}\x00\xff`, '5']);
    if (step === 5) run(a, 2, ['FLUSHDB']);
    step++;
  }
  expect(step).toBeGreaterThan(10);
  const fromJob = newEngine();
  restoreFromBuffer(fromJob, Buffer.concat(parts));
  const fromReference = newEngine();
  restoreFromBuffer(fromReference, reference);
  expect(observe(fromJob, T0 + 1000)).toEqual(observe(fromReference, T0 + 1000));
  // The job detached itself: later writes go straight through.
  expect(a.dbs.every((d) => d.observer === null)).toBe(true);
});

test('chunks split anywhere restore the same state', () => {
  const a = newEngine();
  workload(a, 4, 3000);
  run(a, 0, ['SET', 'big', 'x'.repeat(300000)]);
  const snap = snapshotToBuffer(a);
  const b = newEngine();
  const loader = new SnapshotLoader(b);
  for (let i = 0; i < snap.length; i += 977) loader.push(snap.subarray(i, i + 977));
  loader.finish();
  expect(observe(b, T0)).toEqual(observe(a, T0));
  expect(run(b, 0, ['STRLEN', 'big'])).toBe(':300000\r\n');
});

test('a truncated or foreign snapshot is refused, never half-loaded silently', () => {
  const a = newEngine();
  workload(a, 5, 500);
  const snap = snapshotToBuffer(a);
  expect(() => restoreFromBuffer(newEngine(), snap.subarray(0, snap.length - 3))).toThrow(/incomplete|ends inside/);
  const bad = Buffer.from(snap);
  bad[3] = bad[3]! ^ 0xff; // inside the magic string
  expect(() => restoreFromBuffer(newEngine(), bad)).toThrow();
  expect(() => restoreFromBuffer(newEngine(), Buffer.alloc(0))).toThrow(/incomplete/);
});

/** A workload over every collection type, big enough to cross the compact encodings. */
function collections(e: Engine, seed: number, ops: number): void {
  let s = seed >>> 0;
  const rnd = (n: number) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s >>> 8) % n;
  };
  for (let i = 0; i < ops; i++) {
    const k = rnd(4);
    const m = `m${rnd(1500)}`;
    switch (rnd(8)) {
      case 0:
        run(e, 0, ['RPUSH', `list${k}`, m, `${i}`]);
        break;
      case 1:
        run(e, 0, ['LPOP', `list${k}`]);
        break;
      case 2:
        run(e, 0, ['HSET', `hash${k}`, m, `v${i}`]);
        break;
      case 3:
        run(e, 0, ['HDEL', `hash${k}`, m]);
        break;
      case 4:
        run(e, 0, ['SADD', `set${k}`, k % 2 === 0 ? String(rnd(900)) : m]);
        break;
      case 5:
        run(e, 0, ['SREM', `set${k}`, m]);
        break;
      case 6:
        run(e, 0, ['ZADD', `zset${k}`, String(rnd(50) / 4), m]);
        break;
      default:
        run(e, 0, ['ZREM', `zset${k}`, m]);
    }
  }
}

function observeCollections(e: Engine): string[] {
  const seen: string[] = [];
  for (let k = 0; k < 4; k++) {
    for (const key of [`list${k}`, `hash${k}`, `set${k}`, `zset${k}`]) seen.push(run(e, 0, ['OBJECT', 'ENCODING', key]));
    seen.push(run(e, 0, ['LRANGE', `list${k}`, '0', '-1']));
    seen.push(run(e, 0, ['HGETALL', `hash${k}`]));
    seen.push(run(e, 0, ['SMEMBERS', `set${k}`]));
    seen.push(run(e, 0, ['ZRANGE', `zset${k}`, '0', '-1', 'WITHSCORES']));
    seen.push(run(e, 0, ['ZRANGEBYLEX', `zset${k}`, '-', '+']));
    seen.push(run(e, 0, ['HSCAN', `hash${k}`, '0', 'COUNT', '5']));
    seen.push(run(e, 0, ['SSCAN', `set${k}`, '0', 'COUNT', '5']));
    seen.push(run(e, 0, ['ZSCAN', `zset${k}`, '0', 'COUNT', '5']));
    seen.push(run(e, 0, ['SRANDMEMBER', `set${k}`, '-5'], T0, 99));
    seen.push(run(e, 0, ['HRANDFIELD', `hash${k}`, '3'], T0, 98));
    seen.push(run(e, 0, ['ZRANDMEMBER', `zset${k}`, '4', 'WITHSCORES'], T0, 97));
  }
  return seen;
}

test('lists, hashes, sets and sorted sets restore with the same encodings, order and draws', () => {
  const a = newEngine();
  collections(a, 7, 30000);
  const b = newEngine();
  restoreFromBuffer(b, snapshotToBuffer(a));
  const seenA = observeCollections(a);
  expect(seenA.some((r) => r.includes('hashtable'))).toBe(true);
  expect(seenA.some((r) => r.includes('skiplist'))).toBe(true);
  expect(seenA.some((r) => r.includes('intset'))).toBe(true);
  expect(observeCollections(b)).toEqual(seenA);
  // and they go on identically
  collections(a, 8, 3000);
  collections(b, 8, 3000);
  expect(observeCollections(b)).toEqual(observeCollections(a));
});

test('collections changed in place during a job are captured as they were (copy-on-write)', () => {
  const a = newEngine();
  collections(a, 9, 20000);
  const reference = snapshotToBuffer(a);
  const job = new SnapshotJob(a, 2048);
  const parts: Buffer[] = [];
  let step = 0;
  for (let c = job.next(); c !== null; c = job.next()) {
    parts.push(c);
    collections(a, 1000 + step, 50);
    step++;
  }
  expect(job.stats.preimages).toBeGreaterThan(0);
  const fromJob = newEngine();
  restoreFromBuffer(fromJob, Buffer.concat(parts));
  const fromReference = newEngine();
  restoreFromBuffer(fromReference, reference);
  expect(observeCollections(fromJob)).toEqual(observeCollections(fromReference));
});

test('packed lists of many nodes changed by every list write during a job are captured as they were', () => {
  const a = newEngine();
  const keys = ['L0', 'L1', 'L2'];
  for (const key of keys) {
    for (let i = 0; i < 3000; i += 100) run(a, 0, ['RPUSH', key, ...Array.from({ length: 100 }, (_, j) => `${key}-element-${i + j}`)]);
  }
  run(a, 0, ['RPUSH', 'L0', 'x'.repeat(20000), '', '\x00\xff']);
  const observe = (e: Engine) => keys.map((k) => run(e, 0, ['LRANGE', k, '0', '-1']));
  const reference = snapshotToBuffer(a);
  const job = new SnapshotJob(a, 1024);
  const parts: Buffer[] = [];
  const writes = (step: number) => [
    ['LSET', 'L0', String(5 + step), 'y'.repeat(9000)],
    ['LINSERT', 'L1', 'BEFORE', 'L1-element-1500', 'inserted'],
    ['LREM', 'L2', '0', 'L2-element-7'],
    ['LTRIM', 'L0', '100', '-100'],
    ['LPUSH', 'L1', 'head'],
    ['RPOP', 'L2', '50'],
    ['LMOVE', 'L0', 'L2', 'LEFT', 'RIGHT'],
  ];
  let step = 0;
  for (let c = job.next(); c !== null; c = job.next()) {
    parts.push(c);
    for (const w of writes(step)) run(a, 0, w);
    step++;
  }
  expect(step).toBeGreaterThan(1);
  expect(job.stats.preimages).toBeGreaterThan(0);
  const fromJob = newEngine();
  restoreFromBuffer(fromJob, Buffer.concat(parts));
  const fromReference = newEngine();
  restoreFromBuffer(fromReference, reference);
  expect(observe(fromJob)).toEqual(observe(fromReference));
  expect(observe(fromJob)[0]).toContain('x'.repeat(20000));
});
