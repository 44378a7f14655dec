import {
  RequestDecoder,
  PROTOCOL_ERRORS,
  DEFAULT_DECODER_LIMITS,
  expectedDollarError,
  string2ll,
  splitArgs,
  binaryString,
} from '../src/decoder';
import { bin, bytewise, decodeChunks, multibulk, mulberry32, splitAt } from './helpers';

interface Case {
  name: string;
  input: Buffer;
  commands: string[][];
  error?: string;
}

// Every case was checked against redis-server 7.0.15 (same commands, same error text).
const CASES: Case[] = [
  { name: 'multibulk', input: multibulk('SET', 'key', 'value'), commands: [['SET', 'key', 'value']] },
  { name: 'empty bulk', input: multibulk('SET', 'k', ''), commands: [['SET', 'k', '']] },
  { name: 'empty multibulk is skipped', input: bin('*0\r\n*-1\r\n*-10\r\n'), commands: [] },
  {
    name: 'empty multibulk between commands',
    input: Buffer.concat([multibulk('A'), bin('*0\r\n'), multibulk('B')]),
    commands: [['A'], ['B']],
  },
  { name: 'inline', input: bin('SET key value\r\n'), commands: [['SET', 'key', 'value']] },
  { name: 'inline with bare \\n', input: bin('PING\nPING\r\n'), commands: [['PING'], ['PING']] },
  { name: 'empty inline lines are skipped', input: bin('\r\n\n   \r\n\t\n'), commands: [] },
  {
    name: 'inline quoting',
    input: bin(`set a "b\\x41" 'c d'\r\n`),
    commands: [['set', 'a', 'bA', 'c d']],
  },
  {
    name: 'inline escapes in double quotes',
    input: bin('"a\\nb\\r\\t\\b\\a\\\\\\"q" "\\xZZ" "\\x4" "\\xfF"\r\n'),
    commands: [['a\nb\r\t\b\x07\\"q', 'xZZ', 'x4', '\xff']],
  },
  {
    name: 'inline single quotes keep backslashes except \\\'',
    input: bin(`'it\\'s' 'a\\nb'\r\n`),
    commands: [["it's", 'a\\nb']],
  },
  {
    name: 'inline quotes inside a word, empty quotes',
    input: bin(`foo"bar" "" ''\r\n`),
    commands: [['foobar', '', '']],
  },
  {
    name: 'inline separators: \\v and \\f separate only before a word; \\r separates',
    input: bin('\x0bleading a\x0bb "q"\x0cc x\ty\rz\r\n'),
    commands: [['leading', 'a\x0bb', 'q', 'c', 'x', 'y', 'z']],
  },
  { name: 'inline high bytes', input: bin('\xff\x80 \x00x\r\n'), commands: [['\xff\x80', '\x00x']] },
  { name: 'inline then multibulk', input: Buffer.concat([bin('PING\r\n'), multibulk('GET', 'k')]), commands: [['PING'], ['GET', 'k']] },
  // Redis skips the byte after a header's '\r' and the two bytes after a bulk without looking.
  { name: 'bytes after \\r and after a bulk are not checked', input: bin('*1\rX$4\rXPINGab'), commands: [['PING']] },
  {
    name: 'multibulk then error',
    input: Buffer.concat([multibulk('ECHO', 'abc'), bin('*1\r\nfoo\r\n')]),
    commands: [['ECHO', 'abc']],
    error: "ERR Protocol error: expected '$', got 'f'",
  },
  {
    name: 'wrong payload header (redis protocol.tcl)',
    input: bin('*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n'),
    commands: [],
    error: "ERR Protocol error: expected '$', got 'f'",
  },
  { name: 'expected $, got CR', input: bin('*1\r\n\r\n'), commands: [], error: "ERR Protocol error: expected '$', got ' '" },
  { name: 'expected $, got LF', input: bin('*1\r\n\n\r\n'), commands: [], error: "ERR Protocol error: expected '$', got ' '" },
  { name: 'expected $, got a high byte', input: bin('*1\r\n\xe9\r\n'), commands: [], error: "ERR Protocol error: expected '$', got '\xe9'" },
  { name: 'multibulk length not a number', input: bin('*abc\r\n'), commands: [], error: 'ERR Protocol error: invalid multibulk length' },
  { name: 'multibulk length out of range', input: bin('*3000000000\r\n'), commands: [], error: 'ERR Protocol error: invalid multibulk length' },
  { name: 'multibulk length with a leading zero', input: bin('*01\r\n'), commands: [], error: 'ERR Protocol error: invalid multibulk length' },
  { name: 'multibulk length -0', input: bin('*-0\r\n'), commands: [], error: 'ERR Protocol error: invalid multibulk length' },
  { name: 'multibulk length empty', input: bin('*\r\n'), commands: [], error: 'ERR Protocol error: invalid multibulk length' },
  { name: 'multibulk length LLONG_MIN is skipped', input: bin('*-9223372036854775808\r\nPING\r\n'), commands: [['PING']] },
  {
    name: 'multibulk length below LLONG_MIN',
    input: bin('*-9223372036854775809\r\n'),
    commands: [],
    error: 'ERR Protocol error: invalid multibulk length',
  },
  { name: 'negative bulk length', input: bin('*1\r\n$-1\r\n'), commands: [], error: 'ERR Protocol error: invalid bulk length' },
  { name: 'bulk length not a number', input: bin('*1\r\n$abc\r\n'), commands: [], error: 'ERR Protocol error: invalid bulk length' },
  { name: 'bulk length with a plus', input: bin('*1\r\n$+1\r\n'), commands: [], error: 'ERR Protocol error: invalid bulk length' },
  { name: 'bulk length with a leading zero', input: bin('*1\r\n$01\r\n'), commands: [], error: 'ERR Protocol error: invalid bulk length' },
  { name: 'bulk length above 512 MiB', input: bin('*1\r\n$600000000\r\n'), commands: [], error: 'ERR Protocol error: invalid bulk length' },
  { name: 'bulk length 20 digits', input: bin('*1\r\n$99999999999999999999\r\n'), commands: [], error: 'ERR Protocol error: invalid bulk length' },
  { name: 'unbalanced double quote', input: bin('ECHO "a\r\n'), commands: [], error: 'ERR Protocol error: unbalanced quotes in request' },
  { name: 'unbalanced single quote', input: bin("ECHO 'a\r\n"), commands: [], error: 'ERR Protocol error: unbalanced quotes in request' },
  { name: 'closing quote followed by a letter', input: bin('PING\r\nECHO "a"b\r\n'), commands: [['PING']], error: 'ERR Protocol error: unbalanced quotes in request' },
  { name: 'escaped closing quote at the end', input: bin('ECHO "a\\"\r\n'), commands: [], error: 'ERR Protocol error: unbalanced quotes in request' },
];

