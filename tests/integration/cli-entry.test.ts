/**
 * bin/dlab.js runs the built command (out/main/cli.js) when it is newer than
 * every source file, and the TypeScript sources through tsx otherwise or with
 * DLAB_FROM_SOURCE=1. Checked on a copy of bin/dlab.js in a scratch package
 * whose "built" and "source" entries say which one ran.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, tmpDir } from '../helpers/tmp.js';

const tmp = tmpDir('dlab-entry-');
const pkg = path.join(tmp.dir, 'pkg');
const write = (rel: string, text: string, mtime: Date) => {
  const f = path.join(pkg, rel);
  fs.mkdirSync(path.dirname(f), { recursive: true });
  fs.writeFileSync(f, text);
  fs.utimesSync(f, mtime, mtime);
};
const run = (env: Record<string, string> = {}) => {
  const r = spawnSync(process.execPath, [path.join(pkg, 'bin', 'dlab.js'), 'a', 'b'], { encoding: 'utf8', env: { ...process.env, DLAB_FROM_SOURCE: '', ...env } });
  return { code: r.status, out: r.stdout.trim(), err: r.stderr };
};

beforeAll(() => {
  fs.mkdirSync(path.join(pkg, 'bin'), { recursive: true });
  fs.copyFileSync(path.join(repoRoot, 'bin', 'dlab.js'), path.join(pkg, 'bin', 'dlab.js'));
  fs.writeFileSync(path.join(pkg, 'package.json'), '{"type":"module"}');
  fs.symlinkSync(path.join(repoRoot, 'node_modules'), path.join(pkg, 'node_modules'));
  const old = new Date('2026-01-01T00:00:00Z');
  write('src/cli/main.ts', "export async function main(args: string[]): Promise<number> { console.log('source ' + args.join(' ')); return 3; }\n", old);
  write('src/core/other.ts', 'export const x: number = 1;\n', old);
  write('src/renderer/view.ts', 'export const y = 1;\n', new Date('2026-06-01T00:00:00Z'));
  write('out/main/cli.js', "export async function main(args) { console.log('built ' + args.join(' ')); return 4; }\n", new Date('2026-02-01T00:00:00Z'));
});
afterAll(() => tmp.cleanup());

describe('bin/dlab.js', () => {
  it('runs the build when it is newer than every source file (a newer renderer file does not count)', () => {
    expect(run()).toMatchObject({ code: 4, out: 'built a b' });
  });

  it('runs the sources when DLAB_FROM_SOURCE=1', () => {
    expect(run({ DLAB_FROM_SOURCE: '1' })).toMatchObject({ code: 3, out: 'source a b' });
  });

  it('runs the sources when a source file is newer than the build, or there is no build', () => {
    const later = new Date('2026-03-01T00:00:00Z');
    fs.utimesSync(path.join(pkg, 'src', 'core', 'other.ts'), later, later);
    expect(run()).toMatchObject({ code: 3, out: 'source a b' });
    fs.rmSync(path.join(pkg, 'out'), { recursive: true });
    expect(run()).toMatchObject({ code: 3, out: 'source a b' });
  });
});
