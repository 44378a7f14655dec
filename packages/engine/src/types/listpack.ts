// A listpack: a run of list elements packed into one Buffer, as Redis's listpack.c packs the
// elements of one quicklist node. It is what makes a long list cost about what Redis's costs
// (about 18 bytes for a 16-byte element) instead of a V8 string object and a pointer each.
//
// An entry is
//
//     <len> <len bytes of the element> <backlen>
//
// <len> is the element's length, seven bits a byte, low group first, the high bit set on every
// byte but the last. <backlen> is the size of <len> plus the element, written to be read right
// to left: the entry's last byte holds the low seven bits and has the high bit set when another
// byte of it lies to its left. So the walk goes forward from any entry by its <len> and backward
// by its <backlen>, as in Redis (1 + 16 + 1 bytes for a 16-byte element). Elements are binary
// strings, one char a byte (latin1), as everywhere in Keel.
//
// The entries sit in buf[start, end) with free space on both sides, so that a push at either end
// writes in place and a pop at either end only moves start or end. When a side has no room, the
// entries move into a new buffer of the next size class (four classes a power of two, as
// jemalloc's, so at most a fifth of a grown buffer is slack; up to capMax) that leaves most of
// its free space on the side that grew; when three quarters of the buffer are free, a smaller
// buffer replaces it. Every operation is O(size of this listpack), which the quicklist bounds
// (8 KiB by default), and growth is geometric, so pushes copy each byte a few times at most.

import type { ReplyWriter } from '@keel/resp';

const CAP_MIN = 32;

/** The size class of n bytes: the next multiple of a quarter of the power of two below n. */
function sizeClass(n: number): number {
  if (n <= CAP_MIN) return CAP_MIN;
  const step = 2 ** Math.floor(Math.log2(n - 1)) / 4;
  return Math.ceil(n / step) * step;
}

/** Bytes of a varint of n (n < 2^35). */
function varintBytes(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5;
}

/** Bytes of the entry of an element of len bytes. */
export function entryBytes(len: number): number {
  const body = varintBytes(len) + len;
  return body + varintBytes(body);
}

// readHeader's second result: the element's length (a module variable, so the hot paths that
// read an entry allocate nothing).
let headerLen = 0;

/** Reads the <len> of the entry at off into headerLen; returns where the element's bytes begin. */
function readHeader(buf: Buffer, off: number): number {
  let b = buf[off++]!;
  let len = b & 0x7f;
  let shift = 7;
  while (b & 0x80) {
    b = buf[off++]!;
    len += (b & 0x7f) * 2 ** shift;
    shift += 7;
  }
  headerLen = len;
  return off;
}

/** Writes the entry of s at p; returns the offset after it. */
function writeEntry(buf: Buffer, p: number, s: string): number {
  const body0 = p;
  let len = s.length;
  while (len >= 0x80) {
    buf[p++] = (len & 0x7f) | 0x80;
    len = Math.floor(len / 0x80);
  }
  buf[p++] = len;
  const n = s.length;
  // Short elements are most elements: a loop beats the call into C++ for them.
  if (n <= 32) for (let i = 0; i < n; i++) buf[p + i] = s.charCodeAt(i);
  else buf.latin1Write(s, p, n);
  p += n;
  let body = p - body0;
  const k = varintBytes(body);
  for (let i = k - 1; i >= 0; i--) {
    // The low group goes rightmost; every byte but the leftmost says "more to my left".
    buf[p + i] = (body & 0x7f) | (i === 0 ? 0 : 0x80);
    body = Math.floor(body / 0x80);
  }
  return p + k;
}

export class Listpack {
  buf: Buffer;
  /** The entries are buf[start, end). */
  start: number;
  end: number;
  count = 0;

  /**
   * An empty listpack. capMax bounds how far growth takes the buffer (an entry bigger than
   * that still fits: the buffer is then exactly as big as needed).
   */
  constructor(
    readonly capMax: number,
    capacity = CAP_MIN,
  ) {
    this.buf = Buffer.allocUnsafeSlow(Math.max(capacity, CAP_MIN));
    this.start = this.end = 0;
  }

  /** Bytes the entries take. */
  get bytes(): number {
    return this.end - this.start;
  }

  // -------------------------------------------------------------------------------------------
  // Walking

  /** The offset of the entry after the one at off (end after the last). */
  next(off: number): number {
    const p = readHeader(this.buf, off);
    const body = p - off + headerLen;
    return off + body + varintBytes(body);
  }

