import { ReplyWriter, Protocol, formatDouble, formatG17 } from '../src/writer';

function bytes(protocol: Protocol, write: (w: ReplyWriter) => void): string {
  const w = new ReplyWriter();
  w.protocol = protocol;
  write(w);
  return w.take()?.toString('latin1') ?? '';
}

describe('ReplyWriter: exact bytes', () => {
  // [name, write, RESP2, RESP3]
  const CASES: [string, (w: ReplyWriter) => void, string, string][] = [
    ['ok', (w) => w.ok(), '+OK\r\n', '+OK\r\n'],
    ['simple', (w) => w.simple('PONG'), '+PONG\r\n', '+PONG\r\n'],
    ['error', (w) => w.error('ERR unknown command'), '-ERR unknown command\r\n', '-ERR unknown command\r\n'],
    ['error with CR/LF', (w) => w.error('ERR a\r\nb\nc'), '-ERR a  b c\r\n', '-ERR a  b c\r\n'],
    ['integer 0', (w) => w.integer(0), ':0\r\n', ':0\r\n'],
    ['integer 511 (cached)', (w) => w.integer(511), ':511\r\n', ':511\r\n'],
    ['integer 512', (w) => w.integer(512), ':512\r\n', ':512\r\n'],
    ['integer -1', (w) => w.integer(-1), ':-1\r\n', ':-1\r\n'],
    ['integer -0', (w) => w.integer(-0), ':0\r\n', ':0\r\n'],
    ['integer 2^53-1', (w) => w.integer(9007199254740991), ':9007199254740991\r\n', ':9007199254740991\r\n'],
    ['integer bigint max', (w) => w.integer(9223372036854775807n), ':9223372036854775807\r\n', ':9223372036854775807\r\n'],
    ['integer bigint min', (w) => w.integer(-9223372036854775808n), ':-9223372036854775808\r\n', ':-9223372036854775808\r\n'],
    ['integer small bigint', (w) => w.integer(5n), ':5\r\n', ':5\r\n'],
    ['bulk string', (w) => w.bulk('hello'), '$5\r\nhello\r\n', '$5\r\nhello\r\n'],
    ['bulk empty', (w) => w.bulk(''), '$0\r\n\r\n', '$0\r\n\r\n'],
    ['bulk binary string', (w) => w.bulk('\x00\r\n\xff'), '$4\r\n\x00\r\n\xff\r\n', '$4\r\n\x00\r\n\xff\r\n'],
    ['bulk Buffer', (w) => w.bulk(Buffer.from([0, 255, 10])), '$3\r\n\x00\xff\n\r\n', '$3\r\n\x00\xff\n\r\n'],
    ['bulk of 600 bytes', (w) => w.bulk('a'.repeat(600)), `$600\r\n${'a'.repeat(600)}\r\n`, `$600\r\n${'a'.repeat(600)}\r\n`],
    ['bulk bytes of a buffer slice', (w) => w.bulkBytes(Buffer.from('xx\x00\xff\nyy', 'latin1'), 2, 5), '$3\r\n\x00\xff\n\r\n', '$3\r\n\x00\xff\n\r\n'],
    ['bulk bytes, empty', (w) => w.bulkBytes(Buffer.alloc(4), 2, 2), '$0\r\n\r\n', '$0\r\n\r\n'],
    ['bulk bytes, 600 of them', (w) => w.bulkBytes(Buffer.from('b'.repeat(700)), 50, 650), `$600\r\n${'b'.repeat(600)}\r\n`, `$600\r\n${'b'.repeat(600)}\r\n`],
    ['nullBulk', (w) => w.nullBulk(), '$-1\r\n', '_\r\n'],
    ['nullArray', (w) => w.nullArray(), '*-1\r\n', '_\r\n'],
    ['array', (w) => w.array(2), '*2\r\n', '*2\r\n'],
    ['array 0', (w) => w.array(0), '*0\r\n', '*0\r\n'],
    ['array 1000', (w) => w.array(1000), '*1000\r\n', '*1000\r\n'],
    ['map', (w) => w.map(2), '*4\r\n', '%2\r\n'],
    ['map 300 (RESP2 past the cached headers)', (w) => w.map(300), '*600\r\n', '%300\r\n'],
    ['set', (w) => w.set(3), '*3\r\n', '~3\r\n'],
    ['push', (w) => w.push(3), '*3\r\n', '>3\r\n'],
    ['double 1.5', (w) => w.double(1.5), '$3\r\n1.5\r\n', ',1.5\r\n'],
    ['double 0.1', (w) => w.double(0.1), '$19\r\n0.10000000000000001\r\n', ',0.10000000000000001\r\n'],
    ['double 3', (w) => w.double(3), '$1\r\n3\r\n', ',3\r\n'],
    ['double -0', (w) => w.double(-0), '$2\r\n-0\r\n', ',-0\r\n'],
    ['double inf', (w) => w.double(Infinity), '$3\r\ninf\r\n', ',inf\r\n'],
    ['double -inf', (w) => w.double(-Infinity), '$4\r\n-inf\r\n', ',-inf\r\n'],
    ['double nan', (w) => w.double(NaN), '$3\r\nnan\r\n', ',nan\r\n'],
    ['boolean true', (w) => w.boolean(true), ':1\r\n', '#t\r\n'],
    ['boolean false', (w) => w.boolean(false), ':0\r\n', '#f\r\n'],
    ['bigNumber', (w) => w.bigNumber('3492890328409238509324850943850943825024385'), '$43\r\n3492890328409238509324850943850943825024385\r\n', '(3492890328409238509324850943850943825024385\r\n'],
    ['verbatim', (w) => w.verbatim('txt', 'Some string'), '$11\r\nSome string\r\n', '=15\r\ntxt:Some string\r\n'],
    ['verbatim empty', (w) => w.verbatim('mkd', ''), '$0\r\n\r\n', '=4\r\nmkd:\r\n'],
    ['encoded', (w) => w.encoded(Buffer.from('+CACHED\r\n')), '+CACHED\r\n', '+CACHED\r\n'],
    [
      'a nested reply',
      (w) => {
        w.map(1);
        w.bulk('k');
        w.array(2);
        w.integer(1);
        w.nullBulk();
      },
      '*2\r\n$1\r\nk\r\n*2\r\n:1\r\n$-1\r\n',
      '%1\r\n$1\r\nk\r\n*2\r\n:1\r\n_\r\n',
    ],
  ];

  test.each(CASES)('%s', (_name, write, resp2, resp3) => {
    expect(bytes(2, write)).toBe(resp2);
    expect(bytes(3, write)).toBe(resp3);
  });

  test('the default protocol is RESP2', () => {
    const w = new ReplyWriter();
    expect(w.protocol).toBe(2);
    w.nullBulk();
    expect(w.take()!.toString()).toBe('$-1\r\n');
  });
});

