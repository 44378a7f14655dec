// Differential test (issue 2, section 5; issue 3's collections): seeded random command sequences sent to Keel and to a
// real redis-server on one connection each (plus a subscriber connection for pub/sub); every
// reply must be the same bytes, except the documented exceptions (harness.ts, Comparator, and
// docs/benchmarks.md). A bounded run here; scripts/differential.js runs longer with any seed.
//
//   KEEL_DIFF_SEEDS=4,5 KEEL_DIFF_COUNT=10000 npx jest packages/server/dist/test/differential
//   KEEL_TARGET=redis ...   runs redis-server against itself (checks the harness)

import * as h from './harness';

// The safety net: whatever a failed beforeAll left running is stopped.
afterAll(() => h.stopEverything(), 30000);

const seeds = (process.env.KEEL_DIFF_SEEDS ?? '1,2,3').split(',').map(Number);
const count = Number(process.env.KEEL_DIFF_COUNT ?? 5000);
const testTimeoutMs = 60000;

describe('differential: Keel answers as redis-server does, byte for byte', () => {
  let redis: h.ServerHandle | undefined;
  let target: h.ServerHandle | undefined;
  let otherTypes = false;

  beforeAll(async () => {
    redis = await h.startServer(h.redisSpec);
    target = await h.startServer(h.targetSpec());
    // LPUSH/SADD/HSET create keys of other types for WRONGTYPE; they belong to later issues.
    otherTypes = await h.probeOtherTypes(target.port);
  }, testTimeoutMs);

  afterAll(async () => {
    await h.stopAll(redis, target);
  }, 20000);

  for (const resp of [2, 3] as const) {
    for (const seed of seeds) {
      test(`seed ${seed}, RESP${resp}, ${count} commands`, async () => {
        const result = await h.runDifferential({
          seed, count, resp, redisPort: redis!.port, targetPort: target!.port, otherTypes,
        });
        if (result.mismatches.length > 0) {
          const alive = target!.exited() ? `\n${target!.name} exited:\n${target!.output()}` : '';
          throw new Error(h.formatMismatch(result.mismatches[0]) + alive);
        }
        expect(result.steps).toBe(count);
      }, testTimeoutMs);
    }
  }
});

describe('protocol scenarios: the same bytes in, the same bytes out (and the same close)', () => {
  let redis: h.ServerHandle | undefined;
  let target: h.ServerHandle | undefined;
  let redisAuth: h.ServerHandle | undefined;
  let targetAuth: h.ServerHandle | undefined;

  beforeAll(async () => {
    [redis, target, redisAuth, targetAuth] = await Promise.all([
      h.startServer(h.redisSpec),
      h.startServer(h.targetSpec()),
      h.startServer(h.redisSpec, { extraArgs: ['--requirepass', 'secret'] }),
      h.startServer(h.targetSpec(), { extraArgs: ['--requirepass', 'secret'] }),
    ]);
  }, testTimeoutMs);

  afterAll(async () => {
    await h.stopAll(redis, target, redisAuth, targetAuth);
  }, 20000);

  test('codec, connection, transaction and pub/sub scenarios', async () => {
    const mismatches = await h.runScenarios(redis!.port, target!.port, h.PROTOCOL_SCENARIOS);
    expect(mismatches.map(h.formatScenarioMismatch)).toEqual([]);
  }, testTimeoutMs);

  test('requirepass scenarios', async () => {
    const mismatches = await h.runScenarios(redisAuth!.port, targetAuth!.port, h.AUTH_SCENARIOS, false);
    expect(mismatches.map(h.formatScenarioMismatch)).toEqual([]);
  }, testTimeoutMs);
});

