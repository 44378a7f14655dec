// The state machine. Everything here is deterministic: the time and the random seed of an
// execution come from its context (the log entry's), never from the machine.
//
// The server drives it through one interface:
//   reads:  execute(...)            with the read's time, never modifying anything
//   writes: apply(op, ...)          a command, an EXEC batch, or expiry deletions
// Single-node, apply runs as soon as a write is submitted; replicated, it runs when the
// op's log entry commits, on every replica, with the entry's time and seed.

import { ReplyWriter } from '@keel/resp';
import { registerCollectionCodecs } from './types/collections-snapshot';
import { BlockRequest, Call, ClientView, CommandSpec, CommandTable } from './command';
import { CommandError, errArity } from './errors';
import { Db, EncodingConfig, ModificationLog } from './keyspace';

export const DATABASES = 16;

export interface EngineConfig extends EncodingConfig {
  /** proto-max-bulk-len: the largest string value (and SETRANGE/APPEND result). */
  protoMaxBulkLen: number;
}

export const defaultEngineConfig: EngineConfig = {
  protoMaxBulkLen: 512 * 1024 * 1024,
  hashMaxListpackEntries: 512,
  hashMaxListpackValue: 64,
  setMaxIntsetEntries: 512,
  setMaxListpackEntries: 128,
  setMaxListpackValue: 64,
  zsetMaxListpackEntries: 128,
  zsetMaxListpackValue: 64,
  listMaxListpackSize: -2,
};

/** A WATCHed key as seen when WATCH ran; EXEC is refused if it changed since. */
export interface WatchToken {
  db: number;
  key: string;
  /** ModificationLog.seq when WATCH ran. */
  since: number;
  /** The key existed (and had not expired) when WATCH ran. */
  existed: boolean;
}

/** A write as it travels through the log. */
export type WriteOp =
  | { kind: 'command'; db: number; argv: string[] }
  | { kind: 'exec'; db: number; commands: string[][]; watches: WatchToken[] }
  | { kind: 'expire'; db: number; keys: string[] };

export interface EngineStats {
  keyspaceHits: number;
  keyspaceMisses: number;
  expiredKeys: number;
  /** Changes applied (Redis's server.dirty). */
  dirty: number;
}

export class Engine {
  readonly dbs: Db[] = [];
  readonly modlog = new ModificationLog(DATABASES);
  readonly commands = new CommandTable();
  readonly stats: EngineStats = { keyspaceHits: 0, keyspaceMisses: 0, expiredKeys: 0, dirty: 0 };
  readonly config: EngineConfig;
  /** Keys that a write made ready for blocked clients, drained by the server after apply. */
  readyKeys: Array<{ db: number; key: string }> = [];
  private readonly expireCursors: Array<IterableIterator<[string, number]> | undefined> = [];

  /** The config object is used as given (not copied), so its owner can change it at runtime. */
  constructor(specs: CommandSpec[], config: EngineConfig = { ...defaultEngineConfig }) {
    this.config = config;
    registerCollectionCodecs();
    for (let i = 0; i < DATABASES; i++) this.dbs.push(new Db(i));
    this.commands.add(specs);
  }

  db(index: number): Db {
    const d = this.dbs[index];
    if (d === undefined) throw new Error(`no database ${index}`);
    return d;
  }

  /**
   * Runs one command whose arity was checked, on the client's database. For a read, nowMs is
   * the time of the read; writes go through apply() so the modification log advances.
   */
  execute(spec: CommandSpec, argv: string[], out: ReplyWriter, nowMs: number, seed: number, client: ClientView): void {
    const call = this.run(spec, this.db(client.db), argv, out, nowMs, seed, client);
    if (call.blocked !== null) throw new Error(`read-only command ${spec.name} blocked`);
  }

  /** Runs a handler; a CommandError replaces whatever it wrote with the error reply. */
  private run(spec: CommandSpec, db: Db, argv: string[], out: ReplyWriter, nowMs: number, seed: number, client: ClientView): Call {
    const call = new Call(this, db, argv, out, nowMs, seed, client);
    const mark = out.length;
    try {
      spec.handler!(call);
    } catch (e) {
      if (!(e instanceof CommandError)) throw e;
      out.truncate(mark);
      out.error(e.reply);
    }
    return call;
  }

