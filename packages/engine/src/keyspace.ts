// The keyspace: 16 databases of keys with optional expiry, and the modification log that
// WATCH is checked against.
//
// Expiry is logical: a key whose time has passed is invisible to every reader at once, on
// every replica, but it is removed only by a write (a command that touches it, or the
// leader's active-expiry deletion) so that removal goes through the log.

import { Dict } from './dict';

/** A value of any type. Strings are binary strings (one char per byte); other types are objects. */
export type Value = string | TypedValue;

/** Every non-string value implements this, one class per type (types/*.ts). */
export interface TypedValue {
  /** The name TYPE replies with: "list", "hash", "set", "zset". */
  readonly type: string;
  /** The name OBJECT ENCODING replies with, given the configured thresholds. */
  encoding(config: EncodingConfig): string;
  /** A deep copy (for COPY). */
  clone(): TypedValue;
}

export interface EncodingConfig {
  hashMaxListpackEntries: number;
  hashMaxListpackValue: number;
  setMaxIntsetEntries: number;
  setMaxListpackEntries: number;
  setMaxListpackValue: number;
  zsetMaxListpackEntries: number;
  zsetMaxListpackValue: number;
  listMaxListpackSize: number;
}

export function typeName(v: Value): string {
  return typeof v === 'string' ? 'string' : v.type;
}

/**
 * Told before a key changes (a snapshot in progress keeps the key's old value: copy-on-write).
 * Every change to a database goes through the Db methods below, so none escapes it.
 */
export interface SnapshotObserver {
  beforeWrite(db: Db, key: string): void;
  /** Before FLUSHDB/FLUSHALL replaces the tables: the observer may keep the old ones. */
  beforeClear(db: Db): void;
}

export class Db {
  dict = new Dict<Value>();
  /** Absolute expiry times in ms since the epoch, only for keys that have one. */
  expires = new Map<string, number>();
  observer: SnapshotObserver | null = null;

  /** Keys this database deleted because a write found them expired (INFO's expired_keys). */
  expiredOnWrite = 0;

  constructor(readonly index: number) {}

  get size(): number {
    return this.dict.size;
  }

  /** True if the key exists but its time has passed: it is logically absent. */
  isExpired(key: string, nowMs: number): boolean {
    if (this.expires.size === 0) return false;
    const at = this.expires.get(key);
    return at !== undefined && at <= nowMs;
  }

  /** A reader's view: the value, or undefined if absent or expired. Never modifies anything. */
  get(key: string, nowMs: number): Value | undefined {
    const v = this.dict.get(key);
    if (v === undefined) return undefined;
    if (this.expires.size !== 0 && this.isExpired(key, nowMs)) return undefined;
    return v;
  }

  /**
   * A writer's view: like get, but an expired key is deleted first, as Redis's expireIfNeeded
   * does. Only call this from the apply path (a write whose time is the entry's time).
   */
  getForWrite(key: string, nowMs: number): Value | undefined {
    if (this.observer !== null) this.observer.beforeWrite(this, key);
    const v = this.dict.get(key);
    if (v === undefined) return undefined;
    if (this.expires.size !== 0 && this.isExpired(key, nowMs)) {
      this.dict.delete(key);
      this.expires.delete(key);
      this.expiredOnWrite++;
      return undefined;
    }
    return v;
  }

  /** Sets a value, keeping or clearing the key's expiry. */
  set(key: string, value: Value, keepTtl = false): void {
    if (this.observer !== null) this.observer.beforeWrite(this, key);
    this.dict.set(key, value);
    if (!keepTtl && this.expires.size !== 0) this.expires.delete(key);
  }

  delete(key: string): boolean {
    if (this.observer !== null) this.observer.beforeWrite(this, key);
    if (!this.dict.delete(key)) return false;
    if (this.expires.size !== 0) this.expires.delete(key);
    return true;
  }

  expireAt(key: string): number | undefined {
    return this.expires.size === 0 ? undefined : this.expires.get(key);
  }

  setExpire(key: string, atMs: number): void {
    if (this.observer !== null) this.observer.beforeWrite(this, key);
    this.expires.set(key, atMs);
  }

  persist(key: string): boolean {
    if (this.observer !== null) this.observer.beforeWrite(this, key);
    return this.expires.delete(key);
  }

  /** Empties the database: new tables, so a snapshot in progress can keep reading the old ones. */
  clear(): void {
    if (this.observer !== null) this.observer.beforeClear(this);
    this.dict = new Dict<Value>();
    this.expires = new Map<string, number>();
  }

  /** Installs restored tables (snapshot loading). */
  restore(dict: Dict<Value>, expires: Map<string, number>): void {
    this.dict = dict;
    this.expires = expires;
  }
}

