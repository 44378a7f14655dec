// The generic key commands (types/generic.ts), driven through the Engine. Expected replies are
// Redis 7.0's, byte for byte (checked against redis-server 7.0.15).

import { EncodingConfig, TypedValue } from '../src';
import { Harness } from './harness';



const OK = '+OK\r\n';
const NIL = '$-1\r\n';
const int = (n: number | string): string => `:${n}\r\n`;
const bulk = (s: string): string => `$${s.length}\r\n${s}\r\n`;
const simple = (s: string): string => `+${s}\r\n`;
const err = (s: string): string => `-${s}\r\n`;
const arr = (...items: string[]): string => `*${items.length}\r\n${items.join('')}`;

/** A stand-in for a list value (types/list.ts is written elsewhere). */
class FakeList implements TypedValue {
  readonly type = 'list';
  constructor(readonly items: string[]) {}
  encoding(config: EncodingConfig): string {
    return this.items.length <= Math.abs(config.listMaxListpackSize) * 64 ? 'listpack' : 'quicklist';
  }
  clone(): TypedValue {
    return new FakeList([...this.items]);
  }
}

let h: Harness;
beforeEach(() => {
  h = new Harness();
});

describe('DEL and UNLINK', () => {
  test.each(['del', 'unlink'])('%s counts the keys it removed, each once', (cmd) => {
    h.run('set', 'a', '1');
    h.run('set', 'b', '2');
    expect(h.run(cmd, 'a', 'a', 'nokey', 'b')).toBe(int(2));
    expect(h.run('exists', 'a', 'b')).toBe(int(0));
    expect(h.run(cmd, 'a')).toBe(int(0));
    expect(h.run('dbsize')).toBe(int(0));
  });

  test('an expired key counts as absent and is removed', () => {
    h.run('set', 'a', '1', 'px', '100');
    h.now += 100;
    expect(h.run('dbsize')).toBe(int(1));
    expect(h.run('del', 'a')).toBe(int(0));
    expect(h.run('dbsize')).toBe(int(0));
  });

  test('arity', () => {
    expect(h.run('del')).toBe(err("ERR wrong number of arguments for 'del' command"));
    expect(h.run('unlink')).toBe(err("ERR wrong number of arguments for 'unlink' command"));
  });
});

describe('EXISTS, TYPE, TOUCH', () => {
  test('EXISTS counts repeated keys each time', () => {
    h.run('set', 'a', '1');
    expect(h.run('exists', 'a', 'a', 'nokey', 'a')).toBe(int(3));
    expect(h.run('exists', 'nokey')).toBe(int(0));
    expect(h.run('exists', '')).toBe(int(0));
    h.run('set', '', 'empty');
    expect(h.run('exists', '')).toBe(int(1));
  });

  test('TYPE', () => {
    h.run('set', 's', 'v');
    h.engine.db(0).set('l', new FakeList(['x']));
    expect(h.run('type', 's')).toBe(simple('string'));
    expect(h.run('type', 'l')).toBe(simple('list'));
    expect(h.run('type', 'nokey')).toBe(simple('none'));
  });

  test('TOUCH counts existing keys', () => {
    h.run('set', 'a', '1');
    expect(h.run('touch', 'a', 'nokey', 'a')).toBe(int(2));
  });

  test('readers count keyspace hits and misses', () => {
    h.run('set', 'a', '1');
    h.run('exists', 'a', 'b');
    expect(h.engine.stats.keyspaceHits).toBe(1);
    expect(h.engine.stats.keyspaceMisses).toBe(1);
  });

  test('readers do not see expired keys but do not delete them', () => {
    h.run('set', 'a', '1', 'px', '10');
    h.now += 10;
    expect(h.run('exists', 'a')).toBe(int(0));
    expect(h.run('type', 'a')).toBe(simple('none'));
    expect(h.run('touch', 'a')).toBe(int(0));
    expect(h.engine.db(0).dict.has('a')).toBe(true);
  });
});

