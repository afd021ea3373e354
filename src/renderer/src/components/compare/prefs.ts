/** The default PNG resolution from Preferences (300 dpi when they cannot be read). */
import { lab } from '../../api';

let cached: Promise<number> | null = null;

export function defaultDpi(): Promise<number> {
  cached ??= lab
    .request('app/prefs/get', {})
    .then((s) => s.prefs.figures.dpi)
    .catch(() => 300);
  return cached;
}
