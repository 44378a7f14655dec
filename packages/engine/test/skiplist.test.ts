// The skip list of large sorted sets (types/skiplist.ts) against a plain sorted array: inserts,
// deletes, score updates, ranks, rank lookups, range deletes and the span invariants.

import { SkipList } from '../src/types/skiplist';
import { seededRandom } from '../src/util/random';

type Entry = [number, string];

function compare(a: Entry, b: Entry): number {
  return a[0] !== b[0] ? a[0] - b[0] : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0;
}

function contents(list: SkipList): Entry[] {
  const out: Entry[] = [];
  for (let x = list.header.next[0]!; x !== null; x = x.next[0]!) out.push([x.score, x.member]);
  return out;
}

test('random operations agree with a sorted array', () => {
  const random = seededRandom(42);
  const list = new SkipList();
  const ref: Entry[] = [];
  const scoreOf = new Map<string, number>();
  for (let step = 0; step < 5000; step++) {
    const r = random();
    const member = `m${Math.floor(random() * 800)}`;
    const score = Math.floor(random() * 50) - 25;
    if (r < 0.5) {
      if (scoreOf.has(member)) continue;
      list.insert(score, member);
      scoreOf.set(member, score);
      ref.push([score, member]);
      ref.sort(compare);
    } else if (r < 0.7) {
      const old = scoreOf.get(member);
      if (old === undefined) {
        expect(list.delete(score, member)).toBe(false);
        continue;
      }
      expect(list.delete(old, member)).toBe(true);
      scoreOf.delete(member);
      ref.splice(ref.findIndex((e) => e[1] === member), 1);
    } else if (r < 0.85) {
      const old = scoreOf.get(member);
      if (old === undefined) continue;
      let node = list.byRank(list.rank(old, member))!;
      node = list.updateScore(node, score);
      expect(node.score).toBe(score);
      scoreOf.set(member, score);
      ref.find((e) => e[1] === member)![0] = score;
      ref.sort(compare);
    } else if (r < 0.9 && ref.length > 0) {
      const start = 1 + Math.floor(random() * ref.length);
      const end = Math.min(ref.length, start + Math.floor(random() * 5));
      const removed: string[] = [];
      expect(list.deleteRangeByRank(start, end, (n) => removed.push(n.member))).toBe(end - start + 1);
      const gone = ref.splice(start - 1, end - start + 1);
      expect(removed).toEqual(gone.map((e) => e[1]));
      for (const m of removed) scoreOf.delete(m);
    } else {
      for (let i = 0; i < ref.length; i += 17) {
        const [s, m] = ref[i]!;
        expect(list.rank(s, m)).toBe(i + 1);
        expect(list.byRank(i + 1)!.member).toBe(m);
      }
      expect(list.rank(score, 'absent')).toBe(0);
      const below = ref.filter((e) => e[0] < score).length;
      const atMost = ref.filter((e) => e[0] <= score).length;
      expect(list.countBelowScore(score, false)).toBe(below);
      expect(list.countBelowScore(score, true)).toBe(atMost);
    }
    if (step % 500 === 0) list.check();
  }
  list.check();
  expect(contents(list)).toEqual(ref);
  expect(list.length).toBe(ref.length);
  expect(list.byRank(0)).toBeNull();
  expect(list.byRank(ref.length + 1)).toBeNull();
});

test('the shape is deterministic: the same operations build the same levels', () => {
  const build = (): number[] => {
    const list = new SkipList();
    for (let i = 0; i < 2000; i++) list.insert(i % 97, `m${i}`);
    for (let i = 0; i < 2000; i += 3) list.delete(i % 97, `m${i}`);
    const levels: number[] = [];
    for (let x = list.header.next[0]!; x !== null; x = x.next[0]!) levels.push(x.next.length);
    return levels;
  };
  const a = build();
  expect(build()).toEqual(a);
  // About a quarter of the nodes reach level 2, as with Redis's p = 0.25.
  const tall = a.filter((l) => l >= 2).length / a.length;
  expect(tall).toBeGreaterThan(0.18);
  expect(tall).toBeLessThan(0.32);
});

test('countWhile follows the descent', () => {
  const list = new SkipList();
  for (let i = 0; i < 100; i++) list.insert(i, `m${String(i).padStart(3, '0')}`);
  expect(list.countWhile((n) => n.score < 42)).toBe(42);
  expect(list.countWhile((n) => n.member <= 'm010')).toBe(11);
  expect(list.countWhile(() => false)).toBe(0);
  expect(list.countWhile(() => true)).toBe(100);
});

test('appendSorted builds the same list as inserts, with valid spans', () => {
  const members: string[] = [];
  const scores: number[] = [];
  for (let i = 0; i < 3000; i++) {
    members.push(`m${String(i).padStart(5, '0')}`);
    scores.push(Math.floor(i / 7));
  }
  const bulk = new SkipList();
  const seen: string[] = [];
  bulk.appendSorted(members, scores, (n) => seen.push(n.member));
  bulk.check();
  expect(seen).toEqual(members);
  expect(contents(bulk)).toEqual(members.map((m, i) => [scores[i], m]));
  expect(bulk.byRank(1234)!.member).toBe(members[1233]);
  // It goes on working as a normal list.
  bulk.insert(-1, 'first');
  bulk.delete(scores[2999]!, members[2999]!);
  bulk.deleteRangeByRank(10, 20, () => {});
  bulk.check();
  expect(bulk.rank(-1, 'first')).toBe(1);
});
