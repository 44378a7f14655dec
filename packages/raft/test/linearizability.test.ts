import { KvInput, KvOutput, Operation, checkOperations, kvModel } from '../src/check/linearizability';

type Op = Operation<KvInput, KvOutput>;
const put = (clientId: number, key: string, value: string, call: number, ret: number): Op => ({ clientId, input: { kind: 'put', key, value }, output: null, call, return: ret });
const get = (clientId: number, key: string, value: string | null, call: number, ret: number): Op => ({ clientId, input: { kind: 'get', key }, output: value, call, return: ret });
const unknownPut = (clientId: number, key: string, value: string, call: number): Op => ({ clientId, input: { kind: 'put', key, value }, output: undefined, call, return: Infinity });

describe('linearizability checker (kv model)', () => {
  it('accepts a sequential history', () => {
    expect(checkOperations(kvModel, [put(1, 'x', 'a', 0, 1), get(2, 'x', 'a', 2, 3)])).toBe('ok');
  });

  it('accepts concurrent operations in either order', () => {
    const h = [put(1, 'x', 'a', 0, 10), get(2, 'x', null, 1, 2), get(3, 'x', 'a', 3, 4)];
    expect(checkOperations(kvModel, h)).toBe('ok');
  });

  it('rejects a stale read after a completed write', () => {
    expect(checkOperations(kvModel, [put(1, 'x', 'a', 0, 1), get(2, 'x', null, 2, 3)])).toBe('illegal');
  });

  it('rejects a read of a value never written', () => {
    expect(checkOperations(kvModel, [put(1, 'x', 'a', 0, 1), get(2, 'x', 'b', 2, 3)])).toBe('illegal');
  });

  it('rejects reads that go back in time (new value, then old)', () => {
    const h = [put(1, 'x', 'a', 0, 1), put(1, 'x', 'b', 2, 10), get(2, 'x', 'b', 3, 4), get(3, 'x', 'a', 5, 6)];
    expect(checkOperations(kvModel, h)).toBe('illegal');
  });

  it('lets a write of unknown outcome take effect late, or never', () => {
    expect(checkOperations(kvModel, [unknownPut(1, 'x', 'a', 0), get(2, 'x', null, 5, 6), get(2, 'x', 'a', 7, 8)])).toBe('ok');
    expect(checkOperations(kvModel, [unknownPut(1, 'x', 'a', 0), get(2, 'x', null, 5, 6)])).toBe('ok');
    // ...but once seen it cannot be unseen.
    expect(checkOperations(kvModel, [unknownPut(1, 'x', 'a', 0), get(2, 'x', 'a', 5, 6), get(2, 'x', null, 7, 8)])).toBe('illegal');
  });

  it('checks keys independently', () => {
    const h = [put(1, 'x', 'a', 0, 1), put(2, 'y', 'b', 0, 1), get(3, 'x', 'a', 2, 3), get(3, 'y', null, 4, 5)];
    expect(checkOperations(kvModel, h)).toBe('illegal');
  });

  it('handles a larger concurrent history', () => {
    const h: Op[] = [];
    for (let i = 0; i < 60; i++) h.push(put(i % 4, 'x', `v${i}`, i, i + 3));
    h.push(get(9, 'x', 'v59', 70, 71));
    expect(checkOperations(kvModel, h)).toBe('ok');
    h.push(get(9, 'x', 'v10', 72, 73));
    expect(checkOperations(kvModel, h)).toBe('illegal');
  });
});
