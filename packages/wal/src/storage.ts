// DurableStorage: raft's Storage over LevelDB, with snapshot files beside it.
//
// Raft reads it synchronously (entries, term, firstIndex, lastIndex, snapshot) from an
// in-memory view: recent entries are cached, older ones are read with LevelDB's getSync
// (the cold path: a lagging follower). The server writes it once per Ready with
// `await persist({ hardState, entries, snapshot })`, which updates the view at once and
// resolves when the batch is persisted as the fsync policy says. Every batch carries the
// state record (hard state, log bounds, snapshot) so that it and the entries are atomic.
//
// Group commit: while one batch is being written (and synced), later persist() calls
// accumulate into the next batch; it is written, and synced, once for all of them.

import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  ConfState,
  EMPTY_BYTES,
  Entry,
  HardState,
  InitialState,
  RaftError,
  Snapshot,
  SnapshotMetadata,
  Storage,
  assert,
  emptySnapshot,
  entrySizeBytes,
  isEmptySnapshot,
} from '@keel/raft';
import { decodeEntry, encodeEntry, encodeState, entryKey, initialWalState, STATE_KEY, WalState } from './codec';
import { repairHint, walAssert, WalCorruptionError, WalFailedError } from './errors';
import { KvOp, KvStore, LevelKv } from './kv';
import { chooseSnapshot, scanLog } from './recovery';
import { DEFAULT_BLOCK_BYTES, listSnapshotFiles, SnapshotFileName, SnapshotReader, SnapshotWriter, writeSnapshotFile } from './snapshot-file';

export type FsyncPolicy = 'always' | 'everysec' | 'no';

export interface DurableStorageOptions {
  /** As Redis's appendfsync. Default 'always'. */
  fsync?: FsyncPolicy;
  /** How far behind 'everysec' may sync. Default 1000. */
  everysecIntervalMs?: number;
  /** Bytes of recent entries kept in memory for raft's reads. Default 64 MiB. */
  cacheMaxBytes?: number;
  /** Snapshot files kept. Default 2. */
  retainSnapshots?: number;
  /**
   * After a snapshot, compact the log only up to the oldest retained snapshot (default), so
   * that if the newest snapshot is found damaged the previous one plus the log can replace
   * it. false: compact up to the new snapshot (smaller log, no fallback).
   */
  compactBehind?: boolean;
  /** Deletions of compacted or truncated entries per batch. Default 1000. */
  deleteBatchEntries?: number;
  snapshotBlockBytes?: number;
  /** Verify every block of the snapshot files at open. Default true. */
  verifySnapshotsOnOpen?: boolean;
  /** Opens the key-value store (tests inject a crash simulator). Default: LevelDB. */
  openKv?: (location: string) => Promise<KvStore>;
  /** Called after every batch (metrics: fsync latency, batch sizes). */
  onBatch?: (info: BatchInfo) => void;
  logger?: (line: string) => void;
}

export interface BatchInfo {
  ops: number;
  entries: number;
  bytes: number;
  /** persist()/flush() calls this batch completed. */
  requests: number;
  synced: boolean;
  durationMs: number;
}

export interface PersistRequest {
  hardState?: HardState;
  entries?: readonly Entry[];
  /** A snapshot to install (a follower catching up). Its payload is `data` if not empty,
   * otherwise the file received earlier through receiveSnapshot(). */
  snapshot?: Snapshot;
  /** raft's Ready.mustSync: false when only the commit index changed (no fsync needed
   * even under 'always'). Default true. */
  mustSync?: boolean;
  /** The membership as of an applied index, stored for operators (`keel wal check`). */
  conf?: { index: number; confState: ConfState };
}

export interface WalStats {
  persistCalls: number;
  batches: number;
  syncs: number;
  entriesWritten: number;
  bytesWritten: number;
  /** Entries read from LevelDB because they were not in the cache. */
  diskReads: number;
  cachedEntries: number;
  cachedBytes: number;
  syncMsTotal: number;
  /** persist() calls that only moved the commit index, written with the next batch. */
  deferredCommits: number;
}

