// Writes random reply trees with ReplyWriter, parses the bytes back, and compares with what each
// protocol should carry.

import { ReplyWriter, Protocol, formatDouble } from '../src/writer';
import { mulberry32 } from './helpers';
import { parseDouble, parseReplies, Reply } from './reply-parser';

type Node =
  | { k: 'ok' }
  | { k: 'simple' | 'error' | 'bigNumber'; s: string }
  | { k: 'integer'; n: number | bigint }
  | { k: 'bulk'; s: string | Buffer }
  | { k: 'nullBulk' | 'nullArray' }
  | { k: 'array' | 'set' | 'push'; items: Node[] }
  | { k: 'map'; pairs: [Node, Node][] }
  | { k: 'double'; d: number }
  | { k: 'boolean'; b: boolean }
  | { k: 'verbatim'; format: string; s: string };

function write(w: ReplyWriter, n: Node): void {
  switch (n.k) {
    case 'ok':
      return w.ok();
    case 'simple':
      return w.simple(n.s);
    case 'error':
      return w.error(n.s);
    case 'bigNumber':
      return w.bigNumber(n.s);
    case 'integer':
      return w.integer(n.n);
    case 'bulk':
      return w.bulk(n.s);
    case 'nullBulk':
      return w.nullBulk();
    case 'nullArray':
      return w.nullArray();
    case 'array':
    case 'set':
    case 'push':
      if (n.k === 'array') w.array(n.items.length);
      else if (n.k === 'set') w.set(n.items.length);
      else w.push(n.items.length);
      for (const item of n.items) write(w, item);
      return;
    case 'map':
      w.map(n.pairs.length);
      for (const [key, value] of n.pairs) {
        write(w, key);
        write(w, value);
      }
      return;
    case 'double':
      return w.double(n.d);
    case 'boolean':
      return w.boolean(n.b);
    case 'verbatim':
      return w.verbatim(n.format, n.s);
  }
}

/** What a client speaking `protocol` reads back for the node. */
function expected(n: Node, protocol: Protocol): Reply {
  const resp3 = protocol === 3;
  switch (n.k) {
    case 'ok':
      return { t: 'simple', v: 'OK' };
    case 'simple':
      return { t: 'simple', v: n.s };
    case 'error':
      return { t: 'error', v: n.s };
    case 'bigNumber':
      return resp3 ? { t: 'bigNumber', v: n.s } : { t: 'bulk', v: n.s };
    case 'integer':
      return { t: 'integer', v: BigInt(n.n) };
    case 'bulk':
      return { t: 'bulk', v: typeof n.s === 'string' ? n.s : n.s.toString('latin1') };
    case 'nullBulk':
      return resp3 ? { t: 'null' } : { t: 'nullBulk' };
    case 'nullArray':
      return resp3 ? { t: 'null' } : { t: 'nullArray' };
    case 'array':
      return { t: 'array', v: n.items.map((i) => expected(i, protocol)) };
    case 'set':
    case 'push':
      return { t: resp3 ? n.k : 'array', v: n.items.map((i) => expected(i, protocol)) };
    case 'map':
      if (resp3) return { t: 'map', v: n.pairs.map(([a, b]) => [expected(a, protocol), expected(b, protocol)]) };
      return { t: 'array', v: n.pairs.flatMap(([a, b]) => [expected(a, protocol), expected(b, protocol)]) };
    case 'double':
      return resp3 ? { t: 'double', v: n.d } : { t: 'bulk', v: formatDouble(n.d) };
    case 'boolean':
      return resp3 ? { t: 'boolean', v: n.b } : { t: 'integer', v: n.b ? 1n : 0n };
    case 'verbatim':
      return resp3 ? { t: 'verbatim', format: n.format, v: n.s } : { t: 'bulk', v: n.s };
  }
}

