#!/usr/bin/env node
// The `dlab` command. Runs the built JavaScript (out/main/cli.js, made by
// `npm run build` and by `npm ci`) when it is newer than every file under
// src/; otherwise (a source edited since the build, or no build) the
// TypeScript sources through tsx, so it works straight from a clone.
// DLAB_FROM_SOURCE=1 forces the sources.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const built = path.join(root, 'out', 'main', 'cli.js');

/** Whether the build is at least as new as every source file (the renderer's excepted: the command does not use it). */
function builtIsFresh() {
  let builtAt;
  try {
    builtAt = fs.statSync(built).mtimeMs;
  } catch {
    return false;
  }
  const stack = [path.join(root, 'src')];
  while (stack.length) {
    const dir = stack.pop();
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (p !== path.join(root, 'src', 'renderer')) stack.push(p);
      } else if (fs.statSync(p).mtimeMs > builtAt) return false;
    }
  }
  return true;
}

let main;
if (process.env.DLAB_FROM_SOURCE !== '1' && builtIsFresh()) {
  ({ main } = await import(pathToFileURL(built).href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
