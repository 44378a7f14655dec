// The request decoder: turns the bytes a client sends into commands (argv lists), incrementally,
// with the semantics and error texts of Redis 7.0's processMultibulkBuffer and
// processInlineBuffer (networking.c). It never does I/O and never keeps a timer: the server
// feeds it chunks and gets commands back through a callback.
//
// Arguments are "binary strings": one JS char per byte (latin1), binary safe, and held by V8 as
// compact one-byte strings.
//
// Speed: a command that lies wholly inside one chunk is decoded straight from that chunk (no
// copy of the chunk, headers parsed from bytes without making strings). Only the bytes of an
// incomplete trailing command are kept, as views of the chunks they came in; a large bulk that
// spans many chunks is joined once, when its last byte arrives.

import { constants as bufferConstants } from 'buffer';

export interface DecoderLimits {
  /** Largest bulk argument in bytes (Redis's proto-max-bulk-len). */
  maxBulkBytes: number;
  /** Largest number of arguments in a multibulk request. */
  maxMultibulkLength: number;
  /** Longest header line or inline request in bytes (Redis's PROTO_INLINE_MAX_SIZE). */
  maxInlineBytes: number;
}

/** INT_MAX: Redis 7.0 accepts a multibulk length up to this (networking.c). */
const INT_MAX = 2147483647;

export const DEFAULT_DECODER_LIMITS: Readonly<DecoderLimits> = Object.freeze({
  maxBulkBytes: 512 * 1024 * 1024,
  maxMultibulkLength: INT_MAX,
  maxInlineBytes: 64 * 1024,
});

/** Redis's limits for a connection that must authenticate first (authRequired in networking.c). */
const UNAUTHENTICATED_MULTIBULK_MAX = 10;
const UNAUTHENTICATED_BULK_MAX = 16384;

/** The protocol error texts, exactly as Redis 7.0 replies them. */
export const PROTOCOL_ERRORS = Object.freeze({
  invalidMultibulkLength: 'ERR Protocol error: invalid multibulk length',
  unauthenticatedMultibulkLength: 'ERR Protocol error: unauthenticated multibulk length',
  invalidBulkLength: 'ERR Protocol error: invalid bulk length',
  unauthenticatedBulkLength: 'ERR Protocol error: unauthenticated bulk length',
  tooBigMultibulkCount: 'ERR Protocol error: too big mbulk count string',
  tooBigBulkCount: 'ERR Protocol error: too big bulk count string',
  tooBigInline: 'ERR Protocol error: too big inline request',
  unbalancedQuotes: 'ERR Protocol error: unbalanced quotes in request',
  /** Not a Redis error: onCommand threw, so the rest of that chunk was never decoded. */
  interrupted: 'ERR Protocol error: request decoding interrupted',
});

/** "expected '$', got 'X'"; a CR or LF becomes a space, as Redis's addReplyErrorFormat does. */
export function expectedDollarError(byte: number): string {
  const ch = byte === 13 || byte === 10 ? ' ' : String.fromCharCode(byte);
  return `ERR Protocol error: expected '$', got '${ch}'`;
}

// Decoder states.
const START = 0; // at a command boundary, nothing kept
const INLINE = 1; // reading an inline request line
const MULTIBULK_HEADER = 2; // reading "*<count>\r\n"
const BULK_HEADER = 3; // inside a multibulk, reading "$<len>\r\n"
const BULK_BODY = 4; // inside a multibulk, reading <len> bytes and two more

// Kinds of line, for readLine.
const LINE_INLINE = 0;
const LINE_MULTIBULK = 1;
const LINE_BULK = 2;

const NEED_MORE = -1;
const FAILED = -2;
const EMPTY = Buffer.alloc(0);
const MAX_STRING_LENGTH = bufferConstants.MAX_STRING_LENGTH;

export class RequestDecoder {
  /**
   * True while the connection must still authenticate: Redis then refuses a multibulk of more
   * than 10 arguments and a bulk of more than 16384 bytes. The server sets and clears it.
   */
  authRequired = false;

  private readonly maxBulkBytes: number;
  private readonly maxMultibulkLength: number;
  private readonly maxInlineBytes: number;
  /** scanHeader accepts lines of up to 16 bytes, so it may only run when they are allowed. */
  private readonly fastHeaders: boolean;

