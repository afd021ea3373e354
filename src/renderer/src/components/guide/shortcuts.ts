/**
 * Keyboard shortcuts in the page (browser mode, and the desktop app where
 * its menu does not take the key first): Ctrl/Cmd+1…9 or Alt+1…9 open the
 * numbered screens (the same order as the desktop View menu), Ctrl/Cmd+,
 * opens Preferences, F1 shows the guide. Plain data in, a decision out, so
 * it can be tested without a DOM.
 */
export interface KeyLike {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  shiftKey: boolean;
  /** The event came from a text field (typing there is left alone, except for the modifier shortcuts). */
  inTextField?: boolean;
}

export interface ScreenRef {
  id: string;
  label: string;
}

export type ShortcutAction = { kind: 'screen'; id: string } | { kind: 'guide' };

/** The screens that get a number key: the first nine, Preferences and About excepted (as in src/main/menu.ts). */
export function numberedScreens<S extends ScreenRef>(screens: S[]): S[] {
  return screens.filter((s) => s.id !== 'preferences' && s.id !== 'about').slice(0, 9);
}

export function shortcutFor(e: KeyLike, screens: ScreenRef[], isMac = false): ShortcutAction | null {
  const primary = isMac ? e.metaKey && !e.ctrlKey : e.ctrlKey && !e.metaKey;
  if (e.key === 'F1' && !e.ctrlKey && !e.metaKey && !e.altKey) return { kind: 'guide' };
  const altOnly = e.altKey && !e.ctrlKey && !e.metaKey;
  if (/^[1-9]$/.test(e.key) && !e.shiftKey && ((primary && !e.altKey) || altOnly)) {
    const s = numberedScreens(screens)[Number(e.key) - 1];
    return s ? { kind: 'screen', id: s.id } : null;
  }
  if (e.key === ',' && primary && !e.altKey && !e.shiftKey && screens.some((s) => s.id === 'preferences')) return { kind: 'screen', id: 'preferences' };
  return null;
}

/** The label shown for a screen's shortcut (e.g. "Ctrl+3", "⌘3"). */
export function shortcutLabel(index: number, isMac = false): string {
  return isMac ? `⌘${index + 1}` : `Ctrl+${index + 1}`;
}
