// Test harness for the proof that Keel is Redis (issue 2, sections 5 and 6).
//
// - start and stop real server processes (redis-server, Keel, or any command line) on free
//   loopback ports with temporary data directories, with every wait bounded;
// - a raw RESP client that sends a command as a multibulk of Buffers and returns the raw bytes
//   of each reply frame (RESP2 and RESP3, nested aggregates, attributes, push messages), so
//   replies can be compared byte for byte;
// - the seeded command generator and the runner of the differential test, shared by
//   differential.test.ts and scripts/differential.js (which requires the compiled file):
//   issue 2's commands, and (when the target has them: probeOtherTypes) issue 3's lists,
//   hashes, sets, sorted sets and SORT, with the comparators of the Comparator type below.
//
// Environment:
//   KEEL_TARGET=redis         run a second redis-server where Keel would run (validates the harness)
//   KEEL_CMD='cmd {port} {dir}'  any server command line in place of Keel (split on spaces)

import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { KeelServer } from '../src';
import { freePort } from '@keel/testkit';

export const repoRoot = path.resolve(__dirname, '..', '..', '..', '..');
export const keelMain = path.join(repoRoot, 'packages', 'cli', 'dist', 'src', 'main.js');
export const HOST = '127.0.0.1';

// ---------------------------------------------------------------------------------------------
// Processes

export interface ServerSpec {
  name: string;
  command: string;
  args(port: number, dir: string): string[];
}

export const redisSpec: ServerSpec = {
  name: 'redis',
  command: 'redis-server',
  args: (port, dir) => [
    '--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no', '--dir', dir,
    '--logfile', '', '--daemonize', 'no',
  ],
};

export const keelSpec: ServerSpec = {
  name: 'keel',
  command: process.execPath,
  args: (port, dir) => [keelMain, 'server', '--port', String(port), '--dir', dir],
};

/** The server under test: Keel, unless KEEL_TARGET=redis or KEEL_CMD says otherwise. */
export function targetSpec(): ServerSpec {
  const custom = process.env.KEEL_CMD;
  if (custom !== undefined && custom.trim() !== '') {
    const words = custom.trim().split(/\s+/);
    return {
      name: 'custom',
      command: words[0],
      args: (port, dir) => words.slice(1).map((w) => w.replace('{port}', String(port)).replace('{dir}', dir)),
    };
  }
  if (process.env.KEEL_TARGET === 'redis') return { ...redisSpec, name: 'redis-as-target' };
  return keelSpec;
}

export { freePort };

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const liveProcesses = new Set<ChildProcess>();
const liveHandles = new Set<ServerHandle>();
process.on('exit', () => {
  for (const p of liveProcesses) {
    try { p.kill('SIGKILL'); } catch { /* already gone */ }
  }
});

export interface ServerHandle {
  name: string;
  port: number;
  dir: string;
  pid: number;
  proc: ChildProcess;
  /** The last 64 KiB of the process's stdout and stderr. */
  output(): string;
  exited(): boolean;
  stop(): Promise<void>;
}

const OUTPUT_KEEP_BYTES = 64 * 1024;

export interface StartOptions {
  startTimeoutMs?: number;
  extraArgs?: string[];
}

/** Starts the server on a free port and waits (bounded) until PING answers. Retries port races. */
export async function startServer(spec: ServerSpec, options: StartOptions = {}): Promise<ServerHandle> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `keel-test-${spec.name}-`));
    const handle = spawnServer(spec, port, dir, options.extraArgs ?? []);
    try {
      await waitForPing(port, options.startTimeoutMs ?? 20000, handle);
      return handle;
    } catch (err) {
      lastError = err;
      const diedEarly = handle.exited(); // most likely lost a race for the port: try another
      await handle.stop();
      if (!diedEarly) break; // a timeout: do not try again
    }
  }
  throw lastError;
}

/** Stops every server this process started and has not stopped yet: the safety net for afterAll. */
export async function stopEverything(): Promise<void> {
  await stopAll(...liveHandles);
}

function spawnServer(spec: ServerSpec, port: number, dir: string, extraArgs: string[]): ServerHandle {
  const proc = spawn(spec.command, [...spec.args(port, dir), ...extraArgs], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  liveProcesses.add(proc);
  // A test runner must not wait for a server it forgot: the exit hook above kills it.
  proc.unref();
  (proc.stdout as unknown as { unref?: () => void } | null)?.unref?.();
  (proc.stderr as unknown as { unref?: () => void } | null)?.unref?.();
  let out = '';
  let exitedFlag = false;
  const keep = (chunk: Buffer) => {
    out += chunk.toString('utf8');
    if (out.length > OUTPUT_KEEP_BYTES) out = out.slice(out.length - OUTPUT_KEEP_BYTES);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  proc.on('error', (err) => { keep(Buffer.from(`spawn error: ${err.message}\n`)); exitedFlag = true; });
  const exitPromise = new Promise<void>((resolve) => {
    proc.on('exit', (code, signal) => {
      exitedFlag = true;
      liveProcesses.delete(proc);
      keep(Buffer.from(`[exited code=${code} signal=${signal}]\n`));
      resolve();
    });
    proc.on('error', () => resolve());
  });
  const waitExit = (ms: number) => new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    void exitPromise.then(() => { clearTimeout(timer); resolve(true); });
  });
  let stopped: Promise<void> | undefined;
  const handle: ServerHandle = {
    name: spec.name,
    port,
    dir,
    pid: proc.pid ?? -1,
    proc,
    output: () => out,
    exited: () => exitedFlag,
    stop: () => {
      stopped ??= (async () => {
        if (!exitedFlag) {
          proc.kill('SIGTERM');
          if (!(await waitExit(5000))) {
            proc.kill('SIGKILL');
            await waitExit(3000);
          }
        }
        fs.rmSync(dir, { recursive: true, force: true });
        liveHandles.delete(handle);
      })();
      return stopped;
    },
  };
  liveHandles.add(handle);
  return handle;
}

/** Resolves once the server at port answers PING with +PONG; rejects after timeoutMs. */
export async function waitForPing(port: number, timeoutMs: number, handle?: ServerHandle): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = 'no attempt';
  while (Date.now() < deadline) {
    if (handle?.exited()) {
      throw new Error(`${handle.name} exited before answering PING:\n${handle.output()}`);
    }
    try {
      const client = await RespClient.connect(port, HOST, 1000);
      try {
        const reply = await client.call(['PING'], 1000);
        const text = reply.toString('latin1');
        if (text === '+PONG\r\n' || text.startsWith('-NOAUTH')) return;
        lastError = `PING replied ${escapeBytes(reply)}`;
      } finally {
        client.close();
      }
    } catch (err) {
      lastError = (err as Error).message;
    }
    await sleep(50);
  }
  const tail = handle ? `\n${handle.output()}` : '';
  throw new Error(`server on port ${port} did not answer PING within ${timeoutMs} ms (${lastError})${tail}`);
}

/** Stops every handle, ignoring errors, so that afterAll always cleans up. */
export async function stopAll(...handles: (ServerHandle | undefined)[]): Promise<void> {
  await Promise.all(handles.map((h) => (h ? h.stop().catch(() => undefined) : undefined)));
}

export function keelBuilt(): boolean {
  return fs.existsSync(keelMain);
}

// ---------------------------------------------------------------------------------------------
// RESP frames

const CR = 13;

function readLine(buf: Buffer, pos: number): { line: string; next: number } | undefined {
  const cr = buf.indexOf('\r\n', pos, 'latin1');
  if (cr < 0) return undefined;
  return { line: buf.toString('latin1', pos + 1, cr), next: cr + 2 };
}

function parseLength(line: string, type: string): number {
  if (!/^-?\d+$/.test(line)) throw new Error(`RESP: bad length ${JSON.stringify(line)} for type '${type}'`);
  return Number(line);
}

/**
 * Returns the offset just past the frame that starts at pos, or -1 if the buffer does not yet
 * hold the whole frame. Throws on bytes that are not RESP.
 */
export function frameEnd(buf: Buffer, pos: number): number {
  if (pos >= buf.length) return -1;
  const type = String.fromCharCode(buf[pos]);
  const head = readLine(buf, pos);
  if (head === undefined) return -1;
  switch (type) {
    case '+': case '-': case ':': case '_': case '#': case ',': case '(':
      return head.next;
    case '$': case '!': case '=': {
      const n = parseLength(head.line, type);
      if (n < 0) return head.next;
      const end = head.next + n + 2;
      if (end > buf.length) return -1;
      if (buf[end - 2] !== CR || buf[end - 1] !== 10) throw new Error('RESP: bulk not terminated by CRLF');
      return end;
    }
    case '*': case '~': case '>': case '%': case '|': {
      let n = parseLength(head.line, type);
      if (n < 0) return head.next;
      if (type === '%' || type === '|') n *= 2;
      let p = head.next;
      for (let i = 0; i < n; i++) {
        p = frameEnd(buf, p);
        if (p < 0) return -1;
      }
      // An attribute is metadata that precedes the reply it belongs to.
      return type === '|' ? frameEnd(buf, p) : p;
    }
    default:
      throw new Error(`RESP: unexpected type byte 0x${buf[pos].toString(16)} in ${escapeBytes(buf.subarray(pos, pos + 40))}`);
  }
}

export interface RespValue {
  type: string;
  raw: Buffer;
  /** The line for simple types, the payload for bulk types; undefined for null and aggregates. */
  text?: string;
  items?: RespValue[];
  isNull: boolean;
}

/** Parses one complete frame (as returned by RespClient) into a tree that keeps raw bytes. */
export function parseFrame(buf: Buffer, pos = 0): RespValue {
  const end = frameEnd(buf, pos);
  if (end < 0) throw new Error('RESP: incomplete frame');
  const type = String.fromCharCode(buf[pos]);
  const head = readLine(buf, pos)!;
  const raw = buf.subarray(pos, end);
  switch (type) {
    case '$': case '!': case '=': {
      const n = parseLength(head.line, type);
      if (n < 0) return { type, raw, isNull: true };
      return { type, raw, text: buf.toString('latin1', head.next, head.next + n), isNull: false };
    }
    case '*': case '~': case '>': case '%': case '|': {
      let n = parseLength(head.line, type);
      if (n < 0) return { type, raw, isNull: true };
      if (type === '%' || type === '|') n *= 2;
      const items: RespValue[] = [];
      let p = head.next;
      for (let i = 0; i < n; i++) {
        const e = frameEnd(buf, p);
        items.push(parseFrame(buf, p));
        p = e;
      }
      return { type, raw, items, isNull: false };
    }
    default:
      return { type, raw, text: head.line, isNull: type === '_' };
  }
}

export function encodeCommand(args: (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`, 'latin1')];
  for (const a of args) {
    const b = typeof a === 'string' ? Buffer.from(a, 'utf8') : a;
    parts.push(Buffer.from(`$${b.length}\r\n`, 'latin1'), b, Buffer.from('\r\n', 'latin1'));
  }
  return Buffer.concat(parts);
}

/** Printable form of bytes: ASCII as is, \r \n \t and \xHH escapes. Truncated to max chars. */
export function escapeBytes(b: Buffer | string, max = 400): string {
  const buf = typeof b === 'string' ? Buffer.from(b, 'latin1') : b;
  let s = '';
  for (const c of buf) {
    if (c === 13) s += '\\r';
    else if (c === 10) s += '\\n';
    else if (c === 9) s += '\\t';
    else if (c === 92) s += '\\\\';
    else if (c >= 32 && c < 127) s += String.fromCharCode(c);
    else s += '\\x' + c.toString(16).padStart(2, '0');
    if (s.length > max) return s.slice(0, max) + `... (${buf.length} bytes)`;
  }
  return s;
}

/** A command as redis-cli would echo it: words quoted when they hold unusual bytes. */
export function formatCommand(args: (string | Buffer)[]): string {
  return args
    .map((a) => {
      const b = typeof a === 'string' ? Buffer.from(a, 'utf8') : a;
      const plain = b.length > 0 && [...b].every((c) => c > 32 && c < 127 && c !== 34 && c !== 39 && c !== 92);
      return plain ? b.toString('latin1') : `"${escapeBytes(b, 200).replace(/"/g, '\\"')}"`;
    })
    .join(' ');
}

// ---------------------------------------------------------------------------------------------
// Raw client

export class RespClient {
  private buf: Buffer = Buffer.alloc(0);
  private waiter: (() => void) | undefined;
  private closedReason: string | undefined;

  private constructor(private readonly sock: net.Socket) {
    sock.setNoDelay(true);
    sock.on('data', (chunk: Buffer) => {
      this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
      this.wake();
    });
    sock.on('error', (err) => { this.closedReason ??= `socket error: ${err.message}`; this.wake(); });
    sock.on('close', () => { this.closedReason ??= 'connection closed by server'; this.wake(); });
  }

