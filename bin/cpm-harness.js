#!/usr/bin/env node
// Entry point: loads the TypeScript sources through tsx so `npx cpm-harness` needs no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../harness/cli/main.ts');
const code = await main(process.argv.slice(2));
process.exitCode = code;
// Reports are written by now. A client under test that keeps a socket open must not make the
// run hang: if anything still holds the event loop after a grace period, exit anyway.
setTimeout(() => process.exit(code), 2000).unref();
