export { buildConfig, runServer } from './server';
