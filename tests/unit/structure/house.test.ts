/**
 * The house rules of docs/ARCHITECTURE.md, checked on the sources: no room
 * imports the wiring place, no runtime import cycles in src/core (type-only
 * imports aside), no file over 700 lines, no module state keyed by the Lab,
 * no path of a particular machine.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '../../..');
const core = path.join(root, 'src', 'core');

function files(dir: string, ext = /\.ts$/): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...files(p, ext));
    else if (ext.test(e.name)) out.push(p);
  }
  return out;
}

/** Runtime (not type-only) relative imports of a TypeScript file, resolved to files. */
export function runtimeImports(file: string, text = fs.readFileSync(file, 'utf8')): string[] {
  const out: string[] = [];
  const re = /^\s*(import|export)\s+(type\s+)?([^'";]*?)\s*from\s*['"](\.[^'"]+)['"]/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m[2]) continue; // import type / export type
    const what = m[3]!.trim();
    // `import { type A, type B } from` is type-only too
    if (/^\{[^}]*\}$/.test(what) && what.slice(1, -1).split(',').map((s) => s.trim()).filter(Boolean).every((s) => s.startsWith('type '))) continue;
    const target = path.resolve(path.dirname(file), m[4]!.replace(/\.js$/, '.ts'));
    out.push(target);
  }
  for (const m of text.matchAll(/^\s*import\s+['"](\.[^'"]+)['"]/gm)) out.push(path.resolve(path.dirname(file), m[1]!.replace(/\.js$/, '.ts')));
  return out;
}

/** Strongly connected components with more than one file (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(comp.map((f) => path.relative(root, f)).sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
}

const coreFiles = files(core);

describe('the house', () => {
  it('the cycle finder finds a cycle and ignores type-only imports (self-check)', () => {
    const a = path.join(core, 'x', 'a.ts');
    const b = path.join(core, 'x', 'b.ts');
    expect(runtimeImports(a, "import { f } from './b.js';\nimport type { T } from './c.js';\nimport { type U } from './d.js';")).toEqual([b]);
    expect(cycles(new Map([[a, [b]], [b, [a]]]))).toHaveLength(1);
    expect(cycles(new Map([[a, [b]], [b, []]]))).toHaveLength(0);
  });

  it('no file in src/core imports lab.ts (the wiring place); only the transports do', () => {
    const lab = path.join(core, 'lab.ts');
    const importers = coreFiles.filter((f) => f !== lab && /from\s+['"][^'"]*\/lab\.js['"]|from\s+['"]\.\/lab\.js['"]/.test(fs.readFileSync(f, 'utf8')));
    expect(importers.map((f) => path.relative(root, f))).toEqual([]);
  });

  it('no runtime import cycles in src/core', () => {
    const graph = new Map(coreFiles.map((f) => [f, runtimeImports(f)] as const));
    expect(cycles(graph)).toEqual([]);
  });

  it('no file in src/core is over 700 lines', () => {
    const long = coreFiles.map((f) => [path.relative(root, f), fs.readFileSync(f, 'utf8').split('\n').length] as const).filter(([, n]) => n > 700);
    expect(long).toEqual([]);
  });

  it('no module-level state keyed by the Lab', () => {
    expect(coreFiles.filter((f) => /WeakMap<\s*Lab\b/.test(fs.readFileSync(f, 'utf8'))).map((f) => path.relative(root, f))).toEqual([]);
  });

  it('no path of a particular machine in src/', () => {
    const src = files(path.join(root, 'src'), /\.(ts|vue|js)$/);
    const hits = src.filter((f) => /['"`]\/(work|farm|root|home|Users)\//.test(fs.readFileSync(f, 'utf8'))).map((f) => path.relative(root, f));
    expect(hits).toEqual([]);
  });
});