  static connect(port: number, host = HOST, timeoutMs = 5000): Promise<RespClient> {
    return new Promise((resolve, reject) => {
      const sock = net.createConnection({ port, host });
      const timer = setTimeout(() => { sock.destroy(); reject(new Error(`connect to ${host}:${port} timed out`)); }, timeoutMs);
      sock.once('error', (err) => { clearTimeout(timer); reject(err); });
      sock.once('connect', () => {
        clearTimeout(timer);
        sock.removeAllListeners('error');
        resolve(new RespClient(sock));
      });
    });
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  get closed(): boolean {
    return this.closedReason !== undefined;
  }

  /** Bytes received and not yet returned as frames. */
  buffered(): number {
    return this.buf.length;
  }

  write(args: (string | Buffer)[]): void {
    this.sock.write(encodeCommand(args));
  }

  writeRaw(bytes: Buffer | string): void {
    this.sock.write(bytes);
  }

  /** The raw bytes of the next complete reply frame. Rejects on timeout or close. */
  async readFrame(timeoutMs = 5000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const end = frameEnd(this.buf, 0);
      if (end >= 0) {
        const frame = Buffer.from(this.buf.subarray(0, end));
        this.buf = this.buf.subarray(end);
        return frame;
      }
      if (this.closedReason !== undefined) throw new Error(this.closedReason);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no complete reply within ${timeoutMs} ms (buffered: ${escapeBytes(this.buf, 200)})`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => { this.waiter = undefined; resolve(); }, left);
        this.waiter = () => { clearTimeout(timer); resolve(); };
      });
    }
  }

  async call(args: (string | Buffer)[], timeoutMs = 5000): Promise<Buffer> {
    this.write(args);
    return this.readFrame(timeoutMs);
  }

  /** Sends one command and reads exactly n reply frames (SUBSCRIBE a b c answers three). */
  async callN(args: (string | Buffer)[], n: number, timeoutMs = 5000): Promise<Buffer[]> {
    this.write(args);
    const frames: Buffer[] = [];
    for (let i = 0; i < n; i++) frames.push(await this.readFrame(timeoutMs));
    return frames;
  }

  close(): void {
    this.closedReason ??= 'closed by client';
    this.sock.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// Seeded generator

/** mulberry32: a small, fast, well-mixed 32-bit PRNG. Returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * How two replies are compared. 'exact' is the rule; the others are the documented exceptions
 * (docs/benchmarks.md, "Differential test"):
 * - sorted: the order of the elements is unspecified (KEYS, PUBSUB CHANNELS);
 * - scan: [cursor, keys] with the keys in any order (SCAN);
 * - ttl: integers compared as -2 / -1 / non-negative, since the clocks of two servers differ
 *   by the time between the two sends (TTL, PTTL, EXPIRETIME, PEXPIRETIME after a relative TTL);
 * - type: only the reply type and whether it is null; an error exactly (RANDOMKEY, HELLO, INFO,
 *   TIME, COMMAND COUNT);
 * - exec: an EXEC array compared element by element with the queued commands' comparators;
 * - unsub: UNSUBSCRIBE / PUNSUBSCRIBE without arguments answer one frame a channel in the
 *   server's hash order: the channels are compared as a set, the counts in order;
 * - encoding: OBJECT ENCODING of a string may be int, embstr or raw on either side: Redis's
 *   answer depends on how the value was written (APPEND, INCRBYFLOAT...), Keel's on the value
 *   (docs/compatibility.md); other encodings, errors and nulls are compared exactly;
 * - publish: the PUBLISH reply, then the messages the subscriber got; the pattern messages
 *   (pmessage) come in the order of the server's pattern table, so they are compared as a set;
 * - sortnum: SORT without ALPHA. Redis 7.0's sort.c tests errno after strtod without clearing
 *   it first, so a stale ERANGE left by an earlier command makes it answer "One or more scores
 *   can't be converted into double" spuriously (docs/compatibility.md). When Redis answers that
 *   and Keel does not, the runner clears errno on redis-server (BLPOP with a negative timeout
 *   parses a float with errno = 0 and fails) and sends the SORT again: that reply must match.
 *   Inside EXEC, Keel's array is accepted in place of that error.
 * - bag, random: see BagComparator and RandomComparator (issue 3's collections).
 */
export type Comparator =
  'exact' | 'sorted' | 'scan' | 'ttl' | 'type' | 'encoding' | 'unsub' | 'publish' | 'sortnum' | ExecComparator |
  BagComparator | RandomComparator;

/** An EXEC array: element by element with the queued commands' comparators. */
export interface ExecComparator { exec: Comparator[]; commands: string[] }

/**
 * Issue 3's collections, where the order of a reply is the hash table's (HGETALL, HKEYS, HVALS,
 * SMEMBERS, SINTER/SUNION/SDIFF, SORT BY nosort of a set, HSCAN/SSCAN/ZSCAN):
 * - the reply is compared as a multiset of groups of `group` elements (2: field and value);
 * - if the order differs, the runner asks redis-server for OBJECT ENCODING of `keys`: unless
 *   one of them has an encoding in `unordered` (default: hashtable), the order had to be the
 *   same (listpack and intset iterate in a fixed order, which Keel keeps), and it is a mismatch;
 * - intResult: the reply comes from a temporary set (SUNION, SDIFF), which Redis builds as an
 *   intset while it can: when every element is a canonical integer and there are at most
 *   set-max-intset-entries (512) of them, the order had to be ascending on both;
 * - scan: [cursor, elements]: both cursors 0 and the elements as a multiset; a non-zero cursor
 *   (a partial pass over a hash table) only if the encoding is unordered;
 * - loose: only the reply type and length (SORT BY nosort LIMIT of a hashtable set takes a
 *   window of the hash order, so the elements themselves may differ), with the same encoding
 *   rule for an exact comparison.
 */
export interface BagComparator {
  bag: number;
  keys: Buffer[];
  unordered?: string[];
  intResult?: boolean;
  scan?: boolean;
  loose?: boolean;
}

/**
 * Random picks (SRANDMEMBER, SPOP, HRANDFIELD, ZRANDMEMBER): the same reply type and length,
 * each reply without duplicates when `distinct`, and (checked by the runner on each server,
 * outside MULTI) every element a member of that server's `key` (with its value or score when
 * `pairs`); for SPOP (`pop`), no popped element is still there and both sets have the same size.
 * The generator deletes the key right after SPOP, so the two servers' sets never diverge.
 */
export interface RandomComparator {
  random: 'set' | 'hash' | 'zset';
  key: Buffer;
  pairs: boolean;
  distinct: boolean;
  pop?: boolean;
}

export interface Step {
  /** Which connection sends it: the main one or the pub/sub subscriber. */
  conn: 'main' | 'sub';
  args: Buffer[];
  /** Reply frames to read: a count, or 'publish' (one frame on main, then as many on sub as it says). */
  frames: number | 'publish';
  compare: Comparator;
}

const KEYS: Buffer[] = ['k0', 'k1', 'k2', 'k3', 'k4', '{t}k5', '', '\x00\xff\r\nk']
  .map((k) => Buffer.from(k, 'latin1'));

const NUMBERS = [
  '0', '1', '-1', '2', '10', '100', '-100', '007', '-0', '+1', ' 1', '1 ', '1e3', '1.5', '-2.5', '0.1',
  '3.0', '10.5', '1e-5', '5e-324', 'abc', '', '0x10', 'inf', '-inf', '+inf', 'nan', '1_000',
  '9223372036854775807', '-9223372036854775808', '9223372036854775808', '-9223372036854775809',
  '18446744073709551616', '4611686018427387904', '1.7976931348623157e308', '1e309', '12345678901234567890123',
  '3.14159265358979323846', '0.30000000000000004', '1e17', '-1e17', '2.5e-3',
];

const INT_ARGS = [
  '0', '1', '-1', '2', '-2', '3', '5', '7', '-5', '10', '-10', '100', '1000', '-1000', '20', '64',
  '9223372036854775807', '-9223372036854775808', '9223372036854775808', '1e3', 'abc', '', ' 1', '1.5', '-0',
];

const PATTERNS = ['*', 'k*', 'k?', '*k*', 'k[0-2]', 'k[^0]', '{t}*', '\\{*', '', '[', 'k[', '*\\', '?', 'k[a-]*', 'K*'];

const CHANNELS = ['ch1', 'ch2', 'news.a', 'news.b', ''];
const CHANNEL_PATTERNS = ['ch*', 'news.*', '*', 'c?1', '[cn]*', 'x'];

const FUTURE_S = '4102444800'; // 2100-01-01: far enough that no test can cross it
const FUTURE_MS = '4102444800000';
const FUTURE2_S = '4133980800';

export interface GeneratorOptions {
  /** RESP version of the pass: RESP3 allows any command in subscribed mode. */
  resp: 2 | 3;
  /** Include LPUSH/SADD/HSET so that WRONGTYPE is exercised (needs the server to have them). */
  otherTypes: boolean;
}

type ArgFn = (g: CommandGenerator) => (string | Buffer)[];
interface CommandDef {
  weight: number;
  name: string;
  args: ArgFn;
  compare?: Comparator | ((args: (string | Buffer)[]) => Comparator);
  /** Not sent while MULTI is open (replies would arrive on another connection at EXEC). */
  noMulti?: boolean;
  frames?: 'publish';
  /** Never given an extra argument (ZRANK k m extra would be Keel's WITHSCORE syntax error). */
  noExtra?: boolean;
}

/**
 * Random command sequences over the commands of issues 2 and 3. The sequence depends only on the seed
 * and the options (never on the replies), so a seed replays exactly.
 */
export class CommandGenerator {
  readonly rand: () => number;
  private inMulti = false;
  /** After RESET (which goes back to RESP2) a RESP3 pass says HELLO 3 again. */
  private pendingHello = false;
  private queued: Comparator[] = [];
  private queuedText: string[] = [];
  private channels = new Set<string>();
  private patterns = new Set<string>();
  private followUps: { args: (string | Buffer)[]; compare: Comparator }[] = [];
  private readonly table: CommandDef[];
  private readonly totalWeight: number;

  constructor(readonly seed: number, readonly options: GeneratorOptions) {
    this.rand = mulberry32(seed);
    this.table = commandTable(options);
    this.totalWeight = this.table.reduce((s, c) => s + c.weight, 0);
  }

  int(n: number): number {
    return Math.floor(this.rand() * n);
  }
  chance(p: number): boolean {
    return this.rand() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
  key(): Buffer {
    return this.chance(0.75) ? KEYS[this.int(4)] : this.pick(KEYS);
  }
  keys(min: number, max: number): Buffer[] {
    const n = min + this.int(max - min + 1);
    return Array.from({ length: n }, () => this.key());
  }
  number(): string {
    return this.pick(NUMBERS);
  }
  intArg(): string {
    return this.chance(0.6) ? String(this.int(41) - 20) : this.pick(INT_ARGS);
  }
  bytes(maxLen: number): Buffer {
    const n = this.int(maxLen + 1);
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
  ascii(maxLen: number): string {
    const n = this.int(maxLen + 1);
    let s = '';
    for (let i = 0; i < n; i++) s += String.fromCharCode(97 + this.int(6)); // a..f: LCS finds matches
    return s;
  }
  value(): string | Buffer {
    const r = this.rand();
    if (r < 0.35) return this.number();
    if (r < 0.6) return this.ascii(12);
    if (r < 0.75) return this.bytes(10);
    if (r < 0.85) return this.pick(['', 'hello', 'foobar', 'x', '\x00', '\xff\xf0\x00']);
    if (r < 0.95) return 'v'.repeat(40 + this.int(10)); // around the 44-byte embstr limit
    return this.ascii(200);
  }
  db(): string {
    return this.chance(0.9) ? String(this.int(3)) : this.pick(['15', '16', '-1', 'abc', '1.0', '']);
  }
  relTtl(): string {
    return this.pick(['1000', '2000', '100000', '999999']);
  }

  /** Whether MULTI is open (blocking commands may then use timeout 0: they never block). */
  get multi(): boolean {
    return this.inMulti;
  }

  /** A command sent right after the current one, as is (SPOP is followed by DEL of its key). */
  followWith(args: (string | Buffer)[], compare: Comparator = 'exact'): void {
    this.followUps.push({ args, compare });
  }

  next(): Step {
    if (this.pendingHello) {
      this.pendingHello = false;
      return { conn: 'main', args: [Buffer.from('HELLO'), Buffer.from('3')], frames: 1, compare: 'type' };
    }
    const follow = this.followUps.shift();
    if (follow !== undefined) {
      const argBufs = follow.args.map((a) => (typeof a === 'string' ? Buffer.from(a, 'latin1') : a));
      let compare = follow.compare;
      if (this.inMulti) {
        this.queued.push(compare);
        this.queuedText.push(formatCommand(argBufs));
        compare = 'exact';
      }
      return { conn: 'main', args: argBufs, frames: 1, compare };
    }
    if (!this.inMulti && this.chance(0.08)) return this.subStep();
    let r = this.rand() * this.totalWeight;
    let def = this.table[this.table.length - 1];
    for (const c of this.table) {
      r -= c.weight;
      if (r < 0) { def = c; break; }
    }
    if (this.inMulti && def.noMulti) def = this.table[0];
    let args = [def.name, ...def.args(this)];
    let compare: Comparator = typeof def.compare === 'function' ? def.compare(args) : def.compare ?? 'exact';
    // Wrong arity now and then: no arguments, one fewer, or one more.
    // (Not for COMMAND: COMMAND, COMMAND INFO and COMMAND DOCS alone dump the whole table, in
    // hash order, which is one of the documented exceptions.)
    if (this.chance(0.03) && def.name !== 'COMMAND') {
      const k = this.int(3);
      const before = args.length;
      if (k === 0) args = [args[0]];
      else if (k === 1 && args.length > 1) args = args.slice(0, -1);
      else if (!def.noExtra) args = [...args, 'extra'];
      if (args.length !== before && typeof def.compare === 'function') compare = def.compare(args);
    }
    const argBufs = args.map((a) => (typeof a === 'string' ? Buffer.from(a, 'latin1') : a));
    argBufs[0] = Buffer.from(this.caseOf(args[0] as string), 'latin1');
    const name = (args[0] as string).toUpperCase();
    const argc = argBufs.length;
    let frames: Step['frames'] = 1;
    if (def.frames === 'publish' && argc === 3) {
      frames = 'publish';
      compare = 'publish';
    }

    if (name === 'RESET' && argc === 1) {
      // RESET is never queued: it ends MULTI, unwatches, selects db 0 and goes back to RESP2.
      this.inMulti = false;
      this.queued = [];
      this.queuedText = [];
      this.pendingHello = this.options.resp === 3;
    } else if (this.inMulti) {
      if (name === 'EXEC') {
        // Even a rejected EXEC (wrong arity) ends the transaction, with EXECABORT.
        if (argc === 1) compare = { exec: this.queued, commands: this.queuedText };
        this.inMulti = false;
        this.queued = [];
        this.queuedText = [];
      } else if (name === 'DISCARD' && argc === 1) {
        this.inMulti = false;
        this.queued = [];
        this.queuedText = [];
      } else if (!['MULTI', 'WATCH', 'EXEC', 'DISCARD', 'QUIT', 'RESET'].includes(name)) {
        this.queued.push(compare);
        this.queuedText.push(formatCommand(argBufs));
        compare = 'exact'; // +QUEUED or a queueing error
      }
      if (frames === 'publish') frames = 1;
    } else if (name === 'MULTI' && argc === 1) {
      this.inMulti = true;
      this.queued = [];
      this.queuedText = [];
    }
    return { conn: 'main', args: argBufs, frames, compare };
  }

  /** Forgets the connection state (after both servers were reset); the PRNG continues. */
  resetModel(): void {
    this.pendingHello = false;
    this.followUps = [];
    this.inMulti = false;
    this.queued = [];
    this.queuedText = [];
    this.channels.clear();
    this.patterns.clear();
  }

  private caseOf(name: string): string {
    const r = this.rand();
    if (r < 0.6) return name;
    if (r < 0.9) return name.toLowerCase();
    return [...name].map((c) => (this.chance(0.5) ? c.toLowerCase() : c)).join('');
  }

  /** A command on the subscriber connection; the model counts the frames it answers with. */
  private subStep(): Step {
    const r = this.rand();
    const step = (args: string[], frames: number, compare: Comparator = 'exact'): Step =>
      ({ conn: 'sub', args: args.map((a) => Buffer.from(a, 'latin1')), frames, compare });
    if (r < 0.3) {
      const chans = Array.from({ length: 1 + this.int(2) }, () => this.pick(CHANNELS));
      chans.forEach((c) => this.channels.add(c));
      return step(['SUBSCRIBE', ...chans], chans.length);
    }
    if (r < 0.45) {
      const pats = Array.from({ length: 1 + this.int(2) }, () => this.pick(CHANNEL_PATTERNS));
      pats.forEach((p) => this.patterns.add(p));
      return step(['PSUBSCRIBE', ...pats], pats.length);
    }
    if (r < 0.6) {
      if (this.chance(0.4)) {
        const n = Math.max(1, this.channels.size);
        this.channels.clear();
        return step(['UNSUBSCRIBE'], n, 'unsub');
      }
      const c = this.pick(CHANNELS);
      this.channels.delete(c);
      return step(['UNSUBSCRIBE', c], 1);
    }
    if (r < 0.7) {
      if (this.chance(0.4)) {
        const n = Math.max(1, this.patterns.size);
        this.patterns.clear();
        return step(['PUNSUBSCRIBE'], n, 'unsub');
      }
      const p = this.pick(CHANNEL_PATTERNS);
      this.patterns.delete(p);
      return step(['PUNSUBSCRIBE', p], 1);
    }
    if (r < 0.8) return step(this.chance(0.5) ? ['PING'] : ['PING', 'hi'], 1);
    if (r < 0.85) return step(['SUBSCRIBE'], 1); // wrong arity
    // Not a pub/sub command: refused in RESP2 subscribed mode, allowed in RESP3.
    return step(this.pick([['GET', 'k0'], ['SET', 'k1', 'from-sub'], ['ECHO', 'e'], ['DBSIZE']]), 1);
  }
}

function commandTable(opts: GeneratorOptions): CommandDef[] {
  // No SET ... EXAT <past>: Redis 7.0 stores such a key already expired, and DBSIZE counts it
  // until active expiry (timing) removes it.
  const setOptions = [
    [], [], [], ['NX'], ['XX'], ['GET'], ['KEEPTTL'], ['EX', '1000'], ['PX', '1000000'], ['EXAT', FUTURE_S],
    ['PXAT', FUTURE_MS], ['EX', '0'], ['EX', '-5'], ['EX', 'abc'], ['EXAT', '0'], ['PXAT', '-1'],
    ['EX', '1000', 'PX', '1000'], ['NX', 'XX'], ['NX', 'GET'], ['XX', 'GET'], ['KEEPTTL', 'EX', '1000'],
    ['EX', '9223372036854775807'], ['PX', '9223372036854775807'], ['FOO'], ['EX'], ['GET', 'KEEPTTL'], ['ex', '2000', 'get'],
  ];
  const getexOptions = [
    [], ['EX', '1000'], ['PX', '1000000'], ['EXAT', FUTURE_S], ['PXAT', FUTURE_MS], ['PERSIST'], ['EX', '0'],
    ['EX', 'abc'], ['FOO'], ['EX', '1000', 'PERSIST'], ['EXAT', '1'],
  ];
  const expireFlags = [[], [], [], ['NX'], ['XX'], ['LT'], ['NX', 'XX'], ['GT', 'LT'], ['FOO']];
  const absFlags = [[], [], ['NX'], ['XX'], ['GT'], ['LT'], ['GT', 'LT']];
  const rangeArgs = (g: CommandGenerator) => [g.intArg(), g.intArg()];
  const table: CommandDef[] = [
    // strings
    { weight: 8, name: 'GET', args: (g) => [g.key()] },
    { weight: 10, name: 'SET', args: (g) => [g.key(), g.value(), ...g.pick(setOptions)] },
    { weight: 2, name: 'SETNX', args: (g) => [g.key(), g.value()] },
    { weight: 2, name: 'SETEX', args: (g) => [g.key(), g.pick(['1000', '0', '-1', 'abc', '100000']), g.value()] },
    { weight: 1, name: 'PSETEX', args: (g) => [g.key(), g.pick(['1000000', '0', '-1', 'abc']), g.value()] },
    { weight: 2, name: 'GETSET', args: (g) => [g.key(), g.value()] },
    { weight: 2, name: 'GETDEL', args: (g) => [g.key()] },
    { weight: 2, name: 'GETEX', args: (g) => [g.key(), ...g.pick(getexOptions)] },
    { weight: 3, name: 'MGET', args: (g) => g.keys(1, 4) },
    { weight: 3, name: 'MSET', args: (g) => g.keys(1, 3).flatMap((k) => [k, g.value()]) },
    { weight: 1, name: 'MSETNX', args: (g) => g.keys(1, 3).flatMap((k) => [k, g.value()]) },
    { weight: 4, name: 'APPEND', args: (g) => [g.key(), g.value()] },
    { weight: 2, name: 'STRLEN', args: (g) => [g.key()] },
    { weight: 3, name: 'GETRANGE', args: (g) => [g.key(), ...rangeArgs(g)] },
    { weight: 1, name: 'SUBSTR', args: (g) => [g.key(), ...rangeArgs(g)] },
    {
      weight: 3, name: 'SETRANGE',
      args: (g) => [g.key(), g.chance(0.9) ? String(g.int(1025)) : g.pick(['-1', '536870912', 'abc']),
        g.chance(0.1) ? '' : g.value()],
    },
    { weight: 4, name: 'INCR', args: (g) => [g.key()] },
    { weight: 2, name: 'DECR', args: (g) => [g.key()] },
    { weight: 3, name: 'INCRBY', args: (g) => [g.key(), g.chance(0.5) ? g.intArg() : g.number()] },
    { weight: 2, name: 'DECRBY', args: (g) => [g.key(), g.chance(0.5) ? g.intArg() : g.number()] },
    { weight: 4, name: 'INCRBYFLOAT', args: (g) => [g.key(), g.number()] },
    {
      weight: 2, name: 'LCS',
      args: (g) => [g.key(), g.key(), ...g.pick([[], ['LEN'], ['IDX'], ['IDX', 'MINMATCHLEN', '2'], ['IDX', 'WITHMATCHLEN'],
        ['IDX', 'MINMATCHLEN', '1', 'WITHMATCHLEN'], ['LEN', 'IDX'], ['FOO'], ['IDX', 'MINMATCHLEN', 'abc']])],
    },
    // bitmaps
    {
      weight: 3, name: 'SETBIT',
      args: (g) => [g.key(), g.chance(0.9) ? String(g.int(8192)) : g.pick(['-1', '4294967296', 'abc', '1.5']),
        g.pick(['0', '1', '1', '2', '-1', 'abc'])],
    },
    {
      weight: 2, name: 'GETBIT',
      args: (g) => [g.key(), g.chance(0.8) ? String(g.int(300)) : g.pick(['4294967295', '4294967296', '-1', 'x'])],
    },
    {
      weight: 2, name: 'BITCOUNT',
      args: (g) => [g.key(), ...g.pick([[], [g.intArg(), g.intArg()], [g.intArg(), g.intArg(), 'BYTE'],
        [g.intArg(), g.intArg(), 'BIT'], [g.intArg()], [g.intArg(), g.intArg(), 'FOO']])],
    },
    {
      weight: 2, name: 'BITPOS',
      args: (g) => [g.key(), g.pick(['0', '1', '2']), ...g.pick([[], [g.intArg()], [g.intArg(), g.intArg()],
        [g.intArg(), g.intArg(), 'BIT'], [g.intArg(), g.intArg(), 'BYTE']])],
    },
    {
      weight: 2, name: 'BITOP',
      args: (g) => {
        const op = g.pick(['AND', 'OR', 'XOR', 'NOT', 'and', 'FOO']);
        return [op, g.key(), ...g.keys(1, op === 'NOT' ? 1 : 3)];
      },
    },
    // keys
    { weight: 3, name: 'DEL', args: (g) => g.keys(1, 3) },
    { weight: 1, name: 'UNLINK', args: (g) => g.keys(1, 3) },
    { weight: 3, name: 'EXISTS', args: (g) => g.keys(1, 3) },
    { weight: 3, name: 'TYPE', args: (g) => [g.key()] },
    { weight: 2, name: 'RENAME', args: (g) => [g.key(), g.key()] },
    { weight: 1, name: 'RENAMENX', args: (g) => [g.key(), g.key()] },
    {
      weight: 2, name: 'COPY',
      args: (g) => [g.key(), g.key(), ...g.pick([[], ['REPLACE'], ['DB', g.db()], ['DB', g.db(), 'REPLACE'], ['FOO']])],
    },
    { weight: 2, name: 'MOVE', args: (g) => [g.key(), g.db()] },
    { weight: 2, name: 'KEYS', args: (g) => [g.pick(PATTERNS)], compare: 'sorted' },
    {
      weight: 2, name: 'SCAN',
      args: (g) => [g.chance(0.95) ? '0' : g.pick(['abc', '18446744073709551616']),
        ...(g.chance(0.5) ? ['MATCH', g.pick(PATTERNS)] : []),
        // COUNT 100 at least: with SORT's weight keys there are up to 20 keys, more than the
        // default COUNT 10 of one call.
        'COUNT', g.pick(['100', '1000', '1000', '0', 'abc']),
        ...(g.chance(0.3) ? ['TYPE', g.pick(['string', 'list', 'set', 'hash', 'zset', 'nosuch'])] : [])],
      compare: 'scan',
    },
    { weight: 1, name: 'RANDOMKEY', args: () => [], compare: 'type' },
    { weight: 1, name: 'TOUCH', args: (g) => g.keys(1, 3) },
    {
      weight: 2, name: 'OBJECT', args: (g) => g.chance(0.9) ? ['ENCODING', g.key()] : [g.pick(['FOO', 'encoding']), g.key()],
      compare: (args) => (String(args[1]).toUpperCase() === 'ENCODING' ? 'encoding' : 'exact'),
    },
    { weight: 1, name: 'DBSIZE', args: () => [] },
    // expiry: relative TTLs are long; GT only with absolute times, so that no result depends on
    // the millisecond at which each server received the command.
    { weight: 3, name: 'EXPIRE', args: (g) => [g.key(), g.chance(0.85) ? g.relTtl() : g.pick(['0', '-1', 'abc', '9223372036854775807', '1.5']), ...g.pick(expireFlags)] },
    { weight: 2, name: 'PEXPIRE', args: (g) => [g.key(), g.chance(0.85) ? g.relTtl() + '000' : g.pick(['-1', '9223372036854775807']), ...g.pick(expireFlags)] },
    { weight: 2, name: 'EXPIREAT', args: (g) => [g.key(), g.pick([FUTURE_S, FUTURE2_S, '1', '0', '-5', 'abc']), ...g.pick(absFlags)] },
    // Absolute times stay below 2^53 ms: Keel holds expiry times as doubles (docs/compatibility.md).
    { weight: 2, name: 'PEXPIREAT', args: (g) => [g.key(), g.pick([FUTURE_MS, FUTURE2_S + '000', '1', '9007199254740000']), ...g.pick(absFlags)] },
    { weight: 3, name: 'TTL', args: (g) => [g.key()], compare: 'ttl' },
    { weight: 2, name: 'PTTL', args: (g) => [g.key()], compare: 'ttl' },
    { weight: 1, name: 'EXPIRETIME', args: (g) => [g.key()], compare: 'ttl' },
    { weight: 1, name: 'PEXPIRETIME', args: (g) => [g.key()], compare: 'ttl' },
    { weight: 2, name: 'PERSIST', args: (g) => [g.key()] },
    // transactions
    { weight: 3, name: 'MULTI', args: () => [] },
    { weight: 3, name: 'EXEC', args: () => [] },
    { weight: 1, name: 'DISCARD', args: () => [] },
    { weight: 2, name: 'WATCH', args: (g) => g.keys(1, 2) },
    { weight: 1, name: 'UNWATCH', args: () => [] },
    // connection and server
    { weight: 2, name: 'SELECT', args: (g) => [g.db()] },
    { weight: 0.3, name: 'FLUSHDB', args: (g) => g.pick([[], [], ['ASYNC'], ['SYNC'], ['FOO']]) },
    { weight: 0.1, name: 'FLUSHALL', args: (g) => g.pick([[], ['SYNC']]) },
    { weight: 1, name: 'PING', args: (g) => g.pick([[], ['hello'], [g.value()]]) },
    { weight: 1, name: 'ECHO', args: (g) => [g.value()] },
    {
      weight: 1, name: 'CLIENT',
      args: (g) => g.pick([['GETNAME'], ['SETNAME', g.pick(['app', 'my-name', 'bad name', ''])], ['NOSUCH'], ['setname', 'x', 'y']]),
    },
    { weight: 0.5, name: 'AUTH', args: (g) => g.pick([['secret'], ['user', 'secret']]) },
    {
      weight: 0.5, name: 'CONFIG',
      args: (g) => g.pick([['GET', 'nosuch-param'], ['SET', 'nosuch-param', '1'], ['NOSUCH'], ['GET']]),
    },
    {
      weight: 0.5, name: 'COMMAND',
      args: (g) => g.pick([['GETKEYS', 'SET', 'a', 'b'], ['GETKEYS', 'MSET', 'a', '1', 'b', '2'], ['GETKEYS', 'GET'],
        ['GETKEYS', 'PING'], ['GETKEYS', 'NOSUCH', 'x'], ['NOSUCH']]),
    },
    {
      weight: 0.5, name: 'HELLO',
      args: (g) => g.pick([[String(opts.resp)], [String(opts.resp), 'SETNAME', 'hello-name'], [], ['4'], ['1'], ['abc'],
        ['3', 'FOO'], [String(opts.resp), 'AUTH', 'default']]),
      compare: 'type', // the map holds the connection id and the server's version; errors are compared exactly
    },
    { weight: 0.3, name: 'RESET', args: () => [] },
    { weight: 0.3, name: 'INFO', args: (g) => g.pick([[], ['keyspace'], ['server'], ['memory', 'stats'], ['nosuchsection']]), compare: 'type' },
    { weight: 0.2, name: 'TIME', args: () => [], compare: 'type' },
    {
      weight: 0.5, name: 'COMMAND',
      args: (g) => g.pick([['COUNT'], ['INFO', 'get', 'set'], ['INFO', 'mset', 'incr', 'getex', 'expire'], ['INFO', 'nosuch'],
        ['DOCS', 'get'], ['DOCS', 'setrange', 'lcs']]),
      // COMMAND INFO / DOCS: Keel's table has each command's name, arity, flags and key
      // positions, but not Redis's argument trees, key-spec flags or tips
      // (docs/compatibility.md); the tests in server.test.ts check what it has exactly.
      compare: () => 'type',
    },
    { weight: 0.5, name: 'NOSUCHCMD', args: (g) => g.pick([[], ['a'], ['a', 'b c', '\x00']]) },
    { weight: 0.3, name: 'GETT', args: (g) => [g.key()] },
    // pub/sub from the main connection
    { weight: 1.5, name: 'PUBLISH', args: (g) => [g.pick(CHANNELS), g.value()], noMulti: true, frames: 'publish' },
    {
      weight: 1, name: 'PUBSUB',
      args: (g) => g.pick([['CHANNELS'], ['CHANNELS', g.pick(['ch*', '*', 'news.?'])], ['NUMSUB', g.pick(CHANNELS), g.pick(CHANNELS)],
        ['NUMSUB'], ['NUMPAT'], ['NOSUCH']]),
      compare: (args) => (String(args[1]).toUpperCase() === 'CHANNELS' ? 'sorted' : 'exact'),
    },
  ];
  if (opts.otherTypes) table.push(...collectionTable());
  return table;
}

// ---------------------------------------------------------------------------------------------
// Issue 3's collections: lists, hashes, sets, sorted sets, SORT

/** Members: shared by every type so that the set and sorted-set commands meet the same ones. */
const MEMBERS = [
  'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'aa', 'ab', 'A', '0', '1', '2', '3', '5', '10', '-1', '-5', '100',
  '', '\x00', '\xff\x00\r\n', 'hello world', 'b\x00', '007', '-0', '+1', '1.5', ' 2',
  '9223372036854775807', '-9223372036854775808', '9223372036854775808',
];
const SORT_MEMBERS = ['a', 'b', 'c', '1', '2', '10'];
const FIELDS = ['f0', 'f1', 'f2', 'f3', 'f4', 'f5', '', '\x00f\r\n', '1', '10', 'F0'];
const SCORES_OK = ['0', '1', '2', '3', '-1', '1.5', '-2.5', '10', '100', '0.1', '3.0', '-0', '1e3', '2.5e-3'];
const SCORES_EDGE = [
  'inf', '-inf', '+inf', '5e-324', '1.7976931348623157e308', '9007199254740993', '0.30000000000000004',
  'nan', 'abc', '', '1e309', '0x10', '(1', ' 1', '1 ', '12345678901234567890123',
];
const SCORE_BOUNDS = [
  '-inf', '+inf', 'inf', '0', '1', '(1', '2', '(2', '1.5', '(1.5', '-1', '10', '(-inf', '(+inf', '3', '(0', '100',
  'abc', '(', 'nan', '[1', '', '5e-324', '-inf', '+inf',
];
const LEX_BOUNDS = ['-', '+', '[a', '(a', '[b', '(c', '[d', '(e', '[1', '(2', '[', '(', 'a', '[\x00', '(hello world', '[aa', '-x', '+', '-'];
const COUNTS = ['0', '1', '1', '2', '2', '3', '5', '10', '100', '-1', '9223372036854775807', '-9223372036854775808', 'abc', '1.5', '', '4294967296'];
/** Counts for random picks: no huge negative one (Redis would build a reply that long). */
const RANDOM_COUNTS = ['0', '1', '2', '3', '5', '10', '100', '9223372036854775807', '-1', '-2', '-5', '-10', '-100', '-9223372036854775808', 'abc', '1.5'];
const SIDES = ['LEFT', 'RIGHT', 'left', 'right', 'LEFT', 'RIGHT', 'UP'];
/** Timeouts that expire identically on both servers (or are refused); 0 only inside MULTI. */
const TIMEOUTS = ['0.01', '0.01', '0.01', '0.02', '0.001', '-1', 'abc', '', '-0.5'];

/** One element of a collection: mostly from MEMBERS, sometimes a new number or a long string. */
function member(g: CommandGenerator): string {
  const r = g.rand();
  if (r < 0.85) return g.pick(MEMBERS);
  if (r < 0.96) return String(g.int(40));
  return 'm'.repeat(60 + g.int(10)); // around the 64-byte listpack value limit
}
function members(g: CommandGenerator, min: number, max: number): string[] {
  return Array.from({ length: min + g.int(max - min + 1) }, () => member(g));
}
function field(g: CommandGenerator): string {
  return g.chance(0.95) ? g.pick(FIELDS) : 'f'.repeat(62 + g.int(6));
}
function score(g: CommandGenerator): string {
  const r = g.rand();
  if (r < 0.6) return g.pick(SCORES_OK);
  if (r < 0.8) return String(g.int(21) - 5);
  return g.pick(SCORES_EDGE);
}
function timeout(g: CommandGenerator): string {
  return g.multi && g.chance(0.3) ? '0' : g.pick(TIMEOUTS);
}
/** numkeys and the keys: numkeys is right most of the time. */
function numKeys(g: CommandGenerator, min: number, max: number): (string | Buffer)[] {
  const keys = g.keys(min, max);
  const r = g.rand();
  const n = r < 0.9 ? String(keys.length) : g.pick(['0', '-1', 'abc', String(keys.length + 1), String(keys.length - 1)]);
  return [n, ...keys];
}
function limit(g: CommandGenerator): string[] {
  return ['LIMIT', g.pick(['0', '0', '1', '2', '-1', '5', 'abc']), g.pick(['1', '2', '3', '-1', '0', '10', '9223372036854775807', 'x'])];
}
function keyOf(args: (string | Buffer)[], i: number): Buffer[] {
  const k = args[i];
  if (k === undefined) return [];
  return [typeof k === 'string' ? Buffer.from(k, 'latin1') : k];
}
/** The keys of a numkeys command (args[0] is the name, args[at] is numkeys). */
function numKeysOf(args: (string | Buffer)[], at: number): Buffer[] {
  const n = Number(String(args[at] ?? ''));
  if (!Number.isInteger(n) || n < 1) return [];
  return args.slice(at + 1, at + 1 + n).map((k) => (typeof k === 'string' ? Buffer.from(k, 'latin1') : k));
}
function allKeys(args: (string | Buffer)[]): Buffer[] {
  return args.slice(1).map((k) => (typeof k === 'string' ? Buffer.from(k, 'latin1') : k));
}
function randomCompare(kind: 'set' | 'hash' | 'zset', withWord: string | undefined) {
  return (args: (string | Buffer)[]): Comparator => {
    const key = keyOf(args, 1)[0];
    if (key === undefined) return 'exact';
    const count = args[2] === undefined ? undefined : String(args[2]);
    const pairs = withWord !== undefined && args.length > 3 && String(args[3]).toUpperCase() === withWord;
    return { random: kind, key, pairs, distinct: count === undefined || !count.startsWith('-') };
  };
}
function sortCompare(args: (string | Buffer)[]): Comparator {
  let nosort = false;
  let byPattern = false;
  let store = false;
  let alpha = false;
  let hasLimit = false;
  let gets = 0;
  for (let i = 2; i < args.length; i++) {
    const w = String(args[i]).toUpperCase();
    if (w === 'BY' && i + 1 < args.length) { byPattern = String(args[++i]).includes('*'); nosort = !byPattern; }
    else if (w === 'GET' && i + 1 < args.length) { gets++; i++; }
    else if (w === 'STORE' && i + 1 < args.length) { store = true; i++; }
    else if (w === 'LIMIT') { hasLimit = true; i += 2; }
    else if (w === 'ALPHA') alpha = true;
  }
  // BY nosort of a set: the set's order (STORE sorts it, as Redis does for determinism).
  if (nosort && !store) return { bag: Math.max(1, gets), keys: keyOf(args, 1), loose: hasLimit };
  // ALPHA BY a pattern: sort.c's sortCompare gives ties no order (numeric sorting breaks them by
  // the elements), so they stay in the set's order (qsort; pqsort with LIMIT).
  // A sorted set is loaded from its dict (Redis converts it to a skiplist first): hash order too.
  if (alpha && byPattern && !store) {
    return { bag: Math.max(1, gets), keys: keyOf(args, 1), loose: hasLimit, unordered: ['hashtable', 'skiplist'] };
  }
  return alpha || nosort ? 'exact' : 'sortnum';
}

/** Fills a key past an encoding threshold (512 intset / listpack entries, 128 zset entries). */
function bigIntegers(g: CommandGenerator): string[] {
  const n = 500 + g.int(30);
  const start = g.int(5) * 100;
  return Array.from({ length: n }, (_, i) => String(start + i));
}

function collectionTable(): CommandDef[] {
  const key = (g: CommandGenerator) => g.key();
  const oneKey = (args: (string | Buffer)[]) => keyOf(args, 1);
  const flatBag = (args: (string | Buffer)[]): Comparator => ({ bag: 1, keys: oneKey(args) });
  const scanArgs = (g: CommandGenerator) => [
    g.chance(0.95) ? '0' : g.pick(['abc', '-1', '18446744073709551616']),
    ...(g.chance(0.4) ? ['MATCH', g.pick(['*', 'a*', 'f*', '?', '*1*', '[a-c]', ''])] : []),
    ...(g.chance(0.5) ? ['COUNT', g.pick(['1000', '1000', '10', '1', '0', 'abc', '-1'])] : []),
  ];
  const scanCompare = (group: number, unordered?: string[]) => (args: (string | Buffer)[]): Comparator =>
    ({ bag: group, keys: oneKey(args), scan: true, unordered });
  const lpos = (g: CommandGenerator) => [key(g), member(g),
    ...(g.chance(0.4) ? ['RANK', g.pick(['1', '2', '-1', '-2', '0', '9223372036854775807', '-9223372036854775808', 'abc'])] : []),
    ...(g.chance(0.4) ? ['COUNT', g.pick(['0', '1', '2', '5', '-1', 'abc'])] : []),
    ...(g.chance(0.2) ? ['MAXLEN', g.pick(['0', '1', '3', '-1', '100'])] : []),
    ...(g.chance(0.03) ? ['FOO'] : [])];
  const zaddFlags = [[], [], [], [], ['NX'], ['XX'], ['GT'], ['LT'], ['CH'], ['INCR'], ['NX', 'CH'], ['XX', 'GT', 'CH'],
    ['GT', 'LT'], ['NX', 'GT'], ['NX', 'XX'], ['INCR', 'NX'], ['LT', 'CH', 'INCR'], ['xx', 'incr'], ['FOO']];
  const zrangeArgs = (g: CommandGenerator, store: boolean): (string | Buffer)[] => {
    const mode = g.int(3);
    const rev = g.chance(0.3);
    let bounds: string[];
    if (mode === 0) bounds = [g.intArg(), g.intArg()];
    else if (mode === 1) bounds = [g.pick(SCORE_BOUNDS), g.pick(SCORE_BOUNDS)];
    else bounds = [g.pick(LEX_BOUNDS), g.pick(LEX_BOUNDS)];
    const out: string[] = [...bounds];
    if (mode === 1) out.push(g.chance(0.9) ? 'BYSCORE' : 'byscore');
    if (mode === 2) out.push('BYLEX');
    if (rev) out.push('REV');
    if (g.chance(mode === 0 ? 0.05 : 0.3)) out.push(...limit(g));
    if (!store && g.chance(0.4)) out.push('WITHSCORES');
    if (g.chance(0.03)) out.push(g.pick(['BYSCORE', 'FOO', 'LIMIT']));
    return out;
  };
  const weights = (g: CommandGenerator, n: number) => g.chance(0.3)
    ? ['WEIGHTS', ...Array.from({ length: g.chance(0.9) ? n : n + 1 }, () => g.pick(['1', '2', '0', '-1', '0.5', 'inf', '-inf', 'abc']))]
    : [];
  const aggregate = (g: CommandGenerator) => g.chance(0.3) ? ['AGGREGATE', g.pick(['SUM', 'MIN', 'MAX', 'max', 'FOO'])] : [];
  const setop = (g: CommandGenerator, withOpts: boolean, withScores: boolean) => {
    const nk = numKeys(g, 1, 3);
    const n = Number(nk[0]);
    return [...nk, ...(withOpts ? [...weights(g, Number.isInteger(n) && n > 0 ? n : 1), ...aggregate(g)] : []),
      ...(withScores && g.chance(0.4) ? ['WITHSCORES'] : [])];
  };
  const sortArgs = (g: CommandGenerator, ro: boolean): (string | Buffer)[] => {
    const out: (string | Buffer)[] = [key(g)];
    let byPattern = false;
    if (g.chance(0.4)) {
      const by = g.pick(['nosort', 'w_*', 'w_*', 'o_*->f', 'nokey_*', 'w_', 'o_*->', '*']);
      byPattern = by.includes('*');
      out.push('BY', by);
    }
    if (g.chance(0.3)) out.push(...limit(g));
    const gets = g.chance(0.3) ? 1 + g.int(2) : 0;
    for (let i = 0; i < gets; i++) out.push('GET', g.pick(['#', 'w_*', 'o_*->f', 'nokey_*', 'o_*']));
    if (g.chance(0.3)) out.push(g.pick(['ASC', 'DESC', 'desc']));
    // ALPHA BY a pattern leaves ties (equal or missing weights) in the set's order, so STORE
    // would store a list in a different order: no STORE then.
    const alpha = g.chance(0.4);
    if (alpha) out.push('ALPHA');
    if (!ro && g.chance(0.2) && !g.multi && !(alpha && byPattern)) out.push('STORE', key(g));
    if (g.chance(0.02)) out.push(g.pick(['FOO', 'LIMIT', 'BY']));
    return out;
  };
  return [
    // lists
    { weight: 4, name: 'LPUSH', args: (g) => [key(g), ...members(g, 1, 3)] },
    { weight: 4, name: 'RPUSH', args: (g) => [key(g), ...members(g, 1, 3)] },
    { weight: 0.2, name: 'RPUSH', args: (g) => [key(g), ...members(g, 100, 200)] },
    { weight: 1, name: 'LPUSHX', args: (g) => [key(g), ...members(g, 1, 2)] },
    { weight: 1, name: 'RPUSHX', args: (g) => [key(g), ...members(g, 1, 2)] },
    { weight: 2, name: 'LPOP', args: (g) => [key(g), ...(g.chance(0.5) ? [g.pick(COUNTS)] : [])] },
    { weight: 2, name: 'RPOP', args: (g) => [key(g), ...(g.chance(0.5) ? [g.pick(COUNTS)] : [])] },
    { weight: 1, name: 'LLEN', args: (g) => [key(g)] },
    { weight: 3, name: 'LRANGE', args: (g) => [key(g), g.intArg(), g.intArg()] },
    { weight: 2, name: 'LINDEX', args: (g) => [key(g), g.intArg()] },
    { weight: 1.5, name: 'LSET', args: (g) => [key(g), g.intArg(), member(g)] },
    { weight: 1.5, name: 'LINSERT', args: (g) => [key(g), g.pick(['BEFORE', 'AFTER', 'before', 'after', 'MIDDLE']), member(g), member(g)] },
    { weight: 1.5, name: 'LREM', args: (g) => [key(g), g.pick(['0', '1', '2', '-1', '-2', '100', 'abc']), member(g)] },
    { weight: 1, name: 'LTRIM', args: (g) => [key(g), g.intArg(), g.intArg()] },
    { weight: 2, name: 'LPOS', args: lpos },
    { weight: 1.5, name: 'LMOVE', args: (g) => [key(g), key(g), g.pick(SIDES), g.pick(SIDES)] },
    { weight: 1, name: 'RPOPLPUSH', args: (g) => [key(g), key(g)] },
    {
      weight: 1.5, name: 'LMPOP',
      args: (g) => [...numKeys(g, 1, 3), g.pick(SIDES), ...(g.chance(0.5) ? ['COUNT', g.pick(COUNTS)] : [])],
    },
    { weight: 0.5, name: 'BLPOP', args: (g) => [...g.keys(1, 3), timeout(g)] },
    { weight: 0.5, name: 'BRPOP', args: (g) => [...g.keys(1, 3), timeout(g)] },
    { weight: 0.4, name: 'BLMOVE', args: (g) => [key(g), key(g), g.pick(SIDES), g.pick(SIDES), timeout(g)] },
    { weight: 0.3, name: 'BRPOPLPUSH', args: (g) => [key(g), key(g), timeout(g)] },
    {
      weight: 0.4, name: 'BLMPOP',
      args: (g) => [timeout(g), ...numKeys(g, 1, 3), g.pick(SIDES), ...(g.chance(0.5) ? ['COUNT', g.pick(COUNTS)] : [])],
    },
    // hashes
    { weight: 5, name: 'HSET', args: (g) => [key(g), ...Array.from({ length: 1 + g.int(3) }, () => [field(g), g.value()]).flat()] },
    { weight: 0.1, name: 'HSET', args: (g) => [key(g), ...bigIntegers(g).flatMap((f) => [`f${f}`, f])] },
    { weight: 1, name: 'HSETNX', args: (g) => [key(g), field(g), g.value()] },
    { weight: 1, name: 'HMSET', args: (g) => [key(g), ...Array.from({ length: 1 + g.int(2) }, () => [field(g), g.value()]).flat()] },
    { weight: 3, name: 'HGET', args: (g) => [key(g), field(g)] },
    { weight: 1.5, name: 'HMGET', args: (g) => [key(g), ...Array.from({ length: 1 + g.int(3) }, () => field(g))] },
    { weight: 2, name: 'HDEL', args: (g) => [key(g), ...Array.from({ length: 1 + g.int(2) }, () => field(g))] },
    { weight: 1, name: 'HLEN', args: (g) => [key(g)] },
    { weight: 1, name: 'HSTRLEN', args: (g) => [key(g), field(g)] },
    { weight: 1, name: 'HEXISTS', args: (g) => [key(g), field(g)] },
    { weight: 1, name: 'HKEYS', args: (g) => [key(g)], compare: flatBag },
    { weight: 1, name: 'HVALS', args: (g) => [key(g)], compare: flatBag },
    { weight: 2, name: 'HGETALL', args: (g) => [key(g)], compare: (args) => ({ bag: 2, keys: oneKey(args) }) },
    { weight: 2, name: 'HINCRBY', args: (g) => [key(g), field(g), g.chance(0.5) ? g.intArg() : g.number()] },
    { weight: 2, name: 'HINCRBYFLOAT', args: (g) => [key(g), field(g), g.number()] },
    {
      weight: 1.5, name: 'HRANDFIELD',
      args: (g) => [key(g), ...(g.chance(0.7) ? [g.pick(RANDOM_COUNTS), ...(g.chance(0.5) ? [g.pick(['WITHVALUES', 'withvalues', 'FOO'])] : [])] : [])],
      compare: randomCompare('hash', 'WITHVALUES'),
    },
    { weight: 1, name: 'HSCAN', args: (g) => [key(g), ...scanArgs(g)], compare: scanCompare(2) },
    // sets
    { weight: 5, name: 'SADD', args: (g) => [key(g), ...members(g, 1, 3)] },
    { weight: 0.15, name: 'SADD', args: (g) => [key(g), ...bigIntegers(g)] },
    { weight: 2, name: 'SREM', args: (g) => [key(g), ...members(g, 1, 3)] },
    { weight: 1, name: 'SISMEMBER', args: (g) => [key(g), member(g)] },
    { weight: 1, name: 'SMISMEMBER', args: (g) => [key(g), ...members(g, 1, 3)] },
    { weight: 2, name: 'SMEMBERS', args: (g) => [key(g)], compare: flatBag },
    { weight: 1, name: 'SCARD', args: (g) => [key(g)] },
    {
      weight: 1.5, name: 'SPOP',
      args: (g) => {
        const k = key(g);
        // The servers pop different members: the key goes, so that their states stay the same.
        g.followWith(['DEL', k]);
        return [k, ...(g.chance(0.5) ? [g.pick(COUNTS)] : [])];
      },
      compare: (args) => {
        const key = keyOf(args, 1)[0];
        return key === undefined ? 'exact' : { random: 'set', key, pairs: false, distinct: true, pop: true };
      },
    },
    {
      weight: 1.5, name: 'SRANDMEMBER', args: (g) => [key(g), ...(g.chance(0.7) ? [g.pick(RANDOM_COUNTS)] : [])],
      compare: randomCompare('set', undefined),
    },
    { weight: 1, name: 'SMOVE', args: (g) => [key(g), key(g), member(g)] },
    { weight: 1.5, name: 'SINTER', args: (g) => g.keys(1, 3), compare: (args) => ({ bag: 1, keys: allKeys(args) }) },
    { weight: 1, name: 'SINTERCARD', args: (g) => [...numKeys(g, 1, 3), ...(g.chance(0.4) ? ['LIMIT', g.pick(['0', '1', '2', '-1', 'abc'])] : [])] },
    { weight: 1, name: 'SINTERSTORE', args: (g) => [key(g), ...g.keys(1, 3)] },
    { weight: 1.5, name: 'SUNION', args: (g) => g.keys(1, 3), compare: (args) => ({ bag: 1, keys: allKeys(args), intResult: true }) },
    { weight: 1, name: 'SUNIONSTORE', args: (g) => [key(g), ...g.keys(1, 3)] },
    { weight: 1.5, name: 'SDIFF', args: (g) => g.keys(1, 3), compare: (args) => ({ bag: 1, keys: allKeys(args), intResult: true }) },
    { weight: 1, name: 'SDIFFSTORE', args: (g) => [key(g), ...g.keys(1, 3)] },
    { weight: 1, name: 'SSCAN', args: (g) => [key(g), ...scanArgs(g)], compare: scanCompare(1) },
    // sorted sets
    {
      weight: 6, name: 'ZADD',
      args: (g) => {
        const flags = g.pick(zaddFlags);
        const n = flags.some((f) => f.toUpperCase() === 'INCR') && g.chance(0.8) ? 1 : 1 + g.int(3);
        return [key(g), ...flags, ...Array.from({ length: n }, () => [score(g), member(g)]).flat()];
      },
    },
    { weight: 0.15, name: 'ZADD', args: (g) => [key(g), ...bigIntegers(g).slice(0, 120 + g.int(20)).flatMap((m) => [String(Number(m) % 7), m])] },
    { weight: 2, name: 'ZINCRBY', args: (g) => [key(g), score(g), member(g)] },
    { weight: 2, name: 'ZREM', args: (g) => [key(g), ...members(g, 1, 3)] },
    { weight: 1, name: 'ZCARD', args: (g) => [key(g)] },
    { weight: 1.5, name: 'ZSCORE', args: (g) => [key(g), member(g)] },
    { weight: 1, name: 'ZMSCORE', args: (g) => [key(g), ...members(g, 1, 3)] },
    // (No WITHSCORE: it is Redis 7.2's; 7.0 refuses it, Keel accepts it: docs/compatibility.md.)
    { weight: 1, name: 'ZRANK', args: (g) => [key(g), member(g)], noExtra: true },
    { weight: 1, name: 'ZREVRANK', args: (g) => [key(g), member(g)], noExtra: true },
    { weight: 1, name: 'ZCOUNT', args: (g) => [key(g), g.pick(SCORE_BOUNDS), g.pick(SCORE_BOUNDS)] },
    { weight: 1, name: 'ZLEXCOUNT', args: (g) => [key(g), g.pick(LEX_BOUNDS), g.pick(LEX_BOUNDS)] },
    { weight: 4, name: 'ZRANGE', args: (g) => [key(g), ...zrangeArgs(g, false)] },
    { weight: 1, name: 'ZRANGESTORE', args: (g) => [key(g), key(g), ...zrangeArgs(g, true)] },
    {
      weight: 1.5, name: 'ZRANGEBYSCORE',
      args: (g) => [key(g), g.pick(SCORE_BOUNDS), g.pick(SCORE_BOUNDS), ...(g.chance(0.4) ? ['WITHSCORES'] : []), ...(g.chance(0.3) ? limit(g) : [])],
    },
    {
      weight: 1, name: 'ZREVRANGEBYSCORE',
      args: (g) => [key(g), g.pick(SCORE_BOUNDS), g.pick(SCORE_BOUNDS), ...(g.chance(0.3) ? limit(g) : []), ...(g.chance(0.4) ? ['WITHSCORES'] : [])],
    },
    { weight: 1, name: 'ZRANGEBYLEX', args: (g) => [key(g), g.pick(LEX_BOUNDS), g.pick(LEX_BOUNDS), ...(g.chance(0.3) ? limit(g) : [])] },
    { weight: 1, name: 'ZREVRANGEBYLEX', args: (g) => [key(g), g.pick(LEX_BOUNDS), g.pick(LEX_BOUNDS), ...(g.chance(0.3) ? limit(g) : [])] },
    { weight: 1, name: 'ZREVRANGE', args: (g) => [key(g), g.intArg(), g.intArg(), ...(g.chance(0.4) ? ['WITHSCORES'] : [])] },
    { weight: 0.7, name: 'ZREMRANGEBYRANK', args: (g) => [key(g), g.intArg(), g.intArg()] },
    { weight: 0.7, name: 'ZREMRANGEBYSCORE', args: (g) => [key(g), g.pick(SCORE_BOUNDS), g.pick(SCORE_BOUNDS)] },
    { weight: 0.7, name: 'ZREMRANGEBYLEX', args: (g) => [key(g), g.pick(LEX_BOUNDS), g.pick(LEX_BOUNDS)] },
    { weight: 1.5, name: 'ZPOPMIN', args: (g) => [key(g), ...(g.chance(0.5) ? [g.pick(COUNTS)] : [])] },
    { weight: 1.5, name: 'ZPOPMAX', args: (g) => [key(g), ...(g.chance(0.5) ? [g.pick(COUNTS)] : [])] },
    {
      weight: 1, name: 'ZMPOP',
      args: (g) => [...numKeys(g, 1, 3), g.pick(['MIN', 'MAX', 'min', 'max', 'MID']), ...(g.chance(0.5) ? ['COUNT', g.pick(COUNTS)] : [])],
    },
    { weight: 0.4, name: 'BZPOPMIN', args: (g) => [...g.keys(1, 3), timeout(g)] },
    { weight: 0.4, name: 'BZPOPMAX', args: (g) => [...g.keys(1, 3), timeout(g)] },
    {
      weight: 0.4, name: 'BZMPOP',
      args: (g) => [timeout(g), ...numKeys(g, 1, 3), g.pick(['MIN', 'MAX', 'FOO']), ...(g.chance(0.5) ? ['COUNT', g.pick(COUNTS)] : [])],
    },
    {
      weight: 1.5, name: 'ZRANDMEMBER',
      args: (g) => [key(g), ...(g.chance(0.7) ? [g.pick(RANDOM_COUNTS), ...(g.chance(0.5) ? [g.pick(['WITHSCORES', 'withscores', 'FOO'])] : [])] : [])],
      compare: randomCompare('zset', 'WITHSCORES'),
    },
    { weight: 1, name: 'ZUNION', args: (g) => setop(g, true, true) },
    { weight: 1, name: 'ZINTER', args: (g) => setop(g, true, true) },
    { weight: 1, name: 'ZDIFF', args: (g) => setop(g, g.chance(0.1), true) },
    { weight: 1, name: 'ZUNIONSTORE', args: (g) => [key(g), ...setop(g, true, false)] },
    { weight: 1, name: 'ZINTERSTORE', args: (g) => [key(g), ...setop(g, true, false)] },
    { weight: 0.7, name: 'ZDIFFSTORE', args: (g) => [key(g), ...setop(g, false, false)] },
    { weight: 1, name: 'ZINTERCARD', args: (g) => [...numKeys(g, 1, 3), ...(g.chance(0.4) ? ['LIMIT', g.pick(['0', '1', '2', '-1', 'abc'])] : [])] },
    { weight: 1, name: 'ZSCAN', args: (g) => [key(g), ...scanArgs(g)], compare: scanCompare(2, ['skiplist']) },
    // SORT: the weights (w_<element>) and hash fields (o_<element> f) it reads
    { weight: 2, name: 'SORT', args: (g) => sortArgs(g, false), compare: sortCompare },
    { weight: 1, name: 'SORT_RO', args: (g) => sortArgs(g, true), compare: sortCompare },
    // No 1e309 or 5e-324 here: they leave errno = ERANGE, see 'sortnum'.
    // (a few of them, so that SCAN ... COUNT 100 still sees every key in one call).
    {
      weight: 0.5, name: 'MSET',
      args: (g) => Array.from({ length: 1 + g.int(3) }, () => [`w_${g.pick(SORT_MEMBERS)}`, g.pick([...SCORES_OK, 'abc', '', 'inf', String(g.int(10))])]).flat(),
    },
    { weight: 0.4, name: 'HSET', args: (g) => [`o_${g.pick(SORT_MEMBERS)}`, 'f', g.pick([...SCORES_OK, 'x', 'abc', String(g.int(10))])] },
  ];
}

// ---------------------------------------------------------------------------------------------
// Comparison

function ttlClass(v: RespValue): string {
  if (v.type !== ':' || v.text === undefined) return v.raw.toString('latin1');
  const n = Number(v.text);
  return n >= 0 ? ':non-negative' : `:${n}`;
}

function sortedRaw(items: RespValue[]): string[] {
  return items.map((i) => i.raw.toString('latin1')).sort();
}

function sameSorted(a: RespValue, b: RespValue): boolean {
  if (a.items === undefined || b.items === undefined) return a.raw.equals(b.raw);
  if (a.type !== b.type || a.items.length !== b.items.length) return false;
  return sortedRaw(a.items).join('\0') === sortedRaw(b.items).join('\0');
}

const ERR_SORT_SCORES = "ERR One or more scores can't be converted into double";

/** The groups of a bag reply (elements joined group by group), sorted. */
function bagGroups(items: RespValue[], group: number): string[] | undefined {
  if (items.length % group !== 0) return undefined;
  const out: string[] = [];
  for (let i = 0; i < items.length; i += group) {
    out.push(items.slice(i, i + group).map((x) => x.raw.toString('latin1')).join('\0\0'));
  }
  return out.sort();
}

function sameBag(c: BagComparator, va: RespValue, vb: RespValue): boolean {
  if (va.type === '-' || vb.type === '-' || va.type !== vb.type || va.isNull !== vb.isNull) return false;
  let xa = va;
  let xb = vb;
  if (c.scan) {
    if (va.items?.length !== 2 || vb.items?.length !== 2) return false;
    // A partial pass over a hash table: any elements (the runner checks the encoding).
    if (va.items[0].text !== '0' || vb.items[0].text !== '0') return va.items[1].type === vb.items[1].type;
    xa = va.items[1];
    xb = vb.items[1];
    if (xa.type !== xb.type) return false;
  }
  if (xa.items === undefined || xb.items === undefined) return xa.raw.equals(xb.raw);
  if (xa.items.length !== xb.items.length) return false;
  if (c.loose) return true;
  const ga = bagGroups(xa.items, c.bag);
  const gb = bagGroups(xb.items, c.bag);
  return ga !== undefined && gb !== undefined && ga.join('\0\0\0') === gb.join('\0\0\0');
}

/** The elements of a random pick: [member, value or score] pairs, flat or nested (RESP3). */
function randomElements(v: RespValue, pairs: boolean): { m: string; v?: string }[] | undefined {
  if (v.isNull) return [];
  if (v.items === undefined) return v.type === '$' ? [{ m: v.text! }] : undefined;
  const out: { m: string; v?: string }[] = [];
  const nested = v.items.length > 0 && v.items[0].items !== undefined;
  if (!pairs) {
    for (const x of v.items) out.push({ m: x.text ?? '' });
  } else if (nested) {
    for (const x of v.items) {
      if (x.items?.length !== 2) return undefined;
      out.push({ m: x.items[0].text ?? '', v: x.items[1].text ?? '' });
    }
  } else {
    if (v.items.length % 2 !== 0) return undefined;
    for (let i = 0; i < v.items.length; i += 2) out.push({ m: v.items[i].text ?? '', v: v.items[i + 1].text ?? '' });
  }
  return out;
}

function sameRandomShape(c: RandomComparator, va: RespValue, vb: RespValue): boolean {
  if (va.type === '-' || vb.type === '-' || va.type !== vb.type || va.isNull !== vb.isNull) return false;
  if ((va.items === undefined) !== (vb.items === undefined)) return false;
  if (va.items !== undefined) {
    if (va.items.length !== vb.items!.length) return false;
    for (let i = 0; i < va.items.length; i++) {
      const x = va.items[i];
      const y = vb.items![i];
      if (x.type !== y.type || x.items?.length !== y.items?.length) return false;
    }
  }
  const ea = randomElements(va, c.pairs);
  const eb = randomElements(vb, c.pairs);
  if (ea === undefined || eb === undefined || ea.length !== eb.length) return false;
  if (c.distinct) {
    for (const e of [ea, eb]) {
      if (new Set(e.map((x) => x.m)).size !== e.length) return false;
    }
  }
  return true;
}

/** True when two reply frames are the same under comparator c. */
export function sameReply(c: Comparator, a: Buffer, b: Buffer): boolean {
  if (c === 'exact' || a.equals(b)) return a.equals(b);
  let va: RespValue;
  let vb: RespValue;
  try {
    va = parseFrame(a);
    vb = parseFrame(b);
  } catch {
    return false;
  }
  if (typeof c === 'object') {
    if ('bag' in c) return sameBag(c, va, vb);
    if ('random' in c) return sameRandomShape(c, va, vb);
    if (va.items && vb.items && va.type === vb.type && va.items.length === c.exec.length && vb.items.length === c.exec.length) {
      return c.exec.every((ci, i) => sameReply(ci, va.items![i].raw, vb.items![i].raw));
    }
    return false;
  }
  switch (c) {
    case 'sortnum':
      // Redis's spurious error (see Comparator) against Keel's array; the runner retries it.
      return va.type === '-' && va.text === ERR_SORT_SCORES && vb.type === '*';
    case 'sorted':
      // PUBSUB NUMSUB answers pairs in order; only plain lists of names are sets.
      return sameSorted(va, vb);
    case 'scan': {
      if (va.items?.length !== 2 || vb.items?.length !== 2) return false;
      return va.items[0].raw.equals(vb.items[0].raw) && sameSorted(va.items[1], vb.items[1]);
    }
    case 'ttl':
      return ttlClass(va) === ttlClass(vb);
    case 'type':
      if (va.type === '-' || vb.type === '-') return false; // errors are always compared exactly
      return va.type === vb.type && va.isNull === vb.isNull;
    case 'encoding': {
      const stringEncodings = ['int', 'embstr', 'raw'];
      if (va.type !== '$' || vb.type !== '$') return false;
      // Redis's SORT converts a sorted set to a skiplist; Keel's does not (the runner checks
      // that Keel's listpack is within zset-max-listpack-entries and -value).
      if (va.text === 'skiplist' && vb.text === 'listpack') return true;
      return stringEncodings.includes(va.text ?? '') && stringEncodings.includes(vb.text ?? '');
    }
    case 'unsub':
    case 'publish':
      return false; // only meaningful over all frames: see sameFrames
  }
}

/** Compares all the reply frames of one step. */
export function sameFrames(c: Comparator, a: Buffer[], b: Buffer[]): boolean {
  if (a.length !== b.length) return false;
  if (c === 'unsub') {
    const split = (frames: Buffer[]) => {
      const names: string[] = [];
      const rest: string[] = [];
      for (const f of frames) {
        let v: RespValue;
        try { v = parseFrame(f); } catch { return undefined; }
        if (v.items?.length !== 3) return undefined;
        names.push(v.items[1].raw.toString('latin1'));
        rest.push(v.raw.toString('latin1', 0, v.items[1].raw.byteOffset - v.raw.byteOffset), v.items[2].raw.toString('latin1'));
      }
      return names.sort().join('\0') + '\0\0' + rest.join('\0');
    };
    const sa = split(a);
    return sa !== undefined && sa === split(b);
  }
  if (c === 'publish') {
    const rest = (frames: Buffer[]) => frames.slice(1).map((f) => f.toString('latin1')).sort().join('\0');
    return a[0].equals(b[0]) && rest(a) === rest(b);
  }
  return a.every((fa, k) => sameReply(k === 0 ? c : 'exact', fa, b[k]));
}

// ---------------------------------------------------------------------------------------------
// Differential runner

export interface Mismatch {
  seed: number;
  resp: 2 | 3;
  index: number;
  conn: 'main' | 'sub';
  command: string;
  compare: string;
  redis: string;
  target: string;
  /** The commands that led to it (most recent last). */
  context: string[];
  /** For EXEC: the first element that differs, and the queued command it answers. */
  detail?: string;
}

export interface DiffOptions {
  seed: number;
  count: number;
  resp: 2 | 3;
  redisPort: number;
  targetPort: number;
  otherTypes: boolean;
  /** Keep going after a mismatch (both servers are reset to empty), up to maxMismatches. */
  keepGoing?: boolean;
  maxMismatches?: number;
  replyTimeoutMs?: number;
  /** With keepGoing: called when the target cannot be reached (it crashed); returns its new port. */
  restartTarget?: () => Promise<number>;
}

export interface DiffResult {
  steps: number;
  mismatches: Mismatch[];
}

interface Side {
  name: string;
  port: number;
  main: RespClient;
  sub: RespClient;
}

async function openSide(name: string, port: number, resp: 2 | 3): Promise<{ side: Side; hello: Buffer[] }> {
  const main = await RespClient.connect(port);
  const sub = await RespClient.connect(port);
  const side = { name, port, main, sub };
  const hello: Buffer[] = [];
  if (resp === 3) {
    hello.push(await main.call(['HELLO', '3']), await sub.call(['HELLO', '3']));
  }
  return { side, hello };
}

function closeSide(s: Side | undefined): void {
  s?.main.close();
  s?.sub.close();
}

/** Sends one step and collects its reply frames; a timeout or a closed connection becomes a frame-like marker. */
async function runStep(side: Side, step: Step, timeoutMs: number): Promise<Buffer[]> {
  const conn = step.conn === 'main' ? side.main : side.sub;
  const frames: Buffer[] = [];
  try {
    conn.write(step.args);
    if (step.frames === 'publish') {
      const reply = await conn.readFrame(timeoutMs);
      frames.push(reply);
      const m = /^:(\d+)\r\n$/.exec(reply.toString('latin1'));
      const n = m ? Number(m[1]) : 0;
      for (let i = 0; i < n; i++) frames.push(await side.sub.readFrame(timeoutMs));
    } else {
      for (let i = 0; i < step.frames; i++) frames.push(await conn.readFrame(timeoutMs));
    }
  } catch (err) {
    frames.push(Buffer.from(`<${(err as Error).message}>`, 'latin1'));
  }
  return frames;
}

function comparatorName(c: Comparator): string {
  if (typeof c !== 'object') return c;
  if ('bag' in c) return `bag of ${c.bag}${c.scan ? ', scan' : ''}${c.loose ? ', loose' : ''}${c.intResult ? ', intset result' : ''}`;
  if ('random' in c) return `random ${c.random}${c.pop ? ' pop' : ''}`;
  return 'exec';
}

/** Commands that change no state: after a mismatch on one of them, keepGoing does not reset. */
const STATELESS = new Set([
  'GET', 'MGET', 'STRLEN', 'GETRANGE', 'SUBSTR', 'EXISTS', 'TYPE', 'KEYS', 'SCAN', 'TTL', 'PTTL', 'EXPIRETIME',
  'PEXPIRETIME', 'DBSIZE', 'RANDOMKEY', 'GETBIT', 'BITCOUNT', 'BITPOS', 'LCS', 'OBJECT', 'PING', 'ECHO', 'TIME',
  'INFO', 'COMMAND', 'PUBSUB', 'NOSUCHCMD', 'GETT',
  'LLEN', 'LRANGE', 'LINDEX', 'LPOS', 'HGET', 'HMGET', 'HLEN', 'HSTRLEN', 'HEXISTS', 'HKEYS', 'HVALS', 'HGETALL',
  'HRANDFIELD', 'HSCAN', 'SISMEMBER', 'SMISMEMBER', 'SMEMBERS', 'SCARD', 'SRANDMEMBER', 'SINTER', 'SINTERCARD',
  'SUNION', 'SDIFF', 'SSCAN', 'ZCARD', 'ZSCORE', 'ZMSCORE', 'ZRANK', 'ZREVRANK', 'ZCOUNT', 'ZLEXCOUNT', 'ZRANGE',
  'ZRANGEBYSCORE', 'ZREVRANGEBYSCORE', 'ZRANGEBYLEX', 'ZREVRANGEBYLEX', 'ZREVRANGE', 'ZRANDMEMBER', 'ZUNION',
  'ZINTER', 'ZDIFF', 'ZINTERCARD', 'ZSCAN', 'SORT_RO',
]);

/** Runs one seeded sequence against redis-server and the target on fresh connections. */
export async function runDifferential(o: DiffOptions): Promise<DiffResult> {
  const timeoutMs = o.replyTimeoutMs ?? 5000;
  const maxMismatches = o.keepGoing ? (o.maxMismatches ?? 50) : 1;
  const gen = new CommandGenerator(o.seed, { resp: o.resp, otherTypes: o.otherTypes });
  const mismatches: Mismatch[] = [];
  const history: string[] = [];
  let redis: Side | undefined;
  let target: Side | undefined;
  let targetPort = o.targetPort;
  const openTarget = async (): Promise<Side> => {
    const t = await openSide('target', targetPort, o.resp);
    try {
      for (const hello of t.hello) {
        if (hello[0] === '-'.charCodeAt(0)) throw new Error(`HELLO 3 failed on the target: ${escapeBytes(hello)}`);
      }
      const flush = await t.side.main.call(['FLUSHALL']);
      if (flush.toString('latin1') !== '+OK\r\n') throw new Error(`FLUSHALL on the target answered ${escapeBytes(flush)}`);
      return t.side;
    } catch (err) {
      closeSide(t.side);
      throw err;
    }
  };
  const reset = async () => {
    closeSide(redis);
    closeSide(target);
    redis = undefined;
    target = undefined;
    const r = await openSide('redis', o.redisPort, o.resp);
    redis = r.side;
    await redis.main.call(['FLUSHALL']);
    try {
      target = await openTarget();
    } catch (err) {
      if (!o.restartTarget || !o.keepGoing) throw err;
      targetPort = await o.restartTarget();
      target = await openTarget();
    }
  };
  try {
    await reset();
    let i = 0;
    for (; i < o.count && mismatches.length < maxMismatches; i++) {
      const step = gen.next();
      const text = `${step.conn === 'sub' ? '[sub] ' : ''}${formatCommand(step.args)}`;
      history.push(text);
      if (history.length > 12) history.shift();
      const [a, b] = await Promise.all([runStep(redis!, step, timeoutMs), runStep(target!, step, timeoutMs)]);
      for (const s of [redis!, target!]) {
        // A reply frame we did not expect means the generator's frame count is wrong (on redis)
        // or the target answered with more than Redis did.
        await new Promise((resolve) => setImmediate(resolve));
        const extra = s.main.buffered() + s.sub.buffered();
        if (extra > 0) (s === redis ? a : b).push(Buffer.from(`<${extra} unexpected bytes>`, 'latin1'));
      }
      if (a.some((f) => f[0] === '<'.charCodeAt(0))) {
        throw new Error(`harness error at step ${i} (${text}): redis-server gave ${a.map((f) => escapeBytes(f)).join(' | ')}`);
      }
      let same = sameFrames(step.compare, a, b);
      let problem: string | undefined;
      if (same && step.conn === 'main' && !a[0].equals(b[0])) {
        problem = await postCheck(step, redis!, target!, a[0], b[0], timeoutMs);
        if (problem !== undefined) same = false;
      }
      if (!same) {
        mismatches.push({
          seed: o.seed,
          resp: o.resp,
          index: i,
          conn: step.conn,
          command: formatCommand(step.args),
          compare: comparatorName(step.compare),
          redis: a.map((f) => escapeBytes(f)).join(' | '),
          target: b.map((f) => escapeBytes(f)).join(' | '),
          context: [...history],
          detail: problem ?? (typeof step.compare === 'object' && 'exec' in step.compare
            ? execDetail(step.compare, a[0], b[0]) : firstDifference(a, b)),
        });
        const name = step.args[0].toString('latin1').toUpperCase();
        const targetAlive = !b.some((f) => f.toString('latin1').startsWith('<'));
        if (mismatches.length < maxMismatches && step.conn === 'main' && targetAlive && STATELESS.has(name)) {
          // A command that changes nothing on either server: the run goes on as it is.
        } else if (mismatches.length < maxMismatches) {
          // Start over from empty servers with a fresh model; the PRNG continues.
          gen.resetModel();
          history.length = 0;
          await reset();
        }
      }
    }
    return { steps: i, mismatches };
  } finally {
    closeSide(redis);
    closeSide(target);
  }
}

const CANONICAL_INT = /^(0|-?[1-9][0-9]{0,18})$/;

function isCanonicalInt64(s: string): boolean {
  if (!CANONICAL_INT.test(s)) return false;
  const n = BigInt(s);
  return n >= -(2n ** 63n) && n < 2n ** 63n;
}

/**
 * The checks of the bag, random and sortnum comparators that need more than the two replies
 * (they ask the servers, read-only, on the main connection; never inside MULTI, where such a
 * comparator is only an element of EXEC's). Returns what is wrong, or undefined.
 */
async function postCheck(step: Step, redis: Side, target: Side, a: Buffer, b: Buffer, timeoutMs: number): Promise<string | undefined> {
  const c = step.compare;
  if (c === 'sortnum') {
    // Clear a stale errno on redis-server, then ask again (a failed SORT changed nothing).
    await redis.main.call(['BLPOP', '__keel_differential_errno__', '-1'], timeoutMs);
    const again = await redis.main.call(step.args, timeoutMs);
    return again.equals(b) ? undefined : `after clearing errno, redis answered ${escapeBytes(again)}`;
  }
  if (c === 'encoding' && a.toString('latin1').includes('skiplist') && step.args.length === 3) {
    const key = step.args[2];
    const card = parseFrame(await target.main.call(['ZCARD', key], timeoutMs));
    const all = parseFrame(await target.main.call(['ZRANGE', key, '0', '-1'], timeoutMs));
    const longest = Math.max(0, ...(all.items ?? []).map((x) => (x.text ?? '').length));
    if (card.type !== ':' || Number(card.text) > 128 || longest > 64) {
      return `Keel's listpack holds ZCARD ${escapeBytes(card.raw)} members, the longest ${longest} bytes: beyond zset-max-listpack-*`;
    }
    return undefined;
  }
  if (typeof c !== 'object') return undefined;
  if ('bag' in c) {
    const va = parseFrame(a);
    const vb = parseFrame(b);
    if (c.intResult && va.items !== undefined && va.items.length <= 512 && va.items.every((x) => isCanonicalInt64(x.text ?? ''))) {
      return 'a temporary set of integers is an intset: the order must be the same (ascending)';
    }
    const unordered = c.unordered ?? ['hashtable'];
    const encodings: string[] = [];
    for (const key of c.keys) {
      const e = parseFrame(await redis.main.call(['OBJECT', 'ENCODING', key], timeoutMs));
      encodings.push(e.isNull ? 'none' : e.text ?? '?');
    }
    if (encodings.some((e) => unordered.includes(e))) return undefined;
    const what = c.scan ? 'a cursor or an order' : 'the order';
    void vb;
    return `${what} differs although redis-server's encodings (${encodings.join(', ')}) have a fixed order`;
  }
  if ('random' in c) {
    const problems: string[] = [];
    for (const [side, reply] of [[redis, a], [target, b]] as const) {
      const elems = randomElements(parseFrame(reply), c.pairs);
      if (elems === undefined || elems.length === 0) continue;
      const ms = elems.map((e) => Buffer.from(e.m, 'latin1'));
      if (c.random === 'set') {
        const r = parseFrame(await side.main.call(['SMISMEMBER', c.key, ...ms], timeoutMs));
        const want = c.pop ? '0' : '1';
        const bad = (r.items ?? []).map((x, i) => (x.text === want ? undefined : elems[i].m)).filter((x) => x !== undefined);
        if (r.items === undefined || bad.length > 0) {
          problems.push(`${side.name}: ${c.pop ? 'still in the set' : 'not members'}: ${bad.map((m) => escapeBytes(m!)).join(', ')} (${escapeBytes(r.raw)})`);
        }
      } else {
        const r = parseFrame(await side.main.call([c.random === 'hash' ? 'HMGET' : 'ZMSCORE', c.key, ...ms], timeoutMs));
        const items = r.items ?? [];
        for (let i = 0; i < elems.length; i++) {
          const x = items[i];
          if (x === undefined || x.isNull || (c.pairs && x.text !== elems[i].v)) {
            problems.push(`${side.name}: ${escapeBytes(elems[i].m)} ${c.pairs ? `with ${escapeBytes(elems[i].v ?? '')} ` : ''}is not in the key (${escapeBytes(x?.raw ?? r.raw)})`);
          }
        }
      }
    }
    if (c.pop) {
      const ca = await redis.main.call(['SCARD', c.key], timeoutMs);
      const cb = await target.main.call(['SCARD', c.key], timeoutMs);
      if (!ca.equals(cb)) problems.push(`SCARD after the pop: redis ${escapeBytes(ca)}, keel ${escapeBytes(cb)}`);
    }
    return problems.length > 0 ? problems.join('; ') : undefined;
  }
  return undefined;
}

