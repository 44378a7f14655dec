// The RESP client lives in @keel/testkit (shared with the packages' tests).
export { CommandTimeout, ConnectionLost, ReplyError, RespConn } from '@keel/testkit';
export type { Reply } from '@keel/testkit';
export * from './proxy';
export * from './cluster';
export * from './history';
export * from './client';
export * from './checkers';
export * from './list-append-checker';
export * from './workloads';
export * from './nemesis';
export * from './rng';
export * from './run';
export * from './report';
