// Runs the deterministic simulator over a bounded number of seeds. Longer campaigns:
// `node packages/raft/scripts/sim.js --seeds 500` (or KEEL_SIM_LONG=1 here).

import { runSimulation } from './sim/sim';

const long = process.env.KEEL_SIM_LONG === '1';
const seeds = long ? 500 : 100;
const first = Number(process.env.KEEL_SIM_FIRST_SEED ?? 1);

describe('simulation', () => {
  it(`${seeds} seeds keep every safety invariant and a linearizable history`, () => {
    let committed = 0;
    let ops = 0;
    for (let seed = first; seed < first + seeds; seed++) {
      const r = runSimulation({ seed, steps: long ? 6000 : 2000 });
      committed += r.committed;
      ops += r.ops;
    }
    expect(committed).toBeGreaterThan(seeds * 10);
    expect(ops).toBeGreaterThan(seeds * 10);
  }, 600_000);

  it('replays a seed exactly', () => {
    const a = runSimulation({ seed: 7, steps: 800 });
    const b = runSimulation({ seed: 7, steps: 800 });
    expect(b).toEqual(a);
  });
});
