/** Chart.js for the Perturb screen (bars, lines), plus theme colours and shared helpers. */
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LineController,
  LineElement,
  LinearScale,
  PointElement,
  Tooltip,
} from 'chart.js';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement, PointElement, Tooltip, Legend);

export { Chart };

export function colors() {
  const css = getComputedStyle(document.documentElement);
  const v = (name: string, fallback: string) => css.getPropertyValue(name).trim() || fallback;
  return {
    text: v('--text', '#dce3ea'),
    muted: v('--muted', '#8796a5'),
    border: v('--border', '#2a3542'),
    accent: v('--accent', '#4fb3ff'),
    accent2: v('--accent-2', '#7ee0a1'),
    warn: v('--warn', '#f5c46b'),
    error: v('--error', '#ff7b7b'),
  };
}

/** Compact number formatting for tables and captions. */
export function fmt(v: number | null | undefined, digits = 4): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '—';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(2);
  return Number(v.toPrecision(digits)).toString();
}
