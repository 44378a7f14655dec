// redis-cli against Keel (issue 2, section 5): one-shot commands with their exact output,
// interactive commands read from stdin, and --pipe mass insertion of 1M keys
// (KEEL_PIPE_KEYS=200000 for a shorter run). KEEL_TARGET=redis runs it against redis-server.

import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as h from './harness';

// The safety net: whatever a failed beforeAll left running is stopped.
afterAll(() => h.stopEverything(), 30000);

const pipeKeys = Number(process.env.KEEL_PIPE_KEYS ?? 1000000);

interface CliResult {
  stdout: string;
  stderr: string;
  code: number | null;
}

/** Runs redis-cli with args against the server, feeding stdin from a string or a file; bounded. */
function cli(args: string[], input?: { text?: string; file?: string }, timeoutMs = 10000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const proc = spawn('redis-cli', ['-h', h.HOST, '-p', String(server!.port), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`redis-cli ${args.join(' ')} did not finish within ${timeoutMs} ms; stdout so far: ${stdout.slice(-500)}`));
    }, timeoutMs);
    proc.stdout.on('data', (d: Buffer) => { stdout += d.toString('latin1'); });
    proc.stderr.on('data', (d: Buffer) => { stderr += d.toString('latin1'); });
    proc.on('error', (err) => { clearTimeout(timer); reject(err); });
    proc.on('close', (code) => { clearTimeout(timer); resolve({ stdout, stderr, code }); });
    proc.stdin.on('error', () => undefined); // redis-cli may exit before reading everything
    if (input?.file !== undefined) fs.createReadStream(input.file).pipe(proc.stdin);
    else proc.stdin.end(input?.text ?? '');
  });
}

let server: h.ServerHandle | undefined;
let tmp: string | undefined;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'keel-redis-cli-'));
  server = await h.startServer(h.targetSpec());
}, 30000);

afterAll(async () => {
  await h.stopAll(server);
  if (tmp !== undefined) fs.rmSync(tmp, { recursive: true, force: true });
}, 30000);

describe('redis-cli one-shot commands (raw output, as when piped)', () => {
  const cases: [string[], string][] = [
    [['flushall'], 'OK\n'],
    [['set', 'a', 'b'], 'OK\n'],
    [['get', 'a'], 'b\n'],
    [['get', 'nope'], '\n'],
    [['incr', 'n'], '1\n'],
    [['incrby', 'n', '41'], '42\n'],
    [['incr', 'a'], 'ERR value is not an integer or out of range\n\n'],
    [['mget', 'a', 'nope', 'n'], 'b\n\n42\n'],
    [['set', 'sp', 'hello world'], 'OK\n'],
    [['get', 'sp'], 'hello world\n'],
    [['append', 'sp', '!'], '12\n'],
    [['ttl', 'a'], '-1\n'],
    [['ttl', 'nope'], '-2\n'],
    [['exists', 'a', 'nope', 'n'], '2\n'],
    [['type', 'a'], 'string\n'],
    [['del', 'a'], '1\n'],
    [['ping'], 'PONG\n'],
    [['echo', 'x y'], 'x y\n'],
    [['get'], "ERR wrong number of arguments for 'get' command\n\n"],
    [['nosuch', 'x'], "ERR unknown command 'nosuch', with args beginning with: 'x' \n\n"],
    [['dbsize'], '2\n'],
  ];
  for (const [args, expected] of cases) {
    test(`redis-cli ${args.join(' ')}`, async () => {
      const r = await cli(args);
      expect(r.stdout).toBe(expected);
    });
  }
});

describe('redis-cli formatted output and options', () => {
  test('--no-raw prints types as in a terminal', async () => {
    await cli(['set', 'f1', 'hello world']);
    expect((await cli(['--no-raw', 'get', 'f1'])).stdout).toBe('"hello world"\n');
    expect((await cli(['--no-raw', 'get', 'missing'])).stdout).toBe('(nil)\n');
    expect((await cli(['--no-raw', 'incr', 'fcount'])).stdout).toBe('(integer) 1\n');
    expect((await cli(['--no-raw', 'mget', 'f1', 'missing', 'fcount'])).stdout).toBe('1) "hello world"\n2) (nil)\n3) "1"\n');
    expect((await cli(['--no-raw', 'incr', 'f1'])).stdout).toBe('(error) ERR value is not an integer or out of range\n');
  });

  test('-n selects a database', async () => {
    expect((await cli(['-n', '2', 'set', 'k', 'v'])).stdout).toBe('OK\n');
    expect((await cli(['-n', '2', 'get', 'k'])).stdout).toBe('v\n');
    expect((await cli(['-n', '3', 'get', 'k'])).stdout).toBe('\n');
  });

  test('--scan --pattern lists the matching keys', async () => {
    const keys = Array.from({ length: 300 }, (_, i) => `scanme:${i}`);
    expect((await cli(['mset', ...keys.flatMap((k) => [k, '1'])])).stdout).toBe('OK\n');
    const r = await cli(['--scan', '--pattern', 'scanme:*']);
    expect(r.stdout.trim().split('\n').sort()).toEqual([...keys].sort());
  });

  test('-x reads the last argument from stdin', async () => {
    expect((await cli(['-x', 'set', 'fromstdin'], { text: 'line1\nline2' })).stdout).toBe('OK\n');
    expect((await cli(['get', 'fromstdin'])).stdout).toBe('line1\nline2\n');
  });
});

describe('redis-cli interactive mode through stdin', () => {
  test('commands one per line, with quoting and escapes', async () => {
    const script = [
      'set x 1',
      'get x',
      'incr x',
      'set "a b" "c\\x00d"',
      'get "a b"',
      "set 'single' 'it\\'s'",
      'get single',
      'get nosuchkey',
      'strlen "a b"',
      'select 1',
      'get x',
      'select 0',
      'multi',
      'incr x',
      'incr x',
      'exec',
      '',
    ].join('\n');
    const r = await cli([], { text: script });
    expect(r.stdout).toBe(['OK', '1', '2', 'OK', 'c\x00d', 'OK', "it's", '', '3', 'OK', '', 'OK', 'OK', 'QUEUED', 'QUEUED', '3', '4', ''].join('\n'));
  });
});

describe('redis-cli --pipe mass insertion', () => {
  test(`inserts ${pipeKeys} keys with no errors`, async () => {
    await cli(['flushall']);
    const file = path.join(tmp!, 'mass.resp');
    const fd = fs.openSync(file, 'w');
    try {
      let batch: string[] = [];
      for (let i = 0; i < pipeKeys; i++) {
        const k = `key:${i}`;
        const v = `value:${i}`;
        batch.push(`*3\r\n$3\r\nSET\r\n$${k.length}\r\n${k}\r\n$${v.length}\r\n${v}\r\n`);
        if (batch.length === 10000) {
          fs.writeSync(fd, batch.join(''));
          batch = [];
        }
      }
      fs.writeSync(fd, batch.join(''));
    } finally {
      fs.closeSync(fd);
    }
    const r = await cli(['--pipe'], { file }, 150000);
    expect(r.stdout + r.stderr).toContain(`errors: 0, replies: ${pipeKeys}`);
    expect((await cli(['dbsize'])).stdout).toBe(`${pipeKeys}\n`);
    expect((await cli(['get', `key:${pipeKeys - 1}`])).stdout).toBe(`value:${pipeKeys - 1}\n`);
    fs.rmSync(file);
  }, 180000);
});
