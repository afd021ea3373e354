/**
 * The cluster room: studies on a Slurm cluster (`cluster/*`), built by
 * `lab.ts` after the studies room from narrow dependencies.
 */
import type { HandlersFor } from '../../shared/dispatch.js';
import type { clusterRequests } from '../../shared/requests/cluster.js';
import type { Room } from '../room.js';
import { ClusterService, type ClusterDeps } from './service.js';

export function createClusterRoom(deps: ClusterDeps): Room<HandlersFor<typeof clusterRequests>> & { cluster: ClusterService } {
  const cluster = new ClusterService(deps);
  const handlers: HandlersFor<typeof clusterRequests> = {
    'cluster/check': () => cluster.available(),
    'cluster/preview': ({ studyId, options }) => cluster.submit(studyId, { ...(options ?? {}), dryRun: true }),
    'cluster/submit': ({ studyId, options }) => cluster.submit(studyId, { ...(options ?? {}), dryRun: false }),
    'cluster/status': ({ studyId, collect }) => cluster.status(studyId, collect === undefined ? {} : { collect }),
    'cluster/cancel': ({ studyId }) => cluster.cancel(studyId),
    'cluster/resubmit': ({ studyId }) => cluster.resubmit(studyId, { failed: true }),
  };
  return { handlers, cluster };
}
