export * from './writer';
export * from './decoder';
