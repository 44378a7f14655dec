// SORT and SORT_RO (types/sort.ts), driven through the Engine. The transcript replays commands
// whose replies were captured from redis-server 7.0.15 (test/fixtures/sort-redis-7.0.15.json):
// lists, intsets and hashtable sets, sorted sets, BY and GET patterns on strings and hash
// fields, LIMIT, ALPHA, DESC, STORE, and the errors, then seeded random SORT commands over
// those types. Left out: ALPHA sorts BY keys with equal values, whose order among equals follows
// the input's order (a set's hash order in Redis), and BY nosort over a hashtable set.

import * as fs from 'fs';
import * as path from 'path';
import { ReplyWriter } from '@keel/resp';
import { ClientView, Engine, engineCommands } from '../src';

const T0 = 1_700_000_000_000;

class Harness {
  readonly engine = new Engine(engineCommands());
  readonly writer = new ReplyWriter();
  readonly client: ClientView = { id: 1, db: 0, inExec: false };
  private seed = 1;

  run(...argv: string[]): string {
    const spec = this.engine.commands.lookup(argv[0]!);
    if (spec === undefined) throw new Error(`no command ${argv[0]}`);
    const arity = Engine.arityError(spec, argv.length);
    if (arity !== null) return `-${arity}\r\n`;
    if (spec.flags.includes('write')) {
      this.engine.apply({ kind: 'command', db: this.client.db, argv }, this.writer, T0, this.seed++, this.client);
    } else {
      this.engine.execute(spec, argv, this.writer, T0, this.seed++, this.client);
    }
    return this.writer.take()?.toString('latin1') ?? '';
  }

  cmd(line: string): string {
    return this.run(...line.split(' '));
  }
}

const int = (n: number | string): string => `:${n}\r\n`;
const bulk = (s: string): string => `$${s.length}\r\n${s}\r\n`;
const err = (s: string): string => `-${s}\r\n`;
const arr = (...items: string[]): string => `*${items.length}\r\n${items.join('')}`;

let h: Harness;
beforeEach(() => {
  h = new Harness();
});

test('transcript captured from redis-server 7.0.15', () => {
  const file = path.join(__dirname, '..', '..', 'test', 'fixtures', 'sort-redis-7.0.15.json');
  const entries = JSON.parse(fs.readFileSync(file, 'latin1')) as Array<{ argv: string[]; reply: string | null }>;
  const failures: string[] = [];
  for (const { argv, reply } of entries) {
    const name = argv[0]!.toLowerCase();
    if (name === 'flushall') {
      h.engine.flushAll();
      continue;
    }
    if (name === 'hello') {
      h.writer.protocol = Number(argv[1]) as 2 | 3;
      continue;
    }
    const got = h.run(...argv);
    if (got !== reply) failures.push(`${JSON.stringify(argv)}\n  redis: ${JSON.stringify(reply)}\n  keel:  ${JSON.stringify(got)}`);
  }
  expect(failures.slice(0, 5).join('\n')).toBe('');
  expect(entries.length).toBeGreaterThan(100);
});

test('numeric ties sort by the element, so the order is total', () => {
  h.cmd('rpush l c a b');
  h.cmd('mset w_a 1 w_b 1 w_c 1');
  expect(h.cmd('sort l by w_*')).toBe(arr(bulk('a'), bulk('b'), bulk('c')));
  expect(h.cmd('sort l by w_* desc')).toBe(arr(bulk('c'), bulk('b'), bulk('a')));
});

test('strtod rules for values: leading space, hex, inf; NaN and overflow refused', () => {
  h.cmd('rpush l a b c');
  h.run('mset', 'w_a', ' 2', 'w_b', '0x1', 'w_c', '-inf');
  expect(h.cmd('sort l by w_*')).toBe(arr(bulk('c'), bulk('b'), bulk('a')));
  h.cmd('set w_a nan');
  expect(h.cmd('sort l by w_*')).toBe(err("ERR One or more scores can't be converted into double"));
  h.cmd('set w_a 1e400');
  expect(h.cmd('sort l by w_*')).toBe(err("ERR One or more scores can't be converted into double"));
});

test('SORT_RO is a read and refuses STORE', () => {
  const spec = h.engine.commands.lookup('sort_ro')!;
  expect(spec.flags).toContain('readonly');
  expect(spec.flags).not.toContain('write');
  h.cmd('rpush l 2 1');
  expect(h.cmd('sort_ro l')).toBe(arr(bulk('1'), bulk('2')));
  expect(h.cmd('sort_ro l store d')).toBe(err('ERR syntax error'));
});

test('SORT converts a small sorted set to a skiplist, as Redis; SORT_RO leaves it', () => {
  h.cmd('zadd z 2 a 1 b');
  expect(h.cmd('sort_ro z alpha')).toBe(arr(bulk('a'), bulk('b')));
  expect(h.cmd('object encoding z')).toBe(bulk('listpack'));
  expect(h.cmd('sort z alpha')).toBe(arr(bulk('a'), bulk('b')));
  expect(h.cmd('object encoding z')).toBe(bulk('skiplist'));
});

test('STORE creates a list, signals it ready, and replaces the old value and its TTL', () => {
  h.cmd('rpush l 3 1 2');
  h.cmd('set d x');
  h.cmd('expire d 100');
  h.engine.readyKeys = [];
  expect(h.cmd('sort l store d')).toBe(int(3));
  expect(h.engine.readyKeys).toEqual([{ db: 0, key: 'd' }]);
  expect(h.cmd('type d')).toBe('+list\r\n');
  expect(h.cmd('ttl d')).toBe(int(-1));
  expect(h.cmd('lrange d 0 -1')).toBe(arr(bulk('1'), bulk('2'), bulk('3')));
  expect(h.cmd('sort nokey store d')).toBe(int(0));
  expect(h.cmd('exists d')).toBe(int(0));
});

test('key positions: the sorted key and the STORE destination', () => {
  const keys = (...argv: string[]): number[] => h.engine.commands.lookup(argv[0]!)!.getKeys!(argv);
  expect(keys('sort', 'l', 'by', 'w_*', 'limit', '0', '1', 'get', '#', 'store', 'd')).toEqual([1, 10]);
  expect(keys('sort', 'l')).toEqual([1]);
  expect(keys('sort_ro', 'l', 'get', 'store')).toEqual([1]);
});
