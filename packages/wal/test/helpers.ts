// Shared by the WAL tests: temporary directories (removed afterwards) and entry builders.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Entry } from '@keel/raft';

const dirs: string[] = [];

export function tmpDir(tag = 'wal'): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `keel-${tag}-`));
  dirs.push(d);
  return d;
}

export function cleanupDirs(): void {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
}

const enc = new TextEncoder();

export function entry(index: number, term: number, data = `v${index}.${term}`): Entry {
  return { index, term, type: 'normal', data: enc.encode(data) };
}

/** Entries lo..hi inclusive, all of `term`. */
export function ents(lo: number, hi: number, term: number, size?: number): Entry[] {
  const out: Entry[] = [];
  for (let i = lo; i <= hi; i++) out.push(size === undefined ? entry(i, term) : { index: i, term, type: 'normal', data: new Uint8Array(size).fill(i & 0xff) });
  return out;
}

export function summary(es: Entry[]): string[] {
  return es.map((e) => `${e.term}/${e.index}:${new TextDecoder().decode(e.data)}`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
