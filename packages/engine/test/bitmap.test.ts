// The bitmap commands (types/bitmap.ts), driven through the Engine. Expected replies are
// Redis 7.0's, byte for byte: each sequence here was also run against redis-server 7.0.15.

import { Harness, T0 } from './harness';




const int = (n: number): string => `:${n}\r\n`;
const bulk = (s: string): string => `$${s.length}\r\n${s}\r\n`;
const err = (s: string): string => `-${s}\r\n`;
const NIL = '$-1\r\n';
const SYNTAX = err('ERR syntax error');
const NOT_INT = err('ERR value is not an integer or out of range');
const WRONGTYPE = err('WRONGTYPE Operation against a key holding the wrong kind of value');
const BIT_OFFSET = err('ERR bit offset is not an integer or out of range');
const BIT_VALUE = err('ERR bit is not an integer or out of range');

let h: Harness;
beforeEach(() => {
  h = new Harness();
});

describe('the command table', () => {
  it('declares the bitmap commands as Redis 7.0 does', () => {
    const expected: Array<[string, number, string[], number, number, number]> = [
      ['setbit', 4, ['write', 'denyoom'], 1, 1, 1],
      ['getbit', 3, ['readonly', 'fast'], 1, 1, 1],
      ['bitcount', -2, ['readonly'], 1, 1, 1],
      ['bitpos', -3, ['readonly'], 1, 1, 1],
      ['bitop', -4, ['write', 'denyoom'], 2, -1, 1],
    ];
    for (const [name, arity, flags, first, last, step] of expected) {
      const spec = h.engine.commands.lookup(name)!;
      expect([spec.name, spec.arity, spec.flags, spec.firstKey, spec.lastKey, spec.step, spec.group]).toEqual([name, arity, flags, first, last, step, 'bitmap']);
    }
  });
});

