// Operator tools: checkWal reports what a node's directory holds and any damage;
// repairWal truncates a damaged log tail and sets damaged snapshot files aside, after
// confirmation, as `redis-check-aof --fix` does. Neither needs (or may run beside) a node
// using the directory: LevelDB's lock refuses a second opener.

import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { ConfState, HardState } from '@keel/raft';
import { encodeState, entryKey, WalState } from './codec';
import { KvOp, KvStore, LevelKv } from './kv';
import { chooseSnapshot, LogDamage, LogScan, scanLog, SnapshotStatus } from './recovery';
import { listSnapshotFiles } from './snapshot-file';

export interface WalCheckReport {
  dir: string;
  /** No damage: a node would start on this directory. */
  ok: boolean;
  log: {
    path: string;
    openError?: string;
    stateError?: string;
    hardState?: HardState;
    conf?: WalState['conf'];
    firstIndex: number;
    lastIndex: number;
    /** Valid entries from firstIndex (up to the damage, if any). */
    entries: number;
    lastValidIndex: number;
    lastValidTerm: number;
    damage?: LogDamage;
    entriesAfterDamage: number;
    /** Entries outside the log left by a compaction or truncation (deleted at the next start). */
    staleEntries: number;
  };
  snapshots: Array<
    Pick<SnapshotStatus, 'path' | 'index' | 'term' | 'role' | 'why'> & {
      bytes: number;
      payloadBytes: number;
      blocks: number;
      error?: { offset: number; reason: string };
      /** The membership recorded with it (when its header was read): raft's ConfState and the application's context. */
      confState?: ConfState;
      context?: string;
    }
  >;
  tempFiles: string[];
  /** Damage, one line each. */
  problems: string[];
  /** Things that are fine but worth knowing (a fallback in use, ...). */
  notes: string[];
  repair: { needed: boolean; possible: boolean; actions: string[]; blockers: string[] };
}

interface Analysis {
  report: WalCheckReport;
  scan?: LogScan;
  /** The state record repair would write, and the log range it drops. */
  newState?: WalState;
  dropFrom?: number;
  dropTo?: number;
  damagedSnapshots: string[];
}

async function openKv(logDir: string): Promise<KvStore> {
  await fs.access(logDir);
  return LevelKv.open(logDir, { createIfMissing: false });
}

