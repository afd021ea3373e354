/**
 * The app room: the lab's own information (`lab/info`), preferences
 * (`app/prefs/*`), the compute diagnosis (`app/compute`) and the menu
 * request the desktop app answers itself (`app/menu`).
 */
import * as os from 'node:os';
import * as path from 'node:path';
import type { HandlersFor } from '../../shared/dispatch.js';
import type { LabInfo } from '../../shared/domain.js';
import type { appRequests, PrefsState } from '../../shared/requests/app.js';
import type { Prefs } from '../../shared/requests/app.js';
import type { Room } from '../room.js';
import { backendAttempt } from '../compute/backend.js';
import { diagnoseCompute, probeMachine, recheckTensorflow, type BackendAttempt, type ComputeDiagnosis } from '../compute/diagnose.js';
import { locationFile, nextLabDirFrom, readPrefs, setNextLabDir, trainingPlan, updatePrefs } from './prefs.js';

export interface AppRoomDeps {
  labDir: string;
  info(): LabInfo;
  /** Told the stored preferences after each change (the runs room applies the training plan). */
  onPrefs?(prefs: Prefs): void;
}

export interface AppRoomOptions {
  /** Where the next lab location is recorded (default: the app-data folder). */
  locationFile?: string;
  /** The backend search to diagnose (default: this process's last one). */
  attempt?: () => BackendAttempt | null;
  /** Machine probe (tests inject one). */
  probe?: typeof probeMachine;
  recheck?: typeof recheckTensorflow;
}

type AppHandlers = HandlersFor<typeof appRequests> & { 'lab/info': () => LabInfo };

export function createAppRoom(lab: AppRoomDeps, opts: AppRoomOptions = {}): Room<AppHandlers> {
  const locFile = opts.locationFile ?? locationFile();
  const startedWith = readPrefs(lab.labDir).defaultBackend;
  const state = (prefs: Prefs): PrefsState => {
    const next = nextLabDirFrom(locFile);
    const nextLabDir = next && path.resolve(next) !== path.resolve(lab.labDir) ? next : null;
    const restartNeeded: PrefsState['restartNeeded'] = [];
    if (prefs.defaultBackend !== startedWith) restartNeeded.push('defaultBackend');
    if (nextLabDir) restartNeeded.push('labDir');
    const cores = os.availableParallelism();
    return { prefs, labDir: lab.labDir, nextLabDir, backend: lab.info().backend, restartNeeded, backendEnv: process.env.DLAB_BACKEND ?? null, training: { cores, ...trainingPlan(prefs.training, cores) } };
  };
  let cached: ComputeDiagnosis | null = null;
  const handlers: AppHandlers = {
    'lab/info': () => lab.info(),
    'app/prefs/get': () => state(readPrefs(lab.labDir)),
    'app/prefs/set': (patch) => {
      const { nextLabDir, ...rest } = patch;
      const prefs = updatePrefs(lab.labDir, rest);
      lab.onPrefs?.(prefs);
      if (nextLabDir !== undefined) {
        const same = nextLabDir !== null && path.resolve(nextLabDir) === path.resolve(lab.labDir) && !nextLabDirFrom(locFile);
        if (!same) setNextLabDir(nextLabDir, locFile);
      }
      return state(prefs);
    },
    'app/compute': async ({ recheck }) => {
      if (cached && !recheck) return cached;
      const backend = lab.info().backend;
      const attempt: BackendAttempt = (opts.attempt ?? backendAttempt)() ?? {
        prefer: 'tensorflow',
        tensorflow: { attempted: false },
        wasm: { attempted: false },
      };
      const machine = (opts.probe ?? probeMachine)();
      if (recheck && machine.package.installed) {
        const r = await (opts.recheck ?? recheckTensorflow)({ packageDir: machine.package.dir ?? null });
        machine.tensorflowLog = r.log;
        machine.recheck = r.result;
      }
      cached = diagnoseCompute({ backend, attempt, machine });
      return cached;
    },
    // The desktop app answers this with its menu (src/main); elsewhere there is none.
    'app/menu': () => ({ installed: false }),
  };
  return { handlers };
}
