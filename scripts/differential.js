#!/usr/bin/env node
// Differential test, long form: the same seeded command sequences as
// packages/server/test/differential.test.ts, sent to a real redis-server and to Keel, every reply
// compared byte for byte (with the documented exceptions in docs/benchmarks.md).
//
//   node scripts/differential.js [--seed N | --seeds 1,2,3] [--count M] [--resp 2|3|both]
//                                [--keep-going] [--max-mismatches K] [--other-types auto|yes|no]
//
// --keep-going collects up to K mismatches per run (after each one both servers are flushed and
// the sequence continues), then prints them grouped by command and reply.
// KEEL_TARGET=redis runs redis-server against redis-server (checks the harness itself);
// KEEL_CMD='cmd ... {port} ... {dir}' tests any other server command line.
// Needs a build first (npm run differential builds, then runs this).
'use strict';

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
  const o = { seeds: [], count: 100000, resp: [2, 3], keepGoing: false, maxMismatches: 50, otherTypes: 'auto' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--seed') o.seeds.push(Number(val()));
    else if (a === '--seeds') o.seeds.push(...val().split(',').map(Number));
    else if (a === '--count') o.count = Number(val());
    else if (a === '--resp') {
      const v = val();
      o.resp = v === 'both' ? [2, 3] : [Number(v)];
    } else if (a === '--keep-going') o.keepGoing = true;
    else if (a === '--max-mismatches') o.maxMismatches = Number(val());
    else if (a === '--other-types') o.otherTypes = val();
    else if (a === '--help' || a === '-h') {
      console.log(require('fs').readFileSync(__filename, 'utf8').split('\n').slice(1, 15).join('\n'));
      process.exit(0);
    } else throw new Error(`unknown option ${a}`);
  }
  if (o.seeds.length === 0) o.seeds.push(Math.floor(Math.random() * 2 ** 31));
  if (o.seeds.some((s) => !Number.isInteger(s)) || !(o.count > 0)) throw new Error('bad --seed or --count');
  if (!o.resp.every((r) => r === 2 || r === 3)) throw new Error('--resp is 2, 3 or both');
  return o;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const spec = h.targetSpec();
  if (spec === h.keelSpec && !h.keelBuilt()) {
    throw new Error(`${h.keelMain} not found: build Keel first (npx tsc --build)`);
  }
  let redis;
  let target;
  const cleanup = async () => h.stopAll(redis, target);
  process.on('SIGINT', () => { cleanup().finally(() => process.exit(130)); });
  try {
    redis = await h.startServer(h.redisSpec);
    target = await h.startServer(spec);
    let otherTypes = o.otherTypes === 'yes';
    if (o.otherTypes === 'auto') {
      otherTypes = await h.probeOtherTypes(target.port);
      if (!otherTypes) console.log('note: target lacks LPUSH/SADD/HSET; WRONGTYPE is exercised less (--other-types no)');
    }
    console.log(`redis-server on ${redis.port}, ${spec.name} on ${target.port}; seeds ${o.seeds.join(',')}, ` +
      `${o.count} commands per run, RESP ${o.resp.join(' and ')}`);
    const all = [];
    let steps = 0;
    const t0 = Date.now();
    for (const seed of o.seeds) {
      for (const resp of o.resp) {
        const r = await h.runDifferential({
          seed, count: o.count, resp, redisPort: redis.port, targetPort: target.port, otherTypes,
          keepGoing: o.keepGoing, maxMismatches: o.maxMismatches,
          restartTarget: async () => {
            const tail = target.output().split('\n').slice(-25).join('\n');
            console.log(`${spec.name} is down; restarting it. Its last output:\n${tail}`);
            await target.stop();
            target = await h.startServer(spec);
            return target.port;
          },
        });
        steps += r.steps;
        all.push(...r.mismatches);
        console.log(`seed ${seed} RESP${resp}: ${r.steps} commands, ${r.mismatches.length} mismatch(es)`);
        if (target.exited() && !o.keepGoing) throw new Error(`${spec.name} exited:\n${target.output()}`);
      }
    }
    const secs = (Date.now() - t0) / 1000;
    console.log(`${steps} commands in ${secs.toFixed(1)} s`);
    if (all.length === 0) {
      console.log('no mismatches');
      return 0;
    }
    if (!o.keepGoing) {
      console.log('\n' + h.formatMismatch(all[0]));
      return 1;
    }
    // Group by command name and Redis's reply shape, so one bug shows once.
    const groups = new Map();
    for (const m of all) {
      // An EXEC mismatch is grouped by the queued command that differs.
      const inner = m.detail && /answers "(\S+)/.exec(m.detail);
      const name = inner ? `EXEC/${inner[1].toUpperCase()}` : m.command.split(' ')[0].toUpperCase();
      const shape = (reply) => reply.slice(0, 48).toLowerCase();
      const key = inner ? name : `${m.conn} ${name} ${shape(m.redis)} -> ${shape(m.target)}`;
      if (!groups.has(key)) groups.set(key, { n: 0, first: m });
      groups.get(key).n++;
    }
    console.log(`\n${all.length} mismatches, ${groups.size} distinct:\n`);
    for (const { n, first } of groups.values()) {
      console.log(`[${n}x] ${h.formatMismatch(first)}\n`);
    }
    return 1;
  } catch (err) {
    if (target && target.exited()) console.error(`${spec.name} exited; its output:\n${target.output()}`);
    throw err;
  } finally {
    await cleanup();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err && err.stack ? err.stack : err);
    process.exit(2);
  },
);
