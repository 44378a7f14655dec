// Seeded fuzzing of the request decoder: random bytes and mutated frames, fed whole and in random
// splits, must end in commands or a protocol error: never a throw, never a hang, and the same
// outcome however the bytes were split. A failure prints the seed and case; to replay it:
//   RESP_FUZZ_SEED=<seed> npx jest packages/resp/dist/test/fuzz
// (or call checkCase(makeCase(seed, index)) from fuzz-cases.ts directly).

import * as path from 'path';
import { Worker } from 'worker_threads';
import { checkCase, makeCase } from './fuzz-cases';

const SEEDS = process.env.RESP_FUZZ_SEED ? [Number(process.env.RESP_FUZZ_SEED)] : [1, 2, 3];
const CASES = Number(process.env.RESP_FUZZ_CASES ?? 1500);
const HANG_MS = 20000;

function runWorker(seed: number): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(path.join(__dirname, 'fuzz-worker.js'), { workerData: { seed, cases: CASES } });
    let current = -1;
    let settled = false;
    const finish = (result: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      resolve(result);
    };
    const timer = setTimeout(() => finish(`seed ${seed} case ${current}: no result after ${HANG_MS} ms (a hang?)`), HANG_MS);
    worker.on('message', (m: { type: string; index?: number; problem?: string }) => {
      if (m.type === 'case') current = m.index!;
      else if (m.type === 'fail') finish(`seed ${seed} case ${m.index}: ${m.problem}`);
      else if (m.type === 'done') finish(null);
    });
    worker.on('error', (e) => {
      if (!settled) reject(new Error(`seed ${seed} case ${current}: worker error ${e.message}`));
    });
  });
}

describe('RequestDecoder fuzz', () => {
  test.each(SEEDS)('seed %i', async (seed) => {
    const problem = await runWorker(seed);
    if (problem !== null) {
      console.error(`resp fuzz failure: ${problem}`);
      throw new Error(problem);
    }
  });

  test('the checker catches a wrong outcome', () => {
    // A case whose "valid" expectation is wrong must be reported: the fuzz can fail.
    const c = makeCase(1, 0);
    c.valid = [['NOT', 'WHAT', 'WAS', 'SENT']];
    c.input = Buffer.from('*1\r\n$4\r\nPING\r\n');
    c.splits = [3];
    expect(checkCase(c)).toMatch(/decoded differently/);
  });
});
