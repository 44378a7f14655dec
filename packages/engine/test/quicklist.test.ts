// The packed list (types/listpack.ts, types/quicklist.ts): entry encoding at its length
// boundaries, node splits and merges at the limits, elements bigger than a node, binary and
// empty elements, and every operation against an array model under random operations.

import { seededRandom } from '../src';
import { entryBytes, Listpack } from '../src/types/listpack';
import { DEFAULT_NODE_LIMITS, NodeLimits, nodeLimits, Quicklist } from '../src/types/quicklist';

/** A binary string of n bytes (every byte value occurs). */
function bytes(n: number, seed = 0): string {
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode((i * 31 + seed) & 0xff);
  return s;
}

/** Every element, walked forward and backward with cursors, must equal the model. */
function expectSame(q: Quicklist, model: string[]): void {
  q.checkInvariants();
  expect(q.length).toBe(model.length);
  expect(q.toArray()).toEqual(model);
  expect([...q.values()]).toEqual(model);
  if (model.length === 0) return;
  const back: string[] = [];
  const cur = q.cursor(model.length - 1);
  do back.push(cur.value());
  while (cur.prev());
  expect(back.reverse()).toEqual(model);
}

describe('listpack entries', () => {
  test('a 16-byte element takes 18 bytes, as in Redis; lengths cross the varint boundaries', () => {
    expect(entryBytes(16)).toBe(18);
    expect(entryBytes(0)).toBe(2);
    expect(entryBytes(125)).toBe(127); // body 126 < 128: one-byte back-length
    expect(entryBytes(126)).toBe(128); // body 127: still one byte
    expect(entryBytes(127)).toBe(130);
    expect(entryBytes(128)).toBe(132); // two-byte <len>, two-byte back-length
  });

  test('elements of every length class read back forward and backward', () => {
    const lengths = [0, 1, 125, 126, 127, 128, 129, 16381, 16382, 16383, 16384, 16385, 70000];
    const lp = new Listpack(8192);
    const values = lengths.map((n, i) => bytes(n, i));
    for (const v of values) lp.pushBack(v);
    expect(lp.count).toBe(values.length);
    const offsets: number[] = [];
    for (let off = lp.start; off < lp.end; off = lp.next(off)) offsets.push(off);
    expect(offsets.map((o) => lp.valueAt(o))).toEqual(values);
    const backward: number[] = [];
    for (let off = lp.end; off > lp.start; ) backward.push((off = lp.prev(off)));
    expect(backward.reverse()).toEqual(offsets);
    values.forEach((v, i) => {
      expect(lp.equalsAt(offsets[i]!, v)).toBe(true);
      expect(lp.offsetOf(i)).toBe(offsets[i]);
    });
    expect(lp.equalsAt(offsets[1]!, 'x')).toBe(false);
    expect(lp.bytes).toBe(lengths.reduce((sum, n) => sum + entryBytes(n), 0));
  });

  test('pushes at the front and the back, pops at both, and the buffer shrinks when emptied', () => {
    const lp = new Listpack(8192);
    const model: string[] = [];
    for (let i = 0; i < 300; i++) {
      const v = `e${i}`;
      if (i % 3 === 0) (lp.pushFront(v), model.unshift(v));
      else (lp.pushBack(v), model.push(v));
    }
    expect(lp.buf.length).toBeLessThanOrEqual(8192);
    const grown = lp.buf.length;
    while (lp.count > 2) {
      expect(lp.popFront()).toBe(model.shift());
      expect(lp.popBack()).toBe(model.pop());
    }
    expect(lp.buf.length).toBeLessThan(grown / 8);
  });
});

