// The checkers on histories known to be valid and known to be invalid.

import { checkCounter, checkRegister, checkSet } from '../src/checkers';
import { checkListAppend, MicroOp } from '../src/list-append-checker';
import { HistoryEvent, pairOps } from '../src/history';

type Ev = [number, HistoryEvent['type'], string, string | undefined, unknown, number];
/** [process, type, f, key, value, time] tuples into a history. */
function h(...evs: Ev[]): ReturnType<typeof pairOps> {
  return pairOps(evs.map(([process, type, f, key, value, time]) => ({ process, type, f, key, value, time })));
}

describe('register checker', () => {
  it('accepts a linearizable history with writes, reads and a cas', () => {
    const v = checkRegister(
      h(
        [0, 'invoke', 'write', 'x', 'a', 0],
        [0, 'ok', 'write', 'x', 'a', 10],
        [1, 'invoke', 'cas', 'x', ['a', 'b'], 20],
        [2, 'invoke', 'read', 'x', null, 21],
        [2, 'ok', 'read', 'x', 'a', 25], // concurrent with the cas: may precede it
        [1, 'ok', 'cas', 'x', ['a', 'b'], 30],
        [2, 'invoke', 'read', 'x', null, 40],
        [2, 'ok', 'read', 'x', 'b', 50],
      ),
    );
    expect(v.valid).toBe(true);
  });

  it('finds a stale read', () => {
    const v = checkRegister(
      h(
        [0, 'invoke', 'write', 'x', 'a', 0],
        [0, 'ok', 'write', 'x', 'a', 10],
        [0, 'invoke', 'write', 'x', 'b', 20],
        [0, 'ok', 'write', 'x', 'b', 30],
        [1, 'invoke', 'read', 'x', null, 40],
        [1, 'ok', 'read', 'x', 'a', 50],
      ),
    );
    expect(v.valid).toBe(false);
    expect(v.anomalies[0]!.kind).toBe('nonlinearizable');
  });

  it('finds a failed write that took effect', () => {
    const v = checkRegister(
      h(
        [0, 'invoke', 'write', 'x', 'a', 0],
        [0, 'fail', 'write', 'x', 'a', 10],
        [1, 'invoke', 'read', 'x', null, 20],
        [1, 'ok', 'read', 'x', 'a', 30],
      ),
    );
    expect(v.valid).toBe(false);
    expect(v.anomalies.map((a) => a.kind)).toContain('failed-write-observed');
  });

  it('lets an info write take effect late, or never, but not be unseen', () => {
    const base: Ev[] = [
      [0, 'invoke', 'write', 'x', 'a', 0],
      [0, 'info', 'write', 'x', 'a', 10],
      [1, 'invoke', 'read', 'x', null, 20],
      [1, 'ok', 'read', 'x', null, 30],
      [1, 'invoke', 'read', 'x', null, 40],
      [1, 'ok', 'read', 'x', 'a', 50],
    ];
    expect(checkRegister(h(...base)).valid).toBe(true);
    expect(checkRegister(h(...base.slice(0, 4))).valid).toBe(true);
    expect(checkRegister(h(...base, [1, 'invoke', 'read', 'x', null, 60], [1, 'ok', 'read', 'x', null, 70])).valid).toBe(false);
  });

  it('says unknown, and why, when the search runs out of time or steps', () => {
    // Writes of unknown outcome, all concurrent, then a read of a value none wrote: deciding it
    // means trying every subset of the writes.
    const evs: Ev[] = [];
    for (let p = 0; p < 22; p++) evs.push([p, 'invoke', 'write', 'x', `v${p}`, p], [p, 'info', 'write', 'x', `v${p}`, 1000 + p]);
    evs.push([99, 'invoke', 'read', 'x', null, 2000], [99, 'ok', 'read', 'x', 'never', 2001]);
    evs.sort((a, b) => a[5] - b[5]);
    const t0 = Date.now();
    const byTime = checkRegister(h(...evs), { maxSteps: Number.POSITIVE_INFINITY, timeLimitMs: 300 });
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(byTime.valid).toBe('unknown');
    expect(byTime.stats.unknownKeys).toBe(1);
    expect(byTime.note).toMatch(/time limit \(300 ms\)/);
    const bySteps = checkRegister(h(...evs), { maxSteps: 5000 });
    expect(bySteps.valid).toBe('unknown');
    expect(bySteps.note).toMatch(/over 5000 steps/);
  });

  it('finds a cas that succeeded against the wrong value', () => {
    const v = checkRegister(
      h(
        [0, 'invoke', 'write', 'x', 'a', 0],
        [0, 'ok', 'write', 'x', 'a', 10],
        [1, 'invoke', 'cas', 'x', ['z', 'b'], 20],
        [1, 'ok', 'cas', 'x', ['z', 'b'], 30],
      ),
    );
    expect(v.valid).toBe(false);
  });
});