describe('ReplyWriter: buffer management', () => {
  test('take returns null when empty, and empties the writer', () => {
    const w = new ReplyWriter();
    expect(w.take()).toBeNull();
    w.ok();
    expect(w.length).toBe(5);
    expect(w.take()!.toString()).toBe('+OK\r\n');
    expect(w.length).toBe(0);
    expect(w.take()).toBeNull();
  });

  test('take returns a copy the caller owns', () => {
    const w = new ReplyWriter();
    w.simple('first');
    const first = w.take()!;
    w.simple('XXXXX');
    expect(first.toString()).toBe('+first\r\n');
  });

  test('grows past 16 KiB, one big value and many small ones', () => {
    const w = new ReplyWriter();
    const big = 'b'.repeat(100 * 1024);
    w.bulk(big);
    for (let i = 0; i < 5000; i++) w.integer(i);
    const out = w.take()!.toString('latin1');
    let expected = `$${big.length}\r\n${big}\r\n`;
    for (let i = 0; i < 5000; i++) expected += `:${i}\r\n`;
    expect(out).toBe(expected);
  });

  test('grows for a big Buffer bulk and a big verbatim', () => {
    const w = new ReplyWriter();
    w.protocol = 3;
    const b = Buffer.alloc(40000, 0x61);
    w.bulk(b);
    w.verbatim('txt', 'c'.repeat(40000));
    expect(w.take()!.toString('latin1')).toBe(`$40000\r\n${'a'.repeat(40000)}\r\n=40004\r\ntxt:${'c'.repeat(40000)}\r\n`);
  });

  test('keeps working after a very large reply was taken', () => {
    const w = new ReplyWriter();
    w.bulk('z'.repeat(2 * 1024 * 1024));
    expect(w.take()!.length).toBe(2 * 1024 * 1024 + 12);
    w.ok();
    expect(w.take()!.toString()).toBe('+OK\r\n');
  });

  test('truncate drops what was written after the mark', () => {
    const w = new ReplyWriter();
    w.ok();
    const mark = w.length;
    w.array(2);
    w.bulk('partial');
    w.truncate(mark);
    w.error('ERR replaced');
    w.truncate(1000); // a mark past the end changes nothing
    expect(w.take()!.toString()).toBe('+OK\r\n-ERR replaced\r\n');
  });
});

describe('formatG17 matches C printf("%.17g")', () => {
  // Expected values from python3: "%.17g" % x (which calls C's formatting).
  test.each([
    [0.1, '0.10000000000000001'],
    [1.5, '1.5'],
    [1e17, '1e+17'],
    [1e-5, '1.0000000000000001e-05'],
    [123456789012345678, '1.2345678901234568e+17'],
    [-0, '-0'],
    [0, '0'],
    [3.0, '3'],
    [-3.0, '-3'],
    [1e16, '10000000000000000'],
    [1e-4, '0.0001'],
    [0.3, '0.29999999999999999'],
    [2 / 3, '0.66666666666666663'],
    [-2 / 3, '-0.66666666666666663'],
    [123.456, '123.456'],
    [1e21, '1e+21'],
    [1e100, '1e+100'],
    [1e-7, '9.9999999999999995e-08'],
    [2 ** 60, '1.152921504606847e+18'],
    [2 ** 53 + 2, '9007199254740994'],
    [5e-324, '4.9406564584124654e-324'],
    [1.7976931348623157e308, '1.7976931348623157e+308'],
    [2.5e-5, '2.5000000000000001e-05'],
    [100, '100'],
    [0.5, '0.5'],
    // Exact ties at the 17th digit round to even in C, away from zero in JS's toExponential.
    [2 ** -25, '2.9802322387695312e-08'],
    [1 + 2 ** -17, '1.0000076293945312'],
    [-(1 + 2 ** -17), '-1.0000076293945312'],
    [2 ** -24, '5.9604644775390625e-08'],
  ])('%p -> %s', (x, s) => {
    expect(formatG17(x)).toBe(s);
  });

  test('formatDouble spells out infinities and NaN', () => {
    expect(formatDouble(Infinity)).toBe('inf');
    expect(formatDouble(-Infinity)).toBe('-inf');
    expect(formatDouble(NaN)).toBe('nan');
    expect(formatDouble(2.5)).toBe('2.5');
  });

  test('the output parses back to the same double', () => {
    for (let i = -300; i <= 300; i += 7) {
      for (const m of [1, 1.1, 3.3333333333333335, 9.999999999999998]) {
        const x = m * 10 ** i;
        expect(Number(formatG17(x))).toBe(x);
      }
    }
  });
});