describe('quicklist nodes', () => {
  test('list-max-listpack-size maps to node limits as Redis reads its fill', () => {
    expect(nodeLimits(-1)).toEqual({ maxBytes: 4096, maxCount: Infinity });
    expect(nodeLimits(-2)).toBe(DEFAULT_NODE_LIMITS);
    expect(DEFAULT_NODE_LIMITS.maxBytes).toBe(8192);
    expect(nodeLimits(-5).maxBytes).toBe(65536);
    expect(nodeLimits(-100).maxBytes).toBe(65536);
    expect(nodeLimits(0)).toEqual({ maxBytes: 8192, maxCount: 1 });
    expect(nodeLimits(128)).toEqual({ maxBytes: 8192, maxCount: 128 });
    expect(nodeLimits(2 ** 31 - 1).maxCount).toBe(32768);
  });

  test('a node takes 8 KiB of entries, then a new node starts, at either end', () => {
    const perNode = Math.floor(8192 / entryBytes(16)); // 455
    const q = new Quicklist();
    for (let i = 0; i < perNode; i++) q.pushBack(bytes(16, i));
    expect(q.nodeCount).toBe(1);
    q.pushBack('x'.repeat(16));
    expect(q.nodeCount).toBe(2);
    // The head node is full: pushes at the front fill a new node of their own.
    for (let i = 0; i < perNode; i++) q.pushFront(bytes(16, i));
    expect(q.nodeCount).toBe(3);
    q.pushFront('y');
    expect(q.nodeCount).toBe(4);
    q.checkInvariants();
    // Popping a node's last element drops the node.
    expect(q.popFront()).toBe('y');
    expect(q.nodeCount).toBe(3);
    for (let i = 0; i < perNode + 1; i++) q.popBack();
    expect(q.nodeCount).toBe(1);
    expect(q.length).toBe(perNode);
  });

  test('a count limit (positive fill) and fill 0 (one element a node)', () => {
    const q = new Quicklist(nodeLimits(3));
    for (let i = 0; i < 10; i++) q.pushBack(String(i));
    expect(q.nodeCount).toBe(4);
    const one = new Quicklist(nodeLimits(0));
    for (let i = 0; i < 10; i++) one.pushFront(String(i));
    expect(one.nodeCount).toBe(10);
    expectSame(one, ['9', '8', '7', '6', '5', '4', '3', '2', '1', '0']);
  });

  test('an element bigger than a node gets a node of its own, pushed, inserted or set', () => {
    const big = bytes(20000);
    const ten = [...'abcdefghij'];
    const q = Quicklist.from(ten);
    q.pushBack(big);
    q.pushBack('k');
    expect(q.nodeCount).toBe(3);
    q.pushFront(big);
    expect(q.nodeCount).toBe(4);
    expectSame(q, [big, ...ten, big, 'k']);
    // LSET of a big element in the middle of a node splits it around the element.
    const r = Quicklist.from(ten);
    r.set(r.cursor(2), big);
    expectSame(r, ['a', 'b', big, ...ten.slice(3)]);
    expect(r.nodeCount).toBe(3);
    r.set(r.cursor(2), 'small again');
    expectSame(r, ['a', 'b', 'small again', ...ten.slice(3)]);
    // LINSERT of a big element into a node with room for it by count but not by bytes.
    const s = Quicklist.from(ten);
    s.insert(s.cursor(1), big, true);
    expectSame(s, ['a', 'b', big, ...ten.slice(2)]);
    expect(s.nodeCount).toBe(3);
  });

  test('a list of at most 8 elements is plain; the 9th packs it, and back to 4 unpacks it', () => {
    const q = new Quicklist();
    const model: string[] = [];
    for (let i = 0; i < 8; i++) (q.pushFront(`p${i}`), model.unshift(`p${i}`));
    expect(q.isPlain).toBe(true);
    expectSame(q, model);
    q.pushBack('ninth');
    model.push('ninth');
    expect(q.isPlain).toBe(false);
    expectSame(q, model);
    for (let i = 0; i < 4; i++) expect(q.popBack()).toBe(model.pop());
    expect(q.isPlain).toBe(false); // 5 left: still packed (no converting back and forth)
    expect(q.popFront()).toBe(model.shift());
    expect(q.isPlain).toBe(true);
    expectSame(q, model);
    // LINSERT into a full plain list packs it first; LSET and big elements stay plain.
    const r = Quicklist.from([...'abcdefgh']);
    r.set(r.cursor(3), bytes(20000));
    expect(r.isPlain).toBe(true);
    r.insert(r.cursor(7), 'z', false);
    expect(r.isPlain).toBe(false);
    expectSame(r, ['a', 'b', 'c', bytes(20000), 'e', 'f', 'g', 'z', 'h']);
    // LREM and LTRIM down to one node of a few elements unpack.
    r.removeMatching('z', 1, true);
    r.trim(0, 3);
    expect(r.nodeCount).toBe(2); // [a b c] [big]: two nodes stay packed
    r.trim(0, 2);
    expect(r.isPlain).toBe(true);
    expectSame(r, ['a', 'b', 'c']);
    const c = r.clone();
    r.clear();
    expectSame(c, ['a', 'b', 'c']);
  });

  test('LINSERT into a full node splits it; halves that fit with a neighbour merge back', () => {
    const limits: NodeLimits = { maxBytes: 8 * 3, maxCount: Infinity }; // eight 1-byte elements a node
    const q = new Quicklist(limits);
    const model: string[] = [];
    for (let i = 0; i < 16; i++) (q.pushBack(String.fromCharCode(65 + i)), model.push(String.fromCharCode(65 + i)));
    expect(q.nodeCount).toBe(2);
    q.insert(q.cursor(3), 'x', false);
    model.splice(3, 0, 'x');
    expectSame(q, model);
    expect(q.nodeCount).toBe(3);
    // At a node's edge, the element goes to the neighbour when it has room, else a new node.
    const edge = new Quicklist(limits);
    for (const v of 'abcdefgh') edge.pushBack(v);
    edge.pushBack('i');
    edge.popBack();
    edge.insert(edge.cursor(7), 'z', true);
    expectSame(edge, [...'abcdefgh', 'z']);
    expect(edge.nodeCount).toBe(2);
  });

  test('LREM and LTRIM drop emptied nodes and merge neighbours that fit in one', () => {
    const q = new Quicklist(nodeLimits(4));
    const model: string[] = [];
    for (let i = 0; i < 40; i++) (q.pushBack(i % 2 === 0 ? 'even' : String(i)), model.push(i % 2 === 0 ? 'even' : String(i)));
    expect(q.nodeCount).toBe(10);
    expect(q.removeMatching('even', Infinity, false)).toBe(20);
    expectSame(q, model.filter((v) => v !== 'even'));
    expect(q.nodeCount).toBe(5);
    q.trim(3, 15);
    expectSame(q, model.filter((v) => v !== 'even').slice(3, 16));
    q.trim(0, 0);
    expect(q.nodeCount).toBe(1);
  });

  test('clones are independent and hold only their bytes', () => {
    const q = Quicklist.from(Array.from({ length: 2000 }, (_, i) => `item-${i}`));
    const c = q.clone();
    q.set(q.cursor(5), 'changed');
    q.popFront();
    expectSame(c, Array.from({ length: 2000 }, (_, i) => `item-${i}`));
  });
});

