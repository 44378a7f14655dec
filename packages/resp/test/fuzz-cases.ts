// The fuzz cases, shared by fuzz.test.ts and the worker that runs them (fuzz-worker.ts).
// Every case is derived from (seed, index) alone, so "seed S case I" replays one exactly.

import { DecoderLimits, RequestDecoder } from '../src/decoder';
import { decodeChunks, multibulk, mulberry32, Outcome } from './helpers';

export interface FuzzCase {
  input: Buffer;
  /** The split the input is fed in (ascending offsets). */
  splits: number[];
  limits: Partial<DecoderLimits>;
  /** Set when the input is a sequence of valid commands: the decoder must return exactly these. */
  valid: string[][] | null;
}

const ALPHABET = Buffer.from('*$0123456789-+\r\n\r\n \t"\'\\xabAZ', 'latin1');

const VALID_FRAMES: Buffer[] = [
  multibulk('SET', 'key', 'value'),
  multibulk('GET', ''),
  multibulk('MSET', 'a', '1', 'b', '\r\n'),
  Buffer.from('*0\r\n*-1\r\n', 'latin1'),
  Buffer.from('PING\r\n', 'latin1'),
  Buffer.from('set "a b" \'c\\\'d\' "\\x41\\n"\r\n', 'latin1'),
  Buffer.from('\r\n\n', 'latin1'),
];

export function makeCase(seed: number, index: number): FuzzCase {
  const rand = mulberry32((seed ^ Math.imul(index + 1, 0x9e3779b9)) >>> 0);
  const int = (n: number) => Math.floor(rand() * n);
  const kind = int(3);
  // Small limits now and then (not for valid input, which must decode with the defaults).
  const limits: Partial<DecoderLimits> =
    kind !== 2 && rand() < 0.3
      ? { maxInlineBytes: 1 + int(40), maxBulkBytes: 1 + int(80), maxMultibulkLength: 1 + int(10) }
      : {};
  let input: Buffer;
  let valid: string[][] | null = null;
  if (kind === 0) {
    // Random bytes, mostly from the protocol's own characters.
    const bytes: number[] = [];
    const len = int(120);
    for (let i = 0; i < len; i++) bytes.push(rand() < 0.8 ? ALPHABET[int(ALPHABET.length)]! : int(256));
    input = Buffer.from(bytes);
  } else if (kind === 1) {
    // Valid frames, then mutated: bytes changed, inserted, deleted, or the tail cut off.
    const frames: Buffer[] = [];
    const n = 1 + int(5);
    for (let i = 0; i < n; i++) frames.push(VALID_FRAMES[int(VALID_FRAMES.length)]!);
    const bytes = [...Buffer.concat(frames)];
    const mutations = 1 + int(3);
    for (let m = 0; m < mutations && bytes.length > 0; m++) {
      const at = int(bytes.length);
      const b = rand() < 0.7 ? ALPHABET[int(ALPHABET.length)]! : int(256);
      const op = int(4);
      if (op === 0) bytes[at] = b;
      else if (op === 1) bytes.splice(at, 0, b);
      else if (op === 2) bytes.splice(at, 1);
      else bytes.length = at;
    }
    input = Buffer.from(bytes);
  } else {
    // Valid multibulk commands with binary arguments (the default limits accept them).
    valid = [];
    const frames: Buffer[] = [];
    const n = 1 + int(6);
    for (let i = 0; i < n; i++) {
      const argv: string[] = [];
      const argc = 1 + int(4);
      for (let a = 0; a < argc; a++) {
        let s = '';
        const len = rand() < 0.05 ? int(5000) : int(12);
        for (let k = 0; k < len; k++) s += String.fromCharCode(int(256));
        argv.push(s);
      }
      valid.push(argv);
      frames.push(multibulk(...argv));
    }
    input = Buffer.concat(frames);
  }
  const splits: number[] = [];
  for (let i = 1; i < input.length; i++) if (rand() < 0.25) splits.push(i);
  return { input, splits, limits, valid };
}

/** Runs one case; returns null or what went wrong. */
export function checkCase(c: FuzzCase): string | null {
  const whole = decodeChunks([c.input], c.limits);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const o of c.splits) {
    chunks.push(Buffer.from(c.input.subarray(start, o))); // copies: nothing may depend on shared memory
    start = o;
  }
  chunks.push(Buffer.from(c.input.subarray(start)));
  const split = decodeChunks(chunks, c.limits);

  const same = (a: Outcome, b: Outcome) =>
    JSON.stringify([a.commands, a.error]) === JSON.stringify([b.commands, b.error]);
  if (!same(whole, split)) {
    return `split outcome ${describe(split)} differs from whole ${describe(whole)}`;
  }
  for (const o of [whole, split]) {
    if (o.pendingBytes > c.input.length) return `pendingBytes ${o.pendingBytes} > input ${c.input.length}`;
    if (o.error !== null && o.pendingBytes !== 0) return `pendingBytes ${o.pendingBytes} after an error`;
    if (o.error !== null && !o.error.startsWith('ERR Protocol error: ')) return `bad error ${o.error}`;
    if (o.commands.length > c.input.length) return 'more commands than bytes';
    for (const argv of o.commands) {
      if (argv.length === 0) return 'an empty command';
      for (const a of argv) if (typeof a !== 'string' || /[^\x00-\xff]/.test(a)) return 'a non-binary argument';
    }
  }
  if (c.valid !== null) {
    if (whole.error !== null || whole.pendingBytes !== 0) return `valid input failed: ${whole.error}`;
    if (JSON.stringify(whole.commands) !== JSON.stringify(c.valid)) return 'valid input decoded differently';
  }
  if (whole.error !== null) {
    // Once failed, always failed.
    const d = new RequestDecoder(c.limits);
    const first = d.feed(c.input, () => undefined);
    const again = d.feed(Buffer.from('*1\r\n$4\r\nPING\r\n'), () => {
      throw new Error('a failed decoder delivered a command');
    });
    if (first !== whole.error || again !== whole.error) return 'the decoder did not stay failed';
  }
  return null;
}

function describe(o: Outcome): string {
  return JSON.stringify({ commands: o.commands.length, error: o.error, pending: o.pendingBytes });
}
