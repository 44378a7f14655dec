// Bitmaps: bit operations on string values, as Redis's bitops.c. Bit 0 is the most
// significant bit of the first byte; a missing key reads as an endless run of zero bits.

import { constants as bufferConstants } from 'buffer';
import { Call, command, CommandSpec } from '../command';
import { CommandError, ERR_BIT_OFFSET, ERR_NOT_INTEGER, ERR_SYNTAX, ERR_WRONGTYPE } from '../errors';
import { Int64, intArg, parseInt64 } from '../util/numbers';
import { countLookup, getStringForWrite, readString } from './string';

const ERR_BIT_VALUE = 'ERR bit is not an integer or out of range';

/** Set bits in each byte value. */
const POPCOUNT = new Uint8Array(256);
for (let i = 1; i < 256; i++) POPCOUNT[i] = (i & 1) + POPCOUNT[i >> 1]!;

/**
 * Redis's getBitOffsetFromArgument: a bit offset that is an integer, not negative, and whose
 * byte lies within proto-max-bulk-len. For a write Keel also refuses a byte beyond the
 * longest string V8 can hold (24 bytes short of the default 512 MiB).
 */
function bitOffsetArg(c: Call, s: string, forWrite: boolean): number {
  const v = parseInt64(s);
  if (v === null || typeof v === 'bigint' || v < 0) throw new CommandError(ERR_BIT_OFFSET);
  const byte = Math.floor(v / 8);
  if (byte >= c.engine.config.protoMaxBulkLen || (forWrite && byte >= bufferConstants.MAX_STRING_LENGTH)) {
    throw new CommandError(ERR_BIT_OFFSET);
  }
  return v;
}

/** Bits set in bytes [from, to] of s. */
function popcount(s: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i <= to; i++) n += POPCOUNT[s.charCodeAt(i)]!;
  return n;
}

/**
 * Redis's range arithmetic for BITCOUNT and BITPOS: negative indexes count from the end of
 * a length of `total` units, then both ends are clamped into [0, total - 1]. The result may
 * be empty (start > end).
 */
function clampRange(start: Int64, end: Int64, total: number): [number, number] {
  let s = typeof start === 'bigint' ? Number(start) : start;
  let e = typeof end === 'bigint' ? Number(end) : end;
  if (s < 0) s = total + s;
  if (e < 0) e = total + e;
  if (s < 0) s = 0;
  if (e < 0) e = 0;
  if (e >= total) e = total - 1;
  return [s, e];
}

/** BIT or BYTE, the unit of BITCOUNT's and BITPOS's range; true for BIT. */
function unitArg(s: string): boolean {
  const u = s.toLowerCase();
  if (u === 'bit') return true;
  if (u === 'byte') return false;
  throw new CommandError(ERR_SYNTAX);
}

// ---------------------------------------------------------------------------------------
// Commands

/** SETBIT key offset 0|1: replies the bit's old value; grows the string with zero bytes. */
function setbitCommand(c: Call): void {
  const key = c.argv[1]!;
  const offset = bitOffsetArg(c, c.argv[2]!, true);
  const on = parseInt64(c.argv[3]!);
  if (on === null) throw new CommandError(ERR_BIT_VALUE);
  if (on !== 0 && on !== 1) throw new CommandError(ERR_BIT_VALUE);
  const old = getStringForWrite(c, key) ?? null;
  const byte = offset >> 3;
  const mask = 1 << (7 - (offset & 7));
  const oldLength = old === null ? -1 : old.length;
  const grows = byte >= oldLength;
  const byteval = grows ? 0 : old!.charCodeAt(byte);
  const bitval = (byteval & mask) !== 0 ? 1 : 0;
  if (grows || bitval !== on) {
    const next = on === 1 ? byteval | mask : byteval & ~mask;
    const ch = String.fromCharCode(next);
    let value: string;
    if (old === null) value = '\0'.repeat(byte) + ch;
    else if (grows) value = old + '\0'.repeat(byte - old.length) + ch;
    else value = old.slice(0, byte) + ch + old.slice(byte + 1);
    c.db.set(key, value, true);
    c.touch(key);
  }
  c.out.integer(bitval);
}