/** Whole, byte by byte, and split in two at every offset: all give the same outcome. */
function expectSplitInvariant(input: Buffer, expected: { commands: string[][]; error: string | null }): void {
  const check = (chunks: Buffer[], how: string) => {
    const got = decodeChunks(chunks);
    try {
      expect({ commands: got.commands, error: got.error }).toEqual(expected);
    } catch (e) {
      throw new Error(`${how}: ${(e as Error).message}`);
    }
  };
  check([input], 'whole');
  check(bytewise(input), 'byte by byte');
  for (let i = 1; i < input.length; i++) check(splitAt(input, [i]), `split at ${i}`);
  for (let i = 1; i + 1 < input.length; i += 3) {
    for (let j = i + 1; j < input.length; j += 2) check(splitAt(input, [i, j]), `split at ${i}, ${j}`);
  }
}

describe('RequestDecoder: cases', () => {
  test.each(CASES)('$name', (c) => {
    expectSplitInvariant(c.input, { commands: c.commands, error: c.error ?? null });
  });

  test('a complete input leaves nothing pending', () => {
    for (const c of CASES) {
      if (c.error === undefined) expect(decodeChunks([c.input]).pendingBytes).toBe(0);
    }
  });
});

describe('RequestDecoder: pipelining and chunking', () => {
  const commands: string[][] = [];
  for (let i = 0; i < 2000; i++) {
    commands.push(i % 3 === 0 ? ['SET', `key:${i}`, 'x'.repeat(1 + (i % 50))] : ['GET', `key:${i}`]);
  }
  const input = Buffer.concat(commands.map((argv, i) => (i % 7 === 6 ? bin(argv.join(' ') + '\r\n') : multibulk(...argv))));

  test('many pipelined commands in one chunk', () => {
    expect(decodeChunks([input])).toEqual({ commands, error: null, pendingBytes: 0 });
  });

  test.each([1, 2, 3, 7, 16, 100, 1024, 4096])('chunks of %i bytes', (size) => {
    const chunks: Buffer[] = [];
    for (let i = 0; i < input.length; i += size) chunks.push(input.subarray(i, i + size));
    expect(decodeChunks(chunks)).toEqual({ commands, error: null, pendingBytes: 0 });
  });

  test('commands are delivered as soon as they are complete', () => {
    const d = new RequestDecoder();
    const got: string[][] = [];
    const frame = multibulk('GET', 'k');
    expect(d.feed(Buffer.concat([frame, frame.subarray(0, 5)]), (a) => got.push(a))).toBeNull();
    expect(got).toEqual([['GET', 'k']]);
    expect(d.pendingBytes).toBe(5);
    expect(d.feed(frame.subarray(5), (a) => got.push(a))).toBeNull();
    expect(got).toEqual([['GET', 'k'], ['GET', 'k']]);
    expect(d.pendingBytes).toBe(0);
  });

  test('an empty chunk changes nothing', () => {
    const d = new RequestDecoder();
    const got: string[][] = [];
    expect(d.feed(bin('*1\r\n$4\r\nPI'), (a) => got.push(a))).toBeNull();
    expect(d.feed(Buffer.alloc(0), (a) => got.push(a))).toBeNull();
    expect(d.pendingBytes).toBe(10);
    expect(d.feed(bin('NG\r\n'), (a) => got.push(a))).toBeNull();
    expect(got).toEqual([['PING']]);
  });
});

