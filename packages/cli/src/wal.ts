// `keel wal check --dir D` and `keel wal repair --dir D [--yes]`: what a node's data
// directory holds (log, hard state, snapshots) and any damage; repair truncates a damaged
// log tail and sets damaged snapshots aside after confirmation, as `redis-check-aof --fix`.

import * as readline from 'node:readline';
import { checkWal, formatWalReport, repairWal, WalCheckReport } from '@keel/wal';

export interface WalIo {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

const defaultIo = (): WalIo => ({ stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });

interface Parsed {
  dir?: string;
  yes: boolean;
  json: boolean;
  error?: string;
}

function parse(argv: readonly string[]): Parsed {
  const p: Parsed = { yes: false, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--dir' || a === '-d') p.dir = argv[++i];
    else if (a.startsWith('--dir=')) p.dir = a.slice(6);
    else if (a === '--yes' || a === '-y') p.yes = true;
    else if (a === '--json') p.json = true;
    else if (a === 'wal' || a === 'check' || a === 'repair') continue; // tolerate the command words
    else p.error = `unknown argument: ${a}`;
  }
  if (!p.error && !p.dir) p.error = 'missing --dir <data directory>';
  return p;
}

/**
 * `keel wal check --dir D [--json]`. Prints the report; resolves with the exit code:
 * 0 nothing damaged, 1 damage found, 2 usage error.
 */
export async function runWalCheck(argv: readonly string[], io: WalIo = defaultIo()): Promise<number> {
  const p = parse(argv);
  if (p.error) {
    io.stderr.write(`keel wal check: ${p.error}\nusage: keel wal check --dir <data directory> [--json]\n`);
    return 2;
  }
  const report = await checkWal(p.dir!);
  io.stdout.write((p.json ? JSON.stringify(report, null, 2) : formatWalReport(report)) + '\n');
  return report.ok ? 0 : 1;
}

function ask(io: WalIo, question: string): Promise<boolean> {
  return new Promise((resolve) => {
    const rl = readline.createInterface({ input: io.stdin, output: io.stdout, terminal: false });
    let answered = false;
    io.stdout.write(question);
    rl.once('line', (line) => {
      answered = true;
      rl.close();
      resolve(/^\s*y(es)?\s*$/i.test(line));
    });
    rl.once('close', () => {
      if (!answered) resolve(false); // end of input: no
    });
  });
}

/**
 * `keel wal repair --dir D [--yes]`. Prints what it found and what it would do, asks
 * "Continue? [y/N]" on stdin unless --yes, then repairs. Resolves with the exit code:
 * 0 repaired or nothing to repair, 1 declined or not repairable, 2 usage error.
 */
export async function runWalRepair(argv: readonly string[], io: WalIo = defaultIo()): Promise<number> {
  const p = parse(argv);
  if (p.error) {
    io.stderr.write(`keel wal repair: ${p.error}\nusage: keel wal repair --dir <data directory> [--yes]\n`);
    return 2;
  }
  const res = await repairWal(p.dir!, {
    confirm: async (report: WalCheckReport) => {
      io.stdout.write(formatWalReport(report) + '\n');
      if (!report.repair.needed) io.stdout.write('Only temporary files to remove.\n');
      if (p.yes) return true;
      return ask(io, 'Continue? [y/N]: ');
    },
  });
  const out = io.stdout;
  switch (res.outcome) {
    case 'nothing-to-do':
      out.write(formatWalReport(res.report) + '\nNothing to repair.\n');
      return 0;
    case 'refused':
      out.write(formatWalReport(res.report) + '\n');
      io.stderr.write('keel wal repair: this damage cannot be repaired from this directory (see above); nothing was changed.\n');
      return 1;
    case 'declined':
      out.write('Not repaired; nothing was changed.\n');
      return 1;
    case 'repaired': {
      const lines = ['Repaired:'];
      if (res.truncatedFrom !== undefined) lines.push(`  log truncated: entries from index ${res.truncatedFrom} dropped`);
      if (res.compactedTo !== undefined) lines.push(`  log compacted through index ${res.compactedTo} (covered by a valid snapshot)`);
      if (res.droppedEntries > 0) lines.push(`  ${res.droppedEntries} stored entries dropped, saved to ${res.lostAndFound}`);
      if (res.commitLowered) lines.push(`  commit index lowered from ${res.commitLowered.from} to ${res.commitLowered.to}`);
      for (const m of res.movedSnapshots) lines.push(`  damaged snapshot moved to ${m}`);
      if (res.removedTempFiles.length > 0) lines.push(`  ${res.removedTempFiles.length} temporary file(s) removed`);
      out.write(lines.join('\n') + '\n');
      return 0;
    }
  }
}
