/**
 * The runs the Runs screen shows: one page of a server-side query (filters,
 * sort, offset/limit) with the total and the counts per status, kept live
 * from `runs/status` and `runs/progress`. Rows are patched in place (never
 * replaced wholesale), so tables keep their focus, scroll and selection
 * while runs train; a run that appears or changes status refreshes the page
 * (debounced), so the totals and counts stay the server's.
 */
import { reactive, ref } from 'vue';
import type { RunProgress, RunQuery, RunSummary } from '../../../shared/runs';
import { lab } from '../api';

const runs = ref<RunSummary[]>([]);
/** The latest progress report per run (ETA, steps/s), from events only. */
const progress = reactive(new Map<string, RunProgress>());
const loaded = ref(false);
const error = ref('');
/** Runs matching the filters (all pages) and the counts per status (all filters but status). */
const total = ref(0);
const counts = ref<Record<string, number>>({});
/** The query of the page shown. */
const query = ref<RunQuery>({ sort: 'started', desc: true, offset: 0, limit: 100 });
/** How long the last page took to come (ms), for the status line. */
const lastMs = ref(0);
let subscribed = false;
let seq = 0;
let refreshTimer: ReturnType<typeof setTimeout> | null = null;

function patch(run: RunSummary): boolean {
  const cur = runs.value.find((r) => r.id === run.id);
  if (!cur) return false;
  // A summary from the store may lag behind the latest progress event.
  const keepStep = cur.status === 'running' && run.status === 'running' && cur.step > run.step;
  Object.assign(cur, run, keepStep ? { step: cur.step, latest: cur.latest } : {});
  return true;
}

/** A row changed by an action or an event: patch it in place; a new run or a status change refreshes the page soon. */
function upsert(run: RunSummary) {
  const cur = runs.value.find((r) => r.id === run.id);
  const statusChanged = !cur || cur.status !== run.status;
  patch(run);
  if (statusChanged) scheduleRefresh();
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

function scheduleRefresh(ms = 400) {
  if (refreshTimer) return;
  refreshTimer = setTimeout(() => {
    refreshTimer = null;
    void refresh();
  }, ms);
}

function subscribe() {
  if (subscribed) return;
  subscribed = true;
  lab.on('runs/status', ({ run }) => upsert(run));
  lab.on('runs/progress', onProgress);
}

/** Fetch the page of the current query (the newest request wins). */
async function refresh(): Promise<void> {
  const my = ++seq;
  const t0 = performance.now();
  try {
    const page = await lab.request('runs/list', query.value);
    if (my !== seq) return;
    // a page past the end (runs went away, a filter shrank it): go to the last page
    if (page.runs.length === 0 && page.total > 0 && page.offset > 0) {
      const limit = page.limit;
      query.value = { ...query.value, offset: Math.max(0, Math.floor((page.total - 1) / limit) * limit) };
      return refresh();
    }
    const byId = new Map(runs.value.map((r) => [r.id, r]));
    runs.value = page.runs.map((r) => {
      const cur = byId.get(r.id);
      if (!cur) return r;
      for (const k of Object.keys(cur)) if (!(k in r)) delete (cur as Record<string, unknown>)[k];
      Object.assign(cur, r);
      return cur;
    });
    total.value = page.total;
    counts.value = page.counts;
    lastMs.value = performance.now() - t0;
    error.value = '';
    loaded.value = true;
  } catch (e) {
    if (my === seq) error.value = (e as Error).message;
  }
}

/** Change the query (filters reset the page to the first one unless an offset is given). */
function setQuery(patchQ: Partial<RunQuery>): Promise<void> {
  const next: RunQuery = { ...query.value, ...patchQ };
  if (!('offset' in patchQ)) next.offset = 0;
  for (const [k, v] of Object.entries(next)) if (v === undefined || (Array.isArray(v) && v.length === 0)) delete (next as Record<string, unknown>)[k];
  query.value = next;
  return refresh();
}

export function useRuns() {
  subscribe();
  if (!loaded.value) void refresh();
  return { runs, progress, loaded, error, total, counts, query, lastMs, refresh, setQuery, upsert };
}