  private failure: string | null = null;
  private state = START;
  /** Arguments of the multibulk being read, or null. */
  private argv: string[] | null = null;
  /** Arguments of that multibulk still to read. */
  private remaining = 0;
  /** Length of the bulk being read (BULK_BODY). */
  private bulkLen = 0;
  /** Bytes of the incomplete command received so far (parsed or kept). */
  private heldBytes = 0;

  /** An incomplete line: views of the chunks it came in. */
  private stash: Buffer[] = [];
  private stashBytes = 0;
  /** The stash ends with the '\r' of a header line; one more byte completes it. */
  private stashEndsWithCR = false;

  /** An incomplete bulk body (payload and the two bytes after it): views of its chunks. */
  private bodyParts: Buffer[] = [];
  private bodyBytes = 0;

  /** The line readLine found: lineBuf[lineStart, lineEnd), without its terminator. */
  private lineBuf: Buffer = EMPTY;
  private lineStart = 0;
  private lineEnd = 0;

  constructor(limits?: Partial<DecoderLimits>) {
    const l = { ...DEFAULT_DECODER_LIMITS, ...limits };
    assertLimit('maxBulkBytes', l.maxBulkBytes);
    assertLimit('maxMultibulkLength', l.maxMultibulkLength);
    assertLimit('maxInlineBytes', l.maxInlineBytes);
    // A bulk must fit in one JS string (2^29 - 24 bytes on 64-bit V8).
    this.maxBulkBytes = Math.min(l.maxBulkBytes, MAX_STRING_LENGTH);
    this.maxMultibulkLength = Math.min(l.maxMultibulkLength, INT_MAX);
    this.maxInlineBytes = l.maxInlineBytes;
    this.fastHeaders = l.maxInlineBytes >= 16;
  }

  /** Bytes buffered for an incomplete command (for the query-buffer limit). */
  get pendingBytes(): number {
    return this.heldBytes;
  }

  /** The protocol error the decoder failed with, or null. */
  get error(): string | null {
    return this.failure;
  }

