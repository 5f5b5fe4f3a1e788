// Preloaded into the CLI by test/cli/early-signals.test.ts: sends this process the signal named by
// CPM_TEST_SIGNAL the moment the module loader resolves a specifier containing CPM_TEST_SIGNAL_AT,
// i.e. at a known point of start-up, before `run` knows its cases. The hook runs on the loader's
// thread; the signal goes to the whole process.
import { register } from 'node:module';

const signal = process.env.CPM_TEST_SIGNAL;
const at = process.env.CPM_TEST_SIGNAL_AT;
if (!signal || !at) throw new Error('signal-during-import.mjs needs CPM_TEST_SIGNAL and CPM_TEST_SIGNAL_AT');

const hook = `
let sent = false;
export async function resolve(specifier, context, next) {
  if (!sent && specifier.includes(${JSON.stringify(at)})) {
    sent = true;
    process.kill(${process.pid}, ${JSON.stringify(signal)});
  }
  return next(specifier, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hook)}`);
