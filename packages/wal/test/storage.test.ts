// DurableStorage: persist/reload round trips, raft's Storage contract (as MemoryStorage
// behaves), conflicting-suffix truncation, compaction, the cache, group commit.

import { ConfState, MemoryStorage, RaftError, confStateOf, isRaftError } from '@keel/raft';
import { BatchInfo, CrashSimKv, DurableStorage, LevelKv } from '../src';
import { cleanupDirs, ents, entry, summary, tmpDir, sleep } from './helpers';

afterAll(cleanupDirs);

const cs: ConfState = confStateOf([1, 2, 3]);
const enc = new TextEncoder();

function code(f: () => unknown): string {
  try {
    f();
    return 'ok';
  } catch (e) {
    if (e instanceof RaftError) return e.code;
    return (e as Error).name;
  }
}

describe('persist and reload', () => {
  test('entries, hard state and conf state survive a close and reopen', async () => {
    const dir = tmpDir();
    const s = await DurableStorage.open(dir);
    expect(s.recovery.fresh).toBe(true);
    expect([s.firstIndex(), s.lastIndex()]).toEqual([1, 0]);
    await s.persist({ entries: ents(1, 10, 1), hardState: { term: 1, vote: 2, commit: 0 } });
    await s.persist({ entries: ents(11, 20, 2), hardState: { term: 2, vote: 3, commit: 15 }, conf: { index: 15, confState: cs } });
    await s.close();
    const r = await DurableStorage.open(dir);
    expect(r.recovery.fresh).toBe(false);
    expect(r.recovery.entries).toBe(20);
    expect(r.initialState().hardState).toEqual({ term: 2, vote: 3, commit: 15 });
    expect([r.firstIndex(), r.lastIndex(), r.term(10), r.term(11)]).toEqual([1, 20, 1, 2]);
    expect(summary(r.entries(1, 21, Infinity))).toEqual(summary([...ents(1, 10, 1), ...ents(11, 20, 2)]));
    expect(r.entries(5, 7, Infinity)[1].data).toEqual(enc.encode('v6.1'));
    await r.close();
  });

  test('a snapshot\'s membership context (metadata.context) survives a reopen; snapshots without one read as before', async () => {
    const dir = tmpDir();
    const s = await DurableStorage.open(dir);
    await s.persist({ entries: ents(1, 10, 1), hardState: { term: 1, vote: 1, commit: 10 } });
    await s.createSnapshot(5, cs, [enc.encode('state@5')]);
    expect(s.snapshot().metadata.context).toBeUndefined();
    const book = '{"v":1,"members":[{"id":1,"host":"127.0.0.1","clusterPort":17001}],"removed":[[2,7]]}';
    await s.createSnapshot(8, cs, [enc.encode('state@8')], book);
    expect(s.snapshot().metadata).toEqual({ index: 8, term: 1, confState: cs, context: book });
    await s.close();
    const r = await DurableStorage.open(dir);
    expect(r.snapshot().metadata).toEqual({ index: 8, term: 1, confState: cs, context: book });
    // A snapshot installed from the leader (inline payload) keeps its context too.
    await r.persist({ snapshot: { metadata: { index: 30, term: 2, confState: cs, context: 'ctx@30' }, data: enc.encode('state@30') }, hardState: { term: 2, vote: 0, commit: 30 } });
    await r.close();
    const q = await DurableStorage.open(dir);
    expect(q.snapshot().metadata.context).toBe('ctx@30');
    await q.close();
  });

  test('conf change entries keep their type; empty payloads round-trip', async () => {
    const dir = tmpDir();
    const s = await DurableStorage.open(dir);
    await s.persist({ entries: [{ index: 1, term: 1, type: 'confChange', data: new Uint8Array([1, 2, 3]) }, { index: 2, term: 1, type: 'normal', data: new Uint8Array(0) }], hardState: { term: 1, vote: 1, commit: 2 } });
    await s.close();
    const r = await DurableStorage.open(dir, { cacheMaxBytes: 0 }); // force LevelDB reads
    const got = r.entries(1, 3, Infinity);
    expect(got.map((e) => [e.type, Array.from(e.data)])).toEqual([['confChange', [1, 2, 3]], ['normal', []]]);
    await r.close();
  });

  test('a Ready that only moves the commit index (mustSync false) rides with the next batch', async () => {
    const dir = tmpDir();
    let kv: CrashSimKv | undefined;
    const s = await DurableStorage.open(dir, { openKv: async (l) => (kv = new CrashSimKv(await LevelKv.open(l))) });
    await s.persist({ entries: ents(1, 3, 1), hardState: { term: 1, vote: 1, commit: 0 } });
    const batches = s.stats.batches;
    await s.persist({ hardState: { term: 1, vote: 1, commit: 3 }, mustSync: false });
    expect(s.stats.batches).toBe(batches); // no write of its own, no fsync
    expect(s.stats.deferredCommits).toBe(1);
    expect(s.hardState).toEqual({ term: 1, vote: 1, commit: 3 }); // raft's view has it
    await s.persist({ entries: ents(4, 4, 1), hardState: { term: 1, vote: 1, commit: 3 } });
    // A machine crash now keeps what the last synced batch wrote: the entries and the commit.
    s.abandon();
    await kv!.crash();
    const r = await DurableStorage.open(dir);
    expect(r.hardState).toEqual({ term: 1, vote: 1, commit: 3 });
    expect(r.lastIndex()).toBe(4);
    await r.close();
  });

  test('a commit index never written before a crash is simply lower after it (raft learns it again)', async () => {
    const dir = tmpDir();
    let kv: CrashSimKv | undefined;
    const s = await DurableStorage.open(dir, { openKv: async (l) => (kv = new CrashSimKv(await LevelKv.open(l))) });
    await s.persist({ entries: ents(1, 3, 1), hardState: { term: 1, vote: 1, commit: 0 } });
    await s.persist({ hardState: { term: 1, vote: 1, commit: 3 }, mustSync: false });
    s.abandon();
    await kv!.crash();
    const r = await DurableStorage.open(dir);
    expect(r.hardState).toEqual({ term: 1, vote: 1, commit: 0 });
    expect(r.lastIndex()).toBe(3); // every entry and the vote are there
    await r.close();
  });
});