function getbitCommand(c: Call): void {
  const offset = bitOffsetArg(c, c.argv[2]!, false);
  const v = readString(c, c.argv[1]!);
  const byte = offset >> 3;
  if (v === undefined || byte >= v.length) {
    c.out.integer(0);
    return;
  }
  c.out.integer((v.charCodeAt(byte) >> (7 - (offset & 7))) & 1);
}

/** BITCOUNT key [start end [BYTE | BIT]] */
function bitcountCommand(c: Call): void {
  const argv = c.argv;
  const v = readString(c, argv[1]!);
  if (v === undefined) {
    c.out.integer(0);
    return;
  }
  const len = v.length;
  if (argv.length === 2) {
    c.out.integer(len === 0 ? 0 : popcount(v, 0, len - 1));
    return;
  }
  if (argv.length !== 4 && argv.length !== 5) throw new CommandError(ERR_SYNTAX);
  const start = intArg(argv[2]!);
  const end = intArg(argv[3]!);
  if (start < 0 && end < 0 && start > end) {
    c.out.integer(0);
    return;
  }
  const isBit = argv.length === 5 ? unitArg(argv[4]!) : false;
  const [s, e] = clampRange(start, end, isBit ? len * 8 : len);
  if (s > e) {
    c.out.integer(0);
    return;
  }
  if (!isBit) {
    c.out.integer(popcount(v, s, e));
    return;
  }
  // Whole bytes, less the bits of the first and last bytes outside the range.
  const first = s >> 3;
  const last = e >> 3;
  let count = popcount(v, first, last);
  count -= POPCOUNT[v.charCodeAt(first) & (~((1 << (8 - (s & 7))) - 1) & 0xff)]!;
  count -= POPCOUNT[v.charCodeAt(last) & ((1 << (7 - (e & 7))) - 1)]!;
  c.out.integer(count);
}

/**
 * The first bit equal to `bit` in bit positions [from, to] of s, or -1. Bytes wholly inside
 * the range that cannot contain it are skipped a byte at a time.
 */
function findBit(s: string, bit: number, from: number, to: number): number {
  const skip = bit === 1 ? 0x00 : 0xff;
  let pos = from;
  while (pos <= to) {
    const byteval = s.charCodeAt(pos >> 3);
    if ((pos & 7) === 0 && pos + 7 <= to && byteval === skip) {
      pos += 8;
      continue;
    }
    if (((byteval >> (7 - (pos & 7))) & 1) === bit) return pos;
    pos++;
  }
  return -1;
}

/** BITPOS key bit [start [end [BYTE | BIT]]] */
function bitposCommand(c: Call): void {
  const argv = c.argv;
  const bitArg = parseInt64(argv[2]!);
  if (bitArg === null) throw new CommandError(ERR_NOT_INTEGER);
  if (bitArg !== 0 && bitArg !== 1) throw new CommandError('ERR The bit argument must be 1 or 0.');
  const bit = bitArg;
  const v = readString(c, argv[1]!);
  // A missing key is an endless run of zeros.
  if (v === undefined) {
    c.out.integer(bit === 1 ? -1 : 0);
    return;
  }
  const len = v.length;
  let s: number;
  let e: number;
  let endGiven = false;
  let isBit = false;
  if (argv.length === 3) {
    s = 0;
    e = len - 1;
  } else if (argv.length <= 6) {
    const start = intArg(argv[3]!);
    if (argv.length === 6) isBit = unitArg(argv[5]!);
    let end: Int64;
    if (argv.length >= 5) {
      end = intArg(argv[4]!);
      endGiven = true;
    } else {
      end = len - 1;
    }
    [s, e] = clampRange(start, end, isBit ? len * 8 : len);
  } else {
    throw new CommandError(ERR_SYNTAX);
  }
  // An empty range contains neither a 0 nor a 1.
  if (s > e) {
    c.out.integer(-1);
    return;
  }
  const fromBit = isBit ? s : s * 8;
  const toBit = isBit ? e : e * 8 + 7;
  const pos = findBit(v, bit, fromBit, toBit);
  if (pos >= 0) c.out.integer(pos);
  else if (bit === 1 || endGiven) c.out.integer(-1);
  // Without an explicit end the string counts as padded with zeros on the right.
  else c.out.integer(len * 8);
}

