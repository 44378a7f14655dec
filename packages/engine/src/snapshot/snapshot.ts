// Snapshots of the engine's whole state, taken without stopping it.
//
// A SnapshotJob captures, at one instant between two applied ops, the shape and key order of
// every database (synchronously: one walk over the tables) and the WATCH modification log.
// It then serialises the keys in bounded slices while the engine goes on applying writes.
// Copy-on-write keeps the slices consistent: before a write touches a key the job has not yet
// written, the Db calls beforeWrite and the job keeps the key's value as it was (strings are
// immutable, so keeping one costs nothing; a collection is cloned). FLUSHDB during a job hands
// the old tables to the job, which reads them frozen.
//
// Restoring gives an engine indistinguishable from the one that was snapshotted: the same
// values and expiry times, the same table layout (so SCAN, KEYS, HGETALL and random draws
// iterate identically), and the same modification log (so a pending EXEC gets the same WATCH
// verdict on a restored replica as on one that replayed the log).

import { ChainObserver, Dict, DictEntry, DictLayout, DictView, hashString } from '../dict';
import { Db, ModLogState, SnapshotObserver, TypedValue, Value } from '../keyspace';
import type { Engine } from '../engine';
import { RecordReader, RecordSplitter, RecordWriter } from './codec';

const MAGIC = 'KEEL-ENGINE-SNAPSHOT';
const VERSION = 1;

const enum Rec {
  Header = 1,
  ModLog = 2,
  Db = 3,
  Key = 4,
  End = 5,
  ModLogEntries = 6,
}

/** Modification-log entries a record (the log is written over several slices). */
const MODLOG_ENTRIES_PER_RECORD = 4096;

const TAG_STRING = 0;

/** How a collection type writes itself into a snapshot and reads itself back. */
export interface TypeCodec {
  /** The TypedValue.type it handles. */
  type: string;
  /** A byte that names the type in snapshots; never reused. */
  tag: number;
  write(w: RecordWriter, v: TypedValue): void;
  read(r: RecordReader, engine: Engine): TypedValue;
}

const codecsByType = new Map<string, TypeCodec>();
const codecsByTag = new Map<number, TypeCodec>();

export function registerTypeCodec(codec: TypeCodec): void {
  if (codec.tag === TAG_STRING || codecsByTag.has(codec.tag)) throw new Error(`snapshot tag ${codec.tag} taken`);
  codecsByType.set(codec.type, codec);
  codecsByTag.set(codec.tag, codec);
}

function writeValue(w: RecordWriter, v: Value): void {
  if (typeof v === 'string') {
    w.u8(TAG_STRING);
    w.str(v);
    return;
  }
  const codec = codecsByType.get(v.type);
  if (codec === undefined) throw new Error(`no snapshot codec for type ${v.type}`);
  w.u8(codec.tag);
  codec.write(w, v);
}

function readValue(r: RecordReader, engine: Engine): Value {
  const tag = r.u8();
  if (tag === TAG_STRING) return r.str();
  const codec = codecsByTag.get(tag);
  if (codec === undefined) throw new Error(`snapshot has a value of unknown type tag ${tag}`);
  return codec.read(r, engine);
}

/** Writes a nested table (a big hash or set) with its layout, so it restores identically. */
export function writeDict<V>(w: RecordWriter, d: Dict<V>, writeItem: (w: RecordWriter, key: string, value: V) => void): void {
  const layout = d.captureLayout();
  w.varint(layout.t0Size);
  w.varint(layout.t1Size);
  w.svarint(layout.rehashIdx);
  w.varint(layout.keys.length);
  for (const key of layout.keys) writeItem(w, key, d.get(key) as V);
}

export function readDict<V>(r: RecordReader, readItem: (r: RecordReader) => [string, V]): Dict<V> {
  const t0Size = r.varint();
  const t1Size = r.varint();
  const rehashIdx = r.svarint();
  const n = r.varint();
  const keys: string[] = new Array<string>(n);
  const values: V[] = new Array<V>(n);
  for (let i = 0; i < n; i++) [keys[i], values[i]] = readItem(r);
  return Dict.restore({ t0Size, t1Size, rehashIdx }, keys, values);
}

interface Preimage {
  value: Value;
  expireAt: number | undefined;
}

/**
 * One database's progress through a job. The job walks the live tables bucket by bucket; the
 * tables cannot resize while it does (rehashing is paused), and before a write changes the
 * chain of a bucket not yet walked, the Dict tells the job, which saves the chain's keys as
 * they were. So the walk sees every bucket as it was when the job began, without copying the
 * whole key order up front.
 */