async function analyse(dir: string, kv: KvStore | undefined, openError: string | undefined): Promise<Analysis> {
  const logDir = path.join(dir, 'log');
  const snapDir = path.join(dir, 'snap');
  const { files, temps } = await listSnapshotFiles(snapDir);
  const report: WalCheckReport = {
    dir,
    ok: true,
    log: { path: logDir, openError, firstIndex: 1, lastIndex: 0, entries: 0, lastValidIndex: 0, lastValidTerm: 0, entriesAfterDamage: 0, staleEntries: 0 },
    snapshots: [],
    tempFiles: temps,
    problems: [],
    notes: [],
    repair: { needed: false, possible: true, actions: [], blockers: [] },
  };
  const a: Analysis = { report, damagedSnapshots: [] };
  const r = report.repair;
  if (temps.length > 0) {
    report.notes.push(`${temps.length} temporary snapshot file(s) from an interrupted write (removed at the next start)`);
    r.actions.push(`remove ${temps.length} temporary snapshot file(s)`);
  }
  if (!kv) {
    report.ok = false;
    report.problems.push(`the log at ${logDir} cannot be opened: ${openError}`);
    r.needed = true;
    r.possible = false;
    r.blockers.push('the LevelDB log cannot be opened (if a keel node is running on this directory, stop it first); otherwise restore this node from its peers: move the directory aside and let it rejoin');
    return a;
  }
  const scan = await scanLog(kv, { wantTerms: files.map((f) => f.index) });
  a.scan = scan;
  const st = scan.state;
  Object.assign(report.log, {
    stateError: scan.stateError,
    hardState: st?.hardState,
    conf: st?.conf,
    firstIndex: (st?.truncIndex ?? 0) + 1,
    lastIndex: st?.lastIndex ?? 0,
    entries: scan.validEntries,
    lastValidIndex: scan.lastValidIndex,
    lastValidTerm: scan.lastValidTerm,
    damage: scan.damage,
    entriesAfterDamage: scan.entriesAfterDamage,
    staleEntries: scan.staleCount,
  });
  if (scan.staleCount > 0) report.notes.push(`${scan.staleCount} stale entries outside the log (left by a compaction or truncation; deleted at the next start)`);
  if (scan.stateError) {
    report.ok = false;
    report.problems.push(`the state record is unusable: ${scan.stateError}`);
    r.needed = true;
    r.possible = false;
    r.blockers.push("the state record holds the node's term and vote, which cannot be rebuilt safely: move the directory aside and let the node rejoin its shard from its peers");
  }
  if (!st) {
    for (const f of files) report.snapshots.push({ path: f.path, index: f.index, term: f.term, role: 'unusable', why: 'the log is empty', bytes: 0, payloadBytes: 0, blocks: 0 });
    return a;
  }
  // The log repair would keep: up to the first damage.
  let ns: WalState = { ...st, hardState: { ...st.hardState } };
  if (scan.damage) {
    report.ok = false;
    report.problems.push(`log damage at index ${scan.damage.index}: ${scan.damage.reason}` + (scan.entriesAfterDamage > 0 ? ` (${scan.entriesAfterDamage} more stored entries after it)` : ''));
    r.needed = true;
    ns.lastIndex = scan.damage.index - 1;
    a.dropFrom = scan.damage.index;
    a.dropTo = st.lastIndex;
    r.actions.push(`truncate the log to end at index ${ns.lastIndex}: drop entries ${scan.damage.index}..${st.lastIndex} (saved to lost+found/ first); the node fetches them again from its peers`);
  }
  // Snapshots, as a node would pick them after the repair.
  let choice = await chooseSnapshot(files, ns, scan.terms, true);
  if (scan.damage) {
    // The damage may lie inside what a valid snapshot of committed state covers: then drop
    // the log up to that snapshot instead, and keep the valid entries after it.
    const covering = choice.statuses.find(
      (s) => s.verify.ok && s.index >= scan.damage!.index && s.index <= st.lastIndex && s.index <= st.hardState.commit && s.index >= st.truncIndex,
    );
    if (covering) {
      const rescan = await scanLog(kv, { state: { ...st, truncIndex: covering.index, truncTerm: covering.term } });
      if (!rescan.stateError) {
        ns = { ...st, hardState: { ...st.hardState }, truncIndex: covering.index, truncTerm: covering.term, lastIndex: rescan.damage ? rescan.damage.index - 1 : st.lastIndex };
        a.dropFrom = rescan.damage ? rescan.damage.index : undefined;
        r.actions[r.actions.length - 1] =
          `drop the log up to index ${covering.index}, which the valid snapshot ${covering.path} covers` + (rescan.damage ? `, and from index ${rescan.damage.index} on (damaged too)` : '');
        choice = await chooseSnapshot(files, ns, new Map([...scan.terms, ...rescan.terms]), true);
      }
    }
  }
  for (const s of choice.statuses) {
    const meta = s.verify.metadata;
    report.snapshots.push({ path: s.path, index: s.index, term: s.term, role: s.role, why: s.why, bytes: s.verify.bytes, payloadBytes: s.verify.payloadBytes, blocks: s.verify.blocks, error: s.verify.error, confState: meta?.confState, context: meta?.context });
    if (s.role === 'damaged') {
      report.ok = false;
      report.problems.push(`snapshot ${s.path} is damaged at byte ${s.verify.error!.offset}: ${s.verify.error!.reason}`);
      a.damagedSnapshots.push(s.path);
      r.needed = true;
      r.actions.push(`move the damaged snapshot ${path.basename(s.path)} to snap/damaged/`);
    }
  }
  for (const w of choice.warnings) report.notes.push(w);
  if (choice.fatal) {
    report.ok = false;
    r.possible = false;
    r.blockers.push(`${choice.fatal}: this node cannot be recovered from its own disk; move the directory aside and let it rejoin its shard from its peers`);
  }
  if (choice.chosen) {
    ns.snapIndex = choice.chosen.index;
    ns.snapTerm = choice.chosen.term;
  } else {
    ns.snapIndex = 0;
    ns.snapTerm = 0;
  }
  const commitCap = ns.lastIndex;
  if (ns.hardState.commit > commitCap) {
    r.actions.push(
      `lower the commit index from ${ns.hardState.commit} to ${commitCap}: this node loses entries it had acknowledged; they survive only on the peers that hold them (safe as long as a majority of the shard did not lose them)`,
    );
    ns.hardState.commit = commitCap;
  }
  ns.hardState.commit = Math.max(ns.hardState.commit, ns.snapIndex);
  if (r.needed) a.newState = ns;
  return a;
}

