// The window of MsgApp messages sent to a follower and not yet acknowledged, bounded both
// by count and by bytes. A ring buffer: no allocation per message once grown.

import { assert } from '../errors';

export class Inflights {
  private start = 0;
  private count = 0;
  private bytes = 0;
  private indexes: number[] = [];
  private sizes: number[] = [];

  constructor(
    readonly maxCount: number,
    readonly maxBytes: number, // 0 means no byte limit
  ) {
    assert(maxCount > 0, 'inflights maxCount must be positive');
  }

  clone(): Inflights {
    const c = new Inflights(this.maxCount, this.maxBytes);
    c.start = this.start;
    c.count = this.count;
    c.bytes = this.bytes;
    c.indexes = this.indexes.slice();
    c.sizes = this.sizes.slice();
    return c;
  }

  /** Records a MsgApp whose last entry is `index`, carrying `bytes` of entries. */
  add(index: number, bytes: number): void {
    assert(!this.full(), 'cannot add into a full inflights');
    let next = this.start + this.count;
    if (next >= this.maxCount) next -= this.maxCount;
    if (next >= this.indexes.length) {
      this.indexes.push(index);
      this.sizes.push(bytes);
    } else {
      this.indexes[next] = index;
      this.sizes[next] = bytes;
    }
    if (this.count > 0) {
      const lastPos = (next - 1 + this.maxCount) % this.maxCount;
      assert(index > this.indexes[lastPos], 'inflights index not increasing');
    }
    this.count++;
    this.bytes += bytes;
  }

  /** Frees every message whose last index is <= index. */
  freeLE(index: number): void {
    if (this.count === 0 || index < this.indexes[this.start]) return;
    let i = 0;
    let idx = this.start;
    let freed = 0;
    for (; i < this.count; i++) {
      if (index < this.indexes[idx]) break;
      freed += this.sizes[idx];
      idx++;
      if (idx >= this.maxCount) idx -= this.maxCount;
    }
    this.count -= i;
    this.bytes -= freed;
    this.start = idx;
    if (this.count === 0) this.start = 0;
  }

  full(): boolean {
    return this.count === this.maxCount || (this.maxBytes !== 0 && this.bytes >= this.maxBytes);
  }

  get length(): number {
    return this.count;
  }

  get sizeBytes(): number {
    return this.bytes;
  }

  reset(): void {
    this.count = 0;
    this.start = 0;
    this.bytes = 0;
  }
}