describe('the Storage contract, side by side with MemoryStorage', () => {
  // Both storages get the same operations; every read must agree (values and errors).
  async function both(): Promise<{ d: DurableStorage; m: MemoryStorage }> {
    const d = await DurableStorage.open(tmpDir(), { cacheMaxBytes: 200 }); // tiny cache: reads hit LevelDB
    const m = new MemoryStorage();
    return { d, m };
  }

  function compareReads(d: DurableStorage, m: MemoryStorage): void {
    expect([d.firstIndex(), d.lastIndex()]).toEqual([m.firstIndex(), m.lastIndex()]);
    for (let i = Math.max(0, m.firstIndex() - 3); i <= m.lastIndex() + 2; i++) {
      expect([i, code(() => d.term(i))]).toEqual([i, code(() => m.term(i))]);
      if (code(() => m.term(i)) === 'ok') expect(d.term(i)).toBe(m.term(i));
      for (const hi of [i + 1, m.lastIndex() + 1]) {
        if (hi < i) continue;
        for (const max of [0, 40, Infinity]) {
          const cm = code(() => m.entries(i, hi, max));
          expect([i, hi, max, code(() => d.entries(i, hi, max))]).toEqual([i, hi, max, cm]);
          if (cm === 'ok') expect(summary(d.entries(i, hi, max))).toEqual(summary(m.entries(i, hi, max)));
        }
      }
    }
  }

  test('appends, conflicting suffixes and compaction', async () => {
    const { d, m } = await both();
    compareReads(d, m);
    const steps: Array<() => Promise<void>> = [
      async () => {
        await d.persist({ entries: ents(1, 10, 1) });
        m.append(ents(1, 10, 1));
      },
      async () => {
        // A new leader overwrites 6..8 and the log ends at 8.
        await d.persist({ entries: ents(6, 8, 2) });
        m.append(ents(6, 8, 2));
      },
      async () => {
        await d.persist({ entries: ents(9, 14, 3) });
        m.append(ents(9, 14, 3));
      },
      async () => {
        // Overwrite at the very end, and append entries partly already compacted later.
        await d.persist({ entries: ents(14, 16, 4) });
        m.append(ents(14, 16, 4));
      },
      async () => {
        await d.createSnapshot(5, cs, [enc.encode('state@5')]);
        m.createSnapshot(5, cs, enc.encode('state@5'));
        await d.compact(5); // compact explicitly (createSnapshot compacts behind: nothing yet)
        m.compact(5);
      },
      async () => {
        // Entries entirely below the compaction point are ignored; partly below are cut.
        await d.persist({ entries: ents(3, 4, 1) });
        m.append(ents(3, 4, 1));
        await d.persist({ entries: [entry(5, 1), ...ents(6, 8, 2)] });
        m.append([entry(5, 1), ...ents(6, 8, 2)]);
      },
    ];
    for (const step of steps) {
      await step();
      compareReads(d, m);
    }
    expect(code(() => d.compact(5))).toBe('Compacted');
    expect(code(() => d.compact(100))).toBe('RaftInvariantError');
    await d.close();
  });

  test('after a reopen, reads still agree', async () => {
    const dir = tmpDir();
    const d = await DurableStorage.open(dir, { cacheMaxBytes: 100 });
    const m = new MemoryStorage();
    for (let t = 1; t <= 5; t++) {
      const lo = (t - 1) * 8 + 1;
      await d.persist({ entries: ents(lo, lo + 11, t), hardState: { term: t, vote: 1, commit: 0 } });
      m.append(ents(lo, lo + 11, t));
    }
    await d.close();
    const r = await DurableStorage.open(dir, { cacheMaxBytes: 100 });
    compareReads(r, m);
    expect(r.stats.diskReads).toBeGreaterThan(0);
    await r.close();
  });
});

