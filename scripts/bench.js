#!/usr/bin/env node
// Throughput and latency of Keel next to redis-server, in the same run (issue 2, section 6).
//
//   node scripts/bench.js [--quick] [--repeats R] [--requests N] [--pipelines 1,16]
//                         [--tests ping,set,get,incr,mset] [--clients C] [--json FILE]
//
// Starts redis-server and Keel on free loopback ports, runs
//   redis-benchmark -h 127.0.0.1 -p P -c 50 -n N -t ping,set,get,incr,mset --csv [-P 16]
// R times per pipeline depth, alternating which server goes first, and prints the medians:
// ops/s, the ratio Keel/Redis, and p50/p99 latency (ms) for both.
// N defaults to 100000 without pipelining and 1000000 with it (--quick: 20000 and 200000).
// KEEL_TARGET=redis benchmarks redis-server against itself (checks the script).
// Needs a build first (npm run bench builds, then runs this).
'use strict';

const { spawn, execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const harnessPath = path.join(__dirname, '..', 'packages', 'server', 'dist', 'test', 'harness.js');
let h;
try {
  h = require(harnessPath);
} catch (err) {
  console.error(`cannot load ${harnessPath}: run "npx tsc --build" first (${err.message})`);
  process.exit(2);
}

function parseArgs(argv) {
  const o = { quick: false, repeats: 3, requests: undefined, pipelines: [1, 16], tests: 'ping,set,get,incr,mset', clients: 50, json: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--quick') o.quick = true;
    else if (a === '--repeats') o.repeats = Number(val());
    else if (a === '--requests') o.requests = Number(val());
    else if (a === '--pipelines') o.pipelines = val().split(',').map(Number);
    else if (a === '--tests') o.tests = val();
    else if (a === '--clients') o.clients = Number(val());
    else if (a === '--json') o.json = val();
    else if (a === '--help' || a === '-h') {
      console.log(fs.readFileSync(__filename, 'utf8').split('\n').slice(1, 14).join('\n'));
      process.exit(0);
    } else throw new Error(`unknown option ${a}`);
  }
  if (!(o.repeats >= 1) || o.pipelines.some((p) => !(p >= 1))) throw new Error('bad --repeats or --pipelines');
  return o;
}

function requestsFor(o, pipeline) {
  if (o.requests) return o.requests;
  const base = o.quick ? 20000 : 100000;
  return pipeline > 1 ? base * 10 : base;
}

/** Runs redis-benchmark (bounded) and returns rows { test, rps, p50, p99 } from its CSV. */
function runBenchmark(port, o, pipeline) {
  const n = requestsFor(o, pipeline);
  const args = ['-h', h.HOST, '-p', String(port), '-c', String(o.clients), '-n', String(n), '-t', o.tests, '--csv'];
  if (pipeline > 1) args.push('-P', String(pipeline));
  return new Promise((resolve, reject) => {
    const proc = spawn('redis-benchmark', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`redis-benchmark ${args.join(' ')} timed out`));
    }, 600000);
    proc.stdout.on('data', (d) => { out += d; });
    proc.stderr.on('data', (d) => { err += d; });
    proc.on('error', (e) => { clearTimeout(timer); reject(e); });
    proc.on('close', (code) => {
      clearTimeout(timer);
      const rows = parseCsv(out);
      if (code !== 0 || rows.length === 0) {
        reject(new Error(`redis-benchmark ${args.join(' ')} exited ${code}:\n${out}\n${err}`));
      } else resolve(rows);
    });
  });
}

