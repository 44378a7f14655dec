#!/usr/bin/env node
// Append throughput and latency of DurableStorage per fsync policy, entry size and number
// of concurrent appenders (each awaits its persist() before the next: like clients waiting
// for their reply). Shows group commit: with 'always', one fsync covers every append that
// arrived while the previous fsync ran, so throughput grows with concurrency.
//
//   node packages/wal/scripts/bench.js [--seconds 2] [--dir /path/on/the/disk/to/test]
//        [--policies always,everysec,no] [--sizes 4096,100] [--concurrency 1,10,100]

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { performance } = require('node:perf_hooks');
const { DurableStorage, writeSnapshotFile, SnapshotReader } = require('../dist/src');

function arg(name, def) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
}

const seconds = Number(arg('seconds', '2'));
const baseDir = arg('dir', os.tmpdir());
const policies = arg('policies', 'always,everysec,no').split(',');
const sizes = arg('sizes', '4096,100').split(',').map(Number);
const concurrencies = arg('concurrency', '1,10,100').split(',').map(Number);
const snapshotMb = Number(arg('snapshot-mb', '64'));

function pct(sorted, p) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function run(policy, size, conc) {
  const dir = fs.mkdtempSync(path.join(baseDir, 'keel-wal-bench-'));
  const s = await DurableStorage.open(dir, { fsync: policy });
  const data = new Uint8Array(size).fill(7);
  let next = 1;
  const lat = [];
  const deadline = performance.now() + seconds * 1000;
  async function appender() {
    while (performance.now() < deadline) {
      const index = next++;
      const t0 = performance.now();
      await s.persist({ entries: [{ index, term: 1, type: 'normal', data }], hardState: { term: 1, vote: 1, commit: index - 1 } });
      lat.push(performance.now() - t0);
    }
  }
  const t0 = performance.now();
  await Promise.all(Array.from({ length: conc }, appender));
  const secs = (performance.now() - t0) / 1000;
  const { batches, syncs, syncMsTotal } = s.stats;
  await s.close();
  fs.rmSync(dir, { recursive: true, force: true });
  lat.sort((a, b) => a - b);
  return {
    policy,
    size,
    conc,
    perSec: Math.round(lat.length / secs),
    p50: pct(lat, 50),
    p99: pct(lat, 99),
    perBatch: lat.length / Math.max(1, batches),
    syncs,
    syncMs: syncs ? syncMsTotal / syncs : 0,
  };
}

/** Writes and reads back a snapshot file, reporting throughput and the longest event-loop gap. */
async function snapshotStall() {
  const dir = fs.mkdtempSync(path.join(baseDir, 'keel-wal-bench-snap-'));
  let last = performance.now();
  let maxGap = 0;
  const probe = setInterval(() => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
  }, 1);
  async function* chunks() {
    const c = Buffer.alloc(256 * 1024, 0x5a);
    for (let i = 0; i < snapshotMb * 4; i++) yield c;
  }
  const meta = { index: 1, term: 1, confState: { voters: [1], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false } };
  const t0 = performance.now();
  const f = await writeSnapshotFile(dir, meta, chunks());
  const t1 = performance.now();
  const writeGap = maxGap;
  maxGap = 0;
  last = performance.now();
  const r = await SnapshotReader.open(f.path);
  for await (const _ of r.chunks());
  const t2 = performance.now();
  clearInterval(probe);
  fs.rmSync(dir, { recursive: true, force: true });
  console.log(
    `snapshot file ${snapshotMb} MiB: write+fsync ${(snapshotMb / ((t1 - t0) / 1000)).toFixed(0)} MiB/s (longest event-loop gap ${writeGap.toFixed(1)} ms), ` +
      `verified read ${(snapshotMb / ((t2 - t1) / 1000)).toFixed(0)} MiB/s (longest gap ${maxGap.toFixed(1)} ms)`,
  );
}

(async () => {
  console.log(`DurableStorage append benchmark: ${seconds}s per row, dir ${baseDir}, node ${process.version}, ${os.cpus().length} cpus`);
  console.log('policy    entry  appenders  appends/s   p50 ms   p99 ms  appends/batch   fsyncs  ms/fsync');
  for (const size of sizes) {
    for (const policy of policies) {
      for (const conc of concurrencies) {
        const r = await run(policy, size, conc);
        console.log(
          `${r.policy.padEnd(9)} ${String(r.size).padStart(5)}  ${String(r.conc).padStart(9)}  ${String(r.perSec).padStart(9)}  ${r.p50.toFixed(3).padStart(7)}  ${r.p99.toFixed(3).padStart(7)}  ${r.perBatch.toFixed(1).padStart(13)}  ${String(r.syncs).padStart(7)}  ${r.syncMs.toFixed(3).padStart(8)}`,
        );
      }
    }
  }
  if (snapshotMb > 0) await snapshotStall();
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
