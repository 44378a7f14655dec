#!/usr/bin/env node
// jepsen-lite run --workload register|set|counter|list-append|all --nemesis kill,pause,partition,transfer,slow,membership|all|none
//                 --time 30 --seed 7 --out results/ [--concurrency 4] [--reads home|leader]
//                 [--check-time 60] [--nodes 3] [--server-args "--flag value ..."]
// Prints the verdict per checker and writes the results folder; exits 1 on any anomaly,
// 2 if a verdict is unknown (and no anomaly), 3 on a harness error.

import { run } from './run';
import { NEMESES, NemesisName } from './nemesis';
import { WORKLOADS, WorkloadName } from './workloads';

function usage(msg?: string): never {
  if (msg) process.stderr.write(`jepsen-lite: ${msg}\n`);
  process.stderr.write(
    'usage: jepsen-lite run --workload register|set|counter|list-append|all (comma-separated) --nemesis kill,pause,partition,transfer,slow,membership|all|none\n' +
      '                       --time 30 --seed 7 --out results/ [--concurrency 4] [--reads home|leader] [--check-time 60]\n' +
      '                       [--nodes 3] [--server-args "--extra keel server arguments"]\n',
  );
  process.exit(3);
}

function parseArgs(argv: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) usage(`unexpected argument '${a}'`);
    const eq = a.indexOf('=');
    if (eq > 0) out[a.slice(2, eq)] = a.slice(eq + 1);
    else {
      const v = argv[i + 1];
      if (v === undefined || v.startsWith('--')) usage(`${a} needs a value`);
      out[a.slice(2)] = v;
      i++;
    }
  }
  return out;
}

async function main(): Promise<void> {
  const [cmd, ...rest] = process.argv.slice(2);
  if (cmd !== 'run') usage(cmd === undefined ? undefined : `unknown command '${cmd}'`);
  const a = parseArgs(rest);
  const wl = a['workload'] ?? 'all';
  const workloads = (wl === 'all' ? [...WORKLOADS] : wl.split(',')) as WorkloadName[];
  for (const w of workloads) if (!WORKLOADS.includes(w)) usage(`unknown workload '${w}'`);
  const nm = a['nemesis'] ?? 'kill,pause,partition';
  const nemeses = (nm === 'none' || nm === '' ? [] : nm === 'all' ? [...NEMESES] : nm.split(',')) as NemesisName[];
  for (const n of nemeses) if (!NEMESES.includes(n)) usage(`unknown nemesis '${n}'`);
  const timeSec = Number(a['time'] ?? 30);
  const seed = Number(a['seed'] ?? Date.now() % 100000);
  if (!(timeSec > 0) || !Number.isSafeInteger(seed)) usage('--time and --seed are numbers');
  const out = a['out'] ?? `results/${new Date().toISOString().replace(/[:.]/g, '-')}-seed${seed}`;
  const concurrency = a['concurrency'] !== undefined ? Number(a['concurrency']) : undefined;
  const reads = a['reads'] ?? 'home';
  if (reads !== 'home' && reads !== 'leader') usage('--reads is home or leader');
  const checkTimeSec = Number(a['check-time'] ?? 60);
  if (!(checkTimeSec > 0)) usage('--check-time is a number of seconds');
  const nodes = Number(a['nodes'] ?? 3);
  if (!Number.isSafeInteger(nodes) || nodes < 3 || nodes > 9) usage('--nodes is between 3 and 9');
  const extraArgs = (a['server-args'] ?? '').split(' ').filter((x) => x !== '');
  const result = await run({ workloads, nemeses, timeSec, seed, out, concurrency, reads, checkLimits: { timeLimitMs: checkTimeSec * 1000 }, cluster: { nodes, extraArgs } });
  process.stdout.write(`results in ${out}\n`);
  process.exit(result.valid === false ? 1 : result.valid === 'unknown' ? 2 : 0);
}

// Cluster registers an exit hook that SIGKILLs its nodes; make signals go through exit.
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(130));

main().catch((e: Error) => {
  process.stderr.write(`jepsen-lite: ${e.stack ?? e.message}\n`);
  process.exit(3);
});
