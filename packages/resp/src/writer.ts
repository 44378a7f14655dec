import './buffer-ext';
// The reply encoder: commands write their replies straight into a connection's output buffer,
// in RESP2 or RESP3 as the connection chose with HELLO. No reply objects are built on the way.
//
// Strings handed to the writer are "binary strings": one JS char per byte (latin1), which is
// how Keel holds keys and values (see docs/architecture.md, "Values").

export type Protocol = 2 | 3;

const CRLF = 0x0a0d; // "\r\n" as a little-endian uint16
const INITIAL_BYTES = 16 * 1024;

// Precomputed headers for small lengths and integers: most replies use them.
const SMALL = 512;
const bulkHeaders: Buffer[] = [];
const arrayHeaders: Buffer[] = [];
const intReplies: Buffer[] = [];
for (let i = 0; i < SMALL; i++) {
  bulkHeaders.push(Buffer.from(`$${i}\r\n`, 'latin1'));
  arrayHeaders.push(Buffer.from(`*${i}\r\n`, 'latin1'));
  intReplies.push(Buffer.from(`:${i}\r\n`, 'latin1'));
}
const OK = Buffer.from('+OK\r\n');
const NULL_BULK2 = Buffer.from('$-1\r\n');
const NULL_ARRAY2 = Buffer.from('*-1\r\n');
const NULL3 = Buffer.from('_\r\n');

/** Formats a double as Redis 7.0 does in replies ("%.17g", with inf/-inf/nan spelled out). */
export function formatDouble(d: number): string {
  if (d === Infinity) return 'inf';
  if (d === -Infinity) return '-inf';
  if (Number.isNaN(d)) return 'nan';
  return formatG17(d);
}

/** C's printf("%.17g", d) for a finite double. */
export function formatG17(d: number): string {
  if (d === 0) return Object.is(d, -0) ? '-0' : '0';
  const a = Math.abs(d);
  // toExponential gives the 17 significant digits and the decimal exponent of the rounding.
  const e = a.toExponential(16); // d.dddddddddddddddde±x
  const ePos = e.indexOf('e');
  let digits = e[0]! + e.slice(2, ePos);
  let x = Number(e.slice(ePos + 1));
  // JS rounds an exact tie away from zero, C to even (2^-25 = 2.98023223876953125e-08 prints as
  // 2.9802322387695312e-08). A tie needs the exact value to have 18 significant digits, the last
  // a 5: look at 20 digits first, and confirm with exact arithmetic only when they say "500".
  const t = a.toExponential(19); // d.ddddddddddddddddddde±x
  if (t[18] === '5' && t[19] === '0' && t[20] === '0' && (t.charCodeAt(17) & 1) === 0) {
    const tieDigits = t[0]! + t.slice(2, 19);
    if (exactDigits(a) === tieDigits) {
      digits = tieDigits.slice(0, 17);
      x = Number(t.slice(t.indexOf('e') + 1));
    }
  }
  digits = digits.replace(/0+$/, '');
  const sign = d < 0 ? '-' : '';
  if (x < -4 || x >= 17) {
    const mant = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const ax = Math.abs(x);
    return `${sign}${mant}e${x < 0 ? '-' : '+'}${ax < 10 ? '0' : ''}${ax}`;
  }
  if (x < 0) return `${sign}0.${'0'.repeat(-x - 1)}${digits}`;
  if (digits.length <= x + 1) return sign + digits + '0'.repeat(x + 1 - digits.length);
  return `${sign}${digits.slice(0, x + 1)}.${digits.slice(x + 1)}`;
}

const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);

/** The significant decimal digits of a positive finite double, exactly, without trailing zeros. */
function exactDigits(a: number): string {
  f64[0] = a;
  const bits = u64[0]!;
  const biased = Number((bits >> 52n) & 0x7ffn);
  let mantissa = bits & 0xfffffffffffffn;
  if (biased !== 0) mantissa |= 1n << 52n;
  const e2 = (biased === 0 ? 1 : biased) - 1075; // a = mantissa * 2^e2
  const n = e2 >= 0 ? mantissa << BigInt(e2) : mantissa * 5n ** BigInt(-e2); // digits of a
  return n.toString().replace(/0+$/, '');
}

export class ReplyWriter {
  protocol: Protocol = 2;
  private buf: Buffer = Buffer.allocUnsafe(INITIAL_BYTES);
  private pos = 0;

  /** Bytes written and not yet taken. */
  get length(): number {
    return this.pos;
  }

  /** Returns the pending bytes (a copy the caller owns) and empties the writer, or null. */
  take(): Buffer | null {
    if (this.pos === 0) return null;
    const out = Buffer.allocUnsafe(this.pos);
    this.buf.copy(out, 0, 0, this.pos);
    this.pos = 0;
    if (this.buf.length > 4 * INITIAL_BYTES * 16) this.buf = Buffer.allocUnsafe(INITIAL_BYTES);
    return out;
  }

