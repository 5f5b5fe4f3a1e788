// Preloaded into the CLI by test/cli/signals.test.ts: once the run has started, a rejected
// promise nobody handles.
import { afterRunStarts } from './after-run-starts.mjs';

afterRunStarts(() => {
  void Promise.reject(new Error('injected fault: a rejection nobody handled'));
});
