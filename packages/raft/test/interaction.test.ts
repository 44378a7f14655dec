// Transcript tests: each testdata/*.txt drives a small cluster with the commands of
// test/interaction/env.ts and compares the output. REWRITE=1 rewrites the expectations.

import * as fs from 'fs';
import * as path from 'path';
import { runFile } from './interaction/datadriven';
import { InteractionEnv } from './interaction/env';

// Compiled to dist/test/: testdata is at the package root.
const dir = path.resolve(__dirname, '../../testdata');

describe('interaction transcripts', () => {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.txt')).sort();
  it('finds the testdata', () => expect(files.length).toBeGreaterThan(0));
  for (const f of files) {
    it(f, () => {
      const env = new InteractionEnv();
      const failures = runFile(path.join(dir, f), (tc) => env.handle(tc));
      if (failures.length > 0) throw new Error(failures.slice(0, 3).join('\n\n'));
    });
  }
});
