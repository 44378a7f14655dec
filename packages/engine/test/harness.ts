// Shared by the engine's tests: an engine driven as the server drives it, and a runner for
// transcripts of commands and the replies redis-server 7.0.15 gave them, byte for byte.

import { Protocol, ReplyWriter } from '@keel/resp';
import { ClientView, defaultEngineConfig, Engine, EngineConfig, engineCommands } from '../src';

export const T0 = 1_700_000_000_000;

/** Redis 7.0's defaults where Keel's engine defaults differ (hash-max-listpack-entries). */
export const REDIS_7_0_CONFIG: Partial<EngineConfig> = { hashMaxListpackEntries: 512 };

export class Harness {
  readonly engine: Engine;
  readonly writer = new ReplyWriter();
  readonly client: ClientView = { id: 1, db: 0, inExec: false };
  now = T0;
  seed = 1;
  /** The block request of the last command, if it blocked. */
  blocked: unknown = null;

  constructor(config: Partial<EngineConfig> = {}, protocol: Protocol = 2) {
    this.engine = new Engine(engineCommands(), { ...defaultEngineConfig, ...REDIS_7_0_CONFIG, ...config });
    this.writer.protocol = protocol;
  }

  /** Runs a command as the server would: arity, then apply (writes) or execute (reads). */
  run(...argv: string[]): string {
    const spec = this.engine.commands.resolve(argv);
    if (typeof spec === 'string') return `-${spec}\r\n`;
    const arity = Engine.arityError(spec, argv.length);
    if (arity !== null) return `-${arity}\r\n`;
    this.blocked = null;
    if (spec.isWrite) {
      this.blocked = this.engine.apply({ kind: 'command', db: this.client.db, argv }, this.writer, this.now, this.seed++, this.client);
    } else {
      this.engine.execute(spec, argv, this.writer, this.now, this.seed++, this.client);
    }
    return this.writer.take()?.toString('latin1') ?? '';
  }

  /** Runs the commands as one EXEC batch; returns the EXEC reply. */
  exec(...commands: string[][]): string {
    this.engine.apply({ kind: 'exec', db: this.client.db, commands, watches: [] }, this.writer, this.now, this.seed++, this.client);
    return this.writer.take()!.toString('latin1');
  }

  /** True if running argv breaks a WATCH on key (the command called c.touch(key)). */
  touches(key: string, ...argv: string[]): boolean {
    const token = this.engine.watchToken(this.client.db, key, this.now);
    this.run(...argv);
    return this.engine.watchBroken([token], this.now);
  }

  expireAt(key: string): number | undefined {
    return this.engine.db(this.client.db).expireAt(key);
  }

  /** Stores a list under key (for WRONGTYPE checks). */
  putList(key: string): void {
    this.run('rpush', key, 'x');
  }

  select(db: number): void {
    this.client.db = db;
  }

  encoding(key: string): string {
    return this.run('object', 'encoding', key);
  }
}

/** A transcript row: argv, the RESP2 reply, and the RESP3 reply when it differs. */
export type Row = [string[], string, string?];

/** Runs rows on a fresh engine in the protocol; returns the rows whose reply differed. */
export function runTranscript(rows: Row[], protocol: Protocol, config: Partial<EngineConfig> = {}): string[] {
  const h = new Harness(config, protocol);
  const failures: string[] = [];
  for (const [argv, resp2, resp3] of rows) {
    const want = protocol === 3 && resp3 !== undefined ? resp3 : resp2;
    const got = h.run(...argv);
    if (got !== want) failures.push(`${argv.join(' ')}\n  want ${JSON.stringify(want)}\n  got  ${JSON.stringify(got)}`);
  }
  return failures;
}

export const bulk = (s: string): string => `$${s.length}\r\n${s}\r\n`;
export const arr = (...items: string[]): string => `*${items.length}\r\n${items.map(bulk).join('')}`;
