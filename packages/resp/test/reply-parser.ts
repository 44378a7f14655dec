// A small RESP2/RESP3 reply parser for the tests: parses what ReplyWriter writes back into values.
// Strict: it throws on anything malformed or incomplete.

export type Reply =
  | { t: 'simple'; v: string }
  | { t: 'error'; v: string }
  | { t: 'integer'; v: bigint }
  | { t: 'bulk'; v: string }
  | { t: 'nullBulk' } // RESP2 $-1
  | { t: 'nullArray' } // RESP2 *-1
  | { t: 'null' } // RESP3 _
  | { t: 'array' | 'set' | 'push'; v: Reply[] }
  | { t: 'map'; v: [Reply, Reply][] }
  | { t: 'double'; v: number }
  | { t: 'boolean'; v: boolean }
  | { t: 'bigNumber'; v: string }
  | { t: 'verbatim'; format: string; v: string };

export function parseReplies(buf: Buffer): Reply[] {
  let pos = 0;

  const line = (): string => {
    const cr = buf.indexOf('\r\n', pos, 'latin1');
    if (cr < 0) throw new Error(`incomplete line at ${pos}`);
    const s = buf.latin1Slice(pos, cr);
    pos = cr + 2;
    return s;
  };
  const count = (s: string): number => {
    if (!/^(0|-1|[1-9][0-9]*)$/.test(s)) throw new Error(`bad count ${JSON.stringify(s)}`);
    return Number(s);
  };
  const payload = (n: number): string => {
    if (pos + n + 2 > buf.length) throw new Error('incomplete payload');
    if (buf[pos + n] !== 13 || buf[pos + n + 1] !== 10) throw new Error('payload not followed by CRLF');
    const s = buf.latin1Slice(pos, pos + n);
    pos += n + 2;
    return s;
  };
  const items = (n: number): Reply[] => {
    const out: Reply[] = [];
    for (let i = 0; i < n; i++) out.push(one());
    return out;
  };

  const one = (): Reply => {
    if (pos >= buf.length) throw new Error('incomplete reply');
    const type = String.fromCharCode(buf[pos]!);
    pos++;
    const rest = line();
    switch (type) {
      case '+':
        return { t: 'simple', v: rest };
      case '-':
        return { t: 'error', v: rest };
      case ':':
        if (!/^-?[0-9]+$/.test(rest)) throw new Error(`bad integer ${rest}`);
        return { t: 'integer', v: BigInt(rest) };
      case '$': {
        const n = count(rest);
        return n === -1 ? { t: 'nullBulk' } : { t: 'bulk', v: payload(n) };
      }
      case '*': {
        const n = count(rest);
        return n === -1 ? { t: 'nullArray' } : { t: 'array', v: items(n) };
      }
      case '~':
        return { t: 'set', v: items(count(rest)) };
      case '>':
        return { t: 'push', v: items(count(rest)) };
      case '%': {
        const n = count(rest);
        const pairs: [Reply, Reply][] = [];
        for (let i = 0; i < n; i++) pairs.push([one(), one()]);
        return { t: 'map', v: pairs };
      }
      case '_':
        if (rest !== '') throw new Error('bad null');
        return { t: 'null' };
      case ',':
        return { t: 'double', v: parseDouble(rest) };
      case '#':
        if (rest !== 't' && rest !== 'f') throw new Error(`bad boolean ${rest}`);
        return { t: 'boolean', v: rest === 't' };
      case '(':
        if (!/^-?[0-9]+$/.test(rest)) throw new Error(`bad big number ${rest}`);
        return { t: 'bigNumber', v: rest };
      case '=': {
        const body = payload(count(rest));
        if (body[3] !== ':') throw new Error('bad verbatim');
        return { t: 'verbatim', format: body.slice(0, 3), v: body.slice(4) };
      }
      default:
        throw new Error(`unknown reply type ${JSON.stringify(type)}`);
    }
  };

  const out: Reply[] = [];
  while (pos < buf.length) out.push(one());
  return out;
}

export function parseDouble(s: string): number {
  if (s === 'inf') return Infinity;
  if (s === '-inf') return -Infinity;
  if (s === 'nan') return NaN;
  if (!/^-?[0-9]+(\.[0-9]+)?(e[+-][0-9]+)?$/.test(s)) throw new Error(`bad double ${s}`);
  return Number(s);
}
