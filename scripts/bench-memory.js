#!/usr/bin/env node
// Memory per key and per collection element of Keel next to redis-server (issues 2 and 3).
//
//   node scripts/bench-memory.js [--keys N] [--key-size 16] [--value-size 32]
//                                [--elements M] [--types strings,list,hash,set,zset]
//
// strings: loads N keys (default 1,000,000; 16-byte keys, 32-byte values) into each server with
// a pipelined SET loader. list, hash, set, zset: one key holding M elements (default 1,000,000;
// 16-byte elements, hash values of --value-size bytes, zset scores 0..M-1), loaded with
// pipelined RPUSH / HSET / SADD / ZADD of 100 elements each. Each type gets fresh servers.
// Prints per key (per element) the growth of the process's resident set (VmRSS in
// /proc/<pid>/status) and of INFO memory used_memory (when the server reports it), and the
// ratio Keel/Redis. Keel runs as `keel server` (a durable node, --appendfsync always).
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
  const o = { keys: 1000000, keySize: 16, valueSize: 32, elements: 1000000, types: ['strings', 'list', 'hash', 'set', 'zset'] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => Number(argv[++i]);
    if (a === '--keys') o.keys = val();
    else if (a === '--key-size') o.keySize = val();
    else if (a === '--value-size') o.valueSize = val();
    else if (a === '--elements') o.elements = val();
    else if (a === '--types') o.types = argv[++i].split(',');
    else if (a === '--help' || a === '-h') {
      console.log(fs.readFileSync(__filename, 'utf8').split('\n').slice(1, 16).join('\n'));
      process.exit(0);
    } else throw new Error(`unknown option ${a}`);
  }
  if (!(o.keys > 0) || o.keySize < 8 || o.valueSize < 1) throw new Error('bad --keys, --key-size (>= 8) or --value-size');
  if (!(o.elements >= 100) || o.types.some((t) => !['strings', 'list', 'hash', 'set', 'zset'].includes(t))) {
    throw new Error('bad --elements (>= 100) or --types');
  }
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
    // MEMORY PURGE first: Redis returns freed pages to the OS, Keel runs a full garbage
    // collection, so both report what their data holds, not garbage not yet collected.
    await c.call(['MEMORY', 'PURGE']);
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

const COLLECTION_KEY = 'bench:collection';
const PER_COMMAND = 100;

/** The command that adds elements [from, from + n) of a collection of the given type. */
function collectionCommand(type, from, n, o) {
  const args = [{ list: 'RPUSH', hash: 'HSET', set: 'SADD', zset: 'ZADD' }[type], COLLECTION_KEY];
  for (let i = from; i < from + n; i++) {
    const e = keyOf(i, 16).replace(/^key:/, 'elt:');
    if (type === 'hash') args.push(e, valueOf(i, o.valueSize));
    else if (type === 'zset') args.push(String(i), e);
    else args.push(e);
  }
  return h.encodeCommand(args);
}

/** Loads M elements with pipelined commands (100 commands in flight); every reply must be :n. */
function loadCollection(port, type, o) {
  const commands = Math.ceil(o.elements / PER_COMMAND);
  const inFlight = 100;
  return new Promise((resolve, reject) => {
    const sock = net.createConnection({ port, host: h.HOST });
    let sent = 0;
    let answered = 0;
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => { sock.destroy(); reject(new Error('load timed out after 900 s')); }, 900000);
    const fail = (err) => { clearTimeout(timer); sock.destroy(); reject(err); };
    const send = () => {
      const parts = [];
      while (sent < commands && sent - answered < inFlight) {
        const from = sent * PER_COMMAND;
        parts.push(collectionCommand(type, from, Math.min(PER_COMMAND, o.elements - from), o));
        sent++;
      }
      if (parts.length > 0) sock.write(Buffer.concat(parts));
    };
    sock.on('connect', send);
    sock.on('error', fail);
    sock.on('data', (chunk) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      let pos = 0;
      for (;;) {
        const end = h.frameEnd(buf, pos);
        if (end < 0) break;
        if (buf[pos] !== 0x3a) { fail(new Error(`unexpected reply while loading: ${h.escapeBytes(buf.subarray(pos, end))}`)); return; }
        answered++;
        pos = end;
      }
      buf = buf.subarray(pos);
      if (answered === commands) {
        clearTimeout(timer);
        sock.end();
        resolve();
      } else send();
    });
  });
}

