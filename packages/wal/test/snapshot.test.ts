// Snapshot files: the format round trip, every kind of damage detected (never loaded
// silently), fallback to the previous snapshot, refusal when there is none, retention,
// and a follower's install of a received snapshot.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { confStateOf, seededRandom } from '@keel/raft';
import { DurableStorage, SnapshotReader, WalCorruptionError, listSnapshotFiles, verifySnapshotFile, writeSnapshotFile } from '../src';
import { cleanupDirs, ents, tmpDir, sleep } from './helpers';

afterAll(cleanupDirs);

const cs = confStateOf([1, 2, 3]);
const enc = new TextEncoder();

/** A deterministic pseudo-random payload in chunks of varying sizes. */
async function* payload(totalBytes: number, seed: number): AsyncGenerator<Uint8Array> {
  const rnd = seededRandom(seed);
  let left = totalBytes;
  while (left > 0) {
    const n = Math.min(left, 1 + Math.floor(rnd() * 200_000));
    const c = new Uint8Array(n);
    for (let i = 0; i < n; i += 997) c[i] = Math.floor(rnd() * 256);
    left -= n;
    yield c;
  }
}

async function digestOf(chunks: AsyncIterable<Uint8Array>): Promise<{ hex: string; bytes: number; maxChunk: number }> {
  const h = createHash('sha256');
  let bytes = 0;
  let maxChunk = 0;
  for await (const c of chunks) {
    h.update(c);
    bytes += c.byteLength;
    maxChunk = Math.max(maxChunk, c.byteLength);
  }
  return { hex: h.digest('hex'), bytes, maxChunk };
}

function flipByte(file: string, offset: number): void {
  const b = fs.readFileSync(file);
  b[offset] ^= 0x40;
  fs.writeFileSync(file, b);
}

describe('the file format', () => {
  test('round trip of a 3 MB payload streamed in uneven chunks', async () => {
    const dir = tmpDir('snap');
    const meta = { index: 42, term: 7, confState: cs };
    const f = await writeSnapshotFile(dir, meta, payload(3_000_000, 1), 64 * 1024);
    expect(f.name).toBe('snap-000000000000002a-0000000000000007.ksnap');
    const r = await SnapshotReader.open(f.path);
    expect(r.metadata).toEqual(meta);
    const got = await digestOf(r.chunks());
    const want = await digestOf(payload(3_000_000, 1));
    expect(got.hex).toBe(want.hex);
    expect(got.bytes).toBe(3_000_000);
    expect(got.maxChunk).toBeLessThanOrEqual(64 * 1024);
    const v = await verifySnapshotFile(f.path);
    expect(v).toMatchObject({ ok: true, payloadBytes: 3_000_000, blocks: Math.ceil(3_000_000 / 65536) });
    expect(fs.readdirSync(dir)).toEqual([f.name]); // no temporary file left
  });

  test('an empty payload is valid', async () => {
    const dir = tmpDir('snap');
    const f = await writeSnapshotFile(dir, { index: 1, term: 1, confState: cs }, []);
    expect(await verifySnapshotFile(f.path)).toMatchObject({ ok: true, payloadBytes: 0, blocks: 0 });
  });

  test('a flipped byte anywhere is detected, with its place', async () => {
    const dir = tmpDir('snap');
    const src = await writeSnapshotFile(dir, { index: 9, term: 2, confState: cs }, payload(300_000, 2), 100_000);
    const size = fs.statSync(src.path).size;
    const headerLen = 16 + fs.readFileSync(src.path).readUInt32BE(12) + 4;
    // magic, version, meta, header crc, block header (type, len, crc), payload, end block, last byte
    const offsets = [0, 9, 20, headerLen - 1, headerLen, headerLen + 2, headerLen + 6, headerLen + 9 + 5000, headerLen + 9 + 150_000, size - 10, size - 1];
    for (const off of offsets) {
      const copy = path.join(dir, `copy-${off}.ksnap`);
      fs.copyFileSync(src.path, copy);
      flipByte(copy, off);
      const v = await verifySnapshotFile(copy);
      expect([off, v.ok]).toEqual([off, false]);
      // The offset names the damaged unit: the header (its checksum) or the block holding `off`.
      expect(v.error!.offset).toBeLessThanOrEqual(Math.max(off, headerLen - 4));
      await expect(
        (async () => {
          const r = await SnapshotReader.open(copy);
          for await (const _ of r.chunks());
        })(),
      ).rejects.toThrow(WalCorruptionError);
      fs.rmSync(copy);
    }
  });

  test('truncation and trailing bytes are detected', async () => {
    const dir = tmpDir('snap');
    const src = await writeSnapshotFile(dir, { index: 9, term: 2, confState: cs }, payload(200_000, 3), 50_000);
    const size = fs.statSync(src.path).size;
    for (const len of [0, 5, 30, 100, 50_000, size - 21, size - 1]) {
      const copy = path.join(dir, `cut-${len}`);
      fs.writeFileSync(copy, fs.readFileSync(src.path).subarray(0, len));
      expect([len, (await verifySnapshotFile(copy)).ok]).toEqual([len, false]);
    }
    const junk = path.join(dir, 'junk');
    fs.writeFileSync(junk, Buffer.concat([fs.readFileSync(src.path), Buffer.from([0])]));
    expect((await verifySnapshotFile(junk)).error!.reason).toMatch(/after the end block/);
  });

  test('writing and reading a large snapshot yield to the event loop between blocks', async () => {
    // Counted, not timed (speed is for benchmarks): other work must get turns of the event loop
    // while 32 MiB is written and read back in 64 KiB blocks (512 each way). A writer or reader
    // that did it all in one go would leave the counter near 0.
    const dir = tmpDir('snap');
    let turns = 0;
    let running = true;
    const spin = () => {
      if (!running) return;
      turns++;
      setImmediate(spin);
    };
    setImmediate(spin);
    const f = await writeSnapshotFile(dir, { index: 1, term: 1, confState: cs }, payload(32 << 20, 4));
    const afterWrite = turns;
    const r = await SnapshotReader.open(f.path);
    await digestOf(r.chunks());
    running = false;
    expect(afterWrite).toBeGreaterThan(100);
    expect(turns - afterWrite).toBeGreaterThan(100);
  });
});