export interface RecoveryReport {
  dir: string;
  fresh: boolean;
  firstIndex: number;
  lastIndex: number;
  entries: number;
  hardState: HardState;
  snapshot?: { path: string; index: number; term: number };
  /** Things an operator should know (a damaged snapshot passed over, ...). */
  warnings: string[];
  staleEntries: number;
  removedTempFiles: string[];
}

interface Waiter {
  resolve: () => void;
  reject: (e: Error) => void;
}

interface Pending {
  ops: KvOp[];
  waiters: Waiter[];
  /** Some request asked for a sync under the policy ('always' and mustSync). */
  wantSync: boolean;
  /** Structural changes (snapshots, compaction, flush, close) are always synced. */
  forceSync: boolean;
  barriers: Promise<unknown>[];
  after: Array<() => void>;
  /** Lowest index of an entry written by this batch (Infinity if none). */
  minEntryIndex: number;
  entries: number;
  bytes: number;
}

function newPending(): Pending {
  return { ops: [], waiters: [], wantSync: false, forceSync: false, barriers: [], after: [], minEntryIndex: Infinity, entries: 0, bytes: 0 };
}

const LOG_DIR = 'log';
const SNAP_DIR = 'snap';

export class DurableStorage implements Storage {
  readonly policy: FsyncPolicy;
  readonly logDir: string;
  readonly snapDir: string;
  readonly stats: WalStats = { persistCalls: 0, batches: 0, syncs: 0, entriesWritten: 0, bytesWritten: 0, diskReads: 0, cachedEntries: 0, cachedBytes: 0, syncMsTotal: 0, deferredCommits: 0 };
  recovery!: RecoveryReport;

  private readonly o: Required<Omit<DurableStorageOptions, 'openKv' | 'onBatch' | 'logger'>> & Pick<DurableStorageOptions, 'onBatch' | 'logger'>;
  private st: WalState = initialWalState();
  private current: SnapshotMetadata | undefined;
  /** Valid snapshot files we know of, by `${index}/${term}`. */
  private files = new Map<string, SnapshotFileName>();
  // The cache: entries [last - (cache.length - head) + 1, last], a suffix of the log.
  private cache: Entry[] = [];
  private head = 0;
  private cacheBytes = 0;
  // Write queue.
  private pending: Pending = newPending();
  private writing = false;
  private failed: Error | undefined;
  private closed = false;
  private syncRequested = false;
  private dirty = false;
  private lastSyncAt = performance.now();
  private timer: NodeJS.Timeout | undefined;
  /** Entry key ranges [lo, hi] to delete: outside (truncIndex, lastIndex], never inside it. */
  private garbage: Array<[number, number]> = [];
  private snapshotting = false;

  private constructor(readonly dir: string, private readonly kv: KvStore, opts: DurableStorageOptions) {
    this.o = {
      fsync: opts.fsync ?? 'always',
      everysecIntervalMs: opts.everysecIntervalMs ?? 1000,
      cacheMaxBytes: opts.cacheMaxBytes ?? 64 << 20,
      retainSnapshots: Math.max(1, opts.retainSnapshots ?? 2),
      compactBehind: opts.compactBehind ?? true,
      deleteBatchEntries: Math.max(1, opts.deleteBatchEntries ?? 1000),
      snapshotBlockBytes: opts.snapshotBlockBytes ?? DEFAULT_BLOCK_BYTES,
      verifySnapshotsOnOpen: opts.verifySnapshotsOnOpen ?? true,
      onBatch: opts.onBatch,
      logger: opts.logger,
    };
    this.policy = this.o.fsync;
    this.logDir = path.join(dir, LOG_DIR);
    this.snapDir = path.join(dir, SNAP_DIR);
  }

