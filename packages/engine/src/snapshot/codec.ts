// The binary encoding of snapshot records: varints, doubles and binary strings, framed as
// records (a varint length, then the body) so a reader can decode a record once all of its
// bytes have arrived, whatever the chunking.

const INITIAL_BYTES = 64 * 1024;

export class RecordWriter {
  private buf = Buffer.allocUnsafe(INITIAL_BYTES);
  private pos = 0;

  get length(): number {
    return this.pos;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  /** An unsigned integer up to 2^53 - 1, seven bits a byte. */
  varint(v: number): void {
    if (!Number.isSafeInteger(v) || v < 0) throw new Error(`varint out of range: ${v}`);
    this.ensure(8);
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.pos++] = v;
  }

  /** A signed integer (zigzag), for values that may be -1. */
  svarint(v: number): void {
    this.varint(v < 0 ? -2 * v - 1 : 2 * v);
  }

  double(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }

  /** A binary string (one char per byte). */
  str(s: string): void {
    this.varint(s.length);
    this.ensure(s.length);
    this.pos += this.buf.latin1Write(s, this.pos);
  }

  /** Takes the bytes written as one framed record (varint length, body), and empties the writer. */
  takeRecord(): Buffer {
    let n = this.pos;
    let headerBytes = 1;
    for (let v = n; v >= 0x80; v = Math.floor(v / 0x80)) headerBytes++;
    const out = Buffer.allocUnsafe(headerBytes + n);
    let p = 0;
    while (n >= 0x80) {
      out[p++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    out[p++] = n;
    this.buf.copy(out, p, 0, this.pos);
    this.pos = 0;
    if (this.buf.length > 16 * INITIAL_BYTES) this.buf = Buffer.allocUnsafe(INITIAL_BYTES);
    return out;
  }
}

/** Reads the body of one record. */
export class RecordReader {
  private pos = 0;

  constructor(private readonly buf: Buffer) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  u8(): number {
    if (this.pos >= this.buf.length) throw new Error('snapshot record ended early');
    return this.buf[this.pos++]!;
  }

  varint(): number {
    let v = 0;
    let mult = 1;
    for (;;) {
      const b = this.u8();
      v += (b & 0x7f) * mult;
      if (b < 0x80) return v;
      mult *= 0x80;
      if (mult > 2 ** 56) throw new Error('snapshot varint too long');
    }
  }

  svarint(): number {
    const z = this.varint();
    return z % 2 === 1 ? -(z + 1) / 2 : z / 2;
  }

  double(): number {
    if (this.pos + 8 > this.buf.length) throw new Error('snapshot record ended early');
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  str(): string {
    const n = this.varint();
    if (this.pos + n > this.buf.length) throw new Error('snapshot record ended early');
    const s = this.buf.latin1Slice(this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
}

/** Splits a stream of chunks back into record bodies; joins a record's bytes once, when complete. */
export class RecordSplitter {
  private parts: Buffer[] = [];
  private bytes = 0;
  /** Header and body length of the record being gathered, once its header is complete. */
  private need = -1;

  push(chunk: Uint8Array): Buffer[] {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (b.length === 0) return [];
    this.parts.push(b);
    this.bytes += b.length;
    const out: Buffer[] = [];
    for (;;) {
      if (this.bytes === 0) break;
      if (this.need < 0) {
        const header = this.readHeader();
        if (header === null) break;
        this.need = header.headerBytes + header.bodyBytes;
      }
      if (this.bytes < this.need) break;
      const all = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.bytes);
      const header = readVarint(all, 0)!;
      out.push(all.subarray(header.next, this.need));
      const rest = all.subarray(this.need);
      this.parts = rest.length === 0 ? [] : [rest];
      this.bytes = rest.length;
      this.need = -1;
    }
    return out;
  }

  private readHeader(): { headerBytes: number; bodyBytes: number } | null {
    const first = this.parts[0]!;
    const head = first.length >= 10 || this.parts.length === 1 ? first : Buffer.concat(this.parts).subarray(0, 10);
    const v = readVarint(head, 0);
    if (v === null) return null;
    return { headerBytes: v.next, bodyBytes: v.value };
  }

  get pendingBytes(): number {
    return this.bytes;
  }
}

function readVarint(b: Buffer, pos: number): { value: number; next: number } | null {
  let v = 0;
  let mult = 1;
  for (let p = pos; p < b.length && p < pos + 9; p++) {
    const byte = b[p]!;
    v += (byte & 0x7f) * mult;
    if (byte < 0x80) return { value: v, next: p + 1 };
    mult *= 0x80;
  }
  if (b.length >= pos + 9) throw new Error('snapshot record length too long');
  return null;
}
