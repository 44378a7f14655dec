export * from './crc32';
export * from './errors';
export * from './codec';
export * from './kv';
export * from './snapshot-file';
export * from './recovery';
export * from './storage';
export * from './tools';
