/** Chart.js, registered once with only what the training screens draw. */
import {
  Chart,
  Decimation,
  Legend,
  LineController,
  LineElement,
  LinearScale,
  LogarithmicScale,
  PointElement,
  ScatterController,
  Tooltip,
} from 'chart.js';

Chart.register(LineController, LineElement, PointElement, LinearScale, LogarithmicScale, ScatterController, Tooltip, Legend, Decimation);

/** Theme colours read from the CSS variables (Chart.js cannot use var()). */
export function themeColors() {
  const css = getComputedStyle(document.documentElement);
  const v = (name: string, fallback: string) => css.getPropertyValue(name).trim() || fallback;
  return { text: v('--text', '#dce3ea'), muted: v('--muted', '#8796a5'), border: v('--border', '#2a3542') };
}

export { Chart };

/** One line of a LineChart. */
export interface LineSpec {
  key: string;
  label: string;
  color: string;
  /** Colour of the raw curve drawn behind the smoothed one. */
  faint: string;
}