/** For long replies: where the bytes first differ, with a little context. */
function firstDifference(a: Buffer[], b: Buffer[]): string | undefined {
  const x = Buffer.concat(a);
  const y = Buffer.concat(b);
  if (x.length + y.length < 200) return undefined;
  let i = 0;
  while (i < x.length && i < y.length && x[i] === y[i]) i++;
  const from = Math.max(0, i - 40);
  return `bytes differ from offset ${i}: redis ...${escapeBytes(x.subarray(from, i + 60))} | keel ...${escapeBytes(y.subarray(from, i + 60))}`;
}

/** Names the first element of two EXEC replies that differs, with the queued command. */
function execDetail(c: { exec: Comparator[]; commands: string[] }, a: Buffer, b: Buffer): string | undefined {
  try {
    const va = parseFrame(a);
    const vb = parseFrame(b);
    if (!va.items || !vb.items) return undefined;
    for (let i = 0; i < Math.min(va.items.length, vb.items.length, c.exec.length); i++) {
      if (!sameReply(c.exec[i], va.items[i].raw, vb.items[i].raw)) {
        const inner = firstDifference([va.items[i].raw], [vb.items[i].raw]);
        return `element ${i} answers "${c.commands[i]}": ` +
          (inner ?? `redis ${escapeBytes(va.items[i].raw, 300)} | keel ${escapeBytes(vb.items[i].raw, 300)}`);
      }
    }
    return `${va.items.length} elements from redis, ${vb.items.length} from keel, ${c.exec.length} queued`;
  } catch {
    return undefined;
  }
}

