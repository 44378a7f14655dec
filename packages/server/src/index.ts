export * from './server';
export * from './client';
export * from './config';
export { infoText } from './commands/introspection';
export { KEEL_VERSION, REDIS_COMPAT_VERSION } from './commands/connection';
export * from './replication';
