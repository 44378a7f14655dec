// A quicklist: a list as a deque of listpacks (nodes), as Redis's quicklist.c.
//
// Each node packs many elements into one Buffer (listpack.ts), up to a limit taken from
// list-max-listpack-size when the list is created: a negative fill bounds a node's bytes (-2:
// 8 KiB, Redis's default), a positive one its element count (with an 8 KiB safety bound). An
// element too big for any node gets a node of its own. Nodes are never empty.
//
// A list of at most PLAIN_MAX (8) elements is one plain node instead: its elements as strings
// (plain-node.ts), which costs less than a Buffer's fixed overhead. A push past PLAIN_MAX packs
// it; a list back to a single node of PLAIN_MAX / 2 elements or fewer is unpacked again (the
// gap between the two keeps a list that hovers around the threshold from converting each op).
// So a plain node is always a list's only node.
//
// Costs, as Redis's: push and pop at either end touch one end node, O(1) amortised. Reaching
// index i skips whole nodes by their counts from the nearer end, then walks entries inside one
// node: O(nodes + node size). LINSERT, LSET and LREM change one node in place and split it when
// it would pass its limit, or merge it with a neighbour when the two fit in one; LTRIM drops
// whole nodes and cuts the two edge nodes.
//
// The nodes live in a ring-buffer deque (util/deque.ts) rather than a linked list: the end
// nodes are O(1) to reach, node i is O(1) to reach, and the rare insertion or removal of a node
// in the middle moves at most half of the node pointers (a few thousand for a million elements).
//
// What a list holds and in which order never depends on the node layout, so two replicas built
// with different limits answer every command the same.

import type { ReplyWriter } from '@keel/resp';
import { Deque } from '../util/deque';
import { entryBytes, Listpack } from './listpack';
import { PLAIN_MAX, PlainNode } from './plain-node';

/** A node: packed, or plain when it is a short list's only node. Both walk by offsets alike. */
export type ListNode = Listpack | PlainNode;

/** How full a node may get. */
export interface NodeLimits {
  readonly maxBytes: number;
  readonly maxCount: number;
}

/** Redis's SIZE_SAFETY_LIMIT: a count-limited node stays under 8 KiB too. */
const SIZE_SAFETY_LIMIT = 8192;
/** Redis's FILL_MAX: larger positive fills are clamped to it. */
const FILL_MAX = 1 << 15;

const limitsByFill = new Map<number, NodeLimits>();

/**
 * The node limits of a list-max-listpack-size value, as Redis's quicklist reads its fill:
 * -1..-5 are 4, 8, 16, 32, 64 KiB of listpack (lower values count as -5); 0 or more is an element
 * count (0: one element a node). Shared objects: a list keeps a reference, not a copy.
 */
export function nodeLimits(fill: number): NodeLimits {
  const f = fill < -5 ? -5 : fill > FILL_MAX ? FILL_MAX : Math.trunc(fill);
  let limits = limitsByFill.get(f);
  if (limits === undefined) {
    limits = f < 0 ? { maxBytes: 4096 * 2 ** (-f - 1), maxCount: Infinity } : { maxBytes: SIZE_SAFETY_LIMIT, maxCount: Math.max(1, f) };
    limitsByFill.set(f, limits);
  }
  return limits;
}

export const DEFAULT_NODE_LIMITS = nodeLimits(-2);

export class Quicklist {
  private nodes = new Deque<ListNode>();
  private len = 0;

  constructor(readonly limits: NodeLimits = DEFAULT_NODE_LIMITS) {}

  static from(items: Iterable<string>, limits: NodeLimits = DEFAULT_NODE_LIMITS): Quicklist {
    const q = new Quicklist(limits);
    for (const v of items) q.pushBack(v);
    return q;
  }

  get length(): number {
    return this.len;
  }

  get nodeCount(): number {
    return this.nodes.length;
  }

  // -------------------------------------------------------------------------------------------
  // The ends

  pushBack(s: string): void {
    this.len++;
    if (this.pushedPlain(s, false)) return;
    const nodes = this.nodes;
    const tail = nodes.get(nodes.length - 1) as Listpack;
    if (this.fits(tail, s)) tail.pushBack(s);
    else nodes.pushBack(this.nodeOf(s));
  }

  pushFront(s: string): void {
    this.len++;
    if (this.pushedPlain(s, true)) return;
    const nodes = this.nodes;
    const head = nodes.get(0) as Listpack;
    if (this.fits(head, s)) head.pushFront(s);
    else nodes.pushFront(this.nodeOf(s));
  }

  popFront(): string | undefined {
    if (this.len === 0) return undefined;
    const head = this.nodes.get(0);
    const v = head.popFront();
    this.popped(head, false);
    return v;
  }