  /**
   * Consumes a chunk from the socket. Calls onCommand(argv) for every complete command, in
   * order. Returns null, or the protocol error text after which the caller replies with that
   * error and closes the connection; the decoder then stays failed.
   *
   * The decoder keeps views of the chunk's bytes of an incomplete trailing command: the caller
   * must not reuse or change a chunk's memory after passing it (socket 'data' chunks are fresh).
   * onCommand must not throw; if it does, the exception propagates and the decoder is failed.
   */
  feed(chunk: Buffer, onCommand: (argv: string[]) => void): string | null {
    if (this.failure !== null) return this.failure;
    const end = chunk.length;
    if (end === 0) return null;

    let pos = 0;
    let state = this.state;
    let argv = this.argv;
    let remaining = this.remaining;
    let bulkLen = this.bulkLen;
    let held = this.heldBytes;
    let cmdStart = 0; // where the incomplete command's bytes in this chunk begin
    let completed = false;

    try {
      loop: for (;;) {
        switch (state) {
          case START: {
            if (pos >= end) break loop;
            held = 0;
            cmdStart = pos;
            state = chunk[pos] === 42 /* '*' */ ? MULTIBULK_HEADER : INLINE;
            continue;
          }

          case MULTIBULK_HEADER: {
            let n: number;
            const cr = this.fastHeaders && this.stashBytes === 0 ? scanHeader(chunk, pos, end) : -1;
            if (cr >= 0) {
              n = scanned;
              pos = cr + 2;
            } else {
              const next = this.readLine(LINE_MULTIBULK, chunk, pos);
              if (next < 0) break loop;
              n = string2ll(this.lineBuf, this.lineStart + 1, this.lineEnd);
              this.lineBuf = EMPTY;
              pos = next;
            }
            if (!(n <= this.maxMultibulkLength)) {
              this.fail(PROTOCOL_ERRORS.invalidMultibulkLength);
              break loop;
            }
            if (n > UNAUTHENTICATED_MULTIBULK_MAX && this.authRequired) {
              this.fail(PROTOCOL_ERRORS.unauthenticatedMultibulkLength);
              break loop;
            }
            if (n <= 0) {
              state = START; // Redis skips "*0" and "*-1"
              continue;
            }
            remaining = n;
            argv = [];
            state = BULK_HEADER;
            continue;
          }

          case BULK_HEADER: {
            if (pos >= end) break loop;
            let n: number;
            const cr =
              this.fastHeaders && this.stashBytes === 0 && chunk[pos] === 36 /* '$' */
                ? scanHeader(chunk, pos, end)
                : -1;
            if (cr >= 0) {
              n = scanned;
              pos = cr + 2;
            } else {
              const next = this.readLine(LINE_BULK, chunk, pos);
              if (next < 0) break loop;
              const first = this.lineBuf[this.lineStart]!;
              if (first !== 36) {
                this.fail(expectedDollarError(first));
                break loop;
              }
              n = string2ll(this.lineBuf, this.lineStart + 1, this.lineEnd);
              this.lineBuf = EMPTY;
              pos = next;
            }
            if (!(n >= 0 && n <= this.maxBulkBytes)) {
              this.fail(PROTOCOL_ERRORS.invalidBulkLength);
              break loop;
            }
            if (n > UNAUTHENTICATED_BULK_MAX && this.authRequired) {
              this.fail(PROTOCOL_ERRORS.unauthenticatedBulkLength);
              break loop;
            }
            bulkLen = n;
            state = BULK_BODY;
            continue;
          }

          case BULK_BODY: {
            // The payload, then two bytes that Redis skips without looking at them.
            const need = bulkLen + 2 - this.bodyBytes;
            if (end - pos < need) {
              if (pos < end) {
                this.bodyParts.push(pos === 0 ? chunk : chunk.subarray(pos));
                this.bodyBytes += end - pos;
              }
              break loop;
            }
            const value =
              this.bodyBytes === 0 ? binaryString(chunk, pos, bulkLen) : this.joinBody(chunk, pos, bulkLen);
            pos += need;
            argv!.push(value);
            if (--remaining > 0) {
              state = BULK_HEADER;
              continue;
            }
            const command = argv!;
            argv = null;
            state = START;
            onCommand(command);
            continue;
          }

          case INLINE: {
            const next = this.readLine(LINE_INLINE, chunk, pos);
            if (next < 0) break loop;
            pos = next;
            const args = splitArgs(this.lineBuf, this.lineStart, this.lineEnd);
            this.lineBuf = EMPTY;
            if (args === null) {
              this.fail(PROTOCOL_ERRORS.unbalancedQuotes);
              break loop;
            }
            state = START;
            if (args.length > 0) onCommand(args); // an empty line is no command
            continue;
          }
        }
      }
      completed = true;
    } finally {
      if (!completed && this.failure === null) this.fail(PROTOCOL_ERRORS.interrupted);
      if (this.failure !== null) {
        this.state = START;
        this.argv = null;
        this.heldBytes = 0;
      } else {
        this.state = state;
        this.argv = argv;
        this.remaining = remaining;
        this.bulkLen = bulkLen;
        this.heldBytes = state === START ? 0 : held + (end - cmdStart);
      }
    }
    return this.failure;
  }

