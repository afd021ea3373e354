/** A study's exports written into the lab (figures, tables, data, HTML report). */
import * as path from 'node:path';
import type { LabInfo } from '../../shared/domain.js';
import type { RunRepository } from '../store/runs.js';
import type { StudyService } from './service.js';

/** What a study's exports need from the lab. */
export interface StudyExportDeps {
  studies: StudyService;
  runs: RunRepository;
  labDir: string;
  info(): LabInfo;
}
import { studyCharts, writeStudyExport, type LossCurves, type MetricCurves, type StudyFormat } from '../export/study.js';

/** Mean loss curve (over seeds, on the original data) per dataset and method. */
export function lossCurves(lab: Pick<StudyExportDeps, 'studies' | 'runs'>, studyId: string, maxPoints = 200): LossCurves {
  const svc = lab.studies;
  const study = svc.repo.get(studyId)!;
  const out: LossCurves = {};
  const sums = new Map<string, Map<number, [number, number]>>();
  for (const c of svc.cells(study)) {
    if (c.variant !== 'original' || !c.run) continue;
    const pts = lab.runs.series(c.run.id, ['loss']).loss ?? [];
    const k = `${c.dataset}|${c.method}`;
    const m = sums.get(k) ?? new Map<number, [number, number]>();
    for (const [step, v] of pts) {
      const a = m.get(step) ?? [0, 0];
      m.set(step, [a[0] + v, a[1] + 1]);
    }
    sums.set(k, m);
  }
  for (const [k, m] of sums) {
    const [d, method] = k.split('|') as [string, string];
    let pts = [...m.entries()].sort((a, b) => a[0] - b[0]).map(([s, [sum, n]]) => [s, sum / n] as [number, number]);
    if (pts.length > maxPoints) {
      const every = Math.ceil(pts.length / maxPoints);
      pts = pts.filter((_, i) => i % every === 0 || i === pts.length - 1);
    }
    (out[d] ??= {})[method] = pts;
  }
  return out;
}

/** Mean metric curve (periodic scores, over seeds) per dataset and (method, variant); steps some seed lacks are averaged over the seeds that have them. */
export function metricCurves(lab: Pick<StudyExportDeps, 'studies' | 'runs'>, studyId: string, metric: string): MetricCurves {
  const svc = lab.studies;
  const study = svc.repo.get(studyId)!;
  const cells = svc.cells(study).filter((c) => c.run);
  const byRun = lab.runs.metricSeries.pointsOf(cells.map((c) => c.run!.id), metric);
  const sums = new Map<string, Map<number, [number, number]>>();
  for (const c of cells) {
    const k = `${c.dataset}|${c.method}|${c.variant}`;
    const m = sums.get(k) ?? new Map<number, [number, number]>();
    for (const p of byRun[c.run!.id] ?? []) {
      if (p.value === null || !Number.isFinite(p.value)) continue;
      const a = m.get(p.step) ?? [0, 0];
      m.set(p.step, [a[0] + p.value, a[1] + 1]);
    }
    if (m.size) sums.set(k, m);
  }
  const out: MetricCurves = {};
  for (const [k, m] of sums) {
    const [d, method, variant] = k.split('|') as [string, string, string];
    (out[d] ??= []).push({ method, variant, points: [...m.entries()].sort((a, b) => a[0] - b[0]).map(([s, [sum, n]]) => [s, sum / n] as [number, number]) });
  }
  return out;
}

export function exportStudy(lab: StudyExportDeps, studyId: string, opts: { formats: StudyFormat[]; metric?: string; dpi?: number; outDir?: string }): { dir: string; files: string[] } {
  const svc = lab.studies;
  const detail = svc.detail(studyId);
  const results = svc.results(studyId, opts.metric ? { metric: opts.metric } : {});
  const charts = studyCharts(results, lossCurves(lab, studyId), metricCurves(lab, studyId, results.metric));
  const stamp = new Date().toISOString().replace(/[-:]/g, '').slice(0, 15);
  const dir = opts.outDir ?? path.join(lab.labDir, 'exports', `${studyId}-${stamp}`);
  const info = lab.info();
  const files = writeStudyExport(dir, results, charts, {
    formats: opts.formats,
    ...(opts.dpi ? { dpi: opts.dpi } : {}),
    report: { detail, app: { name: info.name, version: info.version, backend: info.backend } },
  });
  return { dir, files };
}
