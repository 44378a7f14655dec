// A double-ended queue on a ring buffer: O(1) push and pop at both ends and O(1) access by
// index, with no shifting of elements. The capacity is a power of two; it doubles when full and
// halves when a quarter full, so memory stays proportional to the length and every operation is
// amortized O(1). Inserting or removing in the middle moves the shorter side: O(min(i, n - i)).
// Lists keep their quicklist nodes in one (types/quicklist.ts).

// One: most lists are one quicklist node, and a deque of them should cost one slot.
const CAPACITY_MIN = 1;

export class Deque<T> {
  private buf: Array<T | undefined>;
  private head = 0;
  private len = 0;
  private mask: number;

  constructor(capacity = CAPACITY_MIN) {
    let cap = CAPACITY_MIN;
    while (cap < capacity) cap *= 2;
    this.buf = new Array<T | undefined>(cap);
    this.mask = cap - 1;
  }

  static from<T>(items: Iterable<T>): Deque<T> {
    const d = new Deque<T>();
    for (const x of items) d.pushBack(x);
    return d;
  }

  get length(): number {
    return this.len;
  }

  /** The element at index i (0 is the front); i must be in [0, length). */
  get(i: number): T {
    return this.buf[(this.head + i) & this.mask] as T;
  }

  set(i: number, v: T): void {
    this.buf[(this.head + i) & this.mask] = v;
  }

  pushBack(v: T): void {
    if (this.len === this.buf.length) this.resize(this.buf.length * 2);
    this.buf[(this.head + this.len) & this.mask] = v;
    this.len++;
  }

  pushFront(v: T): void {
    if (this.len === this.buf.length) this.resize(this.buf.length * 2);
    this.head = (this.head - 1) & this.mask;
    this.buf[this.head] = v;
    this.len++;
  }

  popFront(): T | undefined {
    if (this.len === 0) return undefined;
    const v = this.buf[this.head] as T;
    this.buf[this.head] = undefined;
    this.head = (this.head + 1) & this.mask;
    this.len--;
    this.maybeShrink();
    return v;
  }

  popBack(): T | undefined {
    if (this.len === 0) return undefined;
    const i = (this.head + this.len - 1) & this.mask;
    const v = this.buf[i] as T;
    this.buf[i] = undefined;
    this.len--;
    this.maybeShrink();
    return v;
  }

  /** Inserts v so that it ends up at index i (0 <= i <= length). */
  insert(i: number, v: T): void {
    if (i === 0) return this.pushFront(v);
    if (i === this.len) return this.pushBack(v);
    if (this.len === this.buf.length) this.resize(this.buf.length * 2);
    if (i < this.len / 2) {
      // Move the front part one slot towards the front.
      this.head = (this.head - 1) & this.mask;
      for (let j = 0; j < i; j++) this.set(j, this.get(j + 1));
    } else {
      for (let j = this.len; j > i; j--) this.buf[(this.head + j) & this.mask] = this.get(j - 1);
    }
    this.len++;
    this.set(i, v);
  }

  /** Removes the element at index i (0 <= i < length), moving the shorter side. */
  removeAt(i: number): void {
    if (i < this.len / 2) {
      for (let j = i; j > 0; j--) this.set(j, this.get(j - 1));
      this.popFrontNoShrink();
    } else {
      for (let j = i; j < this.len - 1; j++) this.set(j, this.get(j + 1));
      this.popBackNoShrink();
    }
    this.maybeShrink();
  }

  clear(): void {
    this.buf = new Array<T | undefined>(CAPACITY_MIN);
    this.mask = CAPACITY_MIN - 1;
    this.head = 0;
    this.len = 0;
  }

  /** The elements from index start to end inclusive, in order. */
  slice(start: number, end: number): T[] {
    const out: T[] = new Array<T>(Math.max(0, end - start + 1));
    for (let i = start, k = 0; i <= end; i++, k++) out[k] = this.get(i);
    return out;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = 0; i < this.len; i++) yield this.get(i);
  }

  toArray(): T[] {
    return this.slice(0, this.len - 1);
  }

  clone(): Deque<T> {
    const d = new Deque<T>(this.len);
    for (let i = 0; i < this.len; i++) d.buf[i] = this.get(i);
    d.len = this.len;
    return d;
  }

  private popFrontNoShrink(): void {
    this.buf[this.head] = undefined;
    this.head = (this.head + 1) & this.mask;
    this.len--;
  }

  private popBackNoShrink(): void {
    this.buf[(this.head + this.len - 1) & this.mask] = undefined;
    this.len--;
  }

  private maybeShrink(): void {
    const cap = this.buf.length;
    if (cap > CAPACITY_MIN && this.len * 4 <= cap) this.resize(cap / 2);
  }

  /** Copies the elements, in order, into a new buffer of at least `want` slots. */
  private resize(want: number): void {
    let cap = CAPACITY_MIN;
    while (cap < want || cap < this.len) cap *= 2;
    const next = new Array<T | undefined>(cap);
    for (let i = 0; i < this.len; i++) next[i] = this.buf[(this.head + i) & this.mask];
    this.buf = next;
    this.mask = cap - 1;
    this.head = 0;
  }
}
