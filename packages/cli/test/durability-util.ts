// Helpers for the durability tests: real `keel server` processes, a small pipelining RESP
// client, bounded waits, and a digest of a node's whole state. Every process started here is
// killed by killAll() and every directory made here is removed by removeDirs().

import { spawn, ChildProcess, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort, Reply, ReplyError, RespConn } from '@keel/testkit';

export const keelMain = path.resolve(__dirname, '..', 'src', 'main.js');
export const HOST = '127.0.0.1';

const procs = new Set<ChildProcess>();
const dirs: string[] = [];

export function tmpDir(prefix: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `keel-${prefix}-`));
  dirs.push(d);
  return d;
}

export function removeDirs(): void {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Resolves or rejects as p does, or rejects after ms (the timer does not outlive it). */
export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (t = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms)))]);
  } finally {
    clearTimeout(t);
  }
}

export async function until<T>(f: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 10000, everyMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

export { freePort };

/** Two free ports p, p + 10000? Not guaranteed; tests give cluster ports explicitly (@port). */
export interface KeelProcess {
  proc: ChildProcess;
  out(): string;
  exited: Promise<number | null>;
  /** SIGKILL, then wait for the exit (bounded). */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts `keel server args`; resolves once it says it is ready (or exits: see exited). */
export async function startKeel(args: string[], timeoutMs = 15000): Promise<KeelProcess> {
  const proc = spawn(process.execPath, [keelMain, 'server', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  procs.add(proc);
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) =>
    proc.on('exit', (c) => {
      procs.delete(proc);
      resolve(c);
    }),
  );
  const kp: KeelProcess = {
    proc,
    out: () => out,
    exited,
    kill: async (signal = 'SIGKILL') => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      await within(exited, 10000, `pid ${proc.pid} to exit on ${signal}`);
    },
  };
  let done = false;
  void exited.then(() => (done = true));
  await until(() => done || /Ready to accept connections/.test(out), `keel ${args.join(' ')} to start`, timeoutMs);
  return kp;
}

export function killAll(): void {
  for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
}

/** Runs the keel CLI to completion (wal check / repair). */
export function keelSync(args: string[]): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, [keelMain, ...args], { encoding: 'utf8', timeout: 30000 });
  return { code: r.status, out: (r.stdout ?? '') + (r.stderr ?? '') };
}

// ---------------------------------------------------------------------------------------------
// A pipelining RESP2 client: @keel/testkit's, connected to a loopback port

export type { Reply } from '@keel/testkit';
export { ConnectionLost as ConnectionClosed, ReplyError } from '@keel/testkit';

export type Conn = RespConn;
export const Conn = {
  connect: (port: number, timeoutMs = 3000): Promise<RespConn> => RespConn.connect(HOST, port, timeoutMs),
};

export async function ok(c: Conn, args: Array<string | number>): Promise<Reply> {
  const r = await c.cmd(args);
  if (r instanceof ReplyError) throw new Error(`${args.join(' ')}: -${r.message}`);
  return r;
}

/**
 * A digest of the whole state of db 0: every key with its type, its value (collections in a
 * canonical order) and whether it expires. Equal digests: the same data.
 */
export async function digest(c: Conn): Promise<{ keys: number; sha: string }> {
  const keys = ((await ok(c, ['KEYS', '*'])) as string[]).sort();
  const h = createHash('sha256');
  for (const k of keys) {
    const type = (await ok(c, ['TYPE', k])) as string;
    let v: Reply;
    if (type === 'string') v = await ok(c, ['GET', k]);
    else if (type === 'list') v = await ok(c, ['LRANGE', k, 0, -1]);
    else if (type === 'hash') v = pairs((await ok(c, ['HGETALL', k])) as string[]);
    else if (type === 'set') v = ((await ok(c, ['SMEMBERS', k])) as string[]).sort();
    else if (type === 'zset') v = await ok(c, ['ZRANGE', k, 0, -1, 'WITHSCORES']);
    else v = type;
    const ttl = (await ok(c, ['PTTL', k])) as number;
    h.update(JSON.stringify([k, type, v, ttl >= 0]));
  }
  return { keys: keys.length, sha: h.digest('hex') };
}

function pairs(flat: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < flat.length; i += 2) out.push(`${flat[i]}=${flat[i + 1]}`);
  return out.sort();
}
