/**
 * The screens in the navigation: only screens that work are listed. Each is
 * its own chunk, loaded when first shown (the Runs screen does not wait for
 * Chart.js and the other screens to be parsed); `preloadScreens` fetches the
 * rest once the first screen is up.
 */
import { defineAsyncComponent, type Component } from 'vue';

const loaders = {
  datasets: () => import('./DatasetsView.vue'),
  perturb: () => import('./PerturbView.vue'),
  launch: () => import('./LaunchView.vue'),
  runs: () => import('./RunsView.vue'),
  run: () => import('./RunDetailView.vue'),
  compare: () => import('./CompareView.vue'),
  preferences: () => import('./PreferencesView.vue'),
  about: () => import('./AboutView.vue'),
};
const lazy = (id: keyof typeof loaders): Component => defineAsyncComponent(loaders[id]);

/** Fetch every screen's chunk (after the first screen is shown), so later navigation does not wait. */
export function preloadScreens(): void {
  for (const load of Object.values(loaders)) void load().catch(() => undefined);
}

export interface Screen {
  id: string;
  label: string;
  component: Component;
  /** Reached by links (e.g. a run's detail), not listed in the navigation. */
  hidden?: boolean;
}

export const screens: Screen[] = [
  { id: 'datasets', label: 'Datasets', component: lazy('datasets') },
  { id: 'perturb', label: 'Perturb', component: lazy('perturb') },
  { id: 'launch', label: 'Launch', component: lazy('launch') },
  { id: 'runs', label: 'Runs', component: lazy('runs') },
  { id: 'run', label: 'Run detail', component: lazy('run'), hidden: true },
  { id: 'compare', label: 'Compare', component: lazy('compare') },
  // app room: keep these two last (the number shortcuts skip them)
  { id: 'preferences', label: 'Preferences', component: lazy('preferences') },
  { id: 'about', label: 'About', component: lazy('about') },
];
