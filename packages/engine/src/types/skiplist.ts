// The skip list of a large sorted set, as Redis's zskiplist (t_zset.c): elements ordered by
// (score, member), each level's forward pointer carrying its span (how many elements it jumps)
// so that rank lookups, rank-of-element and the start of a range all cost O(log n).
//
// Members compare as binary strings: JS compares one-byte strings by char code, which for
// binary strings (one char per byte) is memcmp order, as Redis's sdscmp.
//
// Determinism: node levels come from a per-list xorshift generator with a fixed seed, never from
// Math.random, so two replicas that applied the same operations hold lists of the same shape.

export const SKIPLIST_MAXLEVEL = 32;
/** The chance that a node reaches the next level up (Redis's ZSKIPLIST_P). */
const LEVEL_P_UINT32 = 0x40000000; // 0.25 of 2^32
const LEVEL_SEED = 0x2f6b8a3d;

export class SkipNode {
  /** Forward pointers, one a level. */
  readonly next: Array<SkipNode | null>;
  /**
   * spans[i - 1]: how far next[i] jumps, in ranks, for levels i >= 1 (read it with spanAt). A
   * level-0 pointer always jumps 1, so three nodes in four (level 1) store no spans at all.
   * A level's last pointer (next null) spans the rest of the list, as Redis keeps it.
   */
  readonly spans: number[];
  backward: SkipNode | null = null;

  constructor(
    readonly member: string,
    public score: number,
    level: number,
  ) {
    this.next = level === 1 ? [null] : new Array<SkipNode | null>(level).fill(null);
    this.spans = level === 1 ? NO_SPANS : new Array<number>(level - 1).fill(0);
  }
}

const NO_SPANS: number[] = [];

/** How many ranks node.next[level] jumps (node.next[level] must not be null at level 0). */
export function spanAt(node: SkipNode, level: number): number {
  return level === 0 ? 1 : node.spans[level - 1]!;
}

/** True if (s1, m1) sorts before (s2, m2). */
function before(s1: number, m1: string, s2: number, m2: string): boolean {
  return s1 < s2 || (s1 === s2 && m1 < m2);
}

// Scratch vectors of insert (never re-entered: a list calls no user code while inserting).
const insertUpdate = new Array<SkipNode>(SKIPLIST_MAXLEVEL);
const insertRank = new Array<number>(SKIPLIST_MAXLEVEL).fill(0);

export class SkipList {
  readonly header = new SkipNode('', 0, SKIPLIST_MAXLEVEL);
  tail: SkipNode | null = null;
  length = 0;
  /** Levels in use (at least 1). */
  level = 1;
  private levelState: number;

  constructor(seed = LEVEL_SEED) {
    this.levelState = seed >>> 0 || LEVEL_SEED;
  }

  /** A node level in [1, SKIPLIST_MAXLEVEL], level k+1 with probability P^k (xorshift32). */
  private randomLevel(): number {
    let level = 1;
    for (;;) {
      let x = this.levelState;
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      this.levelState = x >>> 0;
      if (this.levelState >= LEVEL_P_UINT32 || level >= SKIPLIST_MAXLEVEL) return level;
      level++;
    }
  }

  /** Inserts a member known to be absent. Returns its node. */
  insert(score: number, member: string): SkipNode {
    const update = insertUpdate;
    const rank = insertRank;
    let x = this.header;
    for (let i = this.level - 1; i >= 0; i--) {
      rank[i] = i === this.level - 1 ? 0 : rank[i + 1]!;
      let f = x.next[i]!;
      while (f !== null && before(f.score, f.member, score, member)) {
        rank[i]! += spanAt(x, i);
        x = f;
        f = x.next[i]!;
      }
      update[i] = x;
    }
    const level = this.randomLevel();
    if (level > this.level) {
      for (let i = this.level; i < level; i++) {
        rank[i] = 0;
        update[i] = this.header;
        this.header.spans[i - 1] = this.length; // i >= 1
      }
      this.level = level;
    }
    const node = new SkipNode(member, score, level);
    for (let i = 0; i < level; i++) {
      const u = update[i]!;
      node.next[i] = u.next[i]!;
      u.next[i] = node;
      if (i > 0) {
        node.spans[i - 1] = u.spans[i - 1]! - (rank[0]! - rank[i]!);
        u.spans[i - 1] = rank[0]! - rank[i]! + 1;
      }
    }
    for (let i = level; i < this.level; i++) update[i]!.spans[i - 1]!++; // i >= 1
    node.backward = update[0] === this.header ? null : update[0]!;
    if (node.next[0] !== null) node.next[0]!.backward = node;
    else this.tail = node;
    this.length++;
    return node;
  }

