// Test helpers shared by the resp tests (not a test file itself).

import { RequestDecoder, DecoderLimits } from '../src/decoder';

/** A multibulk request frame from binary strings or Buffers. */
export function multibulk(...args: (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`, 'latin1')];
  for (const a of args) {
    const b = typeof a === 'string' ? Buffer.from(a, 'latin1') : a;
    parts.push(Buffer.from(`$${b.length}\r\n`, 'latin1'), b, Buffer.from('\r\n', 'latin1'));
  }
  return Buffer.concat(parts);
}

export function bin(s: string): Buffer {
  return Buffer.from(s, 'latin1');
}

export interface Outcome {
  commands: string[][];
  error: string | null;
  pendingBytes: number;
}

/** Feeds the chunks in order to a fresh decoder, stopping at the first error as a server would. */
export function decodeChunks(chunks: Buffer[], limits?: Partial<DecoderLimits>): Outcome {
  const decoder = new RequestDecoder(limits);
  const commands: string[][] = [];
  let error: string | null = null;
  for (const chunk of chunks) {
    error = decoder.feed(chunk, (argv) => commands.push(argv));
    if (error !== null) break;
  }
  return { commands, error, pendingBytes: decoder.pendingBytes };
}

/** Splits a buffer at the given offsets (ascending, within the buffer). */
export function splitAt(input: Buffer, offsets: number[]): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (const o of offsets) {
    out.push(input.subarray(start, o));
    start = o;
  }
  out.push(input.subarray(start));
  return out;
}

/** Copies every chunk so that the test can check the decoder does not rely on shared memory. */
export function bytewise(input: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < input.length; i++) out.push(Buffer.from([input[i]!]));
  return out;
}

/** mulberry32: a tiny seeded PRNG returning floats in [0, 1). */
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