  /**
   * Opens (or creates) the storage in `dir`: loads the state record, verifies the whole
   * log and picks the newest valid snapshot. Throws WalCorruptionError, naming the place
   * and the command to run, rather than start on damaged data.
   */
  static async open(dir: string, opts: DurableStorageOptions = {}): Promise<DurableStorage> {
    if (opts.fsync !== undefined && !['always', 'everysec', 'no'].includes(opts.fsync)) {
      throw new Error(`unknown fsync policy '${opts.fsync}' (always | everysec | no)`);
    }
    await fs.mkdir(path.join(dir, SNAP_DIR), { recursive: true });
    const logDir = path.join(dir, LOG_DIR);
    let kv: KvStore;
    try {
      kv = await (opts.openKv ?? ((l) => LevelKv.open(l)))(logDir);
    } catch (e) {
      const cause = (e as { cause?: Error }).cause?.message ?? (e as Error).message;
      throw new WalCorruptionError(
        `cannot open the log at ${logDir}: ${cause}. If another keel process uses this directory, stop it; otherwise ${repairHint(dir)}.`,
        { dir, file: logDir },
      );
    }
    const s = new DurableStorage(dir, kv, opts);
    try {
      await s.recover();
    } catch (e) {
      await kv.close().catch(() => undefined);
      throw e;
    }
    if (s.policy === 'everysec') {
      s.timer = setInterval(() => s.onEverysec(), Math.max(10, s.o.everysecIntervalMs / 2));
      s.timer.unref();
    }
    return s;
  }

  private async recover(): Promise<void> {
    const { files, temps } = await listSnapshotFiles(this.snapDir);
    for (const t of temps) await fs.rm(t, { force: true }); // an interrupted snapshot write
    const scan = await scanLog(this.kv, { wantTerms: files.map((f) => f.index), onEntry: (e) => this.cachePush(e, true) });
    if (scan.stateError) {
      throw new WalCorruptionError(
        `the log's state record in ${this.logDir} is unusable: ${scan.stateError}. It holds the node's term and vote, so the node cannot safely start ` +
          `without it, and \`keel wal repair\` cannot rebuild it: move ${this.dir} aside and let the node rejoin its shard from its peers.`,
        { dir: this.dir, file: this.logDir },
      );
    }
    if (scan.damage) {
      throw new WalCorruptionError(
        `the write-ahead log in ${this.logDir} is damaged at index ${scan.damage.index}: ${scan.damage.reason}. Refusing to start. ` +
          `To go on, ${repairHint(this.dir)}: it truncates the log before index ${scan.damage.index} (the node then fetches the entries after it from its peers).`,
        { dir: this.dir, file: this.logDir, index: scan.damage.index },
      );
    }
    const fresh = scan.state === undefined;
    const st = scan.state ?? initialWalState();
    const choice = await chooseSnapshot(files, st, scan.terms, this.o.verifySnapshotsOnOpen);
    if (choice.fatal) {
      throw new WalCorruptionError(
        `cannot recover ${this.dir}: ${choice.fatal}. Refusing to start; ${repairHint(this.dir)}, or move ${this.dir} aside and let the node rejoin from its peers.`,
        { dir: this.dir, file: this.snapDir, offset: choice.statuses.find((s) => s.role === 'damaged')?.verify.error?.offset },
      );
    }
    this.st = st;
    for (const s of choice.statuses) if (s.role === 'current' || s.role === 'fallback') this.files.set(`${s.index}/${s.term}`, s);
    if (choice.chosen) {
      const m = choice.chosen.verify.metadata;
      this.current = m ? withContext({ index: m.index, term: m.term, confState: m.confState }, m.context) : undefined;
      if (!this.current) {
        // Not verified at open (verifySnapshotsOnOpen false): read its header now.
        const r = await SnapshotReader.open(choice.chosen.path, this.dir);
        this.current = r.metadata;
        await r.close();
      }
      this.st.snapIndex = this.current.index;
      this.st.snapTerm = this.current.term;
    } else {
      this.st.snapIndex = 0;
      this.st.snapTerm = 0;
    }
    for (const [lo, hi] of scan.stale) this.addGarbage(lo, hi);
    for (const w of choice.warnings) this.log(`wal: ${w}`);
    this.recovery = {
      dir: this.dir,
      fresh,
      firstIndex: this.firstIndex(),
      lastIndex: this.lastIndex(),
      entries: scan.validEntries,
      hardState: { ...st.hardState },
      snapshot: choice.chosen ? { path: choice.chosen.path, index: choice.chosen.index, term: choice.chosen.term } : undefined,
      warnings: choice.warnings,
      staleEntries: scan.staleCount,
      removedTempFiles: temps,
    };
    if (this.garbage.length > 0) setImmediate(() => this.kick());
  }