  /**
   * Reads a line from chunk at pos, after what the stash holds. A header line ends at its first
   * '\r' and needs one more byte after it (Redis skips that byte unseen); an inline line ends at
   * its first '\n', and loses a '\r' before it. Returns the position after the line with the
   * line in lineBuf[lineStart, lineEnd); or NEED_MORE, having kept the rest of the chunk; or
   * FAILED when the line is longer than maxInlineBytes.
   */
  private readLine(kind: number, chunk: Buffer, pos: number): number {
    const end = chunk.length;
    const kept = this.stashBytes;
    if (this.stashEndsWithCR) {
      const line = Buffer.concat(this.stash, kept);
      this.dropStash();
      this.setLine(line, 0, kept - 1);
      return pos + 1;
    }
    const idx = chunk.indexOf(kind === LINE_INLINE ? 10 : 13, pos);
    // Redis fails once more than maxInlineBytes are buffered without a terminator; judging by
    // where the terminator is makes the outcome the same however the bytes were split.
    const length = idx === -1 ? kept + end - pos : kept + idx - pos;
    if (length > this.maxInlineBytes) {
      this.fail(
        kind === LINE_INLINE
          ? PROTOCOL_ERRORS.tooBigInline
          : kind === LINE_MULTIBULK
            ? PROTOCOL_ERRORS.tooBigMultibulkCount
            : PROTOCOL_ERRORS.tooBigBulkCount,
      );
      return FAILED;
    }
    if (idx === -1 || (kind !== LINE_INLINE && idx + 1 >= end)) {
      this.stash.push(pos === 0 ? chunk : chunk.subarray(pos));
      this.stashBytes += end - pos;
      this.stashEndsWithCR = idx !== -1;
      return NEED_MORE;
    }
    if (kept === 0) {
      this.setLine(chunk, pos, idx);
    } else {
      this.stash.push(chunk.subarray(pos, idx));
      const line = Buffer.concat(this.stash, length);
      this.dropStash();
      this.setLine(line, 0, length);
    }
    if (kind !== LINE_INLINE) return idx + 2;
    if (this.lineEnd > this.lineStart && this.lineBuf[this.lineEnd - 1] === 13) this.lineEnd--;
    return idx + 1;
  }

  private setLine(buf: Buffer, start: number, end: number): void {
    this.lineBuf = buf;
    this.lineStart = start;
    this.lineEnd = end;
  }

  private dropStash(): void {
    this.stash = [];
    this.stashBytes = 0;
    this.stashEndsWithCR = false;
  }

  /** Joins the kept parts of a bulk with what the chunk adds, and returns the payload. */
  private joinBody(chunk: Buffer, pos: number, bulkLen: number): string {
    const parts = this.bodyParts;
    const have = this.bodyBytes;
    const fromChunk = bulkLen > have ? bulkLen - have : 0;
    if (fromChunk > 0) parts.push(chunk.subarray(pos, pos + fromChunk));
    const joined = Buffer.concat(parts, have + fromChunk);
    this.bodyParts = [];
    this.bodyBytes = 0;
    return joined.latin1Slice(0, bulkLen);
  }

  private fail(error: string): void {
    this.failure = error;
    this.dropStash();
    this.bodyParts = [];
    this.bodyBytes = 0;
    this.lineBuf = EMPTY;
  }
}

function assertLimit(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`RequestDecoder: ${name} must be a positive integer, got ${value}`);
  }
}

/** The value of the header scanHeader last accepted. */
let scanned = 0;

/**
 * The fast path for a header "*<n>\r" or "$<n>\r" with n a plain non-negative integer of at most
 * 15 digits, followed by at least one more byte. Returns the index of the '\r' (the value is in
 * `scanned`), or -1 to let the general path (readLine, string2ll) decide.
 */
function scanHeader(b: Buffer, pos: number, end: number): number {
  const first = pos + 1;
  const limit = pos + 17 < end ? pos + 17 : end;
  let n = 0;
  for (let p = first; p < limit; p++) {
    const c = b[p]!;
    if (c >= 48 && c <= 57) {
      n = n * 10 + (c - 48);
    } else if (c === 13 && p > first && p + 1 < end && (b[first] !== 48 || p === first + 1)) {
      scanned = n;
      return p;
    } else {
      return -1;
    }
  }
  return -1;
}

/**
 * Redis's string2ll over b[start, end): an optional '-', then digits with no leading zero (or a
 * single "0"), at most 20 bytes, within the range of a signed 64-bit integer. Returns NaN when
 * the bytes are not such a number. Values beyond 2^53 come back as the nearest double, which is
 * enough: every caller only compares them with limits far below that.
 */
export function string2ll(b: Buffer, start: number, end: number): number {
  const len = end - start;
  if (len <= 0 || len >= 21) return NaN;
  if (len === 1 && b[start] === 48) return 0;
  let p = start;
  const negative = b[p] === 45; // '-'
  if (negative && ++p === end) return NaN;
  const c0 = b[p]!;
  if (c0 < 49 || c0 > 57) return NaN;
  let v = c0 - 48;
  for (p++; p < end; p++) {
    const c = b[p]!;
    if (c < 48 || c > 57) return NaN;
    v = v * 10 + (c - 48);
  }
  if (end - start - (negative ? 1 : 0) >= 16) {
    // Beyond 2^53 the sum above may be off; decide the range exactly, and round once.
    const exact = BigInt(b.latin1Slice(start, end));
    if (exact > 9223372036854775807n || exact < -9223372036854775808n) return NaN;
    return Number(exact);
  }
  return negative ? -v : v;
}

