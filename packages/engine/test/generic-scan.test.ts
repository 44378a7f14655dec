// SCAN (types/generic.ts) over the table's reverse-binary cursor: options and errors, the
// guarantee that a key present for the whole scan is returned (while the table grows, shrinks
// and rehashes between calls), and determinism of SCAN, KEYS and RANDOMKEY across replicas.

import { Dict, EncodingConfig, seededRandom, TypedValue } from '../src';
import { Harness, T0 } from './harness';
import { parseScanCursor } from '../src/types/generic';



const OK = '+OK\r\n';
const NIL = '$-1\r\n';
const int = (n: number | string): string => `:${n}\r\n`;
const bulk = (s: string): string => `$${s.length}\r\n${s}\r\n`;
const simple = (s: string): string => `+${s}\r\n`;
const err = (s: string): string => `-${s}\r\n`;
const arr = (...items: string[]): string => `*${items.length}\r\n${items.join('')}`;

/** Parses a SCAN reply into its cursor and keys. */
function parseScan(reply: string): { cursor: string; keys: string[] } {
  let pos = 0;
  const line = (): string => {
    const nl = reply.indexOf('\r\n', pos);
    const s = reply.slice(pos, nl);
    pos = nl + 2;
    return s;
  };
  const bulkAt = (): string => {
    const n = Number(line().slice(1));
    const s = reply.slice(pos, pos + n);
    pos += n + 2;
    return s;
  };
  if (line() !== '*2') throw new Error(`not a SCAN reply: ${JSON.stringify(reply)}`);
  const cursor = bulkAt();
  const count = Number(line().slice(1));
  const keys: string[] = [];
  for (let i = 0; i < count; i++) keys.push(bulkAt());
  if (pos !== reply.length) throw new Error(`trailing bytes in ${JSON.stringify(reply)}`);
  return { cursor, keys };
}

/** A whole SCAN iteration; returns every key in the order returned. */
function scanAll(h: Harness, ...options: string[]): string[] {
  const out: string[] = [];
  let cursor = '0';
  let calls = 0;
  do {
    const r = parseScan(h.run('scan', cursor, ...options));
    out.push(...r.keys);
    cursor = r.cursor;
    if (++calls > 1_000_000) throw new Error('scan does not end');
  } while (cursor !== '0');
  return out;
}

class FakeSet implements TypedValue {
  readonly type = 'set';
  encoding(_config: EncodingConfig): string {
    return 'listpack';
  }
  clone(): TypedValue {
    return new FakeSet();
  }
}

/** The two tables of a Dict, read from its private fields (to observe rehashing). */
function tables(d: Dict<unknown>): { t0: number; t1: number | null } {
  const x = d as unknown as { t0: unknown[]; t1: unknown[] | null };
  return { t0: x.t0.length, t1: x.t1 === null ? null : x.t1.length };
}

let h: Harness;
beforeEach(() => {
  h = new Harness();
});