describe('RequestDecoder: binary safety', () => {
  const all = Buffer.alloc(256);
  for (let i = 0; i < 256; i++) all[i] = i;
  const allString = all.toString('latin1');

  test('bytes 0..255 in keys and values round-trip', () => {
    const frame = multibulk('SET', all, Buffer.concat([all, all]));
    const { commands, error } = decodeChunks([frame]);
    expect(error).toBeNull();
    expect(commands).toEqual([['SET', allString, allString + allString]]);
    expect(Buffer.from(commands[0]![1]!, 'latin1').equals(all)).toBe(true);
  });

  test('bytes 0..255, each alone, split everywhere', () => {
    const frames: Buffer[] = [];
    const expected: string[][] = [];
    for (let i = 0; i < 256; i++) {
      frames.push(multibulk(Buffer.from([i]), Buffer.from([i, 13, 10, i])));
      expected.push([String.fromCharCode(i), String.fromCharCode(i, 13, 10, i)]);
    }
    const input = Buffer.concat(frames);
    expect(decodeChunks([input]).commands).toEqual(expected);
    expect(decodeChunks(bytewise(input)).commands).toEqual(expected);
  });

  test('arguments are one-byte strings, one char per byte', () => {
    const { commands } = decodeChunks([multibulk(Buffer.from([0xc3, 0xa9]))]);
    expect(commands[0]![0]).toBe('\xc3\xa9');
    expect(commands[0]![0]!.length).toBe(2);
  });
});