const fromCharCode = String.fromCharCode;

/**
 * The binary string of b[s, s + len). A call into C++ (latin1Slice) costs about 120 ns whatever
 * the length, while String.fromCharCode builds a short string in a few ns; up to 12 bytes the
 * result is still a flat one-byte string (V8 makes cons strings from 13 characters on).
 */
export function binaryString(b: Buffer, s: number, len: number): string {
  switch (len) {
    case 0:
      return '';
    case 1:
      return fromCharCode(b[s]!);
    case 2:
      return fromCharCode(b[s]!, b[s + 1]!);
    case 3:
      return fromCharCode(b[s]!, b[s + 1]!, b[s + 2]!);
    case 4:
      return fromCharCode(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!);
    case 5:
      return fromCharCode(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!);
    case 6:
      return fromCharCode(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!);
    case 7:
      return fromCharCode(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!);
    case 8:
      return fromCharCode(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!);
    default:
      if (len <= 12) return binaryString(b, s, 8) + binaryString(b, s + 8, len - 8);
      return b.latin1Slice(s, s + len);
  }
}

/** C's isspace in the C locale: space, \t, \n, \v, \f, \r. */
function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

function isHexDigit(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}

function hexValue(c: number): number {
  return c <= 57 ? c - 48 : (c | 0x20) - 87;
}

/**
 * Redis's sdssplitargs over b[start, end): arguments separated by blanks, "double quotes" with
 * \n \r \t \b \a \xHH and \<any> escapes, 'single quotes' with \' only. A closing quote must be
 * followed by a blank or the end. Returns null for unbalanced quotes. Unlike C, a NUL byte is an
 * ordinary byte here.
 */
export function splitArgs(b: Buffer, start: number, end: number): string[] | null {
  const args: string[] = [];
  let out: Buffer | null = null; // scratch for a token's bytes; a token is never longer than the line
  let p = start;
  const at = (i: number): number => (i < end ? b[i]! : -1);
  for (;;) {
    while (p < end && isSpace(b[p]!)) p++;
    if (p >= end) return args;
    if (out === null) out = Buffer.allocUnsafe(end - start);
    let n = 0;
    let inDouble = false;
    let inSingle = false;
    let done = false;
    while (!done) {
      const c = at(p);
      if (inDouble) {
        if (c === 92 && at(p + 1) === 120 && isHexDigit(at(p + 2)) && isHexDigit(at(p + 3))) {
          out[n++] = hexValue(at(p + 2)) * 16 + hexValue(at(p + 3));
          p += 3;
        } else if (c === 92 && at(p + 1) !== -1) {
          p++;
          const e = b[p]!;
          out[n++] =
            e === 110 ? 10 : e === 114 ? 13 : e === 116 ? 9 : e === 98 ? 8 : e === 97 ? 7 : e;
        } else if (c === 34) {
          const next = at(p + 1);
          if (next !== -1 && !isSpace(next)) return null;
          done = true;
        } else if (c === -1) {
          return null;
        } else {
          out[n++] = c;
        }
      } else if (inSingle) {
        if (c === 92 && at(p + 1) === 39) {
          p++;
          out[n++] = 39;
        } else if (c === 39) {
          const next = at(p + 1);
          if (next !== -1 && !isSpace(next)) return null;
          done = true;
        } else if (c === -1) {
          return null;
        } else {
          out[n++] = c;
        }
      } else if (c === 32 || c === 10 || c === 13 || c === 9 || c === -1) {
        done = true;
      } else if (c === 34) {
        inDouble = true;
      } else if (c === 39) {
        inSingle = true;
      } else {
        out[n++] = c;
      }
      if (c !== -1) p++;
    }
    args.push(out.latin1Slice(0, n));
  }
}
