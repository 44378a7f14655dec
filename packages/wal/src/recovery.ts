// Reading what is on disk: the log's state record and entries (verifying every checksum and
// that the log is contiguous), and the choice of snapshot. Shared by DurableStorage.open
// (which refuses to start on damage) and checkWal / repairWal (which report and repair it).

import { Entry } from '@keel/raft';
import { decodeEntry, decodeState, ENTRY_KEYS_GTE, ENTRY_KEYS_LT, entryKeyIndex, STATE_KEY, WalState } from './codec';
import { KvStore } from './kv';
import { SnapshotFileName, SnapshotVerifyResult, verifySnapshotFile } from './snapshot-file';

export interface LogDamage {
  /** The first index of the log that is missing or fails to decode. */
  index: number;
  reason: string;
}

export interface LogScan {
  /** Undefined when the store is empty (a new node). */
  state: WalState | undefined;
  /** Set when the state record itself is missing (with entries present) or damaged. */
  stateError?: string;
  /** Valid, contiguous entries from firstIndex. */
  validEntries: number;
  /** Index and term of the last valid entry of that contiguous run (truncIndex/Term if none). */
  lastValidIndex: number;
  lastValidTerm: number;
  damage?: LogDamage;
  /** Keys inside the log's range that follow the damage. */
  entriesAfterDamage: number;
  /** Entry keys outside (truncIndex, lastIndex]: left by compaction or truncation, deleted lazily. */
  stale: Array<[number, number]>;
  staleCount: number;
  /** Terms of the entries at the indexes asked for in `wantTerms`. */
  terms: Map<number, number>;
}

export async function scanLog(
  kv: KvStore,
  opts: { wantTerms?: Iterable<number>; onEntry?: (e: Entry) => void; /** scan as if this were the state record */ state?: WalState } = {},
): Promise<LogScan> {
  const want = new Set(opts.wantTerms ?? []);
  const res: LogScan = { state: undefined, validEntries: 0, lastValidIndex: 0, lastValidTerm: 0, entriesAfterDamage: 0, stale: [], staleCount: 0, terms: new Map() };
  const raw = opts.state ? undefined : kv.getSync(STATE_KEY);
  let st: WalState | undefined = opts.state;
  if (raw !== undefined) {
    const d = decodeState(raw);
    if (d.ok) st = d.value;
    else res.stateError = d.reason;
  }
  res.state = st;
  const trunc = st?.truncIndex ?? 0;
  const last = st?.lastIndex ?? 0;
  res.lastValidIndex = trunc;
  res.lastValidTerm = st?.truncTerm ?? 0;
  let expected = trunc + 1;
  let prevTerm = st?.truncTerm ?? 0;
  const addStale = (i: number): void => {
    res.staleCount++;
    const r = res.stale[res.stale.length - 1];
    if (r && r[1] === i - 1) r[1] = i;
    else res.stale.push([i, i]);
  };
  for await (const [k, v] of kv.scan(ENTRY_KEYS_GTE, ENTRY_KEYS_LT)) {
    const i = entryKeyIndex(k);
    if (i === undefined) continue; // not an entry key: nothing of ours
    if (st === undefined) {
      // Entries but no state record: without it the term and vote are unknown.
      if (res.stateError === undefined) res.stateError = 'the state record (term, vote, commit, log bounds) is missing but the log holds entries';
      res.entriesAfterDamage++;
      continue;
    }
    if (i <= trunc || i > last) {
      addStale(i);
      continue;
    }
    if (res.damage) {
      res.entriesAfterDamage++;
      continue;
    }
    if (i !== expected) {
      res.damage = { index: expected, reason: `entry ${expected} is missing (the next stored entry is ${i})` };
      res.entriesAfterDamage++;
      continue;
    }
    const d = decodeEntry(v, i);
    if (!d.ok) {
      res.damage = { index: i, reason: `entry ${i}: ${d.reason}` };
      continue;
    }
    if (d.value.term < prevTerm) {
      res.damage = { index: i, reason: `entry ${i} has term ${d.value.term}, below the term ${prevTerm} of the entry before it` };
      continue;
    }
    if (d.value.term > st.hardState.term) {
      res.damage = { index: i, reason: `entry ${i} has term ${d.value.term}, above the node's current term ${st.hardState.term}` };
      continue;
    }
    prevTerm = d.value.term;
    if (want.has(i)) res.terms.set(i, d.value.term);
    opts.onEntry?.(d.value);
    res.validEntries++;
    res.lastValidIndex = i;
    res.lastValidTerm = d.value.term;
    expected++;
  }
  if (st && !res.damage && expected <= last) {
    res.damage = { index: expected, reason: `entries ${expected}..${last} are missing (the log ends at ${expected - 1})` };
  }
  if (st && st.hardState.commit > last && !res.stateError) {
    res.stateError = `the commit index ${st.hardState.commit} is beyond the last index ${last}`;
  }
  return res;
}

