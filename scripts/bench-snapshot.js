#!/usr/bin/env node
// The longest event-loop stall while snapshotting N keys (default 1M): the synchronous capture,
// then each 64 KiB slice. Writes keep being applied between slices, as on a live node.
// Usage: node scripts/bench-snapshot.js [--keys 1000000]
const { Engine, engineCommands, SnapshotJob, SnapshotLoader } = require('../packages/engine');
const { ReplyWriter } = require('../packages/resp');

const n = Number(process.argv[process.argv.indexOf('--keys') + 1]) || 1_000_000;
const e = new Engine(engineCommands());
const out = new ReplyWriter();
const client = { id: 1, db: 0, inExec: false };
const now = Date.now();
for (let i = 0; i < n; i++) {
  e.apply({ kind: 'command', db: 0, argv: ['SET', `key:${String(i).padStart(12, '0')}`, 'v'.repeat(32)] }, out, now, 1, client);
  if (out.length > 1 << 20) out.take();
}
out.take();
const t0 = performance.now();
const job = new SnapshotJob(e);
let maxSliceMs = 0;
let slices = 0;
const parts = [];
for (;;) {
  const s = performance.now();
  const c = job.next();
  const d = performance.now() - s;
  if (c === null) break;
  maxSliceMs = Math.max(maxSliceMs, d);
  (global.sliceTimes ??= []).push(d);
  slices++;
  parts.push(c);
  // a write between slices, as the node keeps applying
  e.apply({ kind: 'command', db: 0, argv: ['SET', `key:${String(slices % n).padStart(12, '0')}`, 'w'] }, out, now, 1, client);
  out.take();
}
const totalMs = performance.now() - t0;
if (process.env.SLICES) { const st = global.sliceTimes.map((x, i) => [x, i]).sort((a, b) => b[0] - a[0]).slice(0, 6); console.log("slowest slices (ms, index):", st.map(([x, i]) => `${x.toFixed(1)}@${i}`).join(" ")); }
const bytes = parts.reduce((a, b) => a + b.length, 0);
const r0 = performance.now();
const loader = new SnapshotLoader(new Engine(engineCommands()));
for (const p of parts) loader.push(p);
loader.finish();
const restoreMs = performance.now() - r0;
console.log(`| keys | capture (ms) | longest slice (ms) | slices | total (ms) | bytes | restore (ms) |`);
console.log(`| --- | --- | --- | --- | --- | --- | --- |`);
console.log(`| ${n} | ${job.stats.captureMs.toFixed(1)} | ${maxSliceMs.toFixed(1)} | ${slices} | ${totalMs.toFixed(0)} | ${bytes} | ${restoreMs.toFixed(0)} |`);
