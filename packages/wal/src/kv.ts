// The key-value layer under the log: LevelDB (classic-level) in production, and a shim that
// simulates a machine crash by dropping every write that was not synced (tests).

import { ClassicLevel } from 'classic-level';

export type KvOp = { type: 'put'; key: Buffer; value: Buffer } | { type: 'del'; key: Buffer };

export interface KvStore {
  /** Applies `ops` atomically, in order; with `sync`, durable (fsync'd) when it resolves. */
  write(ops: KvOp[], sync: boolean): Promise<void>;
  /** Reads one key synchronously (the cold path of raft's synchronous Storage reads). */
  getSync(key: Buffer): Buffer | undefined;
  /** Keys and values in [gte, lt), in key order, read `pageSize` at a time. */
  scan(gte: Buffer, lt: Buffer, pageSize?: number): AsyncIterable<[Buffer, Buffer]>;
  close(): Promise<void>;
}

/** classic-level's ChainedBatch, below abstract-level's checks. */
interface NativeBatch {
  _put(key: Buffer, value: Buffer): void;
  _del(key: Buffer): void;
  _write(options: { sync: boolean }): Promise<void>;
}

export class LevelKv implements KvStore {
  private constructor(readonly location: string, private readonly db: ClassicLevel<Buffer, Buffer>) {}

  static async open(location: string, opts: { createIfMissing?: boolean } = {}): Promise<LevelKv> {
    const db = new ClassicLevel<Buffer, Buffer>(location, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await db.open({ createIfMissing: opts.createIfMissing ?? true });
    return new LevelKv(location, db);
  }

  /**
   * One atomic batch, built through classic-level's native chained batch (one native call a
   * key) under abstract-level's wrappers. batch([...ops]) clones and checks every operation
   * in JS and then reads each one's fields through N-API, about 2-3 µs an operation here;
   * the chained batch's own _put/_del/_write cost about 1.1 µs, and on a busy node the
   * batch is the main thread's largest single cost. Keys and values are always Buffers and
   * the store is open while the node runs, so nothing the wrappers check applies.
   */
  write(ops: KvOp[], sync: boolean): Promise<void> {
    if (this.db.status !== 'open') return this.db.batch(ops, { sync });
    const b = (this.db as unknown as { _chainedBatch(): NativeBatch })._chainedBatch();
    // Its constructor registers it to be closed with the database; write() would unregister
    // it, _write() does not (the native batch itself is freed when collected).
    this.db.detachResource(b as unknown as Parameters<ClassicLevel['detachResource']>[0]);
    for (const op of ops) {
      if (op.type === 'put') b._put(op.key, op.value);
      else b._del(op.key);
    }
    return b._write({ sync });
  }

  getSync(key: Buffer): Buffer | undefined {
    return this.db.getSync(key);
  }

  async *scan(gte: Buffer, lt: Buffer, pageSize = 1000): AsyncIterable<[Buffer, Buffer]> {
    const it = this.db.iterator({ gte, lt });
    try {
      for (;;) {
        const page = await it.nextv(pageSize);
        if (page.length === 0) return;
        for (const kv of page) yield kv;
      }
    } finally {
      await it.close();
    }
  }

  close(): Promise<void> {
    return this.db.close();
  }
}

/**
 * A simulated machine crash (power loss, kernel panic) over a real store. Unsynced writes
 * stay in memory (visible to reads, as the OS page cache would make them) and reach the
 * inner store only when a later synced write flushes them, all in order. `crash()` drops
 * them: what is left on disk is exactly what was synced. This models the worst case the
 * fsync contract allows; a real OS may keep some unsynced data, never less than this.
 */
export class CrashSimKv implements KvStore {
  private unsynced: KvOp[][] = [];
  /** How many write() calls were synced / not synced (for tests). */
  syncedWrites = 0;
  unsyncedWrites = 0;
  private crashed = false;

  constructor(private readonly inner: KvStore) {}

  async write(ops: KvOp[], sync: boolean): Promise<void> {
    if (this.crashed) throw new Error('CrashSimKv: write after crash');
    if (!sync) {
      this.unsynced.push(ops);
      this.unsyncedWrites++;
      return;
    }
    const all = this.unsynced.flat().concat(ops);
    this.unsynced = [];
    this.syncedWrites++;
    await this.inner.write(all, true);
  }

  getSync(key: Buffer): Buffer | undefined {
    for (let b = this.unsynced.length - 1; b >= 0; b--) {
      const ops = this.unsynced[b];
      for (let i = ops.length - 1; i >= 0; i--) {
        if (ops[i].key.equals(key)) {
          const op = ops[i];
          return op.type === 'put' ? op.value : undefined;
        }
      }
    }
    return this.inner.getSync(key);
  }

  scan(gte: Buffer, lt: Buffer, pageSize?: number): AsyncIterable<[Buffer, Buffer]> {
    if (this.unsynced.length > 0) throw new Error('CrashSimKv: scan with unsynced writes is not simulated');
    return this.inner.scan(gte, lt, pageSize);
  }

  /** Number of unsynced operations a crash now would lose. */
  get unsyncedOps(): number {
    let n = 0;
    for (const b of this.unsynced) n += b.length;
    return n;
  }

  /** The machine dies: unsynced writes are lost; the store is closed. */
  async crash(): Promise<void> {
    this.crashed = true;
    this.unsynced = [];
    await this.inner.close();
  }

  async close(): Promise<void> {
    // A clean close: the OS writes its page cache back eventually.
    if (!this.crashed && this.unsynced.length > 0) await this.write([], true);
    this.crashed = true;
    await this.inner.close();
  }
}