describe('truncation and compaction on disk', () => {
  test('a truncated suffix does not come back after reopen, and its keys are deleted', async () => {
    const dir = tmpDir();
    const s = await DurableStorage.open(dir);
    await s.persist({ entries: ents(1, 100, 1), hardState: { term: 2, vote: 0, commit: 10 } });
    await s.persist({ entries: ents(11, 12, 2) }); // drops 13..100
    expect(s.lastIndex()).toBe(12);
    await sleep(50);
    expect(s.pendingDeletes).toBe(0);
    await s.close();
    const r = await DurableStorage.open(dir);
    expect([r.lastIndex(), r.term(12), r.recovery.staleEntries]).toEqual([12, 2, 0]);
    await r.close();
  });

  test('compaction deletes in bounded batches and survives reopen', async () => {
    const dir = tmpDir();
    const batches: BatchInfo[] = [];
    const s = await DurableStorage.open(dir, { deleteBatchEntries: 100, onBatch: (b) => batches.push(b) });
    for (let lo = 1; lo <= 2000; lo += 500) await s.persist({ entries: ents(lo, lo + 499, 1), hardState: { term: 1, vote: 1, commit: lo + 499 } });
    await s.createSnapshot(1500, cs, [enc.encode('state@1500')]);
    await s.compact(1500);
    expect([s.firstIndex(), s.lastIndex()]).toEqual([1501, 2000]);
    expect(code(() => s.term(1499))).toBe('Compacted');
    expect(s.term(1500)).toBe(1);
    expect(code(() => s.entries(1500, 1502, Infinity))).toBe('Compacted');
    while (s.pendingDeletes > 0) await sleep(5);
    await s.flush(); // the last deletions were taken into a batch: let it complete
    // Each batch: its entries, at most 100 deletions, and the state record.
    let deletes = 0;
    for (const b of batches) {
      expect(b.ops - b.entries - 1).toBeLessThanOrEqual(100);
      deletes += b.ops - b.entries - 1;
    }
    expect(deletes).toBe(1500);
    await s.close();
    const r = await DurableStorage.open(dir);
    expect([r.firstIndex(), r.lastIndex(), r.recovery.entries, r.recovery.staleEntries]).toEqual([1501, 2000, 500, 0]);
    expect(r.snapshot().metadata).toEqual({ index: 1500, term: 1, confState: cs });
    await r.close();
  });

  test('entries left behind by an interrupted compaction are cleaned up at open', async () => {
    const dir = tmpDir();
    const s = await DurableStorage.open(dir, { deleteBatchEntries: 10 });
    await s.persist({ entries: ents(1, 500, 1), hardState: { term: 1, vote: 1, commit: 500 } });
    await s.createSnapshot(400, cs, [enc.encode('x')]);
    await s.compact(400);
    s.abandon(); // "dies" before deleting much
    await (s as unknown as { kv: { close(): Promise<void> } }).kv.close();
    const r = await DurableStorage.open(dir);
    expect(r.recovery.staleEntries).toBeGreaterThan(0);
    expect([r.firstIndex(), r.lastIndex()]).toEqual([401, 500]);
    while (r.pendingDeletes > 0) await sleep(5);
    await r.close();
    const r2 = await DurableStorage.open(dir);
    expect(r2.recovery.staleEntries).toBe(0);
    await r2.close();
  });
});

