// Strings: binary strings (one char per byte), as Redis's t_string.c.
// The type's helpers first, then the command handlers; variants share a generic helper.

import { Call, command, CommandSpec } from '../command';
import { CommandError, ERR_SYNTAX, ERR_WRONGTYPE, errInvalidExpire } from '../errors';
import { Value } from '../keyspace';
import { parseInt64 } from '../util/numbers';

/** The string value of a key for a reader: undefined if absent; throws WRONGTYPE otherwise. */
export function getString(c: Call, key: string): string | undefined {
  const v = c.db.get(key, c.nowMs);
  if (v === undefined || typeof v === 'string') return v;
  throw new CommandError(ERR_WRONGTYPE);
}

/** The same for a writer (deletes the key first if it has expired). */
export function getStringForWrite(c: Call, key: string): string | undefined {
  const v = c.db.getForWrite(key, c.nowMs);
  if (v === undefined || typeof v === 'string') return v;
  throw new CommandError(ERR_WRONGTYPE);
}

const enum SetFlag {
  NX = 1,
  XX = 2,
  KEEPTTL = 4,
  GET = 8,
}

const enum Unit {
  Seconds,
  Milliseconds,
}

/**
 * Parses SET's options (EX PX EXAT PXAT NX XX KEEPTTL GET) from argv[from]; returns the flags
 * and the absolute expiry time, or -1 for none. Errors and their order are Redis's.
 */
function parseSetOptions(c: Call, from: number): { flags: number; expireAtMs: number } {
  const argv = c.argv;
  let flags = 0;
  let expireArg: string | null = null;
  let expireKind = '';
  for (let i = from; i < argv.length; i++) {
    const opt = argv[i]!.toLowerCase();
    const hasNext = i + 1 < argv.length;
    if (opt === 'nx' && !(flags & SetFlag.XX)) flags |= SetFlag.NX;
    else if (opt === 'xx' && !(flags & SetFlag.NX)) flags |= SetFlag.XX;
    else if (opt === 'get') flags |= SetFlag.GET;
    else if (opt === 'keepttl' && expireArg === null) flags |= SetFlag.KEEPTTL;
    else if ((opt === 'ex' || opt === 'px' || opt === 'exat' || opt === 'pxat') && expireArg === null && !(flags & SetFlag.KEEPTTL) && hasNext) {
      expireKind = opt;
      expireArg = argv[++i]!;
    } else throw new CommandError(ERR_SYNTAX);
  }
  let expireAtMs = -1;
  if (expireArg !== null) {
    expireAtMs = expireTimeArg(c, expireArg, expireKind === 'ex' || expireKind === 'exat' ? Unit.Seconds : Unit.Milliseconds, expireKind === 'exat' || expireKind === 'pxat', 'set');
  }
  return { flags, expireAtMs };
}

/** Converts an expire argument to absolute ms, with Redis's range checks and error text. */
function expireTimeArg(c: Call, s: string, unit: Unit, absolute: boolean, name: string): number {
  const v = parseInt64(s);
  if (v === null) throw new CommandError('ERR value is not an integer or out of range');
  if (typeof v === 'bigint' || v <= 0) throw new CommandError(errInvalidExpire(name));
  const ms = unit === Unit.Seconds ? v * 1000 : v;
  if (!Number.isSafeInteger(ms)) throw new CommandError(errInvalidExpire(name));
  const at = absolute ? ms : ms + c.nowMs;
  if (!Number.isSafeInteger(at)) throw new CommandError(errInvalidExpire(name));
  return at;
}

/** SET and its variants: sets key to value under the flags; replies as each variant does. */
function setGeneric(c: Call, key: string, value: string, flags: number, expireAtMs: number, reply: 'ok' | 'int'): void {
  const db = c.db;
  const old = db.getForWrite(key, c.nowMs);
  if (flags & SetFlag.GET) {
    if (old !== undefined && typeof old !== 'string') throw new CommandError(ERR_WRONGTYPE);
  }
  const exists = old !== undefined;
  if ((flags & SetFlag.NX && exists) || (flags & SetFlag.XX && !exists)) {
    if (flags & SetFlag.GET) replyOld(c, old);
    else if (reply === 'int') c.out.integer(0);
    else c.out.nullBulk();
    return;
  }
  db.set(key, value, (flags & SetFlag.KEEPTTL) !== 0);
  if (expireAtMs >= 0) db.setExpire(key, expireAtMs);
  c.touch(key);
  if (flags & SetFlag.GET) replyOld(c, old);
  else if (reply === 'int') c.out.integer(1);
  else c.out.ok();
}

function replyOld(c: Call, old: Value | undefined): void {
  if (old === undefined) c.out.nullBulk();
  else c.out.bulk(old as string);
}

function checkSize(c: Call, length: number): void {
  if (length > c.engine.config.protoMaxBulkLen) {
    throw new CommandError('ERR string exceeds maximum allowed size (proto-max-bulk-len)');
  }
}

function getCommand(c: Call): void {
  const v = getString(c, c.argv[1]!);
  if (v === undefined) {
    c.engine.stats.keyspaceMisses++;
    c.out.nullBulk();
  } else {
    c.engine.stats.keyspaceHits++;
    c.out.bulk(v);
  }
}

function setCommand(c: Call): void {
  const { flags, expireAtMs } = parseSetOptions(c, 3);
  setGeneric(c, c.argv[1]!, c.argv[2]!, flags, expireAtMs, 'ok');
}

export { checkSize, expireTimeArg, setGeneric, SetFlag, Unit };

export const stringCommands: CommandSpec[] = [
  command('get', 2, ['readonly', 'fast'], [1, 1, 1], 'string', '1.0.0', 'Returns the string value of a key.', getCommand),
  command('set', -3, ['write', 'denyoom'], [1, 1, 1], 'string', '1.0.0', 'Sets the string value of a key, ignoring its type. The key is created if it doesn\'t exist.', setCommand),
];