describe('SCAN basics', () => {
  test('an empty database', () => {
    expect(h.run('scan', '0')).toBe(arr(bulk('0'), arr()));
  });

  test('a full scan of a stable table returns every key exactly once', () => {
    for (let i = 0; i < 1000; i++) h.run('set', `key:${i}`, 'v');
    for (const count of ['1', '10', '1000', '100000']) {
      const keys = scanAll(h, 'COUNT', count);
      expect(keys.length).toBe(1000);
      expect(new Set(keys).size).toBe(1000);
    }
    expect(scanAll(h).length).toBe(1000);
  });

  test('MATCH filters after collecting', () => {
    for (let i = 0; i < 300; i++) h.run('set', `${i % 3 === 0 ? 'a' : 'b'}:${i}`, 'v');
    const keys = scanAll(h, 'match', 'a:*', 'count', '7');
    expect(keys.length).toBe(100);
    expect(keys.every((k) => k.startsWith('a:'))).toBe(true);
    expect(scanAll(h, 'MATCH', '*').length).toBe(300);
    expect(scanAll(h, 'MATCH', 'zzz').length).toBe(0);
  });

  test('TYPE filters by type name, case-insensitively', () => {
    for (let i = 0; i < 50; i++) h.run('set', `s${i}`, 'v');
    for (let i = 0; i < 20; i++) h.engine.db(0).set(`set${i}`, new FakeSet());
    expect(scanAll(h, 'type', 'string').length).toBe(50);
    expect(scanAll(h, 'TYPE', 'SET').length).toBe(20);
    expect(scanAll(h, 'type', 'list').length).toBe(0);
    expect(scanAll(h, 'type', 'nosuchtype').length).toBe(0);
    expect(scanAll(h, 'type', 'set', 'match', 'set1*').length).toBe(11);
  });

  test('expired keys are skipped and not deleted', () => {
    for (let i = 0; i < 100; i++) h.run('set', `k${i}`, 'v', ...(i % 2 === 0 ? ['px', '10'] : []));
    h.now += 10;
    const keys = scanAll(h);
    expect(keys.length).toBe(50);
    expect(h.run('dbsize')).toBe(int(100));
  });

  test('the cursor is a decimal bulk string; a scan ends at cursor 0', () => {
    for (let i = 0; i < 100; i++) h.run('set', `k${i}`, 'v');
    const r = parseScan(h.run('scan', '0', 'count', '1'));
    expect(r.cursor).toMatch(/^[1-9][0-9]*$/);
  });

  test('options and their errors', () => {
    h.run('set', 'a', '1');
    const syntax = err('ERR syntax error');
    expect(h.run('scan', '0', 'count', '0')).toBe(syntax);
    expect(h.run('scan', '0', 'count', '-1')).toBe(syntax);
    expect(h.run('scan', '0', 'count', 'x')).toBe(err('ERR value is not an integer or out of range'));
    expect(h.run('scan', '0', 'count', '9223372036854775808')).toBe(err('ERR value is not an integer or out of range'));
    expect(h.run('scan', '0', 'count')).toBe(syntax);
    expect(h.run('scan', '0', 'match')).toBe(syntax);
    expect(h.run('scan', '0', 'type')).toBe(syntax);
    expect(h.run('scan', '0', 'foo', 'bar')).toBe(syntax);
    expect(h.run('scan', '0', 'count', '0', 'match', '[')).toBe(syntax);
    expect(h.run('scan', '0', 'count', '9223372036854775807')).toBe(arr(bulk('0'), arr(bulk('a'))));
    expect(h.run('scan', '0', 'match', 'x', 'count', '1', 'type', 'string', 'COUNT', '5', 'MATCH', 'a')).toBe(arr(bulk('0'), arr(bulk('a'))));
    expect(h.run('scan')).toBe(err("ERR wrong number of arguments for 'scan' command"));
  });
});

describe('SCAN cursor parsing (strtoul, as Redis)', () => {
  test.each([
    ['0', 0],
    ['', 0],
    ['+0', 0],
    ['00', 0],
    ['007', 7],
    ['4294967296', 0],
    ['4294967297', 1],
    ['18446744073709551615', 0xffffffff],
    ['-1', 0xffffffff],
    ['-18446744073709551615', 1],
    ['5\x00abc', 5],
    ['\x00', 0],
  ])('%j is cursor %d (low 32 bits)', (s, v) => {
    expect(parseScanCursor(s)).toBe(v);
  });

  test.each(['1 ', ' 1', '\t1', '\n1', '18446744073709551616', '-18446744073709551616', '-', '+', '0x1', '1e3', 'abc', '1.0'])(
    '%j is an invalid cursor',
    (s) => {
      expect(h.run('scan', s)).toBe(err('ERR invalid cursor'));
    },
  );

  test('cursors Redis accepts reply as Redis does on an empty database', () => {
    for (const s of ['', '-1', '+0', '18446744073709551615']) expect(h.run('scan', s)).toBe(arr(bulk('0'), arr()));
  });
});

