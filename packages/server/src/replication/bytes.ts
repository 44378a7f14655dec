// A growable byte writer and a bounds-checked reader for the replication codecs (log entry
// payloads and node-to-node frames). Integers are unsigned LEB128 varints up to 2^53; strings
// are binary strings (one char per byte, as the RESP decoder produces them), stored as latin1.

export class CodecError extends Error {
  constructor(message: string) {
    super(`codec: ${message}`);
    this.name = 'CodecError';
  }
}

export class ByteWriter {
  buf: Buffer;
  pos = 0;

  constructor(initialBytes = 256) {
    this.buf = Buffer.allocUnsafe(initialBytes);
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

  u32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32BE(v, this.pos);
    this.pos += 4;
  }

  f64(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleBE(v, this.pos);
    this.pos += 8;
  }

  /** A non-negative safe integer as an unsigned varint. */
  varint(v: number): void {
    if (!Number.isSafeInteger(v) || v < 0) throw new CodecError(`varint out of range: ${v}`);
    this.ensure(8);
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.pos++] = v;
  }

  /** A binary string: its length, then one byte per char. */
  str(s: string): void {
    this.varint(s.length);
    this.ensure(s.length);
    this.pos += this.buf.write(s, this.pos, s.length, 'latin1');
  }

  bytes(b: Uint8Array): void {
    this.varint(b.byteLength);
    this.ensure(b.byteLength);
    this.buf.set(b, this.pos);
    this.pos += b.byteLength;
  }

  /** The bytes written so far (a view, valid until the next write). */
  view(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  /** A copy of the bytes written so far. */
  finish(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }
}

export class ByteReader {
  private readonly buf: Buffer;
  pos: number;
  private readonly end: number;

  constructor(data: Uint8Array, start = 0, end = data.byteLength) {
    this.buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    this.pos = start;
    this.end = end;
  }

  private need(n: number): void {
    if (this.pos + n > this.end) throw new CodecError(`truncated: need ${n} bytes at ${this.pos}, have ${this.end - this.pos}`);
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  f64(): number {
    this.need(8);
    const v = this.buf.readDoubleBE(this.pos);
    this.pos += 8;
    return v;
  }

  varint(): number {
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.u8();
      v += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) {
        if (!Number.isSafeInteger(v)) throw new CodecError('varint beyond 2^53');
        return v;
      }
      mul *= 0x80;
    }
    throw new CodecError('varint too long');
  }

  str(): string {
    const n = this.varint();
    this.need(n);
    const s = this.buf.toString('latin1', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }

  /** A length-prefixed byte string, copied (so the frame buffer can be released). */
  bytes(): Uint8Array {
    const n = this.varint();
    this.need(n);
    const b = new Uint8Array(n);
    b.set(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return b;
  }

  /** A count of items that each take at least minBytes: refuses counts the input cannot hold. */
  count(minBytes = 1): number {
    const n = this.varint();
    if (n * minBytes > this.remaining) throw new CodecError(`count ${n} exceeds the ${this.remaining} bytes left`);
    return n;
  }

  expectEnd(): void {
    if (this.pos !== this.end) throw new CodecError(`${this.end - this.pos} trailing bytes`);
  }
}