export function formatMismatch(m: Mismatch): string {
  return [
    `differential mismatch: seed ${m.seed}, RESP${m.resp}, command #${m.index}${m.conn === 'sub' ? ' (subscriber connection)' : ''}`,
    `  command: ${m.command}   (compared: ${m.compare})`,
    ...(m.detail ? [`  first difference: ${m.detail}`] : []),
    `  redis:   ${m.redis}`,
    `  keel:    ${m.target}`,
    `  preceding commands:`,
    ...m.context.slice(0, -1).map((c) => `    ${c}`),
    `  replay: node scripts/differential.js --seed ${m.seed} --resp ${m.resp} --count ${m.index + 1}`,
  ].join('\n');
}

/** Whether the server has the list/set/hash commands used to create keys of other types. */
export async function probeOtherTypes(port: number): Promise<boolean> {
  const c = await RespClient.connect(port);
  try {
    const probeKey = '__keel_probe_other_types__';
    const replies = [
      await c.call(['LPUSH', probeKey, 'x']),
      await c.call(['SADD', probeKey + 's', 'x']),
      await c.call(['HSET', probeKey + 'h', 'f', 'x']),
    ];
    await c.call(['DEL', probeKey, probeKey + 's', probeKey + 'h']);
    return replies.every((r) => r[0] === ':'.charCodeAt(0));
  } finally {
    c.close();
  }
}

