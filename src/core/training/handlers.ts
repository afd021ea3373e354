/** The training room's contract handlers. */
import { LabError } from '../../shared/contract.js';
import type { HandlersFor } from '../../shared/dispatch.js';
import type { runRequests } from '../../shared/requests/runs.js';
import type { Lab } from '../lab.js';
import { modelInfos } from '../models/info.js';
import { resolveRunConfig } from './config.js';

export function runHandlers(lab: Lab): HandlersFor<typeof runRequests> {
  const run = (id: string) => {
    const r = lab.runs.summary(id);
    if (!r) throw new LabError('not_found', `no run '${id}'`);
    return r;
  };
  const detail = (id: string) => {
    const r = lab.runs.detail(id);
    if (!r) throw new LabError('not_found', `no run '${id}'`);
    return r;
  };
  return {
    'models/list': () => modelInfos(),
    'runs/launch': ({ config, seeds }) => {
      const resolved = seeds.map((seed) => resolveRunConfig({ ...config, seed }));
      return resolved.map((c) => lab.supervisor.launch(c));
    },
    'runs/list': () => lab.runs.list(),
    'runs/get': ({ id }) => detail(id),
    'runs/cancel': ({ id }) => lab.supervisor.stop(id, 'cancelled'),
    'runs/pause': ({ id }) => lab.supervisor.stop(id, 'paused'),
    'runs/resume': ({ id }) => lab.supervisor.resume(id),
    'runs/scalars': ({ id, keys, sinceStep }) => (run(id), lab.runs.series(id, keys, sinceStep)),
    'runs/tag': ({ id, tag, remove }) => (run(id), lab.runs.setTag(id, tag, remove), run(id)),
    'runs/note': ({ id, text }) => (run(id), lab.runs.addNote(id, text), detail(id)),
    'runs/reconstructions': ({ id, count, seed }) => lab.runViews.reconstructions(run(id), count ?? 16, seed ?? 0),
    'runs/traversals': ({ id, index, range, steps }) => lab.runViews.traversals(run(id), index, range ?? 2, steps ?? 9),
    'runs/latents': ({ id, limit }) => lab.runViews.latents(run(id), limit ?? 5000),
  };
}