class DbProgress implements ChainObserver {
  /** Set when FLUSHDB replaced the tables mid-job: the job reads the old ones. */
  frozen: { dict: Dict<Value>; expires: Map<string, number> } | null = null;
  readonly preimages = new Map<string, Preimage>();
  headerWritten = false;
  readonly dict: Dict<Value>;
  readonly view: DictView<Value>;
  /** Keys of chains saved before a write changed them, by bucket rank. */
  private readonly saved = new Map<number, string[]>();
  /** The bucket being walked: its rank (t0 buckets, then t1's), its keys, the next one. */
  private rank = -1;
  private chain: string[] = [];
  private chainPos = 0;
  private finished = false;

  constructor(readonly db: Db) {
    this.dict = db.dict;
    this.view = db.dict.view();
    this.dict.rehashPaused = true;
    this.dict.observer = this;
  }

  get t0Size(): number {
    return this.view.t0.length;
  }

  get t1Size(): number {
    return this.view.t1 === null ? 0 : this.view.t1.length;
  }

  get done(): boolean {
    return this.finished;
  }

  /** Where a key of these tables is walked: its bucket's rank. */
  rankOf(key: string): number {
    const h = hashString(key);
    const b0 = h & (this.t0Size - 1);
    if (this.view.t1 === null || b0 >= this.view.rehashIdx) return b0;
    return this.t0Size + (h & (this.t1Size - 1));
  }

  /** The rank of the bucket being walked (keys of lower ranks are written). */
  get cursorRank(): number {
    return this.rank;
  }

  beforeChainChange(table: readonly (DictEntry<unknown> | null)[], bucket: number): void {
    const rank = table === this.view.t0 ? bucket : table === this.view.t1 ? this.t0Size + bucket : -1;
    if (rank < 0 || rank <= this.rank || this.saved.has(rank)) return;
    this.saved.set(rank, chainKeys(table[bucket] ?? null));
  }

  /** The next key of the walk, or null at its end. */
  nextKey(): string | null {
    while (this.chainPos >= this.chain.length) {
      this.rank++;
      const total = this.t0Size + this.t1Size;
      if (this.rank >= total) {
        this.finish();
        return null;
      }
      const saved = this.saved.get(this.rank);
      if (saved !== undefined) {
        this.saved.delete(this.rank);
        this.chain = saved;
      } else {
        const table = this.rank < this.t0Size ? this.view.t0 : this.view.t1!;
        const bucket = this.rank < this.t0Size ? this.rank : this.rank - this.t0Size;
        this.chain = chainKeys(table[bucket] ?? null);
      }
      this.chainPos = 0;
    }
    return this.chain[this.chainPos++]!;
  }

  finish(): void {
    this.finished = true;
    if (this.dict.observer === this) this.dict.observer = null;
    this.dict.rehashPaused = false;
  }
}

function chainKeys(e: DictEntry<unknown> | null): string[] {
  const keys: string[] = [];
  for (; e !== null; e = e.next) keys.push(e.key);
  return keys;
}

export interface SnapshotJobStats {
  keys: number;
  bytes: number;
  preimages: number;
  captureMs: number;
}

/**
 * A snapshot in progress. Create it between two applied ops, then call next() until it returns
 * null, each call producing about `chunkBytes` of output; the engine may apply writes between
 * calls. Only one job runs at a time.
 */
export class SnapshotJob implements SnapshotObserver {
  private readonly progress: DbProgress[];
  /** Keys of each database when the job began: what it writes. */
  private readonly counts: number[];
  private readonly w = new RecordWriter();
  private dbIndex = 0;
  private phase: 'header' | 'modlog' | 'dbs' | 'end' | 'done' = 'header';
  private modlogPos = 0;
  private readonly modlogState: ReturnType<Engine['modlog']['exportState']>;
  readonly stats: SnapshotJobStats = { keys: 0, bytes: 0, preimages: 0, captureMs: 0 };

  constructor(
    private readonly engine: Engine,
    private readonly chunkBytes = 64 * 1024,
  ) {
    const t0 = performance.now();
    for (const db of engine.dbs) {
      if (db.observer !== null) throw new Error('a snapshot is already in progress');
    }
    this.progress = engine.dbs.map((db) => new DbProgress(db));
    this.counts = engine.dbs.map((db) => db.dict.size);
    this.modlogState = engine.modlog.exportState();
    for (const db of engine.dbs) db.observer = this;
    this.stats.captureMs = performance.now() - t0;
  }

  beforeWrite(db: Db, key: string): void {
    const p = this.progress[db.index]!;
    if (p.frozen !== null || p.done || p.preimages.has(key)) return;
    // Keys in buckets the job has passed are written already; new keys are not in the walk.
    if (p.rankOf(key) < p.cursorRank) return;
    const value = db.dict.get(key);
    if (value === undefined) return; // not in the layout: a key this job will never look at
    p.preimages.set(key, { value: typeof value === 'string' ? value : value.clone(), expireAt: db.expires.get(key) });
    this.stats.preimages++;
  }

