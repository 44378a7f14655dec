export * from './op-codec';
export * from './wire';
export * from './transport';
export * from './log-store';
export * from './driver';
export * from './replicated-write-path';
export * from './read-index';
export * from './shard-node';
export * as replicationErrors from './errors';
