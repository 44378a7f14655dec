// Real keel processes under faults (packages/cli must be built). Every workload at once (as
// `--workload all`) runs for 24 s at a fixed seed under every kind of fault (kill, pause,
// partition, leadership transfer, slow links, membership: a node removed and a new one added);
// the
// checkers must find nothing, and the results folder must hold everything the report promises.
// (broken-server.test.ts shows that these checkers do find anomalies when the server has them.)

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Cluster, HOST, sleep } from '../src/cluster';
import { RespConn } from '@keel/testkit';
import { HistoryEvent, readHistory } from '../src/history';
import { NEMESES, TimelineEntry } from '../src/nemesis';
import { run } from '../src/run';
import { WORKLOADS } from '../src/workloads';

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

test('membership mode: a node replaced (a new id), made leader: its links in and out pass its proxies, and isolating it elects another', async () => {
  const c = await Cluster.start({ membership: true });
  const info = async (i: number) => {
    const k = await RespConn.connect(HOST, c.nodes[i]!.port, 1000);
    try {
      return String(await k.cmd(['INFO', 'raft'], 2000));
    } finally {
      k.close();
    }
  };
  try {
    const leader = await c.findLeader(15000);
    expect(leader).toBeDefined();
    const s = leader!;
    const old = c.nodes[s]!.name;
    expect(await c.removeNode(s)).toBe('OK');
    const next = await c.findLeader(10000);
    expect(next).toBeDefined();
    expect(next).not.toBe(s);
    expect(await c.replaceNode(s)).toBe('OK');
    const added = c.nodes[s]!.name;
    expect(added).not.toBe(old);
    const id = (name: string) => name.slice(1);
    const raft = await info(next!);
    expect(raft).toMatch(new RegExp(`raft_voters:([\\d,]*,)?${id(added)}(,|\\r)`));
    expect(raft).toMatch(new RegExp(`raft_removed:.*\\b${id(old)}\\b`));
    expect(raft).toMatch(/raft_removed:.*\b4\b/); // the seed
    expect(await c.admin(['KEEL.TRANSFERLEADER', added], 15000, 5000)).toBe('OK');
    expect(await c.findLeader(5000)).toBe(s);
    const others = [0, 1, 2].filter((i) => i !== s);
    // The new node learned its peers' addresses from a snapshot and they learned its address from
    // the log: every link of it still goes through the proxy of that directed link.
    const end = Date.now() + 10000;
    const linked = () => others.every((j) => c.proxies[s]![j]!.connections > 0 && c.proxies[j]![s]!.connections > 0);
    while (!linked() && Date.now() < end) await sleep(50);
    expect(others.map((j) => [c.proxies[s]![j]!.connections > 0, c.proxies[j]![s]!.connections > 0])).toEqual([[true, true], [true, true]]);
    c.partition([s], others);
    let l: number | undefined;
    const deadline = Date.now() + 10000;
    while (Date.now() < deadline) {
      l = await c.findLeader(1000);
      if (l !== undefined && l !== s) break;
      await sleep(100);
    }
    expect(others).toContain(l);
    c.heal();
    expect(await c.findLeader(10000)).toBeDefined();
  } finally {
    await c.close();
  }
}, 90000);

test('every workload under every kind of fault (seed 36): no anomaly', async () => {
  const dir = path.join(out, 'all');
  const lines: string[] = [];
  const r = await run({
    workloads: [...WORKLOADS],
    nemeses: [...NEMESES],
    timeSec: 24,
    seed: 36,
    out: dir,
    nemesis: { gapMs: [500, 1200], holdMs: [1000, 2500] },
    log: (l) => lines.push(l),
  });
  process.stdout.write(lines.join('\n') + '\n');
  // Seed 36's schedule starts kill, transfer, membership, slow, partition, pause: every kind of fault.
  expect(r.faults).toBeGreaterThanOrEqual(6);
  expect(new Set(r.timeline.filter((e) => e.phase === 'start').map((e) => e.f))).toEqual(new Set(NEMESES));
  // The membership fault removed a node and a new one (a new id) joined its slot before it ended.
  const rejoined = r.timeline.filter((e) => e.f === 'rejoined').map((e) => e.value as { removed: string[]; added: string[] });
  expect(rejoined.length).toBeGreaterThanOrEqual(1);
  for (const x of rejoined) {
    expect(x.removed).toHaveLength(1); // on 3 nodes, one at a time
    expect(Number(x.added[0]!.slice(1))).toBeGreaterThan(4); // n4 is the seed
  }
  expect(r.verdicts.map((v) => v.checker)).toEqual([...WORKLOADS]);
  for (const v of r.verdicts) {
    if (v.valid !== true) process.stdout.write(JSON.stringify(v, null, 2).slice(0, 5000) + '\n');
    expect({ checker: v.checker, valid: v.valid }).toEqual({ checker: v.checker, valid: true });
  }
  // Each workload did real work.
  const history = readHistory(path.join(dir, 'history.jsonl'));
  const okBy = (pred: (e: HistoryEvent) => boolean) => history.filter((e) => e.type === 'ok' && pred(e)).length;
  expect(okBy((e) => e.f === 'write' || e.f === 'cas')).toBeGreaterThan(100);
  expect(okBy((e) => e.f === 'add')).toBeGreaterThan(100);
  expect(okBy((e) => e.f === 'incr')).toBeGreaterThan(100);
  expect(okBy((e) => e.f === 'txn')).toBeGreaterThan(100);
  // Reads were answered at every node (followers by ReadIndex).
  expect(new Set(history.filter((e) => e.f === 'read' && e.type === 'ok').map((e) => e.node)).size).toBe(3);
  // The results folder: verdicts, timeline, logs, and the report with a shaded window per fault in each plot.
  expect(JSON.parse(fs.readFileSync(path.join(dir, 'verdicts.json'), 'utf8')).valid).toBe(true);
  const timeline = JSON.parse(fs.readFileSync(path.join(dir, 'timeline.json'), 'utf8')) as TimelineEntry[];
  expect(timeline.filter((e) => e.phase === 'start').length).toBe(r.faults);
  for (const n of ['n1', 'n2', 'n3']) expect(fs.readFileSync(path.join(dir, 'logs', `${n}.log`), 'utf8')).toMatch(/Ready to accept connections/);
  expect(fs.readFileSync(path.join(dir, 'logs', 'seed.log'), 'utf8')).toMatch(/the seed n4 was removed and stopped/);
  const html = fs.readFileSync(path.join(dir, 'report.html'), 'utf8');
  expect(html.match(/<svg /g)).toHaveLength(2);
  expect(html.match(/<rect [^>]*fill-opacity="0.18"/g)).toHaveLength(2 * r.faults);
}, 120000);