export interface SnapshotStatus extends SnapshotFileName {
  verify: SnapshotVerifyResult;
  /** 'current': the one to load; 'fallback': valid and usable with this log; 'damaged';
   *  'unusable': valid but does not fit this log (outside its range or another term). */
  role: 'current' | 'fallback' | 'damaged' | 'unusable';
  why?: string;
}

export interface SnapshotChoice {
  chosen: SnapshotStatus | undefined;
  statuses: SnapshotStatus[];
  warnings: string[];
  /** Set when no valid snapshot fits although the log needs one (its first index > 1). */
  fatal?: string;
}

/**
 * Picks the newest valid snapshot that fits the log: its index within [truncIndex,
 * lastIndex] and its term equal to the log's term at that index. Every file is verified
 * block by block; a damaged one is never chosen, and passing over the one the state record
 * names is reported.
 */
export async function chooseSnapshot(files: SnapshotFileName[], st: WalState, terms: Map<number, number>, verifyAll: boolean): Promise<SnapshotChoice> {
  const statuses: SnapshotStatus[] = [];
  const warnings: string[] = [];
  let chosen: SnapshotStatus | undefined;
  for (const f of files) {
    const logTerm = f.index === st.truncIndex ? st.truncTerm : terms.get(f.index);
    let why: string | undefined;
    if (f.index < st.truncIndex) why = `its index ${f.index} is below the log's compaction point ${st.truncIndex} (the log after it is gone)`;
    else if (f.index > st.lastIndex) why = `its index ${f.index} is beyond the log's last index ${st.lastIndex} (received but never installed)`;
    else if (logTerm !== f.term) why = `its term ${f.term} differs from the log's term ${logTerm} at index ${f.index}`;
    const needVerify = verifyAll || (!chosen && !why);
    const verify: SnapshotVerifyResult = needVerify ? await verifySnapshotFile(f.path) : { ok: true, bytes: 0, payloadBytes: 0, blocks: 0 };
    if (verify.ok && verify.metadata && (verify.metadata.index !== f.index || verify.metadata.term !== f.term)) {
      verify.ok = false;
      verify.error = { offset: 16, reason: `its header says index ${verify.metadata.index} term ${verify.metadata.term}, its name says ${f.index} ${f.term}` };
    }
    let role: SnapshotStatus['role'];
    if (!verify.ok) {
      role = 'damaged';
      if (!why) warnings.push(`snapshot ${f.path} is damaged at byte ${verify.error!.offset} (${verify.error!.reason}): not loaded`);
    } else if (why) role = 'unusable';
    else if (!chosen) role = 'current';
    else role = 'fallback';
    const s: SnapshotStatus = { ...f, verify, role, why };
    statuses.push(s);
    if (role === 'current') chosen = s;
  }
  if (chosen && chosen.index < st.snapIndex) {
    warnings.push(`using the previous valid snapshot at index ${chosen.index} (term ${chosen.term}) instead of the one at index ${st.snapIndex}; the log after it is replayed`);
  } else if (!chosen && st.snapIndex > 0 && st.truncIndex === 0) {
    warnings.push(`no valid snapshot: replaying the whole log from index 1 instead of loading the snapshot at index ${st.snapIndex}`);
  }
  let fatal: string | undefined;
  if (!chosen && st.truncIndex > 0) {
    const damaged = statuses.filter((s) => s.role === 'damaged').map((s) => `${s.path} (damaged at byte ${s.verify.error!.offset}: ${s.verify.error!.reason})`);
    fatal =
      `the log starts at index ${st.truncIndex + 1} but no valid snapshot at or after index ${st.truncIndex} exists` +
      (damaged.length > 0 ? `; damaged: ${damaged.join('; ')}` : '; the snapshot files are missing');
  }
  return { chosen, statuses, warnings, fatal };
}