function parseCsv(text) {
  const lines = text.split('\n').filter((l) => l.startsWith('"'));
  if (lines.length === 0) return [];
  const cols = lines[0].split(',').map((c) => c.replace(/"/g, ''));
  const at = (name) => cols.indexOf(name);
  const rows = [];
  for (const line of lines.slice(1)) {
    const f = line.match(/"([^"]*)"/g).map((c) => c.slice(1, -1));
    rows.push({ test: f[at('test')], rps: Number(f[at('rps')]), p50: Number(f[at('p50_latency_ms')]), p99: Number(f[at('p99_latency_ms')]) });
  }
  return rows;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function machine() {
  const cpus = os.cpus();
  let redisVersion = '?';
  try {
    redisVersion = execFileSync('redis-server', ['--version']).toString().match(/v=(\S+)/)[1];
  } catch { /* keep ? */ }
  return `${cpus.length} x ${cpus[0] ? cpus[0].model : '?'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ` +
    `${os.type()} ${os.release()}, Node ${process.version}, redis-server ${redisVersion}`;
}

function printTable(results, o) {
  const header = ['test', 'P', 'redis ops/s', 'keel ops/s', 'keel/redis', 'redis p50/p99 ms', 'keel p50/p99 ms'];
  const rows = [];
  for (const pipeline of o.pipelines) {
    const names = [...new Set(results.redis[pipeline].flat().map((r) => r.test))];
    for (const test of names) {
      const pick = (side) => results[side][pipeline].map((run) => run.find((r) => r.test === test)).filter(Boolean);
      const r = pick('redis');
      const k = pick('keel');
      if (r.length === 0 || k.length === 0) continue;
      const rr = median(r.map((x) => x.rps));
      const kr = median(k.map((x) => x.rps));
      rows.push({
        test, pipeline, redisRps: rr, keelRps: kr, ratio: kr / rr,
        redisP50: median(r.map((x) => x.p50)), redisP99: median(r.map((x) => x.p99)),
        keelP50: median(k.map((x) => x.p50)), keelP99: median(k.map((x) => x.p99)),
      });
    }
  }
  const cells = rows.map((x) => [
    x.test, String(x.pipeline), Math.round(x.redisRps).toString(), Math.round(x.keelRps).toString(), x.ratio.toFixed(2),
    `${x.redisP50.toFixed(3)} / ${x.redisP99.toFixed(3)}`, `${x.keelP50.toFixed(3)} / ${x.keelP99.toFixed(3)}`,
  ]);
  const widths = header.map((hd, i) => Math.max(hd.length, ...cells.map((c) => c[i].length)));
  const line = (c) => '| ' + c.map((x, i) => (i === 0 ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join(' | ') + ' |';
  console.log(line(header));
  console.log('|' + widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|') + '|');
  for (const c of cells) console.log(line(c));
  return rows;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const spec = h.targetSpec();
  if (spec === h.keelSpec && !h.keelBuilt()) throw new Error(`${h.keelMain} not found: build first (npx tsc --build)`);
  const servers = {};
  const cleanup = () => h.stopAll(servers.redis, servers.keel);
  process.on('SIGINT', () => { cleanup().finally(() => process.exit(130)); });
  try {
    servers.redis = await h.startServer(h.redisSpec);
    servers.keel = await h.startServer(spec);
    console.log(`machine: ${machine()}`);
    console.log(`redis-server pid ${servers.redis.pid} port ${servers.redis.port}; ${spec.name} pid ${servers.keel.pid} port ${servers.keel.port}`);
    console.log(`redis-benchmark -c ${o.clients} -t ${o.tests}, ${o.repeats} repeat(s), medians\n`);
    const results = { redis: {}, keel: {} };
    for (const p of o.pipelines) { results.redis[p] = []; results.keel[p] = []; }
    for (let rep = 0; rep < o.repeats; rep++) {
      for (const p of o.pipelines) {
        const order = rep % 2 === 0 ? ['redis', 'keel'] : ['keel', 'redis'];
        for (const side of order) {
          process.stderr.write(`run ${rep + 1}/${o.repeats} -P ${p} ${side} (-n ${requestsFor(o, p)})...\n`);
          results[side][p].push(await runBenchmark(servers[side].port, o, p));
          if (servers[side].exited()) throw new Error(`${side} exited:\n${servers[side].output()}`);
        }
      }
    }
    const rows = printTable(results, o);
    if (o.json) fs.writeFileSync(o.json, JSON.stringify({ machine: machine(), options: o, rows, raw: results }, null, 2));
    return 0;
  } finally {
    await cleanup();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err && err.stack ? err.stack : err);
    process.exit(1);
  },
);