  private log(line: string): void {
    (this.o.logger ?? ((l: string) => process.stderr.write(`${l}\n`)))(line);
  }

  // ---- raft's Storage (synchronous reads of the in-memory view) ----

  initialState(): InitialState {
    const hs = this.st.hardState;
    // A snapshot holds only committed state, so its index is committed even if the commit
    // index written with it was not synced.
    const commit = Math.max(hs.commit, this.current?.index ?? 0);
    return { hardState: { term: hs.term, vote: hs.vote, commit }, confState: this.current?.confState ?? { voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false } };
  }

  /** The index of the current snapshot: pass it as raft's Config.applied after loading it. */
  get snapshotIndex(): number {
    return this.current?.index ?? 0;
  }

  get hardState(): HardState {
    return { ...this.st.hardState };
  }

  entries(lo: number, hi: number, maxSizeBytes: number): Entry[] {
    if (lo <= this.st.truncIndex) throw new RaftError('Compacted', `entries(${lo}) at or below ${this.st.truncIndex}`);
    assert(hi <= this.st.lastIndex + 1, () => `entries hi ${hi} beyond last index ${this.st.lastIndex}`);
    if (this.st.lastIndex === this.st.truncIndex) throw new RaftError('Unavailable', 'the log is empty');
    const out: Entry[] = [];
    const cs = this.cacheStart();
    let size = 0;
    for (let i = lo; i < hi; i++) {
      const e = i >= cs ? this.cache[this.head + i - cs] : this.readEntrySync(i);
      size += entrySizeBytes(e);
      if (out.length > 0 && size > maxSizeBytes) break;
      out.push(e);
    }
    return out;
  }

  term(i: number): number {
    if (i < this.st.truncIndex) throw new RaftError('Compacted', `term(${i}) below ${this.st.truncIndex}`);
    if (i > this.st.lastIndex) throw new RaftError('Unavailable', `term(${i}) beyond last index ${this.st.lastIndex}`);
    if (i === this.st.truncIndex) return this.st.truncTerm;
    const cs = this.cacheStart();
    return i >= cs ? this.cache[this.head + i - cs].term : this.readEntrySync(i).term;
  }

  lastIndex(): number {
    return this.st.lastIndex;
  }

  firstIndex(): number {
    return this.st.truncIndex + 1;
  }

  /**
   * The current snapshot's metadata. Its `data` is empty: the payload stays in its file;
   * read it with openSnapshot() (to restore the engine, or to stream it to a follower).
   */
  snapshot(): Snapshot {
    if (!this.current) return emptySnapshot();
    return { metadata: this.current, data: EMPTY_BYTES };
  }

  private readEntrySync(i: number): Entry {
    this.stats.diskReads++;
    const v = this.kv.getSync(entryKey(i));
    const d = v === undefined ? { ok: false as const, reason: 'missing' } : decodeEntry(v, i);
    if (!d.ok) {
      throw new WalCorruptionError(`the write-ahead log in ${this.logDir} is damaged at index ${i}: ${d.reason}; ${repairHint(this.dir)}`, {
        dir: this.dir,
        file: this.logDir,
        index: i,
      });
    }
    return d.value;
  }

  // ---- the cache ----

  private cacheStart(): number {
    return this.st.lastIndex - (this.cache.length - this.head) + 1;
  }

  /** Appends at the end of the cache (the entry becomes the last one). */
  private cachePush(e: Entry, recovering = false): void {
    this.cache.push(e);
    this.cacheBytes += cacheCostBytes(e);
    if (recovering) {
      // While scanning at open, keep only the newest cacheMaxBytes.
      this.st.lastIndex = e.index;
      this.evict(Infinity);
    }
  }

  private cacheTruncateFrom(first: number): void {
    const keep = Math.max(0, first - this.cacheStart());
    for (let k = this.head + keep; k < this.cache.length; k++) this.cacheBytes -= cacheCostBytes(this.cache[k]);
    this.cache.length = this.head + keep;
  }

