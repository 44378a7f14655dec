// Redis's error replies, word for word. The first word is the code a client can act on.

export const ERR_SYNTAX = 'ERR syntax error';
export const ERR_NOT_INTEGER = 'ERR value is not an integer or out of range';
export const ERR_NOT_FLOAT = 'ERR value is not a valid float';
export const ERR_WRONGTYPE = 'WRONGTYPE Operation against a key holding the wrong kind of value';
export const ERR_NO_SUCH_KEY = 'ERR no such key';
export const ERR_OVERFLOW = 'ERR increment or decrement would overflow';
export const ERR_DB_INDEX = 'ERR DB index is out of range';
export const ERR_OFFSET = 'ERR offset is out of range';
export const ERR_BIT_OFFSET = 'ERR bit offset is not an integer or out of range';
export const ERR_STRING_TOO_LONG = 'ERR string exceeds maximum allowed size (proto-max-bulk-len)';

export function errArity(name: string): string {
  return `ERR wrong number of arguments for '${name.toLowerCase()}' command`;
}

export function errInvalidExpire(name: string): string {
  return `ERR invalid expire time in '${name.toLowerCase()}' command`;
}

/** Thrown by argument parsers inside a handler; dispatch turns it into the error reply. */
export class CommandError extends Error {
  constructor(readonly reply: string) {
    super(reply);
  }
}
