/**
 * Declared hyperparameters/settings of registry entries (models, metrics,
 * perturbations). The UI generates forms from these and the CLI validates
 * `--set key=value` against them.
 */
import { z } from 'zod';

export const ParamSpec = z.object({
  key: z.string().regex(/^[a-z][a-z0-9_]*$/),
  label: z.string(),
  description: z.string(),
  type: z.enum(['number', 'integer', 'boolean', 'choice']),
  default: z.union([z.number(), z.boolean(), z.string()]),
  min: z.number().optional(),
  max: z.number().optional(),
  step: z.number().optional(),
  /** Log-scale slider. */
  log: z.boolean().optional(),
  choices: z.array(z.string()).optional(),
  /** The paper's values, by dataset id (e.g. { dsprites: 8, shapes3d: 32 }). */
  paperValues: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])).optional(),
  /** disentanglement_lib's sweep, where it has one. */
  grid: z.array(z.number()).optional(),
});
export type ParamSpec = z.infer<typeof ParamSpec>;

export type ParamValues = Record<string, number | boolean | string>;

/** Fill defaults and check every value against its spec; throws with a readable message. */
export function resolveParams(specs: readonly ParamSpec[], given: Record<string, unknown>): ParamValues {
  const out: ParamValues = {};
  const known = new Set(specs.map((s) => s.key));
  for (const k of Object.keys(given)) {
    if (!known.has(k)) throw new Error(`unknown setting '${k}' (known: ${[...known].join(', ') || 'none'})`);
  }
  for (const s of specs) {
    const raw = given[s.key];
    if (raw === undefined) {
      out[s.key] = s.default;
      continue;
    }
    let v: number | boolean | string;
    switch (s.type) {
      case 'number':
      case 'integer': {
        const n = typeof raw === 'string' ? Number(raw) : raw;
        if (typeof n !== 'number' || !Number.isFinite(n)) throw new Error(`'${s.key}' must be a number, got ${String(raw)}`);
        if (s.type === 'integer' && !Number.isInteger(n)) throw new Error(`'${s.key}' must be an integer, got ${n}`);
        if (s.min !== undefined && n < s.min) throw new Error(`'${s.key}' must be ≥ ${s.min}, got ${n}`);
        if (s.max !== undefined && n > s.max) throw new Error(`'${s.key}' must be ≤ ${s.max}, got ${n}`);
        v = n;
        break;
      }
      case 'boolean': {
        if (raw === true || raw === 'true' || raw === '1') v = true;
        else if (raw === false || raw === 'false' || raw === '0') v = false;
        else throw new Error(`'${s.key}' must be true or false, got ${String(raw)}`);
        break;
      }
      case 'choice': {
        if (typeof raw !== 'string' || !(s.choices ?? []).includes(raw)) {
          throw new Error(`'${s.key}' must be one of ${(s.choices ?? []).join(', ')}, got ${String(raw)}`);
        }
        v = raw;
        break;
      }
    }
    out[s.key] = v;
  }
  return out;
}