  private cacheDropThrough(index: number): void {
    while (this.head < this.cache.length && this.cache[this.head].index <= index) this.dropHead();
    this.maybeShrinkCache();
  }

  private dropHead(): void {
    this.cacheBytes -= cacheCostBytes(this.cache[this.head]);
    this.head++;
  }

  private maybeShrinkCache(): void {
    if (this.head === this.cache.length) {
      this.cache = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.cache.length) {
      this.cache = this.cache.slice(this.head);
      this.head = 0;
    }
  }

  /** Evicts the oldest entries beyond the byte budget, but only ones already written. */
  private evict(writtenThrough: number): void {
    while (this.cacheBytes > this.o.cacheMaxBytes && this.head < this.cache.length - 1 && this.cache[this.head].index <= writtenThrough) this.dropHead();
    this.maybeShrinkCache();
    this.stats.cachedEntries = this.cache.length - this.head;
    this.stats.cachedBytes = this.cacheBytes;
  }

  // ---- garbage: entry keys outside the log, deleted a bounded number per batch ----

  private addGarbage(lo: number, hi: number): void {
    const a: Array<[number, number]> = [
      [lo, Math.min(hi, this.st.truncIndex)],
      [Math.max(lo, this.st.lastIndex + 1), hi],
    ];
    for (const [l, h] of a) if (l <= h) this.garbage.push([l, h]);
  }

  /** Entries [lo, hi] are being (re)written: never delete them. */
  private trimGarbage(lo: number, hi: number): void {
    if (this.garbage.length === 0) return;
    const out: Array<[number, number]> = [];
    for (const [l, h] of this.garbage) {
      if (h < lo || l > hi) out.push([l, h]);
      else {
        if (l < lo) out.push([l, lo - 1]);
        if (h > hi) out.push([hi + 1, h]);
      }
    }
    this.garbage = out;
  }

  private takeGarbage(ops: KvOp[]): void {
    let n = this.o.deleteBatchEntries;
    while (n > 0 && this.garbage.length > 0) {
      const r = this.garbage[0];
      const k = Math.min(n, r[1] - r[0] + 1);
      for (let i = 0; i < k; i++) ops.push({ type: 'del', key: entryKey(r[0] + i) });
      r[0] += k;
      n -= k;
      if (r[0] > r[1]) this.garbage.shift();
    }
  }

  /** Entry keys still waiting to be deleted (tests, metrics). */
  get pendingDeletes(): number {
    let n = 0;
    for (const [l, h] of this.garbage) n += h - l + 1;
    return n;
  }

  // ---- writing ----

  /**
   * Persists one Ready: the snapshot (if any), then the entries (truncating any conflicting
   * suffix), then the hard state, in one atomic batch. The view raft reads changes at once;
   * the promise resolves when the batch is written and, under 'always' (when mustSync),
   * fsync'd. Calls made while a batch is in flight are written together in the next one.
   */
  persist(req: PersistRequest): Promise<void> {
    this.checkUsable();
    this.stats.persistCalls++;
    const p = this.pending;
    if (req.snapshot && !isEmptySnapshot(req.snapshot)) this.installSnapshot(req.snapshot, p);
    if (req.entries && req.entries.length > 0) this.appendEntries(req.entries, p);
    if (req.hardState) this.st.hardState = { term: req.hardState.term, vote: req.hardState.vote, commit: req.hardState.commit };
    if (req.conf) this.st.conf = { index: req.conf.index, confState: req.conf.confState };
    if (req.mustSync === false && !req.snapshot && !(req.entries && req.entries.length > 0) && !req.conf) {
      // Only the commit index moved. Nothing depends on it being on disk (raft learns it
      // again from the leader, and a snapshot's index counts as committed), so it rides with
      // the next batch instead of taking the writer for a batch of its own.
      this.stats.deferredCommits++;
      return Promise.resolve();
    }
    if (req.mustSync ?? true) p.wantSync = true;
    return this.enqueue(p);
  }

  /** Resolves once everything persisted so far is written and fsync'd, whatever the policy. */
  flush(): Promise<void> {
    this.checkUsable();
    this.pending.forceSync = true;
    return this.enqueue(this.pending);
  }

