/** Where the training worker script is: the built bundle's worker.js, or the TypeScript source run through tsx. */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { WorkerEntry } from './supervisor.js';

export function defaultWorkerEntry(): WorkerEntry {
  const here = path.dirname(fileURLToPath(import.meta.url));
  // In Electron, fork() runs the app binary: make it behave as plain Node.
  const env = { ELECTRON_RUN_AS_NODE: '1' };
  // bundled: out/main/worker.js, next to the main entry or one level up from a shared chunk
  for (const built of [path.join(here, 'worker.js'), path.join(here, '..', 'worker.js')]) {
    if (fs.existsSync(built)) return { path: built, execArgv: [], env };
  }
  const source = path.join(here, 'worker.ts');
  if (!fs.existsSync(source)) throw new Error(`training worker not found next to ${here}`);
  const tsx = createRequire(import.meta.url).resolve('tsx');
  return { path: source, execArgv: ['--import', pathToFileURL(tsx).href], env };
}