describe('RENAME and RENAMENX', () => {
  test('RENAME moves the value and its expiry, replacing the destination', () => {
    h.run('set', 'a', '1');
    h.run('pexpire', 'a', '5000');
    h.run('set', 'b', '2');
    expect(h.run('rename', 'a', 'b')).toBe(OK);
    expect(h.run('get', 'b')).toBe(bulk('1'));
    expect(h.run('exists', 'a')).toBe(int(0));
    expect(h.run('pttl', 'b')).toBe(int(5000));
  });

  test('RENAME over a key with a TTL drops that TTL when the source has none', () => {
    h.run('set', 'a', '1');
    h.run('set', 'b', '2', 'ex', '100');
    expect(h.run('rename', 'a', 'b')).toBe(OK);
    expect(h.run('ttl', 'b')).toBe(int(-1));
  });

  test('errors and same-key renames', () => {
    expect(h.run('rename', 'nokey', 'x')).toBe(err('ERR no such key'));
    expect(h.run('renamenx', 'nokey', 'x')).toBe(err('ERR no such key'));
    expect(h.run('rename', 'nokey', 'nokey')).toBe(err('ERR no such key'));
    h.run('set', 'a', '1');
    expect(h.run('rename', 'a', 'a')).toBe(OK);
    expect(h.run('renamenx', 'a', 'a')).toBe(int(0));
    expect(h.run('get', 'a')).toBe(bulk('1'));
    expect(h.run('rename', 'a')).toBe(err("ERR wrong number of arguments for 'rename' command"));
  });

  test('RENAMENX only when the destination is absent (or expired)', () => {
    h.run('set', 'a', '1');
    h.run('set', 'b', '2');
    expect(h.run('renamenx', 'a', 'b')).toBe(int(0));
    expect(h.run('get', 'b')).toBe(bulk('2'));
    h.run('pexpire', 'b', '1');
    h.now += 1;
    expect(h.run('renamenx', 'a', 'b')).toBe(int(1));
    expect(h.run('get', 'b')).toBe(bulk('1'));
    expect(h.run('exists', 'a')).toBe(int(0));
  });

  test('an expired source is no such key', () => {
    h.run('set', 'a', '1', 'px', '5');
    h.now += 5;
    expect(h.run('rename', 'a', 'b')).toBe(err('ERR no such key'));
  });

  test('renaming a list signals the destination as ready for blocked clients', () => {
    h.engine.db(0).set('l', new FakeList(['x']));
    expect(h.run('rename', 'l', 'm')).toBe(OK);
    expect(h.engine.readyKeys).toEqual([{ db: 0, key: 'm' }]);
  });
});

describe('MOVE', () => {
  test('moves a key with its expiry to another database', () => {
    h.run('set', 'a', '1');
    h.run('pexpire', 'a', '9000');
    expect(h.run('move', 'a', '3')).toBe(int(1));
    expect(h.run('exists', 'a')).toBe(int(0));
    h.select(3);
    expect(h.run('get', 'a')).toBe(bulk('1'));
    expect(h.run('pttl', 'a')).toBe(int(9000));
  });

  test('does nothing when the key is absent or exists in the target', () => {
    expect(h.run('move', 'nokey', '1')).toBe(int(0));
    h.run('set', 'a', 'zero');
    h.select(1);
    h.run('set', 'a', 'one');
    h.select(0);
    expect(h.run('move', 'a', '1')).toBe(int(0));
    expect(h.run('get', 'a')).toBe(bulk('zero'));
  });

  test('errors', () => {
    h.run('set', 'a', '1');
    expect(h.run('move', 'a', '0')).toBe(err('ERR source and destination objects are the same'));
    expect(h.run('move', 'a', '16')).toBe(err('ERR DB index is out of range'));
    expect(h.run('move', 'a', '-1')).toBe(err('ERR DB index is out of range'));
    expect(h.run('move', 'a', 'x')).toBe(err('ERR value is not an integer or out of range'));
    expect(h.run('move', 'a', '2147483648')).toBe(err('ERR value is out of range, value must between -2147483648 and 2147483647'));
    expect(h.run('move', 'nokey', '0')).toBe(err('ERR source and destination objects are the same'));
  });
});

