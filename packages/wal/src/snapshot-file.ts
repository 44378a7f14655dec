// Snapshot files: a versioned format with a checksum per block, written to a temporary
// file, fsync'd, renamed into place and the directory fsync'd. The payload is opaque bytes
// (the engine's encoding), written and read as a stream of chunks so that a large snapshot
// never sits in memory whole, and the same chunks can be streamed to a lagging follower.
//
//   header:  magic "KEELSNAP" | version u16 (1) | flags u16 (0) | metaLen u32 | meta (JSON:
//            index, term, confState, and an optional string `context`: the application's
//            membership record, absent in files written before it existed and ignored by
//            readers that predate it, so the version stays 1) | crc32 u32 of every header
//            byte before it
//   blocks:  type u8 (1 data, 2 end) | len u32 | crc32 u32 (of type, len and payload) | payload
//   end:     the payload is totalPayloadBytes u64 | dataBlocks u32; the file ends right after it.

import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { ConfState, SnapshotMetadata } from '@keel/raft';
import { crc32 } from './crc32';
import { WalCorruptionError } from './errors';

export const SNAP_MAGIC = Buffer.from('KEELSNAP', 'latin1');
export const SNAP_VERSION = 1;
const BLOCK_DATA = 1;
const BLOCK_END = 2;
const BLOCK_HEADER_BYTES = 9;
const MAX_META_BYTES = 16 << 20;
const MAX_BLOCK_BYTES = 64 << 20;
export const DEFAULT_BLOCK_BYTES = 64 << 10;

export interface SnapshotFileName {
  path: string;
  name: string;
  index: number;
  term: number;
}

const NAME_RE = /^snap-([0-9a-f]{16})-([0-9a-f]{16})\.ksnap$/;
const TEMP_RE = /\.ksnap\.tmp-/;

export function snapshotFileName(index: number, term: number): string {
  return `snap-${index.toString(16).padStart(16, '0')}-${term.toString(16).padStart(16, '0')}.ksnap`;
}

/** Snapshot files in `dir`, newest (highest index) first, and leftover temporary files. */
export async function listSnapshotFiles(dir: string): Promise<{ files: SnapshotFileName[]; temps: string[] }> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { files: [], temps: [] };
    throw e;
  }
  const files: SnapshotFileName[] = [];
  const temps: string[] = [];
  for (const name of names) {
    const m = NAME_RE.exec(name);
    if (m) files.push({ path: path.join(dir, name), name, index: parseInt(m[1], 16), term: parseInt(m[2], 16) });
    else if (TEMP_RE.test(name)) temps.push(path.join(dir, name));
  }
  files.sort((a, b) => b.index - a.index || b.term - a.term);
  return { files, temps };
}

