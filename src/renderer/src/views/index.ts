/** The screens in the navigation: only screens that work are listed. */
import type { Component } from 'vue';
import DatasetsView from './DatasetsView.vue';
import PerturbView from './PerturbView.vue';
import LaunchView from './LaunchView.vue';
import RunsView from './RunsView.vue';
import RunDetailView from './RunDetailView.vue';
import PreferencesView from './PreferencesView.vue';
import AboutView from './AboutView.vue';
import CompareView from './CompareView.vue';

export interface Screen {
  id: string;
  label: string;
  component: Component;
  /** Reached by links (e.g. a run's detail), not listed in the navigation. */
  hidden?: boolean;
}

export const screens: Screen[] = [
  { id: 'datasets', label: 'Datasets', component: DatasetsView },
  { id: 'perturb', label: 'Perturb', component: PerturbView },
  { id: 'launch', label: 'Launch', component: LaunchView },
  { id: 'runs', label: 'Runs', component: RunsView },
  { id: 'run', label: 'Run detail', component: RunDetailView, hidden: true },
  { id: 'compare', label: 'Compare', component: CompareView },
  // app room: keep these two last (the number shortcuts skip them)
  { id: 'preferences', label: 'Preferences', component: PreferencesView },
  { id: 'about', label: 'About', component: AboutView },
];
