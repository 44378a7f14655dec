// Expiry (types/generic.ts): EXPIRE PEXPIRE EXPIREAT PEXPIREAT with NX XX GT LT, TTL PTTL
// EXPIRETIME PEXPIRETIME and PERSIST, with the time under the test's control. Expected replies
// are Redis 7.0's (checked against redis-server 7.0.15).

import { Harness, T0 } from './harness';



const OK = '+OK\r\n';
const NIL = '$-1\r\n';
const int = (n: number | string): string => `:${n}\r\n`;
const bulk = (s: string): string => `$${s.length}\r\n${s}\r\n`;
const simple = (s: string): string => `+${s}\r\n`;
const err = (s: string): string => `-${s}\r\n`;
const arr = (...items: string[]): string => `*${items.length}\r\n${items.join('')}`;

let h: Harness;
beforeEach(() => {
  h = new Harness();
  h.run('set', 'k', 'v');
});

describe('a key expires exactly at its time', () => {
  test.each([
    ['expire', '10', 10_000],
    ['pexpire', '1234', 1234],
    ['expireat', String(T0 / 1000 + 7), 7000],
    ['pexpireat', String(T0 + 77), 77],
  ])('%s %s', (cmd, arg, ttlMs) => {
    expect(h.run(cmd, 'k', arg)).toBe(int(1));
    h.now = T0 + ttlMs - 1;
    expect(h.run('get', 'k')).toBe(bulk('v'));
    expect(h.run('exists', 'k')).toBe(int(1));
    expect(h.run('pttl', 'k')).toBe(int(1));
    expect(h.run('ttl', 'k')).toBe(int(0));
    h.now = T0 + ttlMs;
    expect(h.run('get', 'k')).toBe(NIL);
    expect(h.run('exists', 'k')).toBe(int(0));
    expect(h.run('ttl', 'k')).toBe(int(-2));
    expect(h.run('pttl', 'k')).toBe(int(-2));
    expect(h.run('expiretime', 'k')).toBe(int(-2));
    // Still in the table (DBSIZE counts it) until a write or active expiry removes it.
    expect(h.run('dbsize')).toBe(int(1));
    expect(h.run('persist', 'k')).toBe(int(0));
    expect(h.run('dbsize')).toBe(int(0));
  });
});

describe('TTL PTTL EXPIRETIME PEXPIRETIME', () => {
  test('-2 for no key, -1 for no expiry', () => {
    for (const cmd of ['ttl', 'pttl', 'expiretime', 'pexpiretime']) {
      expect(h.run(cmd, 'nokey')).toBe(int(-2));
      expect(h.run(cmd, 'k')).toBe(int(-1));
    }
  });

  test('TTL rounds to the nearest second, half up', () => {
    h.run('pexpire', 'k', '10000');
    const at = (elapsed: number): string => {
      h.now = T0 + elapsed;
      return h.run('ttl', 'k');
    };
    expect(at(0)).toBe(int(10));
    expect(at(500)).toBe(int(10)); // 9500 ms left
    expect(at(501)).toBe(int(9)); // 9499 ms left
    expect(at(9499)).toBe(int(1));
    expect(at(9500)).toBe(int(1));
    expect(at(9501)).toBe(int(0));
  });

  test('EXPIRETIME and PEXPIRETIME are absolute', () => {
    h.run('pexpireat', 'k', String(T0 + 12_345));
    expect(h.run('pexpiretime', 'k')).toBe(int(T0 + 12_345));
    expect(h.run('expiretime', 'k')).toBe(int(Math.floor((T0 + 12_345 + 500) / 1000)));
    h.now += 5000;
    expect(h.run('pexpiretime', 'k')).toBe(int(T0 + 12_345));
    expect(h.run('pttl', 'k')).toBe(int(7345));
  });

  test('the largest expiry time is reported as int64 max', () => {
    expect(h.run('pexpireat', 'k', '9223372036854775807')).toBe(int(1));
    expect(h.run('pexpiretime', 'k')).toBe(int('9223372036854775807'));
    expect(h.run('exists', 'k')).toBe(int(1));
  });
});