describe('SETBIT and GETBIT', () => {
  it('set and clear bits, most significant first, growing with zero bytes', () => {
    expect(h.run('setbit', 'b', '7', '1')).toBe(int(0));
    expect(h.run('get', 'b')).toBe(bulk('\x01'));
    expect(h.run('setbit', 'b', '7', '1')).toBe(int(1));
    expect(h.run('setbit', 'b', '0', '1')).toBe(int(0));
    expect(h.run('get', 'b')).toBe(bulk('\x81'));
    expect(h.run('setbit', 'b', '7', '0')).toBe(int(1));
    expect(h.run('setbit', 'b', '100', '1')).toBe(int(0));
    expect(h.run('strlen', 'b')).toBe(int(13));
    expect(h.run('getbit', 'b', '100')).toBe(int(1));
    expect(h.run('getbit', 'b', '101')).toBe(int(0));
    expect(h.run('getbit', 'b', '0')).toBe(int(1));
    expect(h.run('getbit', 'b', '100000')).toBe(int(0));
    expect(h.run('getbit', 'nokey', '5')).toBe(int(0));
    // Growing by clearing a bit still writes the zero bytes.
    expect(h.run('setbit', 'z', '20', '0')).toBe(int(0));
    expect(h.run('get', 'z')).toBe(bulk('\x00\x00\x00'));
  });

  it('read the bits of any string', () => {
    h.run('set', 's', 'a'); // 0x61 = 01100001
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((i) => h.run('getbit', 's', String(i))).join('')).toBe([0, 1, 1, 0, 0, 0, 0, 1].map(int).join(''));
  });

  it('touch the key only when something changes', () => {
    h.run('set', 'k', 'abc');
    expect(h.touches('k', 'setbit', 'k', '0', '0')).toBe(false);
    expect(h.touches('k', 'setbit', 'k', '1', '1')).toBe(false);
    expect(h.touches('k', 'setbit', 'k', '0', '1')).toBe(true);
    expect(h.touches('k', 'setbit', 'k', '100', '0')).toBe(true); // grows
    expect(h.touches('k', 'getbit', 'k', '0')).toBe(false);
  });

  it('keep the TTL', () => {
    h.run('set', 'k', 'a', 'PX', '100');
    h.run('setbit', 'k', '100', '1');
    expect(h.engine.db(0).expireAt('k')).toBe(T0 + 100);
  });

  it('validate offset, then bit, then type', () => {
    h.putList('L');
    expect(h.run('getbit', 'b', '-1')).toBe(BIT_OFFSET);
    expect(h.run('getbit', 'b', 'x')).toBe(BIT_OFFSET);
    expect(h.run('setbit', 'b', '-1', '1')).toBe(BIT_OFFSET);
    expect(h.run('setbit', 'b', '01', '1')).toBe(BIT_OFFSET);
    expect(h.run('setbit', 'b', '9223372036854775807', '1')).toBe(BIT_OFFSET);
    expect(h.run('setbit', 'b', '1', '2')).toBe(BIT_VALUE);
    expect(h.run('setbit', 'b', '1', '-1')).toBe(BIT_VALUE);
    expect(h.run('setbit', 'b', '1', 'x')).toBe(BIT_VALUE);
    expect(h.run('setbit', 'b', '1', '9223372036854775808')).toBe(BIT_VALUE);
    expect(h.run('setbit', 'L', 'x', '5')).toBe(BIT_OFFSET);
    expect(h.run('setbit', 'L', '1', '5')).toBe(BIT_VALUE);
    expect(h.run('setbit', 'L', '1', '1')).toBe(WRONGTYPE);
    expect(h.run('getbit', 'L', 'x')).toBe(BIT_OFFSET);
    expect(h.run('getbit', 'L', '1')).toBe(WRONGTYPE);
    expect(h.run('get', 'b')).toBe(NIL);
  });

  it('limit offsets to proto-max-bulk-len bytes', () => {
    // The default 512 MiB allows offsets up to 2^32 - 1 (not written here: 512 MiB).
    expect(h.run('getbit', 'b', '4294967295')).toBe(int(0));
    expect(h.run('getbit', 'b', '4294967296')).toBe(BIT_OFFSET);
    expect(h.run('setbit', 'b', '4294967296', '1')).toBe(BIT_OFFSET);
    const small = new Harness({ protoMaxBulkLen: 4 });
    expect(small.run('setbit', 'b', '31', '1')).toBe(int(0));
    expect(small.run('get', 'b')).toBe(bulk('\x00\x00\x00\x01'));
    expect(small.run('setbit', 'b', '32', '1')).toBe(BIT_OFFSET);
    expect(small.run('getbit', 'b', '32')).toBe(BIT_OFFSET);
  });
});

describe('BITCOUNT', () => {
  beforeEach(() => {
    h.run('set', 'k', 'foobar');
  });

  it('counts the set bits of the whole string or a range', () => {
    const cases: Array<[string[], number]> = [
      [[], 26],
      [['0', '0'], 4],
      [['1', '1'], 6],
      [['1', '1', 'BYTE'], 6],
      [['5', '30', 'BIT'], 17],
      [['0', '-1', 'bit'], 26],
      [['-3', '-1', 'bit'], 1],
      [['-10', '-20'], 0],
      [['-1', '-5', 'foo'], 0], // the empty negative range is checked before the unit
      [['9223372036854775807', '-9223372036854775808'], 0],
      [['-9223372036854775808', '9223372036854775807', 'bit'], 26],
      [['2', '100'], 16],
    ];
    for (const [range, n] of cases) {
      expect([range, h.run('bitcount', 'k', ...range)]).toEqual([range, int(n)]);
    }
    expect(h.run('bitcount', 'nokey')).toBe(int(0));
    h.run('set', 'e', '');
    expect(h.run('bitcount', 'e')).toBe(int(0));
    expect(h.run('bitcount', 'e', '0', '-1', 'bit')).toBe(int(0));
    h.run('set', 'all', '\xff'.repeat(100));
    expect(h.run('bitcount', 'all')).toBe(int(800));
  });

  it('errors', () => {
    h.putList('L');
    expect(h.run('bitcount', 'k', '1')).toBe(SYNTAX);
    expect(h.run('bitcount', 'k', '1', '2', '3', '4')).toBe(SYNTAX);
    expect(h.run('bitcount', 'k', '1', '2', 'foo')).toBe(SYNTAX);
    expect(h.run('bitcount', 'k', 'a', '2')).toBe(NOT_INT);
    expect(h.run('bitcount', 'k', '1', 'b', 'bit')).toBe(NOT_INT);
    expect(h.run('bitcount', 'L')).toBe(WRONGTYPE);
    // A missing key counts 0 before its arguments are looked at.
    expect(h.run('bitcount', 'nokey', '1')).toBe(int(0));
    expect(h.run('bitcount', 'nokey', 'a', 'b', 'c', 'd')).toBe(int(0));
  });
});