async function countOf(port, type) {
  const c = await h.RespClient.connect(port);
  try {
    const cmd = { list: 'LLEN', hash: 'HLEN', set: 'SCARD', zset: 'ZCARD' }[type];
    const reply = (await c.call([cmd, COLLECTION_KEY])).toString('latin1');
    const enc = (await c.call(['OBJECT', 'ENCODING', COLLECTION_KEY])).toString('latin1').split('\r\n')[1];
    return { n: Number(reply.slice(1)), encoding: enc };
  } finally {
    c.close();
  }
}

async function measureCollection(name, handle, type, o) {
  const before = { rss: rssBytes(handle.pid), used: await info(handle.port, 'used_memory') };
  const t0 = Date.now();
  await loadCollection(handle.port, type, o);
  const secs = (Date.now() - t0) / 1000;
  await h.sleep(1500); // let a garbage-collected runtime settle
  const after = { rss: rssBytes(handle.pid), used: await info(handle.port, 'used_memory') };
  const { n, encoding } = await countOf(handle.port, type);
  if (n !== o.elements) throw new Error(`${name}: ${type} holds ${n} elements, expected ${o.elements}`);
  const perKey = (a, b) => (a === undefined || b === undefined ? undefined : (b - a) / o.elements);
  return { name, encoding, loadSecs: secs, before, after, rssPerKey: perKey(before.rss, after.rss), usedPerKey: perKey(before.used, after.used) };
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
    const fmt = (x) => (x === undefined ? 'n/a' : x.toFixed(1));
    const mib = (x) => (x === undefined ? 'n/a' : (x / 2 ** 20).toFixed(1));
    const ratio = (a, b) => (a === undefined || b === undefined ? 'n/a' : (b / a).toFixed(2));
    const results = [];
    for (const type of o.types) {
      redis = await h.startServer(h.redisSpec);
      keel = await h.startServer(spec);
      try {
        if (type === 'strings') {
          console.log(`strings: loading ${o.keys} keys (${o.keySize}-byte keys, ${o.valueSize}-byte values) into each server`);
          const r = await measure('redis', redis, o);
          const k = await measure(spec.name, keel, o);
          results.push({ type, r, k });
        } else {
          console.log(`${type}: loading one key of ${o.elements} elements into each server`);
          const r = await measureCollection('redis', redis, type, o);
          const k = await measureCollection(spec.name, keel, type, o);
          results.push({ type, r, k });
        }
      } finally {
        await cleanup();
      }
    }
    console.log('');
    console.log('| type | server | encoding | load s | RSS before MiB | RSS after MiB | RSS bytes/elt | used_memory bytes/elt | keel/redis RSS | keel/redis used_memory |');
    console.log('|------|--------|----------|-------:|---------------:|--------------:|--------------:|----------------------:|---------------:|-----------------------:|');
    for (const { type, r, k } of results) {
      for (const x of [r, k]) {
        const ratios = x === k ? `${ratio(r.rssPerKey, k.rssPerKey)} | ${ratio(r.usedPerKey, k.usedPerKey)}` : ' | ';
        console.log(`| ${type} | ${x.name} | ${x.encoding ?? '-'} | ${x.loadSecs.toFixed(1)} | ${mib(x.before.rss)} | ${mib(x.after.rss)} | ${fmt(x.rssPerKey)} | ${fmt(x.usedPerKey)} | ${ratios} |`);
      }
    }
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