describe('set checker', () => {
  it('accepts every acknowledged add present, an info add either way', () => {
    const v = checkSet(
      h(
        [0, 'invoke', 'add', 's', 'e1', 0],
        [0, 'ok', 'add', 's', 'e1', 10],
        [1, 'invoke', 'add', 's', 'e2', 0],
        [1, 'info', 'add', 's', 'e2', 10],
        [2, 'invoke', 'add', 's', 'e3', 0],
        [2, 'fail', 'add', 's', 'e3', 10],
        [3, 'invoke', 'final-read', 's', null, 20],
        [3, 'ok', 'final-read', 's', ['e1'], 30],
      ),
    );
    expect(v.valid).toBe(true);
  });

  it('finds a lost acknowledged SADD', () => {
    const v = checkSet(
      h(
        [0, 'invoke', 'add', 's', 'e1', 0],
        [0, 'ok', 'add', 's', 'e1', 10],
        [0, 'invoke', 'add', 's', 'e2', 11],
        [0, 'ok', 'add', 's', 'e2', 15],
        [3, 'invoke', 'final-read', 's', null, 20],
        [3, 'ok', 'final-read', 's', ['e2'], 30],
      ),
    );
    expect(v.valid).toBe(false);
    expect(v.anomalies.map((a) => a.kind)).toEqual(['lost-add']);
  });

  it('finds a failed SADD that is present, and a stale read', () => {
    const v = checkSet(
      h(
        [0, 'invoke', 'add', 's', 'e1', 0],
        [0, 'fail', 'add', 's', 'e1', 10],
        [1, 'invoke', 'add', 's', 'e2', 0],
        [1, 'ok', 'add', 's', 'e2', 10],
        [2, 'invoke', 'read', 's', null, 12],
        [2, 'ok', 'read', 's', [], 14],
        [3, 'invoke', 'final-read', 's', null, 20],
        [3, 'ok', 'final-read', 's', ['e1', 'e2'], 30],
      ),
    );
    expect(v.valid).toBe(false);
    expect(v.anomalies.map((a) => a.kind).sort()).toEqual(['failed-add-present', 'stale-read']);
  });

  it('says unknown without a final read', () => {
    expect(checkSet(h([0, 'invoke', 'add', 's', 'e1', 0], [0, 'ok', 'add', 's', 'e1', 10])).valid).toBe('unknown');
  });

  it('checks each set (key) alone: a lost add in one of two sets, a set never read', () => {
    const two: Ev[] = [
      [0, 'invoke', 'add', 's:0', 'e1', 0],
      [0, 'ok', 'add', 's:0', 'e1', 10],
      [1, 'invoke', 'add', 's:1', 'e2', 0],
      [1, 'ok', 'add', 's:1', 'e2', 10],
      [3, 'invoke', 'final-read', 's:0', null, 20],
      [3, 'ok', 'final-read', 's:0', ['e1'], 30],
    ];
    const unread = checkSet(h(...two));
    expect(unread.valid).toBe('unknown');
    expect(unread.note).toMatch(/1 set/);
    const lost = checkSet(h(...two, [3, 'invoke', 'final-read', 's:1', null, 40], [3, 'ok', 'final-read', 's:1', [], 50]));
    expect(lost.valid).toBe(false);
    expect(lost.anomalies.map((a) => [a.kind, a.key])).toEqual([['lost-add', 's:1']]);
    expect(lost.stats.sets).toBe(2);
  });
});