describe('SCAN guarantee: every key present for the whole scan is returned', () => {
  test('10,000 keys, with inserts and deletes between calls while the table shrinks and grows', () => {
    const dict = h.engine.db(0).dict;
    const stable: string[] = [];
    for (let i = 0; i < 2000; i++) stable.push(`stable:${i}`);
    const volatile: string[] = [];
    for (let i = 0; i < 8000; i++) volatile.push(`volatile:${i}`);
    const ever = new Set<string>([...stable, ...volatile]);
    const rng = seededRandom(42);
    // Interleave so that stable keys are spread over the whole table.
    for (let i = 0; i < 10_000; i++) h.run('set', i % 5 === 0 ? stable[i / 5]! : volatile[i - Math.floor(i / 5) - 1]!, 'v');
    expect(h.run('dbsize')).toBe(int(10_000));

    const returned = new Set<string>();
    const seen = { shrinking: 0, growing: 0, sizes: new Set<number>() };
    let cursor = '0';
    let call = 0;
    let next = 0;
    const added: string[] = [];
    const unknown: string[] = [];
    do {
      // Between calls: first delete all the volatile keys (the table shrinks to 2048 buckets),
      // then add new keys and delete some of them (it grows back to 16384).
      if (call < 400) {
        for (let j = 0; j < 20 && volatile.length > 0; j++) {
          const k = volatile.splice(Math.floor(rng() * volatile.length), 1)[0]!;
          if (h.run('del', k) !== int(1)) throw new Error(`DEL ${k} failed`);
        }
      } else {
        for (let j = 0; j < 30; j++) {
          const k = `new:${next++}`;
          ever.add(k);
          added.push(k);
          h.run('set', k, 'v');
        }
        for (let j = 0; j < 10; j++) h.run('del', added.splice(Math.floor(rng() * added.length), 1)[0]!);
      }
      const t = tables(dict);
      seen.sizes.add(t.t0);
      if (t.t1 !== null && t.t1 < t.t0) seen.shrinking++;
      if (t.t1 !== null && t.t1 > t.t0) seen.growing++;

      const r = parseScan(h.run('scan', cursor, 'count', '5'));
      for (const k of r.keys) {
        if (!ever.has(k)) unknown.push(k);
        returned.add(k);
      }
      cursor = r.cursor;
      if (++call > 100_000) throw new Error('scan does not end');
    } while (cursor !== '0');

    expect(unknown).toEqual([]);
    const missing = stable.filter((k) => !returned.has(k));
    expect(missing).toEqual([]);
    // The scan really ran across both kinds of resize, mid-rehash.
    expect(seen.shrinking).toBeGreaterThan(0);
    expect(seen.growing).toBeGreaterThan(0);
    expect(seen.sizes.has(2048)).toBe(true);
    expect(seen.sizes.has(16384)).toBe(true);
  });

  test('random workloads at several seeds keep the guarantee', () => {
    for (let seed = 1; seed <= 5; seed++) {
      const hh = new Harness();
      const rng = seededRandom(seed);
      const keys: string[] = [];
      for (let i = 0; i < 3000; i++) {
        keys.push(`k:${i}`);
        hh.run('set', `k:${i}`, 'v');
      }
      const protectedKeys = new Set(keys.filter(() => rng() < 0.3));
      const returned = new Set<string>();
      let cursor = '0';
      let n = 3000;
      do {
        const ops = Math.floor(rng() * 60);
        for (let j = 0; j < ops; j++) {
          // Inserts are capped so that the table stops growing and the scan ends.
          if (rng() < 0.5 && n < 9000) {
            hh.run('set', `k:${n++}`, 'v');
          } else {
            const k = `k:${Math.floor(rng() * n)}`;
            if (!protectedKeys.has(k)) hh.run('del', k);
          }
        }
        const r = parseScan(hh.run('scan', cursor, 'count', String(1 + Math.floor(rng() * 20))));
        for (const k of r.keys) returned.add(k);
        cursor = r.cursor;
      } while (cursor !== '0');
      expect([...protectedKeys].filter((k) => !returned.has(k))).toEqual([]);
    }
  });
});

describe('determinism: replicas fed the same commands reply the same', () => {
  function feed(hh: Harness, seed: number): void {
    const rng = seededRandom(seed);
    for (let i = 0; i < 5000; i++) {
      const k = `key:${Math.floor(rng() * 3000)}`;
      const op = rng();
      if (op < 0.6) hh.run('set', k, 'v');
      else if (op < 0.8) hh.run('del', k);
      else if (op < 0.9) hh.run('pexpire', k, String(Math.floor(rng() * 100)));
      else hh.run('rename', k, `key:${Math.floor(rng() * 3000)}`);
      hh.now += rng() < 0.1 ? 1 : 0;
    }
  }

  test('SCAN, KEYS and RANDOMKEY', () => {
    const a = new Harness();
    const b = new Harness();
    feed(a, 7);
    feed(b, 7);
    a.now = b.now = T0 + 50;
    let cursor = '0';
    const repliesA: string[] = [];
    const repliesB: string[] = [];
    do {
      repliesA.push(a.run('scan', cursor, 'count', '13'));
      repliesB.push(b.run('scan', cursor, 'count', '13'));
      cursor = parseScan(repliesA[repliesA.length - 1]!).cursor;
    } while (cursor !== '0');
    expect(repliesB).toEqual(repliesA);
    expect(a.run('keys', '*')).toBe(b.run('keys', '*'));
    expect(a.run('keys', 'key:1*')).toBe(b.run('keys', 'key:1*'));
    const randomA: string[] = [];
    const randomB: string[] = [];
    for (let i = 0; i < 200; i++) {
      randomA.push(a.run('randomkey'));
      randomB.push(b.run('randomkey'));
    }
    expect(randomB).toEqual(randomA);
    expect(new Set(randomA).size).toBeGreaterThan(100);
    // And a different history gives a different order (the check above is not vacuous).
    const c = new Harness();
    feed(c, 8);
    c.now = T0 + 50;
    expect(c.run('keys', '*')).not.toBe(a.run('keys', '*'));
  });
});
