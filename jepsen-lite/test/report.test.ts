// The HTML report on a made-up run: fault windows, throughput buckets, and a page that needs
// nothing from outside itself.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HistoryEvent, pairOps } from '../src/history';
import { faultWindows, renderReport, throughput } from '../src/report';
import { TimelineEntry } from '../src/nemesis';

const S = 1e9;

function history(): ReturnType<typeof pairOps> {
  const evs: HistoryEvent[] = [];
  // Process 0: one ok op every 100 ms for 4 s; process 1: a fail at 1.5 s, an info from 2 s on.
  for (let i = 0; i < 40; i++) evs.push({ process: 0, type: 'invoke', f: 'write', key: 'x', value: `v${i}`, time: i * 0.1 * S }, { process: 0, type: 'ok', f: 'write', key: 'x', value: `v${i}`, time: (i * 0.1 + 0.01) * S });
  evs.push({ process: 1, type: 'invoke', f: 'read', key: 'x', time: 1.5 * S }, { process: 1, type: 'fail', f: 'read', key: 'x', time: 1.6 * S, error: 'TRYAGAIN' });
  evs.push({ process: 1, type: 'invoke', f: 'write', key: 'x', value: 'z', time: 2 * S }, { process: 1, type: 'info', f: 'write', key: 'x', value: 'z', time: 3.9 * S, error: 'timeout' });
  evs.sort((a, b) => a.time - b.time);
  return pairOps(evs);
}

const timeline: TimelineEntry[] = [
  { time: 1 * S, phase: 'start', f: 'partition', value: { variant: 'isolate-leader' } },
  { time: 2 * S, phase: 'end', f: 'heal', value: null },
  { time: 3 * S, phase: 'start', f: 'kill', value: { node: 'n1' } },
];

test('fault windows pair each start with the next end; one still open ends with the run', () => {
  expect(faultWindows(timeline, 4)).toEqual([
    { f: 'partition', value: { variant: 'isolate-leader' }, startS: 1, endS: 2 },
    { f: 'kill', value: { node: 'n1' }, startS: 3, endS: 4 },
  ]);
});

test('throughput counts completions per second by outcome', () => {
  const t = throughput(history(), 4, 1);
  expect(t.ok).toEqual([10, 10, 10, 10]);
  expect(t.fail).toEqual([0, 1, 0, 0]);
  expect(t.info).toEqual([0, 0, 0, 1]);
});

test('the report is one self-contained page: two plots with the fault windows shaded, verdicts, timeline, logs', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jepsen-lite-report-'));
  try {
    fs.mkdirSync(path.join(dir, 'logs'));
    fs.writeFileSync(path.join(dir, 'logs', 'n1.log'), 'line one\n<script>not markup</script>\n');
    const html = renderReport(dir, {
      title: 'test run',
      meta: { seed: 1 },
      valid: false,
      ops: history(),
      timeline,
      verdicts: [{ checker: 'register', valid: false, anomalies: [{ kind: 'nonlinearizable', key: 'x', message: 'not linearizable' }], stats: { ops: 42 } }],
      logs: ['logs/n1.log', 'logs/n2.log'],
    });
    expect(html.match(/<svg /g)).toHaveLength(2);
    // Two windows in each plot, coloured by kind.
    expect(html.match(/<rect [^>]*fill="#4c78a8"/g)).toHaveLength(2);
    expect(html.match(/<rect [^>]*fill="#e45756"/g)).toHaveLength(2);
    // Every operation that completed is a point on the latency plot (42 here, under the thinning bound).
    expect(html.match(/<circle /g)).toHaveLength(42);
    expect(html).toContain('INVALID');
    expect(html).toContain('nonlinearizable');
    expect(html).toContain('isolate-leader');
    // Log text is escaped, a missing log said so; nothing is loaded from elsewhere.
    expect(html).toContain('&lt;script&gt;not markup&lt;/script&gt;');
    expect(html).not.toContain('<script');
    expect(html).toContain('(not found)');
    expect(html.replace(/xmlns="http:\/\/www\.w3\.org\/2000\/svg"/g, '')).not.toMatch(/https?:|src=/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
