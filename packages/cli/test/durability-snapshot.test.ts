// Restart from a snapshot and a compacted log restores the state exactly; a damaged log tail
// keeps the node from starting, with a message naming `keel wal repair`, and the repair lets it
// start again. Real `keel server` processes.

import * as path from 'node:path';
import { ClassicLevel } from 'classic-level';
import { entryKey } from '@keel/wal';
import { Conn, digest, freePort, keelSync, killAll, ok, removeDirs, Reply, sleep, startKeel, tmpDir, until } from './durability-util';

afterAll(() => {
  killAll();
  removeDirs();
});

/** Writes every type, with and without expiry, through `n` commands. */
async function fill(c: Conn, n: number): Promise<void> {
  const pending: Array<Promise<unknown>> = [];
  for (let i = 0; i < n; i++) {
    const k = Math.floor(i / 8) % 400;
    const cmds: Array<Array<string | number>> = [
      ['SET', `s:${k}`, `v${i}`],
      ['RPUSH', `l:${k % 50}`, i],
      ['HSET', `h:${k % 40}`, `f${i % 97}`, i],
      ['SADD', `set:${k % 30}`, `m${i % 211}`],
      ['ZADD', `z:${k % 20}`, i % 1000, `m${i % 150}`],
      ['INCRBY', `n:${k % 10}`, i],
      ['SET', `e:${k % 25}`, i, 'EX', 100000],
      ['DEL', `s:${(k * 7) % 400}`],
    ];
    pending.push(ok(c, cmds[i % cmds.length]!));
    if (pending.length >= 64) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
}

test('a restart after snapshots and compaction restores the state exactly (digest)', async () => {
  const dir = tmpDir('snap');
  const port = await freePort();
  const args = ['--port', String(port), '--dir', dir, '--snapshot-entries', '500', '--snapshot-growth-percent', '0'];
  let node = await startKeel(args);
  let c = await Conn.connect(port);
  await fill(c, 6000);
  await until(() => (node.out().match(/raft: snapshot \d+/g) ?? []).length >= 3, 'three snapshots');
  const before = await digest(c);
  expect(before.keys).toBeGreaterThan(300);
  c.close();
  const snaps = [...node.out().matchAll(/raft: snapshot (\d+)/g)].map((x) => Number(x[1]));
  await node.kill('SIGKILL');

  // The log was compacted: it no longer starts at 1, and the snapshots cover its start.
  const check = keelSync(['wal', 'check', '--dir', dir, '--json']);
  expect(check.code).toBe(0);
  const report = JSON.parse(check.out) as { log: { firstIndex: number; lastIndex: number } };
  expect(report.log.firstIndex).toBeGreaterThan(snaps[0]!);

  node = await startKeel(args);
  const m = /recovered snapshot at index (\d+), log to index (\d+)/.exec(node.out());
  expect(m).not.toBeNull();
  expect(Number(m![1])).toBeGreaterThanOrEqual(snaps[snaps.length - 1]!);
  c = await Conn.connect(port);
  expect(await digest(c)).toEqual(before);

  // And once more after a clean shutdown (SIGTERM) with more writes on top.
  await fill(c, 1000);
  const again = await digest(c);
  c.close();
  await node.kill('SIGTERM');
  expect(await node.exited).toBe(0);
  node = await startKeel(args);
  c = await Conn.connect(port);
  expect(await digest(c)).toEqual(again);
  c.close();
  await node.kill('SIGTERM');
}, 60000);

test('a damaged log tail refuses to start and names keel wal repair; the repair lets it start', async () => {
  const dir = tmpDir('corrupt');
  const port = await freePort();
  const args = ['--port', String(port), '--dir', dir];
  let node = await startKeel(args);
  let c = await Conn.connect(port);
  for (let i = 0; i < 50; i++) await ok(c, ['SET', `k${i}`, i]);
  c.close();
  await node.kill('SIGKILL');

  // Flip a byte in the last entry, as a torn write would leave it.
  const db = new ClassicLevel<Buffer, Buffer>(path.join(dir, 'log'), { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  let last = 0;
  for await (const k of db.keys({ gte: entryKey(0), lte: entryKey(Number.MAX_SAFE_INTEGER) })) last = Math.max(last, Number(k.readBigUInt64BE(1)));
  expect(last).toBeGreaterThan(50);
  const v = (await db.get(entryKey(last)))!;
  v[v.length - 1] ^= 0xff;
  await db.put(entryKey(last), v);
  await db.close();

  node = await startKeel(args);
  expect(await node.exited).toBe(1);
  expect(node.out()).toContain(`damaged at index ${last}`);
  expect(node.out()).toContain(`keel wal repair --dir ${dir}`);
  expect(node.out()).not.toContain('Ready to accept');

  const repair = keelSync(['wal', 'repair', '--dir', dir, '--yes']);
  expect(repair.code).toBe(0);
  node = await startKeel(args);
  expect(node.out()).toContain('Ready to accept');
  c = await Conn.connect(port);
  // Every write before the damaged entry is there (the last SET was the damaged entry).
  for (let i = 0; i < 49; i++) expect(await c.cmd(['GET', `k${i}`])).toBe(String(i));
  c.close();
  await node.kill('SIGTERM');
}, 60000);

test('a big dataset is not rewritten for a little log: snapshots wait for the log to grow by --snapshot-growth-percent', async () => {
  /** Loads 3000 distinct keys of 400 bytes and counts the snapshots the node took. */
  const snapshotsTaken = async (growth: string): Promise<number> => {
    const port = await freePort();
    const node = await startKeel(['--port', String(port), '--dir', tmpDir('growth'), '--appendfsync', 'no', '--snapshot-entries', '50', '--snapshot-growth-percent', growth]);
    const c = await Conn.connect(port);
    const pending: Array<Promise<Reply>> = [];
    for (let i = 0; i < 3000; i++) {
      pending.push(ok(c, ['SET', `g${i}`, 'v'.repeat(400)]));
      if (pending.length >= 50) {
        await Promise.all(pending.splice(0));
        await sleep(25); // paced, so that a snapshot can finish between batches
      }
    }
    await Promise.all(pending);
    await sleep(500); // let a snapshot in progress finish
    c.close();
    const n = (node.out().match(/raft: snapshot \d+/g) ?? []).length;
    await node.kill('SIGTERM');
    return n;
  };
  const everyFifty = await snapshotsTaken('0');
  const withGrowth = await snapshotsTaken('100');
  // Every 50 entries: up to 60 snapshots. Doubling the log each time: about log2(3000/50) ≈ 6.
  expect(everyFifty).toBeGreaterThan(20);
  expect(withGrowth).toBeGreaterThanOrEqual(1);
  expect(withGrowth).toBeLessThan(everyFifty / 2);
}, 60000);
