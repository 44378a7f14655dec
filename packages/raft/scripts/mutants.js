#!/usr/bin/env node
// Mutation testing of the simulator: copies the built package (dist/) to a temporary
// directory, breaks one rule of the algorithm in the copy, and counts the seeds in which the
// simulator notices. The source tree is never touched. Build first:
//   npx tsc --build packages/raft
//   node packages/raft/scripts/mutants.js [--seeds 200] [--first 1] [--only figure8]
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

// Each mutant replaces one exact piece of compiled JavaScript (found exactly once).
const MUTANTS = [
  {
    name: 'figure8',
    what: 'commit any index a quorum holds, not only an entry of the current term (paper Figure 8)',
    file: 'src/log.js',
    from: 'this.zeroTermOnOutOfBounds(maxIndex) === term',
    to: 'this.zeroTermOnOutOfBounds(maxIndex) !== 0',
  },
  {
    name: 'vote-not-persisted',
    what: 'the vote is not part of the persisted hard state (a crash forgets it)',
    file: 'src/raft.js',
    from: 'return { term: this.term, vote: this.vote, commit: this.raftLog.committed };',
    to: 'return { term: this.term, vote: 0, commit: this.raftLog.committed };',
  },
  {
    name: 'stale-append',
    what: 'a MsgApp of a stale term is not rejected',
    file: 'src/raft.js',
    from: 'else if (m.term < this.term) {',
    to: "else if (m.term < this.term && m.type !== 'MsgApp') {",
  },
  {
    name: 'read-no-heartbeat',
    what: 'ReadIndex answered from the commit index without the heartbeat round',
    file: 'src/raft.js',
    from: "if (this.readOnlyOption === 'leaseBased' && this.leaseValid()) {",
    to: 'if (true) {',
  },
  {
    name: 'lease-etcd-guard',
    what: "lease mode with only etcd's vote guard (no guard after restart or after learning a higher term)",
    file: 'src/raft.js',
    from: '|| this.leaseGuardTicks > 0;',
    to: '|| false;',
    simArgs: { lease: true },
  },
  {
    name: 'lease-no-transfer-revoke',
    what: 'lease still used after sending MsgTimeoutNow',
    file: 'src/raft.js',
    from: 'this.leaseRevoked = true;',
    to: 'this.leaseRevoked = false;',
    simArgs: { lease: true, transferRate: 0.01 },
  },
];

function arg(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? dflt : process.argv[i + 1];
}

const seeds = Number(arg('seeds', 200));
const first = Number(arg('first', 1));
const only = arg('only', undefined);
const dist = path.join(__dirname, '..', 'dist');

function copyDir(src, dst) {
  fs.mkdirSync(dst, { recursive: true });
  for (const e of fs.readdirSync(src, { withFileTypes: true })) {
    const s = path.join(src, e.name);
    const d = path.join(dst, e.name);
    if (e.isDirectory()) copyDir(s, d);
    else fs.copyFileSync(s, d);
  }
}

// The child: runs the seeds against a (mutated) dist and prints one JSON line.
if (process.argv[2] === '--child') {
  const [, , , mdist, a, b, simArgs] = process.argv;
  const { runSimulation } = require(path.join(mdist, 'test/sim/sim.js'));
  const caught = [];
  for (let seed = Number(a); seed < Number(b); seed++) {
    try {
      runSimulation({ seed, ...JSON.parse(simArgs) });
    } catch (e) {
      caught.push({ seed, why: String(e && e.message).split('\n')[0].slice(0, 160) });
    }
  }
  process.stdout.write(JSON.stringify(caught));
  process.exit(0);
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'keel-mutants-'));
let exit = 0;
try {
  for (const m of MUTANTS) {
    if (only && only !== m.name) continue;
    const mdist = path.join(tmp, m.name, 'dist');
    copyDir(dist, mdist);
    const file = path.join(mdist, m.file);
    const src = fs.readFileSync(file, 'utf8');
    const n = src.split(m.from).length - 1;
    if (n !== 1) {
      console.error(`${m.name}: pattern found ${n} times in ${m.file}; update scripts/mutants.js`);
      exit = 2;
      continue;
    }
    fs.writeFileSync(file, src.replace(m.from, m.to));
    const t0 = Date.now();
    const r = spawnSync(process.execPath, [__filename, '--child', mdist, String(first), String(first + seeds), JSON.stringify(m.simArgs ?? {})], {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    if (r.status !== 0) {
      console.error(`${m.name}: child failed: ${r.stderr}`);
      exit = 2;
      continue;
    }
    const caught = JSON.parse(r.stdout);
    const args = m.simArgs ? ` (sim ${JSON.stringify(m.simArgs)})` : '';
    console.log(`${m.name}: caught in ${caught.length}/${seeds} seeds${args} [${((Date.now() - t0) / 1000).toFixed(1)}s] — ${m.what}`);
    for (const c of caught.slice(0, 3)) console.log(`    e.g. ${c.why}`);
  }
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
process.exit(exit);