/** Reads everything in `dir` (the node's data directory) and reports what it holds and any damage. */
export async function checkWal(dir: string): Promise<WalCheckReport> {
  const logDir = path.join(dir, 'log');
  let kv: KvStore | undefined;
  let openError: string | undefined;
  try {
    kv = await openKv(logDir);
  } catch (e) {
    openError = (e as { cause?: Error }).cause?.message ?? (e as Error).message;
  }
  try {
    return (await analyse(dir, kv, openError)).report;
  } finally {
    await kv?.close();
  }
}

export interface WalRepairResult {
  report: WalCheckReport;
  /** 'nothing-to-do', 'refused' (not repairable here: see report.repair.blockers), 'declined' (not confirmed), 'repaired'. */
  outcome: 'nothing-to-do' | 'refused' | 'declined' | 'repaired';
  /** First log index dropped, and how many stored entries were dropped. */
  truncatedFrom?: number;
  droppedEntries: number;
  compactedTo?: number;
  lostAndFound?: string;
  movedSnapshots: string[];
  removedTempFiles: string[];
  commitLowered?: { from: number; to: number };
}

/**
 * Repairs what checkWal found, if it can be repaired without guessing: truncates a damaged
 * log tail (saving the dropped entries to lost+found/), sets damaged snapshots aside and
 * removes temporary files. Touches nothing valid in the kept log. `confirm` sees the report
 * (with report.repair.actions) and decides.
 */
export async function repairWal(dir: string, opts: { confirm: (report: WalCheckReport) => boolean | Promise<boolean> }): Promise<WalRepairResult> {
  const logDir = path.join(dir, 'log');
  let kv: KvStore | undefined;
  let openError: string | undefined;
  try {
    kv = await openKv(logDir);
  } catch (e) {
    openError = (e as { cause?: Error }).cause?.message ?? (e as Error).message;
  }
  try {
    const a = await analyse(dir, kv, openError);
    const report = a.report;
    const res: WalRepairResult = { report, outcome: 'nothing-to-do', droppedEntries: 0, movedSnapshots: [], removedTempFiles: [] };
    if (!report.repair.possible) return { ...res, outcome: 'refused' };
    if (!report.repair.needed && report.tempFiles.length === 0) return res;
    if (!(await opts.confirm(report))) return { ...res, outcome: 'declined' };
    for (const t of report.tempFiles) await fs.rm(t, { force: true });
    res.removedTempFiles = report.tempFiles;
    if (a.damagedSnapshots.length > 0) {
      const dd = path.join(dir, 'snap', 'damaged');
      await fs.mkdir(dd, { recursive: true });
      for (const p of a.damagedSnapshots) {
        const to = path.join(dd, path.basename(p));
        await fs.rename(p, to);
        res.movedSnapshots.push(to);
      }
    }
    if (a.newState && kv) {
      const old = a.scan!.state!;
      const ns = a.newState;
      // Save what is dropped (raw values, damaged or not) before dropping it.
      const drops: number[] = [];
      for (let i = old.truncIndex + 1; i <= Math.min(ns.truncIndex, old.lastIndex); i++) drops.push(i);
      for (let i = ns.lastIndex + 1; i <= old.lastIndex; i++) drops.push(i);
      if (drops.length > 0) {
        const lf = path.join(dir, 'lost+found');
        await fs.mkdir(lf, { recursive: true });
        const file = path.join(lf, `log-${drops[0]}-${drops[drops.length - 1]}-${process.pid}-${Date.now()}.jsonl`);
        const fh = await fs.open(file, 'wx');
        for (const i of drops) {
          const v = kv.getSync(entryKey(i));
          if (v !== undefined) await fh.write(JSON.stringify({ index: i, value: v.toString('base64') }) + '\n');
        }
        await fh.sync();
        await fh.close();
        res.lostAndFound = file;
      }
      await kv.write([{ type: 'put', key: Buffer.from('mstate', 'latin1'), value: encodeState(ns) }], true);
      for (let k = 0; k < drops.length; k += 10000) {
        const ops: KvOp[] = drops.slice(k, k + 10000).map((i) => ({ type: 'del', key: entryKey(i) }));
        await kv.write(ops, true);
      }
      res.droppedEntries = drops.length;
      if (ns.lastIndex < old.lastIndex) res.truncatedFrom = ns.lastIndex + 1;
      if (ns.truncIndex > old.truncIndex) res.compactedTo = ns.truncIndex;
      if (ns.hardState.commit < old.hardState.commit) res.commitLowered = { from: old.hardState.commit, to: ns.hardState.commit };
    }
    return { ...res, outcome: 'repaired' };
  } finally {
    await kv?.close();
  }
}

