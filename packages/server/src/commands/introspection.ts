// Server introspection: INFO TIME CONFIG COMMAND, all driven by live state and the command table.

import * as os from 'node:os';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { Call, command, CommandError, CommandSpec, ERR_SYNTAX, globMatch, keyPositions, Engine } from '@keel/engine';
import type { ReplyWriter } from '@keel/resp';
import { findParam, getParam, PARAMS, setParam } from '../config';
import type { KeelServer } from '../server';
import { resolveCommand } from '../dispatch';
import { KEEL_VERSION, REDIS_COMPAT_VERSION } from './connection';

function human(bytes: number): string {
  const units = ['B', 'K', 'M', 'G', 'T'];
  let i = 0;
  let v = bytes;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${bytes}B` : `${v.toFixed(2)}${units[i]}`;
}

/** An INFO section supplied from outside this file: its name and its fields, computed per call. */
export type InfoSection = () => { name: string; fields: Array<[string, string | number]>; inDefault: boolean };

const extraSections = new WeakMap<KeelServer, InfoSection[]>();

/**
 * Adds a section to a server's INFO (in the default set if inDefault). A section named as a built-in one
 * (e.g. 'Replication') replaces it.
 */
export function addInfoSection(server: KeelServer, section: InfoSection): void {
  let list = extraSections.get(server);
  if (list === undefined) extraSections.set(server, (list = []));
  list.push(section);
}

const DEFAULT_SECTIONS = ['server', 'clients', 'memory', 'persistence', 'stats', 'replication', 'cpu', 'keyspace'];

export function infoText(server: KeelServer, sections: string[]): string {
  const want = new Set(sections.map((s) => s.toLowerCase()));
  const all = want.has('all') || want.has('everything');
  const useDefault = want.size === 0 || want.has('default');
  const include = (s: string) => all || (useDefault && DEFAULT_SECTIONS.includes(s)) || want.has(s);
  const now = Date.now();
  const mem = process.memoryUsage();
  // external already includes arrayBuffers (every Buffer): adding both counted Buffers twice.
  const usedMemory = mem.heapUsed + mem.external;
  const uptime = Math.floor((now - server.stats.startedAtMs) / 1000);
  const e = server.engine;
  const out: string[] = [];
  const extra = new Map<string, ReturnType<InfoSection>>();
  for (const f of extraSections.get(server) ?? []) {
    const r = f();
    extra.set(r.name.toLowerCase(), r);
  }
  const builtIn = new Set<string>();
  const section = (name: string, fields: Array<[string, string | number]>) => {
    builtIn.add(name.toLowerCase());
    const replaced = extra.get(name.toLowerCase());
    if (replaced !== undefined) fields = replaced.fields;
    if (!include(name.toLowerCase())) return;
    out.push(`# ${name}\r\n${fields.map(([k, v]) => `${k}:${v}\r\n`).join('')}`);
  };
  section('Server', [
    ['redis_version', REDIS_COMPAT_VERSION],
    ['keel_version', KEEL_VERSION],
    ['redis_mode', 'standalone'],
    ['os', `${os.type()} ${os.release()} ${os.arch()}`],
    ['arch_bits', 64],
    ['process_id', process.pid],
    ['run_id', server.runId],
    ['tcp_port', server.port],
    ['server_time_usec', now * 1000],
    ['uptime_in_seconds', uptime],
    ['uptime_in_days', Math.floor(uptime / 86400)],
    ['hz', server.config.hz],
    ['executable', process.argv[1] ?? ''],
    ['config_file', server.configFile ?? ''],
    ['node_version', process.version],
  ]);
  let pubsubClients = 0;
  let waiting = 0;
  for (const c of server.clients.values()) {
    if (c.subscriptionCount !== 0) pubsubClients++;
    if (c.waiting) waiting++;
  }
  section('Clients', [
    ['connected_clients', server.clients.size],
    ['maxclients', server.config.maxclients],
    ['blocked_clients', waiting],
    ['pubsub_clients', pubsubClients],
  ]);
  section('Memory', [
    ['used_memory', usedMemory],
    ['used_memory_human', human(usedMemory)],
    ['used_memory_rss', mem.rss],
    ['used_memory_rss_human', human(mem.rss)],
    ['used_memory_heap_total', mem.heapTotal],
    ['total_system_memory', os.totalmem()],
    ['total_system_memory_human', human(os.totalmem())],
    ['maxmemory', 0],
    ['maxmemory_human', '0B'],
    ['maxmemory_policy', 'noeviction'],
    ['mem_allocator', 'v8'],
  ]);
  section('Persistence', [
    ['loading', 0],
    ['aof_enabled', 0],
    ['rdb_changes_since_last_save', e.stats.dirty],
  ]);
  const ps = server.stats;
  section('Stats', [
    ['total_connections_received', ps.totalConnections],
    ['total_commands_processed', ps.totalCommands],
    ['rejected_connections', ps.rejectedConnections],
    ['expired_keys', e.stats.expiredKeys + e.dbs.reduce((n, d) => n + d.expiredOnWrite, 0)],
    ['evicted_keys', 0],
    ['keyspace_hits', e.stats.keyspaceHits],
    ['keyspace_misses', e.stats.keyspaceMisses],
    ['pubsub_channels', server.pubsub.channels.size],
    ['pubsub_patterns', server.pubsub.patterns.size],
    ['client_output_buffer_limit_disconnections', ps.pubsubOutputLimitDisconnections],
  ]);
  section('Replication', [
    ['role', 'master'],
    ['connected_slaves', 0],
  ]);
  for (const [key, { name, fields, inDefault }] of extra) {
    if (builtIn.has(key) || !(all || (useDefault && inDefault) || want.has(key))) continue;
    out.push(`# ${name}\r\n${fields.map(([k, v]) => `${k}:${v}\r\n`).join('')}`);
  }
  const cpu = process.cpuUsage();
  section('CPU', [
    ['used_cpu_sys', (cpu.system / 1e6).toFixed(6)],
    ['used_cpu_user', (cpu.user / 1e6).toFixed(6)],
  ]);
  if (include('keyspace')) {
    const lines: string[] = [];
    for (const db of e.dbs) {
      if (db.size === 0) continue;
      lines.push(`db${db.index}:keys=${db.size},expires=${db.expires.size},avg_ttl=0\r\n`);
    }
    out.push(`# Keyspace\r\n${lines.join('')}`);
  }
  return out.join('\r\n');
}

