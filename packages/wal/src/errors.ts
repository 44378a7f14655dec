// Errors of the WAL. A WalCorruptionError means the data on disk is damaged: the node must
// not start (or continue) on it; its message names the place and the command to run.

export interface DamageLocation {
  /** The data directory given to the storage (what `--dir` names). */
  dir: string;
  /** The file or LevelDB directory holding the damage. */
  file: string;
  /** Log index of the first damaged entry, for log damage. */
  index?: number;
  /** Byte offset in `file`, for snapshot damage. */
  offset?: number;
}

export class WalCorruptionError extends Error {
  constructor(
    message: string,
    readonly where: DamageLocation,
  ) {
    super(message);
    this.name = 'WalCorruptionError';
  }
}

/** The storage failed a write or was closed; it accepts nothing more (the node must stop). */
export class WalFailedError extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
    this.name = 'WalFailedError';
  }
}

/** The invariant did not hold. Stays on in production, as in packages/raft. */
export function walAssert(cond: unknown, message: string | (() => string)): asserts cond {
  if (!cond) throw new Error(`wal invariant violated: ${typeof message === 'string' ? message : message()}`);
}

export function repairHint(dir: string): string {
  return `inspect it with \`keel wal check --dir ${dir}\`, then run \`keel wal repair --dir ${dir}\``;
}
