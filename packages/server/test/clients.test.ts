// Client libraries against Keel (issue 2, section 5): ioredis and node-redis (RESP2 and RESP3),
// used the way applications use them. KEEL_TARGET=redis runs the same tests against redis-server.

import Redis from 'ioredis';
import { createClient, RESP_TYPES, WatchError } from 'redis';
import * as h from './harness';

// The safety net: whatever a failed beforeAll left running is stopped.
afterAll(() => h.stopEverything(), 30000);

const timeoutMs = 30000;

/** Resolves with the first value the callback passes to `settle`, or rejects after ms. */
function within<T>(ms: number, what: string, start: (settle: (v: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    start((v) => { clearTimeout(timer); resolve(v); });
  });
}

let server: h.ServerHandle | undefined;

beforeAll(async () => {
  server = await h.startServer(h.targetSpec());
}, timeoutMs);

afterAll(async () => {
  await h.stopAll(server);
}, timeoutMs);

describe('ioredis', () => {
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

  test('set and get binary Buffers', async () => {
    const key = Buffer.from([0x00, 0xff, 0x0d, 0x0a, 0x6b]);
    const value = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    expect(await r.set(key, value)).toBe('OK');
    expect((await r.getBuffer(key))!.equals(value)).toBe(true);
    expect(await r.strlen(key)).toBe(256);
    expect(await r.set('empty', '')).toBe('OK');
    expect(await r.get('empty')).toBe('');
    expect(await r.get('missing')).toBeNull();
  });

  test('pipeline', async () => {
    const res = await r.pipeline().set('p', '1').incr('p').get('p').incrby('p', 10).del('p').get('p').exec();
    expect(res).toEqual([[null, 'OK'], [null, 2], [null, '2'], [null, 12], [null, 1], [null, null]]);
    // A pipeline with an error in the middle still runs the rest.
    await r.set('ptext', 'abc');
    const res2 = await r.pipeline().incr('ptext').set('pok', 'x').exec();
    expect(res2![0][0]).toBeInstanceOf(Error);
    expect((res2![0][0] as Error).message).toBe('ERR value is not an integer or out of range');
    expect(res2![1]).toEqual([null, 'OK']);
  });

  test('multi/exec, and a runtime error inside does not roll back the rest', async () => {
    await r.set('t:str', 'abc');
    const res = await r.multi().set('t:a', '1').incr('t:a').incr('t:str').get('t:a').exec();
    expect(res![0]).toEqual([null, 'OK']);
    expect(res![1]).toEqual([null, 2]);
    expect((res![2][0] as Error).message).toBe('ERR value is not an integer or out of range');
    expect(res![3]).toEqual([null, '2']);
  });

  test('watch: a change by another client aborts the transaction', async () => {
    const other = connect();
    await r.set('w', '1');
    await r.watch('w');
    await other.set('w', '2');
    const res = await r.multi().set('w', '3').exec();
    expect(res).toBeNull();
    expect(await r.get('w')).toBe('2');
    // Without interference the transaction commits.
    await r.watch('w');
    expect(await r.multi().set('w', '4').exec()).toEqual([[null, 'OK']]);
    expect(await r.get('w')).toBe('4');
  });

  test('pub/sub: subscribe in one client, publish from another', async () => {
    const sub = connect();
    const pub = connect();
    expect(await sub.subscribe('news')).toBe(1);
    expect(await sub.psubscribe('n*')).toBe(2);
    const got: string[] = [];
    const all = within<void>(5000, 'two messages', (settle) => {
      sub.on('message', (channel: string, message: string) => { got.push(`message ${channel} ${message}`); if (got.length === 2) settle(); });
      sub.on('pmessage', (pattern: string, channel: string, message: string) => {
        got.push(`pmessage ${pattern} ${channel} ${message}`);
        if (got.length === 2) settle();
      });
    });
    expect(await pub.publish('news', 'hello')).toBe(2);
    await all;
    expect(got.sort()).toEqual(['message news hello', 'pmessage n* news hello']);
    expect(await pub.pubsub('NUMSUB', 'news')).toEqual(['news', 1]);
    await sub.unsubscribe('news');
    await sub.punsubscribe('n*');
    expect(await pub.publish('news', 'nobody')).toBe(0);
  });

  test('expire and ttl', async () => {
    await r.set('e', 'v');
    expect(await r.ttl('e')).toBe(-1);
    expect(await r.expire('e', 100)).toBe(1);
    const ttl = await r.ttl('e');
    expect(ttl).toBeGreaterThanOrEqual(99);
    expect(ttl).toBeLessThanOrEqual(100);
    const pttl = await r.pttl('e');
    expect(pttl).toBeGreaterThan(98000);
    expect(pttl).toBeLessThanOrEqual(100000);
    expect(await r.persist('e')).toBe(1);
    expect(await r.ttl('e')).toBe(-1);
    expect(await r.ttl('nosuchkey')).toBe(-2);
    expect(await r.set('px', 'v', 'PX', 50)).toBe('OK');
    await h.sleep(120);
    expect(await r.get('px')).toBeNull();
    expect(await r.exists('px')).toBe(0);
  });

  test('scan iteration returns every key', async () => {
    const keys = Array.from({ length: 1000 }, (_, i) => `scan:${i}`);
    await r.mset(...keys.flatMap((k) => [k, 'x']));
    await r.set('other', 'x');
    const seen = new Set<string>();
    let cursor = '0';
    let calls = 0;
    do {
      const [next, batch] = await r.scan(cursor, 'MATCH', 'scan:*', 'COUNT', 100);
      batch.forEach((k) => seen.add(k));
      cursor = next;
      expect(++calls).toBeLessThan(10000);
    } while (cursor !== '0');
    expect([...seen].sort()).toEqual([...keys].sort());
    // The stream helper, as applications use it.
    const streamed = new Set<string>();
    await within<void>(10000, 'scanStream end', (settle) => {
      const s = r.scanStream({ match: 'scan:1*', count: 50 });
      s.on('data', (batch: string[]) => batch.forEach((k) => streamed.add(k)));
      s.on('end', () => settle());
    });
    expect([...streamed].sort()).toEqual(keys.filter((k) => k.startsWith('scan:1')).sort());
  });

  test('mget/mset, incr and friends', async () => {
    expect(await r.mset({ m1: 'a', m2: 'b' })).toBe('OK');
    expect(await r.mget('m1', 'm2', 'm3')).toEqual(['a', 'b', null]);
    expect(await r.incr('counter')).toBe(1);
    expect(await r.incrby('counter', 41)).toBe(42);
    expect(await r.decr('counter')).toBe(41);
    expect(await r.incrbyfloat('f', '1.5')).toBe('1.5');
    await expect(r.incr('m1')).rejects.toThrow('ERR value is not an integer or out of range');
    await expect(r.call('nosuchcommand')).rejects.toThrow("ERR unknown command 'nosuchcommand'");
  });
});