describe('a time not in the future deletes the key and replies 1', () => {
  test.each([
    ['expire', '0'],
    ['expire', '-5'],
    ['pexpire', '0'],
    ['expireat', String(T0 / 1000)],
    ['expireat', '1'],
    ['pexpireat', String(T0)],
    ['pexpireat', '-9223372036854775808'],
    ['pexpire', '-9223372036854775808'],
    ['expire', '-9223372036854775'],
  ])('%s %s', (cmd, arg) => {
    expect(h.run(cmd, 'k', arg)).toBe(int(1));
    expect(h.engine.db(0).dict.has('k')).toBe(false);
    expect(h.run('dbsize')).toBe(int(0));
  });

  test('one millisecond in the future keeps it', () => {
    expect(h.run('pexpireat', 'k', String(T0 + 1))).toBe(int(1));
    expect(h.run('exists', 'k')).toBe(int(1));
  });
});

describe('absent keys', () => {
  test.each(['expire', 'pexpire', 'expireat', 'pexpireat'])('%s on a missing or expired key replies 0', (cmd) => {
    expect(h.run(cmd, 'nokey', '100')).toBe(int(0));
    h.run('set', 'gone', 'v', 'px', '10');
    h.now += 10;
    expect(h.run(cmd, 'gone', '100000000000000')).toBe(int(0));
    expect(h.run('exists', 'gone')).toBe(int(0));
  });
});

describe('NX XX GT LT', () => {
  test('NX: only when the key has no expiry', () => {
    expect(h.run('expire', 'k', '100', 'nx')).toBe(int(1));
    expect(h.run('expire', 'k', '200', 'NX')).toBe(int(0));
    expect(h.run('ttl', 'k')).toBe(int(100));
  });

  test('XX: only when the key has an expiry', () => {
    expect(h.run('expire', 'k', '100', 'xx')).toBe(int(0));
    expect(h.run('ttl', 'k')).toBe(int(-1));
    h.run('expire', 'k', '100');
    expect(h.run('expire', 'k', '200', 'xx')).toBe(int(1));
    expect(h.run('ttl', 'k')).toBe(int(200));
  });

  test('GT: only a later time; no expiry counts as infinite', () => {
    expect(h.run('expire', 'k', '100', 'gt')).toBe(int(0));
    expect(h.run('ttl', 'k')).toBe(int(-1));
    h.run('expire', 'k', '100');
    expect(h.run('expire', 'k', '100', 'gt')).toBe(int(0));
    expect(h.run('expire', 'k', '50', 'gt')).toBe(int(0));
    expect(h.run('expire', 'k', '150', 'gt')).toBe(int(1));
    expect(h.run('ttl', 'k')).toBe(int(150));
    expect(h.run('pexpire', 'k', '-1', 'gt')).toBe(int(0));
    expect(h.run('exists', 'k')).toBe(int(1));
  });

  test('LT: only an earlier time; no expiry counts as infinite', () => {
    expect(h.run('expire', 'k', '100', 'lt')).toBe(int(1));
    expect(h.run('expire', 'k', '100', 'lt')).toBe(int(0));
    expect(h.run('expire', 'k', '150', 'lt')).toBe(int(0));
    expect(h.run('expire', 'k', '50', 'lt')).toBe(int(1));
    expect(h.run('ttl', 'k')).toBe(int(50));
    expect(h.run('expire', 'k', '-1', 'lt')).toBe(int(1));
    expect(h.run('exists', 'k')).toBe(int(0));
  });

  test('XX with GT or LT, and repeated options', () => {
    expect(h.run('expire', 'k', '100', 'xx', 'gt')).toBe(int(0));
    h.run('expire', 'k', '100');
    expect(h.run('expire', 'k', '200', 'xx', 'gt')).toBe(int(1));
    expect(h.run('expire', 'k', '100', 'gt', 'xx')).toBe(int(0));
    expect(h.run('expire', 'k', '100', 'lt', 'lt', 'xx')).toBe(int(1));
    expect(h.run('ttl', 'k')).toBe(int(100));
  });

  test('incompatible options', () => {
    const nx = err('ERR NX and XX, GT or LT options at the same time are not compatible');
    const gtlt = err('ERR GT and LT options at the same time are not compatible');
    expect(h.run('expire', 'k', '10', 'nx', 'xx')).toBe(nx);
    expect(h.run('expire', 'k', '10', 'gt', 'nx')).toBe(nx);
    expect(h.run('pexpire', 'k', '10', 'nx', 'lt')).toBe(nx);
    expect(h.run('expireat', 'k', '10', 'nx', 'gt', 'lt')).toBe(nx);
    expect(h.run('pexpireat', 'k', '10', 'gt', 'lt')).toBe(gtlt);
    expect(h.run('expire', 'nokey', '10', 'gt', 'lt')).toBe(gtlt);
  });
});

