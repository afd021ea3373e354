/**
 * The renderer's copy of the preferences (one shared reactive store): loaded
 * once, changed through `app/prefs/set`, and the theme applied to
 * `<html data-theme>` at once.
 */
import { ref } from 'vue';
import type { PrefsPatch, PrefsState, Theme } from '../../../../shared/requests/app';
import { lab } from '../../api';

export const prefsState = ref<PrefsState | null>(null);
export const prefsError = ref('');
let loading: Promise<PrefsState | null> | null = null;

export function applyTheme(theme: Theme): void {
  document.documentElement.dataset.theme = theme;
}

export function loadPrefs(force = false): Promise<PrefsState | null> {
  if (loading && !force) return loading;
  loading = lab
    .request('app/prefs/get', {})
    .then((s) => {
      prefsState.value = s;
      prefsError.value = '';
      applyTheme(s.prefs.theme);
      return s;
    })
    .catch((e: Error) => {
      prefsError.value = e.message;
      return null;
    });
  return loading;
}

export async function setPrefs(patch: PrefsPatch): Promise<PrefsState> {
  // the theme shows at once, before the round trip
  if (patch.theme) applyTheme(patch.theme);
  const s = await lab.request('app/prefs/set', patch);
  prefsState.value = s;
  prefsError.value = '';
  applyTheme(s.prefs.theme);
  return s;
}