// ---------------------------------------------------------------------------------------------
// A corrupting proxy, to prove that the differential test notices a wrong reply

export interface Proxy {
  port: number;
  close(): Promise<void>;
}

/**
 * Forwards loopback connections to targetPort. On the first connection only, reply frame number
 * corruptIndex (0-based) is replaced by `+CORRUPTED`; frames stay aligned.
 */
export function startCorruptingProxy(targetPort: number, corruptIndex: number): Promise<Proxy> {
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const server = net.createServer((client) => {
    const first = connections++ === 0;
    const upstream = net.createConnection({ port: targetPort, host: HOST });
    sockets.add(client);
    sockets.add(upstream);
    const done = () => { client.destroy(); upstream.destroy(); };
    client.on('error', done);
    upstream.on('error', done);
    client.on('close', done);
    upstream.on('close', done);
    client.pipe(upstream);
    if (!first) {
      upstream.pipe(client);
      return;
    }
    let pending = Buffer.alloc(0);
    let index = 0;
    upstream.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      const out: Buffer[] = [];
      for (;;) {
        const end = frameEnd(pending, 0);
        if (end < 0) break;
        out.push(index++ === corruptIndex ? Buffer.from('+CORRUPTED\r\n') : pending.subarray(0, end));
        pending = pending.subarray(end);
      }
      if (out.length > 0) client.write(Buffer.concat(out));
    });
  });
  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(0, HOST, () => {
      resolve({
        port: (server.address() as net.AddressInfo).port,
        close: () => new Promise<void>((done) => {
          for (const s of sockets) s.destroy();
          server.close(() => done());
        }),
      });
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Scripted protocol scenarios: raw bytes in, raw bytes and "closed or not" out

export interface Scenario {
  name: string;
  /** Written one after another, 20 ms apart (so a frame can arrive split). */
  send: (string | Buffer)[];
}

export interface RawOutcome {
  bytes: Buffer;
  closed: boolean;
}

/** Sends the parts on a fresh connection and collects everything until close or 150 ms of quiet (at most 3 s). */
export async function rawExchange(port: number, send: (string | Buffer)[], idleMs = 150): Promise<RawOutcome> {
  const sock = net.createConnection({ port, host: HOST });
  const chunks: Buffer[] = [];
  let closed = false;
  let lastData = Date.now();
  sock.on('data', (d: Buffer) => { chunks.push(d); lastData = Date.now(); });
  sock.on('error', () => { closed = true; });
  sock.on('close', () => { closed = true; });
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', () => resolve());
    sock.once('error', reject);
  });
  try {
    for (const [i, part] of send.entries()) {
      if (i > 0) await sleep(20);
      if (!closed) sock.write(typeof part === 'string' ? Buffer.from(part, 'latin1') : part);
    }
    lastData = Date.now();
    const deadline = Date.now() + 3000;
    while (!closed && Date.now() < deadline && Date.now() - lastData < idleMs) await sleep(10);
  } finally {
    sock.destroy();
  }
  return { bytes: Buffer.concat(chunks), closed };
}

