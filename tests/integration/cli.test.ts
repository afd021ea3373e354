import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DSprites } from '../../src/core/datasets/dsprites.js';
import { renderBatch } from '../../src/core/datasets/grid.js';
import { readNpy } from '../../src/core/io/npy.js';
import { runDlab } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';

const tmp = tmpDir();
const lab = path.join(tmp.dir, 'lab');
afterAll(() => tmp.cleanup());

describe('dlab CLI', () => {
  it('info --json names the backend and the lab dir (--lab-dir and DLAB_HOME)', () => {
    const r = runDlab(['info', '--json', '--lab-dir', lab]);
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(['tensorflow', 'wasm', 'cpu']).toContain(info.backend);
    expect(info.labDir).toBe(lab);
    expect(info.schemaVersion).toBeGreaterThanOrEqual(2);
    expect(fs.existsSync(path.join(lab, 'lab.sqlite'))).toBe(true);
    const viaEnv = runDlab(['info', '--json'], { DLAB_HOME: path.join(tmp.dir, 'env-lab') });
    expect(JSON.parse(viaEnv.stdout).labDir).toBe(path.join(tmp.dir, 'env-lab'));
  });

  it('dataset show dsprites --json reports 737,280 images and the factor sizes', () => {
    const r = runDlab(['dataset', 'show', 'dsprites', '--json', '--lab-dir', lab]);
    expect(r.code).toBe(0);
    const d = JSON.parse(r.stdout);
    expect(d.count).toBe(737280);
    expect(d.factors.map((f: { size: number }) => f.size)).toEqual([3, 6, 40, 32, 32]);
    expect(d.factors.map((f: { name: string }) => f.name)).toEqual(['shape', 'scale', 'orientation', 'pos_x', 'pos_y']);
    expect(d.imageShape).toEqual([64, 64, 1]);
    expect(d.source).toBe('procedural');
    const list = JSON.parse(runDlab(['datasets', '--json', '--lab-dir', lab]).stdout);
    expect(list.map((x: { id: string }) => x.id)).toContain('dsprites');
  });

  it('dataset sample writes a float32 N×H×W×C .npy equal to the images', () => {
    const out = path.join(tmp.dir, 's.npy');
    const r = runDlab(['dataset', 'sample', 'dsprites', '--indices', '0,99,737279', '--out', out, '--json', '--lab-dir', lab]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).shape).toEqual([3, 64, 64, 1]);
    const arr = readNpy(new Uint8Array(fs.readFileSync(out)));
    expect(arr.dtype).toBe('f4');
    expect(arr.shape).toEqual([3, 64, 64, 1]);
    expect(Array.from(arr.data)).toEqual(Array.from(renderBatch(new DSprites(), [0, 99, 737279])));
  });

  it('exit codes: 2 for usage, 1 for failures, one-line errors on stderr', () => {
    const unknown = runDlab(['frobnicate']);
    expect(unknown.code).toBe(2);
    const noIndices = runDlab(['dataset', 'sample', 'dsprites', '--out', 'x.npy', '--lab-dir', lab]);
    expect(noIndices.code).toBe(2);
    expect(noIndices.stderr).toMatch(/--indices/);
    const badIndex = runDlab(['dataset', 'sample', 'dsprites', '--indices', '737280', '--out', path.join(tmp.dir, 'y.npy'), '--lab-dir', lab]);
    expect(badIndex.code).toBe(1);
    expect(badIndex.stderr.trim().split('\n')).toHaveLength(1);
    expect(badIndex.stderr).toMatch(/outside 0…737279/);
    const missing = runDlab(['dataset', 'show', 'nope', '--lab-dir', lab]);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toBe("dlab dataset show: no dataset 'nope'");
  });
});