describe('snapshots in DurableStorage', () => {
  async function withTwoSnapshots(dir: string, opts = {}): Promise<DurableStorage> {
    const s = await DurableStorage.open(dir, opts);
    await s.persist({ entries: ents(1, 300, 1), hardState: { term: 1, vote: 1, commit: 300 } });
    await s.createSnapshot(100, cs, [enc.encode('state@100')]);
    await s.createSnapshot(200, cs, [enc.encode('state@200')]);
    return s;
  }

  async function readAll(r: SnapshotReader): Promise<string> {
    const parts: Uint8Array[] = [];
    for await (const c of r.chunks()) parts.push(c);
    return Buffer.concat(parts).toString();
  }

  test('the log is compacted only behind the older retained snapshot', async () => {
    const s = await withTwoSnapshots(tmpDir());
    expect([s.firstIndex(), s.lastIndex(), s.snapshot().metadata.index]).toEqual([101, 300, 200]);
    expect(await readAll(await s.openSnapshot())).toBe('state@200');
    await s.close();
  });

  test('a damaged newest snapshot is passed over, with a warning, for the previous one', async () => {
    const dir = tmpDir();
    await (await withTwoSnapshots(dir)).close();
    const { files } = await listSnapshotFiles(path.join(dir, 'snap'));
    expect(files.map((f) => f.index)).toEqual([200, 100]);
    flipByte(files[0].path, fs.statSync(files[0].path).size - 20);
    const warnings: string[] = [];
    const r = await DurableStorage.open(dir, { logger: (l) => warnings.push(l) });
    expect(r.snapshot().metadata.index).toBe(100);
    expect(r.snapshotIndex).toBe(100);
    expect(r.initialState().hardState.commit).toBe(300);
    expect([r.firstIndex(), r.lastIndex()]).toEqual([101, 300]);
    expect(r.recovery.warnings.join('\n')).toMatch(/snap-00000000000000c8-0000000000000001\.ksnap is damaged at byte \d+.*not loaded/);
    expect(r.recovery.warnings.join('\n')).toMatch(/using the previous valid snapshot at index 100/);
    expect(warnings.length).toBe(2);
    expect(await readAll(await r.openSnapshot())).toBe('state@100');
    await r.close();
  });

  test('with no valid snapshot to fall back on, the node refuses to start', async () => {
    const dir = tmpDir();
    await (await withTwoSnapshots(dir, { compactBehind: false })).close();
    const { files } = await listSnapshotFiles(path.join(dir, 'snap'));
    expect(files.map((f) => f.index)).toEqual([200, 100]); // log compacted through 200: 100 useless
    flipByte(files[0].path, 30);
    const err = await DurableStorage.open(dir, { logger: () => undefined }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WalCorruptionError);
    const msg = (err as Error).message;
    expect(msg).toContain(files[0].path);
    expect(msg).toMatch(/damaged at byte \d+/);
    expect(msg).toContain(`keel wal repair --dir ${dir}`);
    expect(msg).toMatch(/refusing to start/i);
  });

  test('keeps the latest two snapshot files', async () => {
    const dir = tmpDir();
    const s = await DurableStorage.open(dir);
    await s.persist({ entries: ents(1, 50, 1), hardState: { term: 1, vote: 1, commit: 50 } });
    for (const i of [10, 20, 30, 40]) await s.createSnapshot(i, cs, [enc.encode(`s${i}`)]);
    const { files } = await listSnapshotFiles(path.join(dir, 'snap'));
    expect(files.map((f) => f.index)).toEqual([40, 30]);
    expect(s.firstIndex()).toBe(31);
    await s.close();
    const r = await DurableStorage.open(dir);
    expect([r.snapshotIndex, r.firstIndex(), r.lastIndex()]).toEqual([40, 31, 50]);
    await r.close();
  });

  test('a follower installs a snapshot streamed from the leader', async () => {
    const leaderDir = tmpDir();
    const leader = await DurableStorage.open(leaderDir);
    await leader.persist({ entries: ents(1, 500, 3), hardState: { term: 3, vote: 1, commit: 500 } });
    const meta = await leader.createSnapshot(400, cs, payload(1_000_000, 5));
    const follower = await DurableStorage.open(tmpDir());
    await follower.persist({ entries: ents(1, 20, 1), hardState: { term: 2, vote: 0, commit: 5 } });
    // The transport: chunks from the leader's file into the follower's writer.
    const rx = await follower.receiveSnapshot(meta);
    for await (const c of (await leader.openSnapshot()).chunks()) await rx.write(c);
    await rx.finish();
    // raft's Ready then carries the snapshot (data empty: the file received above).
    await follower.persist({ snapshot: { metadata: meta, data: new Uint8Array(0) }, hardState: { term: 3, vote: 0, commit: 400 } });
    expect([follower.firstIndex(), follower.lastIndex(), follower.term(400), follower.snapshotIndex]).toEqual([401, 400, 3, 400]);
    await follower.persist({ entries: ents(401, 410, 3) });
    const dir = follower.dir;
    await sleep(20);
    await follower.close();
    const r = await DurableStorage.open(dir);
    expect([r.firstIndex(), r.lastIndex(), r.snapshotIndex, r.recovery.staleEntries]).toEqual([401, 410, 400, 0]);
    expect((await digestOf((await r.openSnapshot()).chunks())).hex).toBe((await digestOf(payload(1_000_000, 5))).hex);
    await r.close();
    await leader.close();
  });

  test('installing a snapshot with no payload and none received is refused', async () => {
    const s = await DurableStorage.open(tmpDir());
    expect(() => s.persist({ snapshot: { metadata: { index: 5, term: 1, confState: cs }, data: new Uint8Array(0) } })).toThrow(/no payload/);
    // With data (a small snapshot carried in the message), the file is written first.
    await s.persist({ snapshot: { metadata: { index: 5, term: 1, confState: cs }, data: enc.encode('inline') }, hardState: { term: 1, vote: 0, commit: 5 } });
    const parts: Uint8Array[] = [];
    for await (const c of (await s.openSnapshot()).chunks()) parts.push(c);
    expect(Buffer.concat(parts).toString()).toBe('inline');
    await s.close();
  });

  test('a temporary file left by a crash during a snapshot write is removed at open', async () => {
    const dir = tmpDir();
    (await DurableStorage.open(dir)).close();
    await sleep(10);
    const tmp = path.join(dir, 'snap', 'snap-0000000000000005-0000000000000001.ksnap.tmp-123-1');
    fs.writeFileSync(tmp, 'half');
    const s = await DurableStorage.open(dir);
    expect(s.recovery.removedTempFiles).toEqual([tmp]);
    expect(fs.existsSync(tmp)).toBe(false);
    await s.close();
  });
});
