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

  describe('search budget', () => {
    // 22 concurrent writes of unknown outcome, then a read of a value none of them wrote: to call
    // it illegal the search must try every subset of the writes in every order it can reach.
    const hard = (): Op[] => {
      const h: Op[] = [];
      for (let i = 0; i < 22; i++) h.push(unknownPut(i, 'x', `v${i}`, i));
      h.push(get(99, 'x', 'never-written', 100, 101));
      return h;
    };

    it('answers unknown when the step budget runs out', () => {
      expect(checkOperations(kvModel, hard(), { maxSteps: 10_000 })).toBe('unknown');
      expect(checkOperations(kvModel, hard(), 10_000)).toBe('unknown');
    });

    it('answers unknown when the caller says time is up, and asks while searching', () => {
      let asked = 0;
      const t0 = performance.now();
      const r = checkOperations(kvModel, hard(), {
        maxSteps: Number.POSITIVE_INFINITY,
        expired: () => (asked++, performance.now() - t0 > 200),
      });
      expect(r).toBe('unknown');
      expect(asked).toBeGreaterThan(1);
      expect(performance.now() - t0).toBeLessThan(5000);
    });

    it('decides small histories within a budget as before', () => {
      const budget = { maxSteps: 1000, expired: () => false };
      expect(checkOperations(kvModel, [put(1, 'x', 'a', 0, 1), get(2, 'x', 'a', 2, 3)], budget)).toBe('ok');
      expect(checkOperations(kvModel, [put(1, 'x', 'a', 0, 1), get(2, 'x', null, 2, 3)], budget)).toBe('illegal');
      // An already expired budget decides nothing.
      expect(checkOperations(kvModel, [put(1, 'x', 'a', 0, 1)], { expired: () => true })).toBe('unknown');
    });
  });
});
