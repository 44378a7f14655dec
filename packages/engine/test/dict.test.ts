// Dict (dict.ts): lookups across incremental growth and shrink, the reverse-binary SCAN
// guarantee while the table resizes, and deterministic iteration and random draws.

import { Dict, seededRandom } from '../src';

/** The sizes of a Dict's two tables, read from its private fields. */
function tables(d: Dict<unknown>): { t0: number; t1: number | null } {
  const x = d as unknown as { t0: unknown[]; t1: unknown[] | null };
  return { t0: x.t0.length, t1: x.t1 === null ? null : x.t1.length };
}

/** Checks that d holds exactly the entries of m, by lookup and by iteration. */
function expectSame(d: Dict<number>, m: Map<string, number>): void {
  expect(d.size).toBe(m.size);
  for (const [k, v] of m) {
    if (d.get(k) !== v) throw new Error(`key ${k}: ${d.get(k)} !== ${v}`);
  }
  const iterated = new Set<string>();
  for (const e of d.entries()) {
    if (iterated.has(e.key)) throw new Error(`key ${e.key} iterated twice`);
    if (m.get(e.key) !== e.value) throw new Error(`key ${e.key} iterated with ${e.value}`);
    iterated.add(e.key);
  }
  expect(iterated.size).toBe(m.size);
}