  beforeClear(db: Db): void {
    const p = this.progress[db.index]!;
    if (p.frozen === null && !p.done) p.frozen = { dict: db.dict, expires: db.expires };
  }

  /** The next chunk of the snapshot, or null when it is complete (the job is then detached). */
  next(): Buffer | null {
    if (this.phase === 'done') return null;
    const records: Buffer[] = [];
    let bytes = 0;
    const emit = () => {
      const r = this.w.takeRecord();
      records.push(r);
      bytes += r.length;
    };
    while (bytes < this.chunkBytes && !this.isDone()) {
      if (this.phase === 'header') {
        this.writeHeader(emit);
        this.phase = 'modlog';
      } else if (this.phase === 'modlog') {
        const m = this.modlogState;
        const end = Math.min(m.keys.length, this.modlogPos + MODLOG_ENTRIES_PER_RECORD);
        if (this.modlogPos < end) {
          this.w.u8(Rec.ModLogEntries);
          this.w.varint(end - this.modlogPos);
          for (let i = this.modlogPos; i < end; i++) {
            this.w.u8(m.dbs[i]!);
            this.w.str(m.keys[i]!);
            this.w.varint(m.seqs[i]!);
          }
          emit();
          this.modlogPos = end;
        }
        if (this.modlogPos >= m.keys.length) this.phase = 'dbs';
      } else if (this.phase === 'dbs') {
        const p = this.progress[this.dbIndex];
        if (p === undefined) {
          this.phase = 'end';
          continue;
        }
        if (!p.headerWritten) {
          this.w.u8(Rec.Db);
          this.w.varint(p.db.index);
          this.w.varint(p.t0Size);
          this.w.varint(p.t1Size);
          this.w.svarint(p.view.rehashIdx);
          this.w.varint(this.counts[this.dbIndex]!);
          emit();
          p.headerWritten = true;
        }
        while (bytes < this.chunkBytes) {
          const key = p.nextKey();
          if (key === null) break;
          this.writeKey(p, key);
          emit();
        }
        if (p.done) this.dbIndex++;
      } else {
        this.w.u8(Rec.End);
        this.w.varint(this.stats.keys);
        emit();
        this.finish();
      }
    }
    const out = Buffer.concat(records, bytes);
    this.stats.bytes += out.length;
    return out;
  }

  isDone(): boolean {
    return this.phase === 'done';
  }

  /** Stops the job and detaches it from the engine. */
  abort(): void {
    this.finish();
  }

  private finish(): void {
    this.phase = 'done';
    for (const db of this.engine.dbs) if (db.observer === this) db.observer = null;
    for (const p of this.progress) p.finish();
  }

  private writeHeader(emit: () => void): void {
    const w = this.w;
    w.u8(Rec.Header);
    w.str(MAGIC);
    w.varint(VERSION);
    w.varint(this.engine.dbs.length);
    emit();
    const m = this.modlogState;
    w.u8(Rec.ModLog);
    w.varint(m.seq);
    w.varint(m.forgottenSeq);
    for (const f of m.flushSeq) w.varint(f);
    w.varint(m.keys.length);
    emit();
  }

  private writeKey(p: DbProgress, key: string): void {
    let value: Value;
    let expireAt: number | undefined;
    const pre = p.preimages.get(key);
    if (pre !== undefined) {
      value = pre.value;
      expireAt = pre.expireAt;
      p.preimages.delete(key);
    } else {
      const dict = p.frozen?.dict ?? p.db.dict;
      const expires = p.frozen?.expires ?? p.db.expires;
      const v = dict.get(key);
      if (v === undefined) throw new Error(`snapshot: a key of the walk vanished without a preimage (db ${p.db.index})`);
      value = v;
      expireAt = expires.get(key);
    }
    const w = this.w;
    w.u8(Rec.Key);
    w.str(key);
    if (expireAt === undefined) w.u8(0);
    else {
      w.u8(1);
      w.double(expireAt);
    }
    writeValue(w, value);
    this.stats.keys++;
  }
}

/** Takes a whole snapshot at once (tests, small states). */
export function snapshotToBuffer(engine: Engine): Buffer {
  const job = new SnapshotJob(engine);
  const parts: Buffer[] = [];
  for (let c = job.next(); c !== null; c = job.next()) parts.push(c);
  return Buffer.concat(parts);
}

/**
 * Restores a snapshot into an engine, replacing its whole state. Feed chunks with push() in
 * order, then call finish(); a snapshot that is incomplete or malformed throws.
 */
