// Client libraries and issue 3's collections: lists (with a blocking pop served by another
// client's push), hashes, sets and sorted sets through ioredis and node-redis (RESP2 and RESP3),
// as applications use them. KEEL_TARGET=redis runs the same tests against redis-server.

import Redis from 'ioredis';
import { createClient } from 'redis';
import * as h from './harness';

// The safety net: whatever a failed beforeAll left running is stopped.
afterAll(() => h.stopEverything(), 30000);

const timeoutMs = 30000;

let server: h.ServerHandle | undefined;

beforeAll(async () => {
  server = await h.startServer(h.targetSpec());
}, timeoutMs);

afterAll(async () => {
  await h.stopAll(server);
}, timeoutMs);

describe('ioredis: collections', () => {
  const clients: Redis[] = [];
  const connect = (): Redis => {
    const c = new Redis({
      host: h.HOST, port: server!.port, maxRetriesPerRequest: 1, connectTimeout: 5000,
      retryStrategy: () => null, lazyConnect: false,
    });
    clients.push(c);
    return c;
  };
  let r: Redis;

  beforeAll(async () => {
    r = connect();
    await r.flushall();
  });

  afterAll(async () => {
    for (const c of clients) c.disconnect();
  });

  test('lists: push, range, index, pop with count, binary elements', async () => {
    expect(await r.rpush('l', 'a', 'b', 'c')).toBe(3);
    expect(await r.lpush('l', 'z')).toBe(4);
    expect(await r.lrange('l', 0, -1)).toEqual(['z', 'a', 'b', 'c']);
    expect(await r.lrange('l', -2, -1)).toEqual(['b', 'c']);
    expect(await r.lindex('l', -1)).toBe('c');
    expect(await r.linsert('l', 'BEFORE', 'b', 'x')).toBe(5);
    expect(await r.lpos('l', 'x')).toBe(2);
    expect(await r.lpop('l', 2)).toEqual(['z', 'a']);
    expect(await r.rpop('l')).toBe('c');
    expect(await r.lmove('l', 'l2', 'LEFT', 'RIGHT')).toBe('x');
    expect(await r.llen('l')).toBe(1);
    const bin = Buffer.from([0, 255, 13, 10]);
    await r.rpush('lb', bin, '');
    const got = await r.lrangeBuffer('lb', 0, -1);
    expect(got[0].equals(bin)).toBe(true);
    expect(got[1].length).toBe(0);
    await r.set('str', 'x');
    await expect(r.lpush('str', 'a')).rejects.toThrow('WRONGTYPE Operation against a key holding the wrong kind of value');
  });

  test('BLPOP and BRPOP are served by another client\'s push, first blocked first served', async () => {
    const b1 = connect();
    const b2 = connect();
    const pusher = connect();
    await r.del('q', 'q2');
    const first = b1.blpop('q', 5);
    await h.sleep(100);
    const second = b2.blpop('q', 5);
    await h.sleep(100);
    expect(await pusher.rpush('q', 'one', 'two')).toBe(2);
    expect(await first).toEqual(['q', 'one']);
    expect(await second).toEqual(['q', 'two']);
    // BRPOP over two keys, woken by a push to the second.
    const popped = b1.brpop('q', 'q2', 5);
    await h.sleep(100);
    await pusher.lpush('q2', 'x', 'y');
    expect(await popped).toEqual(['q2', 'x']);
    // A timeout replies null.
    const t0 = Date.now();
    expect(await b2.blpop('nothing', 0.1)).toBeNull();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(90);
    expect(await r.lrange('q2', 0, -1)).toEqual(['y']);
  });

  test('hashes: hset with an object, hgetall to an object', async () => {
    expect(await r.hset('h', { name: 'keel', lang: 'ts', n: '1' })).toBe(3);
    expect(await r.hgetall('h')).toEqual({ name: 'keel', lang: 'ts', n: '1' });
    expect(await r.hget('h', 'name')).toBe('keel');
    expect(await r.hmget('h', 'lang', 'nope')).toEqual(['ts', null]);
    expect(await r.hincrby('h', 'n', 41)).toBe(42);
    expect(await r.hincrbyfloat('h', 'f', '1.5')).toBe('1.5');
    expect(await r.hdel('h', 'lang', 'nope')).toBe(1);
    expect(await r.hlen('h')).toBe(3);
    expect((await r.hkeys('h')).sort()).toEqual(['f', 'n', 'name']);
    expect(await r.hexists('h', 'name')).toBe(1);
    expect(await r.hgetall('missing')).toEqual({});
    const field = await r.hrandfield('h');
    expect(['f', 'n', 'name']).toContain(field);
  });

  test('sets: add, members, membership, algebra', async () => {
    expect(await r.sadd('s1', 'a', 'b', 'c', 'a')).toBe(3);
    await r.sadd('s2', 'b', 'c', 'd');
    expect((await r.smembers('s1')).sort()).toEqual(['a', 'b', 'c']);
    expect(await r.sismember('s1', 'a')).toBe(1);
    expect(await r.smismember('s1', 'a', 'z')).toEqual([1, 0]);
    expect((await r.sinter('s1', 's2')).sort()).toEqual(['b', 'c']);
    expect((await r.sunion('s1', 's2')).sort()).toEqual(['a', 'b', 'c', 'd']);
    expect(await r.sdiff('s1', 's2')).toEqual(['a']);
    expect(await r.scard('s1')).toBe(3);
    const popped = await r.spop('s1');
    expect(['a', 'b', 'c']).toContain(popped);
    expect(await r.scard('s1')).toBe(2);
    // Integer sets come back in ascending order (an intset).
    await r.sadd('ints', '10', '-3', '7');
    expect(await r.smembers('ints')).toEqual(['-3', '7', '10']);
  });

  test('sorted sets: scores, ranges with scores and limits, pops', async () => {
    expect(await r.zadd('z', 1, 'a', 2, 'b', 3, 'c', 1.5, 'ab')).toBe(4);
    expect(await r.zrange('z', 0, -1, 'WITHSCORES')).toEqual(['a', '1', 'ab', '1.5', 'b', '2', 'c', '3']);
    expect(await r.zrangebyscore('z', '(1', '+inf', 'WITHSCORES', 'LIMIT', 1, 2)).toEqual(['b', '2', 'c', '3']);
    expect(await r.zrevrangebyscore('z', 'inf', '-inf', 'LIMIT', 0, 2)).toEqual(['c', 'b']);
    expect(await r.zscore('z', 'ab')).toBe('1.5');
    expect(await r.zincrby('z', '0.25', 'a')).toBe('1.25');
    expect(await r.zrank('z', 'b')).toBe(2);
    expect(await r.zadd('z', 'GT', 'CH', 0, 'c', 10, 'b')).toBe(1);
    expect(await r.zpopmin('z')).toEqual(['a', '1.25']);
    expect(await r.zpopmax('z', 1)).toEqual(['b', '10']);
    await r.zadd('inf', '-inf', 'lo', '+inf', 'hi');
    expect(await r.zrange('inf', 0, -1, 'WITHSCORES')).toEqual(['lo', '-inf', 'hi', 'inf']);
    expect(await r.zcard('z')).toBe(2);
  });
});

