// A minimal reader/writer for data-driven test files in the style of etcd's interaction
// tests: a command line, a "----" line, the expected output, a blank line. Lines starting
// with '#' between cases are comments. With REWRITE=1 the expected outputs are replaced by
// the actual ones (for intended behaviour changes; review the diff).

import * as fs from 'fs';

export interface CmdArg {
  key: string;
  vals: string[];
  positional: boolean;
}

export interface TestCase {
  pos: string;
  cmd: string;
  args: CmdArg[];
  /** The raw command line. */
  line: string;
  expected: string;
}

interface Chunk {
  text?: string; // verbatim lines (comments, blanks)
  tc?: TestCase;
}

function parseArgs(tokens: string[]): CmdArg[] {
  return tokens.map((t) => {
    const eq = t.indexOf('=');
    if (eq < 0) return { key: t, vals: [], positional: true };
    const key = t.slice(0, eq);
    let v = t.slice(eq + 1);
    if (v.startsWith('(') && v.endsWith(')')) v = v.slice(1, -1);
    return { key, vals: v === '' ? [] : v.split(','), positional: false };
  });
}

function parse(path: string): Chunk[] {
  const lines = fs.readFileSync(path, 'utf8').split('\n');
  const chunks: Chunk[] = [];
  let i = 0;
  while (i < lines.length) {
    const l = lines[i];
    if (l.trim() === '' || l.startsWith('#')) {
      chunks.push({ text: l });
      i++;
      continue;
    }
    const pos = `${path}:${i + 1}`;
    const tokens = l.trim().split(/\s+/);
    i++;
    if (lines[i] !== '----') throw new Error(`${pos}: expected ---- after command`);
    i++;
    const out: string[] = [];
    while (i < lines.length && lines[i] !== '') out.push(lines[i++]);
    chunks.push({ tc: { pos, cmd: tokens[0], args: parseArgs(tokens.slice(1)), line: l, expected: out.join('\n') } });
  }
  // Drop the trailing empty line produced by split on a final newline.
  if (chunks.length > 0 && chunks[chunks.length - 1].text === '') chunks.pop();
  return chunks;
}

/**
 * Runs every case of a file through `run`. Returns the mismatches (empty if all match); with
 * REWRITE=1 rewrites the file instead.
 */
export function runFile(path: string, run: (tc: TestCase) => string): string[] {
  const chunks = parse(path);
  const rewrite = process.env.REWRITE === '1';
  const failures: string[] = [];
  const outLines: string[] = [];
  for (const c of chunks) {
    if (c.text !== undefined) {
      outLines.push(c.text);
      continue;
    }
    const tc = c.tc!;
    let actual = run(tc).replace(/\n+$/, '');
    if (actual === '') actual = 'ok';
    if (actual.split('\n').some((l) => l === '')) actual = actual.split('\n').filter((l) => l !== '').join('\n');
    if (actual !== tc.expected) {
      failures.push(`${tc.pos}: ${tc.line}\nexpected:\n${tc.expected}\nactual:\n${actual}`);
    }
    outLines.push(tc.line, '----', actual, '');
  }
  if (rewrite) {
    // Collapse the blank line we emit after each case with a following verbatim blank.
    const text: string[] = [];
    for (const l of outLines) {
      if (l === '' && text.length > 0 && text[text.length - 1] === '') continue;
      text.push(l);
    }
    fs.writeFileSync(path, text.join('\n').replace(/\n*$/, '\n'));
    return [];
  }
  return failures;
}

export function argInt(tc: TestCase, key: string, dflt?: number): number {
  const a = tc.args.find((x) => x.key === key);
  if (!a) {
    if (dflt === undefined) throw new Error(`${tc.pos}: missing argument ${key}`);
    return dflt;
  }
  return Number(a.vals[0]);
}

export function argInts(tc: TestCase, key: string): number[] | undefined {
  const a = tc.args.find((x) => x.key === key);
  return a ? a.vals.map(Number) : undefined;
}

export function argStr(tc: TestCase, key: string): string | undefined {
  return tc.args.find((x) => x.key === key)?.vals[0];
}

/** Positional arguments: those without '='. */
export function positional(tc: TestCase): string[] {
  return tc.args.filter((a) => a.positional).map((a) => a.key);
}