  popBack(): string | undefined {
    if (this.len === 0) return undefined;
    const tail = this.nodes.get(this.nodes.length - 1);
    const v = tail.popBack();
    this.popped(tail, true);
    return v;
  }

  /**
   * Replies the element at one end (the list is not empty) and removes it: a pop's reply
   * without making a string of the element.
   */
  popTo(fromTail: boolean, out: ReplyWriter): void {
    const nodes = this.nodes;
    const node = nodes.get(fromTail ? nodes.length - 1 : 0);
    if (fromTail) node.popBackTo(out);
    else node.popFrontTo(out);
    this.popped(node, fromTail);
  }

  /** After a pop from node at one end: drops the node if emptied, maybe unpacks the list. */
  private popped(node: ListNode, fromTail: boolean): void {
    this.len--;
    if (node.count === 0) {
      if (fromTail) this.nodes.popBack();
      else this.nodes.popFront();
    }
    this.maybeUnpack();
  }

  // -------------------------------------------------------------------------------------------
  // Reaching an element

  /** A cursor on element i (0 <= i < length), reached by skipping whole nodes from the nearer end. */
  cursor(i: number): ListCursor {
    const nodes = this.nodes;
    let k: number;
    let node: ListNode;
    if (i < this.len / 2) {
      k = 0;
      node = nodes.get(0);
      let rest = i;
      while (rest >= node.count) {
        rest -= node.count;
        node = nodes.get(++k);
      }
      return new ListCursor(nodes, k, node, node.offsetOf(rest), i);
    }
    k = nodes.length - 1;
    node = nodes.get(k);
    let fromTail = this.len - 1 - i;
    while (fromTail >= node.count) {
      fromTail -= node.count;
      node = nodes.get(--k);
    }
    return new ListCursor(nodes, k, node, node.offsetOf(node.count - 1 - fromTail), i);
  }

  /** The element at index i (0 <= i < length). */
  get(i: number): string {
    return this.cursor(i).value();
  }

  // -------------------------------------------------------------------------------------------
  // Changing in the middle, at a cursor. Each invalidates every cursor.

  /** Replaces the element under the cursor by s (LSET). */
  set(cur: ListCursor, s: string): void {
    const node = cur.node;
    if (node instanceof PlainNode) {
      node.replaceAt(cur.off, s);
      return;
    }
    const grows = entryBytes(s.length) - (node.next(cur.off) - cur.off);
    if (node.count > 1 && node.bytes + grows > this.limits.maxBytes) {
      // Too big to stay: the element gets a node of its own, as in Redis, which inserts the new
      // element (splitting the node) and deletes the old one.
      const alone = this.nodes.get(this.isolate(cur.nodeIndex, cur.off));
      alone.replaceAt(alone.start, s);
    } else {
      node.replaceAt(cur.off, s);
    }
  }

  /** Inserts s before or after the element under the cursor (LINSERT). */
  insert(cur: ListCursor, s: string, after: boolean): void {
    if (cur.node instanceof PlainNode) {
      if (cur.node.count < PLAIN_MAX) {
        cur.node.insertAt(after ? cur.off + 1 : cur.off, s);
        this.len++;
        return;
      }
      this.pack();
      cur = this.cursor(cur.index);
    }
    const nodes = this.nodes;
    const k = cur.nodeIndex;
    const node = cur.node as Listpack;
    const at = after ? node.next(cur.off) : cur.off;
    this.len++;
    if (this.fits(node, s)) {
      node.insertAt(at, s);
      return;
    }
    // The node is full: the element goes to the neighbour on its side, or a node between.
    if (at === node.end) {
      const next = k + 1 < nodes.length ? (nodes.get(k + 1) as Listpack) : undefined;
      if (next !== undefined && this.fits(next, s)) next.pushFront(s);
      else nodes.insert(k + 1, this.nodeOf(s));
      return;
    }
    if (at === node.start) {
      const prev = k > 0 ? (nodes.get(k - 1) as Listpack) : undefined;
      if (prev !== undefined && this.fits(prev, s)) prev.pushBack(s);
      else nodes.insert(k, this.nodeOf(s));
      return;
    }
    // In the middle of a full node: split it there, as Redis does, and put the element at the
    // end of the left half (or the start of the right one, or between them).
    const right = node.splitAt(at);
    nodes.insert(k + 1, right);
    let rightAt = k + 1;
    if (this.fits(node, s)) node.pushBack(s);
    else if (this.fits(right, s)) right.pushFront(s);
    else nodes.insert(rightAt++, this.nodeOf(s));
    // Halves that fit with their outer neighbours join them (the later merge first, so that
    // the earlier index still holds).
    this.maybeMerge(rightAt);
    if (k > 0) this.maybeMerge(k - 1);
  }

