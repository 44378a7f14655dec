import { globMatch, GLOB_NESTING_MAX } from '../src/util/glob';

// [pattern, subject, matches]: each verified against redis-server 7.0.15 (KEYS pattern with the
// subject as the only key), including its quirks: "[]" is empty, an unterminated class is
// closed at the end, ranges compare bytes as signed chars, and "**" does not match "".
const REDIS_CASES: Array<[string, string, boolean]> = [
  ['h?llo', 'hello', true],
  ['h?llo', 'hllo', false],
  ['h*llo', 'hllo', true],
  ['h*llo', 'heeeello', true],
  ['h[ae]llo', 'hello', true],
  ['h[ae]llo', 'hillo', false],
  ['h[^e]llo', 'hallo', true],
  ['h[^e]llo', 'hello', false],
  ['h[a-b]llo', 'hbllo', true],
  ['h[a-b]llo', 'hcllo', false],
  ['h[b-a]llo', 'hallo', true],
  ['[z-a]', 'm', true],
  ['\\*', '*', true],
  ['\\*', 'a', false],
  ['\\?', '?', true],
  ['a\\', 'a\\', true],
  ['a\\', 'a', false],
  ['[\\]]', ']', true],
  ['[\\-]', '-', true],
  ['[a\\-z]', 'b', false],
  ['[]', ']', false],
  ['[]a]', 'a', false],
  ['[]a]', ']', false],
  ['[]', '[', false],
  ['[abc', 'a', true],
  ['[abc', 'c', true],
  ['[abc', 'd', false],
  ['[', '[', false],
  ['[^', 'x', true],
  ['[^', '', false],
  ['[a-', 'a', true],
  ['[a-', '-', true],
  ['[a-]', '-', false],
  ['[a-]', 'a', true],
  ['[-a]', '-', true],
  ['[^a-c]', 'b', false],
  ['[^a-c]', 'd', true],
  ['[a-c-e]', 'd', false],
  ['[a-c-e]', '-', true],
  ['**', '', false],
  ['?', '', false],
  ['a*', 'a', true],
  ['*a', 'a', true],
  ['a**b', 'ab', true],
  ['a*b*c', 'abc', true],
  ['a*b*c', 'aXbYc', true],
  ['a*b*c', 'acb', false],
  ['*a*b*', 'xxaxxbxx', true],
  ['*[ab]', 'zzb', true],
  ['*\\*', 'ab*', true],
  ['*?', 'a', true],
  ['?*?', 'a', false],
  ['?*?', 'ab', true],
  ['', '', true],
  ['', 'a', false],
  ['a', '', false],
  ['[\x00-a]', 'A', true],
  ['[a-\xff]', '\xe9', false],
  ['[a-\xff]', 'b', false],
  ['[\xe0-\xf0]', '\xe9', true],
  ['[\x80-\x7f]', 'a', true],
  ['\x00', '\x00', true],
  ['a\x00*', 'a\x00b', true],
  ['*aaaaaaaaaaaab', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaac', false],
  ['a*a*a*a*a*a*a*a*b', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', false],
  ['H*', 'hello', false],
  ['user:*:name', 'user:42:name', true],
  ['user:*:name', 'user:42:email', false],
];

describe('globMatch', () => {
  test.each(REDIS_CASES)('%j against %j is %s, as in Redis', (pattern, subject, expected) => {
    expect(globMatch(pattern, subject)).toBe(expected);
  });

  test('a lone star does not match the empty string (KEYS and SCAN short-cut "*" before matching)', () => {
    expect(globMatch('*', '')).toBe(false);
    expect(globMatch('*', 'x')).toBe(true);
  });

  test('nocase folds ASCII letters only, in literals and ranges', () => {
    expect(globMatch('HeLLo', 'hello', true)).toBe(true);
    expect(globMatch('HeLLo', 'hello')).toBe(false);
    expect(globMatch('[A-C]x', 'bX', true)).toBe(true);
    expect(globMatch('[a-c]', 'B', true)).toBe(true);
    expect(globMatch('\xc9', '\xe9', true)).toBe(false);
  });

  test('escapes inside a class compare exactly, even with nocase (as Redis)', () => {
    expect(globMatch('[\\A]', 'a', true)).toBe(false);
    expect(globMatch('[\\A]', 'A', true)).toBe(true);
  });

  test('every byte value matches itself and "?"', () => {
    for (let b = 0; b < 256; b++) {
      const ch = String.fromCharCode(b);
      expect(globMatch('?', ch)).toBe(true);
      expect(globMatch(`\\${ch}`, ch)).toBe(true);
      expect(globMatch(`[\\${ch}]`, ch)).toBe(true);
    }
  });

  test('pathological backtracking patterns finish quickly', () => {
    const subject = 'a'.repeat(10000);
    const pattern = `${'a*'.repeat(200)}b`;
    const start = process.hrtime.bigint();
    expect(globMatch(pattern, subject)).toBe(false);
    expect(globMatch(`${'*a'.repeat(200)}*`, subject)).toBe(true);
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    expect(ms).toBeLessThan(2000);
  });

  test('star nesting is bounded: deeper patterns do not match and do not overflow the stack', () => {
    const deep = '*a'.repeat(GLOB_NESTING_MAX + 10);
    const subject = 'a'.repeat(GLOB_NESTING_MAX + 10);
    expect(() => globMatch(deep, subject)).not.toThrow();
    expect(globMatch(deep, subject)).toBe(false);
    // Within the limit the same shape matches.
    expect(globMatch('*a'.repeat(GLOB_NESTING_MAX - 1), 'a'.repeat(GLOB_NESTING_MAX - 1))).toBe(true);
    // Consecutive stars collapse into one level.
    expect(globMatch(`${'*'.repeat(100000)}a`, 'xa')).toBe(true);
  });

  test('long patterns and subjects without stars are linear', () => {
    const s = 'x'.repeat(1 << 20);
    expect(globMatch(s, s)).toBe(true);
    expect(globMatch('?'.repeat(1 << 20), s)).toBe(true);
    expect(globMatch(`${s}y`, s)).toBe(false);
  });
});