describe('quicklist against an array model', () => {
  const alphabet = ['', 'a', 'b', '\x00', '\xff\x00\r\n', 'abcdefghijklmnop', bytes(130, 1), bytes(900, 2)];

  function randomRun(limits: NodeLimits, seed: number, steps: number, lengthMax = Infinity): void {
    const random = seededRandom(seed);
    const pick = (n: number) => Math.floor(random() * n);
    const element = () => (random() < 0.01 ? bytes(3000 + pick(20000), pick(256)) : alphabet[pick(alphabet.length)]!);
    const q = new Quicklist(limits);
    const model: string[] = [];
    for (let step = 0; step < steps; step++) {
      const op = model.length > lengthMax ? 3 + pick(2) : pick(12);
      const v = element();
      if (op <= 1) (q.pushBack(v), model.push(v));
      else if (op === 2) (q.pushFront(v), model.unshift(v));
      else if (op === 3) expect(q.popFront()).toBe(model.shift());
      else if (op === 4) expect(q.popBack()).toBe(model.pop());
      else if (model.length === 0) continue;
      else if (op === 5) {
        const i = pick(model.length);
        expect(q.get(i)).toBe(model[i]);
        q.set(q.cursor(i), v);
        model[i] = v;
      } else if (op === 6 || op === 7) {
        const i = pick(model.length);
        const after = random() < 0.5;
        q.insert(q.cursor(i), v, after);
        model.splice(after ? i + 1 : i, 0, v);
      } else if (op === 8 && random() < 0.3) {
        const limit = random() < 0.3 ? Infinity : 1 + pick(4);
        const fromTail = random() < 0.5;
        const idx: number[] = [];
        model.forEach((x, i) => x === v && idx.push(i));
        const drop = new Set(fromTail ? idx.slice(-limit) : idx.slice(0, limit === Infinity ? undefined : limit));
        expect(q.removeMatching(v, limit, fromTail)).toBe(drop.size);
        model.splice(0, model.length, ...model.filter((_, i) => !drop.has(i)));
      } else if (op === 9 && random() < 0.05) {
        const s = pick(model.length);
        const e = s + pick(model.length - s);
        q.trim(s, e);
        model.splice(0, model.length, ...model.slice(s, e + 1));
      } else if (op === 10) {
        // A cursor walk from a random index, either way, as LRANGE and LPOS do.
        const i = pick(model.length);
        const cur = q.cursor(i);
        const n = pick(50);
        const reverse = random() < 0.5;
        for (let k = 0; k < n; k++) {
          const j = reverse ? i - k : i + k;
          if (j < 0 || j >= model.length) break;
          expect(cur.index).toBe(j);
          expect(cur.value()).toBe(model[j]);
          expect(cur.equals(model[j]!)).toBe(true);
          if (!(reverse ? cur.prev() : cur.next())) break;
        }
      } else if (op === 11 && random() < 0.01) {
        const c = q.clone();
        q.clear();
        expectSame(q, []);
        expectSame(c, model);
        for (const x of c.values()) q.pushBack(x);
      }
      if (step % 50 === 0) expectSame(q, model);
      else q.checkInvariants();
    }
    expectSame(q, model);
  }

  test('small byte-limited nodes (64 bytes)', () => randomRun({ maxBytes: 64, maxCount: Infinity }, 1, 6000));
  test('count-limited nodes (fill 3)', () => randomRun(nodeLimits(3), 2, 6000));
  test('one element a node (fill 0)', () => randomRun(nodeLimits(0), 3, 3000));
  test('the default 8 KiB nodes', () => randomRun(DEFAULT_NODE_LIMITS, 4, 6000));
  test('short lists, across the plain threshold', () => randomRun(DEFAULT_NODE_LIMITS, 5, 6000, 12));
  test('short lists of small nodes', () => randomRun({ maxBytes: 16, maxCount: Infinity }, 6, 6000, 12));
});