describe('counter checker', () => {
  const incr = (p: number, type: HistoryEvent['type'], reply: number | undefined, t: number): Ev[] => [
    [p, 'invoke', 'incr', 'c', 1, t],
    [p, type, 'incr', 'c', reply, t + 5],
  ];
  it('accepts a final value between the acknowledged and the attempted', () => {
    const v = checkCounter(h(...incr(0, 'ok', 1, 0), ...incr(1, 'info', undefined, 0), ...incr(2, 'fail', undefined, 0), [3, 'invoke', 'final-read', 'c', null, 20], [3, 'ok', 'final-read', 'c', '2', 30]));
    expect(v.valid).toBe(true);
  });
  it('finds a lost INCR', () => {
    const v = checkCounter(h(...incr(0, 'ok', 1, 0), ...incr(1, 'ok', 2, 0), [3, 'invoke', 'final-read', 'c', null, 20], [3, 'ok', 'final-read', 'c', '1', 30]));
    expect(v.valid).toBe(false);
    expect(v.anomalies[0]!.kind).toBe('lost-incr');
  });
  it('finds a failed INCR that took effect, and duplicate replies', () => {
    const v = checkCounter(h(...incr(0, 'ok', 1, 0), ...incr(1, 'ok', 1, 0), ...incr(2, 'fail', undefined, 0), [3, 'invoke', 'final-read', 'c', null, 20], [3, 'ok', 'final-read', 'c', '3', 30]));
    expect(v.valid).toBe(false);
    expect(v.anomalies.map((a) => a.kind).sort()).toEqual(['duplicate-incr-reply', 'phantom-incr']);
  });
});