  /**
   * Builds an empty list from elements already in (score, member) order, in O(n): each node is
   * linked after the last node of its levels, without a search. onNode sees every new node.
   * With `levels` (a snapshot's), the nodes get those levels instead of drawn ones.
   */
  appendSorted(members: string[], scores: number[], onNode: (node: SkipNode) => void, levels?: number[]): void {
    if (this.length !== 0) throw new Error('appendSorted needs an empty list');
    const last = new Array<SkipNode>(SKIPLIST_MAXLEVEL).fill(this.header);
    const lastRank = new Array<number>(SKIPLIST_MAXLEVEL).fill(0);
    let prev: SkipNode | null = null;
    for (let k = 0; k < members.length; k++) {
      const level = levels === undefined ? this.randomLevel() : levels[k]!;
      if (level > this.level) this.level = level;
      const node = new SkipNode(members[k]!, scores[k]!, level);
      const rank = k + 1;
      for (let i = 0; i < level; i++) {
        last[i]!.next[i] = node;
        if (i > 0) last[i]!.spans[i - 1] = rank - lastRank[i]!;
        last[i] = node;
        lastRank[i] = rank;
      }
      node.backward = prev;
      prev = node;
      onNode(node);
    }
    // A level's last pointer spans the rest of the list, as insert keeps it.
    const n = members.length;
    for (let i = 1; i < this.level; i++) last[i]!.spans[i - 1] = n - lastRank[i]!;
    this.tail = prev;
    this.length = n;
  }

  /** The nodes before (score, member) at every level (Redis's update[] vector). */
  private predecessors(score: number, member: string): SkipNode[] {
    const update = new Array<SkipNode>(this.level);
    let x = this.header;
    for (let i = this.level - 1; i >= 0; i--) {
      let f = x.next[i]!;
      while (f !== null && before(f.score, f.member, score, member)) {
        x = f;
        f = x.next[i]!;
      }
      update[i] = x;
    }
    return update;
  }

  private unlink(x: SkipNode, update: SkipNode[]): void {
    for (let i = 0; i < this.level; i++) {
      const u = update[i]!;
      if (u.next[i] === x) {
        if (i > 0) u.spans[i - 1]! += x.spans[i - 1]! - 1;
        u.next[i] = x.next[i]!;
      } else {
        if (i > 0) u.spans[i - 1]!--;
      }
    }
    const f = x.next[0]!;
    if (f !== null) f.backward = x.backward;
    else this.tail = x.backward;
    while (this.level > 1 && this.header.next[this.level - 1] === null) this.level--;
    this.length--;
  }

  /** Deletes the element (score, member). Returns false if it is not in the list. */
  delete(score: number, member: string): boolean {
    const update = this.predecessors(score, member);
    const x = update[0]!.next[0]!;
    if (x === null || x.score !== score || x.member !== member) return false;
    this.unlink(x, update);
    return true;
  }

  /**
   * Moves a node to a new score. The node is reused in place when its position does not
   * change (Redis's zslUpdateScore); otherwise it is removed and a new node inserted.
   */
  updateScore(node: SkipNode, newScore: number): SkipNode {
    const back = node.backward;
    const fwd = node.next[0]!;
    if ((back === null || back.score < newScore || (back.score === newScore && back.member < node.member)) &&
        (fwd === null || fwd.score > newScore || (fwd.score === newScore && fwd.member > node.member))) {
      node.score = newScore;
      return node;
    }
    const update = this.predecessors(node.score, node.member);
    this.unlink(node, update);
    return this.insert(newScore, node.member);
  }

