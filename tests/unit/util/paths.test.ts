import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LabError } from '../../../src/shared/contract.js';
import { Id, isSafeId } from '../../../src/shared/domain.js';
import { idPath, isInside } from '../../../src/core/util/paths.js';
import { datasetDir } from '../../../src/core/datasets/open.js';

const unsafe = ['.', '..', '', '../x', 'a/b', 'a\\b', '.hidden', '-rf', 'a:b', 'C:', 'x\0y', ' x', 'é', 'a'.repeat(129)];
const safe = ['dsprites', 'run-20261201-0a1b2c3d', 'dsprites.uniform-noise.0123456789ab', 'study_1', '_x', 'a..b', 'A'.repeat(128)];

describe('the safe-id rule', () => {
  it('refuses every id that could leave or name its folder, in the schema and in isSafeId', () => {
    for (const id of unsafe) {
      expect(isSafeId(id), id).toBe(false);
      expect(Id.safeParse(id).success, id).toBe(false);
    }
    for (const id of safe) {
      expect(isSafeId(id), id).toBe(true);
      expect(Id.safeParse(id).success, id).toBe(true);
    }
  });

  it('idPath builds root/<id> for a safe id and refuses the rest with invalid_payload', () => {
    const root = path.resolve('/lab/runs');
    expect(idPath(root, 'run-1')).toBe(path.join(root, 'run-1'));
    for (const id of unsafe) {
      const e = (() => {
        try {
          idPath(root, id, 'run id');
        } catch (err) {
          return err;
        }
        return null;
      })();
      expect(e, id).toBeInstanceOf(LabError);
      expect((e as LabError).code).toBe('invalid_payload');
    }
  });

  it('isInside is strict: the folder itself and its parent are not inside it', () => {
    expect(isInside('/lab/runs', '/lab/runs/a')).toBe(true);
    expect(isInside('/lab/runs', '/lab/runs')).toBe(false);
    expect(isInside('/lab/runs', '/lab/runs/.')).toBe(false);
    expect(isInside('/lab/runs', '/lab')).toBe(false);
    expect(isInside('/lab/runs', '/lab/runs-2/a')).toBe(false);
    expect(isInside('/lab/runs', '/lab/runs/a/../../x')).toBe(false);
  });

  it('a dataset folder is datasets/<id>, never the datasets folder itself', () => {
    expect(datasetDir('/lab', 'dsprites.uniform-noise.abc')).toBe(path.join('/lab', 'datasets', 'dsprites.uniform-noise.abc'));
    expect(() => datasetDir('/lab', '.')).toThrow(/unsafe dataset id/);
    expect(() => datasetDir('/lab', '..')).toThrow(/unsafe dataset id/);
  });
});