describe('the differential harness', () => {
  let redis: h.ServerHandle | undefined;
  let redis2: h.ServerHandle | undefined;
  let proxy: h.Proxy | undefined;

  beforeAll(async () => {
    [redis, redis2] = await Promise.all([h.startServer(h.redisSpec), h.startServer(h.redisSpec)]);
  }, testTimeoutMs);

  afterAll(async () => {
    await proxy?.close();
    await h.stopAll(redis, redis2);
  }, 20000);

  test('finds no difference between redis-server and itself', async () => {
    const result = await h.runDifferential({
      seed: 7, count: 1500, resp: 3, redisPort: redis!.port, targetPort: redis2!.port, otherTypes: true,
    });
    expect(result.mismatches.map(h.formatMismatch)).toEqual([]);
  }, testTimeoutMs);

  test('catches a deliberately wrong reply and names the seed and the command', async () => {
    // The 200th reply frame on the main connection becomes +CORRUPTED (FLUSHALL is frame 0).
    proxy = await h.startCorruptingProxy(redis2!.port, 200);
    const result = await h.runDifferential({
      seed: 11, count: 1000, resp: 2, redisPort: redis!.port, targetPort: proxy.port, otherTypes: true,
    });
    expect(result.mismatches).toHaveLength(1);
    const m = result.mismatches[0];
    expect(m.target).toContain('+CORRUPTED');
    expect(m.index).toBeLessThan(1000);
    const text = h.formatMismatch(m);
    expect(text).toContain('seed 11');
    expect(text).toContain(`command #${m.index}`);
    expect(text).toContain('--seed 11 --resp 2');
  }, testTimeoutMs);

  test('the collection comparators: a multiset of groups, random picks by shape', () => {
    const arr = (...xs: string[]) => Buffer.from(`*${xs.length}\r\n` + xs.map((x) => `$${x.length}\r\n${x}\r\n`).join(''), 'latin1');
    const bag2: h.Comparator = { bag: 2, keys: [] };
    expect(h.sameReply(bag2, arr('f1', 'a', 'f2', 'b'), arr('f2', 'b', 'f1', 'a'))).toBe(true);
    expect(h.sameReply(bag2, arr('f1', 'a', 'f2', 'b'), arr('f1', 'b', 'f2', 'a'))).toBe(false); // pairs differ
    expect(h.sameReply(bag2, arr('f1', 'a'), arr('f1', 'a', 'f2', 'b'))).toBe(false);
    const scan: h.Comparator = { bag: 1, keys: [], scan: true };
    const scanReply = (cursor: string, ...xs: string[]) =>
      Buffer.concat([Buffer.from(`*2\r\n$${cursor.length}\r\n${cursor}\r\n`), arr(...xs)]);
    expect(h.sameReply(scan, scanReply('0', 'a', 'b'), scanReply('0', 'b', 'a'))).toBe(true);
    expect(h.sameReply(scan, scanReply('0', 'a', 'b'), scanReply('0', 'a', 'c'))).toBe(false);
    const loose: h.Comparator = { bag: 1, keys: [], loose: true };
    expect(h.sameReply(loose, arr('a', 'b'), arr('c', 'd'))).toBe(true);
    expect(h.sameReply(loose, arr('a', 'b'), arr('c'))).toBe(false);
    const random: h.Comparator = { random: 'set', key: Buffer.from('s'), pairs: false, distinct: true };
    expect(h.sameReply(random, arr('a', 'b'), arr('c', 'a'))).toBe(true);
    expect(h.sameReply(random, arr('a', 'b'), arr('c', 'c'))).toBe(false); // a positive count gives distinct members
    expect(h.sameReply(random, arr('a', 'b'), arr('c'))).toBe(false);
    expect(h.sameReply(random, Buffer.from('-ERR x\r\n'), Buffer.from('-ERR y\r\n'))).toBe(false);
    const zrandom: h.Comparator = { random: 'zset', key: Buffer.from('z'), pairs: true, distinct: false };
    expect(h.sameReply(zrandom, arr('a', '1', 'a', '1'), arr('b', '2', 'b', '2'))).toBe(true);
    expect(h.sameReply('sortnum', Buffer.from("-ERR One or more scores can't be converted into double\r\n"), arr('1'))).toBe(true);
    expect(h.sameReply('sortnum', arr('1', '2'), arr('2', '1'))).toBe(false);
  });

  test('frames RESP3 replies, nested aggregates, attributes and pushes', () => {
    const frames = [
      '+OK\r\n', '-ERR x\r\n', ':-1\r\n', '_\r\n', '#t\r\n', ',1.5\r\n', '(123\r\n', '$-1\r\n', '$0\r\n\r\n',
      '$2\r\n\r\n\r\n', '!3\r\nERR\r\n', '=7\r\ntxt:abc\r\n', '*-1\r\n', '*0\r\n',
      '*2\r\n*1\r\n:1\r\n%1\r\n+a\r\n~2\r\n:1\r\n$1\r\nx\r\n',
      '>3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$1\r\nm\r\n',
      '|1\r\n+ttl\r\n:3\r\n$1\r\nv\r\n',
    ];
    const all = Buffer.from(frames.join(''), 'latin1');
    let pos = 0;
    for (const f of frames) {
      const end = h.frameEnd(all, pos);
      expect(all.toString('latin1', pos, end)).toBe(f);
      // Every strict prefix is incomplete.
      for (let cut = pos; cut < end; cut++) expect(h.frameEnd(all.subarray(0, cut), pos)).toBe(-1);
      pos = end;
    }
    expect(pos).toBe(all.length);
    expect(() => h.frameEnd(Buffer.from('?x\r\n'), 0)).toThrow();
  });
});
