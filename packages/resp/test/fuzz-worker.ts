// Runs fuzz cases in a worker thread, so that fuzz.test.ts can stop a case that never returns.

import { parentPort, workerData } from 'worker_threads';
import { checkCase, makeCase } from './fuzz-cases';

const { seed, cases } = workerData as { seed: number; cases: number };
for (let i = 0; i < cases; i++) {
  parentPort!.postMessage({ type: 'case', index: i });
  let problem: string | null;
  try {
    problem = checkCase(makeCase(seed, i));
  } catch (e) {
    problem = `threw ${(e as Error).stack ?? String(e)}`;
  }
  if (problem !== null) {
    parentPort!.postMessage({ type: 'fail', index: i, problem });
    process.exit(0);
  }
}
parentPort!.postMessage({ type: 'done' });
