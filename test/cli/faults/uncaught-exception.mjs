// Preloaded into the CLI by test/cli/signals.test.ts: once the run has started (its header is
// printed), an exception thrown outside any test case, as a bug in a socket handler would throw,
// so the last-resort handler must still write every report.
import { afterRunStarts } from './after-run-starts.mjs';

afterRunStarts(() => {
  throw new Error('injected fault: thrown outside any test case');
});