  private checkUsable(): void {
    if (this.failed) throw new WalFailedError(`the write-ahead log in ${this.dir} failed earlier: ${this.failed.message}`, this.failed);
    if (this.closed) throw new WalFailedError(`the write-ahead log in ${this.dir} is closed`);
  }

  private appendEntries(entries: readonly Entry[], p: Pending): void {
    for (let k = 1; k < entries.length; k++) {
      walAssert(entries[k].index === entries[k - 1].index + 1, 'appended entries are not contiguous');
      walAssert(entries[k].term >= entries[k - 1].term, 'appended entries go back in term');
    }
    let ents = entries;
    const trunc = this.st.truncIndex;
    if (ents[ents.length - 1].index <= trunc) return; // all already compacted
    if (ents[0].index <= trunc) ents = ents.slice(trunc + 1 - ents[0].index);
    const first = ents[0].index;
    const newLast = ents[ents.length - 1].index;
    const oldLast = this.st.lastIndex;
    walAssert(first <= oldLast + 1, () => `missing log entry [last: ${oldLast}, append at: ${first}]`);
    if (first <= oldLast) {
      this.cacheTruncateFrom(first); // a conflicting suffix
      this.st.lastIndex = first - 1;
    }
    for (const e of ents) {
      const v = encodeEntry(e);
      p.ops.push({ type: 'put', key: entryKey(e.index), value: v });
      p.bytes += v.length;
      this.cachePush(e);
      this.st.lastIndex = e.index;
    }
    p.entries += ents.length;
    p.minEntryIndex = Math.min(p.minEntryIndex, first);
    this.trimGarbage(first, newLast);
    if (oldLast > newLast) this.addGarbage(newLast + 1, oldLast);
  }

  private installSnapshot(s: Snapshot, p: Pending): void {
    const meta = withContext({ index: s.metadata.index, term: s.metadata.term, confState: s.metadata.confState }, s.metadata.context);
    const cur = this.current?.index ?? 0;
    if (meta.index <= cur) throw new RaftError('SnapOutOfDate', `snapshot ${meta.index} not newer than ${cur}`);
    const key = `${meta.index}/${meta.term}`;
    if (s.data.byteLength === 0 && !this.files.has(key)) {
      // Never install an empty state by accident: an empty `data` means "the file I received".
      throw new Error(`snapshot ${meta.index} (term ${meta.term}) has no payload and none was received: stream it in with receiveSnapshot() first`);
    }
    if (s.data.byteLength > 0) {
      const write = writeSnapshotFile(this.snapDir, meta, [s.data], this.o.snapshotBlockBytes).then((f) => this.files.set(key, f));
      write.catch(() => undefined); // observed through the batch's barrier
      p.barriers.push(write);
    }
    const oldFirst = this.st.truncIndex + 1;
    const oldLast = this.st.lastIndex;
    this.current = meta;
    this.st.snapIndex = meta.index;
    this.st.snapTerm = meta.term;
    this.st.truncIndex = meta.index;
    this.st.truncTerm = meta.term;
    this.st.lastIndex = meta.index;
    this.cache = [];
    this.head = 0;
    this.cacheBytes = 0;
    p.forceSync = true;
    // The old entries are deleted only once the new bounds are durable.
    p.after.push(() => {
      this.addGarbage(oldFirst, oldLast);
      void this.prune();
    });
  }

  private enqueue(p: Pending): Promise<void> {
    const done = new Promise<void>((resolve, reject) => p.waiters.push({ resolve, reject }));
    this.kick();
    return done;
  }

  private onEverysec(): void {
    if (this.failed || this.closed || !this.dirty) return;
    if (performance.now() - this.lastSyncAt < this.o.everysecIntervalMs) return;
    this.syncRequested = true;
    this.kick();
  }

