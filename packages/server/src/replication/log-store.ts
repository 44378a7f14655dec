// Where a node's raft log lives. The driver needs raft's synchronous read interface (Storage)
// and one asynchronous write, persist(), that resolves when the batch is as durable as the
// fsync policy says. packages/wal's DurableStorage has exactly this shape, and also the
// snapshot files (SnapshotFiles below); the CLI opens it and hands it to the ShardNode (this
// package never imports the WAL). MemoryLogStore (raft's MemoryStorage) stands in for it in
// tests: its snapshots travel inline, in Snapshot.data.

import { ConfState, Entry, HardState, MemoryStorage, Snapshot, SnapshotMetadata, Storage, confStateOf, isEmptyHardState } from '@keel/raft';

export interface PersistRequest {
  hardState?: HardState;
  entries?: readonly Entry[];
  /** A snapshot to install (a follower catching up, or the bootstrap snapshot). */
  snapshot?: Snapshot;
  /** raft's Ready.mustSync. */
  mustSync?: boolean;
}

export interface LogStore extends Storage {
  /**
   * Writes the snapshot, then the entries (truncating any conflicting suffix), then the hard
   * state. The Storage reads reflect the request as soon as persist() returns (the driver
   * lets raft go on while the write is in flight); the promise resolves once it is as durable
   * as the fsync policy says. Writes complete in the order they were issued.
   */
  persist(req: PersistRequest): Promise<void>;
}

/** A snapshot being received from the leader, chunk by chunk (DurableStorage.receiveSnapshot). */
export interface SnapshotSink {
  write(chunk: Uint8Array): Promise<void>;
  finish(): Promise<void>;
  abort(): Promise<void>;
}

/**
 * A store that keeps snapshot payloads in files (DurableStorage): Snapshot.data is then empty
 * and the payload is streamed, to restore the engine, to a follower, or from the leader.
 */
export interface SnapshotFiles {
  /** The current snapshot's index (0: none). */
  readonly snapshotIndex: number;
  createSnapshot(index: number, confState: ConfState, chunks: AsyncIterable<Uint8Array>, context?: string): Promise<SnapshotMetadata>;
  openSnapshot(index?: number): Promise<{ metadata: SnapshotMetadata; chunks(): AsyncIterable<Uint8Array>; close(): Promise<void> }>;
  receiveSnapshot(metadata: SnapshotMetadata): Promise<SnapshotSink>;
  /** Writes and syncs everything pending, then closes. */
  close(): Promise<void>;
}

export type DurableLogStore = LogStore & SnapshotFiles;

export function hasSnapshotFiles(store: LogStore): store is DurableLogStore {
  const s = store as Partial<SnapshotFiles>;
  return typeof s.createSnapshot === 'function' && typeof s.openSnapshot === 'function' && typeof s.receiveSnapshot === 'function';
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
 * `emptyState` is the engine's encoding of its empty state (a real snapshot payload: the WAL
 * refuses to install a snapshot without one, so an empty state is never installed by accident).
 */
export function bootstrapSnapshot(voters: number[], emptyState: Uint8Array, context?: string): Snapshot {
  const s: Snapshot = { metadata: { index: 1, term: 1, confState: confStateOf(voters) }, data: emptyState };
  if (context !== undefined) s.metadata.context = context;
  return s;
}

/** The hard state written with the bootstrap snapshot: term 1, no vote, index 1 committed. */
export const BOOTSTRAP_HARD_STATE: HardState = { term: 1, vote: 0, commit: 1 };

/** True if the store holds nothing yet (a brand new node). */
export function isFresh(store: Storage): boolean {
  return store.lastIndex() === 0 && isEmptyHardState(store.initialState().hardState);
}

export type { ConfState };
