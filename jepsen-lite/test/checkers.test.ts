// The checkers on histories known to be valid and known to be invalid.

import { checkCounter, checkRegister, checkSet } from '../src/checkers';
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
