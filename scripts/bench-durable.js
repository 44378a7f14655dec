#!/usr/bin/env node
// A durable Keel node next to Redis, in the same run (issues 5 and 6):
//
//   node scripts/bench-durable.js [--requests N] [--clients 50] [--pipelines 1,16] [--tests set,get]
//                                 [--snapshot-keys 1000000] [--skip-bench] [--skip-snapshot] [--shard3]
//
// 1. redis-benchmark -c 50 -t set,get (no pipelining, and -P 16) against
//      plain redis-server (no persistence), redis-server --appendonly yes --appendfsync always,
//      and a single-node `keel server --appendfsync always` (one voter, durable, fsync'd WAL);
//    prints ops/s, p50/p99 and Keel's ratio to each. With --shard3, also a 3-node shard (three
//    `keel server --appendfsync always` processes on loopback), benchmarked on its leader.
// 2. The longest event-loop stall while a running node snapshots N keys (default 1M): loads N
//    keys, then writes the entry that crosses --snapshot-entries while a client PINGs every
//    millisecond; reports the longest PING round trip during the snapshot and the node's own
//    "longest slice" (capture, then each slice of the encoding).
// Needs a build first (npx tsc --build) and redis-server / redis-benchmark on PATH.
'use strict';

const { spawn, execFileSync } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');

const keelMain = path.join(__dirname, '..', 'packages', 'cli', 'dist', 'src', 'main.js');
const HOST = '127.0.0.1';
const children = new Set();
const dirs = [];

function opts(argv) {
  const o = { requests: 100000, clients: 50, pipelines: [1, 16], tests: 'set,get', snapshotKeys: 1000000, bench: true, snapshot: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => argv[++i];
    if (a === '--requests') o.requests = Number(v());
    else if (a === '--clients') o.clients = Number(v());
    else if (a === '--pipelines') o.pipelines = v().split(',').map(Number);
    else if (a === '--tests') o.tests = v();
    else if (a === '--snapshot-keys') o.snapshotKeys = Number(v());
    else if (a === '--skip-bench') o.bench = false;
    else if (a === '--skip-snapshot') o.snapshot = false;
    else if (a === '--shard3') o.shard3 = true;
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, HOST, () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

function tmp(name) {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `keel-bench-${name}-`));
  dirs.push(d);
  return d;
}

/** Starts a server and waits (bounded) until it answers PING. */
async function start(name, cmd, args, port) {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(proc);
  let out = '';
  proc.stdout.on('data', (d) => (out += d));
  proc.stderr.on('data', (d) => (out += d));
  proc.on('exit', () => children.delete(proc));
  const deadline = Date.now() + 20000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`${name} exited: ${out}`);
    try {
      if ((await command(port, ['PING'])).startsWith('+PONG')) break;
    } catch { /* not yet */ }
    if (Date.now() > deadline) throw new Error(`${name} did not start: ${out}`);
    await sleep(50);
  }
  return { name, port, proc, out: () => out };
}

function encode(args) {
  return `*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`).join('');
}

function command(port, args) {
  return new Promise((resolve, reject) => {
    const s = net.createConnection({ host: HOST, port });
    const t = setTimeout(() => (s.destroy(), reject(new Error('timeout'))), 3000);
    let buf = '';
    s.on('data', (d) => {
      buf += d;
      if (buf.endsWith('\r\n')) {
        clearTimeout(t);
        s.destroy();
        resolve(buf);
      }
    });
    s.on('error', (e) => (clearTimeout(t), reject(e)));
    s.write(encode(args));
  });
}

