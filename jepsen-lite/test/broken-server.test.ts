// The harness against a deliberately broken server: `keel server --unsafe-test-stale-reads`
// answers reads from local state without ReadIndex, so a follower that lags and a node cut off
// by a partition serve stale values. A short fixed-seed run of the register workload, with
// reads sent to each process's home node (two of three processes read at a follower) and only
// partitions as faults, must be found non-linearizable. The same run against the real server
// (the second test) must find no anomaly: the anomalies come from the broken mode, not from
// the harness.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readHistory } from '../src/history';
import { run } from '../src/run';

const out = fs.mkdtempSync(path.join(os.tmpdir(), 'jepsen-lite-broken-'));
afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

function schedule(dir: string, extraArgs: string[], log: (l: string) => void): ReturnType<typeof run> {
  return run({
    workloads: ['register'],
    nemeses: ['partition'],
    timeSec: 8,
    seed: 11,
    out: dir,
    cluster: { extraArgs },
    nemesis: { gapMs: [300, 800], holdMs: [1500, 2500] },
    log,
  });
}

test('stale reads from a broken server (--unsafe-test-stale-reads) are found: register is not linearizable', async () => {
  const t0 = Date.now();
  const lines: string[] = [];
  const dir = path.join(out, 'stale');
  const r = await schedule(dir, ['--unsafe-test-stale-reads'], (l) => lines.push(l));
  process.stdout.write(lines.join('\n') + '\n');
  expect(r.faults).toBeGreaterThanOrEqual(2);
  const reg = r.verdicts.find((v) => v.checker === 'register')!;
  expect(reg.valid).toBe(false);
  expect(reg.anomalies.map((a) => a.kind)).toContain('nonlinearizable');
  expect(r.valid).toBe(false);
  // The nodes were really started in the broken mode (their logs say so).
  const log = fs.readFileSync(path.join(dir, 'logs', 'n1.log'), 'utf8');
  expect(log).toMatch(/--unsafe-test-stale-reads: reads are answered from local state/);
  expect(readHistory(path.join(dir, 'history.jsonl')).length).toBeGreaterThan(200);
  expect(Date.now() - t0).toBeLessThan(60000);
}, 60000);

test('the same schedule against the real server: linearizable', async () => {
  const lines: string[] = [];
  const dir = path.join(out, 'real');
  const r = await schedule(dir, [], (l) => lines.push(l));
  process.stdout.write(lines.join('\n') + '\n');
  const reg = r.verdicts.find((v) => v.checker === 'register')!;
  if (reg.valid !== true) process.stdout.write(JSON.stringify(reg, null, 2).slice(0, 5000) + '\n');
  expect(reg.valid).toBe(true);
  // Reads at followers were answered (by ReadIndex), not only refused.
  const reads = readHistory(path.join(dir, 'history.jsonl')).filter((e) => e.f === 'read' && e.type === 'ok');
  expect(new Set(reads.map((e) => e.node)).size).toBe(3);
}, 60000);