  /** Drops everything written after `mark` (used to replace a partial reply with an error). */
  truncate(mark: number): void {
    if (mark < this.pos) this.pos = mark;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  private raw(b: Buffer): void {
    this.ensure(b.length);
    b.copy(this.buf, this.pos);
    this.pos += b.length;
  }

  private line(prefix: string, s: string): void {
    this.ensure(s.length + 3);
    this.buf[this.pos++] = prefix.charCodeAt(0);
    this.pos += this.buf.latin1Write(s, this.pos);
    this.buf.writeUInt16LE(CRLF, this.pos);
    this.pos += 2;
  }

  ok(): void {
    this.raw(OK);
  }

  /** +s. Must not contain CR or LF. */
  simple(s: string): void {
    this.line('+', s);
  }

  /** -s, where s starts with its code: "ERR ...", "WRONGTYPE ...". CR/LF become spaces. */
  error(s: string): void {
    if (s.includes('\r') || s.includes('\n')) s = s.replace(/[\r\n]/g, ' ');
    this.line('-', s);
  }

  integer(n: number | bigint): void {
    if (typeof n === 'number' && n >= 0 && n < SMALL && Number.isInteger(n)) {
      this.raw(intReplies[n]!);
      return;
    }
    this.line(':', typeof n === 'bigint' ? n.toString() : intString(n));
  }

  /** A bulk string: a binary string (one char per byte) or a Buffer. */
  bulk(s: string | Buffer): void {
    const n = s.length;
    if (n < SMALL) this.raw(bulkHeaders[n]!);
    else this.line('$', String(n));
    this.ensure(n + 2);
    if (typeof s === 'string') this.pos += this.buf.latin1Write(s, this.pos);
    else this.pos += s.copy(this.buf, this.pos);
    this.buf.writeUInt16LE(CRLF, this.pos);
    this.pos += 2;
  }

  /**
   * A bulk string of the bytes src[start, end), copied once: a packed list replies its elements
   * this way, without making a string of each.
   */
  bulkBytes(src: Uint8Array, start: number, end: number): void {
    const n = end - start;
    if (n < SMALL) this.raw(bulkHeaders[n]!);
    else this.line('$', String(n));
    this.ensure(n + 2);
    const buf = this.buf;
    // Short elements are most elements: a loop beats the call into C++ for them.
    if (n <= 32) for (let i = 0; i < n; i++) buf[this.pos + i] = src[start + i]!;
    else buf.set(src.subarray(start, end), this.pos);
    this.pos += n;
    buf.writeUInt16LE(CRLF, this.pos);
    this.pos += 2;
  }

  /** The "no value" reply of a bulk: $-1 in RESP2, _ in RESP3. */
  nullBulk(): void {
    this.raw(this.protocol === 3 ? NULL3 : NULL_BULK2);
  }

  /** The "no value" reply of an aggregate: *-1 in RESP2, _ in RESP3. */
  nullArray(): void {
    this.raw(this.protocol === 3 ? NULL3 : NULL_ARRAY2);
  }

  array(n: number): void {
    if (n < SMALL) this.raw(arrayHeaders[n]!);
    else this.line('*', String(n));
  }

  /** A map of n pairs: %n in RESP3, an array of 2n in RESP2. */
  map(n: number): void {
    if (this.protocol === 3) this.line('%', String(n));
    else this.array(2 * n);
  }

  /** A set of n elements: ~n in RESP3, an array in RESP2. */
  set(n: number): void {
    if (this.protocol === 3) this.line('~', String(n));
    else this.array(n);
  }

  /** An out-of-band push of n elements: >n in RESP3, an array in RESP2. */
  push(n: number): void {
    if (this.protocol === 3) this.line('>', String(n));
    else this.array(n);
  }

  /** A double: ,d in RESP3, a bulk string in RESP2; formatted as Redis 7.0 does. */
  double(d: number): void {
    const s = formatDouble(d);
    if (this.protocol === 3) this.line(',', s);
    else this.bulk(s);
  }

  /** A boolean: #t/#f in RESP3, :1/:0 in RESP2. */
  boolean(b: boolean): void {
    if (this.protocol === 3) this.line('#', b ? 't' : 'f');
    else this.integer(b ? 1 : 0);
  }

  /** A big number: (digits in RESP3, a bulk string in RESP2. */
  bigNumber(digits: string): void {
    if (this.protocol === 3) this.line('(', digits);
    else this.bulk(digits);
  }

  /** A verbatim string with a three-letter format ("txt", "mkd"): =len\r\nfmt:text in RESP3, bulk in RESP2. */
  verbatim(format: string, s: string): void {
    if (this.protocol !== 3) {
      this.bulk(s);
      return;
    }
    const body = `${format}:${s}`;
    this.line('=', String(body.length));
    this.ensure(body.length + 2);
    this.pos += this.buf.latin1Write(body, this.pos);
    this.buf.writeUInt16LE(CRLF, this.pos);
    this.pos += 2;
  }

  /** Bytes already encoded elsewhere (a cached reply, a forwarded reply). */
  encoded(b: Buffer): void {
    this.raw(b);
  }
}

function intString(n: number): string {
  // Integers beyond 2^53 arrive as bigint; a double here would be a bug in the caller.
  return Number.isInteger(n) ? String(n) : String(Math.trunc(n));
}
