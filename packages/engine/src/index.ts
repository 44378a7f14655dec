export * from './command';
export * from './dict';
export * from './engine';
export * from './errors';
export * from './keyspace';
export * from './util/numbers';
export * from './util/random';
export * from './util/glob';
export { engineCommands } from './commands';
