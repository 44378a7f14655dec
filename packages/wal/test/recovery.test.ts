// Recovery on open and the tools: a damaged or torn log is detected and the node refuses to
// start with a message naming the place and the command; checkWal reports it; repairWal
// truncates it after confirmation and touches nothing valid.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { ClassicLevel } from 'classic-level';
import { confStateOf } from '@keel/raft';
import { DurableStorage, STATE_KEY, WalCorruptionError, checkWal, entryKey, formatWalReport, listSnapshotFiles, repairWal } from '../src';
import { cleanupDirs, ents, tmpDir } from './helpers';

afterAll(cleanupDirs);

const cs = confStateOf([1, 2, 3]);
const enc = new TextEncoder();

/** Edits the LevelDB of a closed storage directly (bit rot, a lost record). */
async function tamper(dir: string, f: (db: ClassicLevel<Buffer, Buffer>) => Promise<void>): Promise<void> {
  const db = new ClassicLevel<Buffer, Buffer>(path.join(dir, 'log'), { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await db.open();
  await f(db);
  await db.close();
}

async function flipEntry(dir: string, index: number, at = 30): Promise<void> {
  await tamper(dir, async (db) => {
    const v = (await db.get(entryKey(index)))!;
    v[Math.min(at, v.length - 1)] ^= 0x01;
    await db.put(entryKey(index), v);
  });
}

async function make(dir: string, last = 50, commit = 45): Promise<void> {
  const s = await DurableStorage.open(dir);
  await s.persist({ entries: ents(1, last, 2), hardState: { term: 2, vote: 1, commit } });
  await s.close();
}

async function openError(dir: string): Promise<WalCorruptionError> {
  const e = await DurableStorage.open(dir, { logger: () => undefined }).then(
    async (s) => {
      await s.close();
      return undefined;
    },
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(WalCorruptionError);
  return e as WalCorruptionError;
}

describe('a damaged log is refused at open', () => {
  test('a flipped byte in an entry: the message names the directory, the index and the command', async () => {
    const dir = tmpDir();
    await make(dir);
    await flipEntry(dir, 37);
    const e = await openError(dir);
    expect(e.where).toMatchObject({ dir, file: path.join(dir, 'log'), index: 37 });
    expect(e.message).toContain(`in ${path.join(dir, 'log')} is damaged at index 37`);
    expect(e.message).toMatch(/checksum mismatch/);
    expect(e.message).toContain(`keel wal repair --dir ${dir}`);
    expect(e.message).toContain(`keel wal check --dir ${dir}`);
  });

  test('a torn tail: the last entries lost while the state record says they exist', async () => {
    const dir = tmpDir();
    await make(dir);
    await tamper(dir, async (db) => {
      for (const i of [48, 49, 50]) await db.del(entryKey(i));
    });
    const e = await openError(dir);
    expect(e.where.index).toBe(48);
    expect(e.message).toMatch(/entries 48\.\.50 are missing/);
  });

  test('a hole in the middle and a value under the wrong key', async () => {
    const dir = tmpDir();
    await make(dir);
    await tamper(dir, async (db) => {
      await db.del(entryKey(20));
    });
    expect((await openError(dir)).message).toMatch(/entry 20 is missing \(the next stored entry is 21\)/);
    const dir2 = tmpDir();
    await make(dir2);
    await tamper(dir2, async (db) => {
      await db.put(entryKey(30), (await db.get(entryKey(31)))!);
    });
    expect((await openError(dir2)).message).toMatch(/entry under key 30 says index 31/);
  });

  test('a damaged state record: refused, and repair cannot rebuild it', async () => {
    const dir = tmpDir();
    await make(dir);
    await tamper(dir, async (db) => {
      const v = (await db.get(STATE_KEY))!;
      v[10] ^= 0xff;
      await db.put(STATE_KEY, v);
    });
    const e = await openError(dir);
    expect(e.message).toMatch(/state record .* is unusable/);
    expect(e.message).toMatch(/rejoin its shard from its peers/);
    const report = await checkWal(dir);
    expect(report.ok).toBe(false);
    expect(report.repair.possible).toBe(false);
    const res = await repairWal(dir, { confirm: () => true });
    expect(res.outcome).toBe('refused');
  });

  test('damage found by a cold read while running throws the same kind of error', async () => {
    const dir = tmpDir();
    await make(dir);
    const s = await DurableStorage.open(dir, { cacheMaxBytes: 0 });
    // The value rots after open (written through the store's own handle: LevelDB is locked).
    const kv = (s as unknown as { kv: { getSync(k: Buffer): Buffer; write(ops: unknown[], sync: boolean): Promise<void> } }).kv;
    const v = Buffer.from(kv.getSync(entryKey(3)));
    v[25] ^= 1;
    await kv.write([{ type: 'put', key: entryKey(3), value: v }], true);
    let err: unknown;
    try {
      s.entries(2, 5, Infinity);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WalCorruptionError);
    expect((err as WalCorruptionError).where.index).toBe(3);
    expect((err as Error).message).toContain(`keel wal repair --dir ${dir}`);
    await s.close();
  });
});

describe('check and repair', () => {
  test('check reports a healthy directory', async () => {
    const dir = tmpDir();
    const s = await DurableStorage.open(dir);
    await s.persist({ entries: ents(1, 30, 1), hardState: { term: 1, vote: 1, commit: 30 }, conf: { index: 1, confState: cs } });
    await s.createSnapshot(10, cs, [enc.encode('s10')]);
    await s.close();
    const r = await checkWal(dir);
    expect(r.ok).toBe(true);
    expect(r.log).toMatchObject({ firstIndex: 1, lastIndex: 30, entries: 30, hardState: { term: 1, vote: 1, commit: 30 } });
    expect(r.snapshots).toMatchObject([{ index: 10, term: 1, role: 'current' }]);
    const text = formatWalReport(r);
    expect(text).toMatch(/hard state: term 1, vote 1, commit 30/);
    expect(text).toMatch(/entries: 30 valid, index 1\.\.30/);
    expect(text).toMatch(/membership as of 1: voters 1,2,3/);
    expect(text).toMatch(/status: OK/);
  });

  test('repair truncates a damaged tail after confirmation, saving what it drops', async () => {
    const dir = tmpDir();
    await make(dir, 50, 45);
    await flipEntry(dir, 37);
    const report = await checkWal(dir);
    expect(report.ok).toBe(false);
    expect(report.log.damage).toMatchObject({ index: 37 });
    expect(report.log.lastValidIndex).toBe(36);
    expect(report.repair.actions.join('\n')).toMatch(/truncate the log to end at index 36/);
    expect(report.repair.actions.join('\n')).toMatch(/lower the commit index from 45 to 36/);

    // Declined: nothing changes.
    const declined = await repairWal(dir, { confirm: () => false });
    expect(declined.outcome).toBe('declined');
    await openError(dir);

    let seen: string[] = [];
    const res = await repairWal(dir, {
      confirm: (r) => {
        seen = r.repair.actions;
        return true;
      },
    });
    expect(seen.length).toBeGreaterThan(0);
    expect(res).toMatchObject({ outcome: 'repaired', truncatedFrom: 37, droppedEntries: 14, commitLowered: { from: 45, to: 36 } });
    const saved = fs.readFileSync(res.lostAndFound!, 'utf8').trim().split('\n');
    expect(saved.length).toBe(14);
    expect(JSON.parse(saved[0]).index).toBe(37);

    const s = await DurableStorage.open(dir);
    expect([s.firstIndex(), s.lastIndex(), s.term(36)]).toEqual([1, 36, 2]);
    expect(s.initialState().hardState).toEqual({ term: 2, vote: 1, commit: 36 });
    // Every kept entry is the original.
    expect(s.entries(1, 37, Infinity).map((e) => new TextDecoder().decode(e.data))).toEqual(ents(1, 36, 2).map((e) => new TextDecoder().decode(e.data)));
    await s.close();
    expect((await checkWal(dir)).ok).toBe(true);
    expect((await repairWal(dir, { confirm: () => true })).outcome).toBe('nothing-to-do');
  });

  test('damage inside what a valid snapshot covers: the log is compacted to it, the rest kept', async () => {
    const dir = tmpDir();
    const s = await DurableStorage.open(dir);
    await s.persist({ entries: ents(1, 100, 1), hardState: { term: 1, vote: 1, commit: 90 } });
    await s.createSnapshot(60, cs, [enc.encode('s60')]); // first snapshot: the log is kept from 1
    await s.close();
    await flipEntry(dir, 30);
    await openError(dir);
    const res = await repairWal(dir, { confirm: () => true });
    expect(res).toMatchObject({ outcome: 'repaired', compactedTo: 60, droppedEntries: 60 });
    expect(res.truncatedFrom).toBeUndefined();
    const r = await DurableStorage.open(dir);
    expect([r.firstIndex(), r.lastIndex(), r.snapshotIndex, r.initialState().hardState.commit]).toEqual([61, 100, 60, 90]);
    await r.close();
  });

  test('a damaged snapshot with a fallback: check flags it, repair moves it aside', async () => {
    const dir = tmpDir();
    const s = await DurableStorage.open(dir);
    await s.persist({ entries: ents(1, 100, 1), hardState: { term: 1, vote: 1, commit: 100 } });
    await s.createSnapshot(40, cs, [enc.encode('s40')]);
    await s.createSnapshot(80, cs, [enc.encode('s80')]);
    await s.close();
    const { files } = await listSnapshotFiles(path.join(dir, 'snap'));
    const b = fs.readFileSync(files[0].path);
    b[b.length - 5] ^= 1;
    fs.writeFileSync(files[0].path, b);
    const report = await checkWal(dir);
    expect(report.ok).toBe(false);
    expect(report.snapshots.map((x) => [x.index, x.role])).toEqual([
      [80, 'damaged'],
      [40, 'current'],
    ]);
    expect(formatWalReport(report)).toMatch(/index 80 term 1.*DAMAGED at byte \d+/);
    const res = await repairWal(dir, { confirm: () => true });
    expect(res.outcome).toBe('repaired');
    expect(res.movedSnapshots).toEqual([path.join(dir, 'snap', 'damaged', files[0].name)]);
    expect(res.droppedEntries).toBe(0);
    const r = await DurableStorage.open(dir);
    expect([r.snapshotIndex, r.firstIndex(), r.lastIndex(), r.recovery.warnings.length]).toEqual([40, 41, 100, 0]);
    await r.close();
  });

  test('a directory in use by a running node is not touched', async () => {
    const dir = tmpDir();
    const s = await DurableStorage.open(dir);
    await s.persist({ entries: ents(1, 3, 1) });
    const r = await checkWal(dir);
    expect(r.ok).toBe(false);
    expect(r.log.openError).toMatch(/lock/i);
    expect((await repairWal(dir, { confirm: () => true })).outcome).toBe('refused');
    await s.close();
  });
});
