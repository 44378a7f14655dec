export * from './inflights';
export * from './progress';
export * from './tracker';
