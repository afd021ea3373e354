/**
 * The runs every training screen shows, kept live from `runs/status` and
 * `runs/progress`. Rows are patched in place (never replaced wholesale), so
 * tables keep their focus, scroll and selection while runs train.
 */
import { reactive, ref } from 'vue';
import type { RunProgress, RunSummary } from '../../../shared/runs';
import { lab } from '../api';

const runs = ref<RunSummary[]>([]);
/** The latest progress report per run (ETA, steps/s), from events only. */
const progress = reactive(new Map<string, RunProgress>());
const loaded = ref(false);
const error = ref('');
let subscribed = false;
let loading: Promise<void> | null = null;

function upsert(run: RunSummary) {
  const i = runs.value.findIndex((r) => r.id === run.id);
  if (i < 0) {
    runs.value.unshift(run);
    return;
  }
  const cur = runs.value[i]!;
  // A summary from the store may lag behind the latest progress event.
  const keepStep = cur.status === 'running' && run.status === 'running' && cur.step > run.step;
  Object.assign(cur, run, keepStep ? { step: cur.step, latest: cur.latest } : {});
}

function onProgress(p: RunProgress) {
  progress.set(p.id, p);
  const r = runs.value.find((x) => x.id === p.id);
  if (!r) return;
  r.step = p.step;
  r.totalSteps = p.totalSteps;
  if (r.status === 'queued') r.status = 'running';
  r.latest = { ...r.latest, ...p.losses, steps_per_sec: p.stepsPerSec };
}

function subscribe() {
  if (subscribed) return;
  subscribed = true;
  lab.on('runs/status', ({ run }) => upsert(run));
  lab.on('runs/progress', onProgress);
}

async function refresh(): Promise<void> {
  if (loading) return loading;
  loading = (async () => {
    try {
      const list = await lab.request('runs/list', {});
      const ids = new Set(list.map((r) => r.id));
      runs.value = runs.value.filter((r) => ids.has(r.id));
      // keep the store's order (newest first) while patching existing rows
      const byId = new Map(runs.value.map((r) => [r.id, r]));
      runs.value = list.map((r) => {
        const cur = byId.get(r.id);
        if (!cur) return r;
        Object.assign(cur, r);
        return cur;
      });
      error.value = '';
      loaded.value = true;
    } catch (e) {
      error.value = (e as Error).message;
    } finally {
      loading = null;
    }
  })();
  return loading;
}

export function useRuns() {
  subscribe();
  if (!loaded.value) void refresh();
  return { runs, progress, loaded, error, refresh, upsert };
}