describe('BITPOS', () => {
  beforeEach(() => {
    h.run('set', 'k', '\xff\xf0\x00');
  });

  it('finds the first set or clear bit', () => {
    const cases: Array<[string[], number]> = [
      [['0'], 12],
      [['1'], 0],
      [['0', '1'], 12],
      [['1', '2'], -1],
      [['0', '2', '-1'], 16],
      [['1', '2', '-1'], -1],
      [['1', '7', '15', 'bit'], 7],
      [['0', '7', '15', 'bit'], 12],
      [['0', '0', '7', 'bit'], -1],
      [['0', '0', '0', 'BYTE'], -1],
      [['0', '0'], 12],
    ];
    for (const [args, n] of cases) {
      expect([args, h.run('bitpos', 'k', ...args)]).toEqual([args, int(n)]);
    }
  });

  it('pads with zeros on the right only without an explicit end', () => {
    h.run('set', 'ff', '\xff\xff');
    expect(h.run('bitpos', 'ff', '0')).toBe(int(16));
    expect(h.run('bitpos', 'ff', '0', '0')).toBe(int(16));
    expect(h.run('bitpos', 'ff', '0', '1')).toBe(int(16));
    expect(h.run('bitpos', 'ff', '0', '-3', '-1', 'bit')).toBe(int(-1));
    expect(h.run('bitpos', 'ff', '0', '1', 'bit')).toBe(NOT_INT); // 'bit' here is the end
    expect(h.run('bitpos', 'ff', '0', '0', '-1')).toBe(int(-1));
    expect(h.run('bitpos', 'ff', '0', '1', '-1', 'bit')).toBe(int(-1));
    h.run('set', 'zz', '\x00\x00');
    expect(h.run('bitpos', 'zz', '1')).toBe(int(-1));
    expect(h.run('bitpos', 'zz', '0', '1')).toBe(int(8));
  });

  it('treats a missing key as zeros and an empty string as an empty range', () => {
    expect(h.run('bitpos', 'nokey', '1')).toBe(int(-1));
    expect(h.run('bitpos', 'nokey', '0')).toBe(int(0));
    expect(h.run('bitpos', 'nokey', '0', '5', '6')).toBe(int(0));
    h.run('set', 'e', '');
    expect(h.run('bitpos', 'e', '0')).toBe(int(-1));
    expect(h.run('bitpos', 'e', '1')).toBe(int(-1));
    expect(h.run('bitpos', 'e', '0', '0', '-1', 'bit')).toBe(int(-1));
  });

  it('errors, in Redis order', () => {
    h.putList('L');
    expect(h.run('bitpos', 'k', 'x')).toBe(NOT_INT);
    expect(h.run('bitpos', 'k', '2')).toBe(err('ERR The bit argument must be 1 or 0.'));
    expect(h.run('bitpos', 'L', '5')).toBe(err('ERR The bit argument must be 1 or 0.'));
    expect(h.run('bitpos', 'L', '1')).toBe(WRONGTYPE);
    expect(h.run('bitpos', 'k', '1', 'x')).toBe(NOT_INT);
    expect(h.run('bitpos', 'k', '1', '0', 'x')).toBe(NOT_INT);
    // The unit is parsed before the end.
    expect(h.run('bitpos', 'k', '1', '0', 'x', 'foo')).toBe(SYNTAX);
    expect(h.run('bitpos', 'k', '1', '0', '1', 'bit', '5')).toBe(SYNTAX);
  });
});