  /** 1-based rank of an element in the list, or 0 if absent. */
  rank(score: number, member: string): number {
    let x = this.header;
    let rank = 0;
    for (let i = this.level - 1; i >= 0; i--) {
      let f = x.next[i]!;
      while (f !== null && (before(f.score, f.member, score, member) || (f.score === score && f.member === member))) {
        rank += spanAt(x, i);
        x = f;
        f = x.next[i]!;
      }
      if (x !== this.header && x.member === member && x.score === score) return rank;
    }
    return 0;
  }

  /** The node at a 1-based rank, or null. */
  byRank(rank: number): SkipNode | null {
    if (rank < 1 || rank > this.length) return null;
    let x = this.header;
    let traversed = 0;
    for (let i = this.level - 1; i >= 0; i--) {
      let f = x.next[i]!;
      while (f !== null && traversed + spanAt(x, i) <= rank) {
        traversed += spanAt(x, i);
        x = f;
        f = x.next[i]!;
      }
      if (traversed === rank) return x;
    }
    return null;
  }

  /** How many elements have a score below s (or at most s, if inclusive). */
  countBelowScore(s: number, inclusive: boolean): number {
    let x = this.header;
    let rank = 0;
    for (let i = this.level - 1; i >= 0; i--) {
      let f = x.next[i]!;
      while (f !== null && (f.score < s || (inclusive && f.score === s))) {
        rank += spanAt(x, i);
        x = f;
        f = x.next[i]!;
      }
    }
    return rank;
  }

  /** How many elements lead the list while pred holds (a descent; pred must be monotone for its answer to be a rank). */
  countWhile(pred: (node: SkipNode) => boolean): number {
    let x = this.header;
    let rank = 0;
    for (let i = this.level - 1; i >= 0; i--) {
      let f = x.next[i]!;
      while (f !== null && pred(f)) {
        rank += spanAt(x, i);
        x = f;
        f = x.next[i]!;
      }
    }
    return rank;
  }

  /**
   * Deletes the elements of 1-based ranks start..end (inclusive), calling removed(node) for
   * each, in O(log n + m) as Redis's zslDeleteRangeByRank.
   */
  deleteRangeByRank(start: number, end: number, removed: (node: SkipNode) => void): number {
    const update = new Array<SkipNode>(this.level);
    let x = this.header;
    let traversed = 0;
    for (let i = this.level - 1; i >= 0; i--) {
      let f = x.next[i]!;
      while (f !== null && traversed + spanAt(x, i) < start) {
        traversed += spanAt(x, i);
        x = f;
        f = x.next[i]!;
      }
      update[i] = x;
    }
    traversed++;
    let node = x.next[0]!;
    let count = 0;
    while (node !== null && traversed <= end) {
      const next: SkipNode | null = node.next[0]!;
      this.unlink(node, update);
      removed(node);
      count++;
      traversed++;
      node = next;
    }
    return count;
  }

  /** The level generator's state, so a copy continues the same sequence (COPY, snapshots). */
  get seed(): number {
    return this.levelState;
  }

  set seed(state: number) {
    this.levelState = state >>> 0 || LEVEL_SEED;
  }

  /** Checks the invariants (spans, order, backward links, length). For tests; O(n · levels). */
  check(): void {
    let n = 0;
    let prev: SkipNode | null = null;
    for (let x = this.header.next[0]!; x !== null; x = x.next[0]!) {
      if (x.backward !== prev) throw new Error('skiplist: bad backward link');
      if (prev !== null && !before(prev.score, prev.member, x.score, x.member)) throw new Error('skiplist: out of order');
      prev = x;
      n++;
    }
    if (n !== this.length || this.tail !== prev) throw new Error('skiplist: bad length or tail');
    for (let i = 0; i < this.level; i++) {
      let rank = 0;
      for (let x: SkipNode = this.header; ; ) {
        const f: SkipNode | null = x.next[i]!;
        const r: number = rank + spanAt(x, i);
        if (f === null) break;
        if (this.rank(f.score, f.member) !== r) throw new Error(`skiplist: bad span at level ${i}`);
        rank = r;
        x = f;
      }
    }
  }
}
