// One test run: start a shard, run the workloads' clients while the nemesis injects faults,
// heal everything, do the final reads, check the history, write the results folder:
//   history.jsonl   one event a line
//   timeline.json   the nemesis's fault windows
//   verdicts.json   the verdict of every checker, with the run's numbers
//   logs/n<i>.log   the nodes' output
//   report.html     throughput and latency over time with the fault windows shaded, the
//                   verdicts, the nemesis timeline and the logs' tails (src/report.ts)

import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client, LeaderHint, Target } from './client';
import { Cluster, ClusterOptions, sleep, within } from './cluster';
import { SearchLimits, Verdict } from './checkers';
import { History, pairOps, PairedOp } from './history';
import { writeReport } from './report';
import { Nemesis, NemesisName, NemesisOptions, TimelineEntry } from './nemesis';
import { Rng } from './rng';
import { makeWorkload, Workload, WorkloadName } from './workloads';

export interface RunOptions {
  workloads: WorkloadName[];
  nemeses: NemesisName[];
  timeSec: number;
  seed: number;
  /** Results folder (created); none: nothing written. */
  out?: string;
  /** Client processes per workload. */
  concurrency?: number;
  opTimeoutMs?: number;
  /** Pause between a process's operations, ms. */
  opDelayMs?: number;
  /** Where reads go: each process's home node (default; followers answer by ReadIndex) or the leader. */
  reads?: Target;
  /** Bounds on the linearizability search (past them a verdict is unknown). */
  checkLimits?: SearchLimits;
  cluster?: ClusterOptions;
  nemesis?: NemesisOptions;
  log?: (line: string) => void;
}

export interface RunResult {
  valid: boolean | 'unknown';
  verdicts: Verdict[];
  ops: number;
  faults: number;
  timeline: TimelineEntry[];
  seed: number;
}

