// The command table: one description a command, as Redis's src/commands/*.json. It is the
// single source for dispatch (arity, whether a command is a write), the COMMAND replies, and
// (later) slot routing through the key positions.

import type { ReplyWriter } from '@keel/resp';
import type { Db } from './keyspace';
import type { Engine } from './engine';
import { seededRandom } from './util/random';

export type CommandFlag =
  | 'write'
  | 'readonly'
  | 'denyoom'
  | 'admin'
  | 'pubsub'
  | 'noscript'
  | 'blocking'
  | 'loading'
  | 'stale'
  | 'skip_monitor'
  | 'skip_slowlog'
  | 'fast'
  | 'no_auth'
  | 'no_multi'
  | 'movablekeys'
  | 'allow_busy';

export interface CommandSpec {
  /** Lower case, as COMMAND replies; a subcommand is "container|sub", e.g. "config|get". */
  name: string;
  /** Redis's convention: N means exactly N arguments including the name, -N at least N. */
  arity: number;
  flags: CommandFlag[];
  /** Key positions: first, last (negative counts from the end) and step; 0 0 0 if none. */
  firstKey: number;
  lastKey: number;
  step: number;
  /** Command group as in COMMAND DOCS: "string", "generic", "connection", "server", ... */
  group: string;
  since: string;
  summary: string;
  complexity?: string;
  aclCategories?: string[];
  subcommands?: CommandSpec[];
  /** For commands whose keys are not at fixed positions (movablekeys). */
  getKeys?: (argv: string[]) => number[];
  /** The engine's implementation; connection and server commands are bound by the server. */
  handler?: (c: Call) => void;
  /** Derived by CommandTable.add, for the hot path: the 'write' flag, the container's name. */
  isWrite?: boolean;
  isReadonly?: boolean;
  baseName?: string;
}

/** Declares a command with defaults for the fields most commands share. */
export function command(
  name: string,
  arity: number,
  flags: CommandFlag[],
  keys: [number, number, number],
  group: string,
  since: string,
  summary: string,
  handler?: (c: Call) => void,
  extra: Partial<CommandSpec> = {},
): CommandSpec {
  return { name, arity, flags, firstKey: keys[0], lastKey: keys[1], step: keys[2], group, since, summary, handler, ...extra };
}

/** Positions of the key arguments of a call, from the spec (the GETKEYS rule). */
export function keyPositions(spec: CommandSpec, argv: string[]): number[] {
  if (spec.getKeys) return spec.getKeys(argv);
  if (spec.firstKey === 0) return [];
  const last = spec.lastKey < 0 ? argv.length + spec.lastKey : spec.lastKey;
  const out: number[] = [];
  for (let i = spec.firstKey; i <= last && i < argv.length; i += spec.step) out.push(i);
  return out;
}

export class CommandTable {
  private readonly byName = new Map<string, CommandSpec>();
  /** The same specs under their upper-case names, as most clients send them. */
  private readonly byUpperName = new Map<string, CommandSpec>();

  add(specs: CommandSpec[]): void {
    for (const s of specs) {
      if (this.byName.has(s.name)) throw new Error(`command ${s.name} declared twice`);
      this.byName.set(s.name, s);
      this.byUpperName.set(s.name.toUpperCase(), s);
      for (const x of [s, ...(s.subcommands ?? [])]) {
        x.isWrite = x.flags.includes('write');
        x.isReadonly = x.flags.includes('readonly');
        x.baseName = x.name.split('|')[0]!;
      }
    }
  }

  /** Binds a handler to a command declared without one (server commands). */
  bind(name: string, handler: (c: Call) => void): void {
    const s = this.byName.get(name);
    if (s === undefined) throw new Error(`no command ${name} to bind`);
    s.handler = handler;
  }

  /** The spec for argv[0], case-insensitively, or undefined. */
  lookup(name: string): CommandSpec | undefined {
    const s = this.byUpperName.get(name) ?? this.byName.get(name);
    if (s !== undefined) return s;
    return this.byName.get(name.toLowerCase());
  }

