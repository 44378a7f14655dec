export * from './types';
export * from './confchange';