  /**
   * Applies a write: a single command, an EXEC batch, or the leader's expiry deletions.
   * Returns the block request of a blocking command that found nothing, else null.
   */
  apply(op: WriteOp, out: ReplyWriter, nowMs: number, seed: number, client: ClientView): BlockRequest | null {
    switch (op.kind) {
      case 'command': {
        const spec = this.resolveValid(op.argv);
        this.modlog.seq++;
        return this.run(spec, this.db(op.db), op.argv, out, nowMs, seed, client).blocked;
      }
      case 'exec':
        this.applyExec(op, out, nowMs, seed, client);
        return null;
      case 'expire':
        this.applyExpire(op.db, op.keys, nowMs);
        return null;
    }
  }

  /** The spec of a command that was validated when it was submitted or queued. */
  private resolveValid(argv: string[]): CommandSpec {
    const spec = this.commands.resolve(argv);
    if (typeof spec === 'string') throw new Error(`an op carries an invalid command: ${spec}`);
    return spec;
  }

  /** True if any watched key may have changed since its WATCH (EXEC then replies null). */
  watchBroken(watches: WatchToken[], nowMs: number): boolean {
    for (const w of watches) {
      if (this.modlog.changedSince(w.db, w.key, w.since, w.existed)) return true;
      // A key that was live at WATCH and has expired since counts as changed (Redis 7).
      if (w.existed && this.db(w.db).get(w.key, nowMs) === undefined) return true;
    }
    return false;
  }

  watchToken(db: number, key: string, nowMs: number): WatchToken {
    return { db, key, since: this.modlog.seq, existed: this.db(db).get(key, nowMs) !== undefined };
  }

  private applyExec(op: Extract<WriteOp, { kind: 'exec' }>, out: ReplyWriter, nowMs: number, seed: number, client: ClientView): void {
    if (this.watchBroken(op.watches, nowMs)) {
      out.nullArray();
      return;
    }
    out.array(op.commands.length);
    const wasInExec = client.inExec;
    client.inExec = true;
    try {
      // SELECT inside the batch (a handler that sets call.db) carries over to what follows.
      let db = this.db(op.db);
      for (let i = 0; i < op.commands.length; i++) {
        const argv = op.commands[i]!;
        const spec = this.resolveValid(argv);
        if (spec.isWrite) this.modlog.seq++;
        // Each command of the batch gets its own seed, derived from the entry's.
        db = this.run(spec, db, argv, out, nowMs, (seed + i * 0x9e3779b9) >>> 0, client).db;
      }
    } finally {
      client.inExec = wasInExec;
    }
  }

  /** Deletes those of the keys that have expired by nowMs (a key set again since stays). */
  private applyExpire(dbIndex: number, keys: string[], nowMs: number): void {
    const db = this.db(dbIndex);
    for (const key of keys) {
      if (db.dict.has(key) && db.isExpired(key, nowMs)) {
        db.delete(key);
        this.stats.expiredKeys++;
      }
    }
  }

  /**
   * Up to `limit` keys of a database whose time has passed, sampled as Redis's active expire
   * cycle does. The caller proposes their deletion as an 'expire' op.
   */
  expiredKeys(dbIndex: number, nowMs: number, limit: number): string[] {
    const db = this.db(dbIndex);
    const out: string[] = [];
    if (db.expires.size === 0) return out;
    // Resume where the last cycle stopped, and look at a bounded number of keys.
    let it = this.expireCursors[dbIndex];
    for (let visited = 0; visited < limit * 20 && visited < db.expires.size; visited++) {
      let next = it?.next();
      if (it === undefined || next!.done) {
        it = db.expires.entries();
        next = it.next();
        if (next.done) break;
      }
      const [key, at] = next!.value as [string, number];
      if (at <= nowMs) {
        out.push(key);
        if (out.length >= limit) break;
      }
    }
    this.expireCursors[dbIndex] = it;
    return out;
  }

  signalReady(db: number, key: string): void {
    this.readyKeys.push({ db, key });
  }

  flushAll(): void {
    for (const d of this.dbs) {
      d.clear();
      this.modlog.flushed(d.index);
    }
  }

  /** Checks arity against the table; returns the error reply, or null if the call is well formed. */
  static arityError(spec: CommandSpec, argc: number): string | null {
    const a = spec.arity;
    if ((a > 0 && argc !== a) || argc < -a) return errArity(spec.name);
    return null;
  }
}
