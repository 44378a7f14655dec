// What each fsync policy can lose.
//
// 1. A machine crash (power loss, kernel panic), SIMULATED: CrashSimKv keeps unsynced
//    writes in memory and drops them at crash(); what survives is exactly what was synced
//    (the worst case fsync allows). 'always' loses nothing acknowledged; 'everysec' loses
//    at most about the last interval; 'no' loses everything not synced by something else.
// 2. A process kill (SIGKILL), REAL: a child process appends and is killed; LevelDB has
//    handed every acknowledged write to the kernel, so no policy loses anything.

import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { CrashSimKv, DurableStorage, FsyncPolicy, LevelKv } from '../src';
import { cleanupDirs, entry, sleep, tmpDir } from './helpers';

afterAll(cleanupDirs);

async function openSim(dir: string, policy: FsyncPolicy, everysecIntervalMs = 200): Promise<{ s: DurableStorage; kv: CrashSimKv }> {
  let kv: CrashSimKv | undefined;
  const s = await DurableStorage.open(dir, {
    fsync: policy,
    everysecIntervalMs,
    openKv: async (l) => (kv = new CrashSimKv(await LevelKv.open(l))),
  });
  return { s, kv: kv! };
}

async function crash(s: DurableStorage, kv: CrashSimKv): Promise<void> {
  s.abandon();
  await kv.crash();
}

/** Appends entries lo..hi one persist() at a time; returns the highest acknowledged index. */
async function appendAcked(s: DurableStorage, lo: number, hi: number): Promise<number> {
  let acked = 0;
  for (let i = lo; i <= hi; i++) {
    await s.persist({ entries: [entry(i, 1)], hardState: { term: 1, vote: 1, commit: i } });
    acked = i;
  }
  return acked;
}

async function survivors(dir: string): Promise<number> {
  const r = await DurableStorage.open(dir);
  const last = r.lastIndex();
  if (last > 0) r.entries(1, last + 1, Infinity); // every survivor reads back (no damage)
  await r.close();
  return last;
}

describe('a simulated machine crash loses only what was not synced', () => {
  test('always: every acknowledged entry survives', async () => {
    const dir = tmpDir();
    const { s, kv } = await openSim(dir, 'always');
    const acked = await appendAcked(s, 1, 200);
    expect(kv.unsyncedOps).toBe(0);
    await crash(s, kv);
    expect(await survivors(dir)).toBe(acked);
  });

  test('everysec: what was acknowledged in the last interval can be lost, nothing older', async () => {
    const dir = tmpDir();
    const { s, kv } = await openSim(dir, 'everysec', 200);
    const old = await appendAcked(s, 1, 100);
    await sleep(500); // more than the interval: the timer synced it
    const recent = await appendAcked(s, 101, 200); // acknowledged, not yet synced
    expect(kv.unsyncedOps).toBeGreaterThan(0);
    await crash(s, kv);
    const last = await survivors(dir);
    expect(last).toBeGreaterThanOrEqual(old);
    expect(last).toBeLessThan(recent);
  });

  test('no: everything acknowledged since the last sync is lost; a clean close syncs', async () => {
    const dir = tmpDir();
    const { s, kv } = await openSim(dir, 'no');
    const acked = await appendAcked(s, 1, 100);
    await sleep(300);
    await crash(s, kv);
    expect(acked).toBe(100);
    expect(await survivors(dir)).toBe(0); // nothing was ever synced

    const dir2 = tmpDir();
    const b = await openSim(dir2, 'no');
    await appendAcked(b.s, 1, 100);
    await b.s.close(); // a clean shutdown syncs (as Redis does)
    expect(await survivors(dir2)).toBe(100);
  });

  test('no: snapshots and compaction are synced whatever the policy', async () => {
    const dir = tmpDir();
    const { s, kv } = await openSim(dir, 'no');
    await appendAcked(s, 1, 100);
    await s.createSnapshot(80, { voters: [1], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false }, [Buffer.from('s')]);
    await appendAcked(s, 101, 120);
    await crash(s, kv);
    expect(await survivors(dir)).toBe(100); // synced with the snapshot; 101..120 lost
  });
});

describe('a real SIGKILL of the appending process loses nothing acknowledged, with any policy', () => {
  const child = path.join(__dirname, 'fixtures', 'append-child.js');

  function runUntilKilled(dir: string, policy: FsyncPolicy, acks: number): Promise<{ maxAcked: number; start: number }> {
    return new Promise((resolve, reject) => {
      const p = spawn(process.execPath, [child, dir, policy, '8'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let buf = '';
      let maxAcked = 0;
      let start = 0;
      let count = 0;
      let err = '';
      p.stderr.on('data', (d: Buffer) => (err += d.toString()));
      p.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        const lines = buf.split('\n');
        buf = lines.pop()!;
        for (const l of lines) {
          const [w, n] = l.split(' ');
          if (w === 'start') start = Number(n);
          if (w === 'ack') {
            maxAcked = Math.max(maxAcked, Number(n));
            if (++count === acks) p.kill('SIGKILL');
          }
        }
      });
      p.on('exit', (code, signal) => {
        if (signal === 'SIGKILL') resolve({ maxAcked, start });
        else reject(new Error(`child exited ${code} ${signal}: ${err}`));
      });
    });
  }

  test.each(['always', 'everysec', 'no'] as FsyncPolicy[])('%s: killed 3 times under load', async (policy) => {
    const dir = tmpDir('kill');
    let prevLast = 0;
    for (let round = 0; round < 3; round++) {
      const { maxAcked, start } = await runUntilKilled(dir, policy, 300 + round * 97);
      expect(start).toBe(prevLast + 1); // it resumed after everything that survived
      const last = await survivors(dir);
      expect(last).toBeGreaterThanOrEqual(maxAcked);
      prevLast = last;
    }
  });
});
