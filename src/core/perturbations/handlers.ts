/**
 * The perturbation room's contract handlers (perturbations/*, datasets/analyze).
 * The Lab spreads `...perturbHandlers(this)` into its handler table; the
 * service behind them is created once per Lab (drafts live in it).
 */
import type { HandlersFor } from '../../shared/dispatch.js';
import type { perturbRequests } from '../../shared/requests/perturb.js';
import type { Lab } from '../lab.js';
import { PerturbService } from './service.js';

const services = new WeakMap<Lab, PerturbService>();

/** The Lab's perturbation service (created on first use). */
export function perturbService(lab: Lab): PerturbService {
  let s = services.get(lab);
  if (!s) {
    s = new PerturbService({ db: lab.db, labDir: lab.labDir, datasets: lab.datasets, jobs: lab.jobs });
    services.set(lab, s);
  }
  return s;
}

export function perturbHandlers(lab: Lab): HandlersFor<typeof perturbRequests> {
  const svc = () => perturbService(lab);
  return {
    'perturbations/list': () => svc().list(),
    'perturbations/preview': (input) => svc().preview(input),
    'perturbations/train': (input) => svc().train(input),
    'perturbations/save': (input) => svc().save(input),
    'perturbations/discard': ({ draftId }) => svc().discard(draftId),
    'datasets/analyze': (input) => svc().analyze(input),
  };
}

/** Drop the drafts of this Lab (called from Lab.close). */
export function closePerturbService(lab: Lab): void {
  services.get(lab)?.close();
  services.delete(lab);
}