export async function fsyncDir(dir: string): Promise<void> {
  const d = await fs.open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

function blockHeader(type: number, payload: Uint8Array): Buffer {
  const h = Buffer.allocUnsafe(BLOCK_HEADER_BYTES);
  h[0] = type;
  h.writeUInt32BE(payload.byteLength, 1);
  h.writeUInt32BE(crc32(payload, crc32(h.subarray(0, 5))), 5);
  return h;
}

export function encodeHeader(meta: SnapshotMetadata): Buffer {
  const fields: Record<string, unknown> = { index: meta.index, term: meta.term, confState: meta.confState };
  if (meta.context !== undefined) fields['context'] = meta.context;
  const json = Buffer.from(JSON.stringify(fields), 'utf8');
  const b = Buffer.allocUnsafe(16 + json.length + 4);
  SNAP_MAGIC.copy(b, 0);
  b.writeUInt16BE(SNAP_VERSION, 8);
  b.writeUInt16BE(0, 10);
  b.writeUInt32BE(json.length, 12);
  json.copy(b, 16);
  b.writeUInt32BE(crc32(b.subarray(0, 16 + json.length)), 16 + json.length);
  return b;
}

let tempCounter = 0;

/**
 * Writes one snapshot file. Feed it chunks with write() (any sizes: they are cut into
 * blocks of `blockBytes`), then finish(); abort() removes the temporary file.
 */
export class SnapshotWriter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private payloadBytes = 0;
  private blocks = 0;
  private pos = 0;
  private done = false;

  private constructor(
    readonly dir: string,
    readonly metadata: SnapshotMetadata,
    readonly tempPath: string,
    private readonly fh: fs.FileHandle,
    private readonly blockBytes: number,
  ) {}

  static async create(dir: string, metadata: SnapshotMetadata, blockBytes = DEFAULT_BLOCK_BYTES): Promise<SnapshotWriter> {
    if (!(blockBytes > 0 && blockBytes <= MAX_BLOCK_BYTES)) throw new RangeError(`block size ${blockBytes}`);
    await fs.mkdir(dir, { recursive: true });
    const name = snapshotFileName(metadata.index, metadata.term);
    const tempPath = path.join(dir, `${name}.tmp-${process.pid}-${++tempCounter}`);
    const fh = await fs.open(tempPath, 'wx');
    const w = new SnapshotWriter(dir, metadata, tempPath, fh, blockBytes);
    await w.raw(encodeHeader(metadata));
    return w;
  }

  private async raw(b: Uint8Array): Promise<void> {
    let off = 0;
    while (off < b.byteLength) {
      const { bytesWritten } = await this.fh.write(b, off, b.byteLength - off, this.pos);
      off += bytesWritten;
      this.pos += bytesWritten;
    }
  }

  private async block(type: number, payload: Uint8Array): Promise<void> {
    await this.raw(blockHeader(type, payload));
    await this.raw(payload);
  }

  /** Appends payload bytes. The chunk may be reused by the caller once this resolves. */
  async write(chunk: Uint8Array): Promise<void> {
    if (this.done) throw new Error('SnapshotWriter: write after finish/abort');
    if (chunk.byteLength === 0) return;
    this.pending.push(Buffer.from(chunk)); // a copy: the caller may reuse its buffer
    this.pendingBytes += chunk.byteLength;
    this.payloadBytes += chunk.byteLength;
    while (this.pendingBytes >= this.blockBytes) await this.flushBlock(this.blockBytes);
  }

  private async flushBlock(n: number): Promise<void> {
    const all = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.pendingBytes);
    const blk = all.subarray(0, n);
    const rest = all.subarray(n);
    this.pending = rest.length > 0 ? [rest] : [];
    this.pendingBytes = rest.length;
    this.blocks++;
    await this.block(BLOCK_DATA, blk);
  }

  /** Writes the end block, fsyncs, renames into place and fsyncs the directory. */
  async finish(): Promise<SnapshotFileName & { bytes: number; payloadBytes: number }> {
    if (this.done) throw new Error('SnapshotWriter: finish twice');
    try {
      if (this.pendingBytes > 0) await this.flushBlock(this.pendingBytes);
      const end = Buffer.allocUnsafe(12);
      end.writeUInt32BE(Math.floor(this.payloadBytes / 0x100000000), 0);
      end.writeUInt32BE(this.payloadBytes >>> 0, 4);
      end.writeUInt32BE(this.blocks, 8);
      await this.block(BLOCK_END, end);
      await this.fh.sync();
    } catch (e) {
      await this.abort();
      throw e;
    }
    this.done = true;
    await this.fh.close();
    const name = snapshotFileName(this.metadata.index, this.metadata.term);
    const final = path.join(this.dir, name);
    await fs.rename(this.tempPath, final);
    await fsyncDir(this.dir);
    return { path: final, name, index: this.metadata.index, term: this.metadata.term, bytes: this.pos, payloadBytes: this.payloadBytes };
  }

  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.fh.close().catch(() => undefined);
    await fs.rm(this.tempPath, { force: true });
  }
}

/** Writes a whole snapshot from a (sync or async) iterable of chunks. */
export async function writeSnapshotFile(
  dir: string,
  metadata: SnapshotMetadata,
  chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
  blockBytes = DEFAULT_BLOCK_BYTES,
): Promise<SnapshotFileName & { bytes: number; payloadBytes: number }> {
  const w = await SnapshotWriter.create(dir, metadata, blockBytes);
  try {
    for await (const c of chunks) await w.write(c);
  } catch (e) {
    await w.abort();
    throw e;
  }
  return w.finish();
}

/**
 * Reads one snapshot file, verifying every checksum as it goes. Any damage throws a
 * WalCorruptionError naming the file and byte offset; a damaged file is never read as valid.
 */
export class SnapshotReader {
  private pos = 0;
  private constructor(
    readonly path: string,
    readonly metadata: SnapshotMetadata,
    private readonly fh: fs.FileHandle,
    private readonly size: number,
    private readonly dataStart: number,
    private readonly dir: string,
  ) {}