  /**
   * Removes elements equal to s, at most limit of them (Infinity: all), the first ones or the
   * last ones when fromTail (LREM). Stops at the node where the limit is reached. Returns how
   * many it removed.
   */
  removeMatching(s: string, limit: number, fromTail: boolean): number {
    const nodes = this.nodes;
    let removed = 0;
    if (!fromTail) {
      for (let k = 0; k < nodes.length && removed < limit; ) {
        const node = nodes.get(k);
        const n = node.deleteMatching(s, limit - removed, false);
        removed += n;
        if (node.count === 0) nodes.removeAt(k);
        else if (n === 0 || k === 0 || !this.maybeMerge(k - 1)) k++;
      }
    } else {
      for (let k = nodes.length - 1; k >= 0 && removed < limit; k--) {
        const node = nodes.get(k);
        const n = node.deleteMatching(s, limit - removed, true);
        removed += n;
        if (node.count === 0) nodes.removeAt(k);
        else if (n !== 0) this.maybeMerge(k);
      }
    }
    this.len -= removed;
    this.maybeUnpack();
    return removed;
  }

  /** Keeps only the elements from start to end inclusive (0 <= start <= end < length): LTRIM. */
  trim(start: number, end: number): void {
    const tail = this.len - 1 - end;
    this.dropFront(start);
    this.dropBack(tail);
    this.maybeUnpack();
  }

  clear(): void {
    this.nodes = new Deque<ListNode>();
    this.len = 0;
  }

  // -------------------------------------------------------------------------------------------
  // Whole-list reads

  *values(): IterableIterator<string> {
    const nodes = this.nodes;
    for (let k = 0; k < nodes.length; k++) {
      const node = nodes.get(k);
      for (let off = node.start; off < node.end; off = node.next(off)) yield node.valueAt(off);
    }
  }

  toArray(): string[] {
    const out: string[] = new Array<string>(this.len);
    let i = 0;
    const nodes = this.nodes;
    for (let k = 0; k < nodes.length; k++) {
      const node = nodes.get(k);
      for (let off = node.start; off < node.end; off = node.next(off)) out[i++] = node.valueAt(off);
    }
    return out;
  }

  /** A deep copy: every node's bytes copied into a buffer of their size. */
  clone(): Quicklist {
    const q = new Quicklist(this.limits);
    const nodes = this.nodes;
    for (let k = 0; k < nodes.length; k++) q.nodes.pushBack(nodes.get(k).clone());
    q.len = this.len;
    return q;
  }

  /** True if the list is one plain node (its elements kept as strings). */
  get isPlain(): boolean {
    return this.nodes.length === 1 && this.nodes.get(0) instanceof PlainNode;
  }

  /**
   * Checks the structure (for tests): counts add up, no node is empty, a plain node is a list's
   * only node and holds at most PLAIN_MAX elements, a packed node passes its limits only when it
   * holds one element, and every node walks the same forward and backward.
   */
  checkInvariants(): void {
    let total = 0;
    const nodes = this.nodes;
    for (let k = 0; k < nodes.length; k++) {
      const node = nodes.get(k);
      if (node.count === 0) throw new Error(`quicklist: node ${k} is empty`);
      if (node instanceof PlainNode) {
        if (nodes.length !== 1 || node.count > PLAIN_MAX) throw new Error(`quicklist: a plain node of ${node.count} among ${nodes.length} nodes`);
      } else if (node.count > 1 && (node.bytes > this.limits.maxBytes || node.count > this.limits.maxCount)) {
        throw new Error(`quicklist: node ${k} holds ${node.count} elements in ${node.bytes} bytes, past its limits`);
      }
      const forward: number[] = [];
      for (let off = node.start; off < node.end; off = node.next(off)) forward.push(off);
      const backward: number[] = [];
      for (let off = node.end; off > node.start; ) backward.push((off = node.prev(off)));
      if (forward.length !== node.count || backward.reverse().join() !== forward.join()) {
        throw new Error(`quicklist: node ${k} walks ${forward.length} entries forward and ${backward.length} back, count ${node.count}`);
      }
      total += node.count;
    }
    if (total !== this.len) throw new Error(`quicklist: nodes hold ${total} elements, length is ${this.len}`);
  }

  // -------------------------------------------------------------------------------------------
  // Nodes

  /**
   * A push onto an empty or plain list: true if s went into the plain node (created if the list
   * was empty). False if the list is packed, or was just packed because s would pass PLAIN_MAX.
   */
  private pushedPlain(s: string, front: boolean): boolean {
    const nodes = this.nodes;
    if (nodes.length === 0) {
      nodes.pushBack(new PlainNode([s]));
      return true;
    }
    if (nodes.length !== 1) return false;
    const only = nodes.get(0);
    if (!(only instanceof PlainNode)) return false;
    if (only.count < PLAIN_MAX) {
      if (front) only.pushFront(s);
      else only.pushBack(s);
      return true;
    }
    this.pack();
    return false;
  }