  private kick(): void {
    if (this.writing || this.failed || (this.closed && this.pending.waiters.length === 0)) return;
    const p = this.pending;
    if (p.waiters.length === 0 && p.ops.length === 0 && !this.syncRequested && this.garbage.length === 0) return;
    // Build the batch now, synchronously: the state record must describe exactly the
    // entries written so far (later persist() calls go to the next batch).
    this.pending = newPending();
    this.takeGarbage(p.ops);
    p.ops.push({ type: 'put', key: STATE_KEY, value: encodeState(this.st) });
    const sync =
      p.forceSync ||
      (this.policy === 'always' && p.wantSync) ||
      (this.policy === 'everysec' && (this.syncRequested || performance.now() - this.lastSyncAt >= this.o.everysecIntervalMs));
    this.syncRequested = false;
    this.writing = true;
    void this.writeBatch(p, sync);
  }

  private async writeBatch(p: Pending, sync: boolean): Promise<void> {
    const t0 = performance.now();
    try {
      if (p.barriers.length > 0) await Promise.all(p.barriers);
      await this.kv.write(p.ops, sync);
    } catch (e) {
      this.fail(e as Error, p);
      return;
    }
    const ms = performance.now() - t0;
    const s = this.stats;
    s.batches++;
    s.entriesWritten += p.entries;
    s.bytesWritten += p.bytes;
    if (sync) {
      s.syncs++;
      s.syncMsTotal += ms;
      this.lastSyncAt = performance.now();
      this.dirty = false;
    } else {
      this.dirty = true;
    }
    // Every entry not in the next batch is now in LevelDB: the cache may let it go.
    this.evict(this.pending.minEntryIndex - 1);
    this.writing = false;
    for (const w of p.waiters) w.resolve();
    for (const a of p.after) a();
    this.o.onBatch?.({ ops: p.ops.length, entries: p.entries, bytes: p.bytes, requests: p.waiters.length, synced: sync, durationMs: ms });
    if (this.pending.waiters.length > 0) this.kick();
    else if (this.garbage.length > 0 || this.syncRequested) setImmediate(() => this.kick()); // background work yields first
  }

  private fail(e: Error, p: Pending): void {
    this.failed = e;
    this.writing = false;
    const err = new WalFailedError(`writing the log in ${this.dir} failed: ${e.message}`, e);
    for (const w of p.waiters) w.reject(err);
    for (const w of this.pending.waiters) w.reject(err);
    this.pending = newPending();
    this.log(`wal: ${err.message}; the node must stop`);
  }

  // ---- snapshots and compaction ----

  /**
   * Writes a snapshot of the state machine at applied index `index` from the engine's
   * chunks (streamed to the file, never held whole), makes it the current one, prunes old
   * files and compacts the log (see compactBehind). Resolves with its metadata.
   */
  async createSnapshot(index: number, confState: ConfState, chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>, context?: string): Promise<SnapshotMetadata> {
    this.checkUsable();
    walAssert(!this.snapshotting, 'createSnapshot while another is being written');
    const cur = this.current?.index ?? 0;
    if (index <= cur) throw new RaftError('SnapOutOfDate', `snapshot ${index} not newer than ${cur}`);
    assert(index <= this.st.lastIndex, () => `snapshot ${index} beyond last index ${this.st.lastIndex}`);
    const meta = withContext({ index, term: this.term(index), confState }, context);
    this.snapshotting = true;
    try {
      const f = await writeSnapshotFile(this.snapDir, meta, chunks, this.o.snapshotBlockBytes);
      this.checkUsable();
      this.files.set(`${index}/${meta.term}`, f);
      if (index > (this.current?.index ?? 0)) {
        this.current = meta;
        this.st.snapIndex = index;
        this.st.snapTerm = meta.term;
      }
      await this.flush(); // the state record now names it
      const kept = await this.prune();
      // compactBehind: the log reaches back to the oldest retained snapshot (to index 0
      // while fewer than retainSnapshots exist), so each of them can be loaded with it.
      const compactTo = !this.o.compactBehind ? index : kept.length >= this.o.retainSnapshots ? Math.min(...kept) : 0;
      if (compactTo > this.st.truncIndex) await this.compact(compactTo);
      return meta;
    } finally {
      this.snapshotting = false;
    }
  }