/** ModificationLog's state, for snapshots: the remembered modifications, oldest first. */
export interface ModLogState {
  seq: number;
  forgottenSeq: number;
  flushSeq: number[];
  keys: string[];
  dbs: Uint8Array;
  seqs: Float64Array;
}

/** How many recent key modifications WATCH can tell apart; older watches fail conservatively. */
const MODLOG_KEYS_MAX = 262144;

/**
 * Which keys changed since a given point, for WATCH. Every replica keeps it from the log alone,
 * so an EXEC entry carrying its watch tokens gets the same verdict everywhere. It remembers
 * the last MODLOG_KEYS_MAX modifications; a watch older than what it remembers is treated as
 * broken (EXEC returns null), which is safe: the client retries, as after any conflict.
 *
 * Per write it costs one Map.set and one ring slot: the ring holds the modifications in order,
 * and the oldest leaves the map when the ring wraps (unless the key was modified again since).
 */
export class ModificationLog {
  /** Advances once per applied write command; a watch token records it. */
  seq = 1;
  private readonly lastMod: Array<Map<string, number>> = [];
  private readonly ringKeys: string[] = new Array<string>(MODLOG_KEYS_MAX).fill('');
  private readonly ringDbs = new Uint8Array(MODLOG_KEYS_MAX);
  private readonly ringSeqs = new Float64Array(MODLOG_KEYS_MAX);
  private ringNext = 0;
  private ringFull = false;
  /** Modifications at or below this sequence were forgotten. */
  private forgottenSeq = 0;
  private readonly flushSeq: number[];

  constructor(databases: number) {
    this.flushSeq = new Array<number>(databases).fill(0);
    for (let i = 0; i < databases; i++) this.lastMod.push(new Map());
  }

  touch(db: number, key: string): void {
    const i = this.ringNext;
    if (this.ringFull) {
      const oldDb = this.ringDbs[i]!;
      const oldKey = this.ringKeys[i]!;
      const oldSeq = this.ringSeqs[i]!;
      const m = this.lastMod[oldDb]!;
      if (m.get(oldKey) === oldSeq) m.delete(oldKey);
      if (oldSeq > this.forgottenSeq) this.forgottenSeq = oldSeq;
    }
    this.lastMod[db]!.set(key, this.seq);
    this.ringKeys[i] = key;
    this.ringDbs[i] = db;
    this.ringSeqs[i] = this.seq;
    this.ringNext = i + 1 === MODLOG_KEYS_MAX ? 0 : i + 1;
    if (this.ringNext === 0) this.ringFull = true;
  }

  flushed(db: number): void {
    this.flushSeq[db] = this.seq;
  }

  /**
   * The whole state, for a snapshot: the remembered modifications oldest first, as parallel
   * arrays (copied in a few milliseconds, without an object an entry).
   */
  exportState(): ModLogState {
    const n = this.ringFull ? MODLOG_KEYS_MAX : this.ringNext;
    const start = this.ringFull ? this.ringNext : 0;
    const keys = start === 0 ? this.ringKeys.slice(0, n) : this.ringKeys.slice(start).concat(this.ringKeys.slice(0, start));
    const dbs = new Uint8Array(n);
    const seqs = new Float64Array(n);
    if (start === 0) {
      dbs.set(this.ringDbs.subarray(0, n));
      seqs.set(this.ringSeqs.subarray(0, n));
    } else {
      dbs.set(this.ringDbs.subarray(start));
      dbs.set(this.ringDbs.subarray(0, start), MODLOG_KEYS_MAX - start);
      seqs.set(this.ringSeqs.subarray(start));
      seqs.set(this.ringSeqs.subarray(0, start), MODLOG_KEYS_MAX - start);
    }
    return { seq: this.seq, forgottenSeq: this.forgottenSeq, flushSeq: this.flushSeq.slice(), keys, dbs, seqs };
  }

  /** Replaces the state with an exported one: the same verdicts follow. */
  importState(st: ModLogState): void {
    for (const m of this.lastMod) m.clear();
    this.ringNext = 0;
    this.ringFull = false;
    this.forgottenSeq = 0;
    for (let i = 0; i < st.keys.length; i++) {
      this.seq = st.seqs[i]!;
      this.touch(st.dbs[i]!, st.keys[i]!);
    }
    this.seq = st.seq;
    this.forgottenSeq = st.forgottenSeq;
    for (let i = 0; i < this.flushSeq.length; i++) this.flushSeq[i] = st.flushSeq[i] ?? 0;
  }

  /** True if the key may have changed after `since`. */
  changedSince(db: number, key: string, since: number, existedAtWatch: boolean): boolean {
    if (this.forgottenSeq > since) return true;
    const m = this.lastMod[db]!.get(key);
    if (m !== undefined && m > since) return true;
    return existedAtWatch && this.flushSeq[db]! > since;
  }
}
