// The read interface the core uses to reach the persisted log, and MemoryStorage, an
// in-memory implementation used by tests and the simulator, and a reference for the WAL.

import { assert, RaftError } from './errors';
import {
  ConfState,
  Entry,
  HardState,
  Snapshot,
  emptyConfState,
  emptySnapshot,
  limitSize,
} from './types';

export interface InitialState {
  hardState: HardState;
  confState: ConfState;
}

/**
 * What the core reads from stable storage. Every method may throw a RaftError with code
 * 'Compacted' (the index was discarded by a snapshot) or 'Unavailable' (beyond the last
 * index); any other error stops the node.
 */
export interface Storage {
  initialState(): InitialState;
  /** Entries in [lo, hi), at most maxSizeBytes in total but at least one if any. */
  entries(lo: number, hi: number, maxSizeBytes: number): Entry[];
  /** Term of entry i, for i in [firstIndex()-1, lastIndex()]. */
  term(i: number): number;
  lastIndex(): number;
  /** Index of the first entry still available (the snapshot's index + 1). */
  firstIndex(): number;
  /** The most recent snapshot. May throw 'SnapshotTemporarilyUnavailable'. */
  snapshot(): Snapshot;
}

export class MemoryStorage implements Storage {
  hardState: HardState = { term: 0, vote: 0, commit: 0 };
  private snap: Snapshot = emptySnapshot();
  /** ents[0] is a dummy entry holding the index and term of the last compacted entry. */
  private ents: Entry[] = [{ term: 0, index: 0, type: 'normal', data: new Uint8Array(0) }];

  initialState(): InitialState {
    return { hardState: { ...this.hardState }, confState: this.snap.metadata.confState };
  }

  setHardState(hs: HardState): void {
    this.hardState = { ...hs };
  }

  entries(lo: number, hi: number, maxSizeBytes: number): Entry[] {
    const offset = this.ents[0].index;
    if (lo <= offset) throw new RaftError('Compacted', `entries(${lo}) at or below ${offset}`);
    assert(hi <= this.lastIndex() + 1, () => `entries hi ${hi} beyond last index ${this.lastIndex()}`);
    if (this.ents.length === 1) throw new RaftError('Unavailable', 'only the dummy entry');
    return limitSize(this.ents.slice(lo - offset, hi - offset), maxSizeBytes);
  }

  term(i: number): number {
    const offset = this.ents[0].index;
    if (i < offset) throw new RaftError('Compacted', `term(${i}) below ${offset}`);
    if (i - offset >= this.ents.length) throw new RaftError('Unavailable', `term(${i}) beyond last index`);
    return this.ents[i - offset].term;
  }

  lastIndex(): number {
    return this.ents[0].index + this.ents.length - 1;
  }

  firstIndex(): number {
    return this.ents[0].index + 1;
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  /** Replaces the storage's contents with the snapshot (a follower installing it). */
  applySnapshot(snap: Snapshot): void {
    const index = snap.metadata.index;
    if (this.snap.metadata.index >= index) {
      throw new RaftError('SnapOutOfDate', `snapshot ${index} not newer than ${this.snap.metadata.index}`);
    }
    this.snap = snap;
    this.ents = [{ term: snap.metadata.term, index, type: 'normal', data: new Uint8Array(0) }];
  }

  /** Records a snapshot of the state machine at applied index i; the log is not compacted. */
  createSnapshot(i: number, confState: ConfState | undefined, data: Uint8Array): Snapshot {
    if (i <= this.snap.metadata.index) {
      throw new RaftError('SnapOutOfDate', `snapshot ${i} not newer than ${this.snap.metadata.index}`);
    }
    const offset = this.ents[0].index;
    assert(i <= this.lastIndex(), () => `snapshot ${i} beyond last index ${this.lastIndex()}`);
    this.snap = {
      metadata: { index: i, term: this.ents[i - offset].term, confState: confState ?? this.snap.metadata.confState },
      data,
    };
    return this.snap;
  }

  /** Discards entries up to and including compactIndex (which must be applied by the caller). */
  compact(compactIndex: number): void {
    const offset = this.ents[0].index;
    if (compactIndex <= offset) throw new RaftError('Compacted', `compact(${compactIndex}) at or below ${offset}`);
    assert(compactIndex <= this.lastIndex(), () => `compact ${compactIndex} beyond last index ${this.lastIndex()}`);
    const i = compactIndex - offset;
    const dummy: Entry = { term: this.ents[i].term, index: this.ents[i].index, type: 'normal', data: new Uint8Array(0) };
    this.ents = [dummy, ...this.ents.slice(i + 1)];
  }

  /** Appends entries, truncating any conflicting suffix. Entries must be contiguous. */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    for (let k = 1; k < entries.length; k++) {
      assert(entries[k].index === entries[k - 1].index + 1, 'appended entries not contiguous');
    }
    const first = this.firstIndex();
    const last = entries[0].index + entries.length - 1;
    if (last < first) return; // all already compacted
    let ents = entries;
    if (first > entries[0].index) ents = entries.slice(first - entries[0].index);
    const offset = ents[0].index - this.ents[0].index;
    assert(offset <= this.ents.length, () => `missing log entry [last: ${this.lastIndex()}, append at: ${ents[0].index}]`);
    this.ents.length = offset; // truncate any suffix at or after the first new entry
    for (const e of ents) this.ents.push(e);
  }
}

export function confStateOf(voters: number[], learners: number[] = []): ConfState {
  return { ...emptyConfState(), voters: [...voters], learners: [...learners] };
}