describe('RequestDecoder: large bulks', () => {
  test('a 5 MB bulk arriving in 16 KB chunks', () => {
    const value = Buffer.alloc(5 * 1024 * 1024);
    for (let i = 0; i < value.length; i++) value[i] = (i * 7 + (i >> 12)) & 0xff;
    const input = Buffer.concat([multibulk('SET', 'big', value), multibulk('GET', 'big')]);
    const d = new RequestDecoder();
    const got: string[][] = [];
    let maxPending = 0;
    for (let i = 0; i < input.length; i += 16 * 1024) {
      expect(d.feed(input.subarray(i, i + 16 * 1024), (a) => got.push(a))).toBeNull();
      maxPending = Math.max(maxPending, d.pendingBytes);
    }
    expect(got.length).toBe(2);
    expect(got[0]![0]).toBe('SET');
    expect(got[0]![2]!.length).toBe(value.length);
    expect(Buffer.from(got[0]![2]!, 'latin1').equals(value)).toBe(true);
    expect(got[1]).toEqual(['GET', 'big']);
    expect(d.pendingBytes).toBe(0);
    expect(maxPending).toBeGreaterThan(value.length - 16 * 1024);
    expect(maxPending).toBeLessThanOrEqual(value.length + 64);
  });

  test('pendingBytes counts every byte of the incomplete command', () => {
    const frame = multibulk('SET', 'k', 'v'.repeat(1000));
    const d = new RequestDecoder();
    for (let i = 0; i < frame.length - 1; i++) {
      d.feed(frame.subarray(i, i + 1), () => undefined);
      expect(d.pendingBytes).toBe(i + 1);
    }
    d.feed(frame.subarray(frame.length - 1), () => undefined);
    expect(d.pendingBytes).toBe(0);
  });

  test('a bulk exactly at maxBulkBytes is accepted, one more byte is not', () => {
    expect(decodeChunks([multibulk('x'.repeat(10))], { maxBulkBytes: 10 }).commands).toEqual([['x'.repeat(10)]]);
    expect(decodeChunks([bin('*1\r\n$11\r\n')], { maxBulkBytes: 10 }).error).toBe(
      'ERR Protocol error: invalid bulk length',
    );
  });

  test('the default bulk limit is proto-max-bulk-len capped at the longest JS string', () => {
    expect(DEFAULT_DECODER_LIMITS.maxBulkBytes).toBe(512 * 1024 * 1024);
    const max = require('buffer').constants.MAX_STRING_LENGTH as number;
    expect(decodeChunks([bin(`*1\r\n$${max}\r\n`)]).error).toBeNull();
    expect(decodeChunks([bin(`*1\r\n$${max + 1}\r\n`)]).error).toBe('ERR Protocol error: invalid bulk length');
  });
});