describe('the cache', () => {
  test('is bounded, and reads below it come from LevelDB', async () => {
    const dir = tmpDir();
    const s = await DurableStorage.open(dir, { cacheMaxBytes: 64 * 1024 });
    for (let lo = 1; lo <= 1000; lo += 100) await s.persist({ entries: ents(lo, lo + 99, 1, 1024) });
    expect(s.stats.cachedBytes).toBeLessThanOrEqual(64 * 1024 + 1040);
    expect(s.stats.cachedEntries).toBeLessThan(100);
    const before = s.stats.diskReads;
    expect(s.entries(990, 1001, Infinity).length).toBe(11); // hot: cached
    expect(s.stats.diskReads).toBe(before);
    const cold = s.entries(1, 11, Infinity);
    expect(cold.map((e) => e.index)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(cold[3].data[0]).toBe(4);
    expect(s.stats.diskReads).toBe(before + 10);
    await s.close();
  });
});

describe('group commit', () => {
  test('concurrent persist calls share one fsync', async () => {
    const s = await DurableStorage.open(tmpDir(), { fsync: 'always' });
    await s.persist({ entries: ents(1, 1, 1) });
    const syncs0 = s.stats.syncs;
    const n = 200;
    const all: Promise<void>[] = [];
    for (let i = 2; i <= n + 1; i++) all.push(s.persist({ entries: [entry(i, 1)], hardState: { term: 1, vote: 1, commit: i - 1 } }));
    await Promise.all(all);
    const syncs = s.stats.syncs - syncs0;
    // The first call is written alone; every one that arrived meanwhile joins the next batch.
    expect(syncs).toBeGreaterThanOrEqual(1);
    expect(syncs).toBeLessThanOrEqual(2);
    expect(s.lastIndex()).toBe(n + 1);
    await s.close();
  });

  test('calls arriving while a sync is in flight are coalesced into exactly one next batch', async () => {
    const batches: BatchInfo[] = [];
    const s = await DurableStorage.open(tmpDir(), { fsync: 'always', onBatch: (b) => batches.push(b) });
    const first = s.persist({ entries: [entry(1, 1)] }); // goes out alone
    const rest = [2, 3, 4, 5].map((i) => s.persist({ entries: [entry(i, 1)] })); // all wait for the first
    await Promise.all([first, ...rest]);
    expect(batches.map((b) => [b.entries, b.requests, b.synced])).toEqual([
      [1, 1, true],
      [4, 4, true],
    ]);
    await s.close();
  });

  test('a write error fails the pending calls and every later one', async () => {
    const s = await DurableStorage.open(tmpDir(), { logger: () => undefined });
    await s.persist({ entries: ents(1, 2, 1) });
    const kv = (s as unknown as { kv: { write: unknown } }).kv;
    kv.write = () => Promise.reject(new Error('EIO: disk on fire'));
    await expect(s.persist({ entries: [entry(3, 1)] })).rejects.toThrow(/disk on fire/);
    expect(() => s.persist({ entries: [entry(4, 1)] })).toThrow(/failed earlier/);
  });
});

describe('policies', () => {
  test.each(['always', 'everysec', 'no'] as const)('%s: what each batch syncs', async (policy) => {
    const batches: BatchInfo[] = [];
    const s = await DurableStorage.open(tmpDir(), { fsync: policy, everysecIntervalMs: 100, onBatch: (b) => batches.push(b) });
    for (let i = 1; i <= 5; i++) await s.persist({ entries: [entry(i, 1)] });
    await sleep(250);
    const synced = batches.filter((b) => b.synced).length;
    if (policy === 'always') expect(synced).toBe(5);
    if (policy === 'everysec') {
      expect(synced).toBeGreaterThanOrEqual(1); // the timer's sync
      expect(synced).toBeLessThan(batches.length);
    }
    if (policy === 'no') expect(synced).toBe(0);
    await s.close();
  });

  test('an unknown policy is refused', async () => {
    await expect(DurableStorage.open(tmpDir(), { fsync: 'sometimes' as never })).rejects.toThrow(/unknown fsync policy/);
  });
});

test('isRaftError works on what the storage throws', async () => {
  const s = await DurableStorage.open(tmpDir());
  await s.persist({ entries: ents(1, 3, 1) });
  let err: unknown;
  try {
    s.term(5);
  } catch (e) {
    err = e;
  }
  expect(isRaftError(err, 'Unavailable')).toBe(true);
  await s.close();
});
