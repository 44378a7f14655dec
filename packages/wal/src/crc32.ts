// CRC-32 (IEEE 802.3, the zlib/gzip polynomial). Node >= 20.15 has zlib.crc32 (native);
// older runtimes get the table-driven version below, which computes the same values.

import * as zlib from 'node:zlib';

const TABLE: Uint32Array = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** Table-driven CRC-32; `prev` continues a running checksum (as zlib.crc32's `value`). */
export function crc32Table(data: Uint8Array, prev = 0): number {
  let c = (prev ^ 0xffffffff) >>> 0;
  for (let i = 0; i < data.length; i++) c = TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

type Crc32Fn = (data: Uint8Array, prev?: number) => number;
const native = (zlib as unknown as { crc32?: Crc32Fn }).crc32;

/** CRC-32 of `data`, continuing from `prev` (0 to start). */
export const crc32: Crc32Fn = typeof native === 'function' ? (d, p = 0) => native(d, p) >>> 0 : crc32Table;
