/**
 * What App.vue needs from the app room, in one call: the preferences loaded
 * (and the theme applied), the keyboard shortcuts bound, and the screen list
 * sent to the desktop menu (a no-op in browser mode).
 */
import { onBeforeUnmount, onMounted, watch, type Ref } from 'vue';
import { lab } from '../../api';
import { useRoute } from '../../composables/useRoute';
import { loadPrefs } from './appPrefs';
import { shortcutFor, type ScreenRef } from './shortcuts';

const SHOW_GUIDE_EVENT = 'dlab-show-guide';

function inTextField(t: EventTarget | null): boolean {
  const el = t as HTMLElement | null;
  return !!el && (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT' || el.isContentEditable);
}

export function useAppChrome(screens: Ref<ScreenRef[]>): void {
  const { go } = useRoute();
  const isMac = navigator.platform.toLowerCase().includes('mac');
  const onKey = (e: KeyboardEvent) => {
    if (e.defaultPrevented) return;
    const field = inTextField(e.target);
    // in a text field only the modifier shortcuts apply (Alt+digit may type characters there)
    const action = shortcutFor(e, screens.value, isMac);
    if (!action || (field && (action.kind === 'guide' || (e.altKey && !e.ctrlKey && !e.metaKey)))) return;
    e.preventDefault();
    if (action.kind === 'guide') window.dispatchEvent(new Event(SHOW_GUIDE_EVENT));
    else go(action.id);
  };
  onMounted(() => {
    window.addEventListener('keydown', onKey);
    void loadPrefs();
  });
  onBeforeUnmount(() => window.removeEventListener('keydown', onKey));
  watch(
    () => screens.value.map((s) => `${s.id}:${s.label}`).join('|'),
    () => {
      const list = screens.value.map((s) => ({ id: s.id, label: s.label }));
      if (list.length) lab.request('app/menu', { screens: list }).catch(() => undefined);
    },
    { immediate: true },
  );
}
