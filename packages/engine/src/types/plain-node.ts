// The node of a short list: its few elements as strings in an exact-size array.
//
// A Buffer costs about 240 bytes before its first byte (the typed array, the array buffer and
// its backing store), which a list of one or two elements would pay for packing a few bytes.
// So a list of at most PLAIN_MAX elements keeps them as strings, as a list did before packing,
// and the quicklist packs it when it grows past that (quicklist.ts). This is Redis 7.2's
// listpack/quicklist split turned around: there, small lists are packed and big ones chained;
// here, both are chained, and only the small ones skip the packing. OBJECT ENCODING says
// "quicklist" either way, as Redis 7.0 does.
//
// It walks like a Listpack, with offsets that are plain indices, so the quicklist and its cursor
// treat both alike. Each change builds a new exact-size array: V8 grows an array by at least 16
// slots at a push, which for a list of one element would cost more than the element.

import type { ReplyWriter } from '@keel/resp';
import { entryBytes } from './listpack';

/** The longest list kept as strings; a list is packed when it grows past it. */
export const PLAIN_MAX = 8;

export class PlainNode {
  constructor(private items: string[]) {}

  get start(): number {
    return 0;
  }

  get end(): number {
    return this.items.length;
  }

  get count(): number {
    return this.items.length;
  }

  /** What the elements would take packed (for the quicklist's limits). */
  get bytes(): number {
    let n = 0;
    for (const v of this.items) n += entryBytes(v.length);
    return n;
  }

  next(off: number): number {
    return off + 1;
  }

  prev(off: number): number {
    return off - 1;
  }

  offsetOf(i: number): number {
    return i;
  }

  valueAt(off: number): string {
    return this.items[off]!;
  }

  replyAt(off: number, out: ReplyWriter): void {
    out.bulk(this.items[off]!);
  }

  equalsAt(off: number, s: string): boolean {
    return this.items[off] === s;
  }

  /** Every element, in order (the array is the node's own: do not change it). */
  values(): readonly string[] {
    return this.items;
  }

  pushBack(s: string): void {
    this.insertAt(this.items.length, s);
  }

  pushFront(s: string): void {
    this.insertAt(0, s);
  }

  popFront(): string {
    const v = this.items[0]!;
    this.deleteRange(0, 1, 1);
    return v;
  }

  popBack(): string {
    const n = this.items.length;
    const v = this.items[n - 1]!;
    this.deleteRange(n - 1, n, 1);
    return v;
  }

  popFrontTo(out: ReplyWriter): void {
    out.bulk(this.popFront());
  }

  popBackTo(out: ReplyWriter): void {
    out.bulk(this.popBack());
  }

  insertAt(off: number, s: string): void {
    const old = this.items;
    const items = new Array<string>(old.length + 1);
    for (let i = 0; i < off; i++) items[i] = old[i]!;
    items[off] = s;
    for (let i = off; i < old.length; i++) items[i + 1] = old[i]!;
    this.items = items;
  }

  replaceAt(off: number, s: string): void {
    this.items[off] = s;
  }

  deleteRange(from: number, to: number, _n: number): void {
    const old = this.items;
    const items = new Array<string>(old.length - (to - from));
    for (let i = 0; i < from; i++) items[i] = old[i]!;
    for (let i = to; i < old.length; i++) items[i - (to - from)] = old[i]!;
    this.items = items;
  }

  /** As Listpack.deleteMatching: at most limit elements equal to s, the first or the last ones. */
  deleteMatching(s: string, limit: number, fromTail: boolean): number {
    const old = this.items;
    const drop = new Array<boolean>(old.length).fill(false);
    let removed = 0;
    for (let k = 0; k < old.length && removed < limit; k++) {
      const i = fromTail ? old.length - 1 - k : k;
      if (old[i] === s) {
        drop[i] = true;
        removed++;
      }
    }
    if (removed === 0) return 0;
    const items = new Array<string>(old.length - removed);
    for (let i = 0, j = 0; i < old.length; i++) if (!drop[i]) items[j++] = old[i]!;
    this.items = items;
    return removed;
  }

  clone(): PlainNode {
    return new PlainNode(this.items.slice());
  }
}
