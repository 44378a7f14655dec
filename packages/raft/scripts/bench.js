#!/usr/bin/env node
// Entries committed per second by a 3-node in-process group with MemoryStorage and
// instant delivery (build first: npx tsc --build packages/raft).
//   node packages/raft/scripts/bench.js [--entries 200000] [--batch 256] [--size 64]
'use strict';
const { RawNode, MemoryStorage, confStateOf, seededRandom } = require('../dist/src');

function arg(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? dflt : Number(process.argv[i + 1]);
}

function run(total, batch, size) {
  const nodes = [1, 2, 3].map((id) => {
    const storage = new MemoryStorage();
    storage.applySnapshot({ metadata: { index: 1, term: 1, confState: confStateOf([1, 2, 3]) }, data: new Uint8Array(0) });
    const raw = new RawNode({ id, electionTimeoutTicks: 10, heartbeatTimeoutTicks: 1, storage, random: seededRandom(id), maxInflightMsgs: 256, maxSizePerMsgBytes: 1 << 20 });
    return { id, storage, raw };
  });
  const queue = [];
  let applied = 0;
  const pump = () => {
    for (let progress = true; progress; ) {
      progress = false;
      for (const n of nodes) {
        if (!n.raw.hasReady()) continue;
        progress = true;
        const rd = n.raw.ready();
        n.storage.append(rd.entries);
        if (rd.hardState) n.storage.setHardState(rd.hardState);
        for (const m of rd.messages) queue.push(m);
        if (n.id === 1) applied += rd.committedEntries.length;
        n.raw.advance();
      }
      while (queue.length > 0) {
        progress = true;
        const m = queue.shift();
        nodes[m.to - 1].raw.step(m);
      }
    }
  };
  nodes[0].raw.campaign();
  pump();
  applied = 0;
  const payload = new Uint8Array(size);
  const t0 = process.hrtime.bigint();
  let proposed = 0;
  while (proposed < total) {
    if (batch === 1) {
      nodes[0].raw.propose(payload);
      proposed++;
    } else {
      const datas = [];
      for (let i = 0; i < batch; i++) datas.push(payload);
      nodes[0].raw.proposeBatch(datas);
      proposed += batch;
    }
    pump();
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  // Keep memory bounded in long runs: not needed for the default sizes.
  return { entries: applied, secs, perSec: Math.round(applied / secs) };
}

const total = arg('entries', 200000);
const size = arg('size', 64);
for (const batch of [1, arg('batch', 256)]) {
  const r = run(batch === 1 ? Math.min(total, 50000) : total, batch, size);
  console.log(`batch=${batch} size=${size}B: ${r.entries} entries in ${r.secs.toFixed(2)}s = ${r.perSec.toLocaleString('en-US')} entries/s`);
}
