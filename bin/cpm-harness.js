#!/usr/bin/env node
// Entry point: runs the compiled JavaScript in dist/ (built by `npm run build`, which `npm ci` runs
// through the `prepare` script, and shipped in the package), so no TypeScript toolchain runs here.
let main;
try {
  // First thing, before the harness loads: a SIGINT, SIGTERM or SIGHUP from here on is held, so
  // `run` still writes every report with every case (not started) and exits 130 / 143 / 129.
  const { holdStopSignals } = await import('../dist/harness/cli/stop-handlers.js');
  holdStopSignals();
  ({ main } = await import('../dist/harness/cli/main.js'));
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !/dist\/harness\/cli\/(main|stop-handlers)\.js/.test(String(error.message))) throw error;
  process.stderr.write('cpm-harness: the compiled harness (dist/) is missing; run `npm run build` in the checkout (npm ci does it)\n');
  process.exit(2);
}
// `cpm-harness rules | head`: a reader that closed the pipe ends the output, not with a stack trace.
process.stdout.on('error', (error) => {
  if (error?.code !== 'EPIPE') throw error;
  process.exit(process.exitCode ?? 0);
});
const code = await main(process.argv.slice(2));
process.exitCode = code;
// Reports are written by now. A client under test that keeps a socket open must not make the
// run hang: if anything still holds the event loop after a grace period, exit anyway — and a
// signal in that grace period exits at once with the signal's code (128 + n).
setTimeout(() => process.exit(code), 2000).unref();
for (const [signal, number] of [['SIGHUP', 1], ['SIGINT', 2], ['SIGTERM', 15]]) process.on(signal, () => process.exit(128 + number));