const mb = (...args: string[]) => encodeCommand(args).toString('latin1');

/** Every scenario starts with FLUSHALL (so +OK comes first). */
export const PROTOCOL_SCENARIOS: Scenario[] = [
  { name: 'inline PING', send: ['PING\r\n'] },
  { name: 'inline with LF only', send: ['PING\nECHO abc\n'] },
  { name: 'inline double quotes and escapes', send: ['SET k "hello world \\x41\\n\\t\\"q\\""\r\nGET k\r\nSTRLEN k\r\n'] },
  { name: 'inline single quotes', send: ["SET k 'it\\'s' \r\nGET k\r\n"] },
  { name: 'inline unbalanced quotes closes', send: ['SET k "abc\r\nPING\r\n'] },
  { name: 'inline closing quote must be followed by a space', send: ['SET k "abc"def\r\nPING\r\n'] },
  { name: 'empty inline lines are ignored', send: ['\r\n\r\n  \r\nPING\r\n'] },
  { name: 'inline unknown command', send: ['FOO bar "b z"\r\n'] },
  { name: 'inline wrong arity', send: ['GET\r\nPING a b\r\n'] },
  { name: 'CR inside an inline line', send: ['PING\rPING\r\nPING\r\n'] },
  { name: 'multibulk of zero is ignored', send: ['*0\r\nPING\r\n'] },
  { name: 'multibulk of minus one is ignored', send: ['*-1\r\nPING\r\n'] },
  { name: 'invalid multibulk length closes', send: ['*abc\r\nPING\r\n'] },
  { name: 'multibulk length too large closes', send: ['*2147483648\r\n'] },
  { name: 'invalid bulk length closes', send: ['*1\r\n$abc\r\n'] },
  { name: 'negative bulk length closes', send: ['*1\r\n$-1\r\n'] },
  { name: 'bulk longer than proto-max-bulk-len closes', send: ['*1\r\n$536870913\r\n'] },
  { name: "expected '$' closes", send: ['*1\r\nx\r\n'] },
  { name: 'bulk not followed by CRLF is still taken', send: ['*1\r\n$4\r\nPINGxx*1\r\n$4\r\nPING\r\n'] },
  { name: 'empty command name', send: ['*1\r\n$0\r\n\r\n'] },
  { name: 'empty bulk argument', send: [mb('ECHO', '') + mb('SET', '', '') + mb('GET', '')] },
  { name: 'binary arguments', send: [mb('SET', '\x00\r\n\xff', '\r\n\x00') + mb('GET', '\x00\r\n\xff') + mb('STRLEN', '\x00\r\n\xff')] },
  { name: 'a command split across writes', send: ['*3\r\n$3\r\nSE', 'T\r\n$1\r\na\r', '\n$1\r\nb\r\n*2\r\n$3\r\nGET\r\n$1', '\r\na\r\n'] },
  { name: 'a pipeline in one write', send: [Array.from({ length: 100 }, (_, i) => mb('INCR', 'n') + (i % 10 === 0 ? 'PING\r\n' : '')).join('')] },
  { name: 'too big inline request closes', send: ['a'.repeat(70000)] },
  { name: 'too big multibulk count line closes', send: ['*' + '1'.repeat(70000)] },
  { name: 'QUIT answers OK and closes', send: [mb('QUIT') + mb('PING')] },
  { name: 'inline QUIT', send: ['QUIT\r\n'] },
  { name: 'RESP2 subscribed mode restricts commands', send: [mb('SUBSCRIBE', 'a', 'b') + mb('GET', 'k') + mb('PING') + mb('PING', 'x') + mb('PSUBSCRIBE', 'a*') + mb('UNSUBSCRIBE', 'a') + mb('PUNSUBSCRIBE') + mb('UNSUBSCRIBE') + mb('GET', 'k')] },
  { name: 'RESET leaves subscribed mode and MULTI', send: [mb('SUBSCRIBE', 'a') + mb('RESET') + mb('GET', 'k') + mb('MULTI') + mb('SET', 'k', '1') + mb('RESET') + mb('EXEC') + mb('GET', 'k')] },
  { name: 'SELECT survives, RESET goes back to db 0', send: [mb('SELECT', '3') + mb('SET', 'd', '3') + mb('RESET') + mb('GET', 'd') + mb('SELECT', '3') + mb('GET', 'd')] },
  { name: 'MULTI errors', send: [mb('MULTI') + mb('MULTI') + mb('WATCH', 'k') + mb('GET') + mb('SET', 'k', 'v') + mb('EXEC') + mb('EXEC') + mb('DISCARD')] },
  { name: 'WATCH inside the same connection', send: [mb('WATCH', 'w') + mb('SET', 'w', '1') + mb('MULTI') + mb('GET', 'w') + mb('EXEC') + mb('WATCH', 'w') + mb('MULTI') + mb('GET', 'w') + mb('EXEC')] },
  { name: 'WATCH is broken by EXPIRE and by deleting', send: [mb('SET', 'w', '1') + mb('WATCH', 'w') + mb('EXPIRE', 'w', '1000') + mb('MULTI') + mb('PING') + mb('EXEC') + mb('WATCH', 'w') + mb('DEL', 'w') + mb('MULTI') + mb('PING') + mb('EXEC')] },
  { name: 'WATCH of a missing key that stays missing', send: [mb('WATCH', 'nokey') + mb('DEL', 'nokey') + mb('MULTI') + mb('PING') + mb('EXEC')] },
  { name: 'CLIENT SETNAME and GETNAME', send: [mb('CLIENT', 'GETNAME') + mb('CLIENT', 'SETNAME', 'my-app') + mb('CLIENT', 'GETNAME') + mb('CLIENT', 'SETNAME', 'a b') + mb('CLIENT', 'SETNAME', '') + mb('CLIENT', 'GETNAME')] },
  { name: 'HELLO errors', send: [mb('HELLO', '4') + mb('HELLO', 'x') + mb('HELLO', '3', 'SETNAME') + mb('HELLO', '3', 'AUTH', 'default') + mb('HELLO', '2', 'FOO') + mb('PING')] },
  { name: 'CONFIG GET of an encoding threshold', send: [mb('CONFIG', 'GET', 'hash-max-listpack-entries') + mb('CONFIG', 'GET', 'nosuch') + mb('CONFIG', 'SET', 'nosuch', '1')] },
  { name: 'keyspace in INFO', send: [mb('SET', 'a', '1') + mb('SET', 'b', '2') + mb('SELECT', '2') + mb('SET', 'c', '3') + mb('INFO', 'keyspace')] },
  { name: 'DBSIZE, FLUSHDB and FLUSHALL', send: [mb('SET', 'a', '1') + mb('SELECT', '1') + mb('SET', 'b', '1') + mb('DBSIZE') + mb('FLUSHDB') + mb('DBSIZE') + mb('SELECT', '0') + mb('DBSIZE') + mb('FLUSHALL', 'ASYNC') + mb('DBSIZE')] },
  { name: 'COPY and MOVE across databases', send: [mb('SET', 'a', '1') + mb('COPY', 'a', 'b', 'DB', '5') + mb('MOVE', 'a', '5') + mb('SELECT', '5') + mb('KEYS', 'b') + mb('DEL', 'a') + mb('DEL', 'b')] },
];

