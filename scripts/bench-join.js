#!/usr/bin/env node
// A new node joins a 3-node shard holding N keys (default 1M): the time `keel cluster
// add-node` takes (learner, snapshot streamed, catch-up, promotion to voter), the snapshot's
// size, and a digest of every node's state afterwards (all must be equal).
// Usage: node scripts/bench-join.js [--keys 1000000]   (build first: npx tsc --build)
const { joinLoadedShard } = require('../packages/cli/dist/test/membership-util');
const { killAll, removeDirs } = require('../packages/cli/dist/test/durability-util');

const i = process.argv.indexOf('--keys');
const keys = i > 0 ? Number(process.argv[i + 1]) : 1_000_000;
const t0 = Date.now();
const log = (line) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1)} s] ${line}`);
joinLoadedShard(keys, log)
  .then((r) => {
    const same = r.digests.every((d) => d === r.digests[0]);
    console.log(JSON.stringify(r, null, 2));
    console.log(`${keys} keys: add-node ${r.addNodeMs} ms, snapshot ${(r.snapshotBytes / 1e6).toFixed(1)} MB, voters ${r.voters}, digests ${same ? 'all equal' : 'DIFFER'}`);
    process.exitCode = same ? 0 : 1;
  })
  .catch((e) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(() => {
    killAll();
    if (!process.env.KEEP) removeDirs();
  });