describe('COPY', () => {
  test('copies a string with its expiry', () => {
    h.run('set', 'a', 'v');
    h.run('pexpire', 'a', '7000');
    expect(h.run('copy', 'a', 'b')).toBe(int(1));
    expect(h.run('get', 'b')).toBe(bulk('v'));
    expect(h.run('pttl', 'b')).toBe(int(7000));
    expect(h.run('get', 'a')).toBe(bulk('v'));
  });

  test('does not overwrite without REPLACE', () => {
    h.run('set', 'a', 'v');
    h.run('set', 'b', 'w');
    expect(h.run('copy', 'a', 'b')).toBe(int(0));
    expect(h.run('get', 'b')).toBe(bulk('w'));
    expect(h.run('copy', 'a', 'b', 'REPLACE')).toBe(int(1));
    expect(h.run('get', 'b')).toBe(bulk('v'));
    expect(h.run('copy', 'nokey', 'b', 'replace')).toBe(int(0));
  });

  test('copies to another database, and deep-copies typed values', () => {
    const list = new FakeList(['x', 'y']);
    h.engine.db(0).set('l', list);
    expect(h.run('copy', 'l', 'l', 'db', '2')).toBe(int(1));
    const copied = h.engine.db(2).get('l', h.now) as FakeList;
    expect(copied).not.toBe(list);
    expect(copied.items).toEqual(['x', 'y']);
    expect(h.engine.readyKeys).toEqual([{ db: 2, key: 'l' }]);
  });

  test('errors, in argument order', () => {
    h.run('set', 'a', 'v');
    expect(h.run('copy', 'a', 'a')).toBe(err('ERR source and destination objects are the same'));
    expect(h.run('copy', 'a', 'a', 'db', '0')).toBe(err('ERR source and destination objects are the same'));
    expect(h.run('copy', 'a', 'b', 'db')).toBe(err('ERR syntax error'));
    expect(h.run('copy', 'a', 'b', 'db', '99')).toBe(err('ERR DB index is out of range'));
    expect(h.run('copy', 'a', 'b', 'db', 'x')).toBe(err('ERR value is not an integer or out of range'));
    expect(h.run('copy', 'a', 'b', 'db', '1', 'foo')).toBe(err('ERR syntax error'));
    expect(h.run('copy', 'a', 'b', 'foo', 'db', '99')).toBe(err('ERR syntax error'));
    expect(h.run('copy', 'a')).toBe(err("ERR wrong number of arguments for 'copy' command"));
  });
});

describe('KEYS', () => {
  test('returns matching live keys', () => {
    for (const k of ['user:1', 'user:2', 'item:1', 'u']) h.run('set', k, '1');
    h.run('set', 'user:3', '1', 'px', '10');
    h.now += 10;
    expect(h.run('keys', 'nomatch*')).toBe(arr());
    const reply = h.run('keys', 'user:*');
    expect(reply.startsWith('*2\r\n')).toBe(true);
    expect(reply).toContain(bulk('user:1'));
    expect(reply).toContain(bulk('user:2'));
    expect(h.run('keys', '*').startsWith('*4\r\n')).toBe(true);
    expect(h.run('keys', '?')).toBe(arr(bulk('u')));
  });

  test('"*" includes the empty key, "**" does not (as Redis)', () => {
    h.run('set', '', 'x');
    expect(h.run('keys', '*')).toBe(arr(bulk('')));
    expect(h.run('keys', '**')).toBe(arr());
  });

  test('binary keys', () => {
    const k = 'a\x00\xff\r\n';
    h.run('set', k, '1');
    expect(h.run('keys', 'a\x00*')).toBe(arr(bulk(k)));
  });
});

describe('RANDOMKEY', () => {
  test('null on an empty database, the key when there is one', () => {
    expect(h.run('randomkey')).toBe(NIL);
    h.run('set', 'only', '1');
    expect(h.run('randomkey')).toBe(bulk('only'));
  });

  test('draws every key over many seeds', () => {
    for (let i = 0; i < 20; i++) h.run('set', `k${i}`, '1');
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) seen.add(h.run('randomkey'));
    expect(seen.size).toBe(20);
  });

  test('skips expired keys, even when nearly all have expired', () => {
    for (let i = 0; i < 1000; i++) h.run('set', `gone${i}`, '1', 'px', '10');
    h.run('set', 'live', '1');
    h.now += 10;
    for (let i = 0; i < 20; i++) expect(h.run('randomkey')).toBe(bulk('live'));
    h.run('del', 'live');
    expect(h.run('randomkey')).toBe(NIL);
  });
});

