#!/usr/bin/env node
// Adds up the pass/fail counts forge and cargo printed into the given logs and prints one closing
// line, `summary: N passed, N failed`, so the whole of `make test` ends on a single count.
import fs from 'node:fs';

let passed = 0;
let failed = 0;
for (const file of process.argv.slice(2)) {
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    // forge: "Ran 6 test suites in 48.66s (...): 313 tests passed, 0 failed, 0 skipped (313 total tests)"
    // cargo: "test result: ok. 16 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; ..."
    const m = /: (\d+) tests passed, (\d+) failed/.exec(line) ?? /^test result: \w+\. (\d+) passed; (\d+) failed/.exec(line);
    if (m) {
      passed += Number(m[1]);
      failed += Number(m[2]);
    }
  }
}
console.log(`summary: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