describe('list-append checker', () => {
  type T = [process: number, type: 'ok' | 'fail' | 'info', invoke: number, complete: number, asked: MicroOp[], got?: MicroOp[]];
  /** Transactions [process, type, invoke time, complete time, micro-ops asked, micro-ops replied]. */
  function txns(...ts: T[]): ReturnType<typeof pairOps> {
    const evs: HistoryEvent[] = [];
    for (const [process, type, t0, t1, asked, got] of ts) {
      const f = asked.every((m) => m[0] === 'r') && process === 99 ? 'final-read' : 'txn';
      evs.push({ process, type: 'invoke', f, key: 'L', value: asked, time: t0 }, { process, type, f, key: 'L', value: type === 'ok' ? got : asked, time: t1 });
    }
    evs.sort((a, b) => a.time - b.time);
    return pairOps(evs);
  }
  const final = (t: number, lists: Record<string, string[]>): T => [99, 'ok', t, t + 5, Object.keys(lists).map((k) => ['r', k, null] as MicroOp), Object.entries(lists).map(([k, l]) => ['r', k, l] as MicroOp)];
  const kinds = (v: ReturnType<typeof checkListAppend>) => [...new Set(v.anomalies.map((a) => a.kind))].sort();

  it('accepts appends in one order that every read agrees with; an info append once or never', () => {
    const v = checkListAppend(
      txns(
        [0, 'ok', 0, 10, [['append', 'x', '1'], ['append', 'y', '2']], [['append', 'x', '1', 1], ['append', 'y', '2', 1]]],
        [1, 'ok', 5, 20, [['append', 'x', '3'], ['r', 'x', null]], [['append', 'x', '3', 2], ['r', 'x', ['1', '3']]]],
        [2, 'info', 6, 30, [['append', 'x', '4']]],
        [3, 'info', 6, 30, [['append', 'y', '5']]],
        [4, 'fail', 7, 8, [['append', 'y', '6']]],
        [5, 'ok', 21, 25, [['r', 'x', null], ['r', 'y', null]], [['r', 'x', ['1', '3']], ['r', 'y', ['2']]]],
        final(40, { x: ['1', '3', '4'], y: ['2'] }),
      ),
    );
    expect(v.anomalies).toEqual([]);
    expect(v.valid).toBe(true);
    expect(v.stats.appendsOk).toBe(3);
  });

  it('finds a lost acknowledged append, and one at another position than RPUSH replied', () => {
    const v = checkListAppend(
      txns(
        [0, 'ok', 0, 10, [['append', 'x', '1']], [['append', 'x', '1', 1]]],
        [1, 'ok', 11, 20, [['append', 'x', '2']], [['append', 'x', '2', 2]]],
        [2, 'ok', 21, 30, [['append', 'x', '3']], [['append', 'x', '3', 3]]],
        final(40, { x: ['1', '3'] }),
      ),
    );
    expect(kinds(v)).toEqual(['append-position', 'lost-append']);
  });

  it('finds a failed append present, an info append applied twice, and a value never appended', () => {
    const v = checkListAppend(
      txns(
        [0, 'fail', 0, 10, [['append', 'x', '1']]],
        [1, 'info', 0, 10, [['append', 'x', '2']]],
        final(40, { x: ['1', '2', '2', '9'] }),
      ),
    );
    expect(kinds(v)).toEqual(['duplicate-element', 'failed-append-present', 'unexpected-element']);
  });

  it('finds reads that disagree on the order (not prefixes of the final order)', () => {
    const v = checkListAppend(
      txns(
        [0, 'ok', 0, 10, [['append', 'x', '1']], [['append', 'x', '1', 1]]],
        [1, 'ok', 0, 10, [['append', 'x', '2']], [['append', 'x', '2', 1]]],
        [2, 'ok', 11, 12, [['r', 'x', null]], [['r', 'x', ['2', '1']]]],
        final(40, { x: ['1', '2'] }),
      ),
    );
    expect(kinds(v)).toContain('incompatible-order');
  });

  it('finds a stale read: an acknowledged append missing, or a read shorter than an earlier one', () => {
    const missing = checkListAppend(
      txns(
        [0, 'ok', 0, 10, [['append', 'x', '1']], [['append', 'x', '1', 1]]],
        [1, 'ok', 11, 12, [['r', 'x', null]], [['r', 'x', []]]],
        final(40, { x: ['1'] }),
      ),
    );
    expect(kinds(missing)).toEqual(['stale-read']);
    const shorter = checkListAppend(
      txns(
        [0, 'info', 0, 100, [['append', 'x', '1']]],
        [1, 'ok', 11, 12, [['r', 'x', null]], [['r', 'x', ['1']]]],
        [2, 'ok', 13, 14, [['r', 'x', null]], [['r', 'x', []]]],
        final(40, { x: ['1'] }),
      ),
    );
    expect(kinds(shorter)).toEqual(['stale-read']);
    // Concurrent with the append: either is fine.
    const concurrent = checkListAppend(
      txns(
        [0, 'ok', 0, 10, [['append', 'x', '1']], [['append', 'x', '1', 1]]],
        [1, 'ok', 5, 12, [['r', 'x', null]], [['r', 'x', []]]],
        final(40, { x: ['1'] }),
      ),
    );
    expect(concurrent.valid).toBe(true);
  });

  it('finds a transaction that does not see its own append, a partial transaction, a fractured read', () => {
    const internal = checkListAppend(
      txns(
        [0, 'ok', 0, 10, [['append', 'x', '1'], ['r', 'x', null]], [['append', 'x', '1', 1], ['r', 'x', []]]],
        final(40, { x: ['1'] }),
      ),
    );
    expect(kinds(internal)).toEqual(['internal']);
    const partial = checkListAppend(
      txns(
        [0, 'info', 0, 10, [['append', 'x', '1'], ['append', 'y', '2']]],
        final(40, { x: ['1'], y: [] }),
      ),
    );
    expect(kinds(partial)).toEqual(['partial-txn']);
    const fractured = checkListAppend(
      txns(
        [0, 'info', 0, 100, [['append', 'x', '1'], ['append', 'y', '2']]],
        [1, 'ok', 5, 12, [['r', 'x', null], ['r', 'y', null]], [['r', 'x', ['1']], ['r', 'y', []]]],
        final(140, { x: ['1'], y: ['2'] }),
      ),
    );
    expect(kinds(fractured)).toEqual(['fractured-read']);
  });

  it('says unknown without a final read', () => {
    expect(checkListAppend(txns([0, 'ok', 0, 10, [['append', 'x', '1']], [['append', 'x', '1', 1]]])).valid).toBe('unknown');
  });
});