  /** The offset of the entry before the one that starts at off (off > start). */
  prev(off: number): number {
    const buf = this.buf;
    let b = buf[--off]!;
    let body = b & 0x7f;
    let scale = 0x80;
    while (b & 0x80) {
      b = buf[--off]!;
      body += (b & 0x7f) * scale;
      scale *= 0x80;
    }
    return off - body;
  }

  /** The offset of the i-th entry (0 <= i < count), walking from the nearer end. */
  offsetOf(i: number): number {
    if (i < this.count / 2) {
      let off = this.start;
      for (; i > 0; i--) off = this.next(off);
      return off;
    }
    let off = this.end;
    for (let k = this.count - i; k > 0; k--) off = this.prev(off);
    return off;
  }

  /** The element of the entry at off. */
  valueAt(off: number): string {
    const p = readHeader(this.buf, off);
    return this.buf.latin1Slice(p, p + headerLen);
  }

  /** Replies the element of the entry at off as a bulk string, its bytes copied straight over. */
  replyAt(off: number, out: ReplyWriter): void {
    const p = readHeader(this.buf, off);
    out.bulkBytes(this.buf, p, p + headerLen);
  }

  /** True if the entry at off holds exactly s, compared byte by byte without decoding it. */
  equalsAt(off: number, s: string): boolean {
    const buf = this.buf;
    const p = readHeader(buf, off);
    const n = headerLen;
    if (n !== s.length) return false;
    for (let i = 0; i < n; i++) if (buf[p + i] !== s.charCodeAt(i)) return false;
    return true;
  }

  // -------------------------------------------------------------------------------------------
  // Changing. Offsets taken before a change are invalid after it.

  pushBack(s: string): void {
    this.splice(this.end, this.end, 0, s);
  }

  pushFront(s: string): void {
    this.splice(this.start, this.start, 0, s);
  }

  /** Removes and returns the first element (count > 0). */
  popFront(): string {
    const off = this.start;
    const v = this.valueAt(off);
    this.splice(off, this.next(off), 1, null);
    return v;
  }

  /** Replies the first element (count > 0) and removes it. */
  popFrontTo(out: ReplyWriter): void {
    const off = this.start;
    this.replyAt(off, out);
    this.splice(off, this.next(off), 1, null);
  }

  /** Replies the last element (count > 0) and removes it. */
  popBackTo(out: ReplyWriter): void {
    const off = this.prev(this.end);
    this.replyAt(off, out);
    this.splice(off, this.end, 1, null);
  }

  /** Removes and returns the last element (count > 0). */
  popBack(): string {
    const off = this.prev(this.end);
    const v = this.valueAt(off);
    this.splice(off, this.end, 1, null);
    return v;
  }

  /** Inserts s before the entry at off (at end: after the last). */
  insertAt(off: number, s: string): void {
    this.splice(off, off, 0, s);
  }

  /** Replaces the element of the entry at off by s. */
  replaceAt(off: number, s: string): void {
    this.splice(off, this.next(off), 1, s);
  }

  /** Removes the n entries in [from, to). */
  deleteRange(from: number, to: number, n: number): void {
    this.splice(from, to, n, null);
  }

  /**
   * Removes matching entries (equal to s), at most limit of them: the first ones, or the last
   * ones when fromTail. One pass that moves each kept entry at most once. Returns how many.
   */
  deleteMatching(s: string, limit: number, fromTail: boolean): number {
    let keepFirst = 0; // matches to keep before removing: with fromTail, all but the last `limit`
    if (fromTail) {
      let matches = 0;
      for (let off = this.start; off < this.end; off = this.next(off)) if (this.equalsAt(off, s)) matches++;
      keepFirst = Math.max(0, matches - limit);
    }
    const buf = this.buf;
    let w = this.start;
    let removed = 0;
    let seen = 0;
    for (let off = this.start; off < this.end; ) {
      const nextOff = this.next(off);
      if (removed < limit && this.equalsAt(off, s) && seen++ >= keepFirst) {
        removed++;
      } else {
        if (w !== off) buf.copyWithin(w, off, nextOff);
        w += nextOff - off;
      }
      off = nextOff;
    }
    this.end = w;
    this.count -= removed;
    this.maybeShrink();
    return removed;
  }

  /** Moves the entries from off (a boundary) to the end into a new listpack, which it returns. */
  splitAt(off: number): Listpack {
    const right = new Listpack(this.capMax, Math.max(this.end - off, CAP_MIN));
    this.buf.copy(right.buf, 0, off, this.end);
    right.end = this.end - off;
    for (let p = 0; p < right.end; p = right.next(p)) right.count++;
    this.count -= right.count;
    this.end = off;
    this.maybeShrink();
    return right;
  }

