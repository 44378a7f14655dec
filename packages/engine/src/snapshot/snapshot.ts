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

import { Dict, DictLayout, hashString } from '../dict';
import { Db, SnapshotObserver, TypedValue, Value } from '../keyspace';
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
}

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

/** One database's progress through a job. */
class DbProgress {
  cursor = 0;
  /** Set when FLUSHDB replaced the tables mid-job: the job reads the old ones. */
  frozen: { dict: Dict<Value>; expires: Map<string, number> } | null = null;
  readonly preimages = new Map<string, Preimage>();
  headerWritten = false;

  constructor(
    readonly db: Db,
    readonly layout: DictLayout,
  ) {}

  get done(): boolean {
    return this.cursor >= this.layout.keys.length;
  }

  /** Where a key of this layout is iterated: a table-and-bucket rank, comparable across keys. */
  rank(key: string): number {
    const l = this.layout;
    const h = hashString(key);
    const b0 = h & (l.t0Size - 1);
    if (l.t1Size === 0 || b0 >= l.rehashIdx) return b0;
    return l.t0Size + (h & (l.t1Size - 1));
  }
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
  private readonly w = new RecordWriter();
  private dbIndex = 0;
  private phase: 'header' | 'dbs' | 'end' | 'done' = 'header';
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
    this.progress = engine.dbs.map((db) => new DbProgress(db, db.dict.captureLayout()));
    this.modlogState = engine.modlog.exportState();
    for (const db of engine.dbs) db.observer = this;
    this.stats.captureMs = performance.now() - t0;
  }

  beforeWrite(db: Db, key: string): void {
    const p = this.progress[db.index]!;
    if (p.frozen !== null || p.done || p.preimages.has(key)) return;
    // Keys in buckets the job has passed are written already; new keys are not in the layout.
    if (p.rank(key) < p.rank(p.layout.keys[p.cursor]!)) return;
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
        this.phase = 'dbs';
      } else if (this.phase === 'dbs') {
        const p = this.progress[this.dbIndex];
        if (p === undefined) {
          this.phase = 'end';
          continue;
        }
        if (!p.headerWritten) {
          this.w.u8(Rec.Db);
          this.w.varint(p.db.index);
          this.w.varint(p.layout.t0Size);
          this.w.varint(p.layout.t1Size);
          this.w.svarint(p.layout.rehashIdx);
          this.w.varint(p.layout.keys.length);
          emit();
          p.headerWritten = true;
        }
        while (!p.done && bytes < this.chunkBytes) {
          this.writeKey(p, p.layout.keys[p.cursor]!);
          p.cursor++;
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
    w.varint(m.entries.length);
    for (const e of m.entries) {
      w.u8(e.db);
      w.str(e.key);
      w.varint(e.seq);
    }
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
      if (v === undefined) throw new Error(`snapshot: key of the layout vanished without a preimage (db ${p.db.index})`);
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
        const entries: Array<{ db: number; key: string; seq: number }> = [];
        for (let i = 0; i < n; i++) entries.push({ db: r.u8(), key: r.str(), seq: r.varint() });
        this.engine.modlog.importState({ seq, forgottenSeq, flushSeq, entries });
        return;
      }
      case Rec.Db: {
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