/**
 * A full garbage collection, for MEMORY PURGE: V8's gc() is reachable without starting Node with
 * --expose-gc by turning the flag on and fetching it from a fresh context.
 */
let fullGc: (() => void) | null = null;
function collectGarbage(): void {
  if (fullGc === null) {
    v8.setFlagsFromString('--expose-gc');
    fullGc = vm.runInNewContext('gc') as () => void;
  }
  fullGc();
}

function aclCategories(spec: CommandSpec): string[] {
  if (spec.aclCategories) return spec.aclCategories;
  const cats: string[] = [];
  if (spec.flags.includes('write')) cats.push('@write');
  if (spec.flags.includes('readonly')) cats.push('@read');
  const groupCat: Record<string, string> = { generic: '@keyspace', string: '@string', bitmap: '@bitmap', list: '@list', hash: '@hash', set: '@set', 'sorted-set': '@sortedset', pubsub: '@pubsub', transactions: '@transaction', connection: '@connection', server: '@admin' };
  const g = groupCat[spec.group];
  if (g) cats.push(g);
  cats.push(spec.flags.includes('fast') ? '@fast' : '@slow');
  if (spec.flags.includes('blocking')) cats.push('@blocking');
  return cats;
}

function writeCommandInfo(out: ReplyWriter, spec: CommandSpec): void {
  out.array(10);
  out.bulk(spec.name);
  out.integer(spec.arity);
  out.set(spec.flags.length);
  for (const f of spec.flags) out.simple(f);
  out.integer(spec.firstKey);
  out.integer(spec.lastKey);
  out.integer(spec.step);
  const cats = aclCategories(spec);
  out.set(cats.length);
  for (const c of cats) out.simple(c);
  out.set(0); // tips
  if (spec.firstKey === 0) out.set(0);
  else {
    out.set(1);
    out.map(3);
    out.bulk('flags');
    out.set(0);
    out.bulk('begin_search');
    out.map(2);
    out.bulk('type');
    out.bulk('index');
    out.bulk('spec');
    out.map(1);
    out.bulk('index');
    out.integer(spec.firstKey);
    out.bulk('find_keys');
    out.map(2);
    out.bulk('type');
    out.bulk('range');
    out.bulk('spec');
    out.map(3);
    out.bulk('lastkey');
    out.integer(spec.lastKey < 0 ? spec.lastKey : spec.lastKey - spec.firstKey);
    out.bulk('keystep');
    out.integer(spec.step);
    out.bulk('limit');
    out.integer(0);
  }
  const subs = spec.subcommands ?? [];
  out.array(subs.length);
  for (const s of subs) writeCommandInfo(out, s);
}

