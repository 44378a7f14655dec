// The harness against a deliberately broken server: `keel server --unsafe-test-stale-reads`
// answers reads from local state without ReadIndex, so a follower that lags and a node cut off
// by a partition serve stale values. A short fixed-seed run of every workload, with reads sent
// to each process's home node (two of three processes read at a follower) and only partitions
// as faults, must be found invalid by every checker: register non-linearizable, stale reads in
// set, counter and list-append. The same run against the real server
// (the second test) must find no anomaly: the anomalies come from the broken mode, not from
// the harness.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readHistory } from '../src/history';
import { run } from '../src/run';
import { WORKLOADS } from '../src/workloads';

const out = fs.mkdtempSync(path.join(os.tmpdir(), 'jepsen-lite-broken-'));
afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

function schedule(dir: string, extraArgs: string[], log: (l: string) => void): ReturnType<typeof run> {
  return run({
    workloads: [...WORKLOADS],
    nemeses: ['partition'],
    timeSec: 12,
    seed: 11,
    out: dir,
    cluster: { extraArgs },
    nemesis: { gapMs: [200, 500], holdMs: [2500, 3500] },
    log,
  });
}

test('stale reads from a broken server (--unsafe-test-stale-reads) are found by every checker', async () => {
  const t0 = Date.now();
  const lines: string[] = [];
  const dir = path.join(out, 'stale');
  const r = await schedule(dir, ['--unsafe-test-stale-reads'], (l) => lines.push(l));
  process.stdout.write(lines.join('\n') + '\n');
  expect(r.faults).toBeGreaterThanOrEqual(2);
  const expected: Record<string, string> = { register: 'nonlinearizable', set: 'stale-read', counter: 'stale-read', 'list-append': 'stale-read' };
  for (const v of r.verdicts) {
    expect({ checker: v.checker, valid: v.valid }).toEqual({ checker: v.checker, valid: false });
    expect(v.anomalies.map((a) => a.kind)).toContain(expected[v.checker]);
  }
  expect(r.verdicts.map((v) => v.checker).sort()).toEqual(Object.keys(expected).sort());
  expect(r.valid).toBe(false);
  // The nodes were really started in the broken mode (their logs say so).
  const log = fs.readFileSync(path.join(dir, 'logs', 'n1.log'), 'utf8');
  expect(log).toMatch(/--unsafe-test-stale-reads: reads are answered from local state/);
  expect(readHistory(path.join(dir, 'history.jsonl')).length).toBeGreaterThan(200);
  expect(Date.now() - t0).toBeLessThan(60000);
}, 60000);

test('the same schedule against the real server: no anomaly', async () => {
  const lines: string[] = [];
  const dir = path.join(out, 'real');
  const r = await schedule(dir, [], (l) => lines.push(l));
  process.stdout.write(lines.join('\n') + '\n');
  for (const v of r.verdicts) {
    if (v.valid !== true) process.stdout.write(JSON.stringify(v, null, 2).slice(0, 5000) + '\n');
    expect({ checker: v.checker, valid: v.valid }).toEqual({ checker: v.checker, valid: true });
  }
  // Reads at followers were answered (by ReadIndex), not only refused.
  const reads = readHistory(path.join(dir, 'history.jsonl')).filter((e) => e.f === 'read' && e.type === 'ok');
  expect(new Set(reads.map((e) => e.node)).size).toBe(3);
}, 60000);
