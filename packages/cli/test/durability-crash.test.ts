// Crash test with real processes (issue 5, "Proof"): a single `keel server --appendfsync always`
// under write load from several concurrent clients is killed with SIGKILL at random moments and
// restarted, KEEL_CRASH_KILLS times (default 20). After each restart every acknowledged write is
// present and the state is a prefix of the history (durability-history.ts). Snapshots are
// taken every 1500 entries, so some kills land during a snapshot or a compaction.

import { Worker } from './durability-history';
import { Conn, freePort, killAll, removeDirs, sleep, startKeel, tmpDir, within } from './durability-util';

const KILLS = Number(process.env.KEEL_CRASH_KILLS ?? 20);
const WORKERS = 8;
const SEED = Number(process.env.KEEL_CRASH_SEED ?? Date.now() % 100000);

afterAll(() => {
  killAll();
  removeDirs();
});

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

test(`a single node killed with SIGKILL ${KILLS} times under load loses no acknowledged write (seed ${SEED})`, async () => {
  const dir = tmpDir('crash');
  const port = await freePort();
  const args = ['--port', String(port), '--dir', dir, '--appendfsync', 'always', '--snapshot-entries', '1500', '--snapshot-growth-percent', '0'];
  const workers = Array.from({ length: WORKERS }, (_, w) => new Worker(w));
  const random = rng(SEED);
  let recoveredMax = 0;
  for (let round = 0; round <= KILLS; round++) {
    const node = await startKeel(args);
    expect(node.out()).toContain('Ready to accept connections');
    const m = /recovered snapshot at index (\d+), log to index (\d+)/.exec(node.out());
    if (round > 0) {
      expect(m).not.toBeNull();
      recoveredMax = Math.max(recoveredMax, Number(m![2]));
    }
    // Every acknowledged write of every round so far is there, and nothing that was not sent.
    const checker = await Conn.connect(port);
    for (const w of workers) await w.check(checker);
    checker.close();
    if (round === KILLS) {
      await node.kill('SIGTERM');
      break;
    }
    let stop = false;
    const conns = await Promise.all(workers.map(() => Conn.connect(port)));
    const runs = workers.map((w, i) => w.run(conns[i]!, () => stop));
    await sleep(100 + random() * 500);
    await node.kill('SIGKILL');
    stop = true;
    await within(Promise.all(runs), 15000, 'the workers to stop');
  }
  const acked = workers.reduce((a, w) => a + w.acked, 0);
  const unknown = workers.reduce((a, w) => a + w.unknown, 0);
  process.stdout.write(`crash test (seed ${SEED}): ${KILLS} kills, ${acked} acknowledged writes, ${unknown} with unknown outcome, log reached index ${recoveredMax}\n`);
  expect(acked).toBeGreaterThan(KILLS * 50);
}, 180000);