describe('OBJECT', () => {
  test('ENCODING of strings', () => {
    const cases: Array<[string, string]> = [
      ['1', 'int'],
      ['-9223372036854775808', 'int'],
      ['9223372036854775807', 'int'],
      ['9223372036854775808', 'embstr'],
      ['01', 'embstr'],
      ['', 'embstr'],
      ['x'.repeat(44), 'embstr'],
      ['x'.repeat(45), 'raw'],
    ];
    for (const [v, enc] of cases) {
      h.run('set', 'k', v);
      expect([v, h.run('object', 'encoding', 'k')]).toEqual([v, bulk(enc)]);
    }
  });

  test('ENCODING of other types asks the value', () => {
    h.engine.db(0).set('l', new FakeList(['x']));
    expect(h.run('object', 'encoding', 'l')).toBe(bulk('listpack'));
  });

  test('REFCOUNT: shared integers 0..9999', () => {
    h.run('set', 'a', '9999');
    expect(h.run('object', 'refcount', 'a')).toBe(int(2147483647));
    h.run('set', 'a', '10000');
    expect(h.run('object', 'refcount', 'a')).toBe(int(1));
    h.run('set', 'a', '-1');
    expect(h.run('object', 'refcount', 'a')).toBe(int(1));
    h.run('set', 'a', 'str');
    expect(h.run('object', 'refcount', 'a')).toBe(int(1));
  });

  test('IDLETIME, FREQ and missing keys', () => {
    h.run('set', 'a', '1');
    expect(h.run('object', 'idletime', 'a')).toBe(int(0));
    expect(h.run('object', 'freq', 'a')).toBe(
      err('ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.'),
    );
    for (const sub of ['encoding', 'refcount', 'idletime', 'freq']) expect(h.run('object', sub, 'nokey')).toBe(NIL);
  });

  test('HELP, unknown subcommands and subcommand arity', () => {
    const help = h.run('object', 'help');
    expect(help.startsWith('*15\r\n+OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+ENCODING <key>\r\n')).toBe(true);
    expect(help.endsWith('+HELP\r\n+    Prints this help.\r\n')).toBe(true);
    expect(h.run('object', 'foo', 'a')).toBe(err("ERR unknown subcommand 'foo'. Try OBJECT HELP."));
    expect(h.run('object', 'x'.repeat(200))).toBe(err(`ERR unknown subcommand '${'x'.repeat(128)}'. Try OBJECT HELP.`));
    expect(h.run('object', 'encoding')).toBe(err("ERR wrong number of arguments for 'object|encoding' command"));
    expect(h.run('object', 'ENCODING', 'a', 'b')).toBe(err("ERR wrong number of arguments for 'object|encoding' command"));
    expect(h.run('object', 'help', 'x')).toBe(err("ERR wrong number of arguments for 'object|help' command"));
    expect(h.run('object')).toBe(err("ERR wrong number of arguments for 'object' command"));
  });

  test('subcommands are declared for COMMAND and dispatch', () => {
    const spec = h.engine.commands.lookup('object')!;
    expect(spec.subcommands!.map((s) => s.name).sort()).toEqual(['object|encoding', 'object|freq', 'object|help', 'object|idletime', 'object|refcount']);
    expect(spec.subcommands!.every((s) => s.handler !== undefined)).toBe(true);
  });
});

describe('DBSIZE, FLUSHDB, FLUSHALL', () => {
  test('DBSIZE counts expired keys not yet deleted, as Redis', () => {
    h.run('set', 'a', '1');
    h.run('set', 'b', '1', 'px', '1');
    h.now += 5;
    expect(h.run('dbsize')).toBe(int(2));
    h.engine.apply({ kind: 'expire', db: 0, keys: ['b'] }, h.writer, h.now, 0, h.client);
    expect(h.run('dbsize')).toBe(int(1));
  });

  test('FLUSHDB empties only the selected database', () => {
    h.run('set', 'a', '1');
    h.select(1);
    h.run('set', 'b', '1');
    expect(h.run('flushdb')).toBe(OK);
    expect(h.run('dbsize')).toBe(int(0));
    h.select(0);
    expect(h.run('dbsize')).toBe(int(1));
    expect(h.run('flushdb', 'ASYNC')).toBe(OK);
    expect(h.run('flushdb', 'sync')).toBe(OK);
    expect(h.run('dbsize')).toBe(int(0));
  });

  test('FLUSHALL empties every database', () => {
    for (let db = 0; db < 16; db++) {
      h.select(db);
      h.run('set', 'k', String(db));
    }
    expect(h.run('flushall', 'async')).toBe(OK);
    for (let db = 0; db < 16; db++) expect(h.engine.db(db).size).toBe(0);
  });

  test.each(['flushdb', 'flushall'])('%s option errors', (cmd) => {
    expect(h.run(cmd, 'foo')).toBe(err('ERR syntax error'));
    expect(h.run(cmd, 'sync', 'async')).toBe(err('ERR syntax error'));
    expect(h.run(cmd, 'async', 'x')).toBe(err('ERR syntax error'));
  });

  test('DBSIZE arity', () => {
    expect(h.run('dbsize', 'x')).toBe(err("ERR wrong number of arguments for 'dbsize' command"));
  });
});