/** The report as `keel wal check` prints it. */
export function formatWalReport(r: WalCheckReport): string {
  const L: string[] = [];
  L.push(`keel wal check: ${r.dir}`);
  const g = r.log;
  if (g.openError) L.push(`  log ${g.path}: cannot open: ${g.openError}`);
  else {
    L.push(`  log ${g.path}`);
    if (g.hardState) L.push(`    hard state: term ${g.hardState.term}, vote ${g.hardState.vote}, commit ${g.hardState.commit}`);
    else if (!g.stateError) L.push('    empty (a new node)');
    if (g.stateError) L.push(`    state record: UNUSABLE: ${g.stateError}`);
    if (g.hardState) {
      L.push(`    entries: ${g.entries} valid, index ${g.firstIndex}..${g.lastIndex}` + (g.lastValidIndex >= g.firstIndex ? `, last valid ${g.lastValidIndex} (term ${g.lastValidTerm})` : ''));
    }
    if (g.conf) L.push(`    membership as of ${g.conf.index}: voters ${g.conf.confState.voters.join(',') || '-'}, learners ${g.conf.confState.learners.join(',') || '-'}`);
    if (g.damage) L.push(`    DAMAGE at index ${g.damage.index}: ${g.damage.reason}`);
    if (g.staleEntries > 0) L.push(`    stale entries awaiting deletion: ${g.staleEntries}`);
  }
  L.push(`  snapshots (${r.snapshots.length}):`);
  for (const s of r.snapshots) {
    const size = s.bytes > 0 ? `, ${s.bytes} bytes, ${s.blocks} blocks` : '';
    const status = s.role === 'damaged' ? `DAMAGED at byte ${s.error!.offset}: ${s.error!.reason}` : s.role + (s.why ? ` (${s.why})` : '');
    L.push(`    index ${s.index} term ${s.term}${size}: ${status}  ${s.path}`);
    if (s.confState) L.push(`      voters ${s.confState.voters.join(',') || '-'}, learners ${s.confState.learners.join(',') || '-'}`);
    if (s.context !== undefined) L.push(`      members: ${s.context.length > 2000 ? `${s.context.slice(0, 2000)}... (${s.context.length} chars)` : s.context}`);
  }
  for (const t of r.tempFiles) L.push(`    temporary: ${t}`);
  for (const n of r.notes) L.push(`  note: ${n}`);
  if (r.ok) L.push('  status: OK');
  else {
    L.push(`  status: DAMAGED (${r.problems.length} problem${r.problems.length === 1 ? '' : 's'})`);
    for (const p of r.problems) L.push(`    - ${p}`);
    if (r.repair.possible) {
      L.push(`  \`keel wal repair --dir ${r.dir}\` would:`);
      for (const a of r.repair.actions) L.push(`    - ${a}`);
    } else {
      L.push('  not repairable by `keel wal repair`:');
      for (const b of r.repair.blockers) L.push(`    - ${b}`);
    }
  }
  return L.join('\n');
}