for (const RESP of [2, 3] as const) {
  describe(`node-redis, RESP${RESP}`, () => {
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

    beforeAll(async () => {
      c = await connect();
      await c.flushAll();
    });

    afterAll(async () => {
      for (const x of clients) {
        if (x.isOpen) x.destroy();
      }
    });

    test('set and get binary Buffers', async () => {
      const key = Buffer.from([0x00, 0xff, 0x0d, 0x0a]);
      const value = Buffer.from(Array.from({ length: 256 }, (_, i) => 255 - i));
      expect(await c.set(key, value)).toBe('OK');
      const bin = c.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
      const got = await bin.get(key);
      expect(Buffer.isBuffer(got)).toBe(true);
      expect((got as unknown as Buffer).equals(value)).toBe(true);
      expect(await c.get('missing')).toBeNull();
    });

    test('pipeline', async () => {
      const res = await c.multi().set('p', '1').incr('p').get('p').del('p').execAsPipeline();
      expect(res).toEqual(['OK', 2, '2', 1]);
    });

    test('multi/exec', async () => {
      const res = await c.multi().set('t', '10').incrBy('t', 5).get('t').exec();
      expect(res).toEqual(['OK', 15, '15']);
    });

    test('watch: a change by another client aborts the transaction', async () => {
      const other = await connect();
      await c.set('w', '1');
      await c.watch('w');
      await other.set('w', '2');
      await expect(c.multi().set('w', '3').exec()).rejects.toBeInstanceOf(WatchError);
      expect(await c.get('w')).toBe('2');
    });

    test('pub/sub: subscribe in one client, publish from another', async () => {
      const sub = await connect();
      const pub = await connect();
      const got = within<string>(5000, 'a message', (settle) => {
        void sub.subscribe('news', (message, channel) => settle(`${channel}:${message}`));
      });
      // Wait for the subscription to be registered before publishing.
      for (let i = 0; i < 100 && Number((await pub.pubSubNumSub('news'))['news']) === 0; i++) await h.sleep(10);
      expect(await pub.publish('news', 'hello')).toBe(1);
      expect(await got).toBe('news:hello');
      await sub.unsubscribe('news');
    });

    test('expire and ttl', async () => {
      await c.set('e', 'v', { EX: 100 });
      const ttl = await c.ttl('e');
      expect(ttl).toBeGreaterThanOrEqual(99);
      expect(ttl).toBeLessThanOrEqual(100);
      expect(await c.expire('e', 200)).toBe(1);
      expect(await c.ttl('e')).toBeGreaterThan(100);
      expect(await c.persist('e')).toBe(1);
      expect(await c.ttl('e')).toBe(-1);
    });

    test('scan iteration returns every key', async () => {
      const keys = Array.from({ length: 500 }, (_, i) => `s${RESP}:${i}`);
      await c.mSet(keys.map((k) => [k, 'x'] as [string, string]));
      const seen = new Set<string>();
      for await (const batch of c.scanIterator({ MATCH: `s${RESP}:*`, COUNT: 100 })) {
        for (const k of batch) seen.add(k);
      }
      expect([...seen].sort()).toEqual([...keys].sort());
    });

    test('mget/mset and incr', async () => {
      await c.mSet({ a: '1', b: '2' });
      expect(await c.mGet(['a', 'b', 'zz'])).toEqual(['1', '2', null]);
      expect(await c.incr('a')).toBe(2);
      expect(await c.incrByFloat('a', 0.5)).toBe('2.5');
      await expect(c.incr('a')).rejects.toThrow('ERR value is not an integer or out of range');
    });
  });
}