export async function run(o: RunOptions): Promise<RunResult> {
  const log = o.log ?? ((l: string) => process.stdout.write(l + '\n'));
  if (o.out !== undefined) fs.mkdirSync(o.out, { recursive: true });
  const history = new History(o.out !== undefined ? path.join(o.out, 'history.jsonl') : undefined);
  const rng = new Rng(o.seed);
  const cluster = await Cluster.start({ ...o.cluster, membership: o.cluster?.membership ?? o.nemeses.includes('membership'), logDir: o.out !== undefined ? path.join(o.out, 'logs') : undefined });
  const concurrency = o.concurrency ?? 4;
  const hint = new LeaderHint();
  const nemesis = new Nemesis(cluster, history, o.nemeses, rng.fork(1000), o.nemesis);
  let timeline: TimelineEntry[] = [];
  let report: { ops: PairedOp[]; result: RunResult } | undefined;
  try {
    log(`jepsen-lite: seed ${o.seed}, workloads ${o.workloads.join(',')}, nemeses ${o.nemeses.join(',') || 'none'}, ${o.timeSec} s, reads at ${o.reads ?? 'home'}, ${cluster.size} nodes on ports ${cluster.nodes.map((n) => n.port).join(',')}${o.cluster?.extraArgs?.length ? ` (keel server ${o.cluster.extraArgs.join(' ')})` : ''}`);
    await within(cluster.findLeader(15000).then((l) => (l === undefined ? Promise.reject(new Error('no leader elected')) : l)), 20000, 'a first leader');
    const workloads: Workload[] = o.workloads.map((w) => makeWorkload(w, `jl${o.seed}:`, { reads: o.reads }));
    const total = concurrency * workloads.length;
    const clients: Array<{ client: Client; workload: Workload; rng: Rng }> = [];
    workloads.forEach((w, wi) => {
      for (let p = 0; p < concurrency; p++) {
        const proc = wi * concurrency + p;
        clients.push({ client: new Client(proc, total, cluster, history, hint, { opTimeoutMs: o.opTimeoutMs ?? 3000 }), workload: w, rng: rng.fork(proc) });
      }
    });
    history.startClock(); // time 0 in the history and the report: the workload starts
    const deadline = Date.now() + o.timeSec * 1000;
    const stop = () => Date.now() >= deadline;
    const delay = o.opDelayMs ?? 5;
    const runs = clients.map(async ({ client, workload, rng: r }) => {
      while (!stop()) {
        await workload.op(client, r);
        if (delay > 0) await sleep(r.int(0, delay * 2));
      }
    });
    const nem = nemesis.run(stop);
    await within(Promise.all([...runs, nem]), o.timeSec * 1000 + 30000, 'the clients and the nemesis to stop');
    log(`jepsen-lite: healing; ${nemesis.faults} faults injected`);
    const t0 = Date.now();
    await cluster.healAll();
    await sleep(1000);
    // Final reads: each workload's, retried until one succeeds (bounded).
    for (const w of workloads) {
      const c = clients.find((x) => x.workload === w)!.client;
      const end = Date.now() + 30000;
      while (Date.now() < end && !(await w.finalOps(c))) await sleep(200);
    }
    for (const c of clients) c.client.close();
    timeline = nemesis.timeline;
    await history.close();
    // The nodes are not needed to check: stop them first (a long check holds no processes, and
    // their logs are complete for the report).
    await cluster.close();
    const t1 = Date.now();
    const ops = pairOps(history.events);
    const verdicts = workloads.map((w) => w.check(ops, o.checkLimits));
    log(`jepsen-lite: healed and read in ${t1 - t0} ms, checked in ${Date.now() - t1} ms`);
    const valid: boolean | 'unknown' = verdicts.some((v) => v.valid === false) ? false : verdicts.some((v) => v.valid === 'unknown') ? 'unknown' : true;
    const result: RunResult = { valid, verdicts, ops: ops.length, faults: nemesis.faults, timeline, seed: o.seed };
    if (o.out !== undefined) {
      fs.writeFileSync(path.join(o.out, 'verdicts.json'), JSON.stringify({ seed: o.seed, workloads: o.workloads, nemeses: o.nemeses, timeSec: o.timeSec, valid, ops: ops.length, faults: nemesis.faults, verdicts }, null, 2));
      fs.writeFileSync(path.join(o.out, 'timeline.json'), JSON.stringify(timeline, null, 2));
    }
    for (const v of verdicts) {
      const stats = Object.entries(v.stats).map(([k, n]) => `${k}=${n}`).join(' ');
      log(`  ${v.checker.padEnd(9)} ${v.valid === true ? 'valid' : v.valid === false ? 'INVALID' : 'unknown'}  ${stats}${v.note ? `  (${v.note})` : ''}`);
      for (const a of v.anomalies.slice(0, 5)) log(`    ${a.kind}${a.key ? ` ${a.key}` : ''}: ${a.message}`);
    }
    log(`jepsen-lite: ${ops.length} operations, ${nemesis.faults} faults, verdict ${valid === true ? 'valid' : valid === false ? 'INVALID' : 'unknown'}`);
    report = { ops, result };
  } finally {
    // On a harness error too: what happened so far.
    if (o.out !== undefined && timeline.length === 0) fs.writeFileSync(path.join(o.out, 'timeline.json'), JSON.stringify(nemesis.timeline, null, 2));
    await history.close().catch(() => {});
    await cluster.close();
  }
  if (o.out !== undefined) {
    const file = writeReport(o.out, {
      title: `jepsen-lite ${o.workloads.join(',')} seed ${o.seed}`,
      meta: { seed: o.seed, workloads: o.workloads.join(', '), nemeses: o.nemeses.join(', ') || 'none', 'time (s)': o.timeSec, reads: o.reads ?? 'home', operations: report.ops.length, faults: report.result.faults, 'keel server args': (o.cluster?.extraArgs ?? []).join(' ') || '(none)' },
      valid: report.result.valid,
      ops: report.ops,
      timeline: report.result.timeline,
      verdicts: report.result.verdicts,
      // Logs are by slot (n<i>.log: whichever nodes were in slot i); seed.log: a membership run's seed.
      logs: [...Array.from({ length: o.cluster?.nodes ?? 3 }, (_, i) => `logs/n${i + 1}.log`), ...(fs.existsSync(path.join(o.out, 'logs', 'seed.log')) ? ['logs/seed.log'] : [])],
    });
    log(`jepsen-lite: report in ${file}`);
  }
  return report.result;
}
