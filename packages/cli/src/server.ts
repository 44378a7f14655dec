// `keel server`: builds the config (defaults, then the config file, then the command line,
// the way redis-server applies them), starts the node and stops it on SIGTERM / SIGINT.

import * as fs from 'node:fs';
import { KEEL_VERSION, defaultServerConfig, findParam, KeelServer, parseConfigFile, ServerConfig, setParam } from '@keel/server';

const CLI_KEYS = new Set(['_', '$0', 'config', 'config-file', 'configFile']);

export function buildConfig(argv: Record<string, unknown>): { config: ServerConfig; file: string | null } {
  const config = { ...defaultServerConfig };
  const apply = (name: string, value: string, from: string) => {
    const p = findParam(name);
    if (p === undefined) throw new Error(`${from}: unknown option '${name}'`);
    const err = setParam(config, p, value, false);
    if (err !== null) throw new Error(`${from}: '${name} ${value}': ${err}`);
  };
  const file = (argv['config'] ?? argv['config-file']) as string | undefined;
  if (file !== undefined) {
    for (const [k, v] of parseConfigFile(fs.readFileSync(file, 'utf8'))) apply(k, v, file);
  }
  for (const [k, v] of Object.entries(argv)) {
    if (CLI_KEYS.has(k) || v === undefined || /[A-Z]/.test(k)) continue; // yargs adds camelCase aliases
    apply(k, Array.isArray(v) ? v.join(' ') : String(v), 'command line');
  }
  return { config, file: file ?? null };
}

export async function runServer(argv: Record<string, unknown>): Promise<void> {
  let built;
  try {
    built = buildConfig(argv);
  } catch (e) {
    process.stderr.write(`keel: ${(e as Error).message}\n`);
    process.exit(1);
  }
  const server = new KeelServer(built.config);
  server.configFile = built.file;
  let port: number;
  try {
    port = await server.listen();
  } catch (e) {
    server.log.warning(`Could not start: ${(e as Error).message}`);
    process.exit(1);
  }
  server.log.notice(`Keel ${KEEL_VERSION} (Redis ${'7.0'} protocol) pid=${process.pid}`);
  server.log.warning('Durability is not implemented yet: this node keeps its data in memory only (see docs/guarantees.md).');
  server.log.notice(`Ready to accept connections tcp on ${built.config.bind}:${port}`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.log.notice(`Received ${signal}, shutting down`);
    void server.close().then(() => {
      server.log.notice('Keel is now ready to exit, bye bye...');
      process.exit(0);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