describe('RequestDecoder: limits on lines', () => {
  const limits = { maxInlineBytes: 100 };

  test.each([
    ['inline', (n: number) => bin('x'.repeat(n)), '\n', 'ERR Protocol error: too big inline request'],
    ['multibulk count', (n: number) => bin('*' + '1'.repeat(n - 1)), '\r\n', 'ERR Protocol error: too big mbulk count string'],
    ['bulk count', (n: number) => bin('*1\r\n$' + '1'.repeat(n - 1)), '\r\n', 'ERR Protocol error: too big bulk count string'],
  ])('%s line longer than maxInlineBytes', (_name, line, end, error) => {
    // A line of exactly the limit is fine (whatever it then means); one byte more is not.
    const prefix = _name === 'bulk count' ? 4 : 0;
    const atLimit = Buffer.concat([line(100), bin(end)]);
    expect(decodeChunks([atLimit], limits).error).not.toBe(error);
    expect(decodeChunks(bytewise(atLimit), limits).error).not.toBe(error);
    const over = Buffer.concat([line(101), bin(end)]);
    expect(decodeChunks([over], limits).error).toBe(error);
    expect(decodeChunks(bytewise(over), limits).error).toBe(error);
    // Without a terminator the decoder fails as soon as it holds more than the limit.
    const d = new RequestDecoder(limits);
    const chunk = line(101).subarray(0, prefix + 100);
    expect(d.feed(chunk, () => undefined)).toBeNull();
    expect(d.pendingBytes).toBe(prefix + 100);
    expect(d.feed(bin('1'), () => undefined)).toBe(error);
  });

  test("an inline line's \\r counts toward the limit (Redis only looks for \\n)", () => {
    expect(decodeChunks([bin('x'.repeat(99) + '\r\n')], limits).commands).toEqual([['x'.repeat(99)]]);
    expect(decodeChunks([bin('x'.repeat(100) + '\r\n')], limits).error).toBe('ERR Protocol error: too big inline request');
    expect(decodeChunks(bytewise(bin('x'.repeat(100) + '\r\n')), limits).error).toBe(
      'ERR Protocol error: too big inline request',
    );
  });

  test('a long inline line within the limit', () => {
    const arg = 'y'.repeat(60000);
    expect(decodeChunks([bin(`ECHO ${arg}\r\n`)]).commands).toEqual([['ECHO', arg]]);
  });

  test('the default line limit is 64 KiB', () => {
    expect(DEFAULT_DECODER_LIMITS.maxInlineBytes).toBe(65536);
    expect(decodeChunks([bin('x'.repeat(65536))]).error).toBeNull();
    expect(decodeChunks([bin('x'.repeat(65537))]).error).toBe('ERR Protocol error: too big inline request');
  });

  test('maxMultibulkLength', () => {
    expect(DEFAULT_DECODER_LIMITS.maxMultibulkLength).toBe(2147483647);
    expect(decodeChunks([bin('*2147483647\r\n')]).error).toBeNull();
    expect(decodeChunks([bin('*2147483648\r\n')]).error).toBe('ERR Protocol error: invalid multibulk length');
    expect(decodeChunks([multibulk('a', 'b', 'c')], { maxMultibulkLength: 3 }).commands).toEqual([['a', 'b', 'c']]);
    expect(decodeChunks([multibulk('a', 'b', 'c', 'd')], { maxMultibulkLength: 3 }).error).toBe(
      'ERR Protocol error: invalid multibulk length',
    );
  });

  test('limits must be positive integers', () => {
    expect(() => new RequestDecoder({ maxBulkBytes: 0 })).toThrow(RangeError);
    expect(() => new RequestDecoder({ maxInlineBytes: 1.5 })).toThrow(RangeError);
    expect(() => new RequestDecoder({ maxMultibulkLength: NaN })).toThrow(RangeError);
  });
});

describe('RequestDecoder: authRequired', () => {
  const feed = (input: Buffer) => {
    const d = new RequestDecoder();
    d.authRequired = true;
    const commands: string[][] = [];
    const error = d.feed(input, (a) => commands.push(a));
    return { commands, error };
  };

  test('allows small commands', () => {
    const args = Array.from({ length: 10 }, () => 'a'.repeat(16384));
    expect(feed(multibulk(...args)).commands).toEqual([args]);
    expect(feed(bin('*-1\r\n')).error).toBeNull();
  });

  test('refuses more than 10 arguments and bulks over 16384 bytes', () => {
    expect(feed(bin('*11\r\n')).error).toBe('ERR Protocol error: unauthenticated multibulk length');
    expect(feed(bin('*1\r\n$16385\r\n')).error).toBe('ERR Protocol error: unauthenticated bulk length');
  });

  test('can be cleared', () => {
    const d = new RequestDecoder();
    d.authRequired = true;
    d.authRequired = false;
    expect(d.feed(bin('*11\r\n'), () => undefined)).toBeNull();
  });
});

