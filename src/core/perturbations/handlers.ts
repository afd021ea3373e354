/**
 * The perturbations room: the perturbation service (kinds, drafts, previews,
 * saving derived datasets, the variance-structure analysis) and the contract
 * handlers of perturbations/* and datasets/analyze.
 */
import type { HandlersFor } from '../../shared/dispatch.js';
import type { perturbRequests } from '../../shared/requests/perturb.js';
import type { Room } from '../room.js';
import { PerturbService } from './service.js';

export type PerturbationsRoomDeps = ConstructorParameters<typeof PerturbService>[0];

export function createPerturbationsRoom(deps: PerturbationsRoomDeps): Room<HandlersFor<typeof perturbRequests>> & { perturbations: PerturbService } {
  const svc = new PerturbService(deps);
  return {
    perturbations: svc,
    handlers: {
      'perturbations/list': () => svc.list(),
      'perturbations/preview': (input) => svc.preview(input),
      'perturbations/train': (input) => svc.train(input),
      'perturbations/save': (input) => svc.save(input),
      'perturbations/discard': ({ draftId }) => svc.discard(draftId),
      'datasets/analyze': (input) => svc.analyze(input),
    },
    // drops the drafts of this lab
    close: () => svc.close(),
  };
}
