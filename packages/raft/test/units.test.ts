// Unit tests of the building blocks: quorum math, inflights, storage, log, confchange.

import {
  Changer,
  Inflights,
  JointConfig,
  MajorityConfig,
  MemoryStorage,
  ProgressTracker,
  RaftLog,
  RawNode,
  ProposalDroppedError,
  confStateOf,
  restoreConfState,
  seededRandom,
  Entry,
  isRaftError,
} from '../src';

const ent = (index: number, term: number): Entry => ({ index, term, type: 'normal', data: new Uint8Array(0) });

describe('quorum', () => {
  it('majority committed index and votes', () => {
    const c = new MajorityConfig([1, 2, 3]);
    const m = new Map([[1, 5], [2, 3], [3, 1]]);
    expect(c.committedIndex((id) => m.get(id))).toBe(3);
    expect(c.voteResult(new Map([[1, true]]))).toBe('pending');
    expect(c.voteResult(new Map([[1, true], [2, true]]))).toBe('won');
    expect(c.voteResult(new Map([[1, false], [2, false]]))).toBe('lost');
    expect(new MajorityConfig().committedIndex(() => 0)).toBe(Infinity);
  });

  it('joint config needs both majorities', () => {
    const j = new JointConfig(new MajorityConfig([1, 2, 3]), new MajorityConfig([3, 4, 5]));
    const m = new Map([[1, 9], [2, 9], [3, 2], [4, 2], [5, 1]]);
    expect(j.committedIndex((id) => m.get(id))).toBe(2);
    expect(j.voteResult(new Map([[1, true], [2, true]]))).toBe('pending');
    expect(j.voteResult(new Map([[1, true], [2, true], [4, true], [5, true]]))).toBe('won');
    expect(j.voteResult(new Map([[4, false], [5, false]]))).toBe('lost');
  });
});

describe('inflights', () => {
  it('is bounded by count and bytes and frees in order', () => {
    const f = new Inflights(3, 100);
    f.add(1, 10);
    f.add(2, 10);
    expect(f.full()).toBe(false);
    f.add(3, 10);
    expect(f.full()).toBe(true);
    expect(() => f.add(4, 1)).toThrow();
    f.freeLE(2);
    expect(f.length).toBe(1);
    f.add(4, 95);
    expect(f.full()).toBe(true); // by bytes
    f.freeLE(4);
    expect(f.length).toBe(0);
    expect(f.sizeBytes).toBe(0);
  });
});

describe('MemoryStorage', () => {
  it('appends, truncates conflicts, compacts and snapshots', () => {
    const s = new MemoryStorage();
    s.append([ent(1, 1), ent(2, 1), ent(3, 1)]);
    s.append([ent(3, 2), ent(4, 2)]);
    expect(s.lastIndex()).toBe(4);
    expect(s.term(3)).toBe(2);
    s.createSnapshot(2, confStateOf([1]), new Uint8Array([7]));
    s.compact(2);
    expect(s.firstIndex()).toBe(3);
    expect(s.term(2)).toBe(1);
    let err: unknown;
    try {
      s.entries(2, 4, Infinity);
    } catch (e) {
      err = e;
    }
    expect(isRaftError(err, 'Compacted')).toBe(true);
    expect(s.entries(3, 5, Infinity).map((e) => e.term)).toEqual([2, 2]);
  });
});

describe('RaftLog', () => {
  it('maybeAppend detects conflicts and finds the back-off hint by term', () => {
    const s = new MemoryStorage();
    s.append([ent(1, 1), ent(2, 1), ent(3, 2), ent(4, 2), ent(5, 3)]);
    const l = new RaftLog(s, Infinity);
    expect(l.maybeAppend(5, 2, 0, [])).toBeUndefined(); // term mismatch at 5
    expect(l.findConflictByTerm(5, 2)).toEqual([4, 2]);
    expect(l.maybeAppend(4, 2, 4, [ent(5, 4), ent(6, 4)])).toBe(6);
    expect(l.committed).toBe(4);
    expect(l.unstableEntries().map((e) => e.index)).toEqual([5, 6]);
    expect(l.isUpToDate(6, 4)).toBe(true);
    expect(l.isUpToDate(9, 3)).toBe(false);
  });
});

describe('confchange', () => {
  it('rejects changing two voters without a joint config, and restores joint states', () => {
    const t = new ProgressTracker(10, 0);
    const r = restoreConfState(t, 5, confStateOf([1, 2, 3]));
    t.config = r.config;
    t.progress = r.progress;
    const c = new Changer(t, 5);
    expect(() => c.simple([{ type: 'addNode', nodeId: 4 }, { type: 'removeNode', nodeId: 1 }])).toThrow(/more than one voter/);
    const j = c.enterJoint(true, [{ type: 'addNode', nodeId: 4 }, { type: 'addLearnerNode', nodeId: 1 }]);
    expect(j.config.toString()).toBe('voters=(2 3 4)&&(1 2 3) learners_next=(1) autoleave');
    t.config = j.config;
    t.progress = j.progress;
    const back = restoreConfState(new ProgressTracker(10, 0), 5, t.confState());
    expect(back.config.toString()).toBe(j.config.toString());
    const left = new Changer(t, 5).leaveJoint();
    expect(left.config.toString()).toBe('voters=(2 3 4) learners=(1)');
  });
});

describe('RawNode', () => {
  it('a single node elects itself, commits, and refuses proposals with no leader', () => {
    const s = new MemoryStorage();
    s.applySnapshot({ metadata: { index: 1, term: 1, confState: confStateOf([1]) }, data: new Uint8Array(0) });
    const n = new RawNode({ id: 1, electionTimeoutTicks: 10, heartbeatTimeoutTicks: 1, storage: s, random: seededRandom(1) });
    expect(() => n.propose(new Uint8Array([1]))).toThrow(ProposalDroppedError);
    for (let i = 0; i < 20 && !n.isLeader; i++) n.tick();
    expect(n.isLeader).toBe(true);
    n.propose(new Uint8Array([1]));
    const applied: number[] = [];
    while (n.hasReady()) {
      const rd = n.ready();
      s.append(rd.entries);
      if (rd.hardState) s.setHardState(rd.hardState);
      for (const e of rd.committedEntries) applied.push(e.index);
      n.advance();
    }
    expect(applied).toEqual([2, 3]);
  });

  it('bounds uncommitted bytes on the leader', () => {
    const s = new MemoryStorage();
    s.applySnapshot({ metadata: { index: 1, term: 1, confState: confStateOf([1, 2, 3]) }, data: new Uint8Array(0) });
    const n = new RawNode({ id: 1, electionTimeoutTicks: 10, heartbeatTimeoutTicks: 1, storage: s, random: seededRandom(1), maxUncommittedEntriesSizeBytes: 1000 });
    n.raft.becomeCandidate();
    n.raft.becomeLeader();
    let accepted = 0;
    expect(() => {
      for (let i = 0; i < 100; i++) {
        n.propose(new Uint8Array(100));
        accepted++;
      }
    }).toThrow(/too many uncommitted/);
    expect(accepted).toBe(10);
  });
});