const enum BitOp {
  And,
  Or,
  Xor,
  Not,
}

/** BITOP AND|OR|XOR|NOT destkey key [key ...]: replies the result's length. */
function bitopCommand(c: Call): void {
  const argv = c.argv;
  const name = argv[1]!.toLowerCase();
  let op: BitOp;
  if (name === 'and') op = BitOp.And;
  else if (name === 'or') op = BitOp.Or;
  else if (name === 'xor') op = BitOp.Xor;
  else if (name === 'not') op = BitOp.Not;
  else throw new CommandError(ERR_SYNTAX);
  if (op === BitOp.Not && argv.length !== 4) throw new CommandError('ERR BITOP NOT must be called with a single source key.');
  const dest = argv[2]!;
  const sources: Buffer[] = [];
  let maxLength = 0;
  for (let j = 3; j < argv.length; j++) {
    const v = c.db.getForWrite(argv[j]!, c.nowMs);
    countLookup(c, v !== undefined);
    if (v !== undefined && typeof v !== 'string') throw new CommandError(ERR_WRONGTYPE);
    const b = Buffer.from(v ?? '', 'latin1');
    sources.push(b);
    if (b.length > maxLength) maxLength = b.length;
  }
  if (maxLength === 0) {
    if (c.db.delete(dest)) c.touch(dest);
    c.out.integer(0);
    return;
  }
  // Shorter strings read as zero-padded to the longest.
  const res = Buffer.alloc(maxLength);
  sources[0]!.copy(res);
  if (op === BitOp.Not) {
    for (let i = 0; i < maxLength; i++) res[i] = ~res[i]! & 0xff;
  } else {
    for (let k = 1; k < sources.length; k++) {
      const src = sources[k]!;
      const n = src.length;
      if (op === BitOp.And) {
        for (let i = 0; i < maxLength; i++) res[i] = i < n ? res[i]! & src[i]! : 0;
      } else if (op === BitOp.Or) {
        for (let i = 0; i < n; i++) res[i] = res[i]! | src[i]!;
      } else {
        for (let i = 0; i < n; i++) res[i] = res[i]! ^ src[i]!;
      }
    }
  }
  c.db.set(dest, res.toString('latin1'));
  c.touch(dest);
  c.out.integer(maxLength);
}

const bitmap = 'bitmap';

export const bitmapCommands: CommandSpec[] = [
  command('setbit', 4, ['write', 'denyoom'], [1, 1, 1], bitmap, '2.2.0', 'Sets or clears the bit at offset in the string value stored at key', setbitCommand),
  command('getbit', 3, ['readonly', 'fast'], [1, 1, 1], bitmap, '2.2.0', 'Returns the bit value at offset in the string value stored at key', getbitCommand),
  command('bitcount', -2, ['readonly'], [1, 1, 1], bitmap, '2.6.0', 'Count set bits in a string', bitcountCommand, { complexity: 'O(N)' }),
  command('bitpos', -3, ['readonly'], [1, 1, 1], bitmap, '2.8.7', 'Find first bit set or clear in a string', bitposCommand, { complexity: 'O(N)' }),
  command('bitop', -4, ['write', 'denyoom'], [2, -1, 1], bitmap, '2.6.0', 'Perform bitwise operations between strings', bitopCommand, { complexity: 'O(N)' }),
];