describe('BITOP', () => {
  beforeEach(() => {
    h.run('set', 'a', '\x0f\xf0abc');
    h.run('set', 'b', '\xff');
  });

  it('AND, OR, XOR and NOT, zero-padding shorter strings', () => {
    expect(h.run('bitop', 'and', 'd', 'a', 'b')).toBe(int(5));
    expect(h.run('get', 'd')).toBe(bulk('\x0f\x00\x00\x00\x00'));
    expect(h.run('bitop', 'OR', 'd', 'a', 'b')).toBe(int(5));
    expect(h.run('get', 'd')).toBe(bulk('\xff\xf0abc'));
    expect(h.run('bitop', 'xor', 'd', 'a', 'b')).toBe(int(5));
    expect(h.run('get', 'd')).toBe(bulk('\xf0\xf0abc'));
    expect(h.run('bitop', 'not', 'd', 'a')).toBe(int(5));
    expect(h.run('get', 'd')).toBe(bulk('\xf0\x0f\x9e\x9d\x9c'));
    expect(h.run('bitop', 'xor', 'd', 'a', 'a', 'a')).toBe(int(5));
    expect(h.run('get', 'd')).toBe(bulk('\x0f\xf0abc'));
    expect(h.run('bitop', 'and', 'd', 'a', 'nokey')).toBe(int(5));
    expect(h.run('get', 'd')).toBe(bulk('\x00\x00\x00\x00\x00'));
    expect(h.run('bitop', 'or', 'd', 'nokey', 'b', 'a')).toBe(int(5));
    expect(h.run('get', 'd')).toBe(bulk('\xff\xf0abc'));
    expect(h.run('bitop', 'not', 'd', 'b')).toBe(int(1));
    expect(h.run('get', 'd')).toBe(bulk('\x00'));
  });

  it('works on long strings', () => {
    const x = Array.from({ length: 1000 }, (_, i) => String.fromCharCode((i * 7) & 0xff)).join('');
    const y = Array.from({ length: 700 }, (_, i) => String.fromCharCode((i * 13 + 5) & 0xff)).join('');
    h.run('mset', 'x', x, 'y', y);
    h.run('bitop', 'xor', 'd', 'x', 'y');
    const expected = Array.from({ length: 1000 }, (_, i) => String.fromCharCode(x.charCodeAt(i) ^ (i < 700 ? y.charCodeAt(i) : 0))).join('');
    expect(h.run('get', 'd')).toBe(bulk(expected));
  });

  it('deletes the destination when every source is empty', () => {
    h.run('set', 'd', 'x', 'EX', '100');
    expect(h.touches('d', 'bitop', 'and', 'd', 'nokey', 'nokey2')).toBe(true);
    expect(h.run('get', 'd')).toBe(NIL);
    expect(h.touches('d', 'bitop', 'not', 'd', 'nokey')).toBe(false);
  });

  it('overwrites a destination of any type and clears its TTL', () => {
    h.putList('L');
    expect(h.run('bitop', 'or', 'L', 'a')).toBe(int(5));
    expect(h.run('get', 'L')).toBe(bulk('\x0f\xf0abc'));
    h.run('set', 'd', 'x', 'EX', '100');
    expect(h.touches('d', 'bitop', 'or', 'd', 'a')).toBe(true);
    expect(h.engine.db(0).expireAt('d')).toBeUndefined();
  });

  it('errors', () => {
    h.putList('L');
    expect(h.run('bitop', 'foo', 'd', 'a')).toBe(SYNTAX);
    expect(h.run('bitop', 'not', 'd', 'a', 'b')).toBe(err('ERR BITOP NOT must be called with a single source key.'));
    expect(h.run('bitop', 'and', 'd', 'a', 'L')).toBe(WRONGTYPE);
    expect(h.run('bitop', 'and', 'd')).toBe(err("ERR wrong number of arguments for 'bitop' command"));
    expect(h.run('get', 'd')).toBe(NIL);
  });
});