  /**
   * The spec that runs argv: the command, or its subcommand for a container (CONFIG GET).
   * Returns the error reply (Redis's words) when there is none.
   */
  resolve(argv: string[]): CommandSpec | string {
    const spec = this.lookup(argv[0]!);
    if (spec === undefined) {
      // Redis formats these with C's %.*s: each argument ends at its first NUL byte.
      const cstr = (s: string) => (s.includes('\0') ? s.slice(0, s.indexOf('\0')) : s);
      let args = '';
      for (let i = 1; i < argv.length && args.length < 128; i++) args += `'${cstr(argv[i]!).slice(0, 128 - args.length)}' `;
      return `ERR unknown command '${cstr(argv[0]!).slice(0, 128)}', with args beginning with: ${args}`;
    }
    if (spec.subcommands === undefined) return spec;
    if (argv.length === 1 && spec.handler !== undefined) return spec;
    if (argv.length === 1) return `ERR wrong number of arguments for '${spec.name}' command`;
    const subName = `${spec.name}|${argv[1]!.toLowerCase()}`;
    const sub = spec.subcommands.find((x) => x.name === subName);
    if (sub === undefined) {
      const name = argv[1]!.includes('\0') ? argv[1]!.slice(0, argv[1]!.indexOf('\0')) : argv[1]!;
      return `ERR unknown subcommand '${name.slice(0, 128)}'. Try ${spec.name.toUpperCase()} HELP.`;
    }
    return sub;
  }

  all(): IterableIterator<CommandSpec> {
    return this.byName.values();
  }

  get size(): number {
    return this.byName.size;
  }
}

/**
 * One execution of a command: its arguments, its database, where its reply goes, and the
 * deterministic context (time and random seed) of the entry it belongs to.
 */
/**
 * What a blocking command asks for when it finds nothing to take: the server parks the client
 * and runs the command again (as a new write) when one of the keys is signalled ready, or
 * replies `timeoutReply` when the timeout passes.
 */
export interface BlockRequest {
  db: number;
  keys: string[];
  /** Absolute deadline in ms since the epoch, or 0 to wait forever. */
  deadlineMs: number;
  timeoutReply: 'nullArray' | 'nullBulk';
}

export class Call {
  private rng: (() => number) | null = null;
  /** Set by a blocking command that found nothing (see BlockRequest). */
  blocked: BlockRequest | null = null;

  constructor(
    readonly engine: Engine,
    public db: Db,
    readonly argv: string[],
    readonly out: ReplyWriter,
    /** The entry's time, ms since the epoch: the only clock a command may read. */
    readonly nowMs: number,
    private readonly seed: number,
    /** Per-connection state the engine needs (the selected database, the client id). */
    readonly client: ClientView,
  ) {}

  /** The entry's seeded generator: floats in [0, 1). */
  random(): number {
    if (this.rng === null) this.rng = seededRandom(this.seed);
    return this.rng();
  }

  /** Signals that a key changed (Redis's signalModifiedKey): breaks WATCHes on it. */
  touch(key: string, db: Db = this.db): void {
    this.engine.modlog.touch(db.index, key);
    this.engine.stats.dirty++;
  }

  /**
   * Blocks the client on keys (a blocking command that found nothing to take). Writes no reply
   * and changes nothing. Inside EXEC a blocking command must not call this: it replies as if
   * timed out, as Redis does.
   */
  block(keys: string[], timeoutMs: number, timeoutReply: 'nullArray' | 'nullBulk'): void {
    if (this.client.inExec) throw new Error('a blocking command blocked inside EXEC');
    this.blocked = { db: this.db.index, keys, deadlineMs: timeoutMs === 0 ? 0 : this.nowMs + timeoutMs, timeoutReply };
  }

  /** A blocked client waiting on this key may now be served (lists, sorted sets). */
  signalReady(key: string, db: Db = this.db): void {
    this.engine.signalReady(db.index, key);
  }
}

/** What the engine may know of the calling connection. */
export interface ClientView {
  id: number;
  db: number;
  /** True while executing the commands of an EXEC (blocking commands do not block). */
  inExec: boolean;
}