  static async open(file: string, dir = path.dirname(file)): Promise<SnapshotReader> {
    const fh = await fs.open(file, 'r');
    try {
      const size = (await fh.stat()).size;
      const fail = (offset: number, reason: string): never => {
        throw new WalCorruptionError(`snapshot ${file} is damaged at byte ${offset}: ${reason}`, { dir, file, offset });
      };
      const head = await readExactly(fh, 0, 16, size);
      if (!head) fail(0, `file too short for a header (${size} bytes)`);
      if (!head!.subarray(0, 8).equals(SNAP_MAGIC)) fail(0, 'not a Keel snapshot (bad magic)');
      const version = head!.readUInt16BE(8);
      if (version !== SNAP_VERSION) fail(8, `unsupported snapshot version ${version}`);
      const metaLen = head!.readUInt32BE(12);
      if (metaLen > MAX_META_BYTES) fail(12, `metadata length ${metaLen} too large`);
      const rest = await readExactly(fh, 16, metaLen + 4, size);
      if (!rest) fail(16, 'file ends inside the header');
      const want = rest!.readUInt32BE(metaLen);
      const got = crc32(rest!.subarray(0, metaLen), crc32(head!));
      if (want !== got) fail(16 + metaLen, 'header checksum mismatch');
      const m = JSON.parse(rest!.subarray(0, metaLen).toString('utf8')) as { index: number; term: number; confState: ConfState; context?: unknown };
      const meta: SnapshotMetadata = { index: m.index, term: m.term, confState: m.confState };
      if (typeof m.context === 'string') meta.context = m.context;
      const r = new SnapshotReader(file, meta, fh, size, 16 + metaLen + 4, dir);
      r.pos = r.dataStart;
      return r;
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  private fail(offset: number, reason: string): never {
    throw new WalCorruptionError(`snapshot ${this.path} is damaged at byte ${offset}: ${reason}`, { dir: this.dir, file: this.path, offset });
  }

  /**
   * The payload, one verified block at a time (each a fresh buffer of at most the writer's
   * block size). Closes the file when done or on damage.
   */
  async *chunks(): AsyncGenerator<Uint8Array, { payloadBytes: number; blocks: number }> {
    let payloadBytes = 0;
    let blocks = 0;
    this.pos = this.dataStart;
    try {
      for (;;) {
        const at = this.pos;
        const h = await readExactly(this.fh, at, BLOCK_HEADER_BYTES, this.size);
        if (!h) this.fail(at, 'file ends before the end block (truncated)');
        const type = h![0];
        const len = h!.readUInt32BE(1);
        if (type !== BLOCK_DATA && type !== BLOCK_END) this.fail(at, `unknown block type ${type}`);
        if (len > MAX_BLOCK_BYTES) this.fail(at + 1, `block length ${len} too large`);
        const payload = await readExactly(this.fh, at + BLOCK_HEADER_BYTES, len, this.size);
        if (!payload) this.fail(at, 'file ends inside a block (truncated)');
        const want = h!.readUInt32BE(5);
        const got = crc32(payload!, crc32(h!.subarray(0, 5)));
        if (want !== got) this.fail(at, `block checksum mismatch (block ${blocks + 1})`);
        this.pos = at + BLOCK_HEADER_BYTES + len;
        if (type === BLOCK_END) {
          if (len !== 12) this.fail(at, 'bad end block');
          const total = payload!.readUInt32BE(0) * 0x100000000 + payload!.readUInt32BE(4);
          const n = payload!.readUInt32BE(8);
          if (total !== payloadBytes || n !== blocks) this.fail(at, `end block says ${total} bytes in ${n} blocks, read ${payloadBytes} in ${blocks}`);
          if (this.pos !== this.size) this.fail(this.pos, `${this.size - this.pos} bytes after the end block`);
          return { payloadBytes, blocks };
        }
        blocks++;
        payloadBytes += len;
        yield payload!;
      }
    } finally {
      await this.close();
    }
  }

  async close(): Promise<void> {
    await this.fh.close().catch(() => undefined);
  }
}

async function readExactly(fh: fs.FileHandle, pos: number, n: number, size: number): Promise<Buffer | undefined> {
  if (pos + n > size) return undefined;
  const b = Buffer.allocUnsafe(n);
  let off = 0;
  while (off < n) {
    const { bytesRead } = await fh.read(b, off, n - off, pos + off);
    if (bytesRead === 0) return undefined;
    off += bytesRead;
  }
  return b;
}

export interface SnapshotVerifyResult {
  ok: boolean;
  metadata?: SnapshotMetadata;
  bytes: number;
  payloadBytes: number;
  blocks: number;
  error?: { offset: number; reason: string };
}

/** Reads a whole snapshot file and checks every block. Never throws for damage. */
export async function verifySnapshotFile(file: string): Promise<SnapshotVerifyResult> {
  let bytes = 0;
  try {
    bytes = (await fs.stat(file)).size;
    const r = await SnapshotReader.open(file);
    const it = r.chunks();
    let res = await it.next();
    while (!res.done) res = await it.next();
    return { ok: true, metadata: r.metadata, bytes, payloadBytes: res.value.payloadBytes, blocks: res.value.blocks };
  } catch (e) {
    if (e instanceof WalCorruptionError) {
      const reason = e.message.replace(/^snapshot .* is damaged at byte \d+: /, '');
      return { ok: false, bytes, payloadBytes: 0, blocks: 0, error: { offset: e.where.offset ?? 0, reason } };
    }
    if (e instanceof SyntaxError) return { ok: false, bytes, payloadBytes: 0, blocks: 0, error: { offset: 16, reason: `metadata does not parse: ${e.message}` } };
    throw e;
  }
}