describe('argument errors', () => {
  test('an unknown option is reported first, with its spelling', () => {
    expect(h.run('expire', 'k', 'notanumber', 'Foo')).toBe(err('ERR Unsupported option Foo'));
    expect(h.run('pexpire', 'k', '10', 'nx', 'bar')).toBe(err('ERR Unsupported option bar'));
  });

  test('integers', () => {
    for (const bad of ['x', '1.5', ' 1', '01', '', '9223372036854775808']) {
      expect(h.run('expire', 'k', bad)).toBe(err('ERR value is not an integer or out of range'));
    }
  });

  test('overflow in the unit conversion or the addition', () => {
    expect(h.run('expire', 'k', '9223372036854776')).toBe(err("ERR invalid expire time in 'expire' command"));
    expect(h.run('expire', 'k', '-9223372036854776')).toBe(err("ERR invalid expire time in 'expire' command"));
    expect(h.run('expireat', 'k', '9223372036854776')).toBe(err("ERR invalid expire time in 'expireat' command"));
    expect(h.run('pexpire', 'k', '9223372036854775807')).toBe(err("ERR invalid expire time in 'pexpire' command"));
    expect(h.run('pexpire', 'k', String(9223372036854775807n - BigInt(T0) + 1n))).toBe(err("ERR invalid expire time in 'pexpire' command"));
    expect(h.run('EXPIRE', 'k', '9223372036854776')).toBe(err("ERR invalid expire time in 'expire' command"));
    expect(h.run('exists', 'k')).toBe(int(1));
    expect(h.run('pexpire', 'k', String(9223372036854775807n - BigInt(T0)))).toBe(int(1));
    expect(h.run('expireat', 'k', '9223372036854775')).toBe(int(1));
  });

  test('arity', () => {
    expect(h.run('expire', 'k')).toBe(err("ERR wrong number of arguments for 'expire' command"));
    expect(h.run('ttl')).toBe(err("ERR wrong number of arguments for 'ttl' command"));
    expect(h.run('ttl', 'a', 'b')).toBe(err("ERR wrong number of arguments for 'ttl' command"));
    expect(h.run('persist')).toBe(err("ERR wrong number of arguments for 'persist' command"));
  });
});

describe('PERSIST', () => {
  test('removes an expiry, once', () => {
    h.run('expire', 'k', '100');
    expect(h.run('persist', 'k')).toBe(int(1));
    expect(h.run('ttl', 'k')).toBe(int(-1));
    expect(h.run('persist', 'k')).toBe(int(0));
    expect(h.run('persist', 'nokey')).toBe(int(0));
    h.now += 1_000_000;
    expect(h.run('get', 'k')).toBe(bulk('v'));
  });
});

describe('expiry is deterministic', () => {
  test('two engines fed the same entries agree at every time', () => {
    const a = new Harness();
    const b = new Harness();
    const script: string[][] = [];
    for (let i = 0; i < 200; i++) {
      script.push(['set', `k${i}`, 'v']);
      script.push([['expire', 'pexpire'][i % 2]!, `k${i}`, String((i * 37) % 50)]);
    }
    for (const argv of script) expect(a.run(...argv)).toBe(b.run(...argv));
    for (let t = 0; t <= 60_000; t += 997) {
      a.now = b.now = T0 + t;
      for (let i = 0; i < 200; i += 7) expect(a.run('pttl', `k${i}`)).toBe(b.run('pttl', `k${i}`));
      expect(a.run('keys', '*')).toBe(b.run('keys', '*'));
    }
  });
});