describe('WATCH sees exactly the changes Redis signals', () => {
  /** Runs argv and tells whether a WATCH on db/key taken just before was broken. */
  function breaks(key: string, argv: string[], db = 0): boolean {
    const token = h.engine.watchToken(db, key, h.now);
    h.run(...argv);
    return h.engine.watchBroken([token], h.now);
  }

  beforeEach(() => {
    h.run('set', 'a', '1');
    h.run('set', 'b', '2');
  });

  test('successful writes break the watch', () => {
    expect(breaks('a', ['del', 'a'])).toBe(true);
    expect(breaks('b', ['expire', 'b', '100'])).toBe(true);
    expect(breaks('b', ['persist', 'b'])).toBe(true);
    expect(breaks('b', ['rename', 'b', 'c'])).toBe(true);
    expect(breaks('d', ['rename', 'c', 'd'])).toBe(true);
    expect(breaks('e', ['copy', 'd', 'e'])).toBe(true);
    expect(breaks('e', ['move', 'e', '5'])).toBe(true);
    h.select(5);
    expect(breaks('e', ['pexpire', 'e', '-1'], 5)).toBe(true);
  });

  test('writes that change nothing do not', () => {
    expect(breaks('a', ['del', 'nokey'])).toBe(false);
    expect(breaks('a', ['persist', 'a'])).toBe(false);
    expect(breaks('a', ['expire', 'a', '100', 'xx'])).toBe(false);
    expect(breaks('a', ['renamenx', 'b', 'a'])).toBe(false);
    expect(breaks('a', ['copy', 'b', 'a'])).toBe(false);
    expect(breaks('a', ['rename', 'a', 'a'])).toBe(false);
    expect(breaks('a', ['exists', 'a'])).toBe(false);
  });

  test('FLUSHDB breaks watches on keys of that database only', () => {
    const t0 = h.engine.watchToken(0, 'a', h.now);
    h.select(1);
    h.run('flushdb');
    expect(h.engine.watchBroken([t0], h.now)).toBe(false);
    h.run('flushall');
    expect(h.engine.watchBroken([t0], h.now)).toBe(true);
  });
});

describe('the command table', () => {
  test('declarations follow Redis 7.0', () => {
    const row = (name: string): unknown[] => {
      const s = h.engine.commands.lookup(name)!;
      return [s.arity, s.flags, s.firstKey, s.lastKey, s.step, s.group];
    };
    expect(row('del')).toEqual([-2, ['write'], 1, -1, 1, 'generic']);
    expect(row('exists')).toEqual([-2, ['readonly', 'fast'], 1, -1, 1, 'generic']);
    expect(row('rename')).toEqual([3, ['write'], 1, 2, 1, 'generic']);
    expect(row('copy')).toEqual([-3, ['write', 'denyoom'], 1, 2, 1, 'generic']);
    expect(row('scan')).toEqual([-2, ['readonly'], 0, 0, 0, 'generic']);
    expect(row('expire')).toEqual([-3, ['write', 'fast'], 1, 1, 1, 'generic']);
    expect(row('pexpiretime')).toEqual([2, ['readonly', 'fast'], 1, 1, 1, 'generic']);
    expect(row('flushall')).toEqual([-1, ['write'], 0, 0, 0, 'server']);
    expect(row('dbsize')).toEqual([1, ['readonly', 'fast'], 0, 0, 0, 'server']);
  });
});