function randomTree(rand: () => number, depth: number): Node {
  const int = (n: number) => Math.floor(rand() * n);
  const text = (max: number, binary: boolean) => {
    let s = '';
    const len = int(max);
    for (let i = 0; i < len; i++) s += String.fromCharCode(binary ? int(256) : 32 + int(95));
    return s;
  };
  const doubles = [0, -0, 1.5, -2.25, 0.1, 1e17, 1e-5, Infinity, -Infinity, NaN, 2 ** -25, 123456789012345678];
  const kind = int(depth > 2 ? 12 : 16);
  switch (kind) {
    case 0:
      return { k: 'ok' };
    case 1:
      return { k: 'simple', s: text(20, false) };
    case 2:
      return { k: 'error', s: 'ERR ' + text(20, false) };
    case 3:
      return { k: 'bigNumber', s: (rand() < 0.5 ? '-' : '') + String(1 + int(1e9)) + String(int(1e9)) };
    case 4: {
      const choice = int(4);
      if (choice === 0) return { k: 'integer', n: int(1000) };
      if (choice === 1) return { k: 'integer', n: -int(2 ** 53) };
      if (choice === 2) return { k: 'integer', n: BigInt(int(2 ** 31)) * BigInt(int(2 ** 31)) * (rand() < 0.5 ? -1n : 1n) };
      return { k: 'integer', n: int(2 ** 53) };
    }
    case 5:
      return { k: 'bulk', s: text(rand() < 0.05 ? 40000 : 40, true) };
    case 6:
      return { k: 'bulk', s: Buffer.from(text(40, true), 'latin1') };
    case 7:
      return { k: rand() < 0.5 ? 'nullBulk' : 'nullArray' };
    case 8:
      return { k: 'double', d: rand() < 0.5 ? doubles[int(doubles.length)]! : (rand() - 0.5) * 10 ** (int(40) - 20) };
    case 9:
      return { k: 'boolean', b: rand() < 0.5 };
    case 10:
      return { k: 'verbatim', format: rand() < 0.5 ? 'txt' : 'mkd', s: text(30, true) };
    case 11:
      return { k: 'bulk', s: '' };
    case 12:
    case 13:
    case 14: {
      const items: Node[] = [];
      const len = int(5);
      for (let i = 0; i < len; i++) items.push(randomTree(rand, depth + 1));
      return { k: (['array', 'set', 'push'] as const)[kind - 12]!, items };
    }
    default: {
      const pairs: [Node, Node][] = [];
      const len = int(4);
      for (let i = 0; i < len; i++) pairs.push([randomTree(rand, depth + 1), randomTree(rand, depth + 1)]);
      return { k: 'map', pairs };
    }
  }
}

/** A canonical text for a reply: bigints and doubles (-0, NaN, inf) spelled out. */
function canonical(r: Reply): string {
  return JSON.stringify(r, (_k, v: unknown) => {
    if (typeof v === 'bigint') return `${v}n`;
    if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
    return v;
  });
}

describe('ReplyWriter round trip', () => {
  test.each([2, 3] as Protocol[])('random reply trees in RESP%i parse back to what was written', (protocol) => {
    const seed = 0x5eed + protocol;
    const rand = mulberry32(seed);
    const w = new ReplyWriter();
    w.protocol = protocol;
    const trees: Node[] = [];
    for (let i = 0; i < 1500; i++) {
      const tree = randomTree(rand, 0);
      trees.push(tree);
      write(w, tree);
      // Take in the middle now and then: the writer must keep working across takes.
      if (i % 500 === 499) {
        const got = parseReplies(w.take()!);
        const want = trees.splice(0).map((t) => expected(t, protocol));
        expect(got.length).toBe(want.length);
        got.forEach((g, j) => {
          if (canonical(g) !== canonical(want[j]!)) {
            throw new Error(`seed ${seed}, reply ${j}: got ${canonical(g)}, want ${canonical(want[j]!)}`);
          }
        });
      }
    }
  });

  test('the parser itself rejects malformed replies', () => {
    expect(() => parseReplies(Buffer.from('$3\r\nab\r\n'))).toThrow();
    expect(() => parseReplies(Buffer.from('*2\r\n:1\r\n'))).toThrow();
    expect(() => parseReplies(Buffer.from('?\r\n'))).toThrow();
    expect(() => parseDouble('1.5x')).toThrow();
  });

  test('doubles survive the round trip exactly', () => {
    const rand = mulberry32(7);
    const w = new ReplyWriter();
    w.protocol = 3;
    const values: number[] = [];
    const f = new Float64Array(1);
    const u = new Uint32Array(f.buffer);
    for (let i = 0; i < 2000; i++) {
      u[0] = Math.floor(rand() * 2 ** 32);
      u[1] = Math.floor(rand() * 2 ** 32);
      values.push(f[0]!);
      w.double(f[0]!);
    }
    const got = parseReplies(w.take()!).map((r) => (r.t === 'double' ? r.v : undefined));
    got.forEach((g, i) => expect(Object.is(g, values[i])).toBe(true)); // Object.is(NaN, NaN) holds
  });
});
