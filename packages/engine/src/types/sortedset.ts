// The sorted-set value, in Redis's two encodings:
//   listpack  small sets: two parallel arrays ordered by (score, member); O(n) updates, n <= 128
//   skiplist  a SkipList (order, ranks) plus a Dict member -> node (O(1) score lookup, SCAN)
// A set starts as a listpack and becomes a skiplist when an insert takes it past
// zset-max-listpack-entries or brings a member longer than zset-max-listpack-value. It never
// converts back, as in Redis 7.0 (a store command builds a fresh set, so its result is small
// again when it can be).
//
// Ranks are 0-based and ascending throughout this API.

import { Dict } from '../dict';
import type { EncodingConfig, TypedValue } from '../keyspace';
import { SkipList, SkipNode } from './skiplist';

/** Visits an element; returning false stops the walk. */
type Visit = (member: string, score: number) => boolean | void;

/** Upper bound of a binary search: the first index in [lo, hi) where pred is false. */
function partition(n: number, pred: (i: number) => boolean): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (pred(mid)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class SortedSet implements TypedValue {
  readonly type = 'zset';
  // listpack encoding (both null once converted)
  private members: string[] | null = [];
  private scores: number[] | null = [];
  // skiplist encoding
  private dict: Dict<SkipNode> | null = null;
  private zsl: SkipList | null = null;

  get size(): number {
    return this.members !== null ? this.members.length : this.zsl!.length;
  }

  encoding(_config?: EncodingConfig): string {
    return this.members !== null ? 'listpack' : 'skiplist';
  }

  get isListpack(): boolean {
    return this.members !== null;
  }

  /** A deep copy with the same shape, level generator and dict layout (so it iterates alike). */
  clone(): SortedSet {
    const st = this.exportState();
    if (st.skiplist === null) return SortedSet.importState(st.members, st.scores, null);
    const layout = st.skiplist.dict.captureLayout();
    return SortedSet.importState(st.members, st.scores, {
      levels: st.skiplist.levels,
      seed: st.skiplist.seed,
      dictFrom: (nodeOf) => Dict.restore(layout, layout.keys, layout.keys.map(nodeOf)),
    });
  }

  /** Builds a set from elements already in (score, member) order with distinct members. */
  static fromSorted(members: string[], scores: number[], config: EncodingConfig): SortedSet {
    const z = new SortedSet();
    let small = members.length <= config.zsetMaxListpackEntries;
    for (let i = 0; small && i < members.length; i++) if (members[i]!.length > config.zsetMaxListpackValue) small = false;
    if (small) {
      z.members = members.slice();
      z.scores = scores.map((s) => (s === 0 ? 0 : s));
    } else {
      z.members = z.scores = null;
      z.dict = new Dict<SkipNode>();
      z.zsl = new SkipList();
      z.zsl.appendSorted(members, scores, (node) => z.dict!.insertNew(node.member, node));
    }
    return z;
  }

  /** Converts a listpack set to the skiplist encoding (no-op if it already is one). */
  convertToSkiplist(): void {
    if (this.members === null) return;
    const members = this.members;
    const scores = this.scores!;
    this.members = this.scores = null;
    const dict = (this.dict = new Dict<SkipNode>());
    this.zsl = new SkipList();
    this.zsl.appendSorted(members, scores, (node) => dict.insertNew(node.member, node));
  }

  score(member: string): number | undefined {
    if (this.members !== null) {
      const i = this.members.indexOf(member);
      return i < 0 ? undefined : this.scores![i];
    }
    return this.dict!.get(member)?.score;
  }

  /** Inserts a member known to be absent, converting to a skiplist first if it must. */
  insert(member: string, score: number, config: EncodingConfig): void {
    if (this.members !== null) {
      if (this.members.length + 1 > config.zsetMaxListpackEntries || member.length > config.zsetMaxListpackValue) {
        this.convertToSkiplist();
      } else {
        this.listpackInsert(member, score);
        return;
      }
    }
    this.dict!.insertNew(member, this.zsl!.insert(score, member));
  }

  /** A listpack stores a score as text and "-0" reads back as 0, as Redis's does. */
  private listpackInsert(member: string, score: number): void {
    const members = this.members!;
    const scores = this.scores!;
    const i = partition(members.length, (j) => scores[j]! < score || (scores[j] === score && members[j]! < member));
    members.splice(i, 0, member);
    scores.splice(i, 0, score === 0 ? 0 : score);
  }

  /** Changes the score of a member known to be present. */
  update(member: string, score: number): void {
    if (this.members !== null) {
      const i = this.members.indexOf(member);
      this.members.splice(i, 1);
      this.scores!.splice(i, 1);
      this.listpackInsert(member, score);
      return;
    }
    const e = this.dict!.find(member)!;
    e.value = this.zsl!.updateScore(e.value, score);
  }

  remove(member: string): boolean {
    if (this.members !== null) {
      const i = this.members.indexOf(member);
      if (i < 0) return false;
      this.members.splice(i, 1);
      this.scores!.splice(i, 1);
      return true;
    }
    const node = this.dict!.get(member);
    if (node === undefined) return false;
    this.zsl!.delete(node.score, member);
    this.dict!.delete(member);
    return true;
  }

  /** The 0-based ascending rank of a member, or -1. */
  rank(member: string): number {
    if (this.members !== null) return this.members.indexOf(member);
    const node = this.dict!.get(member);
    return node === undefined ? -1 : this.zsl!.rank(node.score, member) - 1;
  }

  /** How many elements score below s (or at most s, if inclusive). */
  countBelowScore(s: number, inclusive: boolean): number {
    if (this.members !== null) {
      const scores = this.scores!;
      return partition(scores.length, (i) => scores[i]! < s || (inclusive && scores[i] === s));
    }
    return this.zsl!.countBelowScore(s, inclusive);
  }

  /**
   * Redis's first element of a lex range (zslFirstInLexRange / zzlFirstInLexRange), as a rank,
   * or -1. With mixed scores the two encodings answer differently, and so does this.
   */
  lexFirst(gteMin: (m: string) => boolean, lteMax: (m: string) => boolean): number {
    if (!this.lexInRange(gteMin, lteMax)) return -1;
    if (this.members !== null) {
      const members = this.members;
      for (let i = 0; i < members.length; i++) if (gteMin(members[i]!)) return lteMax(members[i]!) ? i : -1;
      return -1;
    }
    const r = this.zsl!.countWhile((node) => !gteMin(node.member));
    const x = this.zsl!.byRank(r + 1);
    return x !== null && lteMax(x.member) ? r : -1;
  }

  /** Redis's last element of a lex range, as a rank, or -1. */
  lexLast(gteMin: (m: string) => boolean, lteMax: (m: string) => boolean): number {
    if (!this.lexInRange(gteMin, lteMax)) return -1;
    if (this.members !== null) {
      const members = this.members;
      for (let i = members.length - 1; i >= 0; i--) if (lteMax(members[i]!)) return gteMin(members[i]!) ? i : -1;
      return -1;
    }
    const r = this.zsl!.countWhile((node) => lteMax(node.member));
    const x = this.zsl!.byRank(r);
    return x !== null && gteMin(x.member) ? r - 1 : -1;
  }

  /** Redis's zslIsInLexRange tail and head checks (the bounds' order is checked by the caller). */
  private lexInRange(gteMin: (m: string) => boolean, lteMax: (m: string) => boolean): boolean {
    const n = this.size;
    if (n === 0) return false;
    return gteMin(this.at(n - 1)![0]) && lteMax(this.at(0)![0]);
  }

  /** How many elements precede the first whose member is not below the range (skiplist descent). */
  lexDescend(gteMin: (m: string) => boolean): number {
    if (this.members !== null) {
      const members = this.members;
      let i = 0;
      while (i < members.length && !gteMin(members[i]!)) i++;
      return i;
    }
    return this.zsl!.countWhile((node) => !gteMin(node.member));
  }

  /**
   * Visits up to `count` elements starting at rank `start`, towards higher ranks, or lower
   * ranks if reverse. O(log n) to find the start, then O(1) an element.
   */
  range(start: number, count: number, reverse: boolean, visit: Visit): void {
    const n = this.size;
    if (start < 0 || start >= n || count <= 0) return;
    if (this.members !== null) {
      const members = this.members;
      const scores = this.scores!;
      if (reverse) {
        for (let i = start; i >= 0 && count-- > 0; i--) if (visit(members[i]!, scores[i]!) === false) return;
      } else {
        for (let i = start; i < n && count-- > 0; i++) if (visit(members[i]!, scores[i]!) === false) return;
      }
      return;
    }
    let x = this.zsl!.byRank(start + 1);
    while (x !== null && count-- > 0) {
      if (visit(x.member, x.score) === false) return;
      x = reverse ? x.backward : x.next[0]!;
    }
  }

  /** The element at a rank (O(log n)), or undefined. */
  at(rank: number): [string, number] | undefined {
    let out: [string, number] | undefined;
    this.range(rank, 1, false, (m, s) => {
      out = [m, s];
    });
    return out;
  }

  /** Removes the elements of ranks start..end inclusive (clamped by the caller). Returns how many. */
  removeRange(start: number, end: number): number {
    if (start > end) return 0;
    if (this.members !== null) {
      this.members.splice(start, end - start + 1);
      this.scores!.splice(start, end - start + 1);
      return end - start + 1;
    }
    const dict = this.dict!;
    return this.zsl!.deleteRangeByRank(start + 1, end + 1, (node) => dict.delete(node.member));
  }

  /**
   * One step of ZSCAN: a listpack is returned whole (next cursor 0), a skiplist's dict is
   * scanned with Redis's reverse-binary cursor.
   */
  scan(cursor: number, visit: Visit): number {
    if (this.members !== null) {
      this.range(0, this.members.length, false, visit);
      return 0;
    }
    return this.dict!.scan(cursor, (e) => visit(e.key, e.value.score));
  }

  /** Every element in order (for snapshots and tests). */
  toArray(): Array<[string, number]> {
    const out: Array<[string, number]> = [];
    this.range(0, this.size, false, (m, s) => {
      out.push([m, s]);
    });
    return out;
  }

  /**
   * The parts a snapshot needs to restore this set exactly: the elements in order, and for a
   * skiplist its node levels, its level generator's state and its dict (for ZSCAN's order).
   */
  exportState(): { members: string[]; scores: number[]; skiplist: { levels: number[]; seed: number; dict: Dict<SkipNode> } | null } {
    if (this.members !== null) return { members: this.members.slice(), scores: this.scores!.slice(), skiplist: null };
    const members: string[] = [];
    const scores: number[] = [];
    const levels: number[] = [];
    for (let x = this.zsl!.header.next[0]!; x !== null; x = x.next[0]!) {
      members.push(x.member);
      scores.push(x.score);
      levels.push(x.next.length);
    }
    return { members, scores, skiplist: { levels, seed: this.zsl!.seed, dict: this.dict! } };
  }

  /** Rebuilds a set from exportState's parts; `dictFrom` rebuilds the dict given each member's node. */
  static importState(
    members: string[],
    scores: number[],
    skiplist: { levels: number[]; seed: number; dictFrom: (nodeOf: (member: string) => SkipNode) => Dict<SkipNode> } | null,
  ): SortedSet {
    const z = new SortedSet();
    if (skiplist === null) {
      z.members = members;
      z.scores = scores;
      return z;
    }
    z.members = z.scores = null;
    const nodes = new Map<string, SkipNode>();
    z.zsl = new SkipList();
    z.zsl.appendSorted(members, scores, (node) => nodes.set(node.member, node), skiplist.levels);
    z.zsl.seed = skiplist.seed;
    z.dict = skiplist.dictFrom((m) => nodes.get(m)!);
    return z;
  }

  /** The skip list, for invariant checks in tests (null for a listpack). */
  get skiplist(): SkipList | null {
    return this.zsl;
  }
}