  /**
   * Prepares to receive a snapshot from the leader (chunks from the transport). After
   * finish(), step raft's MsgSnap (its data may be empty); the Ready that follows carries
   * the snapshot, and persist() installs this file.
   */
  async receiveSnapshot(metadata: SnapshotMetadata): Promise<{ write(chunk: Uint8Array): Promise<void>; finish(): Promise<void>; abort(): Promise<void> }> {
    this.checkUsable();
    const w = await SnapshotWriter.create(this.snapDir, metadata, this.o.snapshotBlockBytes);
    return {
      write: (c) => w.write(c),
      finish: async () => {
        const f = await w.finish();
        this.files.set(`${f.index}/${f.term}`, f);
      },
      abort: () => w.abort(),
    };
  }

  /**
   * Opens the current snapshot (or the one with `index`) for reading: its metadata and a
   * verified stream of payload chunks, to restore the engine or to send to a follower.
   */
  async openSnapshot(index?: number): Promise<SnapshotReader> {
    const want = index ?? this.current?.index;
    if (want === undefined || want === 0) throw new RaftError('SnapshotTemporarilyUnavailable', 'no snapshot');
    const f = [...this.files.values()].filter((x) => x.index === want).sort((a, b) => b.term - a.term)[0];
    if (!f) throw new RaftError('SnapshotTemporarilyUnavailable', `no snapshot file at index ${want}`);
    return SnapshotReader.open(f.path, this.dir);
  }

  /**
   * Discards the log up to and including `index` (which a durable snapshot must cover).
   * The new bounds are synced first; the entries are then deleted a bounded number per
   * batch, in the background.
   */
  compact(index: number): Promise<void> {
    this.checkUsable();
    if (index <= this.st.truncIndex) throw new RaftError('Compacted', `compact(${index}) at or below ${this.st.truncIndex}`);
    assert(index <= this.st.lastIndex, () => `compact ${index} beyond last index ${this.st.lastIndex}`);
    walAssert(index <= (this.current?.index ?? 0), () => `compact ${index} beyond the current snapshot ${this.current?.index ?? 0}`);
    const term = this.term(index);
    const oldFirst = this.st.truncIndex + 1;
    this.st.truncIndex = index;
    this.st.truncTerm = term;
    this.cacheDropThrough(index);
    const p = this.pending;
    p.forceSync = true;
    p.after.push(() => this.addGarbage(oldFirst, index));
    return this.enqueue(p);
  }

  /** Keeps the newest `retainSnapshots` files at or below the current snapshot; returns their indexes. */
  private async prune(): Promise<number[]> {
    const cur = this.current?.index ?? 0;
    const { files } = await listSnapshotFiles(this.snapDir);
    const installed = files.filter((f) => f.index <= cur);
    const keep = installed.slice(0, this.o.retainSnapshots);
    for (const f of installed.slice(this.o.retainSnapshots)) {
      await fs.rm(f.path, { force: true });
      this.files.delete(`${f.index}/${f.term}`);
    }
    return keep.length > 0 ? keep.map((f) => f.index) : [cur];
  }

  // ---- life cycle ----

  /** Writes and syncs everything pending, then closes. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (!this.failed) await this.flush().catch(() => undefined);
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    while (this.writing) await new Promise((r) => setTimeout(r, 1));
    await this.kv.close();
  }

  /**
   * Stops without writing anything more (tests: the process "dies" here). Pending
   * persist() calls never resolve; the store is not closed (the crash simulator does that).
   */
  abandon(): void {
    this.closed = true;
    this.failed = new Error('abandoned');
    if (this.timer) clearInterval(this.timer);
  }
}

/**
 * What a cached entry costs in memory: its payload plus the Entry object and its typed-array
 * view (about 160 bytes in V8 without pointer compression). Counting only the payload let a
 * 64 MiB cache of small entries (a SET is ~60 bytes) hold ~880k entries, ~220 MB in truth.
 */
const ENTRY_OVERHEAD_BYTES = 160;

function cacheCostBytes(e: Entry): number {
  return e.data.byteLength + ENTRY_OVERHEAD_BYTES;
}

/** The metadata with the application's membership context (SnapshotMetadata.context), if any. */
function withContext(meta: SnapshotMetadata, context: string | undefined): SnapshotMetadata {
  if (context !== undefined) meta.context = context;
  return meta;
}
