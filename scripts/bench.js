#!/usr/bin/env node
// Throughput and latency of Keel next to redis-server, in the same run (issues 2 and 3).
//
//   node scripts/bench.js [--quick] [--repeats R] [--requests N] [--pipelines 1,16]
//                         [--tests ping,set,...] [--clients C] [--servers LIST] [--json FILE]
//
// Starts the servers on free loopback ports, runs
//   redis-benchmark -h 127.0.0.1 -p P -c 50 -n N -t TESTS --csv [-P 16]
// R times per pipeline depth, rotating which server goes first, and prints the medians:
// ops/s, ratios, and p50/p99 latency (ms).
// Servers (--servers, comma separated; default all four):
//   redis         redis-server --appendonly no (in memory)
//   redis-always  redis-server --appendonly yes --appendfsync always (every write fsync'd)
//   keel          keel server (a durable Raft node: --appendfsync always, the default)
//   keel-nofsync  keel server --appendfsync no (the log is written, never fsync'd: the
//                 in-memory comparison with "redis")
// Ratios: keel-nofsync/redis (the engine and protocol) and keel/redis-always (durable writes).
// Tests (redis-benchmark -t names): ping,set,get,incr,mset (issue 2) and lpush,rpush,lpop,rpop,
// sadd,hset,spop,zadd,zpopmin,lrange_100 (issue 3). Default: all of them.
// N defaults to 100000 without pipelining and 1000000 with it (--quick: 20000 and 200000).
// KEEL_TARGET=redis benchmarks redis-server in place of Keel (checks the script).
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

const DEFAULT_TESTS = 'ping,set,get,incr,mset,lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,zpopmin,lrange_100';

/** The servers that can be benchmarked: a spec (from the harness) and extra arguments. */
const SERVERS = {
  redis: { label: 'redis', spec: () => h.redisSpec, extraArgs: [] },
  'redis-always': { label: 'redis aof always', spec: () => h.redisSpec, extraArgs: ['--appendonly', 'yes', '--appendfsync', 'always'] },
  keel: { label: 'keel fsync always', spec: () => h.targetSpec(), extraArgs: [] },
  'keel-nofsync': { label: 'keel fsync no', spec: () => h.targetSpec(), extraArgs: ['--appendfsync', 'no'] },
};

function parseArgs(argv) {
  const o = {
    quick: false, repeats: 3, requests: undefined, pipelines: [1, 16], tests: DEFAULT_TESTS, clients: 50, json: undefined,
    servers: Object.keys(SERVERS),
  };
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
    else if (a === '--servers') o.servers = val().split(',');
    else if (a === '--help' || a === '-h') {
      console.log(fs.readFileSync(__filename, 'utf8').split('\n').slice(1, 24).join('\n'));
      process.exit(0);
    } else throw new Error(`unknown option ${a}`);
  }
  if (!(o.repeats >= 1) || o.pipelines.some((p) => !(p >= 1))) throw new Error('bad --repeats or --pipelines');
  for (const name of o.servers) if (!SERVERS[name]) throw new Error(`unknown server ${name} (${Object.keys(SERVERS).join(', ')})`);
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
  const names = o.servers;
  const ratios = [];
  if (names.includes('redis') && names.includes('keel-nofsync')) ratios.push(['keel-nofsync', 'redis', 'nofsync/redis']);
  if (names.includes('redis-always') && names.includes('keel')) ratios.push(['keel', 'redis-always', 'always/always']);
  if (ratios.length === 0 && names.length >= 2) ratios.push([names[1], names[0], `${names[1]}/${names[0]}`]);
  const header = ['test', 'P', ...names.map((n) => `${SERVERS[n].label} ops/s`), ...ratios.map((r) => r[2]),
    ...names.map((n) => `${n} p50/p99 ms`)];
  const rows = [];
  for (const pipeline of o.pipelines) {
    const tests = [...new Set(results[names[0]][pipeline].flat().map((r) => r.test))];
    for (const test of tests) {
      const row = { test, pipeline, servers: {} };
      for (const n of names) {
        const runs = results[n][pipeline].map((run) => run.find((r) => r.test === test)).filter(Boolean);
        if (runs.length === 0) continue;
        row.servers[n] = { rps: median(runs.map((x) => x.rps)), p50: median(runs.map((x) => x.p50)), p99: median(runs.map((x) => x.p99)) };
      }
      row.ratios = {};
      for (const [a, b, label] of ratios) {
        if (row.servers[a] && row.servers[b]) row.ratios[label] = row.servers[a].rps / row.servers[b].rps;
      }
      rows.push(row);
    }
  }
  const cells = rows.map((x) => [
    x.test, String(x.pipeline),
    ...names.map((n) => (x.servers[n] ? Math.round(x.servers[n].rps).toString() : '-')),
    ...ratios.map((r) => (x.ratios[r[2]] !== undefined ? x.ratios[r[2]].toFixed(2) : '-')),
    ...names.map((n) => (x.servers[n] ? `${x.servers[n].p50.toFixed(3)} / ${x.servers[n].p99.toFixed(3)}` : '-')),
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
  if (h.targetSpec() === h.keelSpec && !h.keelBuilt()) throw new Error(`${h.keelMain} not found: build first (npx tsc --build)`);
  const servers = {};
  const cleanup = () => h.stopAll(...Object.values(servers));
  process.on('SIGINT', () => { cleanup().finally(() => process.exit(130)); });
  try {
    for (const n of o.servers) servers[n] = await h.startServer(SERVERS[n].spec(), { extraArgs: SERVERS[n].extraArgs });
    console.log(`machine: ${machine()}`);
    for (const n of o.servers) {
      const s = servers[n];
      console.log(`${n} (${SERVERS[n].label}): ${s.name} pid ${s.pid} port ${s.port} ${SERVERS[n].extraArgs.join(' ')}`);
    }
    console.log(`redis-benchmark -c ${o.clients} -t ${o.tests}, ${o.repeats} repeat(s), medians\n`);
    const results = {};
    for (const n of o.servers) {
      results[n] = {};
      for (const p of o.pipelines) results[n][p] = [];
    }
    for (let rep = 0; rep < o.repeats; rep++) {
      for (const p of o.pipelines) {
        // Rotate the order so that no server always gets the warmer (or busier) machine.
        const order = o.servers.map((_, i) => o.servers[(i + rep) % o.servers.length]);
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
