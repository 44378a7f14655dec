// `keel wal check` and `keel wal repair` through their entry points (runWalCheck,
// runWalRepair), with stdin/stdout/stderr as in-memory streams.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { DurableStorage, entryKey } from '@keel/wal';
import { runWalCheck, runWalRepair, WalIo } from '../src/wal';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function io(input?: string): WalIo & { out: () => string; err: () => string } {
  const stdin = new PassThrough();
  if (input !== undefined) stdin.end(input);
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let o = '';
  let e = '';
  stdout.on('data', (d: Buffer) => (o += d.toString()));
  stderr.on('data', (d: Buffer) => (e += d.toString()));
  return { stdin, stdout, stderr, out: () => o, err: () => e };
}

async function damagedDir(): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keel-cli-wal-'));
  dirs.push(dir);
  const s = await DurableStorage.open(dir);
  const enc = new TextEncoder();
  await s.persist({ entries: Array.from({ length: 20 }, (_, i) => ({ index: i + 1, term: 1, type: 'normal' as const, data: enc.encode(`e${i + 1}`) })), hardState: { term: 1, vote: 1, commit: 20 } });
  // Rot entry 15 through the open store's own handle (LevelDB is locked to one opener).
  const kv = (s as unknown as { kv: { getSync(k: Buffer): Buffer; write(ops: unknown[], sync: boolean): Promise<void> } }).kv;
  const v = Buffer.from(kv.getSync(entryKey(15)));
  v[v.length - 1] ^= 1;
  await kv.write([{ type: 'put', key: entryKey(15), value: v }], true);
  await s.close();
  return dir;
}

test('check: usage errors exit 2', async () => {
  const t = io();
  expect(await runWalCheck([], t)).toBe(2);
  expect(t.err()).toMatch(/missing --dir/);
  expect(await runWalRepair(['--bogus'], io())).toBe(2);
});

test('check prints the report and exits 1 on damage; --json gives the structure', async () => {
  const dir = await damagedDir();
  const t = io();
  expect(await runWalCheck(['--dir', dir], t)).toBe(1);
  expect(t.out()).toMatch(/hard state: term 1, vote 1, commit 20/);
  expect(t.out()).toMatch(/DAMAGE at index 15: entry 15: checksum mismatch/);
  expect(t.out()).toContain(`keel wal repair --dir ${dir}`);
  expect(t.out()).toMatch(/truncate the log to end at index 14/);
  const j = io();
  expect(await runWalCheck(['--dir', dir, '--json'], j)).toBe(1);
  expect(JSON.parse(j.out()).log.damage.index).toBe(15);
});

test('repair asks, and "n" (or end of input) changes nothing', async () => {
  const dir = await damagedDir();
  const t = io('n\n');
  expect(await runWalRepair(['--dir', dir], t)).toBe(1);
  expect(t.out()).toMatch(/Continue\? \[y\/N\]/);
  expect(t.out()).toMatch(/nothing was changed/);
  expect(await runWalRepair(['--dir', dir], io(''))).toBe(1);
  expect(await runWalCheck(['--dir', dir], io())).toBe(1);
});

test('repair with "y" truncates, then check is clean and the node starts', async () => {
  const dir = await damagedDir();
  const t = io('y\n');
  expect(await runWalRepair(['--dir', dir], t)).toBe(0);
  expect(t.out()).toMatch(/log truncated: entries from index 15 dropped/);
  expect(t.out()).toMatch(/commit index lowered from 20 to 14/);
  expect(await runWalCheck(['--dir', dir], io())).toBe(0);
  const s = await DurableStorage.open(dir);
  expect(s.lastIndex()).toBe(14);
  await s.close();
});

test('repair --yes does not read stdin', async () => {
  const dir = await damagedDir();
  const t = io(); // stdin never ends: would hang if read
  expect(await runWalRepair(['--dir', dir, '--yes'], t)).toBe(0);
  expect(t.out()).not.toMatch(/Continue\?/);
  expect(await runWalRepair(['--dir', dir, '--yes'], io())).toBe(0); // nothing to do now
});
