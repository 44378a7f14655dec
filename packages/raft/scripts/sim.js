#!/usr/bin/env node
// Runs the Raft simulator (build first: npx tsc --build packages/raft).
//   node packages/raft/scripts/sim.js --seed 42 [--trace] [--steps 3000]
//   node packages/raft/scripts/sim.js --seeds 500 [--first 1]
'use strict';
const { runSimulation, SimFailure, DEFAULT_STEPS } = require(process.env.KEEL_SIM_DIST ? `${process.env.KEEL_SIM_DIST}/test/sim/sim.js` : '../dist/test/sim/sim.js');

function arg(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = process.argv[i + 1];
  return v === undefined || v.startsWith('--') ? true : v;
}

const steps = Number(arg('steps', DEFAULT_STEPS));
const trace = arg('trace', false) === true;
const single = arg('seed', undefined);
const seeds = single !== undefined ? [Number(single)] : [];
if (single === undefined) {
  const n = Number(arg('seeds', 100));
  const first = Number(arg('first', 1));
  for (let s = first; s < first + n; s++) seeds.push(s);
}
let failed = 0;
const t0 = Date.now();
for (const seed of seeds) {
  try {
    const r = runSimulation({ seed, steps, trace });
    if (seeds.length === 1 || trace) console.log(JSON.stringify(r));
  } catch (e) {
    failed++;
    console.error(e instanceof SimFailure ? e.message : `seed ${seed}: ${e && e.stack}`);
  }
}
console.log(`${seeds.length - failed}/${seeds.length} seeds passed in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
process.exit(failed > 0 ? 1 : 0);
