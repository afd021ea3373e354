#!/usr/bin/env node
// The `dlab` command. Runs the TypeScript sources through tsx (a runtime
// dependency), so it works straight from a clone after `npm ci`.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
