// Where a node's raft log lives. The driver needs raft's synchronous read interface (Storage)
// and one asynchronous write, persist(), that resolves when the batch is as durable as the
// fsync policy says. packages/wal's DurableStorage has exactly this shape; MemoryLogStore
// (raft's MemoryStorage) stands in for it in tests and until the WAL is wired in.

import { ConfState, Entry, HardState, MemoryStorage, Snapshot, Storage, confStateOf, EMPTY_BYTES, isEmptyHardState } from '@keel/raft';

export interface PersistRequest {
  hardState?: HardState;
  entries?: readonly Entry[];
  /** A snapshot to install (a follower catching up, or the bootstrap snapshot). */
  snapshot?: Snapshot;
  /** raft's Ready.mustSync. */
  mustSync?: boolean;
}

export interface LogStore extends Storage {
  /** Writes the snapshot, then the entries (truncating any conflicting suffix), then the hard state. */
  persist(req: PersistRequest): Promise<void>;
}

/** An in-memory LogStore: durable only as long as the process lives. */
export class MemoryLogStore extends MemoryStorage implements LogStore {
  persist(req: PersistRequest): Promise<void> {
    if (req.snapshot !== undefined) this.applySnapshot(req.snapshot);
    if (req.entries !== undefined && req.entries.length > 0) this.append(req.entries);
    if (req.hardState !== undefined) this.setHardState(req.hardState);
    return Promise.resolve();
  }
}

/**
 * The first configuration of a new shard: an empty state machine at index 1, term 1, with the
 * given voters. Every node of a new shard starts from the same one, so none needs it sent.
 */
export function bootstrapSnapshot(voters: number[]): Snapshot {
  return { metadata: { index: 1, term: 1, confState: confStateOf(voters) }, data: EMPTY_BYTES };
}

export function isBootstrapSnapshot(s: Snapshot): boolean {
  return s.metadata.index === 1 && s.metadata.term === 1 && s.data.byteLength === 0;
}

/** True if the store holds nothing yet (a brand new node). */
export function isFresh(store: Storage): boolean {
  return store.lastIndex() === 0 && isEmptyHardState(store.initialState().hardState);
}

export type { ConfState };