/** Scenarios for a server started with --requirepass secret. */
export const AUTH_SCENARIOS: Scenario[] = [
  { name: 'commands need AUTH', send: [mb('GET', 'k') + mb('PING') + mb('SELECT', '1')] },
  { name: 'wrong password', send: [mb('AUTH', 'wrong') + mb('AUTH', 'default', 'wrong') + mb('GET', 'k')] },
  { name: 'right password', send: [mb('AUTH', 'secret') + mb('SET', 'k', 'v') + mb('GET', 'k')] },
  { name: 'AUTH with a user name', send: [mb('AUTH', 'default', 'secret') + mb('GET', 'k') + mb('AUTH', 'nobody', 'secret')] },
  { name: 'AUTH syntax', send: [mb('AUTH') + mb('AUTH', 'a', 'b', 'c')] },
  { name: 'HELLO with a wrong password', send: [mb('HELLO', '2', 'AUTH', 'default', 'wrong') + mb('GET', 'k')] },
  { name: 'QUIT without AUTH', send: [mb('QUIT')] },
  { name: 'unauthenticated multibulk limits', send: ['*11\r\n'] },
  { name: 'unauthenticated bulk limit', send: ['*1\r\n$16385\r\n'] },
  { name: 'inline before AUTH', send: ['GET k\r\nAUTH secret\r\nGET k\r\n'] },
];

