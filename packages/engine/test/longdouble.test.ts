// The x87 long double emulation behind INCRBYFLOAT (util/longdouble.ts). Every expected value
// was produced by glibc on x86-64 with Redis's own code paths: string2ld() on both operands,
// `a + b` in long double, then ld2string(LD_STR_HUMAN) ("%.17Lf", trailing zeros trimmed).

import { addLongDouble, formatFixed17, formatLongDouble, ldFromInt, parseLongDouble } from '../src/util/longdouble';

/** a + b as Redis computes it: the formatted sum, 'ERR' if either does not parse, 'NANINF'. */
function incrbyfloat(a: string, b: string): string {
  const x = parseLongDouble(a);
  const y = parseLongDouble(b);
  if (x === null || y === null) return 'ERR';
  const z = addLongDouble(x, y);
  if (z === 'nan' || z.kind === 'inf') return 'NANINF';
  return formatLongDouble(z);
}

// [a, b, printf("%.17Lf", strtold(a) + strtold(b)) trimmed as Redis does]
const C_CASES: Array<[string, string, string]> = [
  ['0.2', '0.1', '0.3'],
  ['10.50', '0.1', '10.6'],
  ['10.6', '-5', '5.6'],
  ['5.0e3', '2.0e2', '5200'],
  ['0', '3', '3'],
  ['0', '3.0', '3'],
  ['3.0', '0', '3'],
  ['0.1', '0.2', '0.3'],
  ['0.1', '0.7', '0.8'],
  ['1.1', '2.2', '3.3'],
  ['-0.1', '0.1', '0'],
  ['1', '-1', '0'],
  ['-0.00000000000000000001', '0', '0'],
  ['0.000000000000000005', '0', '0'],
  ['0.000000000000000015', '0', '0.00000000000000002'],
  ['0.000000000000000025', '0', '0.00000000000000002'],
  // Exact binary fractions ending in 5 at the 18th decimal: ties, rounded to even.
  ['0.000003814697265625', '0', '0.00000381469726562'],
  ['0.000011444091796875', '0', '0.00001144409179688'],
  ['5', '1e-18', '5'],
  ['9223372036854775807', '1', '9223372036854775808'],
  ['18446744073709551615', '1', '18446744073709551616'],
  ['18446744073709551616', '1', '18446744073709551616'],
  ['36893488147419103235', '0', '36893488147419103236'],
  ['1e20', '1', '100000000000000000000'],
  ['123456789012345678901234567890', '0', '123456789012345678899921813504'],
  ['1.18973149535723176502e+4932', '1e4913', 'NANINF'],
  ['1e4932', '1e4932', 'NANINF'],
  ['3.6e-4951', '0', '0'],
  ['1.8e-4951', '0', 'ERR'],
  ['1e5000', '1', 'ERR'],
  ['inf', '1', 'NANINF'],
  ['-inf', '1', 'NANINF'],
  ['nan', '1', 'ERR'],
  ['0x10', '1', '17'],
  ['0x1p-3', '0', '0.125'],
  ['0X.8P1', '0', '1'],
  ['-0x1.8', '0', '-1.5'],
  ['0x', '1', 'ERR'],
  ['1e', '1', 'ERR'],
  ['.', '1', 'ERR'],
  ['1.', '2.', '3'],
  ['.5', '-.5e1', '-4.5'],
  ['+5', '+.25', '5.25'],
  [' 1', '1', 'ERR'],
  ['1 ', '1', 'ERR'],
  ['1.5.2', '1', 'ERR'],
  ['01', '001.500', '2.5'],
  ['1e-400', '0', '0'],
  ['3.14159265358979323846', '2.71828182845904523536', '5.85987448204883847'],
  ['-7.5', '2.5', '-5'],
  ['1000000.1', '0.01', '1000000.11000000000001364'],
  ['99999999999999999.9', '0.1', '100000000000000000'],
  ['0.30000000000000004', '0', '0.30000000000000004'],
];

describe('INCRBYFLOAT arithmetic', () => {
  it.each(C_CASES)('%s + %s = %s', (a, b, expected) => {
    expect(incrbyfloat(a, b)).toBe(expected);
  });

  it('formats values with thousands of integer digits exactly', () => {
    const big = incrbyfloat('1e4000', '1');
    expect(big.length).toBe(4000);
    expect(big.slice(0, 40)).toBe('9999999999999999999965463873099623784932');
    expect(big.slice(-40)).toBe('1956972190272729951206648276349901340672');
    // The largest finite long double.
    const max = incrbyfloat('1.18973149535723176502e+4932', '1e4900');
    expect(max.length).toBe(4933);
    expect(max.slice(0, 40)).toBe('1189731495357231765021263853030970205169');
    expect(max.slice(-40)).toBe('8849149662444156604419552086811989770240');
  });
});

describe('parseLongDouble', () => {
  it('refuses what string2ld refuses', () => {
    for (const s of ['', ' 1', '1 ', 'abc', 'nan', 'NaN', '-nan', '1e', 'e5', '0x', '0x1p', '1\0', '\x001', '1,5', 'infinit', '++1', '1e+']) {
      expect(parseLongDouble(s)).toBeNull();
    }
    expect(parseLongDouble('1'.repeat(5120))).toBeNull(); // MAX_LONG_DOUBLE_CHARS
    expect(parseLongDouble('9'.repeat(4933))).toBeNull(); // overflows
  });

  it('accepts the infinities strtold accepts (INCRBYFLOAT then refuses the result)', () => {
    for (const s of ['inf', '-inf', 'INF', '+Infinity', '-INFINITY']) {
      const v = parseLongDouble(s);
      expect(v?.kind).toBe('inf');
    }
  });

  it('keeps a 64-bit significand: integers up to 2^64 are exact', () => {
    expect(formatLongDouble(parseLongDouble('18446744073709551615')!)).toBe('18446744073709551615');
    expect(formatLongDouble(parseLongDouble('18446744073709551617')!)).toBe('18446744073709551616');
    expect(formatLongDouble(ldFromInt(-9223372036854775808n))).toBe('-9223372036854775808');
  });

  it('rounds subnormals at their own precision and refuses results rounding to zero', () => {
    expect(parseLongDouble('0x1p-16445')).not.toBeNull(); // the smallest subnormal
    expect(parseLongDouble('0x1p-16446')).toBeNull(); // a tie with zero: rounds to even, 0
    expect(parseLongDouble('0x1.8p-16446')).not.toBeNull(); // rounds up to the smallest
    expect(parseLongDouble('0e-99999')).not.toBeNull(); // an exact zero is fine
  });
});

describe('formatFixed17', () => {
  it('prints 17 decimals of the exact binary value, as printf does', () => {
    expect(formatFixed17(parseLongDouble('0.1')!)).toBe('0.10000000000000000');
    expect(formatFixed17(parseLongDouble('-0.5')!)).toBe('-0.50000000000000000');
    expect(formatFixed17(parseLongDouble('1e-18')!)).toBe('0.00000000000000000');
    expect(formatFixed17(parseLongDouble('-1e-18')!)).toBe('-0.00000000000000000');
    expect(formatFixed17(ldFromInt(42))).toBe('42.00000000000000000');
  });

  it('trims to what Redis stores', () => {
    expect(formatLongDouble(parseLongDouble('-1e-18')!)).toBe('0');
    expect(formatLongDouble(parseLongDouble('100')!)).toBe('100');
    expect(formatLongDouble(parseLongDouble('2.50')!)).toBe('2.5');
  });
});
