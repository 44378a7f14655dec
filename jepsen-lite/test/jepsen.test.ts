// Real keel processes under faults (packages/cli must be built). Each workload runs for 12 s at
// a fixed seed under kill, pause and partition faults; the checkers must find nothing.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Cluster, sleep } from '../src/cluster';
import { readHistory } from '../src/history';
import { run } from '../src/run';
import { WorkloadName } from '../src/workloads';

const out = fs.mkdtempSync(path.join(os.tmpdir(), 'jepsen-lite-test-'));
afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

test('the proxies partition: an isolated leader is replaced, and heals', async () => {
  const c = await Cluster.start();
  try {
    const leader = await c.findLeader(15000);
    expect(leader).toBeDefined();
    const others = [0, 1, 2].filter((i) => i !== leader);
    c.partition([leader!], others);
    let next: number | undefined;
    const deadline = Date.now() + 10000;
    while (Date.now() < deadline) {
      next = await c.findLeader(1000);
      if (next !== undefined && next !== leader) break;
      await sleep(100);
    }
    expect(others).toContain(next);
    c.heal();
    expect(await c.findLeader(10000)).toBeDefined();
  } finally {
    await c.close();
  }
}, 60000);

const cases: Array<[WorkloadName, number]> = [
  ['register', 7],
  ['set', 8],
  ['counter', 9],
];

test.each(cases)('%s under kill, pause and partition (seed %d): no anomaly', async (workload, seed) => {
  const dir = path.join(out, workload);
  const lines: string[] = [];
  const r = await run({
    workloads: [workload],
    nemeses: ['kill', 'pause', 'partition'],
    timeSec: 12,
    seed,
    out: dir,
    nemesis: { gapMs: [500, 1200], holdMs: [1000, 2500] },
    log: (l) => lines.push(l),
  });
  process.stdout.write(lines.join('\n') + '\n');
  expect(r.faults).toBeGreaterThanOrEqual(3);
  expect(r.ops).toBeGreaterThan(500);
  for (const v of r.verdicts) {
    if (v.valid !== true) process.stdout.write(JSON.stringify(v, null, 2).slice(0, 5000) + '\n');
    expect({ checker: v.checker, valid: v.valid }).toEqual({ checker: v.checker, valid: true });
  }
  // The results folder has the history, the verdicts and the timeline.
  expect(readHistory(path.join(dir, 'history.jsonl')).length).toBeGreaterThan(1000);
  expect(JSON.parse(fs.readFileSync(path.join(dir, 'verdicts.json'), 'utf8')).valid).toBe(true);
  expect(JSON.parse(fs.readFileSync(path.join(dir, 'timeline.json'), 'utf8')).length).toBeGreaterThan(0);
}, 90000);
