/**
 * The studies room: the study service and the contract handlers of
 * studies/* and bundles/*, built by `lab.ts` from narrow dependencies.
 */
import * as path from 'node:path';
import { LabError } from '../../shared/contract.js';
import type { HandlersFor } from '../../shared/dispatch.js';
import type { studyRequests } from '../../shared/requests/studies.js';
import type { LabInfo } from '../../shared/domain.js';
import { exportBundle, importBundle, type BundleDeps } from '../export/bundle.js';
import type { Room } from '../room.js';
import { StudyService, type StudyDeps } from './service.js';
import { exportStudy } from './exports.js';
import { getPreset, presetInfos, presetToSpec } from './presets.js';

const yieldNow = () => new Promise<void>((r) => setImmediate(r));

export type StudiesRoomDeps = StudyDeps & Omit<BundleDeps, 'info'> & { info(): LabInfo };

export function createStudiesRoom(deps: StudiesRoomDeps): Room<HandlersFor<typeof studyRequests>> & { studies: StudyService } {
  const studies = new StudyService(deps);
  const lab = { ...deps, info: () => deps.info(), studies };
  const svc = () => studies;
  const handlers: HandlersFor<typeof studyRequests> = {
    'studies/presets': () => presetInfos(),
    'studies/create': ({ spec, from, start }) => {
      const s = spec ?? presetToSpec(getPreset(from!.preset), {
        ...(from!.scale ? { scale: from!.scale } : {}),
        ...(from!.name ? { name: from!.name } : {}),
        ...(from!.datasets ? { datasets: from!.datasets } : {}),
        ...(from!.methods ? { methods: from!.methods } : {}),
        ...(from!.seeds !== undefined ? { seeds: from!.seeds } : {}),
      });
      const study = svc().create(s);
      const job = start === false ? null : svc().start(study.id);
      return { study: svc().summary(study), job };
    },
    'studies/list': () => svc().list(),
    'studies/get': ({ id }) => svc().detail(id),
    'studies/resume': ({ id, retryFailed }) => {
      const job = svc().start(id, retryFailed ? { retryFailed } : {});
      return { study: svc().detail(id), job };
    },
    'studies/cancel': ({ id }) => svc().cancel(id),
    'studies/results': ({ id, metric, resamples, seed }) => svc().results(id, { ...(metric ? { metric } : {}), ...(resamples ? { resamples } : {}), ...(seed !== undefined ? { seed } : {}) }),
    'studies/export': ({ id, formats, metric, dpi }) => {
      svc().detail(id); // not_found now
      return lab.jobs.start('study-export', `Export study ${id}`, async (ctx) => {
        await yieldNow();
        ctx.progress(0.1, 'aggregating');
        const out = exportStudy(lab, id, { formats, ...(metric ? { metric } : {}), ...(dpi ? { dpi } : {}) });
        return { dir: out.dir, files: out.files };
      });
    },
    'bundles/export': ({ studyId, runIds, checkpoints, codes }) => {
      if (studyId) svc().detail(studyId);
      for (const r of runIds ?? []) if (!lab.runs.exists(r)) throw new LabError('not_found', `no run '${r}'`);
      return lab.jobs.start('bundle-export', `Export bundle of ${studyId ?? `${runIds!.length} runs`}`, async (ctx) => {
        await yieldNow();
        ctx.progress(0.1, 'writing');
        const stamp = new Date().toISOString().replace(/[-:]/g, '').slice(0, 15);
        const out = path.join(lab.labDir, 'exports', `${studyId ?? 'runs'}-${stamp}.dlab.zip`);
        const r = exportBundle(lab, { ...(studyId ? { studyId } : { runIds: runIds! }), ...(checkpoints !== undefined ? { checkpoints } : {}), ...(codes !== undefined ? { codes } : {}) }, out);
        return { ...r };
      });
    },
    'bundles/import': ({ path: file }) =>
      lab.jobs.start('bundle-import', `Import bundle ${path.basename(file)}`, async (ctx) => {
        await yieldNow();
        ctx.progress(0.1, 'checking');
        const r = await importBundle(lab, file);
        return { ...r };
      }),
  };
  return { handlers, studies };
}