export class SnapshotLoader {
  private readonly splitter = new RecordSplitter();
  private seenHeader = false;
  private ended = false;
  private current: { index: number; layout: Omit<DictLayout, 'keys'>; count: number; keys: string[]; values: Value[]; expires: Map<string, number> } | null = null;
  private readonly restoredDbs = new Set<number>();
  private modlog: ModLogState | null = null;
  private modlogFilled = 0;
  private keys = 0;

  constructor(private readonly engine: Engine) {}

  push(chunk: Uint8Array): void {
    for (const body of this.splitter.push(chunk)) this.record(new RecordReader(body));
  }

  finish(): void {
    if (this.splitter.pendingBytes !== 0) throw new Error('snapshot ends inside a record');
    if (!this.ended) throw new Error('snapshot has no end record: it is incomplete');
  }

  private record(r: RecordReader): void {
    if (this.ended) throw new Error('snapshot has records after its end');
    const kind = r.u8();
    if (!this.seenHeader && kind !== Rec.Header) throw new Error('snapshot does not start with its header');
    switch (kind) {
      case Rec.Header: {
        if (r.str() !== MAGIC) throw new Error('not a Keel engine snapshot');
        const version = r.varint();
        if (version !== VERSION) throw new Error(`snapshot version ${version} is not supported (this Keel reads ${VERSION})`);
        const dbs = r.varint();
        if (dbs !== this.engine.dbs.length) throw new Error(`snapshot has ${dbs} databases, this engine ${this.engine.dbs.length}`);
        this.seenHeader = true;
        for (const db of this.engine.dbs) db.clear();
        return;
      }
      case Rec.ModLog: {
        const seq = r.varint();
        const forgottenSeq = r.varint();
        const flushSeq = this.engine.dbs.map(() => r.varint());
        const n = r.varint();
        this.modlog = { seq, forgottenSeq, flushSeq, keys: new Array<string>(n), dbs: new Uint8Array(n), seqs: new Float64Array(n) };
        this.modlogFilled = 0;
        this.maybeImportModlog();
        return;
      }
      case Rec.ModLogEntries: {
        const m = this.modlog;
        if (m === null) throw new Error('snapshot has modification-log entries before their header');
        const n = r.varint();
        if (this.modlogFilled + n > m.keys.length) throw new Error('snapshot has more modification-log entries than it promised');
        for (let i = 0; i < n; i++, this.modlogFilled++) {
          m.dbs[this.modlogFilled] = r.u8();
          m.keys[this.modlogFilled] = r.str();
          m.seqs[this.modlogFilled] = r.varint();
        }
        this.maybeImportModlog();
        return;
      }
      case Rec.Db: {
        if (this.modlog !== null) throw new Error('snapshot has a database before its modification log is complete');
        this.closeDb();
        const index = r.varint();
        const layout = { t0Size: r.varint(), t1Size: r.varint(), rehashIdx: r.svarint() };
        const count = r.varint();
        if (this.engine.dbs[index] === undefined || this.restoredDbs.has(index)) throw new Error(`snapshot has a bad database index ${index}`);
        this.current = { index, layout, count, keys: [], values: [], expires: new Map() };
        this.closeDbIfComplete();
        return;
      }
      case Rec.Key: {
        const cur = this.current;
        if (cur === null) throw new Error('snapshot has a key outside a database');
        const key = r.str();
        if (r.u8() === 1) cur.expires.set(key, r.double());
        cur.keys.push(key);
        cur.values.push(readValue(r, this.engine));
        this.keys++;
        this.closeDbIfComplete();
        return;
      }
      case Rec.End: {
        this.closeDb();
        const total = r.varint();
        if (total !== this.keys) throw new Error(`snapshot promised ${total} keys and held ${this.keys}`);
        this.ended = true;
        return;
      }
      default:
        throw new Error(`snapshot has an unknown record kind ${kind}`);
    }
  }

  /** Installs the modification log once all its entries have arrived. */
  private maybeImportModlog(): void {
    const m = this.modlog;
    if (m === null || this.modlogFilled < m.keys.length) return;
    this.engine.modlog.importState(m);
    this.modlog = null;
  }

  private closeDbIfComplete(): void {
    if (this.current !== null && this.current.keys.length === this.current.count) this.closeDb();
  }

  private closeDb(): void {
    const cur = this.current;
    if (cur === null) return;
    if (cur.keys.length !== cur.count) throw new Error(`snapshot database ${cur.index} promised ${cur.count} keys and held ${cur.keys.length}`);
    const db = this.engine.dbs[cur.index]!;
    db.restore(Dict.restore(cur.layout, cur.keys, cur.values), cur.expires);
    this.restoredDbs.add(cur.index);
    this.current = null;
  }
}

/** Restores a whole snapshot held in one buffer. */
export function restoreFromBuffer(engine: Engine, snapshot: Buffer): void {
  const loader = new SnapshotLoader(engine);
  loader.push(snapshot);
  loader.finish();
}