function benchmark(port, o, pipeline) {
  const n = pipeline > 1 ? o.requests * 5 : o.requests;
  const args = ['-h', HOST, '-p', String(port), '-c', String(o.clients), '-n', String(n), '-t', o.tests, '-r', '100000', '--csv'];
  if (pipeline > 1) args.push('-P', String(pipeline));
  const out = execFileSync('redis-benchmark', args, { timeout: 600000 }).toString();
  const lines = out.split('\n').filter((l) => l.startsWith('"'));
  const cols = lines[0].split(',').map((c) => c.replace(/"/g, ''));
  return lines.slice(1).map((l) => {
    const f = l.match(/"([^"]*)"/g).map((c) => c.slice(1, -1));
    return { test: f[cols.indexOf('test')], rps: Number(f[cols.indexOf('rps')]), p50: Number(f[cols.indexOf('p50_latency_ms')]), p99: Number(f[cols.indexOf('p99_latency_ms')]) };
  });
}

async function bench(o) {
  const servers = [];
  const p1 = await freePort();
  servers.push(await start('redis', 'redis-server', ['--port', String(p1), '--bind', HOST, '--save', '', '--appendonly', 'no', '--dir', tmp('redis')], p1));
  const p2 = await freePort();
  servers.push(await start('redis-aof-always', 'redis-server', ['--port', String(p2), '--bind', HOST, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', tmp('redis-aof')], p2));
  const p3 = await freePort();
  servers.push(await start('keel-always', process.execPath, [keelMain, 'server', '--port', String(p3), '--dir', tmp('keel'), '--appendfsync', 'always'], p3));
  if (o.shard3) servers.push(await startShard3());
  const keels = servers.filter((s) => s.name.startsWith('keel'));
  const rows = [];
  for (const pipeline of o.pipelines) {
    const res = {};
    for (const s of servers) {
      res[s.name] = benchmark(s.port, o, pipeline);
      process.stderr.write(`  ${s.name} P=${pipeline}: ${res[s.name].map((r) => `${r.test} ${Math.round(r.rps)}`).join(', ')}\n`);
    }
    for (const r of res['keel-always']) {
      const pick = (n) => res[n].find((x) => x.test === r.test);
      const row = { test: r.test, pipeline, redis: pick('redis'), aof: pick('redis-aof-always') };
      for (const k of keels) row[k.name] = pick(k.name);
      rows.push(row);
    }
  }
  for (const s of servers) for (const p of s.procs ?? [s.proc]) p.kill('SIGKILL');
  const f = (x) => `${Math.round(x.rps)} (${x.p50.toFixed(2)}/${x.p99.toFixed(2)})`;
  const label = { 'keel-always': 'keel 1 node', 'keel-3-nodes': 'keel 3 nodes' };
  console.log(`\nops/s (p50/p99 ms), ${o.clients} clients; every Keel node with appendfsync always:`);
  const head = ['test', 'P', 'redis (no persistence)', 'redis appendfsync always', ...keels.map((k) => label[k.name]), ...keels.flatMap((k) => [`${label[k.name]} / redis-always`, `${label[k.name]} / redis`])];
  console.log(`| ${head.join(' | ')} |`);
  console.log(`|${head.map(() => ' --- |').join('')}`);
  for (const r of rows) {
    const cells = [r.test, r.pipeline, f(r.redis), f(r.aof), ...keels.map((k) => f(r[k.name])), ...keels.flatMap((k) => [(r[k.name].rps / r.aof.rps).toFixed(2), (r[k.name].rps / r.redis.rps).toFixed(2)])];
    console.log(`| ${cells.join(' | ')} |`);
  }
}

/** Starts a 3-node shard of durable nodes; resolves with its leader's client port once one is elected. */
async function startShard3() {
  const ports = [];
  for (let i = 0; i < 3; i++) ports.push({ client: await freePort(), cluster: await freePort() });
  const peers = ports.map((p, i) => `n${i + 1}=${HOST}:${p.client}@${p.cluster}`).join(',');
  const nodes = [];
  for (let i = 0; i < 3; i++) {
    nodes.push(await start(`keel-n${i + 1}`, process.execPath, [keelMain, 'server', '--node-id', `n${i + 1}`, '--port', String(ports[i].client), '--peers', peers, '--dir', tmp(`keel-n${i + 1}`), '--appendfsync', 'always'], ports[i].client));
  }
  const deadline = Date.now() + 20000;
  for (;;) {
    for (const n of nodes) {
      const info = await command(n.port, ['INFO', 'raft']).catch(() => '');
      if (/raft_state:leader/.test(info)) return { name: 'keel-3-nodes', port: n.port, procs: nodes.map((x) => x.proc) };
    }
    if (Date.now() > deadline) throw new Error('the 3-node shard elected no leader in 20 s');
    await sleep(100);
  }
}

/** Sends `count` SETs key:<from..> pipelined on one connection; resolves when all are answered. */
function load(port, from, count) {
  return new Promise((resolve, reject) => {
    const s = net.createConnection({ host: HOST, port });
    let sent = 0;
    let replies = 0;
    const window = 2000;
    const pump = () => {
      let chunk = '';
      while (sent < count && sent - replies < window) {
        const i = from + sent++;
        chunk += encode(['SET', `key:${String(i).padStart(12, '0')}`, 'v'.repeat(32)]);
      }
      if (chunk) s.write(chunk);
    };
    s.on('connect', pump);
    s.on('data', (d) => {
      for (let k = 0; k < d.length; k++) if (d[k] === 10) replies++;
      if (replies >= count) {
        s.destroy();
        resolve();
      } else pump();
    });
    s.on('error', reject);
  });
}

async function snapshotStall(o) {
  const port = await freePort();
  const n = o.snapshotKeys;
  const node = await start('keel', process.execPath, [keelMain, 'server', '--port', String(port), '--dir', tmp('keel-snap'), '--appendfsync', 'always', '--snapshot-entries', String(n + 10), '--snapshot-bytes', String(2 ** 40)], port);
  const t0 = Date.now();
  await Promise.all([0, 1, 2, 3].map((k) => load(port, (k * n) / 4, n / 4)));
  process.stderr.write(`  loaded ${n} keys in ${Date.now() - t0} ms\n`);
  await sleep(1000);
  // A client PINGs every millisecond; the node then crosses its snapshot threshold.
  let maxRtt = 0;
  let pings = 0;
  let stop = false;
  const pinger = (async () => {
    const s = net.createConnection({ host: HOST, port });
    await new Promise((r) => s.once('connect', r));
    while (!stop) {
      const t = process.hrtime.bigint();
      await new Promise((r) => {
        s.once('data', r);
        s.write('*1\r\n$4\r\nPING\r\n');
      });
      const rtt = Number(process.hrtime.bigint() - t) / 1e6;
      maxRtt = Math.max(maxRtt, rtt);
      pings++;
      await sleep(1);
    }
    s.destroy();
  })();
  await sleep(200);
  const baseline = maxRtt;
  maxRtt = 0;
  await load(port, n, 20);
  const deadline = Date.now() + 120000;
  let m = null;
  while (!(m = /raft: snapshot (\d+) .*?: (\d+) keys, (\d+) bytes in (\d+) ms \(longest slice ([\d.]+) ms\)/.exec(node.out()))) {
    if (Date.now() > deadline) throw new Error(`no snapshot within 120 s:\n${node.out()}`);
    await sleep(20);
  }
  stop = true;
  await pinger;
  node.proc.kill('SIGKILL');
  console.log(`\nsnapshot of a running node with ${m[2]} keys: ${m[3]} bytes in ${m[4]} ms; longest slice (the node's own measure) ${m[5]} ms; ` +
    `longest PING round trip during it ${maxRtt.toFixed(1)} ms over ${pings} pings (before it: ${baseline.toFixed(1)} ms)`);
}

async function main() {
  const o = opts(process.argv.slice(2));
  if (!fs.existsSync(keelMain)) throw new Error(`${keelMain} not found: npx tsc --build first`);
  console.log(`machine: ${os.cpus().length} x ${os.cpus()[0] && os.cpus()[0].model}, Node ${process.version}, ${execFileSync('redis-server', ['--version']).toString().trim()}`);
  if (o.bench) await bench(o);
  if (o.snapshot) await snapshotStall(o);
}

main()
  .catch((e) => {
    console.error(e.stack || e.message);
    process.exitCode = 1;
  })
  .finally(() => {
    for (const c of children) c.kill('SIGKILL');
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });
