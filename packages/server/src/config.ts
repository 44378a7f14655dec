// The server's configuration: options named after redis.conf, settable from the command line,
// a config file ("name value" lines, as redis.conf), and CONFIG SET where Redis allows it.

import { EngineConfig } from '@keel/engine';

export interface ServerConfig extends EngineConfig {
  port: number;
  bind: string;
  dir: string;
  requirepass: string;
  maxclients: number;
  /** Close a connection idle for this many seconds; 0 never. */
  timeout: number;
  clientQueryBufferLimit: number;
  /** Pub/sub clients: hard limit, soft limit and soft seconds, as client-output-buffer-limit. */
  pubsubOutputHardBytes: number;
  pubsubOutputSoftBytes: number;
  pubsubOutputSoftSeconds: number;
  /** A normal client whose unsent replies exceed this stops being read until they drain. */
  outputPauseBytes: number;
  hz: number;
  appendfsync: string;
  loglevel: string;
  save: string;
  appendonly: string;
  databases: number;
}

export const defaultServerConfig: ServerConfig = {
  port: 6379,
  bind: '127.0.0.1',
  dir: './data',
  requirepass: '',
  maxclients: 10000,
  timeout: 0,
  clientQueryBufferLimit: 1024 * 1024 * 1024,
  pubsubOutputHardBytes: 32 * 1024 * 1024,
  pubsubOutputSoftBytes: 8 * 1024 * 1024,
  pubsubOutputSoftSeconds: 60,
  outputPauseBytes: 64 * 1024 * 1024,
  hz: 10,
  appendfsync: 'always',
  loglevel: 'notice',
  save: '',
  appendonly: 'no',
  databases: 16,
  protoMaxBulkLen: 512 * 1024 * 1024,
  hashMaxListpackEntries: 512,
  hashMaxListpackValue: 64,
  setMaxIntsetEntries: 512,
  setMaxListpackEntries: 128,
  setMaxListpackValue: 64,
  zsetMaxListpackEntries: 128,
  zsetMaxListpackValue: 64,
  listMaxListpackSize: -2,
};

type Kind = 'int' | 'memory' | 'string' | 'enum' | 'outputlimit';

interface Param {
  name: string;
  aliases?: string[];
  kind: Kind;
  field?: keyof ServerConfig;
  mutable: boolean;
  values?: string[];
  min?: number;
  max?: number;
}

const INT_MAX = 2147483647;

/** Every parameter Keel has, by its redis.conf name. */
export const PARAMS: Param[] = [
  { name: 'port', kind: 'int', field: 'port', mutable: false, min: 0, max: 65535 },
  { name: 'bind', kind: 'string', field: 'bind', mutable: false },
  { name: 'dir', kind: 'string', field: 'dir', mutable: false },
  { name: 'requirepass', kind: 'string', field: 'requirepass', mutable: true },
  { name: 'maxclients', kind: 'int', field: 'maxclients', mutable: true, min: 1, max: INT_MAX },
  { name: 'timeout', kind: 'int', field: 'timeout', mutable: true, min: 0, max: INT_MAX },
  { name: 'hz', kind: 'int', field: 'hz', mutable: true, min: 1, max: 500 },
  { name: 'client-query-buffer-limit', kind: 'memory', field: 'clientQueryBufferLimit', mutable: true, min: 1024 * 1024, max: 1024 * 1024 * 1024 * 4 },
  { name: 'client-output-buffer-limit', kind: 'outputlimit', mutable: true },
  { name: 'proto-max-bulk-len', kind: 'memory', field: 'protoMaxBulkLen', mutable: true, min: 1024 * 1024, max: 536870888 },
  // Read-only, for tools that ask (redis-benchmark does): Keel takes no RDB saves; every write
  // goes through its write-ahead log (the CLI reports appendonly yes).
  { name: 'save', kind: 'string', field: 'save', mutable: false },
  { name: 'appendonly', kind: 'string', field: 'appendonly', mutable: false },
  { name: 'databases', kind: 'int', field: 'databases', mutable: false, min: 16, max: 16 },
  { name: 'appendfsync', kind: 'enum', field: 'appendfsync', mutable: false, values: ['always', 'everysec', 'no'] },
  { name: 'loglevel', kind: 'enum', field: 'loglevel', mutable: true, values: ['debug', 'verbose', 'notice', 'warning', 'nothing'] },
  { name: 'hash-max-listpack-entries', aliases: ['hash-max-ziplist-entries'], kind: 'int', field: 'hashMaxListpackEntries', mutable: true, min: 0, max: INT_MAX },
  { name: 'hash-max-listpack-value', aliases: ['hash-max-ziplist-value'], kind: 'int', field: 'hashMaxListpackValue', mutable: true, min: 0, max: INT_MAX },
  { name: 'set-max-intset-entries', kind: 'int', field: 'setMaxIntsetEntries', mutable: true, min: 0, max: INT_MAX },
  { name: 'zset-max-listpack-entries', aliases: ['zset-max-ziplist-entries'], kind: 'int', field: 'zsetMaxListpackEntries', mutable: true, min: 0, max: INT_MAX },
  { name: 'zset-max-listpack-value', aliases: ['zset-max-ziplist-value'], kind: 'int', field: 'zsetMaxListpackValue', mutable: true, min: 0, max: INT_MAX },
  { name: 'list-max-listpack-size', aliases: ['list-max-ziplist-size'], kind: 'int', field: 'listMaxListpackSize', mutable: true, min: -5, max: INT_MAX },
];

export function findParam(name: string): Param | undefined {
  const n = name.toLowerCase();
  return PARAMS.find((p) => p.name === n || p.aliases?.includes(n));
}

/** Parses "1gb", "64mb", "512k", "100" as Redis's memtoull does. */
export function parseMemory(s: string): number | null {
  const m = /^(\d+)(b|k|kb|m|mb|g|gb)?$/i.exec(s.trim());
  if (m === null) return null;
  const unit = (m[2] ?? 'b').toLowerCase();
  const mult: Record<string, number> = { b: 1, k: 1000, kb: 1024, m: 1000 ** 2, mb: 1024 ** 2, g: 1000 ** 3, gb: 1024 ** 3 };
  return Number(m[1]) * mult[unit]!;
}

/** The value CONFIG GET shows. */
export function getParam(config: ServerConfig, p: Param): string {
  if (p.kind === 'outputlimit') {
    return `normal 0 0 0 slave 268435456 67108864 60 pubsub ${config.pubsubOutputHardBytes} ${config.pubsubOutputSoftBytes} ${config.pubsubOutputSoftSeconds}`;
  }
  return String(config[p.field!]);
}

/** Sets a parameter from its text; returns null, or the reason it could not be set. */
export function setParam(config: ServerConfig, p: Param, value: string, atRuntime: boolean): string | null {
  if (atRuntime && !p.mutable) return "can't set immutable config";
  switch (p.kind) {
    case 'int':
    case 'memory': {
      const n = p.kind === 'int' && /^-?\d+$/.test(value) ? Number(value) : parseMemory(value);
      if (n === null || !Number.isSafeInteger(n)) return 'argument couldn\'t be parsed into an integer';
      if ((p.min !== undefined && n < p.min) || (p.max !== undefined && n > p.max)) {
        return `argument must be between ${p.min} and ${p.max} inclusive`;
      }
      (config as unknown as Record<string, number>)[p.field!] = n;
      return null;
    }
    case 'enum': {
      const v = value.toLowerCase();
      if (!p.values!.includes(v)) return `argument(s) must be one of the following: ${p.values!.join(', ')}`;
      (config as unknown as Record<string, string>)[p.field!] = v;
      return null;
    }
    case 'string':
      (config as unknown as Record<string, string>)[p.field!] = value;
      return null;
    case 'outputlimit': {
      const parts = value.trim().split(/\s+/);
      if (parts.length % 4 !== 0) return 'Wrong number of arguments in buffer limit configuration.';
      for (let i = 0; i < parts.length; i += 4) {
        const cls = parts[i]!.toLowerCase();
        const hard = parseMemory(parts[i + 1]!);
        const soft = parseMemory(parts[i + 2]!);
        const secs = Number(parts[i + 3]);
        if (!['normal', 'slave', 'replica', 'pubsub'].includes(cls) || hard === null || soft === null || !Number.isInteger(secs) || secs < 0) {
          return 'Invalid client class specified in buffer limit configuration.';
        }
        if (cls === 'pubsub') {
          config.pubsubOutputHardBytes = hard;
          config.pubsubOutputSoftBytes = soft;
          config.pubsubOutputSoftSeconds = secs;
        }
      }
      return null;
    }
  }
}

/** Reads a redis.conf-style file: one "name value..." a line, # comments, quoted values. */
export function parseConfigFile(text: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const sp = line.search(/\s/);
    if (sp < 0) throw new Error(`config file: missing value for '${line}'`);
    let value = line.slice(sp + 1).trim();
    if ((value.startsWith('"') && value.endsWith('"')) || (value.startsWith("'") && value.endsWith("'"))) value = value.slice(1, -1);
    out.push([line.slice(0, sp), value]);
  }
  return out;
}
