export * from './majority';
export * from './joint';