for (const RESP of [2, 3] as const) {
  describe(`node-redis, RESP${RESP}: collections`, () => {
    type Client = ReturnType<typeof createClient>;
    const clients: Client[] = [];
    const connect = async (): Promise<Client> => {
      const c = createClient({
        socket: { host: h.HOST, port: server!.port, reconnectStrategy: false, connectTimeout: 5000 },
        RESP,
      });
      c.on('error', () => undefined); // failures surface through the awaited commands
      clients.push(c);
      await c.connect();
      return c;
    };
    let c: Client;
    const k = (name: string) => `${name}:${RESP}`;

    beforeAll(async () => {
      c = await connect();
    });

    afterAll(async () => {
      for (const x of clients) {
        if (x.isOpen) x.destroy();
      }
    });

    test('lists', async () => {
      expect(await c.rPush(k('l'), ['a', 'b', 'c'])).toBe(3);
      expect(await c.lPush(k('l'), 'z')).toBe(4);
      expect(await c.lRange(k('l'), 0, -1)).toEqual(['z', 'a', 'b', 'c']);
      expect(await c.lPop(k('l'))).toBe('z');
      expect(await c.rPop(k('l'))).toBe('c');
      expect(await c.lLen(k('l'))).toBe(2);
      expect(await c.lIndex(k('l'), -1)).toBe('b');
      expect(await c.lPop(k('missing'))).toBeNull();
    });

    test('BLPOP served by another client\'s push; BRPOP times out with null', async () => {
      const blocker = await connect();
      const pusher = await connect();
      const waiting = blocker.blPop(k('q'), 5);
      await h.sleep(100);
      expect(await pusher.rPush(k('q'), ['first', 'second'])).toBe(2);
      expect(await waiting).toEqual({ key: k('q'), element: 'first' });
      expect(await blocker.brPop(k('q'), 1)).toEqual({ key: k('q'), element: 'second' });
      expect(await blocker.brPop(k('empty'), 0.1)).toBeNull();
    });

    test('hashes: hGetAll to an object', async () => {
      expect(await c.hSet(k('h'), { name: 'keel', n: '1' })).toBe(2);
      expect({ ...(await c.hGetAll(k('h'))) }).toEqual({ name: 'keel', n: '1' });
      expect(await c.hGet(k('h'), 'name')).toBe('keel');
      expect(await c.hIncrBy(k('h'), 'n', 9)).toBe(10);
      expect(await c.hExists(k('h'), 'nope')).toBe(0);
      expect({ ...(await c.hGetAll(k('missing'))) }).toEqual({});
    });

    test('sets', async () => {
      expect(await c.sAdd(k('s'), ['x', 'y', 'z', 'x'])).toBe(3);
      expect([...(await c.sMembers(k('s')))].sort()).toEqual(['x', 'y', 'z']);
      expect(await c.sIsMember(k('s'), 'y')).toBe(1);
      expect(await c.sCard(k('s'))).toBe(3);
      expect(await c.sRem(k('s'), 'y')).toBe(1);
      expect([...(await c.sInter([k('s'), k('s')]))].sort()).toEqual(['x', 'z']);
      await c.sAdd(k('ints'), ['3', '1', '2']);
      expect([...(await c.sMembers(k('ints')))]).toEqual(['1', '2', '3']);
    });

    test('sorted sets with scores', async () => {
      expect(await c.zAdd(k('z'), [{ score: 1, value: 'a' }, { score: 2.5, value: 'b' }, { score: 3, value: 'c' }])).toBe(3);
      expect(await c.zRangeWithScores(k('z'), 0, -1)).toEqual([
        { value: 'a', score: 1 }, { value: 'b', score: 2.5 }, { value: 'c', score: 3 },
      ]);
      expect(await c.zRangeByScore(k('z'), '(1', '+inf', { LIMIT: { offset: 1, count: 5 } })).toEqual(['c']);
      expect(await c.zRangeByScoreWithScores(k('z'), '-inf', 2.5, { LIMIT: { offset: 0, count: 1 } })).toEqual([
        { value: 'a', score: 1 },
      ]);
      expect(await c.zScore(k('z'), 'b')).toBe(2.5);
      expect(await c.zRank(k('z'), 'c')).toBe(2);
      expect(await c.zPopMin(k('z'))).toEqual({ value: 'a', score: 1 });
      expect(await c.zCard(k('z'))).toBe(2);
      await c.zAdd(k('inf'), [{ score: -Infinity, value: 'lo' }, { score: Infinity, value: 'hi' }]);
      expect(await c.zRangeWithScores(k('inf'), 0, -1)).toEqual([
        { value: 'lo', score: -Infinity }, { value: 'hi', score: Infinity },
      ]);
    });
  });
}
