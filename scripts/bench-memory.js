#!/usr/bin/env node
// Memory per key of Keel next to redis-server (issue 2, section 6).
//
//   node scripts/bench-memory.js [--keys N] [--key-size 16] [--value-size 32]
//
// Starts redis-server and Keel on free loopback ports, loads N keys (default 1,000,000; 16-byte
// keys, 32-byte values) into each with a pipelined SET loader, and prints per key the growth
// of the process's resident set (VmRSS in /proc/<pid>/status) and of INFO memory used_memory
// (when the server reports it), and the ratio Keel/Redis.
// KEEL_TARGET=redis measures redis-server against itself (checks the script).
'use strict';

const fs = require('fs');
const net = require('net');
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
  const o = { keys: 1000000, keySize: 16, valueSize: 32 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => Number(argv[++i]);
    if (a === '--keys') o.keys = val();
    else if (a === '--key-size') o.keySize = val();
    else if (a === '--value-size') o.valueSize = val();
    else if (a === '--help' || a === '-h') {
      console.log(fs.readFileSync(__filename, 'utf8').split('\n').slice(1, 11).join('\n'));
      process.exit(0);
    } else throw new Error(`unknown option ${a}`);
  }
  if (!(o.keys > 0) || o.keySize < 8 || o.valueSize < 1) throw new Error('bad --keys, --key-size (>= 8) or --value-size');
  return o;
}

function rssBytes(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

async function info(port, field) {
  const c = await h.RespClient.connect(port);
  try {
    const reply = (await c.call(['INFO', 'memory'])).toString('latin1');
    const m = new RegExp(`\\r\\n${field}:(\\d+)\\r\\n`).exec(reply);
    return m ? Number(m[1]) : undefined;
  } finally {
    c.close();
  }
}

async function dbsize(port) {
  const c = await h.RespClient.connect(port);
  try {
    const reply = (await c.call(['DBSIZE'])).toString('latin1');
    return Number(reply.slice(1));
  } finally {
    c.close();
  }
}

/** key:000000000042 style keys of exactly keySize bytes, and values of valueSize bytes. */
function keyOf(i, size) {
  return ('key:' + String(i).padStart(size - 4, '0')).slice(-size).padStart(size, 'k');
}
function valueOf(i, size) {
  return ('v' + String(i).padStart(size, '0')).slice(-size);
}

/** Loads the keys with pipelined SETs, batch by batch; every reply must be +OK. Bounded. */
function load(port, o) {
  const batchSize = 10000;
  const ok = Buffer.from('+OK\r\n');
  return new Promise((resolve, reject) => {
    const sock = net.createConnection({ port, host: h.HOST });
    let next = 0;
    let expected = 0;
    let received = [];
    let receivedBytes = 0;
    const timer = setTimeout(() => { sock.destroy(); reject(new Error('load timed out after 600 s')); }, 600000);
    const fail = (err) => { clearTimeout(timer); sock.destroy(); reject(err); };
    const sendBatch = () => {
      if (next >= o.keys) {
        clearTimeout(timer);
        sock.end();
        resolve();
        return;
      }
      const n = Math.min(batchSize, o.keys - next);
      const parts = [];
      for (let i = 0; i < n; i++, next++) {
        const k = keyOf(next, o.keySize);
        const v = valueOf(next, o.valueSize);
        parts.push(`*3\r\n$3\r\nSET\r\n$${k.length}\r\n${k}\r\n$${v.length}\r\n${v}\r\n`);
      }
      expected = n * ok.length;
      received = [];
      receivedBytes = 0;
      sock.write(parts.join(''));
    };
    sock.on('connect', sendBatch);
    sock.on('error', fail);
    sock.on('data', (chunk) => {
      received.push(chunk);
      receivedBytes += chunk.length;
      if (receivedBytes < expected) return;
      const all = Buffer.concat(received);
      for (let p = 0; p < all.length; p += ok.length) {
        if (!all.subarray(p, p + ok.length).equals(ok)) {
          fail(new Error(`unexpected reply while loading: ${h.escapeBytes(all.subarray(p, p + 200))}`));
          return;
        }
      }
      if (receivedBytes > expected) { fail(new Error('more replies than commands')); return; }
      sendBatch();
    });
  });
}

async function measure(name, handle, o) {
  const before = { rss: rssBytes(handle.pid), used: await info(handle.port, 'used_memory') };
  const t0 = Date.now();
  await load(handle.port, o);
  const secs = (Date.now() - t0) / 1000;
  await h.sleep(1000); // let a garbage-collected runtime settle
  const after = { rss: rssBytes(handle.pid), used: await info(handle.port, 'used_memory') };
  const n = await dbsize(handle.port);
  if (n !== o.keys) throw new Error(`${name}: DBSIZE is ${n}, expected ${o.keys}`);
  const perKey = (a, b) => (a === undefined || b === undefined ? undefined : (b - a) / o.keys);
  return {
    name, loadSecs: secs, before, after,
    rssPerKey: perKey(before.rss, after.rss),
    usedPerKey: perKey(before.used, after.used),
  };
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const spec = h.targetSpec();
  if (spec === h.keelSpec && !h.keelBuilt()) throw new Error(`${h.keelMain} not found: build first (npx tsc --build)`);
  let redis;
  let keel;
  const cleanup = () => h.stopAll(redis, keel);
  process.on('SIGINT', () => { cleanup().finally(() => process.exit(130)); });
  try {
    redis = await h.startServer(h.redisSpec);
    keel = await h.startServer(spec);
    console.log(`loading ${o.keys} keys (${o.keySize}-byte keys, ${o.valueSize}-byte values) into each server`);
    const r = await measure('redis', redis, o);
    const k = await measure(spec.name, keel, o);
    const fmt = (x) => (x === undefined ? 'n/a' : x.toFixed(1));
    const mib = (x) => (x === undefined ? 'n/a' : (x / 2 ** 20).toFixed(1));
    const ratio = (a, b) => (a === undefined || b === undefined ? 'n/a' : (b / a).toFixed(2));
    console.log('');
    console.log('| server | load s | RSS before MiB | RSS after MiB | RSS bytes/key | used_memory bytes/key |');
    console.log('|--------|-------:|---------------:|--------------:|--------------:|----------------------:|');
    for (const x of [r, k]) {
      console.log(`| ${x.name} | ${x.loadSecs.toFixed(1)} | ${mib(x.before.rss)} | ${mib(x.after.rss)} | ${fmt(x.rssPerKey)} | ${fmt(x.usedPerKey)} |`);
    }
    console.log(`\nkeel/redis: RSS per key ${ratio(r.rssPerKey, k.rssPerKey)}, used_memory per key ${ratio(r.usedPerKey, k.usedPerKey)}`);
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
