#!/usr/bin/env node
// Entry point: loads the TypeScript sources through tsx so `npx cpm-harness` needs no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../harness/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
