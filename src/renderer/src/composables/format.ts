/** Small formatting helpers shared by the training screens. */
import type { RunConfig, RunStatus, RunSummary } from '../../../shared/runs';

/** A number in at most 4 significant digits, exponent form when very large/small. */
export function fmtNum(v: number | undefined | null): string {
  if (v === undefined || v === null || !Number.isFinite(v)) return '—';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (Number.isInteger(v) && a < 1e9) return a >= 1e4 ? v.toLocaleString('en-US') : v.toString();
  if (a >= 1e5 || a < 1e-3) return Number(v.toExponential(2)).toExponential().replace('e+', 'e');
  return Number(v.toPrecision(4)).toString();
}

/** Seconds as "1h 02m", "3m 05s", "12s". */
export function fmtDuration(sec: number | undefined | null): string {
  if (sec === undefined || sec === null || !Number.isFinite(sec) || sec < 0) return '—';
  const s = Math.round(sec);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  return `${h}h ${String(m % 60).padStart(2, '0')}m`;
}

// Intl formatters are made once: `toLocaleTimeString(locale, options)` builds a
// new one at every call (≈ 0.2 ms each), which was most of the Runs table's
// render time at 100 rows.
const hourMinute = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dayMonth = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' });
const integer = new Intl.NumberFormat();

/** An integer with the locale's digit grouping ("12,345"). */
export function fmtInt(n: number): string {
  return integer.format(n);
}

/** An ISO time as local "HH:MM" today, else "d Mon HH:MM" (`now` for tests). */
export function fmtTime(iso: string | null | undefined, now: Date = new Date()): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const hm = hourMinute.format(d);
  if (d.getFullYear() === now.getFullYear() && d.getMonth() === now.getMonth() && d.getDate() === now.getDate()) return hm;
  return `${dayMonth.format(d)} ${hm}`;
}

/** The key hyperparameters of a run in one line. */
export function configSummary(c: Omit<RunConfig, 'seed'>): string {
  const params = Object.entries(c.params).map(([k, v]) => `${k}=${typeof v === 'number' ? fmtNum(v) : String(v)}`);
  return [...params, `z=${c.latent}`, `batch ${c.batch}`, `lr ${fmtNum(c.lr)}`, c.arch].join(' · ');
}

export const ACTIVE: readonly RunStatus[] = ['queued', 'running'];
/** What the supervisor accepts (see runs/pause, runs/cancel, runs/resume). */
export const canStop = (s: RunStatus) => s === 'queued' || s === 'running';
export const canResume = (s: RunStatus) => s === 'paused' || s === 'cancelled' || s === 'interrupted' || s === 'failed';

export function progressFraction(r: Pick<RunSummary, 'step' | 'totalSteps'>): number {
  return r.totalSteps > 0 ? Math.min(1, Math.max(0, r.step / r.totalSteps)) : 0;
}

/** Distinct colours for n lines (golden-angle hues), readable on the dark theme. */
export function palette(i: number, alpha = 1): string {
  const base = ['#4fb3ff', '#7ee0a1', '#f5c46b', '#ff7b7b', '#c792ea', '#5fd7d7', '#ff9e64', '#a9b665'];
  if (i < base.length) return alpha === 1 ? base[i]! : hexAlpha(base[i]!, alpha);
  const h = (i * 137.508) % 360;
  return `hsla(${h.toFixed(0)}, 70%, 65%, ${alpha})`;
}

function hexAlpha(hex: string, a: number): string {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${a})`;
}

/** A continuous colour ramp (blue → green → yellow) for t in [0,1]. */
export function ramp(t: number, alpha = 0.8): string {
  const x = Math.min(1, Math.max(0, t));
  const h = 250 - 190 * x;
  return `hsla(${h.toFixed(0)}, 80%, ${(45 + 15 * x).toFixed(0)}%, ${alpha})`;
}

/**
 * Exponential moving average of a series, debiased like TensorBoard's
 * smoothing (so the first points are not pulled towards 0).
 */
export function ema(values: readonly number[], weight: number): number[] {
  const out = new Array<number>(values.length);
  let last = 0;
  let debias = 1;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) {
      out[i] = v;
      continue;
    }
    last = last * weight + (1 - weight) * v;
    debias *= weight;
    out[i] = weight === 0 ? v : last / (1 - debias);
  }
  return out;
}

/** The ISO instant a local calendar day ("YYYY-MM-DD", as a date input gives it) starts at. */
export function localDayStartIso(day: string): string {
  return new Date(`${day}T00:00:00`).toISOString();
}

/** The ISO instant of the last millisecond of a local calendar day. */
export function localDayEndIso(day: string): string {
  return new Date(`${day}T23:59:59.999`).toISOString();
}

/** The local calendar day ("YYYY-MM-DD") of an ISO instant ('' when it is not one). */
export function isoToLocalDay(iso: string | undefined): string {
  const d = iso ? new Date(iso) : null;
  if (!d || Number.isNaN(d.getTime())) return '';
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}
