/**
 * Preferences: `prefs.json` in the lab dir, validated with the shared zod
 * schema and written atomically (temp file + rename). A file that is
 * missing, unreadable or invalid reads as the defaults (the bad file is
 * kept as prefs.json.bad for inspection) — preferences never stop the app.
 *
 * The lab dir itself cannot be a preference stored inside it: a new location
 * is recorded in `lab-location.json` in the default app-data folder (the
 * same folder Electron calls userData) and the desktop app opens it at its
 * next start (`nextLabDirFrom`). Data is not moved.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LabError } from '../../shared/contract.js';
import { Prefs, PrefsPatch, type BackendPreference, type TrainingPrefs } from '../../shared/requests/app.js';
import { defaultUserDataDir } from '../labdir.js';

export const PREFS_FILE = 'prefs.json';
export const LOCATION_FILE = 'lab-location.json';

export function defaultPrefs(): Prefs {
  return Prefs.parse({});
}

/** Read prefs.json from a lab dir (defaults where missing or invalid). */
export function readPrefs(labDir: string): Prefs {
  const file = path.join(labDir, PREFS_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return defaultPrefs();
  }
  try {
    const parsed = Prefs.safeParse(JSON.parse(text));
    if (parsed.success) return parsed.data;
  } catch {
    /* not JSON */
  }
  try {
    fs.copyFileSync(file, file + '.bad');
  } catch {
    /* best effort */
  }
  return defaultPrefs();
}

/** Write a file so that readers see the old or the new content, never a part. */
export function writeFileAtomic(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now().toString(36)}.tmp`);
  const fd = fs.openSync(tmp, 'w', 0o600);
  try {
    fs.writeFileSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

export function writePrefs(labDir: string, prefs: Prefs): Prefs {
  const valid = Prefs.parse(prefs);
  writeFileAtomic(path.join(labDir, PREFS_FILE), JSON.stringify(valid, null, 2) + '\n');
  return valid;
}

/** Apply a validated patch to prefs (pure). */
export function mergePrefs(prefs: Prefs, patch: PrefsPatch): Prefs {
  return Prefs.parse({
    ...prefs,
    ...(patch.defaultBackend !== undefined ? { defaultBackend: patch.defaultBackend } : {}),
    ...(patch.theme !== undefined ? { theme: patch.theme } : {}),
    figures: { ...prefs.figures, ...stripUndefined(patch.figures ?? {}) },
    guide: { ...prefs.guide, ...stripUndefined(patch.guide ?? {}) },
    training: { ...prefs.training, ...stripUndefined(patch.training ?? {}) },
  });
}

/**
 * How training uses the machine: threads per run ('auto': the cores less one
 * for the main process, at least 1, at most 8 — the wasm build's limit) and
 * runs at once ('auto': as many as fit the cores less one at that many
 * threads each, at least 1).
 */
export function trainingPlan(t: TrainingPrefs, cores = os.availableParallelism()): { threadsPerRun: number; maxConcurrentRuns: number } {
  const threadsPerRun = t.threadsPerRun === 'auto' ? Math.max(1, Math.min(8, cores - 1)) : t.threadsPerRun;
  const maxConcurrentRuns = t.maxConcurrentRuns === 'auto' ? Math.max(1, Math.floor(Math.max(1, cores - 1) / threadsPerRun)) : t.maxConcurrentRuns;
  return { threadsPerRun, maxConcurrentRuns };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Validate a patch from outside (throws LabError('invalid_payload')), merge, store. */
export function updatePrefs(labDir: string, patch: unknown): Prefs {
  const res = PrefsPatch.safeParse(patch);
  if (!res.success) {
    const issues = res.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    throw new LabError('invalid_payload', `invalid preferences: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`, issues);
  }
  return writePrefs(labDir, mergePrefs(readPrefs(labDir), res.data));
}

// ---- the lab's location for the next start ----

export function locationFile(configDir = defaultUserDataDir()): string {
  return path.join(configDir, LOCATION_FILE);
}

/** The lab dir recorded for the next start, or null (use the default). */
export function nextLabDirFrom(file = locationFile()): string | null {
  try {
    const v = JSON.parse(fs.readFileSync(file, 'utf8')) as { labDir?: unknown };
    return typeof v.labDir === 'string' && path.isAbsolute(v.labDir) ? v.labDir : null;
  } catch {
    return null;
  }
}

export function setNextLabDir(dir: string | null, file = locationFile()): void {
  if (dir === null) fs.rmSync(file, { force: true });
  else writeFileAtomic(file, JSON.stringify({ labDir: path.resolve(dir) }, null, 2) + '\n');
}

/**
 * The backend preference as DLAB_BACKEND would carry it (undefined: 'auto'
 * or already set in the environment, which wins). The desktop app sets it
 * before opening the lab so the lab and its training workers both follow it.
 */
export function backendFromPrefs(prefs: Prefs, env: NodeJS.ProcessEnv = process.env): Exclude<BackendPreference, 'auto'> | undefined {
  if (env.DLAB_BACKEND) return undefined;
  return prefs.defaultBackend === 'auto' ? undefined : prefs.defaultBackend;
}