export interface ScenarioMismatch {
  name: string;
  sent: string;
  redis: string;
  target: string;
}

export async function runScenarios(redisPort: number, targetPort: number, scenarios: Scenario[], flushFirst = true): Promise<ScenarioMismatch[]> {
  const out: ScenarioMismatch[] = [];
  const describe = (o: RawOutcome) => `${escapeBytes(o.bytes, 1500)}${o.closed ? ' <closed>' : ''}`;
  for (const s of scenarios) {
    const send = flushFirst ? [mb('FLUSHALL') + s.send[0], ...s.send.slice(1)] : s.send;
    const [a, b] = await Promise.all([rawExchange(redisPort, send), rawExchange(targetPort, send)]);
    if (!a.bytes.equals(b.bytes) || a.closed !== b.closed) {
      out.push({ name: s.name, sent: escapeBytes(Buffer.from(s.send.join(''), 'latin1'), 300), redis: describe(a), target: describe(b) });
    }
  }
  return out;
}

export function formatScenarioMismatch(m: ScenarioMismatch): string {
  return `scenario "${m.name}"\n  sent:  ${m.sent}\n  redis: ${m.redis}\n  keel:  ${m.target}`;
}

/** A KeelServer in this process, on a free port, with a temporary data directory. */
export interface LocalServer {
  port: number;
  /** A raw client, closed by close(). */
  connect(): Promise<RespClient>;
  close(): Promise<void>;
}

export async function localServer(tag: string): Promise<LocalServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `keel-${tag}-`));
  const server = new KeelServer({ port: 0, dir });
  const port = await server.listen();
  const clients: RespClient[] = [];
  return {
    port,
    connect: async () => {
      const c = await RespClient.connect(port);
      clients.push(c);
      return c;
    },
    close: async () => {
      for (const c of clients) c.close();
      await server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A command's whole reply, as text (one char a byte). */
export async function callText(c: RespClient, ...args: string[]): Promise<string> {
  return (await c.call(args)).toString('latin1');
}

/** The next reply, as text. */
export async function replyText(c: RespClient, timeoutMs = 2000): Promise<string> {
  return (await c.readFrame(timeoutMs)).toString('latin1');
}

/** Sends a command that should block, and checks that no reply comes for a while. */
export async function sendBlocked(c: RespClient, ...args: string[]): Promise<void> {
  c.write(args);
  await expect(c.readFrame(80)).rejects.toThrow(/no complete reply/);
}

export const bulk = (s: string): string => `$${s.length}\r\n${s}\r\n`;