  /** Packs a plain list into listpack nodes (it grows past PLAIN_MAX). */
  private pack(): void {
    const plain = this.nodes.get(0) as PlainNode;
    const nodes = new Deque<ListNode>();
    let tail: Listpack | undefined;
    for (const v of plain.values()) {
      if (tail !== undefined && this.fits(tail, v)) tail.pushBack(v);
      else nodes.pushBack((tail = this.nodeOf(v)));
    }
    this.nodes = nodes;
  }

  /** A list down to one packed node of PLAIN_MAX / 2 elements or fewer becomes plain again. */
  private maybeUnpack(): void {
    const nodes = this.nodes;
    if (nodes.length !== 1) return;
    const only = nodes.get(0);
    if (only instanceof PlainNode || only.count > PLAIN_MAX / 2) return;
    const items = new Array<string>(only.count);
    for (let off = only.start, i = 0; off < only.end; off = only.next(off)) items[i++] = only.valueAt(off);
    nodes.set(0, new PlainNode(items));
  }

  /** True if s may join node without passing the limits. */
  private fits(node: Listpack, s: string): boolean {
    return node.count < this.limits.maxCount && node.bytes + entryBytes(s.length) <= this.limits.maxBytes;
  }

  /** A new node holding s. */
  private nodeOf(s: string): Listpack {
    const node = new Listpack(this.limits.maxBytes, entryBytes(s.length));
    node.pushBack(s);
    return node;
  }

  /** Merges node k+1 into node k if both exist and fit in one node; true if it did. */
  private maybeMerge(k: number): boolean {
    const nodes = this.nodes;
    if (k < 0 || k + 1 >= nodes.length) return false;
    const a = nodes.get(k);
    const b = nodes.get(k + 1);
    // Two nodes are packed: a plain node is a list's only one.
    if (!(a instanceof Listpack) || !(b instanceof Listpack)) return false;
    if (a.count + b.count > this.limits.maxCount || a.bytes + b.bytes > this.limits.maxBytes) return false;
    a.appendAll(b);
    nodes.removeAt(k + 1);
    return true;
  }

  /** Splits node k so that the entry at off is alone in its node; returns that node's index. */
  private isolate(k: number, off: number): number {
    const nodes = this.nodes;
    const node = nodes.get(k) as Listpack;
    let at = k;
    if (off !== node.start) {
      nodes.insert(k + 1, node.splitAt(off));
      at = k + 1;
    }
    const alone = nodes.get(at) as Listpack;
    if (alone.count > 1) nodes.insert(at + 1, alone.splitAt(alone.next(alone.start)));
    return at;
  }

  private dropFront(n: number): void {
    const nodes = this.nodes;
    while (n > 0) {
      const head = nodes.get(0);
      if (n >= head.count) {
        n -= head.count;
        this.len -= head.count;
        nodes.popFront();
      } else {
        head.deleteRange(head.start, head.offsetOf(n), n);
        this.len -= n;
        n = 0;
      }
    }
  }

  private dropBack(n: number): void {
    const nodes = this.nodes;
    while (n > 0) {
      const tail = nodes.get(nodes.length - 1);
      if (n >= tail.count) {
        n -= tail.count;
        this.len -= tail.count;
        nodes.popBack();
      } else {
        tail.deleteRange(tail.offsetOf(tail.count - n), tail.end, n);
        this.len -= n;
        n = 0;
      }
    }
  }
}

/** A position in a quicklist, walked element by element (LRANGE, LPOS, LINSERT's search). */
export class ListCursor {
  constructor(
    private readonly nodes: Deque<ListNode>,
    public nodeIndex: number,
    public node: ListNode,
    public off: number,
    /** The element's index in the list. */
    public index: number,
  ) {}

  value(): string {
    return this.node.valueAt(this.off);
  }

  /** Replies the element as a bulk string, its bytes copied straight from the node. */
  reply(out: ReplyWriter): void {
    this.node.replyAt(this.off, out);
  }

  equals(s: string): boolean {
    return this.node.equalsAt(this.off, s);
  }

  /** Moves to the next element; false if there is none (the cursor is then spent). */
  next(): boolean {
    this.index++;
    const off = this.node.next(this.off);
    if (off < this.node.end) {
      this.off = off;
      return true;
    }
    if (this.nodeIndex + 1 >= this.nodes.length) return false;
    this.node = this.nodes.get(++this.nodeIndex);
    this.off = this.node.start;
    return true;
  }

  /** Moves to the previous element; false if there is none (the cursor is then spent). */
  prev(): boolean {
    this.index--;
    if (this.off > this.node.start) {
      this.off = this.node.prev(this.off);
      return true;
    }
    if (this.nodeIndex === 0) return false;
    this.node = this.nodes.get(--this.nodeIndex);
    this.off = this.node.prev(this.node.end);
    return true;
  }
}