describe('Dict', () => {
  test('set, get, replace and delete', () => {
    const d = new Dict<number>();
    expect(d.get('a')).toBeUndefined();
    expect(d.delete('a')).toBe(false);
    expect(d.set('a', 1)).toBe(true);
    expect(d.set('a', 2)).toBe(false);
    expect(d.get('a')).toBe(2);
    expect(d.has('a')).toBe(true);
    expect(d.size).toBe(1);
    expect(d.delete('a')).toBe(true);
    expect(d.has('a')).toBe(false);
    expect(d.size).toBe(0);
  });

  test('binary keys, including the empty key', () => {
    const d = new Dict<number>();
    const keys = ['', '\x00', '\x00\x00', '\xff', 'a\r\nb'];
    keys.forEach((k, i) => d.set(k, i));
    keys.forEach((k, i) => expect(d.get(k)).toBe(i));
  });

  test('grows and shrinks incrementally, every lookup right at every step', () => {
    const d = new Dict<number>();
    const m = new Map<string, number>();
    const sizes = new Set<number>();
    let sawRehash = false;
    for (let i = 0; i < 20_000; i++) {
      d.set(`k${i}`, i);
      m.set(`k${i}`, i);
      const t = tables(d);
      sizes.add(t.t0);
      if (t.t1 !== null) sawRehash = true;
      if (i % 1999 === 0) expectSame(d, m);
    }
    expectSame(d, m);
    expect(sawRehash).toBe(true);
    expect(tables(d).t0).toBeGreaterThanOrEqual(16_384);
    expect(sizes.has(4) && sizes.has(1024)).toBe(true);

    for (let i = 0; i < 19_990; i++) {
      if (!d.delete(`k${i}`)) throw new Error(`k${i} not deleted`);
      m.delete(`k${i}`);
      if (i % 1999 === 0) expectSame(d, m);
    }
    expectSame(d, m);
    // A few more writes finish any pending shrink.
    for (let i = 0; i < 100; i++) d.set('extra', i);
    d.delete('extra');
    for (let i = 0; i < 100; i++) d.set('extra', i);
    d.delete('extra');
    expect(tables(d).t0).toBeLessThanOrEqual(64);
    expectSame(d, m);
  });

  test('random operations agree with a Map', () => {
    const rng = seededRandom(3);
    const d = new Dict<number>();
    const m = new Map<string, number>();
    for (let i = 0; i < 100_000; i++) {
      const k = `x${Math.floor(rng() * 5000)}`;
      const r = rng();
      // Phases of mostly inserts and mostly deletes, so the table grows and shrinks repeatedly.
      const insertBias = Math.floor(i / 10_000) % 2 === 0 ? 0.8 : 0.2;
      if (r < insertBias) {
        if (d.set(k, i) !== !m.has(k)) throw new Error(`set ${k} at ${i}`);
        m.set(k, i);
      } else if (d.delete(k) !== m.delete(k)) {
        throw new Error(`delete ${k} at ${i}`);
      }
      if (i % 5000 === 0) expectSame(d, m);
    }
    expectSame(d, m);
  });

  test('clear', () => {
    const d = new Dict<number>();
    for (let i = 0; i < 1000; i++) d.set(String(i), i);
    d.clear();
    expect(d.size).toBe(0);
    expect(d.get('1')).toBeUndefined();
    expect([...d.keys()]).toEqual([]);
    d.set('a', 1);
    expect(d.get('a')).toBe(1);
  });

  describe('scan', () => {
    function scanAll(d: Dict<number>): string[] {
      const out: string[] = [];
      let cursor = 0;
      do cursor = d.scan(cursor, (e) => out.push(e.key));
      while (cursor !== 0);
      return out;
    }

    test('an empty table ends at once', () => {
      const d = new Dict<number>();
      expect(d.scan(0, () => undefined)).toBe(0);
      expect(d.scan(12345, () => undefined)).toBe(0);
    });

    test('a stable table yields each key exactly once, even mid-rehash', () => {
      for (const n of [1, 3, 4, 5, 100, 4096, 10_000]) {
        const d = new Dict<number>();
        for (let i = 0; i < n; i++) d.set(`k${i}`, i);
        const keys = scanAll(d);
        expect(keys.length).toBe(n);
        expect(new Set(keys).size).toBe(n);
      }
      // Stop a growth in the middle: 4097 inserts start a rehash that has not finished.
      const d = new Dict<number>();
      for (let i = 0; i < 4097; i++) d.set(`k${i}`, i);
      expect(tables(d).t1).not.toBeNull();
      expect(new Set(scanAll(d)).size).toBe(4097);
    });

    test('every key present for the whole scan is returned while the table grows and shrinks', () => {
      const observed = { growing: 0, shrinking: 0 };
      for (let seed = 1; seed <= 10; seed++) {
        const rng = seededRandom(seed);
        const d = new Dict<number>();
        const initial = 500 + Math.floor(rng() * 3000);
        for (let i = 0; i < initial; i++) d.set(`k${i}`, i);
        const keep = new Set<string>();
        for (let i = 0; i < initial; i++) if (rng() < 0.2) keep.add(`k${i}`);
        const returned = new Set<string>();
        let next = initial;
        let cursor = 0;
        let calls = 0;
        const grow = rng() < 0.5;
        do {
          cursor = d.scan(cursor, (e) => returned.add(e.key));
          // Between calls: a burst of inserts (growth) or deletes of unprotected keys (shrink).
          // Growth is capped: a scan visits one bucket a call and would never catch up with a
          // table that keeps doubling.
          const ops = Math.floor(rng() * 20);
          for (let j = 0; j < ops; j++) {
            if ((grow ? rng() < 0.8 : rng() < 0.2) && next < initial + 8000) {
              d.set(`k${next++}`, 0);
            } else {
              const k = `k${Math.floor(rng() * next)}`;
              if (!keep.has(k)) d.delete(k);
            }
          }
          const t = tables(d);
          if (t.t1 !== null && t.t1 > t.t0) observed.growing++;
          if (t.t1 !== null && t.t1 < t.t0) observed.shrinking++;
          if (++calls > 1_000_000) throw new Error('scan does not end');
        } while (cursor !== 0);
        const missing = [...keep].filter((k) => !returned.has(k));
        expect({ seed, missing }).toEqual({ seed, missing: [] });
      }
      // The scans really ran across rehashes of both kinds.
      expect(observed.growing).toBeGreaterThan(0);
      expect(observed.shrinking).toBeGreaterThan(0);
    });

    test('a cursor from a larger table still finds every key after a shrink, and vice versa', () => {
      const d = new Dict<number>();
      for (let i = 0; i < 8000; i++) d.set(`k${i}`, i);
      const returned = new Set<string>();
      // Scan a quarter of the large table.
      let cursor = 0;
      for (let i = 0; i < 2048; i++) cursor = d.scan(cursor, (e) => returned.add(e.key));
      // Shrink to a few keys, and finish every pending rehash.
      for (let i = 10; i < 8000; i++) d.delete(`k${i}`);
      for (let i = 0; i < 1000; i++) d.set('x', i);
      d.delete('x');
      for (let i = 0; i < 1000; i++) d.set('x', i);
      d.delete('x');
      expect(tables(d).t0).toBeLessThanOrEqual(16);
      while (cursor !== 0) cursor = d.scan(cursor, (e) => returned.add(e.key));
      for (let i = 0; i < 10; i++) expect(returned.has(`k${i}`)).toBe(true);
    });
  });

  describe('determinism', () => {
    test('the same operations give the same iteration order and random draws', () => {
      const build = (): Dict<number> => {
        const rng = seededRandom(11);
        const d = new Dict<number>();
        for (let i = 0; i < 30_000; i++) {
          const k = `key:${Math.floor(rng() * 8000)}`;
          if (rng() < 0.7) d.set(k, i);
          else d.delete(k);
        }
        return d;
      };
      const a = build();
      const b = build();
      expect([...a.keys()]).toEqual([...b.keys()]);
      const ra = seededRandom(5);
      const rb = seededRandom(5);
      for (let i = 0; i < 1000; i++) expect(a.randomEntry(ra)!.key).toBe(b.randomEntry(rb)!.key);
    });

    test('randomEntry draws every key, and null from an empty table', () => {
      const d = new Dict<number>();
      expect(d.randomEntry(Math.random)).toBeNull();
      for (let i = 0; i < 50; i++) d.set(`k${i}`, i);
      const rng = seededRandom(1);
      const seen = new Set<string>();
      for (let i = 0; i < 5000; i++) seen.add(d.randomEntry(rng)!.key);
      expect(seen.size).toBe(50);
    });
  });
});