  /** Appends every entry of other (which the caller then drops). */
  appendAll(other: Listpack): void {
    const n = other.bytes;
    if (this.buf.length - this.end < n) this.resize(this.bytes + n, 0);
    other.buf.copy(this.buf, this.end, other.start, other.end);
    this.end += n;
    this.count += other.count;
  }

  /** A copy with a buffer just big enough for the entries. */
  clone(): Listpack {
    const c = new Listpack(this.capMax, Math.max(this.bytes, CAP_MIN));
    this.buf.copy(c.buf, 0, this.start, this.end);
    c.end = this.bytes;
    c.count = this.count;
    return c;
  }

  /**
   * The one primitive behind every change: replaces the bytes [off, to), which hold `removed`
   * entries, by the entry of s (or by nothing when s is null). It moves whichever side of the
   * change is shorter, if it has room; if not, the entries move into a new buffer.
   */
  private splice(off: number, to: number, removed: number, s: string | null): void {
    const n = s === null ? 0 : entryBytes(s.length);
    const delta = n - (to - off);
    const prefix = off - this.start;
    const suffix = this.end - to;
    let at = off; // where the new entry goes
    if (delta === 0) {
      // Same size: overwrite in place.
    } else if (delta < 0) {
      // Shrinking: close the gap from the shorter side.
      if (prefix < suffix) {
        this.buf.copyWithin(this.start - delta, this.start, off);
        this.start -= delta;
        at = off - delta;
      } else {
        this.buf.copyWithin(off + n, to, this.end);
        this.end += delta;
      }
    } else if (prefix < suffix && this.start >= delta) {
      // Growing: open the gap by moving the shorter side into the room on its side.
      this.buf.copyWithin(this.start - delta, this.start, off);
      this.start -= delta;
      at = off - delta;
    } else if (prefix >= suffix && this.buf.length - this.end >= delta) {
      this.buf.copyWithin(to + delta, to, this.end);
      this.end += delta;
    } else {
      // No room on the shorter side. Moving the longer side one entry at a time would move most
      // of the buffer at each push, so the entries move once, and the room goes where it grew.
      at = this.regrow(off, to, n);
    }
    if (s !== null) writeEntry(this.buf, at, s);
    this.count += (s === null ? 0 : 1) - removed;
    if (delta < 0) this.maybeShrink();
  }

  /**
   * Moves the entries into a new buffer with a gap of n bytes in place of [off, to); returns the
   * gap's offset. The buffer grows to the next size class (up to capMax, or exactly the size
   * needed beyond it), and the side that grew gets three quarters of the free space: a run of
   * pushes at one end then rarely moves the entries again. Without growth (room enough, on the
   * wrong side), it all goes to that side.
   */
  private regrow(off: number, to: number, n: number): number {
    const bytes = this.bytes - (to - off) + n;
    const old = this.buf;
    let cap = old.length;
    let bias = 1; // the growing side's share of the free space
    if (cap < bytes) {
      cap = Math.max(bytes, Math.min(sizeClass(bytes), this.capMax));
      bias = 0.75;
    }
    const free = cap - bytes;
    let newStart = Math.floor(free / 2); // a change in the middle: room on both sides
    if (off === this.end) newStart = Math.floor(free * (1 - bias)); // a push at the back
    else if (off === this.start) newStart = Math.ceil(free * bias); // a push at the front
    const buf = Buffer.allocUnsafeSlow(cap);
    const head = off - this.start;
    old.copy(buf, newStart, this.start, off);
    old.copy(buf, newStart + head + n, to, this.end);
    this.buf = buf;
    this.start = newStart;
    this.end = newStart + bytes;
    return newStart + head;
  }

  /** When three quarters of the buffer are free, moves the entries into one twice their size. */
  private maybeShrink(): void {
    const cap = this.buf.length;
    if (cap > CAP_MIN && this.bytes * 4 <= cap) this.resize(sizeClass(this.bytes * 2), 0.5);
  }

  /** Moves the entries into a new buffer of cap bytes, with `before` of the free space before them. */
  private resize(cap: number, before: number): void {
    const bytes = this.bytes;
    const buf = Buffer.allocUnsafeSlow(cap);
    const newStart = Math.floor((cap - bytes) * before);
    this.buf.copy(buf, newStart, this.start, this.end);
    this.buf = buf;
    this.start = newStart;
    this.end = newStart + bytes;
  }
}
