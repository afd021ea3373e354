/** A one-line progress bar for terminals. */
export function progressLine(label: string, fraction: number, extra = '', width = 28): string {
  const f = Math.max(0, Math.min(1, fraction));
  const full = Math.round(f * width);
  return `\r${label} [${'#'.repeat(full)}${'.'.repeat(width - full)}] ${(f * 100).toFixed(1).padStart(5)}% ${extra}`.padEnd(100);
}

export function formatDuration(sec: number): string {
  if (!Number.isFinite(sec)) return '?';
  const s = Math.round(sec);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/** Seconds left at a constant rate: elapsed × (1 − f)/f; NaN until a little (2 %) is done, 0 when done. */
export function etaSeconds(elapsedSec: number, fraction: number): number {
  if (fraction >= 1) return 0;
  return fraction > 0.02 ? (elapsedSec * (1 - fraction)) / fraction : NaN;
}