describe('RequestDecoder: failure', () => {
  test('stays failed after a protocol error', () => {
    const d = new RequestDecoder();
    const got: string[][] = [];
    expect(d.feed(bin('*1\r\n$x\r\n'), (a) => got.push(a))).toBe('ERR Protocol error: invalid bulk length');
    expect(d.error).toBe('ERR Protocol error: invalid bulk length');
    expect(d.feed(multibulk('PING'), (a) => got.push(a))).toBe('ERR Protocol error: invalid bulk length');
    expect(d.feed(bin('PING\r\n'), (a) => got.push(a))).toBe('ERR Protocol error: invalid bulk length');
    expect(got).toEqual([]);
    expect(d.pendingBytes).toBe(0);
  });

  test('commands after the error in the same chunk are not delivered', () => {
    const input = Buffer.concat([multibulk('A'), bin('*x\r\n'), multibulk('B')]);
    expect(decodeChunks([input])).toEqual({
      commands: [['A']],
      error: 'ERR Protocol error: invalid multibulk length',
      pendingBytes: 0,
    });
  });

  test('an exception from onCommand propagates and fails the decoder', () => {
    const d = new RequestDecoder();
    const boom = new Error('boom');
    expect(() =>
      d.feed(Buffer.concat([multibulk('A'), multibulk('B')]), () => {
        throw boom;
      }),
    ).toThrow(boom);
    expect(d.error).toBe(PROTOCOL_ERRORS.interrupted);
    expect(d.feed(multibulk('C'), () => undefined)).toBe(PROTOCOL_ERRORS.interrupted);
  });

  test('the exported error texts are Redis 7.0 texts', () => {
    expect(PROTOCOL_ERRORS).toMatchObject({
      invalidMultibulkLength: 'ERR Protocol error: invalid multibulk length',
      unauthenticatedMultibulkLength: 'ERR Protocol error: unauthenticated multibulk length',
      invalidBulkLength: 'ERR Protocol error: invalid bulk length',
      unauthenticatedBulkLength: 'ERR Protocol error: unauthenticated bulk length',
      tooBigMultibulkCount: 'ERR Protocol error: too big mbulk count string',
      tooBigBulkCount: 'ERR Protocol error: too big bulk count string',
      tooBigInline: 'ERR Protocol error: too big inline request',
      unbalancedQuotes: 'ERR Protocol error: unbalanced quotes in request',
    });
    expect(expectedDollarError(0x66)).toBe("ERR Protocol error: expected '$', got 'f'");
    expect(expectedDollarError(13)).toBe("ERR Protocol error: expected '$', got ' '");
  });
});

describe('string2ll', () => {
  const parse = (s: string) => string2ll(bin(s), 0, s.length);

  test.each([
    ['0', 0],
    ['1', 1],
    ['-1', -1],
    ['123456789', 123456789],
    ['9007199254740991', 9007199254740991],
    ['9223372036854775807', 9223372036854775807],
    ['-9223372036854775808', -9223372036854775808],
  ])('%s is %d', (s, v) => expect(parse(s)).toBe(v));

  test.each(['', '-', '-0', '00', '01', '+1', ' 1', '1 ', '1a', '9223372036854775808', '-9223372036854775809', '1'.repeat(21)])(
    '%j is not a number',
    (s) => expect(parse(s)).toBeNaN(),
  );
});

describe('binaryString', () => {
  test('equals latin1Slice for every length up to 40 and every byte', () => {
    const rand = mulberry32(42);
    const b = Buffer.alloc(300);
    for (let i = 0; i < 256; i++) b[i] = i;
    for (let i = 256; i < b.length; i++) b[i] = Math.floor(rand() * 256);
    for (let len = 0; len <= 40; len++) {
      for (let start = 0; start + len <= b.length; start += 1 + len) {
        expect(binaryString(b, start, len)).toBe(b.latin1Slice(start, start + len));
      }
    }
  });
});

describe('splitArgs', () => {
  const split = (s: string) => splitArgs(bin(s), 0, s.length);

  test('words, quotes and escapes', () => {
    expect(split('')).toEqual([]);
    expect(split('  a  b ')).toEqual(['a', 'b']);
    expect(split(`"a b" 'c d' e`)).toEqual(['a b', 'c d', 'e']);
    expect(split('"\\x00\\x7f\\xff"')).toEqual(['\x00\x7f\xff']);
    expect(split('"\\q"')).toEqual(['q']);
    expect(split('"a"\tb')).toEqual(['a', 'b']);
  });

  test('unbalanced', () => {
    expect(split('"a')).toBeNull();
    expect(split("'a")).toBeNull();
    expect(split('"a"b')).toBeNull();
    expect(split("'a'b")).toBeNull();
    expect(split('"a\\')).toBeNull();
  });
});