function writeCommandDocs(out: ReplyWriter, spec: CommandSpec): void {
  const subs = spec.subcommands ?? [];
  const n = 3 + (spec.complexity ? 1 : 0) + (subs.length ? 1 : 0);
  out.map(n);
  out.bulk('summary');
  out.bulk(spec.summary);
  out.bulk('since');
  out.bulk(spec.since);
  out.bulk('group');
  out.bulk(spec.group);
  if (spec.complexity) {
    out.bulk('complexity');
    out.bulk(spec.complexity);
  }
  if (subs.length) {
    out.bulk('subcommands');
    out.map(subs.length);
    for (const s of subs) {
      out.bulk(s.name);
      writeCommandDocs(out, s);
    }
  }
}

function helpReply(out: ReplyWriter, lines: string[]): void {
  out.array(lines.length);
  for (const l of lines) out.simple(l);
}

export function introspectionCommands(server: KeelServer): CommandSpec[] {
  const table = () => server.engine.commands;

  function info(c: Call): void {
    c.out.verbatim('txt', infoText(server, c.argv.slice(1)));
  }

  function time(c: Call): void {
    const us = BigInt(Date.now()) * 1000n + BigInt(Math.floor((performance.now() % 1) * 1000));
    c.out.array(2);
    c.out.bulk(String(us / 1000000n));
    c.out.bulk(String(us % 1000000n));
  }

  function configGet(c: Call): void {
    const pairs: Array<[string, string]> = [];
    const seen = new Set<string>();
    for (let i = 2; i < c.argv.length; i++) {
      const pattern = c.argv[i]!.toLowerCase();
      for (const p of PARAMS) {
        for (const name of [p.name, ...(p.aliases ?? [])]) {
          if (seen.has(name) || !globMatch(pattern, name)) continue;
          seen.add(name);
          pairs.push([name, getParam(server.config, p)]);
        }
      }
    }
    c.out.map(pairs.length);
    for (const [k, v] of pairs) {
      c.out.bulk(k);
      c.out.bulk(v);
    }
  }

  function configSet(c: Call): void {
    const argv = c.argv;
    if ((argv.length - 2) % 2 !== 0) throw new CommandError(ERR_SYNTAX);
    // Check everything first, so that CONFIG SET of several parameters is all or nothing.
    const trial = { ...server.config };
    const seen = new Set<string>();
    for (let i = 2; i < argv.length; i += 2) {
      const p = findParam(argv[i]!);
      if (p === undefined) throw new CommandError(`ERR Unknown option or number of arguments for CONFIG SET - '${argv[i]}'`);
      if (seen.has(p.name)) throw new CommandError(`ERR Duplicate parameter - ${argv[i]}`);
      seen.add(p.name);
      const err = setParam(trial, p, argv[i + 1]!, true);
      if (err !== null) throw new CommandError(`ERR CONFIG SET failed (possibly related to argument '${argv[i]}') - ${err}`);
    }
    Object.assign(server.config, trial);
    server.log.setLevel(server.config.loglevel);
    c.out.ok();
  }

  function commandAll(c: Call): void {
    const specs = [...table().all()];
    c.out.array(specs.length);
    for (const s of specs) writeCommandInfo(c.out, s);
  }

  function commandInfo(c: Call): void {
    const names = c.argv.slice(2);
    if (names.length === 0) return commandAll(c);
    c.out.array(names.length);
    for (const n of names) {
      const r = n.includes('|') ? resolveCommand(server.engine, n.split('|')) : table().lookup(n);
      if (r === undefined || typeof r === 'string') c.out.nullBulk();
      else writeCommandInfo(c.out, r);
    }
  }

  function commandDocs(c: Call): void {
    const names = c.argv.slice(2);
    const specs: CommandSpec[] = [];
    if (names.length === 0) specs.push(...table().all());
    else {
      for (const n of names) {
        const r = n.includes('|') ? resolveCommand(server.engine, n.split('|')) : table().lookup(n);
        if (r !== undefined && typeof r !== 'string') specs.push(r);
      }
    }
    c.out.map(specs.length);
    for (const s of specs) {
      c.out.bulk(s.name);
      writeCommandDocs(c.out, s);
    }
  }

  function commandGetKeys(c: Call): void {
    const argv = c.argv.slice(2);
    const r = resolveCommand(server.engine, argv);
    if (typeof r === 'string') throw new CommandError('ERR Invalid command specified');
    if (Engine.arityError(r, argv.length) !== null) throw new CommandError('ERR Invalid number of arguments specified for command');
    const pos = keyPositions(r, argv);
    if (pos.length === 0) throw new CommandError('ERR The command has no key arguments');
    c.out.array(pos.length);
    for (const p of pos) c.out.bulk(argv[p]!);
  }

  function commandList(c: Call): void {
    let names = [...table().all()].map((s) => s.name);
    const argv = c.argv;
    if (argv.length === 5 && argv[2]!.toLowerCase() === 'filterby') {
      const kind = argv[3]!.toLowerCase();
      const v = argv[4]!;
      if (kind === 'pattern') names = names.filter((n) => globMatch(v, n, true));
      else if (kind === 'aclcat') names = [...table().all()].filter((s) => aclCategories(s).includes(`@${v.toLowerCase()}`)).map((s) => s.name);
      else if (kind === 'module') names = [];
      else throw new CommandError(ERR_SYNTAX);
    } else if (argv.length !== 2) throw new CommandError(ERR_SYNTAX);
    c.out.array(names.length);
    for (const n of names) c.out.bulk(n);
  }

  const g = 'server';
  const f = ['loading', 'stale'] as const;
  return [
    command('info', -1, ['loading', 'stale'], [0, 0, 0], g, '1.0.0', 'Returns information and statistics about the server.', info),
    command('memory', -2, [], [0, 0, 0], g, '4.0.0', 'A container for memory diagnostics commands.', undefined, {
      subcommands: [
        command('memory|purge', 2, [], [0, 0, 0], g, '4.0.0', 'Asks the allocator to release memory: in Keel, a full garbage collection.', (c) => {
          collectGarbage();
          c.out.ok();
        }),
        command('memory|help', 2, ['loading', 'stale'], [0, 0, 0], g, '4.0.0', 'Returns helpful text about the different subcommands.', (c) =>
          helpReply(c.out, ['MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:', 'PURGE', '    Attempt to purge dirty pages for reclamation by the allocator.', 'HELP', '    Print this help.']),
        ),
      ],
    }),
    command('time', 1, ['loading', 'stale', 'fast'], [0, 0, 0], g, '2.6.0', 'Returns the server time.', time),
    command('config', -2, [], [0, 0, 0], g, '2.0.0', 'A container for server configuration commands.', undefined, {
      subcommands: [
        command('config|get', -3, ['admin', 'noscript', ...f], [0, 0, 0], g, '2.0.0', 'Returns the effective values of configuration parameters.', configGet),
        command('config|set', -4, ['admin', 'noscript', ...f], [0, 0, 0], g, '2.0.0', 'Sets configuration parameters in-flight.', configSet),
        command('config|resetstat', 2, ['admin', 'noscript', ...f], [0, 0, 0], g, '2.0.0', 'Resets the server\'s statistics.', (c) => {
          server.resetStats();
          c.out.ok();
        }),
        command('config|help', 2, [...f], [0, 0, 0], g, '5.0.0', 'Returns helpful text about the different subcommands.', (c) =>
          helpReply(c.out, ['CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:', 'GET <pattern>', '    Return parameters matching the glob-like <pattern> and their values.', 'SET <directive> <value>', '    Set the configuration <directive> to <value>.', 'RESETSTAT', '    Reset statistics reported by the INFO command.', 'HELP', '    Print this help.']),
        ),
      ],
    }),
    command('command', -1, ['loading', 'stale'], [0, 0, 0], g, '2.8.13', 'Returns detailed information about all commands.', commandAll, {
      subcommands: [
        command('command|count', 2, [...f], [0, 0, 0], g, '2.8.13', 'Returns a count of commands.', (c) => c.out.integer(table().size)),
        command('command|info', -2, [...f], [0, 0, 0], g, '2.8.13', 'Returns information about one, multiple or all commands.', commandInfo),
        command('command|docs', -2, [...f], [0, 0, 0], g, '7.0.0', 'Returns documentary information about one, multiple or all commands.', commandDocs),
        command('command|getkeys', -4, [...f], [0, 0, 0], g, '2.8.13', 'Extracts the key names from an arbitrary command.', commandGetKeys),
        command('command|list', -2, [...f], [0, 0, 0], g, '7.0.0', 'Returns a list of command names.', commandList),
        command('command|help', 2, [...f], [0, 0, 0], g, '5.0.0', 'Returns helpful text about the different subcommands.', (c) =>
          helpReply(c.out, ['COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:', '(no subcommand)', '    Return details about all Redis commands.', 'COUNT', '    Return the total number of commands in this Redis server.', 'LIST', '    Return a list of all commands in this Redis server.', 'INFO [<command-name> ...]', '    Return details about multiple Redis commands.', 'DOCS [<command-name> ...]', '    Return documentation details about multiple Redis commands.', 'GETKEYS <full-command>', '    Return the keys from a full Redis command.', 'HELP', '    Print this help.']),
        ),
      ],
    }),
  ];
}
