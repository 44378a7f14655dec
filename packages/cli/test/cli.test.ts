// `keel server` as a user runs it: a real process, a config file, signals.

import { spawn, ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

const main = path.resolve(__dirname, '..', 'src', 'main.js');
const procs: ChildProcess[] = [];
const dirs: string[] = [];

function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'keel-cli-test-'));
  dirs.push(d);
  return d;
}

function freePort(): Promise<number> {
  // Ports below the kernel's ephemeral range (32768 and up), so no outgoing connection can take
  // one between this check and its use; and low enough that port + 10000, a node's default
  // cluster port, is below that range too. Both are checked free. Each process starts at a
  // random place and walks up, so parallel processes rarely probe the same ports.
  const probe = (port: number) =>
    new Promise<boolean>((resolve) => {
      const s = net.createServer();
      s.unref();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
  return (async () => {
    for (let attempt = 0; attempt < 500; attempt++) {
      const port = FREE_PORT_FIRST + ((freePortNext++ - FREE_PORT_FIRST) % FREE_PORT_SPAN);
      if ((await probe(port)) && (await probe(port + 10000))) return port;
    }
    throw new Error('no free port pair found in 500 attempts');
  })();
}

const FREE_PORT_FIRST = 20000;
const FREE_PORT_SPAN = 2700;
let freePortNext = FREE_PORT_FIRST + Math.floor(Math.random() * FREE_PORT_SPAN);

/** Runs keel with args; resolves when the output matches `until` (or the process exits). */
function run(args: string[], until: RegExp, timeoutMs = 10000): Promise<{ proc: ChildProcess; out: () => string; code: Promise<number | null> }> {
  const proc = spawn(process.execPath, [main, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  procs.push(proc);
  let out = '';
  const code = new Promise<number | null>((resolve) => proc.on('exit', (c) => resolve(c)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${until}; output:\n${out}`)), timeoutMs);
    const check = () => {
      if (until.test(out)) {
        clearTimeout(timer);
        resolve({ proc, out: () => out, code });
      }
    };
    proc.stdout!.on('data', (d) => ((out += d), check()));
    proc.stderr!.on('data', (d) => ((out += d), check()));
    void code.then(() => {
      clearTimeout(timer);
      resolve({ proc, out: () => out, code });
    });
  });
}

/** One command over a fresh connection, as inline text; returns the raw reply. */
function send(port: number, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.createConnection({ port, host: '127.0.0.1' });
    let buf = '';
    const timer = setTimeout(() => (s.destroy(), reject(new Error('no reply'))), 5000);
    s.on('data', (d) => {
      buf += d.toString('latin1');
      if (buf.endsWith('\r\n')) {
        clearTimeout(timer);
        s.destroy();
        resolve(buf);
      }
    });
    s.on('error', reject);
    s.write(line + '\r\n');
  });
}

afterAll(() => {
  for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

test('starts from a config file; the command line wins; SIGTERM exits cleanly', async () => {
  const dir = tmp();
  const port = await freePort();
  const conf = path.join(dir, 'keel.conf');
  fs.writeFileSync(conf, `# a comment\nport 1\nrequirepass "s3cret"\nmaxclients 77\n`);
  const { proc, out, code } = await run(['server', conf, '--port', String(port), '--dir', path.join(dir, 'data')], /Ready to accept/);
  expect(out()).toContain(`127.0.0.1:${port}`);
  expect(await send(port, 'PING')).toBe('-NOAUTH Authentication required.\r\n');
  proc.kill('SIGTERM');
  expect(await code).toBe(0);
  expect(out()).toContain('Received SIGTERM');
  expect(fs.existsSync(path.join(dir, 'data'))).toBe(true);
});

test('an unknown option is refused with a clear message and exit code 1', async () => {
  const { out, code } = await run(['server', '--bogus-option', '3'], /unknown option/);
  expect(await code).toBe(1);
  expect(out()).toContain("unknown option 'bogus-option'");
});

test('a port in use is reported, not a stack trace', async () => {
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
  const port = (blocker.address() as net.AddressInfo).port;
  try {
    const { out, code } = await run(['server', '--port', String(port), '--dir', tmp()], /Could not start/);
    expect(await code).toBe(1);
    expect(out()).toContain('EADDRINUSE');
  } finally {
    blocker.close();
  }
});

test('shard options are checked: --forward-sessions-max must be 0 or more; --lease-reads needs a long enough election timeout', async () => {
  const bad = await run(['server', '--forward-sessions-max', '-1', '--dir', tmp()], /forward-sessions-max/);
  expect(await bad.code).toBe(1);
  expect(bad.out()).toContain("--forward-sessions-max: '-1' is not an integer, 0 or more");
  const port = await freePort();
  const short = await run(['server', '--port', String(port), '--dir', tmp(), '--lease-reads', '--election-timeout-ticks', '2'], /Could not start|Ready to accept/);
  expect(await short.code).toBe(1);
  expect(short.out()).toContain('election timeout too short for a lease');
});
