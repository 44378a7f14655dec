// A chained hash table keyed by binary strings, as Redis's dict.c: power-of-two tables,
// incremental rehashing (a few buckets a call, so no single operation stalls on a 10M-key
// resize), and the reverse-binary cursor scan that guarantees every element present for the
// whole scan is returned, across resizes, with a stateless integer cursor.
//
// Determinism: the hash has a fixed seed and iteration follows bucket order, so two tables
// that saw the same operations iterate in the same order.

export class DictEntry<V> {
  constructor(
    public key: string,
    public value: V,
    public next: DictEntry<V> | null,
  ) {}
}

type Table<V> = Array<DictEntry<V> | null>;

/** A table's shape and key order (see Dict.captureLayout). */
export interface DictLayout {
  t0Size: number;
  t1Size: number;
  rehashIdx: number;
  keys: string[];
}

const INITIAL_SIZE = 4;
const REHASH_STEP_BUCKETS = 16;
const MAX_EMPTY_VISITS = REHASH_STEP_BUCKETS * 10;
const SEED = 0x9747b28c;

/** A 32-bit hash of a binary string (FNV-1a over the chars, then murmur3's finalizer). */
export function hashString(s: string): number {
  let h = SEED;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function reverseBits(v: number): number {
  v = ((v >>> 1) & 0x55555555) | ((v & 0x55555555) << 1);
  v = ((v >>> 2) & 0x33333333) | ((v & 0x33333333) << 2);
  v = ((v >>> 4) & 0x0f0f0f0f) | ((v & 0x0f0f0f0f) << 4);
  v = ((v >>> 8) & 0x00ff00ff) | ((v & 0x00ff00ff) << 8);
  v = (v >>> 16) | (v << 16);
  return v >>> 0;
}

function newTable<V>(size: number): Table<V> {
  return new Array<DictEntry<V> | null>(size).fill(null);
}

/**
 * Told before an insert or a delete changes a bucket's chain (a snapshot in progress saves the
 * chain first, so that it can walk the table as it was without copying it up front).
 */
export interface ChainObserver {
  beforeChainChange(table: readonly (DictEntry<unknown> | null)[], bucket: number): void;
}

/** The tables of a Dict as they are now (see Dict.view). */
export interface DictView<V> {
  t0: readonly (DictEntry<V> | null)[];
  t1: readonly (DictEntry<V> | null)[] | null;
  rehashIdx: number;
  size: number;
}

export class Dict<V> {
  /** While set, neither rehashing nor resizing happens (a snapshot is walking the tables). */
  rehashPaused = false;
  observer: ChainObserver | null = null;
  private t0: Table<V> = newTable(INITIAL_SIZE);
  private t1: Table<V> | null = null;
  private used0 = 0;
  private used1 = 0;
  /** Next bucket of t0 to move into t1; -1 when not rehashing. */
  private rehashIdx = -1;

  get size(): number {
    return this.used0 + this.used1;
  }

  get(key: string): V | undefined {
    const e = this.find(key);
    return e === null ? undefined : e.value;
  }

  has(key: string): boolean {
    return this.find(key) !== null;
  }

  /** A pure lookup: only writes advance the rehash, so reads never change iteration order. */
  find(key: string): DictEntry<V> | null {
    if (this.size === 0) return null;
    const h = hashString(key);
    let e = this.t0[h & (this.t0.length - 1)] ?? null;
    while (e !== null) {
      if (e.key === key) return e;
      e = e.next;
    }
    if (this.t1 !== null) {
      e = this.t1[h & (this.t1.length - 1)] ?? null;
      while (e !== null) {
        if (e.key === key) return e;
        e = e.next;
      }
    }
    return null;
  }

  /** Inserts or replaces. Returns true if the key is new. */
  set(key: string, value: V): boolean {
    if (this.rehashIdx >= 0) this.rehashStep();
    const e = this.find(key);
    if (e !== null) {
      e.value = value;
      return false;
    }
    this.insertNew(key, value);
    return true;
  }

  /** Inserts a key known to be absent (the caller just looked it up). */
  insertNew(key: string, value: V): DictEntry<V> {
    this.maybeGrow();
    const h = hashString(key);
    if (this.t1 !== null) {
      const i = h & (this.t1.length - 1);
      if (this.observer !== null) this.observer.beforeChainChange(this.t1, i);
      const e = new DictEntry(key, value, this.t1[i] ?? null);
      this.t1[i] = e;
      this.used1++;
      return e;
    }
    const i = h & (this.t0.length - 1);
    if (this.observer !== null) this.observer.beforeChainChange(this.t0, i);
    const e = new DictEntry(key, value, this.t0[i] ?? null);
    this.t0[i] = e;
    this.used0++;
    return e;
  }

  delete(key: string): boolean {
    if (this.size === 0) return false;
    if (this.rehashIdx >= 0) this.rehashStep();
    const h = hashString(key);
    if (this.unlinkFrom(this.t0, h, key)) {
      this.used0--;
    } else if (this.t1 !== null && this.unlinkFrom(this.t1, h, key)) {
      this.used1--;
    } else {
      return false;
    }
    this.maybeShrink();
    return true;
  }

  clear(): void {
    this.t0 = newTable(INITIAL_SIZE);
    this.t1 = null;
    this.used0 = this.used1 = 0;
    this.rehashIdx = -1;
  }

  /**
   * The table's shape and its keys in iteration order: with these, restore() rebuilds a table
   * that iterates, scans and draws random entries exactly as this one does.
   */
  captureLayout(): DictLayout {
    const keys: string[] = new Array<string>(this.size);
    let n = 0;
    for (const t of this.t1 === null ? [this.t0] : [this.t0, this.t1]) {
      for (let i = 0; i < t.length; i++) {
        for (let e = t[i] ?? null; e !== null; e = e.next) keys[n++] = e.key;
      }
    }
    return { t0Size: this.t0.length, t1Size: this.t1 === null ? 0 : this.t1.length, rehashIdx: this.rehashIdx, keys };
  }

  /** The tables as they are now: a snapshot walks them while writes go on (see ChainObserver). */
  view(): DictView<V> {
    return { t0: this.t0, t1: this.t1, rehashIdx: this.rehashIdx, size: this.size };
  }

  /** Rebuilds a table from a layout and the value of each key (in layout order). */
  static restore<V>(layout: Omit<DictLayout, 'keys'>, keys: string[], values: V[]): Dict<V> {
    const d = new Dict<V>();
    d.t0 = newTable(layout.t0Size);
    d.t1 = layout.t1Size === 0 ? null : newTable(layout.t1Size);
    d.rehashIdx = layout.rehashIdx;
    const tails0: Array<DictEntry<V> | null> = new Array<DictEntry<V> | null>(layout.t0Size).fill(null);
    const tails1: Array<DictEntry<V> | null> = d.t1 === null ? [] : new Array<DictEntry<V> | null>(layout.t1Size).fill(null);
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      const h = hashString(key);
      // A key sits in t0 unless the rehash already moved its bucket.
      const b0 = h & (d.t0.length - 1);
      const inT0 = d.t1 === null || b0 >= d.rehashIdx;
      const t = inT0 ? d.t0 : d.t1!;
      const tails = inT0 ? tails0 : tails1;
      const b = inT0 ? b0 : h & (d.t1!.length - 1);
      const e = new DictEntry(key, values[i]!, null);
      if (tails[b] === null) t[b] = e;
      else tails[b]!.next = e;
      tails[b] = e;
      if (inT0) d.used0++;
      else d.used1++;
    }
    return d;
  }

  /** Every entry, in bucket order. The table must not be modified during the iteration. */
  *entries(): IterableIterator<DictEntry<V>> {
    for (const t of this.t1 === null ? [this.t0] : [this.t0, this.t1]) {
      for (let i = 0; i < t.length; i++) {
        for (let e = t[i] ?? null; e !== null; e = e.next) yield e;
      }
    }
  }

  *keys(): IterableIterator<string> {
    for (const e of this.entries()) yield e.key;
  }

  /**
   * Visits the buckets at `cursor` and returns the next cursor (0 when the scan is complete).
   * Redis's algorithm: the cursor's bits are incremented from the most significant end, so
   * buckets already visited in a smaller or larger table are never revisited as a whole, and
   * every element present from the first call to the last is visited at least once.
   */
  scan(cursor: number, visit: (e: DictEntry<V>) => void): number {
    if (this.size === 0) return 0;
    let v = cursor >>> 0;
    if (this.t1 === null) {
      const m0 = this.t0.length - 1;
      for (let e = this.t0[v & m0] ?? null; e !== null; e = e.next) visit(e);
      v = (v | ~m0) >>> 0;
      v = reverseBits((reverseBits(v) + 1) >>> 0);
      return v;
    }
    let small = this.t0;
    let large = this.t1;
    if (small.length > large.length) [small, large] = [large, small];
    const m0 = small.length - 1;
    const m1 = large.length - 1;
    for (let e = small[v & m0] ?? null; e !== null; e = e.next) visit(e);
    do {
      for (let e = large[v & m1] ?? null; e !== null; e = e.next) visit(e);
      v = (v | ~m1) >>> 0;
      v = reverseBits((reverseBits(v) + 1) >>> 0);
    } while ((v & (m0 ^ m1)) !== 0);
    return v;
  }

  /** A deterministic pseudo-random entry, chosen with the given generator (for RANDOMKEY). */
  randomEntry(random: () => number): DictEntry<V> | null {
    if (this.size === 0) return null;
    // Pick a non-empty bucket uniformly among buckets, then a uniform element of its chain,
    // as Redis's dictGetFairRandomKey approximates.
    for (;;) {
      const tables = this.t1 === null ? [this.t0] : [this.t0, this.t1];
      const total = tables.reduce((n, t) => n + t.length, 0);
      let i = Math.floor(random() * total);
      let t = tables[0]!;
      if (i >= t.length) {
        i -= t.length;
        t = tables[1]!;
      }
      let e = t[i] ?? null;
      if (e === null) continue;
      let n = 0;
      for (let x: DictEntry<V> | null = e; x !== null; x = x.next) n++;
      let k = Math.floor(random() * n);
      while (k-- > 0) e = e!.next;
      return e;
    }
  }

  private unlinkFrom(t: Table<V>, h: number, key: string): boolean {
    const i = h & (t.length - 1);
    let prev: DictEntry<V> | null = null;
    for (let e = t[i] ?? null; e !== null; prev = e, e = e.next) {
      if (e.key !== key) continue;
      if (this.observer !== null) this.observer.beforeChainChange(t, i);
      if (prev === null) t[i] = e.next;
      else prev.next = e.next;
      return true;
    }
    return false;
  }

  private maybeGrow(): void {
    if (this.rehashPaused) return;
    if (this.rehashIdx >= 0) {
      this.rehashStep();
      return;
    }
    if (this.used0 >= this.t0.length) this.startRehash(this.t0.length * 2);
  }

  private maybeShrink(): void {
    if (this.rehashPaused || this.rehashIdx >= 0) return;
    const size = this.t0.length;
    if (size > INITIAL_SIZE && this.used0 * 8 < size) {
      let target = INITIAL_SIZE;
      while (target < this.used0) target *= 2;
      this.startRehash(target);
    }
  }

  private startRehash(size: number): void {
    this.t1 = newTable(size);
    this.used1 = 0;
    this.rehashIdx = 0;
    this.rehashStep();
  }

  /** Moves up to REHASH_STEP_BUCKETS non-empty buckets from t0 to t1. */
  private rehashStep(): void {
    if (this.rehashPaused) return;
    const t1 = this.t1!;
    const m1 = t1.length - 1;
    let moved = 0;
    let emptyVisits = 0;
    while (moved < REHASH_STEP_BUCKETS && this.rehashIdx < this.t0.length) {
      let e = this.t0[this.rehashIdx] ?? null;
      if (e === null) {
        this.rehashIdx++;
        if (++emptyVisits >= MAX_EMPTY_VISITS) return;
        continue;
      }
      while (e !== null) {
        const next: DictEntry<V> | null = e.next;
        const i = hashString(e.key) & m1;
        e.next = t1[i] ?? null;
        t1[i] = e;
        this.used0--;
        this.used1++;
        e = next;
      }
      this.t0[this.rehashIdx++] = null;
      moved++;
    }
    if (this.rehashIdx >= this.t0.length) {
      this.t0 = t1;
      this.used0 = this.used1;
      this.t1 = null;
      this.used1 = 0;
      this.rehashIdx = -1;
    }
  }
}
