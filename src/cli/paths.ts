/** Paths of the installed package (works from src/ under tsx and from a bundle). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    dir = path.dirname(dir);
  }
  throw new Error('cannot find the package root');
}

export function rendererDir(): string {
  return path.join(packageRoot(), 'out', 'renderer');
}
